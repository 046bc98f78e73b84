/* SPDX-License-Identifier: MIT */
/* Unit tests for cli/top_model.c, the numbers behind `tachyon-c top`: window against
 * cumulative counts, recursion counted once in Total, per-line against per-function rows,
 * thread selection, every sort column, the substring filter, reset, the header figures and
 * the bounds on entries, counters and threads. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/top_model.h"
#include "daemon/alloc_monitor.h"
#include "tc/common.h"
#include "skip.h"

/* Frame ids used by the tests, as the profile would resolve them. */
enum { MAIN10, WORK20, WORK21, REC30, REC31, HELPER5, NFRAMES };

static const struct tc_top_frame_desc frames[NFRAMES] = {
	[MAIN10] = {"/app/app.py", "<module>", 10, 1},
	[WORK20] = {"/app/app.py", "Job.work", 20, 18},
	[WORK21] = {"/app/app.py", "Job.work", 21, 18},
	[REC30] = {"/app/app.py", "rec", 30, 29},
	[REC31] = {"/app/app.py", "rec", 31, 29},
	[HELPER5] = {"/usr/lib/python3/lib.py", "helper", 5, 3},
};

static int lookup(void *ctx, int32_t id, struct tc_top_frame_desc *out)
{
	(void)ctx;
	if (id < 0 || id >= NFRAMES)
		return -1;
	*out = frames[id];
	return 0;
}

/* Many distinct frames: id K is function fK in /gen.py, line K. */
static char gen_names[200][16];

static int lookup_gen(void *ctx, int32_t id, struct tc_top_frame_desc *out)
{
	(void)ctx;
	if (id < 0 || id >= 200)
		return -1;
	snprintf(gen_names[id], sizeof gen_names[id], "f%d", (int)id);
	*out = (struct tc_top_frame_desc){"/gen.py", gen_names[id], id, id};
	return 0;
}

#define DT 0.01

struct fixture {
	struct tc_top_model *m;
	struct tc_top_snap *s;
	double t;
};

static void setup(struct fixture *f, size_t max_entries)
{
	f->m = tc_top_model_new(max_entries, DT);
	f->s = tc_top_snap_new();
	f->t = 100.0;
	ck_assert_ptr_nonnull(f->m);
	ck_assert_ptr_nonnull(f->s);
}

static void teardown(struct fixture *f)
{
	tc_top_snap_free(f->s);
	tc_top_model_free(f->m);
}

/* A new instant: the walk saw NTHREADS threads, or FAILED. */
static void tick(struct fixture *f, bool failed, size_t nthreads)
{
	f->t += DT;
	tc_top_model_instant(f->m, f->t, failed, nthreads);
}

/* Count STACK (N frame ids, innermost first) for thread (NATIVE, TID), resolved by LK. */
static void add_stack(struct fixture *f, uint64_t native, uint64_t tid, const int32_t *stack,
		      size_t n, tc_top_lookup_fn lk)
{
	struct tc_top_thread_sample ts = {.native_id = native, .thread_id = tid, .holds_gil = -1,
					  .on_cpu = -1, .frames = stack, .n = n};
	ck_assert_int_eq(tc_top_model_add(f->m, &ts, lk, NULL), 0);
}

/* One instant with one thread (tid 1, main) holding STACK (innermost first). */
static void instant1(struct fixture *f, const int32_t *stack, size_t n)
{
	tick(f, false, 1);
	struct tc_top_thread_sample ts = {.native_id = 1, .thread_id = 11, .main = true,
					  .holds_gil = -1, .on_cpu = -1, .frames = stack, .n = n};
	ck_assert_int_eq(tc_top_model_add(f->m, &ts, lookup, NULL), 0);
}

#define STACK(...) (const int32_t[]){__VA_ARGS__}, sizeof((const int32_t[]){__VA_ARGS__}) / sizeof(int32_t)

static void snap(struct fixture *f)
{
	ck_assert_int_eq(tc_top_model_snap(f->m, f->t, f->s), 0);
}

static size_t rows_of(struct fixture *f, bool by_line, enum tc_top_sort sort, const char *filter,
		      const struct tc_top_row **rows)
{
	struct tc_top_query q = {.by_line = by_line, .sort = sort, .filter = filter};
	return tc_top_snap_rows(f->s, &q, rows);
}

