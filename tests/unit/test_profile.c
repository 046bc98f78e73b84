/* SPDX-License-Identifier: MIT */
/* Unit tests for daemon/profile.c: interning of frames and strings, per-thread stacks and
 * counts, order of first appearance, growth through many rehashes (checked against a naive
 * model), and that recording what was seen before allocates nothing. */
#include <check.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/profile.h"
#include "tc/common.h"
#include "skip.h"

static struct tc_profile *new_profile(void)
{
	struct tc_profile_meta meta = { .pid = 42, .python_version = "3.12.1",
					.command = "python app.py", .rate_hz = 1000, .mode = "wall" };
	struct tc_profile *p = tc_profile_new(&meta);

	ck_assert_ptr_nonnull(p);
	return p;
}

START_TEST(test_new_free)
{
	char version[] = "3.11.2", command[] = "python -m x", mode[] = "cpu";
	struct tc_profile_meta meta = { .pid = 7, .python_version = version, .command = command,
					.rate_hz = 250, .mode = mode };
	struct tc_profile *p = tc_profile_new(&meta);
	const struct tc_profile_meta *m;
	struct tc_profile_stats *st;

	ck_assert_ptr_nonnull(p);
	/* The meta strings are copies, not the caller's buffers. */
	version[0] = command[0] = mode[0] = 'X';
	m = tc_profile_get_meta(p);
	ck_assert_int_eq(m->pid, 7);
	ck_assert_str_eq(m->python_version, "3.11.2");
	ck_assert_str_eq(m->command, "python -m x");
	ck_assert_str_eq(m->mode, "cpu");
	ck_assert(m->rate_hz == 250);
	ck_assert_uint_eq(tc_profile_nframes(p), 0);
	ck_assert_uint_eq(tc_profile_nthreads(p), 0);
	ck_assert_uint_eq(tc_profile_total(p), 0);

	st = tc_profile_stats(p);
	ck_assert_ptr_nonnull(st);
	ck_assert_uint_eq(st->samples, 0);
	ck_assert(!st->target_exited);
	st->samples = 10;
	st->failed = 1;
	st->duration = 0.5;
	ck_assert_ptr_eq(tc_profile_stats(p), st);
	ck_assert_uint_eq(tc_profile_stats(p)->samples, 10);
	tc_profile_free(p);

	p = tc_profile_new(NULL);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_null(tc_profile_get_meta(p)->python_version);
	ck_assert_ptr_null(tc_profile_get_meta(p)->mode);
	tc_profile_free(p);
	tc_profile_free(NULL);
}
END_TEST

START_TEST(test_frame_interning)
{
	struct tc_profile *p = new_profile();
	char file[] = "/app/a.py";
	int32_t a, b;
	const struct tc_pframe *f;

	a = tc_profile_frame(p, file, "f", "C.f", 10, 8);
	ck_assert_int_eq(a, 0);
	/* Same content through a different buffer: same frame. */
	ck_assert_int_eq(tc_profile_frame(p, "/app/a.py", "f", "C.f", 10, 8), a);
	strcpy(file, "/zzz/z.py");
	f = tc_profile_get_frame(p, a);
	ck_assert_str_eq(f->file, "/app/a.py");
	ck_assert_str_eq(f->name, "f");
	ck_assert_str_eq(f->qualname, "C.f");
	ck_assert_int_eq(f->line, 10);
	ck_assert_int_eq(f->first_line, 8);

	/* Every field is part of the key. */
	ck_assert_int_eq(tc_profile_frame(p, "/app/b.py", "f", "C.f", 10, 8), 1);
	ck_assert_int_eq(tc_profile_frame(p, "/app/a.py", "g", "C.f", 10, 8), 2);
	ck_assert_int_eq(tc_profile_frame(p, "/app/a.py", "f", "D.f", 10, 8), 3);
	ck_assert_int_eq(tc_profile_frame(p, "/app/a.py", "f", "C.f", 11, 8), 4);
	ck_assert_int_eq(tc_profile_frame(p, "/app/a.py", "f", "C.f", 10, 9), 5);
	ck_assert_int_eq(tc_profile_frame(p, "/app/a.py", "f", "C.f", -1, -1), 6);
	ck_assert_uint_eq(tc_profile_nframes(p), 7);

	/* Strings are interned: equal strings share one pointer across frames. */
	ck_assert_ptr_eq(tc_profile_get_frame(p, 0)->file, tc_profile_get_frame(p, 4)->file);
	ck_assert_ptr_eq(tc_profile_get_frame(p, 0)->qualname,
			 tc_profile_get_frame(p, 1)->qualname);
	ck_assert_ptr_ne(tc_profile_get_frame(p, 0)->file, tc_profile_get_frame(p, 1)->file);

	/* NULL strings become "<unknown>", and a frame of NULLs is interned like any other. */
	b = tc_profile_frame(p, NULL, NULL, NULL, -1, -1);
	ck_assert_int_eq(b, 7);
	f = tc_profile_get_frame(p, b);
	ck_assert_str_eq(f->file, "<unknown>");
	ck_assert_str_eq(f->name, "<unknown>");
	ck_assert_str_eq(f->qualname, "<unknown>");
	ck_assert_int_eq(tc_profile_frame(p, NULL, NULL, NULL, -1, -1), b);
	ck_assert_int_eq(tc_profile_frame(p, "<unknown>", "<unknown>", "<unknown>", -1, -1), b);

	ck_assert_ptr_null(tc_profile_get_frame(p, -1));
	ck_assert_ptr_null(tc_profile_get_frame(p, 8));
	tc_profile_free(p);
}
END_TEST

