/* SPDX-License-Identifier: MIT */
/* daemon/frame_cache: which bottom levels of a fresh stack may reuse the last sample's ids,
 * bounds, idle eviction. Stacks are innermost first, as the walker produces them. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/frame_cache.h"
#include "skip.h"

static struct tc_raw_frame fr(tc_raddr code, int64_t addr)
{
	struct tc_raw_frame f;
	memset(&f, 0, sizeof f);
	f.code = code;
	f.addr = addr;
	f.lineno = -1;
	return f;
}

/* A stack of N frames: bottom frame is code 0x1000, level k is code 0x1000 + 16 k. */
static void stack(struct tc_raw_frame *v, size_t n, int64_t top_addr)
{
	for (size_t k = 0; k < n; k++)
		v[k] = fr(0x1000 + 16 * (n - 1 - k), k == 0 ? top_addr : 40);
}

/* Store S as TH's stack with ids = 100 + level (the sampler would intern them). */
static void store(struct tc_frame_cache *fc, struct tc_fc_thread *th, const struct tc_raw_frame *s,
		  size_t n, size_t keep)
{
	ck_assert_int_eq(tc_frame_cache_reserve(fc, th, n), 0);
	for (size_t lv = keep; lv < n; lv++) {
		th->ids[lv] = (int32_t)(100 + lv);
		th->nodes[lv] = (int32_t)(1000 + lv);
	}
	tc_frame_cache_store(fc, th, s, n, keep);
}

START_TEST(test_prefix_reuse)
{
	struct tc_frame_cache *fc = tc_frame_cache_new();
	struct tc_raw_frame a[300], b[300];
	ck_assert_ptr_nonnull(fc);
	tc_frame_cache_begin(fc, 1);
	struct tc_fc_thread *th = tc_frame_cache_thread(fc, 0xabc000, 7);
	ck_assert_ptr_nonnull(th);
	ck_assert_uint_eq(tc_frame_cache_match(th, a, 0), 0); /* empty cache: nothing */

	stack(a, 200, 10);
	store(fc, th, a, 200, 0);
	/* same stack: everything */
	ck_assert_uint_eq(tc_frame_cache_match(th, a, 200), 200);
	/* only the innermost frame moved on: all but it */
	stack(b, 200, 12);
	ck_assert_uint_eq(tc_frame_cache_match(th, b, 200), 199);
	/* deeper by 3 on top of the same 200: the 200 */
	struct tc_raw_frame c[203];
	for (int k = 0; k < 3; k++)
		c[k] = fr(0x9000 + 16 * (tc_raddr)k, 2);
	memcpy(c + 3, a, sizeof a[0] * 200);
	ck_assert_uint_eq(tc_frame_cache_match(th, c, 203), 200);
	/* shallower: the bottom 150 levels of the old stack, all 150 */
	ck_assert_uint_eq(tc_frame_cache_match(th, a + 50, 150), 150);
	/* shallower, and its top (level 149) now at another instruction: 149 */
	memcpy(b, a + 50, sizeof a[0] * 150);
	b[0].addr = 12;
	ck_assert_uint_eq(tc_frame_cache_match(th, b, 150), 149);
	tc_frame_cache_free(fc);
}
END_TEST

/* a change below the reused part: reuse stops under the change, whatever is above it */
START_TEST(test_change_below)
{
	struct tc_frame_cache *fc = tc_frame_cache_new();
	struct tc_raw_frame a[100], b[100];
	tc_frame_cache_begin(fc, 1);
	struct tc_fc_thread *th = tc_frame_cache_thread(fc, 0xabc000, 7);
	stack(a, 100, 10);
	store(fc, th, a, 100, 0);
	memcpy(b, a, sizeof a);
	b[90].addr += 2; /* level 9 (from the bottom) called from another instruction */
	ck_assert_uint_eq(tc_frame_cache_match(th, b, 100), 9);
	memcpy(b, a, sizeof a);
	b[99].code = 0x7777; /* the outermost frame differs: nothing */
	ck_assert_uint_eq(tc_frame_cache_match(th, b, 100), 0);
	memcpy(b, a, sizeof a);
	b[50].lineno = 3; /* a line known from tracing differs */
	ck_assert_uint_eq(tc_frame_cache_match(th, b, 100), 49);
	/* after storing a stack that reused 49 levels, the ids below are the old ones and the
	 * ones above are new */
	ck_assert_int_eq(tc_frame_cache_reserve(fc, th, 100), 0);
	for (size_t lv = 49; lv < 100; lv++)
		th->ids[lv] = (int32_t)(500 + lv);
	tc_frame_cache_store(fc, th, b, 100, 49);
	ck_assert_int_eq(th->ids[48], 148);
	ck_assert_int_eq(th->ids[49], 549);
	ck_assert_uint_eq(tc_frame_cache_match(th, b, 100), 100);
	ck_assert_uint_eq(tc_frame_cache_match(th, a, 100), 49);
	tc_frame_cache_free(fc);
}
END_TEST