static const struct tc_top_row *find(const struct tc_top_row *rows, size_t n, const char *qualname,
				     int32_t line)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(rows[i].qualname, qualname) == 0 && (line < 0 || rows[i].line == line))
			return &rows[i];
	}
	return NULL;
}

static bool near(double a, double b)
{
	return fabs(a - b) < 1e-9;
}

/* A snapshot of a model that has seen nothing: every table is empty and unallocated, which
 * must not reach memcpy as NULL (UBSan: nonnull-attribute). */
START_TEST(test_empty_snap)
{
	struct fixture f;
	const struct tc_top_row *rows;

	setup(&f, 0);
	snap(&f);
	ck_assert_uint_eq(rows_of(&f, false, TC_TOP_SORT_OWN, NULL, &rows), 0);
	teardown(&f);
}
END_TEST

START_TEST(test_window_and_cumulative)
{
	struct fixture f;
	const struct tc_top_row *rows, *r;
	setup(&f, 0);
	for (int i = 0; i < 3; i++)
		instant1(&f, STACK(WORK20, MAIN10));
	instant1(&f, STACK(HELPER5, MAIN10));
	snap(&f);
	size_t n = rows_of(&f, false, TC_TOP_SORT_OWN, NULL, &rows);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(rows[0].qualname, "Job.work");
	ck_assert_uint_eq(rows[0].own, 3);
	ck_assert(near(rows[0].own_pct, 75));
	ck_assert(near(rows[0].total_pct, 75));
	ck_assert(near(rows[0].own_time, 3 * DT));
	r = find(rows, n, "<module>", -1);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->own, 0);
	ck_assert(near(r->total_pct, 100));
	ck_assert(near(r->total_time, 4 * DT));

	/* the next window only has helper; work keeps its time but shows 0 % */
	instant1(&f, STACK(HELPER5, MAIN10));
	snap(&f);
	n = rows_of(&f, false, TC_TOP_SORT_OWN, NULL, &rows);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(rows[0].qualname, "helper");
	ck_assert(near(rows[0].own_pct, 100));
	ck_assert(near(rows[0].own_time, 2 * DT));
	r = find(rows, n, "Job.work", -1);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->own, 0);
	ck_assert(near(r->own_pct, 0));
	ck_assert(near(r->own_time, 3 * DT));
	r = find(rows, n, "<module>", -1);
	ck_assert(near(r->total_time, 5 * DT));

	/* an empty window: everything at 0 %, times kept */
	f.t += 1;
	snap(&f);
	n = rows_of(&f, false, TC_TOP_SORT_OWN, NULL, &rows);
	ck_assert_uint_eq(n, 3);
	for (size_t i = 0; i < n; i++)
		ck_assert(rows[i].own == 0 && rows[i].total == 0 && rows[i].own_pct == 0);
	r = find(rows, n, "<module>", -1);
	ck_assert(near(r->total_time, 5 * DT));
	teardown(&f);
}
END_TEST

START_TEST(test_instant_weights)
{
	/* each instant weighs the time since the previous one (a late sample covers more) */
	struct fixture f;
	const struct tc_top_row *rows;
	setup(&f, 0);
	instant1(&f, STACK(WORK20));         /* first: the nominal interval */
	f.t += 0.04;                          /* the sampler fell behind: 0.05 s */
	instant1(&f, STACK(WORK20));
	f.t += 50;                            /* a stall is capped at 1 s */
	instant1(&f, STACK(WORK20));
	snap(&f);
	size_t n = rows_of(&f, false, TC_TOP_SORT_OWN, NULL, &rows);
	ck_assert_uint_eq(n, 1);
	ck_assert_msg(near(rows[0].own_time, DT + 0.05 + 1.0), "own_time %f", rows[0].own_time);
	teardown(&f);
}
END_TEST

