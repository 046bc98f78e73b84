/* SPDX-License-Identifier: MIT */
/* Unit tests for daemon/alloc.c and daemon/alloc_gc.c: summaries and full walks of synthetic
 * pymalloc heaps served by the image backend of reader/remote.c (arena array, arenas with pool
 * headers, counters, GC state; 3.12 and 3.15 layouts, 3.9 geometry), including corrupted arena
 * objects and pool headers, an arena freed while being read, an arena array that never reads
 * consistently, a build without the lifetime counters, and the JSON built from the result.
 * Also the decoding of a real stripped _Py_GetAllocatedBlocks. */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/alloc.h"
#include "daemon/alloc_monitor.h"
#include "layouts/alloc_layout.h"
#include "layouts/version.h"
#include "reader/remote.h"
#include "skip.h"

/* Debian bookworm 3.11.2 python3.11 (stripped, ET_EXEC): _Py_GetAllocatedBlocks at 0x6cd8e0 */
static const uint8_t deb311[] = {
	0x48, 0x8b, 0x15, 0x99, 0x15, 0x3b, 0x00, 0x44, 0x8b, 0x0d, 0x0a, 0x18, 0x3f, 0x00, 0x45, 0x31,
	0xc0, 0x48, 0x8b, 0x3d, 0x10, 0x18, 0x3f, 0x00, 0x45, 0x39, 0xc1, 0x74, 0x34, 0x48, 0x8b, 0x07,
	0x48, 0x85, 0xc0, 0x74, 0x22, 0x48, 0x05, 0xff, 0x3f, 0x00, 0x00, 0x48, 0x8b, 0x77, 0x08, 0x48,
	0x25, 0x00, 0xc0, 0xff, 0xff, 0xeb, 0x0b, 0x8b, 0x08, 0x48, 0x05, 0x00, 0x40, 0x00, 0x00, 0x48,
	0x01, 0xca, 0x48, 0x39, 0xf0, 0x72, 0xf0, 0x41, 0x83, 0xc0, 0x01, 0x48, 0x83, 0xc7, 0x30, 0xeb,
	0xc7, 0x48, 0x89, 0xd0, 0xc3, 0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x51, 0x31, 0xf6, 0xe8, 0xb8, 0x55, 0xe4, 0xff, 0x48, 0x85, 0xc0, 0x74, 0x04, 0x48, 0x83, 0x00,
	0x01, 0x5a, 0xc3, 0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00, 0x66, 0x90};
#define DEB311_PC 0x6cd8e0ull

#define STATE 0x7f0000010000ull   /* counters (a 3.12 _obmalloc_state), GC state after */
#define GCSTATE 0x7f0000020000ull
#define RING 0x7f0000030000ull
#define ARRAY 0x7f0000040000ull   /* struct arena_object[NARENAS] */
#define HEAP 0x7f1000000000ull    /* arena i at HEAP + i * 2 MiB */
#define NARENAS 16

static void put64(uint8_t *b, size_t off, uint64_t v)
{
	memcpy(b + off, &v, 8);
}

static void put32(uint8_t *b, size_t off, uint32_t v)
{
	memcpy(b + off, &v, 4);
}

/* A synthetic target: regions and their host buffers. */
struct img {
	struct tc_alloc_layout l;
	uint8_t state[2048], gc[512], ring[1120], array[NARENAS * 48];
	uint8_t *arena[NARENAS];  /* host copy of each live arena (l.arena_size bytes) */
	bool mapped[NARENAS];     /* arena memory present in the image */
	uint64_t addr[NARENAS];   /* arena_object.address */
	uint32_t maxarenas;
	struct tc_remote *mem;
	struct tc_alloc *a;
};

static struct img *img_new(unsigned minor)
{
	struct img *m = calloc(1, sizeof *m);

	ck_assert_int_eq(tc_alloc_layout_get(TC_PY_HEX(3, minor, 1) | 0xf0, false, false, &m->l), 0);
	m->maxarenas = NARENAS;
	return m;
}

/* Arena I: live at HEAP + i*2MiB + SKEW (SKEW 4096: not pool-aligned), NPOOLS carved pools,
 * NFREE of its pools free. */