/* threads are told apart by (tstate, thread id); an idle thread is dropped */
START_TEST(test_threads_and_idle)
{
	struct tc_frame_cache *fc = tc_frame_cache_new();
	struct tc_raw_frame a[10];
	struct tc_frame_cache_stats st;
	stack(a, 10, 4);
	tc_frame_cache_begin(fc, 1);
	struct tc_fc_thread *t1 = tc_frame_cache_thread(fc, 0x1000, 1);
	struct tc_fc_thread *t2 = tc_frame_cache_thread(fc, 0x1000, 2); /* reused tstate */
	ck_assert_ptr_ne(t1, t2);
	store(fc, t1, a, 10, 0);
	ck_assert_uint_eq(tc_frame_cache_match(t2, a, 10), 0);
	ck_assert_ptr_eq(tc_frame_cache_thread(fc, 0x1000, 1), t1);
	/* t2 keeps being seen, t1 not */
	for (uint64_t s = 2; s < 3 * TC_FC_IDLE_SAMPLES; s++) {
		tc_frame_cache_begin(fc, s);
		ck_assert_ptr_nonnull(tc_frame_cache_thread(fc, 0x1000, 2));
	}
	tc_frame_cache_get_stats(fc, &st);
	ck_assert_uint_eq(st.threads, 1);
	ck_assert_uint_eq(st.evicted, 1);
	t1 = tc_frame_cache_thread(fc, 0x1000, 1); /* back: empty again */
	ck_assert_uint_eq(tc_frame_cache_match(t1, a, 10), 0);
	tc_frame_cache_free(fc);
}
END_TEST

/* the frame bound: a stack that does not fit is not cached, and nothing breaks */
START_TEST(test_bounded)
{
	struct tc_frame_cache *fc = tc_frame_cache_new();
	struct tc_frame_cache_stats st;
	size_t big = TC_FC_MAX_FRAMES / 2 + 1;
	struct tc_raw_frame *v = calloc(big, sizeof *v);
	ck_assert_ptr_nonnull(v);
	stack(v, big, 0);
	tc_frame_cache_begin(fc, 1);
	struct tc_fc_thread *t1 = tc_frame_cache_thread(fc, 0x1000, 1);
	struct tc_fc_thread *t2 = tc_frame_cache_thread(fc, 0x2000, 2);
	store(fc, t1, v, big, 0);
	ck_assert_int_eq(tc_frame_cache_reserve(fc, t2, big), -TC_ERANGE);
	ck_assert_uint_eq(tc_frame_cache_match(t2, v, big), 0);
	tc_frame_cache_get_stats(fc, &st);
	ck_assert_uint_le(st.frames, TC_FC_MAX_FRAMES);
	ck_assert_uint_eq(st.uncached, 1);
	/* the thread table is bounded too */
	for (tc_raddr k = 0; k < TC_FC_MAX_THREADS; k++)
		tc_frame_cache_thread(fc, 0x100000 + 64 * k, k);
	ck_assert_ptr_null(tc_frame_cache_thread(fc, 0x900000000, 1));
	free(v);
	tc_frame_cache_free(fc);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("frame_cache");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_prefix_reuse);
	tcase_add_test(tc, test_change_below);
	tcase_add_test(tc, test_threads_and_idle);
	tcase_add_test(tc, test_bounded);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return tc_test_run(s);
}