START_TEST(test_recursion_once)
{
	struct fixture f;
	const struct tc_top_row *rows, *r;
	setup(&f, 0);
	instant1(&f, STACK(REC30, REC30, REC30, REC30, MAIN10));
	instant1(&f, STACK(REC31, REC30, REC31, MAIN10));
	instant1(&f, STACK(WORK20, REC30, REC30, MAIN10));
	snap(&f);
	size_t n = rows_of(&f, false, TC_TOP_SORT_TOTAL, NULL, &rows);
	r = find(rows, n, "rec", -1);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->total, 3);
	ck_assert_uint_eq(r->own, 2);
	ck_assert(near(r->total_pct, 100));
	ck_assert(near(r->total_time, 3 * DT));
	ck_assert_uint_eq(find(rows, n, "<module>", -1)->total, 3);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(rows[i].total_pct <= 100 && rows[i].own <= rows[i].total,
			      "%s: %f", rows[i].qualname, rows[i].total_pct);

	/* per line: the same line twice in a stack counts once too */
	n = rows_of(&f, true, TC_TOP_SORT_TOTAL, NULL, &rows);
	r = find(rows, n, "rec", 30);
	ck_assert_uint_eq(r->total, 3);
	ck_assert_uint_eq(r->own, 1);
	r = find(rows, n, "rec", 31);
	ck_assert_uint_eq(r->total, 1);
	ck_assert_uint_eq(r->own, 1);
	teardown(&f);
}
END_TEST

START_TEST(test_line_vs_function)
{
	struct fixture f;
	const struct tc_top_row *rows, *r;
	setup(&f, 0);
	instant1(&f, STACK(WORK20, MAIN10));
	instant1(&f, STACK(WORK21, MAIN10));
	instant1(&f, STACK(WORK21, MAIN10));
	instant1(&f, STACK(WORK21, WORK20, MAIN10)); /* work calling itself from line 20 */
	snap(&f);
	size_t n = rows_of(&f, false, TC_TOP_SORT_OWN, NULL, &rows);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(rows[0].qualname, "Job.work");
	ck_assert_int_eq(rows[0].line, 18); /* per function: the def line */
	ck_assert_str_eq(rows[0].file, "/app/app.py");
	ck_assert_uint_eq(rows[0].own, 4);
	ck_assert_uint_eq(rows[0].total, 4);
	ck_assert(near(rows[0].own_pct, 100));

	n = rows_of(&f, true, TC_TOP_SORT_OWN, NULL, &rows);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(rows[0].qualname, "Job.work");
	ck_assert_int_eq(rows[0].line, 21);
	ck_assert_uint_eq(rows[0].own, 3);
	ck_assert(near(rows[0].own_pct, 75));
	r = find(rows, n, "Job.work", 20);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->own, 1);
	ck_assert_uint_eq(r->total, 2);
	ck_assert(near(r->own_pct, 25));
	ck_assert(near(r->total_pct, 50));
	r = find(rows, n, "<module>", 10);
	ck_assert_uint_eq(r->total, 4);
	teardown(&f);
}
END_TEST

/* Two threads: T1 (main) runs work, holding the GIL and on a CPU; T2 sleeps in helper. */
static void two_threads(struct fixture *f, int n1, int n2)
{
	for (int i = 0; i < (n1 > n2 ? n1 : n2); i++) {
		f->t += DT;
		tc_top_model_instant(f->m, f->t, false, 3);
		if (i < n1) {
			struct tc_top_thread_sample t1 = {.native_id = 100, .thread_id = 1, .main = true,
				.holds_gil = 1, .on_cpu = 1, .frames = (const int32_t[]){WORK20, MAIN10}, .n = 2};
			ck_assert_int_eq(tc_top_model_add(f->m, &t1, lookup, NULL), 0);
		}
		if (i < n2) {
			struct tc_top_thread_sample t2 = {.native_id = 200, .thread_id = 2, .main = false,
				.holds_gil = 0, .on_cpu = 0, .frames = (const int32_t[]){HELPER5}, .n = 1};
			ck_assert_int_eq(tc_top_model_add(f->m, &t2, lookup, NULL), 0);
		}
	}
}

