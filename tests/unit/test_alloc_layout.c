/* SPDX-License-Identifier: MIT */
/* Unit tests for layouts/alloc_layout.c: the per-version tables (against the figures gdb
 * prints for the DWARF builds of the test matrix), and the decoders and validators of
 * usedpools, arena objects, pool headers and GC state, on synthetic and corrupted copies. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "layouts/alloc_layout.h"
#include "layouts/version.h"
#include "skip.h"

static void put64(uint8_t *b, size_t off, uint64_t v)
{
	memcpy(b + off, &v, 8);
}

static void put32(uint8_t *b, size_t off, uint32_t v)
{
	memcpy(b + off, &v, 4);
}

static struct tc_alloc_layout get(unsigned minor, unsigned micro, bool debug)
{
	struct tc_alloc_layout l;

	ck_assert_int_eq(tc_alloc_layout_get(TC_PY_HEX(3, minor, micro) | 0xf0, debug, false, &l), 0);
	return l;
}

/* gdb on the DWARF builds: offsetof(PyInterpreterState, gc / obmalloc) */
static const struct {
	unsigned minor, micro;
	bool debug;
	uint32_t pool, arena;
	enum tc_om_home home;
	int32_t interp_obmalloc, interp_gc, gc_generations, gc_stats, gc_collecting;
} expect[] = {
	{9, 18, false, 4096, 262144, TC_OM_STATIC, -1, 0x268, 24, 128, 200},
	{9, 2, true, 4096, 262144, TC_OM_STATIC, -1, 0x268, 24, 128, 200},
	{10, 13, false, 16384, 1048576, TC_OM_STATIC, -1, 0x268, 24, 128, 200},
	{11, 7, false, 16384, 1048576, TC_OM_STATIC, -1, 0x288, 24, 128, 200},
	{11, 2, true, 16384, 1048576, TC_OM_STATIC, -1, 0x288, 24, 128, 200},
	{12, 1, false, 16384, 1048576, TC_OM_INTERP, 0xf78, 0x70, 24, 128, 200},
	{13, 0, false, 16384, 1048576, TC_OM_INTERP_PTR, 0x2a30, 0x1ce8, 24, 128, 200},
	{13, 18, true, 16384, 1048576, TC_OM_INTERP_PTR, 0x2a38, 0x1ce8, 24, 128, 200},
	{14, 10, true, 16384, 1048576, TC_OM_INTERP_PTR, 0x2aa0, 0x1cf0, 24, 120, 192},
	{14, 10, false, 16384, 1048576, TC_OM_INTERP_PTR, 0x2a98, 0x1cf0, 24, 120, 192},
	{15, 2, true, 16384, 1048576, TC_OM_INTERP_PTR, 0x2a88, 0x1ce8, 8, 104, 112},
	{15, 2, false, 16384, 1048576, TC_OM_INTERP_PTR, 0x2a80, 0x1ce8, 8, 104, 112},
};

START_TEST(test_tables)
{
	struct tc_alloc_layout l = get(expect[_i].minor, expect[_i].micro, expect[_i].debug);

	ck_assert_uint_eq(l.pool_size, expect[_i].pool);
	ck_assert_uint_eq(l.arena_size, expect[_i].arena);
	ck_assert_int_eq(l.om_home, expect[_i].home);
	ck_assert_int_eq(l.interp_obmalloc, expect[_i].interp_obmalloc);
	ck_assert_int_eq(l.interp_gc, expect[_i].interp_gc);
	ck_assert_int_eq(l.gc.generations, expect[_i].gc_generations);
	ck_assert_int_eq(l.gc.stats, expect[_i].gc_stats);
	ck_assert_int_eq(l.gc.collecting, expect[_i].gc_collecting);
	ck_assert_ptr_nonnull(l.source);
	if (l.om_home == TC_OM_STATIC) {
		ck_assert_int_eq(l.om.arenas, -1);
		ck_assert_ptr_null(l.om_main_symbol);
	} else {
		/* struct _obmalloc_state is the same 3.12-3.15 (gdb: mgmt.arenas 0x200, ...) */
		ck_assert_int_eq(l.om.usedpools, 0);
		ck_assert_int_eq(l.om.arenas, 0x200);
		ck_assert_int_eq(l.om.maxarenas, 0x208);
		ck_assert_int_eq(l.om.narenas_currently_allocated, 0x428);
		ck_assert_int_eq(l.om.ntimes_arena_allocated, 0x430);
		ck_assert_int_eq(l.om.narenas_highwater, 0x438);
		ck_assert_int_eq(l.om.raw_allocated_blocks, 0x440);
		ck_assert_int_ge(l.om.size, 0x448);
	}
	ck_assert_int_eq(l.gc_stats_model, expect[_i].minor == 15 ? TC_GCS_RING : TC_GCS_ARRAY);
	ck_assert_int_eq(l.gc.generations_alt, expect[_i].minor == 13 ? 20 : -1);
	/* every field read lies inside the bytes read */
	ck_assert_int_le(l.gc.generations + 3 * l.gen_size, l.gc.size);
	ck_assert_int_le(l.gc.collecting + 4, l.gc.size);
	ck_assert_int_le(l.gc.generation0 + 8, l.gc.size);
}
END_TEST

