/* SPDX-License-Identifier: MIT */
/* reader/prefetch: learned batched reads, over the image backend. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "reader/prefetch.h"
#include "skip.h"

static uint8_t mem_a[64 * 1024], mem_b[4096];
#define A 0x100000ull
#define B 0x900000ull

static struct tc_remote *open_image(void)
{
	struct tc_region regs[] = {{A, mem_a, sizeof mem_a}, {B, mem_b, sizeof mem_b}};
	struct tc_remote *r;
	ck_assert_int_eq(tc_remote_open_image(regs, 2, &r), 0);
	for (size_t i = 0; i < sizeof mem_a; i++)
		mem_a[i] = (uint8_t)(i * 7);
	for (size_t i = 0; i < sizeof mem_b; i++)
		mem_b[i] = (uint8_t)(i * 3 + 1);
	return r;
}

static uint64_t syscalls(struct tc_remote *r)
{
	struct tc_remote_stats st;
	tc_remote_get_stats(r, &st);
	return st.reads;
}

/* the same three reads in three walks: the second and third are served from one batch; in
 * the first, a miss reads its whole page, which serves the second read of A */
START_TEST(test_learns_and_batches)
{
	struct tc_remote *r = open_image();
	struct tc_prefetch *p;
	ck_assert_int_eq(tc_prefetch_new(r, 0, 0, &p), 0);
	uint8_t buf[64];
	for (int walk = 0; walk < 3; walk++) {
		uint64_t before = syscalls(r);
		ck_assert_int_eq(tc_prefetch_begin(p), 0);
		ck_assert_int_eq(tc_prefetch_read(p, A + 100, buf, 16), 0);
		ck_assert_mem_eq(buf, mem_a + 100, 16);
		ck_assert_int_eq(tc_prefetch_read(p, A + 300, buf, 8), 0);
		ck_assert_mem_eq(buf, mem_a + 300, 8);
		ck_assert_int_eq(tc_prefetch_read(p, B + 8, buf, 32), 0);
		ck_assert_mem_eq(buf, mem_b + 8, 32);
		tc_prefetch_end(p);
		uint64_t ranges = syscalls(r) - before;
		/* walk 0: two page reads; later: one batch of two ranges (A's reads merge) */
		ck_assert_uint_eq(ranges, 2);
	}
	struct tc_prefetch_stats st;
	tc_prefetch_get_stats(p, &st);
	ck_assert_uint_eq(st.misses, 2);
	ck_assert_uint_eq(st.hits, 7);
	tc_prefetch_free(p);
	tc_remote_free(r);
}
END_TEST

/* data that changed between walks is what the next walk sees: nothing is kept */
START_TEST(test_never_stale)
{
	struct tc_remote *r = open_image();
	struct tc_prefetch *p;
	ck_assert_int_eq(tc_prefetch_new(r, 0, 0, &p), 0);
	uint64_t v;
	for (uint64_t walk = 0; walk < 5; walk++) {
		memcpy(mem_a + 1000, &walk, sizeof walk);
		ck_assert_int_eq(tc_prefetch_begin(p), 0);
		ck_assert_int_eq(tc_prefetch_read(p, A + 1000, &v, sizeof v), 0);
		ck_assert_uint_eq(v, walk);
		tc_prefetch_end(p);
	}
	tc_prefetch_free(p);
	tc_remote_free(r);
}
END_TEST

/* far apart ranges stay separate; a range read only in part keeps its margin for the rest of
 * its window, then shrinks to the part used; a range not read at all is fetched for a while
 * (the data may come back), then dropped */
START_TEST(test_merge_and_shrink)
{
	struct tc_remote *r = open_image();
	struct tc_prefetch *p;
	struct tc_prefetch_stats st0, st1;
	ck_assert_int_eq(tc_prefetch_new(r, 0, 0, &p), 0);
	uint8_t buf[128];
	/* walk 1 (warm-up: misses read whole pages), walk 2: reads 0..128 and 40000..40128 of
	 * A, served from the batch the first learned (gap > 8 KiB: two ranges) */
	for (int w = 0; w < 2; w++) {
		tc_prefetch_begin(p);
		tc_prefetch_read(p, A, buf, 128);
		tc_prefetch_read(p, A + 40000, buf, 128);
		tc_prefetch_end(p);
	}
	tc_prefetch_get_stats(p, &st0);
	tc_prefetch_begin(p); /* batch: 2 ranges, 256 bytes */
	tc_prefetch_get_stats(p, &st1);
	ck_assert_uint_eq(st1.batch_ranges - st0.batch_ranges, 2);
	ck_assert_uint_eq(st1.batch_bytes - st0.batch_bytes, 256);
	/* from now on only 16 bytes of the first range are used */
	uint64_t prev_bytes = 256;
	for (int w = 0; w < 2 * TC_PREFETCH_WINDOW + 4; w++) {
		ck_assert_int_eq(tc_prefetch_read(p, A + 32, buf, 16), 0);
		ck_assert_mem_eq(buf, mem_a + 32, 16);
		tc_prefetch_end(p);
		tc_prefetch_get_stats(p, &st0);
		tc_prefetch_begin(p);
		tc_prefetch_get_stats(p, &st1);
		uint64_t ranges = st1.batch_ranges - st0.batch_ranges;
		uint64_t bytes = st1.batch_bytes - st0.batch_bytes;
		ck_assert_uint_le(bytes, prev_bytes); /* never grows */
		prev_bytes = bytes;
		if (w < 10)
			ck_assert_uint_eq(ranges, 2); /* the idle range is still fetched */
		if (w >= 20)
			ck_assert_uint_eq(ranges, 1);
		if (w >= 20 && w < TC_PREFETCH_WINDOW - 4)
			ck_assert_uint_eq(bytes, 128); /* the window still runs */
		if (w >= 2 * TC_PREFETCH_WINDOW)
			ck_assert_uint_eq(bytes, 16);
	}
	tc_prefetch_end(p);
	tc_prefetch_free(p);
	tc_remote_free(r);
}
END_TEST