START_TEST(test_threads)
{
	struct fixture f;
	const struct tc_top_row *rows;
	struct tc_top_summary sum;
	setup(&f, 0);
	two_threads(&f, 3, 1);
	snap(&f);

	ck_assert_uint_eq(tc_top_snap_nthreads(f.s), 2);
	const struct tc_top_thread_info *t0 = tc_top_snap_thread(f.s, 0), *t1 = tc_top_snap_thread(f.s, 1);
	ck_assert_uint_eq(t0->native_id, 100);
	ck_assert(t0->main && t0->seen);
	ck_assert_uint_eq(t1->native_id, 200);
	ck_assert(!t1->main && t1->seen);
	ck_assert(near(t0->time, 3 * DT));
	ck_assert_ptr_null(tc_top_snap_thread(f.s, 2));

	/* all threads: shares of the 4 thread samples */
	struct tc_top_query all = {.sort = TC_TOP_SORT_OWN};
	size_t n = tc_top_snap_rows(f.s, &all, &rows);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(rows[0].qualname, "Job.work");
	ck_assert(near(rows[0].own_pct, 75));
	ck_assert_str_eq(rows[1].qualname, "helper");
	ck_assert(near(rows[1].own_pct, 25));
	tc_top_snap_summary(f.s, &all, &sum);
	ck_assert_uint_eq(sum.win_thread_samples, 4);
	ck_assert_uint_eq(sum.threads_seen, 2);
	ck_assert_uint_eq(sum.threads_total, 3);
	ck_assert(near(sum.gil, 1.0));  /* some thread held the GIL at every instant */
	ck_assert(near(sum.cpu, 0.75));
	ck_assert(near(sum.idle, 0.25));

	/* one thread */
	struct tc_top_query one = {.sort = TC_TOP_SORT_OWN, .one_thread = true, .native_id = 200,
				   .thread_id = 2};
	n = tc_top_snap_rows(f.s, &one, &rows);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(rows[0].qualname, "helper");
	ck_assert(near(rows[0].own_pct, 100));
	tc_top_snap_summary(f.s, &one, &sum);
	ck_assert_uint_eq(sum.win_thread_samples, 1);
	ck_assert_uint_eq(sum.threads_seen, 1);
	ck_assert(near(sum.gil, 0));
	ck_assert(near(sum.cpu, 0));
	ck_assert(near(sum.idle, 1));

	one.native_id = 100;
	one.thread_id = 1;
	n = tc_top_snap_rows(f.s, &one, &rows);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(rows[0].qualname, "Job.work");
	ck_assert(near(rows[0].own_pct, 100));

	/* a thread that is not there: nothing */
	one.native_id = 999;
	ck_assert_uint_eq(tc_top_snap_rows(f.s, &one, &rows), 0);
	tc_top_snap_summary(f.s, &one, &sum);
	ck_assert_uint_eq(sum.win_thread_samples, 0);

	/* a window where T2 was not recorded: not seen, still listed */
	two_threads(&f, 2, 0);
	snap(&f);
	ck_assert(tc_top_snap_thread(f.s, 0)->seen);
	ck_assert(!tc_top_snap_thread(f.s, 1)->seen);
	tc_top_snap_summary(f.s, &all, &sum);
	ck_assert_uint_eq(sum.threads_seen, 1);
	teardown(&f);
}
END_TEST

START_TEST(test_sort_columns)
{
	struct fixture f;
	const struct tc_top_row *rows;
	setup(&f, 0);
	for (int i = 0; i < 5; i++)
		instant1(&f, STACK(WORK21, MAIN10));
	snap(&f);
	/* window: helper own 2 total 2; work own 1 total 3; <module> own 1 total 4 */
	instant1(&f, STACK(HELPER5, WORK20, MAIN10));
	instant1(&f, STACK(HELPER5, WORK20, MAIN10));
	instant1(&f, STACK(WORK21, MAIN10));
	instant1(&f, STACK(MAIN10));
	snap(&f);
	static const struct {
		enum tc_top_sort sort;
		const char *order[3];
	} cases[] = {
		{TC_TOP_SORT_OWN, {"helper", "<module>", "Job.work"}}, /* tie on own: total decides */
		{TC_TOP_SORT_TOTAL, {"<module>", "Job.work", "helper"}},
		{TC_TOP_SORT_OWN_TIME, {"Job.work", "helper", "<module>"}}, /* 6, 2, 1 */
		{TC_TOP_SORT_TOTAL_TIME, {"<module>", "Job.work", "helper"}}, /* 9, 8, 2 */
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		size_t n = rows_of(&f, false, cases[c].sort, NULL, &rows);
		ck_assert_uint_eq(n, 3);
		for (size_t i = 0; i < 3; i++)
			ck_assert_msg(strcmp(rows[i].qualname, cases[c].order[i]) == 0,
				      "sort %d row %zu: %s, expected %s", (int)cases[c].sort, i,
				      rows[i].qualname, cases[c].order[i]);
	}
	size_t n = rows_of(&f, false, TC_TOP_SORT_OWN_TIME, NULL, &rows);
	ck_assert(near(rows[0].own_time, 6 * DT));
	ck_assert(near(rows[1].own_time, 2 * DT));
	n = rows_of(&f, false, TC_TOP_SORT_TOTAL_TIME, NULL, &rows);
	ck_assert(near(rows[0].total_time, 9 * DT));
	ck_assert(near(rows[1].total_time, 8 * DT));
	(void)n;
	teardown(&f);
}
END_TEST