static uint8_t *add_arena(struct img *m, int i, uint64_t skew, uint32_t npools, uint32_t nfree)
{
	uint32_t P = m->l.pool_size, max = m->l.arena_size / P;
	uint64_t address = HEAP + (uint64_t)i * 2 * 1024 * 1024 + skew;
	uint64_t first = (address + P - 1) & ~(uint64_t)(P - 1);
	uint32_t total = first == address ? max : max - 1;
	uint8_t *ao = m->array + i * 48;

	m->arena[i] = calloc(1, m->l.arena_size);
	m->mapped[i] = true;
	m->addr[i] = address;
	put64(ao, 0, address);
	put64(ao, 8, first + (uint64_t)npools * P);
	put32(ao, 16, nfree);
	put32(ao, 20, total);
	return m->arena[i] + (first - address);
}

/* Pool J of an arena's carved pools (FIRST from add_arena). */
static void set_pool(struct img *m, uint8_t *first, int arenaindex, uint32_t j, uint32_t szidx,
		     uint32_t count)
{
	uint8_t *p = first + (size_t)j * m->l.pool_size;

	put32(p, 0, count);
	put32(p, 32, (uint32_t)arenaindex);
	put32(p, 36, szidx);
}

static void set_counters(struct img *m, uint64_t raw, uint64_t ntimes, uint64_t highwater)
{
	put64(m->state, 512, ARRAY);
	put32(m->state, 520, m->maxarenas);
	put64(m->state, 1072, ntimes);
	put64(m->state, 1080, highwater);
	put64(m->state, 1088, raw);
}

/* GC state: thresholds 700/10/10, counts 3/2/1, records {5+i, 50*i, i}; 3.15 via the ring. */
static void set_gc(struct img *m)
{
	const struct tc_alloc_layout *l = &m->l;

	put32(m->gc, (size_t)l->gc.enabled, 1);
	for (int i = 0; i < 3; i++) {
		size_t g = (size_t)(l->gc.generations + i * l->gen_size);

		put64(m->gc, g, GCSTATE + g);
		put64(m->gc, g + 8, GCSTATE + g);
		put32(m->gc, g + 16, i ? 10 : 700);
		put32(m->gc, g + 20, 3u - (unsigned)i);
	}
	put64(m->gc, (size_t)l->gc.generation0, GCSTATE + (uint64_t)l->gc.generations);
	if (l->gc_stats_model == TC_GCS_RING) {
		put64(m->gc, (size_t)l->gc.stats, RING);
		m->ring[704] = 6;
		m->ring[712 + 192] = 1;
		m->ring[912 + 192] = 2;
	}
	for (int i = 0; i < 3; i++) {
		uint8_t *b = m->gc;
		size_t r = (size_t)(l->gc.stats + i * l->rec_size);

		if (l->gc_stats_model == TC_GCS_RING) {
			b = m->ring;
			r = i == 0 ? 6 * 64 : i == 1 ? 712 + 64 : 912 + 128;
		}
		put64(b, r + (size_t)l->rec_collections, 5u + (unsigned)i);
		put64(b, r + (size_t)l->rec_collected, 50u * (unsigned)i);
		put64(b, r + (size_t)l->rec_uncollectable, (unsigned)i);
	}
}

static void img_open(struct img *m, bool counters, bool gc)
{
	struct tc_region r[4 + NARENAS];
	size_t n = 0;
	struct tc_alloc_addrs ad = {
		.arenas = STATE + 512, .maxarenas = STATE + 520, .raw_allocated_blocks = STATE + 1088,
		.ntimes_arena_allocated = counters ? STATE + 1072 : 0,
		.narenas_highwater = counters ? STATE + 1080 : 0,
		.gc = gc ? GCSTATE : 0,
	};

	r[n++] = (struct tc_region){STATE, m->state, sizeof m->state};
	r[n++] = (struct tc_region){GCSTATE, m->gc, sizeof m->gc};
	r[n++] = (struct tc_region){RING, m->ring, sizeof m->ring};
	r[n++] = (struct tc_region){ARRAY, m->array, sizeof m->array};
	for (int i = 0; i < NARENAS; i++)
		if (m->arena[i] && m->mapped[i])
			r[n++] = (struct tc_region){m->addr[i], m->arena[i], m->l.arena_size};
	ck_assert_int_eq(tc_remote_open_image(r, n, &m->mem), 0);
	ck_assert_int_eq(tc_alloc_open_addrs(0, &m->l, &ad, "3.x", &m->a), 0);
}