START_TEST(test_refusals)
{
	struct tc_alloc_layout l;

	ck_assert_int_eq(tc_alloc_layout_get(TC_PY_HEX(3, 8, 18), false, false, &l), -TC_EVERSION);
	ck_assert_int_eq(tc_alloc_layout_get(TC_PY_HEX(3, 16, 0), false, false, &l), -TC_EVERSION);
	ck_assert_int_eq(tc_alloc_layout_get(TC_PY_HEX(2, 12, 0), false, false, &l), -TC_EVERSION);
	ck_assert_int_eq(tc_alloc_layout_get(TC_PY_HEX(3, 12, 0), false, false, NULL), -TC_EINVAL);
	/* free-threaded: mimalloc, not covered; the layout says so instead of guessing */
	ck_assert_int_eq(tc_alloc_layout_get(TC_PY_HEX(3, 14, 0), false, true, &l), 0);
	ck_assert_int_eq(l.om_home, TC_OM_NONE);
	ck_assert_int_eq(l.interp_gc, -1);
	ck_assert_int_eq(l.interp_obmalloc, -1);
}
END_TEST

START_TEST(test_blocks_per_pool)
{
	struct tc_alloc_layout l39 = get(9, 2, false), l312 = get(12, 1, false);

	/* _debugmallocstats: NUMBLOCKS = (POOL_SIZE - POOL_OVERHEAD) / INDEX2SIZE */
	ck_assert_uint_eq(tc_alloc_blocks_per_pool(&l312, 0), 1021);
	ck_assert_uint_eq(tc_alloc_blocks_per_pool(&l312, 3), 255);
	ck_assert_uint_eq(tc_alloc_blocks_per_pool(&l312, 31), 31);
	ck_assert_uint_eq(tc_alloc_blocks_per_pool(&l39, 0), 253);
	ck_assert_uint_eq(tc_alloc_blocks_per_pool(&l39, 31), 7);
	ck_assert_uint_eq(tc_alloc_blocks_per_pool(&l312, 32), 0);
	ck_assert_uint_eq(tc_alloc_blocks_per_pool(NULL, 0), 0);
}
END_TEST

#define UP 0x7f0000401000ull /* where the synthetic usedpools lives */

static void usedpools_empty(uint8_t *b)
{
	for (unsigned x = 0; x < 32; x++) {
		put64(b, 16 * x, UP + 16 * x - 16);
		put64(b, 16 * x + 8, UP + 16 * x - 16);
	}
}

