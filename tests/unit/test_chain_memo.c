/* SPDX-License-Identifier: MIT */
/* daemon/chain_memo through its header: one chain per thread state, kept across walks and
 * with its frames as stored; room bounded per memo (a chain that does not fit is emptied and
 * unremembered), length bounded by room; idle chains dropped, clear forgets everything; the
 * counters. Fake inputs only. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/chain_memo.h"
#include "skip.h"

static struct tc_cm_frame frame(uint64_t k)
{
	struct tc_cm_frame f;
	memset(&f, 0, sizeof f);
	f.addr = 0x7f0000000000ull + 80 * k;
	f.prev = k ? f.addr - 80 : 0;
	f.code = 0x500000 + 16 * k;
	f.instr = f.code + 64;
	f.tlbc = (uint32_t)k;
	f.owner = 1;
	f.pushed = 1;
	return f;
}

/* Remember K frames for C, the way the walker does: reserve, fill, set the length. */
static void remember(struct tc_chain_memo *m, struct tc_cm_chain *c, size_t k)
{
	ck_assert_int_eq(tc_chain_memo_reserve(m, c, k), 0);
	for (size_t i = 0; i < k; i++)
		c->f[i] = frame(i);
	tc_chain_memo_set_len(c, k);
}

START_TEST(test_per_thread)
{
	struct tc_chain_memo *m = tc_chain_memo_new();
	struct tc_cm_stats st;
	ck_assert_ptr_nonnull(m);
	tc_chain_memo_begin(m);
	ck_assert_ptr_null(tc_chain_memo_thread(m, 0)); /* no thread state: nothing */
	struct tc_cm_chain *a = tc_chain_memo_thread(m, 0x1000);
	struct tc_cm_chain *b = tc_chain_memo_thread(m, 0x2000);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_ne(a, b);
	ck_assert_uint_eq(a->tstate, 0x1000);
	ck_assert_uint_eq(a->n, 0); /* created empty */
	remember(m, a, 100);
	remember(m, b, 3);
	/* the next walks find each chain as stored */
	for (int w = 0; w < 5; w++) {
		tc_chain_memo_begin(m);
		struct tc_cm_chain *c = tc_chain_memo_thread(m, 0x1000);
		ck_assert_ptr_eq(c, a);
		ck_assert_uint_eq(c->n, 100);
		struct tc_cm_frame f = frame(77);
		ck_assert_mem_eq(&c->f[77], &f, sizeof f);
		ck_assert_uint_eq(tc_chain_memo_thread(m, 0x2000)->n, 3);
	}
	/* a bottom part kept and new top frames appended: reserve keeps what is there */
	ck_assert_int_eq(tc_chain_memo_reserve(m, a, 1000), 0);
	ck_assert_uint_ge(a->cap, 1000);
	struct tc_cm_frame f = frame(99);
	ck_assert_mem_eq(&a->f[99], &f, sizeof f);
	tc_chain_memo_get_stats(m, &st);
	ck_assert_uint_eq(st.threads, 2);
	ck_assert_uint_eq(st.frames, a->cap + b->cap); /* room held, not length */
	ck_assert_uint_eq(st.evicted, 0);
	tc_chain_memo_free(m);
	tc_chain_memo_free(NULL);
}
END_TEST

START_TEST(test_length_and_room)
{
	struct tc_chain_memo *m = tc_chain_memo_new();
	struct tc_cm_stats st;
	tc_chain_memo_begin(m);
	struct tc_cm_chain *a = tc_chain_memo_thread(m, 0x1000);
	struct tc_cm_chain *b = tc_chain_memo_thread(m, 0x2000);
	/* the length never passes the room */
	tc_chain_memo_set_len(a, 10);
	ck_assert_uint_eq(a->n, 0);
	remember(m, a, 10);
	tc_chain_memo_set_len(a, a->cap + 5);
	ck_assert_uint_eq(a->n, a->cap);
	tc_chain_memo_set_len(a, 4);
	ck_assert_uint_eq(a->n, 4);
	/* room over all chains is bounded: a chain that does not fit is emptied */
	remember(m, b, 8);
	ck_assert_int_eq(tc_chain_memo_reserve(m, a, TC_CM_MAX_FRAMES / 2), 0);
	tc_chain_memo_get_stats(m, &st);
	ck_assert_uint_le(st.frames, TC_CM_MAX_FRAMES);
	size_t held = st.frames - b->cap;
	ck_assert_int_eq(tc_chain_memo_reserve(m, b, TC_CM_MAX_FRAMES / 2 + 1), -1);
	ck_assert_uint_eq(b->n, 0);
	ck_assert_uint_eq(b->cap, 0);
	ck_assert_ptr_null(b->f);
	tc_chain_memo_get_stats(m, &st);
	ck_assert_uint_eq(st.frames, held); /* b's room given back */
	ck_assert_uint_eq(st.threads, 2);   /* b stays known, unremembered */
	/* more than the bound in one chain: refused, emptied */
	ck_assert_int_eq(tc_chain_memo_reserve(m, a, TC_CM_MAX_FRAMES + 1), -1);
	ck_assert_uint_eq(a->n, 0);
	tc_chain_memo_get_stats(m, &st);
	ck_assert_uint_eq(st.frames, 0);
	/* and the room is usable again */
	remember(m, b, 16);
	ck_assert_uint_eq(b->n, 16);
	tc_chain_memo_free(m);
}
END_TEST

