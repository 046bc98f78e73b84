/* SPDX-License-Identifier: MIT */
/* reader/page_cache: each page read once, across page boundaries, bounded, O(live) clear,
 * and a request next to an unmapped page still reads. Over the image backend. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "reader/page_cache.h"
#include "skip.h"

static uint8_t mem[8 * 4096], lone[4096];
#define A 0x100000ull   /* 8 pages */
#define L 0x200800ull   /* half a page, then unmapped */

static struct tc_remote *open_image(void)
{
	struct tc_region regs[] = {{A, mem, sizeof mem}, {L, lone, 2048}};
	struct tc_remote *r;
	ck_assert_int_eq(tc_remote_open_image(regs, 2, &r), 0);
	for (size_t i = 0; i < sizeof mem; i++)
		mem[i] = (uint8_t)(i * 13 + 5);
	for (size_t i = 0; i < sizeof lone; i++)
		lone[i] = (uint8_t)i;
	return r;
}

static uint64_t ranges(struct tc_remote *r)
{
	struct tc_remote_stats st;
	tc_remote_get_stats(r, &st);
	return st.reads;
}

START_TEST(test_reads_each_page_once)
{
	struct tc_remote *r = open_image();
	struct tc_page_cache *pc;
	struct tc_page_cache_stats st;
	uint8_t b[6000];
	ck_assert_int_eq(tc_page_cache_new(r, 0, &pc), 0);
	ck_assert_int_eq(tc_page_cache_read(pc, A + 100, b, 16), 0);
	ck_assert_mem_eq(b, mem + 100, 16);
	uint64_t n = ranges(r);
	ck_assert_int_eq(tc_page_cache_read(pc, A + 3000, b, 64), 0); /* same page */
	ck_assert_mem_eq(b, mem + 3000, 64);
	ck_assert_uint_eq(ranges(r), n);
	/* across three pages, one of them held: two fetched */
	ck_assert_int_eq(tc_page_cache_read(pc, A + 4000, b, 6000), 0);
	ck_assert_mem_eq(b, mem + 4000, 6000);
	ck_assert_uint_eq(ranges(r), n + 2);
	tc_page_cache_get_stats(pc, &st);
	ck_assert_uint_eq(st.fetches, 3);
	ck_assert_uint_eq(st.pages, 3);
	/* after a clear the data is read again (it may have changed) */
	mem[120] ^= 0xff;
	tc_page_cache_clear(pc);
	ck_assert_int_eq(tc_page_cache_read(pc, A + 120, b, 1), 0);
	ck_assert_uint_eq(b[0], mem[120]);
	tc_page_cache_get_stats(pc, &st);
	ck_assert_uint_eq(st.pages, 1);
	tc_page_cache_free(pc);
	tc_remote_free(r);
}
END_TEST

START_TEST(test_bounded_and_edges)
{
	struct tc_remote *r = open_image();
	struct tc_page_cache *pc;
	struct tc_page_cache_stats st;
	uint8_t b[64];
	ck_assert_int_eq(tc_page_cache_new(r, 4, &pc), 0);
	for (int k = 0; k < 8; k++) {
		ck_assert_int_eq(tc_page_cache_read(pc, A + (tc_raddr)k * 4096 + 8, b, 8), 0);
		ck_assert_mem_eq(b, mem + k * 4096 + 8, 8);
		tc_page_cache_get_stats(pc, &st);
		ck_assert_uint_le(st.pages, 4);
	}
	/* the page of L is only half mapped: the page read fails, the request still reads */
	ck_assert_int_eq(tc_page_cache_read(pc, L + 10, b, 32), 0);
	ck_assert_mem_eq(b, lone + 10, 32);
	/* unmapped: fails like the remote read */
	ck_assert_int_eq(tc_page_cache_read(pc, 0x900000, b, 8), -TC_EFAULT);
	tc_page_cache_get_stats(pc, &st);
	ck_assert_uint_ge(st.direct, 1);
	tc_page_cache_free(pc);
	tc_remote_free(r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("page_cache");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_reads_each_page_once);
	tcase_add_test(tc, test_bounded_and_edges);
	suite_add_tcase(s, tc);
	return tc_test_run(s);
}