START_TEST(test_filter)
{
	struct fixture f;
	const struct tc_top_row *rows;
	setup(&f, 0);
	instant1(&f, STACK(HELPER5, WORK20, MAIN10));
	instant1(&f, STACK(WORK21, MAIN10));
	snap(&f);
	ck_assert_uint_eq(rows_of(&f, false, TC_TOP_SORT_OWN, NULL, &rows), 3);
	ck_assert_uint_eq(rows_of(&f, false, TC_TOP_SORT_OWN, "", &rows), 3);
	/* case-insensitive, on the qualname */
	ck_assert_uint_eq(rows_of(&f, false, TC_TOP_SORT_OWN, "HELP", &rows), 1);
	ck_assert_str_eq(rows[0].qualname, "helper");
	/* percentages stay shares of everything, not of what the filter kept */
	ck_assert(near(rows[0].own_pct, 50));
	ck_assert_uint_eq(rows_of(&f, false, TC_TOP_SORT_OWN, "job.", &rows), 1);
	ck_assert_str_eq(rows[0].qualname, "Job.work");
	/* or on the file */
	ck_assert_uint_eq(rows_of(&f, false, TC_TOP_SORT_OWN, "/app/", &rows), 2);
	ck_assert_uint_eq(rows_of(&f, true, TC_TOP_SORT_OWN, "app.py", &rows), 3);
	ck_assert_uint_eq(rows_of(&f, false, TC_TOP_SORT_OWN, "zzz", &rows), 0);
	teardown(&f);
}
END_TEST

START_TEST(test_reset)
{
	struct fixture f;
	const struct tc_top_row *rows;
	struct tc_top_summary sum;
	struct tc_top_query all = {.sort = TC_TOP_SORT_OWN};
	setup(&f, 0);
	two_threads(&f, 4, 4);
	tc_top_model_counts(f.m, 100, 2, 1);
	snap(&f);
	tc_top_snap_summary(f.s, &all, &sum);
	ck_assert_uint_eq(sum.samples, 100);
	ck_assert_uint_eq(sum.failed, 2);
	ck_assert_uint_eq(sum.missed, 1);
	ck_assert_uint_eq(tc_top_snap_nthreads(f.s), 2);

	tc_top_model_reset(f.m);
	f.t += 5;
	snap(&f);
	ck_assert_uint_eq(rows_of(&f, false, TC_TOP_SORT_OWN, NULL, &rows), 0);
	ck_assert_uint_eq(rows_of(&f, true, TC_TOP_SORT_OWN, NULL, &rows), 0);
	ck_assert_uint_eq(tc_top_snap_nthreads(f.s), 0);
	tc_top_snap_summary(f.s, &all, &sum);
	ck_assert_uint_eq(sum.samples, 0);
	ck_assert_uint_eq(sum.failed, 0);

	/* counting starts again from zero, with the same frame ids */
	instant1(&f, STACK(HELPER5, MAIN10));
	tc_top_model_counts(f.m, 110, 3, 1);
	snap(&f);
	size_t n = rows_of(&f, false, TC_TOP_SORT_OWN, NULL, &rows);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(rows[0].qualname, "helper");
	ck_assert(near(rows[0].own_time, DT));
	ck_assert(near(rows[0].own_pct, 100));
	tc_top_snap_summary(f.s, &all, &sum);
	ck_assert_uint_eq(sum.samples, 10);
	ck_assert_uint_eq(sum.failed, 1);
	ck_assert_uint_eq(sum.missed, 0);
	ck_assert(sum.since_reset > 0 && sum.since_reset < 1);
	teardown(&f);
}
END_TEST