START_TEST(test_idle_and_clear)
{
	struct tc_chain_memo *m = tc_chain_memo_new();
	struct tc_cm_stats st;
	tc_chain_memo_begin(m);
	remember(m, tc_chain_memo_thread(m, 0x1000), 50);
	remember(m, tc_chain_memo_thread(m, 0x2000), 50);
	/* 0x2000 is walked every time, 0x1000 never again: it is dropped within two idle
	 * periods, and its room given back */
	for (int w = 0; w < 2 * TC_CM_IDLE_WALKS + 1; w++) {
		tc_chain_memo_begin(m);
		ck_assert_uint_eq(tc_chain_memo_thread(m, 0x2000)->n, 50);
	}
	tc_chain_memo_get_stats(m, &st);
	ck_assert_uint_eq(st.threads, 1);
	ck_assert_uint_eq(st.evicted, 1);
	ck_assert_uint_eq(st.frames, tc_chain_memo_thread(m, 0x2000)->cap);
	/* back after being dropped: an empty chain */
	ck_assert_uint_eq(tc_chain_memo_thread(m, 0x1000)->n, 0);
	/* not dropped before a whole idle period passed */
	for (int w = 0; w < TC_CM_IDLE_WALKS / 2; w++)
		tc_chain_memo_begin(m);
	tc_chain_memo_get_stats(m, &st);
	ck_assert_uint_eq(st.threads, 2);
	/* clear forgets every chain (code objects were freed) */
	tc_chain_memo_clear(m);
	tc_chain_memo_get_stats(m, &st);
	ck_assert_uint_eq(st.threads, 0);
	ck_assert_uint_eq(st.frames, 0);
	ck_assert_uint_eq(st.evicted, 3);
	ck_assert_uint_eq(tc_chain_memo_thread(m, 0x2000)->n, 0);
	tc_chain_memo_free(m);
}
END_TEST

START_TEST(test_thread_bound_and_counts)
{
	struct tc_chain_memo *m = tc_chain_memo_new();
	struct tc_cm_stats st;
	tc_chain_memo_begin(m);
	for (tc_raddr k = 1; k <= TC_CM_MAX_THREADS; k++)
		ck_assert_ptr_nonnull(tc_chain_memo_thread(m, k * 0x4000));
	ck_assert_ptr_null(tc_chain_memo_thread(m, 0xdead0000)); /* full */
	ck_assert_ptr_nonnull(tc_chain_memo_thread(m, 0x4000));  /* known ones still found */
	tc_chain_memo_get_stats(m, &st);
	ck_assert_uint_eq(st.threads, TC_CM_MAX_THREADS);
	tc_chain_memo_count(m, 10, 3);
	tc_chain_memo_count(m, 5, 0);
	tc_chain_memo_get_stats(m, &st);
	ck_assert_uint_eq(st.taken, 15);
	ck_assert_uint_eq(st.chased, 3);
	tc_chain_memo_clear(m); /* room again */
	ck_assert_ptr_nonnull(tc_chain_memo_thread(m, 0xdead0000));
	tc_chain_memo_get_stats(m, &st);
	ck_assert_uint_eq(st.taken, 15); /* counters are totals: clear keeps them */
	tc_chain_memo_free(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("chain_memo");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_per_thread);
	tcase_add_test(tc, test_length_and_room);
	tcase_add_test(tc, test_idle_and_clear);
	tcase_add_test(tc, test_thread_bound_and_counts);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return tc_test_run(s);
}