START_TEST(test_stacks_and_threads)
{
	struct tc_profile *p = new_profile();
	int32_t f0 = tc_profile_frame(p, "/a.py", "main", "main", 1, 1);
	int32_t f1 = tc_profile_frame(p, "/a.py", "work", "work", 5, 4);
	int32_t f2 = tc_profile_frame(p, "/a.py", "leaf", "leaf", 9, 8);
	int32_t s1[] = { f2, f1, f0 }; /* innermost first */
	int32_t s2[] = { f1, f0 };
	int32_t s3[] = { f1, f2, f0 }; /* same frames as s1, other order */
	const int32_t *ids;
	size_t n;

	ck_assert_int_eq(tc_profile_add(p, 200, 0x7f01, s1, 3, 1), 0);
	ck_assert_int_eq(tc_profile_add(p, 100, 0x7f00, s2, 2, 1), 0);
	ck_assert_int_eq(tc_profile_add(p, 200, 0x7f01, s1, 3, 4), 0);
	ck_assert_int_eq(tc_profile_add(p, 200, 0x7f01, s2, 2, 2), 0);
	ck_assert_int_eq(tc_profile_add(p, 200, 0x7f01, s3, 3, 1), 0);
	ck_assert_int_eq(tc_profile_add(p, 200, 0x7f01, NULL, 0, 3), 0);
	/* Same native id, other ident (a reused tid): a thread of its own. */
	ck_assert_int_eq(tc_profile_add(p, 100, 0x7f99, s2, 2, 1), 0);
	/* Unknown native id: keyed by the ident. */
	ck_assert_int_eq(tc_profile_add(p, 0, 0x7faa, s2, 2, 1), 0);
	ck_assert_int_eq(tc_profile_add(p, 0, 0x7fbb, s2, 2, 1), 0);

	ck_assert_uint_eq(tc_profile_nthreads(p), 5);
	ck_assert_uint_eq(tc_profile_total(p), 15);
	/* Threads in order of first appearance. */
	ck_assert_uint_eq(tc_profile_thread_native_id(p, 0), 200);
	ck_assert_uint_eq(tc_profile_thread_ident(p, 0), 0x7f01);
	ck_assert_uint_eq(tc_profile_thread_native_id(p, 1), 100);
	ck_assert_uint_eq(tc_profile_thread_ident(p, 2), 0x7f99);
	ck_assert_uint_eq(tc_profile_thread_native_id(p, 3), 0);
	ck_assert_uint_eq(tc_profile_thread_ident(p, 4), 0x7fbb);
	ck_assert_uint_eq(tc_profile_thread_total(p, 0), 11);
	ck_assert_uint_eq(tc_profile_thread_total(p, 1), 1);

	/* Thread 0's stacks in order of first appearance, innermost first. */
	ck_assert_uint_eq(tc_profile_thread_nstacks(p, 0), 4);
	ck_assert_uint_eq(tc_profile_thread_stack(p, 0, 0, &ids, &n), 5);
	ck_assert_uint_eq(n, 3);
	ck_assert_mem_eq(ids, s1, sizeof(s1));
	ck_assert_uint_eq(tc_profile_thread_stack(p, 0, 1, &ids, &n), 2);
	ck_assert_uint_eq(n, 2);
	ck_assert_mem_eq(ids, s2, sizeof(s2));
	ck_assert_uint_eq(tc_profile_thread_stack(p, 0, 2, &ids, &n), 1);
	ck_assert_mem_eq(ids, s3, sizeof(s3));
	ck_assert_uint_eq(tc_profile_thread_stack(p, 0, 3, &ids, &n), 3);
	ck_assert_uint_eq(n, 0);

	/* Out of range: zero, no frames. */
	ck_assert_uint_eq(tc_profile_thread_stack(p, 0, 4, &ids, &n), 0);
	ck_assert_ptr_null(ids);
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(tc_profile_thread_stack(p, 9, 0, &ids, &n), 0);
	ck_assert_uint_eq(tc_profile_thread_nstacks(p, 9), 0);
	ck_assert_uint_eq(tc_profile_thread_total(p, 9), 0);
	tc_profile_free(p);
}
END_TEST

