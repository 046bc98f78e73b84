/* SPDX-License-Identifier: MIT */
/* The sampling loop over a sample source that is not the walker (daemon/source.h): what a
 * second engine would rely on. A fake source hands out a fixed snapshot, fails some instants
 * and then reports the target gone. */
#include <check.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "daemon/sampler.h"
#include "daemon/source.h"
#include "skip.h"

struct fake {
	struct tc_snapshot snap;
	struct tc_thread_stack th[2];
	struct tc_raw_frame fr[3];
	unsigned calls, fail_every, gone_at, begins, interns;
	int32_t ids[3];
};

static int fake_take(struct tc_source *src, unsigned flags, const struct tc_snapshot **out)
{
	struct fake *f = src->impl;
	f->calls++;
	ck_assert(flags & TC_UNWIND_NO_GIL); /* wall mode asks for no GIL state */
	if (f->calls == f->gone_at)
		return -TC_ESRCH;
	if (f->fail_every && f->calls % f->fail_every == 0)
		return -TC_ECORRUPT;
	*out = &f->snap;
	return 0;
}

static void fake_begin(struct tc_source *src, struct tc_profile *p, uint64_t sample)
{
	struct fake *f = src->impl;
	f->begins++;
	if (f->ids[0] < 0) {
		f->ids[0] = tc_profile_frame(p, "a.py", "main", "main", 1, 1);
		f->ids[1] = tc_profile_frame(p, "a.py", "work", "work", 5, 4);
		f->ids[2] = tc_profile_frame(p, "b.py", "idle", "idle", 9, 8);
	}
}

/* Thread 1: main <- work; thread 2: idle. */
static int fake_intern(struct tc_source *src, struct tc_profile *p, const struct tc_thread_stack *ts,
		       int32_t *leaf, const int32_t **ids_bu)
{
	struct fake *f = src->impl;
	f->interns++;
	int32_t node = TC_PROFILE_ROOT;
	const int32_t *ids = ts->thread_id == 1 ? f->ids : f->ids + 2;
	for (size_t k = 0; k < ts->n; k++)
		node = tc_profile_node(p, node, ids[k]);
	*leaf = node;
	*ids_bu = ids;
	return 0;
}

static bool fake_execed(struct tc_source *src)
{
	return false;
}

static void fake_stats(struct tc_source *src, struct tc_source_stats *out)
{
	memset(out, 0, sizeof *out);
}

static const struct tc_source_ops fake_ops = {fake_take, fake_begin, fake_intern, fake_execed,
					      fake_stats};

static void fake_init(struct fake *f, struct tc_source *src)
{
	memset(f, 0, sizeof *f);
	f->ids[0] = f->ids[1] = f->ids[2] = -1;
	f->th[0] = (struct tc_thread_stack){.thread_id = 1, .native_id = 101, .main = true,
					    .holds_gil = -1, .first = 0, .n = 2};
	f->th[1] = (struct tc_thread_stack){.thread_id = 2, .native_id = 102, .holds_gil = -1,
					    .first = 2, .n = 1};
	f->snap.threads = f->th;
	f->snap.nthreads = 2;
	f->snap.frames = f->fr;
	f->snap.nframes = 3;
	*src = (struct tc_source){.ops = &fake_ops, .impl = f, .pid = getpid()};
}

struct seen {
	unsigned instants, failed, threads;
	size_t depth_main;
};

static void observe(void *ctx, const struct tc_sample *s)
{
	struct seen *v = ctx;
	if (s->failed) {
		v->failed++;
		return;
	}
	v->instants++;
	v->threads += (unsigned)s->nthreads;
	ck_assert_uint_eq(s->nthreads_total, 2);
	ck_assert_uint_eq(s->threads[0].native_id, 101);
	v->depth_main = s->threads[0].n;
}

/* Back to back: every instant the source hands out is recorded whole; a failed instant is
 * counted and shown to the observer; the source reporting the target gone ends the run with
 * what was collected kept. */
START_TEST(test_fake_source)
{
	struct fake f;
	struct tc_source src;
	fake_init(&f, &src);
	f.fail_every = 4;
	f.gone_at = 21;
	struct tc_profile_meta meta = {.pid = 1, .mode = "wall"};
	struct tc_profile *p = tc_profile_new(&meta);
	ck_assert_ptr_nonnull(p);
	struct seen v = {0};
	struct tc_sampler_opts o = {.rate_hz = 0, .duration = 30, .mode = TC_MODE_WALL,
				    .on_sample = observe, .ctx = &v};
	ck_assert_int_eq(tc_sampler_run_source(&src, &o, p), 0);
	const struct tc_profile_stats *st = tc_profile_stats(p);
	ck_assert(st->target_exited);
	ck_assert_uint_eq(f.calls, 21);
	ck_assert_uint_eq(st->samples, 21);
	ck_assert_uint_eq(st->failed, 5);      /* calls 4, 8, 12, 16, 20 */
	ck_assert_uint_eq(v.failed, 5);
	ck_assert_uint_eq(v.instants, 15);
	ck_assert_uint_eq(f.begins, 15);
	ck_assert_uint_eq(f.interns, 30);
	ck_assert_uint_eq(v.threads, 30);
	ck_assert_uint_eq(v.depth_main, 2);
	ck_assert_uint_eq(tc_profile_total(p), 30);
	ck_assert_uint_eq(tc_profile_nthreads(p), 2);
	ck_assert_uint_eq(tc_profile_thread_total(p, 0), 15);
	const int32_t *fr;
	size_t n;
	ck_assert_uint_eq(tc_profile_thread_stack(p, 0, 0, &fr, &n), 15);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(tc_profile_get_frame(p, fr[0])->name, "work"); /* innermost first */
	tc_profile_free(p);
}
END_TEST

/* --threads main through a source: only the main thread is recorded. */
START_TEST(test_fake_source_main_only)
{
	struct fake f;
	struct tc_source src;
	fake_init(&f, &src);
	f.gone_at = 6;
	struct tc_profile_meta meta = {.pid = 1, .mode = "wall"};
	struct tc_profile *p = tc_profile_new(&meta);
	struct tc_sampler_opts o = {.rate_hz = 0, .duration = 30, .main_only = true};
	ck_assert_int_eq(tc_sampler_run_source(&src, &o, p), 0);
	ck_assert_uint_eq(tc_profile_total(p), 5);
	ck_assert_uint_eq(tc_profile_nthreads(p), 1);
	ck_assert_uint_eq(tc_profile_thread_native_id(p, 0), 101);
	tc_profile_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sampler");
	TCase *tc = tcase_create("source");
	tcase_add_test(tc, test_fake_source);
	tcase_add_test(tc, test_fake_source_main_only);
	suite_add_tcase(s, tc);
	return tc_test_run(s);
}