static void img_free(struct img *m)
{
	tc_alloc_free(m->a);
	tc_remote_free(m->mem);
	for (int i = 0; i < NARENAS; i++)
		free(m->arena[i]);
	free(m);
}

/* The standard heap: arena 0 aligned with 3 pools (class 0: 10 blocks, class 3 full, one
 * emptied pool), arena 1 unused, arena 2 page-aligned only with 2 pools (class 31 full,
 * class 1: 5 blocks), arena 4 with one good pool and one corrupted header. */
static void std_heap(struct img *m)
{
	uint8_t *p;
	uint32_t full3 = tc_alloc_blocks_per_pool(&m->l, 3), full31 = tc_alloc_blocks_per_pool(&m->l, 31);

	p = add_arena(m, 0, 0, 3, 61);
	set_pool(m, p, 0, 0, 0, 10);
	set_pool(m, p, 0, 1, 3, full3);
	set_pool(m, p, 0, 2, 7, 0);
	p = add_arena(m, 2, 4096, 2, 61);
	set_pool(m, p, 2, 0, 31, full31);
	set_pool(m, p, 2, 1, 1, 5);
	p = add_arena(m, 4, 0, 2, 62);
	set_pool(m, p, 4, 0, 2, 7);
	set_pool(m, p, 4, 1, 40, 1); /* szidx 40: corrupted */
	set_counters(m, 42, 9, 5);
	set_gc(m);
}

START_TEST(test_walk_312)
{
	struct img *m = img_new(12);
	struct tc_alloc_walk w;
	uint32_t bpp0 = tc_alloc_blocks_per_pool(&m->l, 0), bpp1 = tc_alloc_blocks_per_pool(&m->l, 1);

	std_heap(m);
	img_open(m, true, true);
	ck_assert_int_eq(tc_alloc_walk(m->a, m->mem, &w), 0);
	ck_assert_ptr_null(w.why);
	ck_assert_uint_eq(w.cls[0].pools, 1);
	ck_assert_uint_eq(w.cls[0].blocks_in_use, 10);
	ck_assert_uint_eq(w.cls[0].free_blocks, bpp0 - 10);
	ck_assert_uint_eq(w.cls[3].pools, 1);
	ck_assert_uint_eq(w.cls[3].free_blocks, 0);
	ck_assert_uint_eq(w.cls[31].blocks_in_use, 31);
	ck_assert_uint_eq(w.cls[1].free_blocks, bpp1 - 5);
	ck_assert_uint_eq(w.cls[2].blocks_in_use, 7);
	ck_assert_uint_eq(w.cls[7].pools, 0); /* the emptied pool is not counted */
	ck_assert_uint_eq(w.pools_read, 7);
	ck_assert_uint_eq(w.pools_invalid, 1);
	ck_assert_uint_eq(w.arenas_unaligned, 1);
	ck_assert_uint_eq(w.arenas_vanished, 0);
	ck_assert_int_eq(w.allocated_blocks, 42 + 10 + 255 + 31 + 5 + 7);
	ck_assert_int_eq(w.bytes_in_use, 10 * 16 + 255 * 64 + 31 * 512 + 5 * 32 + 7 * 48);
	/* arenas as _debugmallocstats counts them */
	ck_assert_int_eq(w.sum.arenas_current, 3);
	ck_assert_int_eq(w.sum.arenas_allocated_total, 9);
	ck_assert_int_eq(w.sum.arenas_reclaimed, 6);
	ck_assert_int_eq(w.sum.arenas_highwater, 5);
	ck_assert_int_eq(w.sum.pools_unused, 61 + 61 + 62);
	ck_assert_int_eq(w.sum.pools_in_use, (64 - 61) + (63 - 61) + (64 - 62));
	ck_assert_int_eq(w.sum.arena_bytes, 3 * 1048576);
	ck_assert_int_eq(w.sum.raw_allocated_blocks, 42);
	/* GC */
	ck_assert_ptr_null(w.sum.why_gc);
	ck_assert_int_eq(w.sum.gc_enabled, 1);
	ck_assert_int_eq(w.sum.gc_collecting, 0);
	ck_assert_int_eq(w.sum.gen[0].threshold, 700);
	ck_assert_int_eq(w.sum.gen[0].count, 3);
	ck_assert_int_eq(w.sum.gen[2].collections, 7);
	ck_assert_int_eq(w.sum.gen[2].collected, 100);
	ck_assert_int_eq(w.sum.gen[1].uncollectable, 1);
	/* no pid: process figures unavailable, with a reason */
	ck_assert_int_eq(w.sum.rss_bytes, -1);
	ck_assert_ptr_nonnull(w.sum.why_process);
	img_free(m);
}
END_TEST