START_TEST(test_usedpools)
{
	struct tc_alloc_layout l = get(12, 1, false);
	uint8_t b[512];

	usedpools_empty(b);
	ck_assert_int_eq(tc_alloc_check_usedpools(&l, b, sizeof b, UP), 32);
	/* classes 1 and 3 hold partially used pools */
	put64(b, 16, 0x7f1000004000ull);
	put64(b, 24, 0x7f1000010000ull);
	put64(b, 48, 0x7f1000008000ull);
	put64(b, 56, 0x7f1000008000ull);
	ck_assert_int_eq(tc_alloc_check_usedpools(&l, b, sizeof b, UP), 30);
	/* the same bytes elsewhere are not self-referencing */
	ck_assert_int_eq(tc_alloc_check_usedpools(&l, b, sizeof b, UP + 8), -TC_EINVAL);
	/* corruptions: unaligned pool, NULL, half a pair */
	put64(b, 16, 0x7f1000004010ull);
	ck_assert_int_eq(tc_alloc_check_usedpools(&l, b, sizeof b, UP), -TC_EINVAL);
	usedpools_empty(b);
	put64(b, 80, 0);
	ck_assert_int_eq(tc_alloc_check_usedpools(&l, b, sizeof b, UP), -TC_EINVAL);
	usedpools_empty(b);
	put64(b, 88, 0x7f1000004000ull);
	ck_assert_int_eq(tc_alloc_check_usedpools(&l, b, sizeof b, UP), -TC_EINVAL);
	/* all zero (an uninitialized region), short buffer */
	memset(b, 0, sizeof b);
	ck_assert_int_eq(tc_alloc_check_usedpools(&l, b, sizeof b, UP), -TC_EINVAL);
	usedpools_empty(b);
	ck_assert_int_eq(tc_alloc_check_usedpools(&l, b, 256, UP), -TC_EINVAL);
}
END_TEST

static void arena(uint8_t *b, uint64_t address, uint64_t pool_address, uint32_t nfree,
		  uint32_t ntotal)
{
	memset(b, 0, TC_OM_ARENA_OBJECT_SIZE);
	put64(b, 0, address);
	put64(b, 8, pool_address);
	put32(b, 16, nfree);
	put32(b, 20, ntotal);
}

START_TEST(test_arena_objects)
{
	struct tc_alloc_layout l = get(12, 1, false), l39 = get(9, 2, false);
	const uint64_t A = 0x7f2000000000ull, P = 16384;
	struct tc_arena ar;
	uint8_t b[48];

	arena(b, 0, 0x1234, 7, 9); /* unused slot: the rest is leftover */
	ck_assert_int_eq(tc_alloc_decode_arena(&l, b, &ar), 0);
	/* pool-aligned arena, 10 pools carved */
	arena(b, A, A + 10 * P, 54, 64);
	ck_assert_int_eq(tc_alloc_decode_arena(&l, b, &ar), 1);
	ck_assert_uint_eq(ar.first_pool, A);
	ck_assert_uint_eq(ar.npools, 10);
	ck_assert_uint_eq(ar.nfreepools, 54);
	/* mmap gave a page-aligned arena: pools start at the next pool boundary, 63 of them */
	arena(b, A + 4096, A + P + 5 * P, 58, 63);
	ck_assert_int_eq(tc_alloc_decode_arena(&l, b, &ar), 1);
	ck_assert_uint_eq(ar.first_pool, A + P);
	ck_assert_uint_eq(ar.npools, 5);
	/* every pool carved */
	arena(b, A, A + 64 * P, 0, 64);
	ck_assert_int_eq(tc_alloc_decode_arena(&l, b, &ar), 1);
	ck_assert_uint_eq(ar.npools, 64);
	/* 3.9 geometry */
	arena(b, A, A + 3 * 4096, 61, 64);
	ck_assert_int_eq(tc_alloc_decode_arena(&l39, b, &ar), 1);
	ck_assert_uint_eq(ar.npools, 3);

	/* corrupted */
	arena(b, A, A - P, 0, 64); /* pool_address before the arena */
	ck_assert_int_eq(tc_alloc_decode_arena(&l, b, &ar), -TC_ECORRUPT);
	arena(b, A, A + 65 * P, 0, 64); /* past its end */
	ck_assert_int_eq(tc_alloc_decode_arena(&l, b, &ar), -TC_ECORRUPT);
	arena(b, A, A + 10 * P + 8, 54, 64); /* not on a pool boundary */
	ck_assert_int_eq(tc_alloc_decode_arena(&l, b, &ar), -TC_ECORRUPT);
	arena(b, A, A + 10 * P, 65, 64); /* more free than total */
	ck_assert_int_eq(tc_alloc_decode_arena(&l, b, &ar), -TC_ECORRUPT);
	arena(b, A, A + 10 * P, 0, 1000); /* total beyond ARENA_SIZE / POOL_SIZE */
	ck_assert_int_eq(tc_alloc_decode_arena(&l, b, &ar), -TC_ECORRUPT);
	arena(b, A, A + 10 * P, 0, 12); /* far fewer than an arena holds */
	ck_assert_int_eq(tc_alloc_decode_arena(&l, b, &ar), -TC_ECORRUPT);
	arena(b, UINT64_MAX - 4096, UINT64_MAX, 0, 64); /* wraps */
	ck_assert_int_eq(tc_alloc_decode_arena(&l, b, &ar), -TC_ECORRUPT);
}
END_TEST