START_TEST(test_empty_only_thread)
{
	struct tc_profile *p = new_profile();
	const int32_t *ids = (const int32_t *)&ids;
	size_t n = 99;

	ck_assert_int_eq(tc_profile_add(p, 5, 6, NULL, 0, 1), 0);
	ck_assert_int_eq(tc_profile_add(p, 5, 6, NULL, 0, 1), 0);
	ck_assert_uint_eq(tc_profile_thread_nstacks(p, 0), 1);
	ck_assert_uint_eq(tc_profile_thread_stack(p, 0, 0, &ids, &n), 2);
	ck_assert_uint_eq(n, 0);
	tc_profile_free(p);
}
END_TEST

START_TEST(test_bad_frame_id)
{
	struct tc_profile *p = new_profile();
	int32_t f0 = tc_profile_frame(p, "/a.py", "f", "f", 1, 1);
	int32_t bad1[] = { f0, 1 };
	int32_t bad2[] = { -5 };

	ck_assert_int_eq(tc_profile_add(p, 1, 1, bad1, 2, 1), -TC_EINVAL);
	ck_assert_int_eq(tc_profile_add(p, 1, 1, bad2, 1, 1), -TC_EINVAL);
	/* Nothing recorded, not even the thread. */
	ck_assert_uint_eq(tc_profile_nthreads(p), 0);
	ck_assert_uint_eq(tc_profile_total(p), 0);
	tc_profile_free(p);
}
END_TEST

/* ---- against a naive model ---- */

#define MODEL_MAX 4096
#define MODEL_DEPTH 12

struct model_stack {
	size_t thread;
	size_t n;
	int32_t ids[MODEL_DEPTH];
	uint64_t count;
};

/* xorshift64: deterministic, so a failure reproduces. */
static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

START_TEST(test_model)
{
	static struct model_stack model[MODEL_MAX];
	struct tc_profile *p = new_profile();
	size_t nmodel = 0;
	uint64_t seed = 0x2545f4914f6cdd1dull;
	int32_t ids[MODEL_DEPTH];
	char file[64], name[64];

	/* 5000 distinct frames pushes the frame and string indexes through several doublings. */
	for (int i = 0; i < 5000; i++) {
		snprintf(file, sizeof(file), "/src/mod%d.py", i % 97);
		snprintf(name, sizeof(name), "fn%d", i / 3);
		ck_assert_int_eq(tc_profile_frame(p, file, name, name, i % 3, 0), i);
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(file, sizeof(file), "/src/mod%d.py", i % 97);
		snprintf(name, sizeof(name), "fn%d", i / 3);
		ck_assert_int_eq(tc_profile_frame(p, file, name, name, i % 3, 0), i);
	}

	for (int iter = 0; iter < 40000; iter++) {
		size_t thread = rng(&seed) % 4;
		size_t n = rng(&seed) % MODEL_DEPTH;
		uint64_t w = 1 + rng(&seed) % 3;
		size_t k;

		/* A small alphabet for the first frames makes repeats and near-misses common. */
		for (size_t d = 0; d < n; d++)
			ids[d] = (int32_t)(rng(&seed) % (d < 3 ? 4 : 5000));
		if (iter % 3 == 0)
			n = n < 3 ? n : 3;
		for (k = 0; k < nmodel; k++) {
			if (model[k].thread == thread && model[k].n == n &&
			    !memcmp(model[k].ids, ids, n * sizeof(*ids)))
				break;
		}
		if (k == nmodel) {
			if (nmodel == MODEL_MAX)
				continue;
			model[k].thread = thread;
			model[k].n = n;
			memcpy(model[k].ids, ids, n * sizeof(*ids));
			model[k].count = 0;
			nmodel++;
		}
		model[k].count += w;
		ck_assert_int_eq(tc_profile_add(p, 1000 + thread, thread, ids, n, w), 0);
	}

	/* Same stacks, same counts, same order of first appearance per thread. */
	for (size_t t = 0; t < tc_profile_nthreads(p); t++) {
		size_t thread = tc_profile_thread_native_id(p, t) - 1000, j = 0;
		uint64_t total = 0;

		for (size_t k = 0; k < nmodel; k++) {
			const int32_t *got;
			size_t n;
			uint64_t c;

			if (model[k].thread != thread)
				continue;
			c = tc_profile_thread_stack(p, t, j++, &got, &n);
			ck_assert_uint_eq(c, model[k].count);
			ck_assert_uint_eq(n, model[k].n);
			if (n)
				ck_assert_mem_eq(got, model[k].ids, n * sizeof(*got));
			total += c;
		}
		ck_assert_uint_eq(j, tc_profile_thread_nstacks(p, t));
		ck_assert_uint_eq(total, tc_profile_thread_total(p, t));
	}
	ck_assert_uint_eq(tc_profile_nthreads(p), 4);
	tc_profile_free(p);
}
END_TEST