START_TEST(test_corrupt_arena_object)
{
	struct img *m = img_new(12);
	struct tc_alloc_walk w;

	std_heap(m);
	/* arena 6: pool_address past the end of the arena */
	put64(m->array + 6 * 48, 0, HEAP + 6 * 2 * 1048576ull);
	put64(m->array + 6 * 48, 8, HEAP + 6 * 2 * 1048576ull + 2 * 1048576ull);
	put32(m->array + 6 * 48, 20, 64);
	img_open(m, true, true);
	ck_assert_int_eq(tc_alloc_walk(m->a, m->mem, &w), 0);
	ck_assert_uint_eq(w.sum.arenas_invalid, 1);
	ck_assert_int_eq(w.sum.arenas_current, 3);
	ck_assert_uint_eq(w.cls[0].blocks_in_use, 10);
	img_free(m);
}
END_TEST

START_TEST(test_arena_vanished)
{
	struct img *m = img_new(12);
	struct tc_alloc_walk w;
	uint8_t *p;

	std_heap(m);
	/* arena 5 is in the array but its memory is gone (freed between the two reads) */
	p = add_arena(m, 5, 0, 4, 60);
	for (uint32_t j = 0; j < 4; j++)
		set_pool(m, p, 5, j, 0, 100);
	m->mapped[5] = false;
	img_open(m, true, true);
	ck_assert_int_eq(tc_alloc_walk(m->a, m->mem, &w), 0);
	ck_assert_uint_eq(w.arenas_vanished, 1);
	/* the others are all there */
	ck_assert_uint_eq(w.cls[0].blocks_in_use, 10);
	ck_assert_uint_eq(w.cls[31].blocks_in_use, 31);
	ck_assert_uint_eq(w.pools_read, 7);
	img_free(m);
}
END_TEST

START_TEST(test_many_arenas_batches)
{
	/* more pools than one batch of 1,024: every arena full of full class-0 pools */
	struct img *m = img_new(12);
	struct tc_alloc_walk w;
	uint32_t bpp = tc_alloc_blocks_per_pool(&m->l, 0);

	for (int i = 0; i < NARENAS; i++) {
		uint8_t *p = add_arena(m, i, i % 2 ? 4096 : 0, i % 2 ? 63 : 64, 0);

		for (uint32_t j = 0; j < (i % 2 ? 63u : 64u); j++)
			set_pool(m, p, i, j, 0, bpp);
	}
	set_counters(m, 0, NARENAS, NARENAS);
	img_open(m, true, false);
	ck_assert_int_eq(tc_alloc_walk(m->a, m->mem, &w), 0);
	ck_assert_uint_eq(w.pools_read, 8 * 64 + 8 * 63);
	ck_assert_uint_eq(w.cls[0].pools, 8 * 64 + 8 * 63);
	ck_assert_uint_eq(w.cls[0].blocks_in_use, (uint64_t)bpp * (8 * 64 + 8 * 63));
	ck_assert_uint_eq(w.pools_invalid, 0);
	ck_assert_int_eq(w.sum.arenas_reclaimed, 0);
	/* GC not located: unavailable with a reason, the rest unaffected */
	ck_assert_ptr_nonnull(w.sum.why_gc);
	ck_assert_int_eq(w.sum.gen[0].threshold, -1);
	img_free(m);
}
END_TEST

START_TEST(test_never_consistent)
{
	/* maxarenas beyond any plausible size every time: reported, not guessed */
	struct img *m = img_new(12);
	struct tc_alloc_walk w;
	cJSON *j, *u;

	std_heap(m);
	put32(m->state, 520, 1u << 30);
	img_open(m, true, true);
	ck_assert_int_eq(tc_alloc_walk(m->a, m->mem, &w), 0);
	ck_assert_ptr_nonnull(w.why);
	ck_assert_int_eq(w.allocated_blocks, -1);
	ck_assert_int_eq(w.sum.arenas_current, -1);
	j = tc_alloc_json(m->a, NULL, &w);
	ck_assert_ptr_nonnull(j);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "pymalloc")));
	u = cJSON_GetObjectItem(j, "unavailable");
	ck_assert(cJSON_IsString(cJSON_GetObjectItem(u, "pymalloc")));
	cJSON_Delete(j);
	img_free(m);
}
END_TEST