START_TEST(test_summary_rate_and_failed)
{
	struct fixture f;
	struct tc_top_summary sum;
	struct tc_top_query all = {.sort = TC_TOP_SORT_OWN};
	setup(&f, 0);
	double t0 = f.t;
	for (int i = 0; i < 50; i++) {
		tick(&f, i % 10 == 0, 1);
		if (i % 10 == 0)
			continue;
		add_stack(&f, 1, 1, (const int32_t[]){WORK20}, 1, lookup);
	}
	snap(&f);
	tc_top_snap_summary(f.s, &all, &sum);
	ck_assert_uint_eq(sum.win_instants, 50);
	ck_assert_uint_eq(sum.win_failed, 5);
	ck_assert_uint_eq(sum.win_thread_samples, 45);
	ck_assert_msg(fabs(sum.rate - 100) < 1e-6, "rate %f", sum.rate);
	ck_assert(near(sum.window, f.t - t0));
	ck_assert(sum.gil == -1 && sum.cpu == -1 && sum.idle == -1); /* not asked for */
	teardown(&f);
}
END_TEST

START_TEST(test_unknown_frames)
{
	struct fixture f;
	const struct tc_top_row *rows;
	setup(&f, 0);
	instant1(&f, STACK(77, -3, MAIN10)); /* ids the lookup does not know */
	snap(&f);
	size_t n = rows_of(&f, false, TC_TOP_SORT_OWN, NULL, &rows);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(rows[0].qualname, TC_TOP_OTHER_QUALNAME);
	ck_assert_uint_eq(rows[0].own, 1);
	ck_assert_uint_eq(rows[0].total, 1); /* twice in the stack, once in total */
	teardown(&f);
}
END_TEST

START_TEST(test_entry_bound)
{
	struct fixture f;
	const struct tc_top_row *rows;
	setup(&f, 5);
	/* 100 distinct lines, one sample each, plus a line seen early that stays counted */
	for (int i = 0; i < 100; i++) {
		tick(&f, false, 1);
		int32_t st[2] = {i, 0};
		add_stack(&f, 1, 1, st, i ? 2 : 1, lookup_gen);
	}
	snap(&f);
	size_t n = rows_of(&f, true, TC_TOP_SORT_OWN, NULL, &rows);
	ck_assert_uint_eq(n, 6); /* 5 lines + [other] */
	ck_assert_str_eq(rows[0].qualname, TC_TOP_OTHER_QUALNAME);
	ck_assert_uint_eq(rows[0].own, 95);
	uint64_t own = 0;
	for (size_t i = 0; i < n; i++)
		own += rows[i].own;
	ck_assert_uint_eq(own, 100); /* nothing lost, only folded */
	const struct tc_top_row *f0 = find(rows, n, "f0", 0);
	ck_assert_ptr_nonnull(f0);
	ck_assert_uint_eq(f0->total, 100);
	n = rows_of(&f, false, TC_TOP_SORT_OWN, NULL, &rows);
	ck_assert_uint_eq(n, 6);

	/* a reset makes room again */
	tc_top_model_reset(f.m);
	for (int i = 100; i < 105; i++) {
		tick(&f, false, 1);
		int32_t st[1] = {i};
		add_stack(&f, 1, 1, st, 1, lookup_gen);
	}
	snap(&f);
	n = rows_of(&f, true, TC_TOP_SORT_OWN, NULL, &rows);
	ck_assert_uint_eq(n, 5);
	ck_assert_ptr_null(find(rows, n, TC_TOP_OTHER_QUALNAME, -1));
	teardown(&f);
}
END_TEST

/* Entries found by content through tables that grow: 400 frame ids share 100 functions
 * (file x qualname) and fewer lines, 8 threads make thousands of counters, and a reset
 * starts the tables small again. Every id lands on its own entry, nothing is merged or
 * split, before and after the reset. */