static void pool(uint8_t *b, uint32_t count, uint32_t arenaindex, uint32_t szidx)
{
	memset(b, 0xa5, 48);
	put32(b, 0, count);
	put32(b, 4, 0); /* upper half of the ref union */
	put32(b, 32, arenaindex);
	put32(b, 36, szidx);
}

START_TEST(test_pool_headers)
{
	struct tc_alloc_layout l = get(13, 0, false);
	uint32_t sz = 99, count = 99;
	uint8_t b[48];

	pool(b, 0, 3, 5); /* empty: on the arena's free list */
	ck_assert_int_eq(tc_alloc_decode_pool(&l, b, 3, &sz, &count), 0);
	pool(b, 100, 3, 5);
	ck_assert_int_eq(tc_alloc_decode_pool(&l, b, 3, &sz, &count), 1);
	ck_assert_uint_eq(sz, 5);
	ck_assert_uint_eq(count, 100);
	pool(b, 1021, 0, 0); /* full pool of the smallest class */
	ck_assert_int_eq(tc_alloc_decode_pool(&l, b, 0, &sz, &count), 1);
	pool(b, 1022, 0, 0); /* one block too many */
	ck_assert_int_eq(tc_alloc_decode_pool(&l, b, 0, &sz, &count), -TC_ECORRUPT);
	pool(b, 1, 0, 32); /* no such class */
	ck_assert_int_eq(tc_alloc_decode_pool(&l, b, 0, &sz, &count), -TC_ECORRUPT);
	pool(b, 1, 7, 2); /* another arena's pool: stale or garbage */
	ck_assert_int_eq(tc_alloc_decode_pool(&l, b, 6, &sz, &count), -TC_ECORRUPT);
	pool(b, 0xffffffff, 0, 0);
	ck_assert_int_eq(tc_alloc_decode_pool(&l, b, 0, &sz, &count), -TC_ECORRUPT);
}
END_TEST

#define GCA 0x7f3000001000ull

/* A GC state copy for layout L: thresholds 700/10/10, counts 5/1/0, records. */
static void gc_state(const struct tc_alloc_layout *l, uint8_t *b, size_t len)
{
	static const int thr[3] = {700, 10, 10}, cnt[3] = {5, 1, 0};

	memset(b, 0, len);
	put32(b, (size_t)l->gc.enabled, 1);
	for (int i = 0; i < 3; i++) {
		size_t g = (size_t)(l->gc.generations + i * l->gen_size);

		put64(b, g, GCA + g); /* empty list head: points at itself */
		put64(b, g + 8, GCA + g);
		put32(b, g + 16, (uint32_t)thr[i]);
		put32(b, g + 20, (uint32_t)cnt[i]);
		if (l->gc_stats_model == TC_GCS_ARRAY) {
			size_t r = (size_t)(l->gc.stats + i * l->rec_size);

			put64(b, r, 10u - (unsigned)i);
			put64(b, r + 8, 100u * (unsigned)i);
			put64(b, r + 16, (unsigned)i);
		}
	}
	put64(b, (size_t)l->gc.generation0, GCA + (uint64_t)l->gc.generations);
}