START_TEST(test_no_lifetime_counters)
{
	/* a stripped 3.9-3.11 build: counters unknown, everything else read */
	struct img *m = img_new(12);
	struct tc_alloc_walk w;
	cJSON *j, *pm, *ar, *u;

	std_heap(m);
	img_open(m, false, true);
	ck_assert_int_eq(tc_alloc_walk(m->a, m->mem, &w), 0);
	ck_assert_int_eq(w.sum.arenas_allocated_total, -1);
	ck_assert_int_eq(w.sum.arenas_reclaimed, -1);
	ck_assert_int_eq(w.sum.arenas_current, 3);
	j = tc_alloc_json(m->a, NULL, &w);
	pm = cJSON_GetObjectItem(j, "pymalloc");
	ar = cJSON_GetObjectItem(pm, "arenas");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(ar, "allocated_total")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(ar, "highwater")));
	ck_assert_int_eq(cJSON_GetObjectItem(ar, "current")->valueint, 3);
	u = cJSON_GetObjectItem(j, "unavailable");
	ck_assert(cJSON_IsString(cJSON_GetObjectItem(u, "pymalloc.arenas.allocated_total")));
	ck_assert(cJSON_IsString(cJSON_GetObjectItem(u, "pymalloc.arenas.reclaimed")));
	ck_assert_ptr_null(cJSON_GetObjectItem(u, "gc"));
	cJSON_Delete(j);
	img_free(m);
}
END_TEST

START_TEST(test_gc_ring_315)
{
	struct img *m = img_new(15);
	struct tc_alloc_summary s;

	std_heap(m);
	img_open(m, true, true);
	ck_assert_int_eq(tc_alloc_summary(m->a, m->mem, &s), 0);
	ck_assert_ptr_null(s.why_gc);
	ck_assert_int_eq(s.gen[0].collections, 5);
	ck_assert_int_eq(s.gen[1].collected, 50);
	ck_assert_int_eq(s.gen[2].uncollectable, 2);
	ck_assert_int_eq(s.gen[1].threshold, 10);
	/* a ring index out of range is a torn read: retried, then reported */
	m->ring[704] = 200;
	ck_assert_int_eq(tc_alloc_summary(m->a, m->mem, &s), 0);
	ck_assert_ptr_nonnull(s.why_gc);
	ck_assert_int_eq(s.gen[0].collections, -1);
	/* pymalloc is independent of that */
	ck_assert_int_eq(s.arenas_current, 3);
	img_free(m);
}
END_TEST