/* a window onto the batch: bytes in place, its bounds, and the marked part is learned */
START_TEST(test_window)
{
	struct tc_remote *r = open_image();
	struct tc_prefetch *p;
	struct tc_prefetch_stats st0, st1;
	uint8_t buf[64];
	tc_raddr lo, hi;
	ck_assert_int_eq(tc_prefetch_new(r, 0, 0, &p), 0);
	tc_prefetch_begin(p);
	ck_assert_int_eq(tc_prefetch_read(p, A + 1000, buf, 64), 0);
	ck_assert_int_eq(tc_prefetch_read(p, A + 3000, buf, 64), 0);
	tc_prefetch_end(p);
	tc_prefetch_begin(p); /* batch: A+1000 .. A+3064 */
	ck_assert_ptr_null(tc_prefetch_window(p, B, 8, &lo, &hi));
	const uint8_t *w = tc_prefetch_window(p, A + 1000, 64, &lo, &hi);
	ck_assert_ptr_nonnull(w);
	ck_assert_uint_eq(lo, A + 1000);
	ck_assert_uint_eq(hi, A + 3064);
	ck_assert_mem_eq(w, mem_a + 1000, 64);
	ck_assert_mem_eq(w + 2000, mem_a + 3000, 64); /* the rest of the window, in place */
	/* only 1000..1064 and 2000..2064 were used (marked): the far end goes when the window
	 * ends */
	tc_prefetch_mark(p, A + 2000, A + 2064, 1);
	for (int k = 0; k < 2 * TC_PREFETCH_WINDOW + 2; k++) {
		tc_prefetch_end(p);
		tc_prefetch_get_stats(p, &st0);
		tc_prefetch_begin(p);
		tc_prefetch_get_stats(p, &st1);
		ck_assert_ptr_nonnull(tc_prefetch_window(p, A + 1000, 64, &lo, &hi));
		tc_prefetch_mark(p, A + 2000, A + 2064, 1);
	}
	ck_assert_uint_eq(st1.batch_bytes - st0.batch_bytes, 1064);
	tc_prefetch_end(p);
	tc_prefetch_free(p);
	tc_remote_free(r);
}
END_TEST

/* a field read by every other walk at the end of a range stays in the batch: no walk misses
 * (a margin that shrank each walk it went unused cost every other walk a syscall) */
START_TEST(test_alternating_tail)
{
	struct tc_remote *r = open_image();
	struct tc_prefetch *p;
	struct tc_prefetch_stats st0, st1;
	uint8_t buf[64];
	ck_assert_int_eq(tc_prefetch_new(r, 0, 0, &p), 0);
	for (int w = 0; w < 2; w++) { /* warm-up: learn 0..256 and the tail 900..964 */
		tc_prefetch_begin(p);
		tc_prefetch_read(p, A + 0, buf, 64);
		tc_prefetch_read(p, A + 192, buf, 64);
		tc_prefetch_read(p, A + 900, buf, 64);
		tc_prefetch_end(p);
	}
	tc_prefetch_get_stats(p, &st0);
	for (int w = 0; w < 4 * TC_PREFETCH_WINDOW; w++) {
		tc_prefetch_begin(p);
		ck_assert_int_eq(tc_prefetch_read(p, A + 0, buf, 64), 0);
		ck_assert_int_eq(tc_prefetch_read(p, A + 192, buf, 64), 0);
		if (w % 2) {
			ck_assert_int_eq(tc_prefetch_read(p, A + 900, buf, 64), 0);
			ck_assert_mem_eq(buf, mem_a + 900, 64);
		}
		tc_prefetch_end(p);
	}
	tc_prefetch_get_stats(p, &st1);
	ck_assert_uint_eq(st1.misses - st0.misses, 0);
	tc_prefetch_free(p);
	tc_remote_free(r);
}
END_TEST