START_TEST(test_seen_allocates_nothing)
{
	struct tc_profile *p = new_profile();
	int32_t ids[64];
	struct mallinfo2 before, after;

	for (int i = 0; i < 64; i++)
		ids[i] = tc_profile_frame(p, "/deep.py", "rec", "rec", i, 0);
	for (int i = 1; i <= 64; i++)
		ck_assert_int_eq(tc_profile_add(p, 1, 1, ids, (size_t)i, 1), 0);
	ck_assert_int_eq(tc_profile_add(p, 2, 2, NULL, 0, 1), 0);

	before = mallinfo2();
	for (int round = 0; round < 1000; round++) {
		for (int i = 1; i <= 64; i++) {
			if (tc_profile_add(p, 1, 1, ids, (size_t)i, 1))
				ck_abort_msg("add failed");
		}
		if (tc_profile_add(p, 2, 2, NULL, 0, 1) ||
		    tc_profile_frame(p, "/deep.py", "rec", "rec", round % 64, 0) != round % 64)
			ck_abort_msg("add or frame failed");
	}
	after = mallinfo2();
	ck_assert_uint_eq(after.uordblks, before.uordblks);
	ck_assert_uint_eq(after.hblkhd, before.hblkhd);
	ck_assert_uint_eq(tc_profile_thread_nstacks(p, 0), 64);
	ck_assert_uint_eq(tc_profile_total(p), 65 + 1000 * 65);
	tc_profile_free(p);
}
END_TEST

/* nodes: a stack built level by level is the stack tc_profile_add records */
START_TEST(test_nodes)
{
	struct tc_profile *p = new_profile();
	int32_t a = tc_profile_frame(p, "/m.py", "main", "main", 1, 1);
	int32_t b = tc_profile_frame(p, "/m.py", "f", "f", 5, 4);
	int32_t c = tc_profile_frame(p, "/m.py", "g", "g", 9, 8);
	int32_t na = tc_profile_node(p, TC_PROFILE_ROOT, a);
	int32_t nb = tc_profile_node(p, na, b);
	int32_t nc = tc_profile_node(p, nb, c);
	int32_t nb2 = tc_profile_node(p, na, c); /* g called from main directly */
	const int32_t *ids;
	size_t n;

	ck_assert_int_gt(na, 0);
	ck_assert_int_ne(nb2, nc);
	ck_assert_int_eq(tc_profile_node(p, nb, c), nc); /* interned */
	ck_assert_uint_eq(tc_profile_node_depth(p, nc), 3);
	ck_assert_uint_eq(tc_profile_node_depth(p, TC_PROFILE_ROOT), 0);
	ck_assert_int_eq(tc_profile_node(p, nb, 99), -TC_EINVAL);
	ck_assert_int_eq(tc_profile_node(p, 12345, a), -TC_EINVAL);
	ck_assert_int_eq(tc_profile_add_node(p, 1, 1, 12345, 1), -TC_EINVAL);

	ck_assert_int_eq(tc_profile_add_node(p, 1, 1, nc, 2), 0);
	int32_t same[] = {c, b, a};
	ck_assert_int_eq(tc_profile_add(p, 1, 1, same, 3, 1), 0);
	ck_assert_int_eq(tc_profile_add_node(p, 1, 1, TC_PROFILE_ROOT, 1), 0);
	ck_assert_uint_eq(tc_profile_thread_nstacks(p, 0), 2);
	ck_assert_uint_eq(tc_profile_thread_stack(p, 0, 0, &ids, &n), 3);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(ids[0], c);
	ck_assert_int_eq(ids[1], b);
	ck_assert_int_eq(ids[2], a);
	ck_assert_uint_eq(tc_profile_thread_stack(p, 0, 1, &ids, &n), 1);
	ck_assert_uint_eq(n, 0);
	tc_profile_free(p);
}
END_TEST

static Suite *profile_suite(void)
{
	Suite *s = suite_create("profile");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_new_free);
	tcase_add_test(tc, test_frame_interning);
	tcase_add_test(tc, test_stacks_and_threads);
	tcase_add_test(tc, test_empty_only_thread);
	tcase_add_test(tc, test_bad_frame_id);
	tcase_add_test(tc, test_model);
	tcase_add_test(tc, test_seen_allocates_nothing);
	tcase_add_test(tc, test_nodes);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tc_test_run(profile_suite());
}