START_TEST(test_summary_and_json_schema)
{
	struct img *m = img_new(12);
	struct tc_alloc_summary s;
	struct tc_alloc_walk w;
	cJSON *j, *pm, *gc, *gens, *cls;

	std_heap(m);
	img_open(m, true, true);
	ck_assert_int_eq(tc_alloc_summary(m->a, m->mem, &s), 0);
	ck_assert_int_eq(s.arenas_current, 3);
	ck_assert_int_eq(s.pools_in_use, 7);
	/* summary JSON: no walk figures */
	j = tc_alloc_json(m->a, &s, NULL);
	pm = cJSON_GetObjectItem(j, "pymalloc");
	ck_assert_ptr_null(cJSON_GetObjectItem(pm, "size_classes"));
	ck_assert_ptr_null(cJSON_GetObjectItem(pm, "allocated_blocks"));
	ck_assert_int_eq(cJSON_GetObjectItem(pm, "pools_in_use")->valueint, 7);
	cJSON_Delete(j);
	/* full JSON: DESIGN.md's keys */
	ck_assert_int_eq(tc_alloc_walk(m->a, m->mem, &w), 0);
	j = tc_alloc_json(m->a, NULL, &w);
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(j, "pid"));
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "python"), "version")->valuestring,
			 "3.x");
	pm = cJSON_GetObjectItem(j, "pymalloc");
	cls = cJSON_GetObjectItem(pm, "size_classes");
	ck_assert_int_eq(cJSON_GetArraySize(cls), 5);
	cJSON *c0 = cJSON_GetArrayItem(cls, 0);
	ck_assert_int_eq(cJSON_GetObjectItem(c0, "index")->valueint, 0);
	ck_assert_int_eq(cJSON_GetObjectItem(c0, "size")->valueint, 16);
	ck_assert_int_eq(cJSON_GetObjectItem(c0, "pools")->valueint, 1);
	ck_assert_int_eq(cJSON_GetObjectItem(c0, "blocks_in_use")->valueint, 10);
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(c0, "free_blocks"));
	for (const char *const *k = (const char *const[]){"allocated_total", "reclaimed", "highwater",
							   "current", NULL}; *k; k++)
		ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetObjectItem(pm, "arenas"), *k)));
	ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(pm, "allocated_blocks")));
	ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(pm, "bytes_in_use")));
	ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(pm, "bytes_free")));
	gc = cJSON_GetObjectItem(j, "gc");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(gc, "enabled")));
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(gc, "collecting")));
	gens = cJSON_GetObjectItem(gc, "generations");
	ck_assert_int_eq(cJSON_GetArraySize(gens), 3);
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(gens, 0), "threshold")->valueint, 700);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "process"), "rss_bytes")));
	ck_assert(cJSON_IsString(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "unavailable"),
						     "process.rss_bytes")));
	cJSON_Delete(j);
	img_free(m);
}
END_TEST

START_TEST(test_geometry_39)
{
	/* 4 KiB pools, 256 KiB arenas */
	struct img *m = img_new(9);
	struct tc_alloc_walk w;
	uint8_t *p = add_arena(m, 0, 0, 2, 62);

	set_pool(m, p, 0, 0, 0, 253);
	set_pool(m, p, 0, 1, 31, 1);
	set_counters(m, 0, 1, 1);
	img_open(m, true, false);
	ck_assert_int_eq(tc_alloc_walk(m->a, m->mem, &w), 0);
	ck_assert_uint_eq(w.cls[0].free_blocks, 0);
	ck_assert_uint_eq(w.cls[31].free_blocks, 6);
	ck_assert_int_eq(w.sum.arena_bytes, 262144);
	img_free(m);
}
END_TEST

START_TEST(test_decode_getallocatedblocks)
{
	uint64_t raw = 0, maxarenas = 0, arenas = 0;
	/* mov eax,[rip+a]; mov ecx,[rip+b]; ret: two 4-byte globals, no pointer */
	const uint8_t odd[] = {0x8b, 0x05, 0x10, 0, 0, 0, 0x8b, 0x0d, 0x20, 0, 0, 0, 0xc3};

	ck_assert_int_eq(tc_alloc_decode_getallocatedblocks(deb311, sizeof deb311, DEB311_PC, &raw,
							    &maxarenas, &arenas), 0);
	ck_assert_uint_eq(raw, 0xa7ee80);
	ck_assert_uint_eq(maxarenas, 0xabf0f8);
	ck_assert_uint_eq(arenas, 0xabf108);
	ck_assert_int_eq(tc_alloc_decode_getallocatedblocks(odd, sizeof odd, 0x1000, &raw, &maxarenas,
							    &arenas), -TC_ENOENT);
	ck_assert_int_eq(tc_alloc_decode_getallocatedblocks((const uint8_t *)"\x0f\x0e", 2, 0, &raw,
							    &maxarenas, &arenas), -TC_EINVAL);
}
END_TEST

/* ---- the monitor (daemon/alloc_monitor.h) over the synthetic image ---- */

struct mon_log {
	int calls, fail_at;
	uint64_t last_seq;
	int64_t arenas;
	bool walked, ordered;
};

static int mon_cb(void *ctx, const struct tc_alloc *a, const struct tc_alloc_reading *r)
{
	struct mon_log *l = ctx;

	ck_assert_ptr_nonnull(a);
	l->ordered = l->ordered && r->seq == l->last_seq + 1 && r->elapsed >= 0;
	l->last_seq = r->seq;
	l->arenas = r->walk.sum.arenas_current;
	l->walked = r->walked;
	return ++l->calls == l->fail_at ? -TC_EIO : 0;
}

static struct tc_alloc_monitor *mon_new(struct img *m)
{
	struct tc_alloc_monitor *mon = NULL;