#define MANY_IDS 400
static char many_q[MANY_IDS][16];

static int lookup_many(void *ctx, int32_t id, struct tc_top_frame_desc *out)
{
	(void)ctx;
	if (id < 0 || id >= MANY_IDS)
		return -1;
	snprintf(many_q[id], sizeof many_q[id], "g%d", (int)(id / 4 % 50));
	*out = (struct tc_top_frame_desc){id % 2 ? "/b.py" : "/a.py", many_q[id], id % 7, 1};
	return 0;
}

/* Key of a row: function (file, qualname), times 7 plus the line for per-line rows. */
static int many_key(const struct tc_top_row *r, bool by_line)
{
	int fn = (strcmp(r->file, "/b.py") == 0) * 100 + atoi(r->qualname + 1);
	return by_line ? fn * 7 + r->line : fn;
}

static void check_many(struct fixture *f, uint64_t per_id)
{
	static uint64_t want[200 * 7];
	for (int by_line = 0; by_line < 2; by_line++) {
		size_t distinct = 0;
		memset(want, 0, sizeof want);
		for (int id = 0; id < MANY_IDS; id++) {
			int fn = (id % 2) * 100 + id / 4 % 50;
			int k = by_line ? fn * 7 + id % 7 : fn;
			distinct += want[k] == 0;
			want[k] += per_id;
		}
		const struct tc_top_row *rows;
		size_t n = rows_of(f, by_line, TC_TOP_SORT_OWN, NULL, &rows);
		ck_assert_uint_eq(n, distinct);
		for (size_t i = 0; i < n; i++) {
			int k = many_key(&rows[i], by_line);
			ck_assert_uint_eq(rows[i].own, want[k]);
			want[k] = 0; /* a second row for the same key fails above */
		}
	}
}

START_TEST(test_many_entries)
{
	struct fixture f;
	setup(&f, 0);
	for (int id = 0; id < MANY_IDS; id++) {
		tick(&f, false, 8);
		int32_t st[1] = {id};
		for (uint64_t tid = 1; tid <= 8; tid++) {
			add_stack(&f, tid, tid, st, 1, lookup_many);
		}
	}
	snap(&f);
	check_many(&f, 8);

	tc_top_model_reset(f.m);
	for (int id = MANY_IDS - 1; id >= 0; id--) {
		tick(&f, false, 1);
		int32_t st[1] = {id};
		add_stack(&f, 1, 1, st, 1, lookup_many);
	}
	snap(&f);
	check_many(&f, 1);
	teardown(&f);
}
END_TEST

START_TEST(test_counter_bound)
{
	/* 5 lines allow 20 (thread, entry) counters: 10 threads x 4 entries need 80 */
	struct fixture f;
	const struct tc_top_row *rows;
	setup(&f, 5);
	for (int th = 0; th < 10; th++) {
		tick(&f, false, 10);
		int32_t st[2] = {1, 2};
		add_stack(&f, 1000 + th, th, st, 2, lookup_gen);
	}
	snap(&f);
	size_t n = rows_of(&f, false, TC_TOP_SORT_OWN, NULL, &rows);
	uint64_t own = 0, other = 0, other_total = 0;
	for (size_t i = 0; i < n; i++) {
		own += rows[i].own;
		ck_assert(rows[i].total_pct <= 100);
		if (strcmp(rows[i].qualname, TC_TOP_OTHER_QUALNAME) == 0) {
			other = rows[i].own;
			other_total = rows[i].total;
		}
	}
	ck_assert_uint_eq(own, 10);
	/* threads 0-4 fill the 20 counters (4 each); threads 5-9 fold into [other], once per
	 * stack in total although both their functions folded */
	ck_assert_uint_eq(other, 5);
	ck_assert_uint_eq(other_total, 5);
	ck_assert_uint_eq(tc_top_snap_nthreads(f.s), 10);
	teardown(&f);
}
END_TEST