START_TEST(test_gc_array)
{
	struct tc_alloc_layout l = get(_i ? 14 : 11, _i ? 10 : 7, false);
	uint8_t b[512];
	struct tc_gc_rec r;
	struct tc_gc_gen_raw g;

	gc_state(&l, b, sizeof b);
	ck_assert(tc_alloc_gc_plausible(&l, b, GCA));
	tc_alloc_gc_generation(&l, b, 0, &g);
	ck_assert_int_eq(g.threshold, 700);
	ck_assert_int_eq(g.count, 5);
	tc_alloc_gc_generation(&l, b, 2, &g);
	ck_assert_int_eq(g.threshold, 10);
	ck_assert_int_eq(tc_alloc_gc_record(&l, b, sizeof b, 1, &r), 0);
	ck_assert_int_eq(r.collections, 9);
	ck_assert_int_eq(r.collected, 100);
	ck_assert_int_eq(r.uncollectable, 1);
	ck_assert_int_eq(tc_alloc_gc_record(&l, b, sizeof b, 3, &r), -TC_EINVAL);
	/* the same bytes at another address: generation0 does not point into them */
	ck_assert(!tc_alloc_gc_plausible(&l, b, GCA + 8));
	/* corruptions */
	put32(b, (size_t)l.gc.enabled, 2);
	ck_assert(!tc_alloc_gc_plausible(&l, b, GCA));
	gc_state(&l, b, sizeof b);
	put32(b, (size_t)(l.gc.generations + 16), 0xffffffff); /* threshold -1 */
	ck_assert(!tc_alloc_gc_plausible(&l, b, GCA));
	gc_state(&l, b, sizeof b);
	put64(b, (size_t)(l.gc.stats + 8), (uint64_t)-5); /* collected < 0 */
	ck_assert_int_eq(tc_alloc_gc_record(&l, b, sizeof b, 0, &r), -TC_ECORRUPT);
}
END_TEST

START_TEST(test_gc_ring)
{
	struct tc_alloc_layout l = get(15, 2, false);
	uint8_t st[1120], b[512];
	struct tc_gc_rec r;

	gc_state(&l, b, sizeof b);
	ck_assert(tc_alloc_gc_plausible(&l, b, GCA));
	memset(st, 0, sizeof st);
	/* young ring at index 4, old[0] at 2, old[1] at 0; stale records elsewhere */
	for (int i = 0; i < 11; i++)
		put64(st, (size_t)i * 64 + 16, 1000 + (unsigned)i);
	st[704] = 4;
	put64(st, 4 * 64 + 24, 77);
	put64(st, 712 + 2 * 64 + 16, 31);
	put64(st, 712 + 2 * 64 + 32, 2);
	st[712 + 192] = 2;
	put64(st, 912 + 16, 3);
	st[912 + 192] = 0;
	ck_assert_int_eq(tc_alloc_gc_record(&l, st, sizeof st, 0, &r), 0);
	ck_assert_int_eq(r.collections, 1004);
	ck_assert_int_eq(r.collected, 77);
	ck_assert_int_eq(tc_alloc_gc_record(&l, st, sizeof st, 1, &r), 0);
	ck_assert_int_eq(r.collections, 31);
	ck_assert_int_eq(r.uncollectable, 2);
	ck_assert_int_eq(tc_alloc_gc_record(&l, st, sizeof st, 2, &r), 0);
	ck_assert_int_eq(r.collections, 3);
	/* indices out of their rings, short copy */
	st[704] = 11;
	ck_assert_int_eq(tc_alloc_gc_record(&l, st, sizeof st, 0, &r), -TC_ECORRUPT);
	st[704] = 0x80; /* int8_t -128 */
	ck_assert_int_eq(tc_alloc_gc_record(&l, st, sizeof st, 0, &r), -TC_ECORRUPT);
	st[912 + 192] = 3;
	ck_assert_int_eq(tc_alloc_gc_record(&l, st, sizeof st, 2, &r), -TC_ECORRUPT);
	ck_assert_int_eq(tc_alloc_gc_record(&l, st, 1000, 1, &r), -TC_EINVAL);
}
END_TEST

static Suite *alloc_layout_suite(void)
{
	Suite *s = suite_create("alloc_layout");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_tables, 0, (int)TC_ARRAY_LEN(expect));
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_blocks_per_pool);
	tcase_add_test(tc, test_usedpools);
	tcase_add_test(tc, test_arena_objects);
	tcase_add_test(tc, test_pool_headers);
	tcase_add_loop_test(tc, test_gc_array, 0, 2);
	tcase_add_test(tc, test_gc_ring);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tc_test_run(alloc_layout_suite());
}