	std_heap(m);
	img_open(m, true, true);
	ck_assert_int_eq(tc_alloc_monitor_new(m->a, m->mem, &mon), 0);
	m->a = NULL; /* the monitor owns them now */
	m->mem = NULL;
	return mon;
}

/* Readings come at once and then every interval, each through the callback in order and kept
 * as the latest; stopping takes one more reading when asked. */
START_TEST(test_monitor_readings)
{
	struct img *m = img_new(12);
	struct tc_alloc_monitor *mon = mon_new(m);
	struct mon_log log = {.ordered = true};
	struct tc_alloc_reading r;
	struct tc_alloc_monitor_cfg cfg = {.interval = 0.01, .walk = true, .last_reading = true,
					   .on_reading = mon_cb, .ctx = &log};

	ck_assert_uint_eq(tc_alloc_monitor_latest(mon, &r), 0);
	ck_assert_int_eq(tc_alloc_monitor_start(mon, &cfg), 0);
	for (int i = 0; i < 2000 && tc_alloc_monitor_latest(mon, &r) < 3; i++)
		usleep(1000);
	ck_assert_uint_ge(tc_alloc_monitor_latest(mon, &r), 3);
	ck_assert(r.walked);
	ck_assert_ptr_null(r.walk.why);
	ck_assert_int_eq(r.walk.sum.arenas_current, 3);
	ck_assert_uint_eq(r.walk.cls[0].blocks_in_use, 10);
	ck_assert_uint_eq(r.ticks, 1); /* the reading's own summary knew the GC state */
	tc_alloc_monitor_set_interval(mon, 0.02);
	ck_assert_int_eq(tc_alloc_monitor_stop(mon), 0);
	ck_assert_int_eq(tc_alloc_monitor_stop(mon), 0); /* again: the same */
	ck_assert(log.ordered);
	ck_assert(log.walked);
	ck_assert_int_eq(log.arenas, 3);
	/* the last reading went through the callback too */
	ck_assert_uint_eq(tc_alloc_monitor_latest(mon, &r), log.last_seq);
	ck_assert_int_eq(log.calls, (int)log.last_seq);
	tc_alloc_monitor_free(mon);
	img_free(m);
}
END_TEST

/* A callback error ends the monitor with that error; summaries only without WALK. */
START_TEST(test_monitor_callback_error)
{
	struct img *m = img_new(12);
	struct tc_alloc_monitor *mon = mon_new(m);
	struct mon_log log = {.ordered = true, .fail_at = 2};
	struct tc_alloc_reading r;
	struct tc_alloc_monitor_cfg cfg = {.interval = 0.005, .tick = 0.001, .last_reading = true,
					   .on_reading = mon_cb, .ctx = &log};

	ck_assert_int_eq(tc_alloc_monitor_start(mon, &cfg), 0);
	for (int i = 0; i < 2000 && tc_alloc_monitor_latest(mon, &r) < 1; i++)
		usleep(1000);
	usleep(50000);
	/* the second reading failed in the callback, on schedule or as the last one */
	ck_assert_int_eq(tc_alloc_monitor_stop(mon), -TC_EIO);
	ck_assert_int_eq(log.calls, 2); /* no reading after the error */
	ck_assert(!log.walked);
	/* only the first reading was kept: the second failed in the callback */
	ck_assert_uint_eq(tc_alloc_monitor_latest(mon, &r), 1);
	ck_assert(!r.walked);
	tc_alloc_monitor_free(mon);
	img_free(m);
}
END_TEST

static Suite *alloc_suite(void)
{
	Suite *s = suite_create("alloc");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_walk_312);
	tcase_add_test(tc, test_corrupt_arena_object);
	tcase_add_test(tc, test_arena_vanished);
	tcase_add_test(tc, test_many_arenas_batches);
	tcase_add_test(tc, test_never_consistent);
	tcase_add_test(tc, test_no_lifetime_counters);
	tcase_add_test(tc, test_gc_ring_315);
	tcase_add_test(tc, test_summary_and_json_schema);
	tcase_add_test(tc, test_geometry_39);
	tcase_add_test(tc, test_decode_getallocatedblocks);
	tcase_add_test(tc, test_monitor_readings);
	tcase_add_test(tc, test_monitor_callback_error);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tc_test_run(alloc_suite());
}