START_TEST(test_thread_bound)
{
	struct fixture f;
	const struct tc_top_row *rows;
	setup(&f, 0);
	tick(&f, false, 100);
	for (int th = 0; th < 100; th++) {
		add_stack(&f, 5000 + th, th + 1, (const int32_t[]){WORK20}, 1, lookup);
	}
	snap(&f);
	ck_assert_uint_eq(tc_top_snap_nthreads(f.s), TC_TOP_MAX_THREADS + 1);
	const struct tc_top_thread_info *other = tc_top_snap_thread(f.s, TC_TOP_MAX_THREADS);
	ck_assert_uint_eq(other->native_id, 0);
	ck_assert_uint_eq(other->thread_id, 0);
	ck_assert(near(other->time, (100 - TC_TOP_MAX_THREADS) * DT));
	size_t n = rows_of(&f, false, TC_TOP_SORT_OWN, NULL, &rows);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(rows[0].own, 100);
	/* the overflow slot can be selected like a thread */
	struct tc_top_query q = {.one_thread = true, .native_id = 0, .thread_id = 0};
	n = tc_top_snap_rows(f.s, &q, &rows);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(rows[0].own, 100 - TC_TOP_MAX_THREADS);
	teardown(&f);
}
END_TEST

/* The memory line from allocator readings: figures as read, GC/s between two readings, the
 * GC running share from the ticks, and the same reading twice gives the same figures. */
START_TEST(test_memory_from_reading)
{
	struct tc_top_memstate st;
	struct tc_top_memory mem;
	static struct tc_alloc_reading r;

	tc_top_memstate_init(&st);
	memset(&r, 0, sizeof r);
	r.seq = 1;
	r.time = 10.0;
	r.walked = true;
	r.walk.sum.rss_bytes = 1 << 20;
	r.walk.sum.rss_anon_bytes = 1 << 19;
	r.walk.sum.arenas_current = 3;
	r.walk.bytes_in_use = 4096;
	for (int g = 0; g < 3; g++)
		r.walk.sum.gen[g].collections = 10;
	r.ticks = 4;
	r.collecting = 1;
	tc_top_memory_from_reading(&st, &r, &mem);
	ck_assert_int_eq(mem.rss, 1 << 20);
	ck_assert_int_eq(mem.rss_anon, 1 << 19);
	ck_assert_int_eq(mem.pymalloc_bytes, 4096);
	ck_assert_int_eq(mem.arenas, 3);
	ck_assert(mem.gc_per_sec < 0); /* one reading: no rate yet */
	ck_assert(mem.gc_running > 0.24 && mem.gc_running < 0.26);

	r.seq = 2;
	r.time = 12.0;
	r.walk.sum.gen[0].collections = 14;
	r.ticks = 0;
	tc_top_memory_from_reading(&st, &r, &mem);
	ck_assert(mem.gc_per_sec > 1.99 && mem.gc_per_sec < 2.01);
	ck_assert(mem.gc_running < 0);
	tc_top_memory_from_reading(&st, &r, &mem);
	ck_assert(mem.gc_per_sec > 1.99 && mem.gc_per_sec < 2.01);

	/* what the build does not expose stays unknown */
	r.seq = 3;
	r.walked = false;
	r.walk.sum.why_pymalloc = "no pymalloc";
	r.walk.sum.why_gc = "no gc";
	r.walk.sum.rss_bytes = r.walk.sum.rss_anon_bytes = -1;
	tc_top_memory_from_reading(&st, &r, &mem);
	ck_assert_int_eq(mem.rss, -1);
	ck_assert_int_eq(mem.pymalloc_bytes, -1);
	ck_assert_int_eq(mem.arenas, -1);
	ck_assert(mem.gc_per_sec < 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("top_model");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_empty_snap);
	tcase_add_test(tc, test_window_and_cumulative);
	tcase_add_test(tc, test_instant_weights);
	tcase_add_test(tc, test_recursion_once);
	tcase_add_test(tc, test_line_vs_function);
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_sort_columns);
	tcase_add_test(tc, test_filter);
	tcase_add_test(tc, test_reset);
	tcase_add_test(tc, test_summary_rate_and_failed);
	tcase_add_test(tc, test_unknown_frames);
	tcase_add_test(tc, test_entry_bound);
	tcase_add_test(tc, test_many_entries);
	tcase_add_test(tc, test_counter_bound);
	tcase_add_test(tc, test_thread_bound);
	tcase_add_test(tc, test_memory_from_reading);
	suite_add_tcase(s, tc);
	return tc_test_run(s);
}