/* misses of a walk found torn are not learned: the next batch does not fetch them */
START_TEST(test_discard_misses)
{
	struct tc_remote *r = open_image();
	struct tc_prefetch *p;
	struct tc_prefetch_stats st0, st1;
	uint8_t buf[64];
	ck_assert_int_eq(tc_prefetch_new(r, 0, 0, &p), 0);
	tc_prefetch_begin(p);
	ck_assert_int_eq(tc_prefetch_read(p, A + 100, buf, 64), 0);
	tc_prefetch_end(p);
	tc_prefetch_begin(p); /* batch: A+100 */
	ck_assert_int_eq(tc_prefetch_read(p, A + 100, buf, 64), 0);
	ck_assert_int_eq(tc_prefetch_read(p, B + 64, buf, 64), 0); /* a miss ... */
	tc_prefetch_discard_misses(p);                              /* ... of a torn walk */
	tc_prefetch_end(p);
	tc_prefetch_get_stats(p, &st0);
	tc_prefetch_begin(p);
	tc_prefetch_get_stats(p, &st1);
	ck_assert_uint_eq(st1.batch_ranges - st0.batch_ranges, 1);
	ck_assert_uint_eq(st1.batch_bytes - st0.batch_bytes, 64);
	tc_prefetch_end(p);
	tc_prefetch_free(p);
	tc_remote_free(r);
}
END_TEST

/* the byte bound holds whatever a walk reads */
START_TEST(test_bounded)
{
	struct tc_remote *r = open_image();
	struct tc_prefetch *p;
	struct tc_prefetch_stats st0, st1;
	ck_assert_int_eq(tc_prefetch_new(r, 4, 1000, &p), 0);
	uint8_t buf[600];
	tc_prefetch_begin(p);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(tc_prefetch_read(p, A + (tc_raddr)i * 20000 % 60000, buf, 600), 0);
	tc_prefetch_end(p);
	tc_prefetch_get_stats(p, &st0);
	tc_prefetch_begin(p);
	tc_prefetch_get_stats(p, &st1);
	ck_assert_uint_le(st1.batch_ranges - st0.batch_ranges, 4);
	ck_assert_uint_le(st1.batch_bytes - st0.batch_bytes, 1000);
	tc_prefetch_end(p);
	tc_prefetch_free(p);
	tc_remote_free(r);
}
END_TEST

/* a read outside every region fails as in a live target and is not learned */
START_TEST(test_fault_not_learned)
{
	struct tc_remote *r = open_image();
	struct tc_prefetch *p;
	ck_assert_int_eq(tc_prefetch_new(r, 0, 0, &p), 0);
	uint8_t buf[8];
	tc_prefetch_begin(p);
	ck_assert_int_eq(tc_prefetch_read(p, 0x5000000, buf, 8), -TC_EFAULT);
	ck_assert_int_eq(tc_prefetch_read(p, A + sizeof mem_a - 4, buf, 8), -TC_EFAULT);
	tc_prefetch_end(p);
	uint64_t before = syscalls(r);
	ck_assert_int_eq(tc_prefetch_begin(p), 0);
	ck_assert_uint_eq(syscalls(r), before); /* empty batch: nothing read */
	tc_prefetch_end(p);
	tc_prefetch_free(p);
	tc_remote_free(r);
}
END_TEST

/* two mappings one page apart: a merge across the hole fails once, then is never made again */
START_TEST(test_hole_not_bridged)
{
	static uint8_t lo[4096], hi[4096];
	const tc_raddr L = 0x200000, H = 0x202000; /* gap: the page at 0x201000 */
	struct tc_region regs[] = {{L, lo, sizeof lo}, {H, hi, sizeof hi}};
	struct tc_remote *r;
	struct tc_prefetch *p;
	struct tc_prefetch_stats st;
	ck_assert_int_eq(tc_remote_open_image(regs, 2, &r), 0);
	ck_assert_int_eq(tc_prefetch_new(r, 0, 0, &p), 0);
	memset(lo, 0x11, sizeof lo);
	memset(hi, 0x22, sizeof hi);
	uint8_t b[16];
	for (int walk = 0; walk < 6; walk++) {
		ck_assert_int_eq(tc_prefetch_begin(p), 0);
		ck_assert_int_eq(tc_prefetch_read(p, L + 4000, b, 16), 0);
		ck_assert_uint_eq(b[0], 0x11);
		ck_assert_int_eq(tc_prefetch_read(p, H + 16, b, 16), 0);
		ck_assert_uint_eq(b[0], 0x22);
		tc_prefetch_end(p);
	}
	tc_prefetch_get_stats(p, &st);
	ck_assert_uint_le(st.batch_failures, 1); /* the first merged batch, never again */
	ck_assert_uint_le(st.misses, 4);         /* walk 0, and the walk whose batch failed */
	tc_prefetch_free(p);
	tc_remote_free(r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("prefetch");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_learns_and_batches);
	tcase_add_test(tc, test_never_stale);
	tcase_add_test(tc, test_merge_and_shrink);
	tcase_add_test(tc, test_alternating_tail);
	tcase_add_test(tc, test_discard_misses);
	tcase_add_test(tc, test_bounded);
	tcase_add_test(tc, test_window);
	tcase_add_test(tc, test_fault_not_learned);
	tcase_add_test(tc, test_hole_not_bridged);
	suite_add_tcase(s, tc);
	return tc_test_run(s);
}
