/* SPDX-License-Identifier: MIT */
/* Fuzz daemon/alloc.c and daemon/alloc_gc.c: summaries and full pool walks of a pymalloc
 * heap and GC state read from a synthetic target whose every byte comes from the input.
 *
 * The input is a struct heap (below), zero-filled when short: a version and flags, the
 * counters (arenas pointer, maxarenas, raw blocks, lifetime counters), a window of the
 * interpreter around the GC state (tc_alloc_gc_locate searches 1 KiB either side), the 3.15
 * stats ring, the arena_object array and the first pool headers of 8 arenas (each mapped as
 * its own 48-byte region at the pool-aligned addresses of arena i at HEAP + i * 2 MiB: a
 * pool header outside them reads as unmapped, like an arena freed meanwhile).
 *
 * Properties: no crash or sanitizer report; figures the walk reports are never negative
 * where they count things, per-class sums do not exceed the pools read, and the JSON
 * builds. Built with -DTC_FUZZ_SEEDS it is instead a program writing seed heaps (one per
 * version) into the directory given. */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/alloc.h"
#include "fuzz_common.h"
#include "layouts/alloc_layout.h"
#include "layouts/version.h"
#include "reader/remote.h"

#define STATE 0x7f0000010000ull
#define GCWIN 0x7f0000020000ull   /* GC window; the state itself at GCWIN + GC_BEFORE */
#define GC_BEFORE 1024
#define RING 0x7f0000030000ull
#define ARRAY 0x7f0000040000ull
#define HEAP 0x7f1000000000ull
#define NARENAS 8
#define NPOOLS 8

enum { F_COUNTERS = 1, F_GC = 2, F_LOCATE = 4 };

struct heap {
	uint8_t minor, flags, pad[2];
	uint8_t counters[48];          /* arenas@0 maxarenas@8 raw@16 ntimes@24 highwater@32 */
	uint8_t gcwin[GC_BEFORE * 2 + 512];
	uint8_t ring[1120];
	uint8_t array[NARENAS * 48];
	uint8_t pool[NARENAS][NPOOLS][48];
};

static inline unsigned minor_of(const struct heap *h)
{
	return 9 + h->minor % 7;
}

static uint64_t arena_base(int i)
{
	return HEAP + (uint64_t)i * 2 * 1024 * 1024;
}

#ifndef TC_FUZZ_SEEDS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct heap h;
	struct fz_in in = {data, size};
	struct tc_alloc_layout l;
	struct tc_region r[4 + NARENAS * NPOOLS];
	struct tc_remote *mem = NULL;
	struct tc_alloc *a = NULL;
	size_t n = 0;

	fz_take(&in, &h, sizeof h);
	/* An arena array of up to TC_OM_MAX_ARENAS (48 MiB) is allocated for every read
	 * attempt, and under ASan each costs 6 MiB of shadow writes: 50 executions a second.
	 * Fold sizes between 4096 and that bound (which behave alike: the array does not read)
	 * to below 4096; sizes over the bound, the refusal, still come through. */
	uint32_t maxarenas;
	memcpy(&maxarenas, h.counters + 8, 4);
	if (maxarenas > 4096 && maxarenas <= TC_OM_MAX_ARENAS) {
		maxarenas %= 4096;
		memcpy(h.counters + 8, &maxarenas, 4);
	}
	if (tc_alloc_layout_get(TC_PY_HEX(3, minor_of(&h), 1) | 0xf0, false, false, &l) != 0)
		return 0;
	if (l.gc.size > 512)
		abort(); /* the window above is too small for this layout: fix the harness */

	r[n++] = (struct tc_region){STATE, h.counters, sizeof h.counters};
	r[n++] = (struct tc_region){GCWIN, h.gcwin, sizeof h.gcwin};
	r[n++] = (struct tc_region){RING, h.ring, sizeof h.ring};
	r[n++] = (struct tc_region){ARRAY, h.array, sizeof h.array};
	for (int i = 0; i < NARENAS; i++)
		for (int j = 0; j < NPOOLS; j++)
			r[n++] = (struct tc_region){arena_base(i) + (uint64_t)j * l.pool_size,
						    h.pool[i][j], 48};
	FZ_REQUIRE(tc_remote_open_image(r, n, &mem) == 0);

	tc_raddr gc = GCWIN + GC_BEFORE;
	if ((h.flags & F_LOCATE) && l.interp_gc >= 0) {
		/* find it the way attach does, from the interpreter's address */
		char how[128];
		tc_raddr found;
		if (tc_alloc_gc_locate(&l, mem, gc - (uint64_t)l.interp_gc, &found, how,
				       sizeof how) == 0) {
			FZ_REQUIRE(found >= GCWIN && found < GCWIN + sizeof h.gcwin);
			gc = found;
		}
	}
	struct tc_alloc_addrs ad = {
		.arenas = STATE, .maxarenas = STATE + 8, .raw_allocated_blocks = STATE + 16,
		.ntimes_arena_allocated = (h.flags & F_COUNTERS) ? STATE + 24 : 0,
		.narenas_highwater = (h.flags & F_COUNTERS) ? STATE + 32 : 0,
		.gc = (h.flags & F_GC) ? gc : 0,
	};
	if (tc_alloc_open_addrs(0, &l, &ad, "3.x", &a) != 0)
		goto out;

	struct tc_alloc_summary s;
	static struct tc_alloc_walk w;
	if (tc_alloc_summary(a, mem, &s) == 0) {
		cJSON *j = tc_alloc_json(a, &s, NULL);
		FZ_REQUIRE(j != NULL);
		cJSON_Delete(j);
	}
	if (tc_alloc_walk(a, mem, &w) == 0) {
		uint64_t pools = 0;
		for (int c = 0; c < TC_OM_NCLASSES; c++)
			pools += w.cls[c].pools;
		FZ_REQUIRE(pools <= w.pools_read);
		FZ_REQUIRE(w.pools_invalid <= w.pools_read);
		if (!w.why) {
			FZ_REQUIRE(w.bytes_in_use >= 0 && w.bytes_free >= 0);
			FZ_REQUIRE(w.allocated_blocks >= -1);
		}
		cJSON *j = tc_alloc_json(a, NULL, &w);
		FZ_REQUIRE(j != NULL);
		char *text = cJSON_PrintUnformatted(j);
		FZ_REQUIRE(text != NULL);
		free(text);
		cJSON_Delete(j);
	}
out:
	tc_alloc_free(a);
	tc_remote_free(mem);
	return 0;
}

#else /* TC_FUZZ_SEEDS: write a valid heap per version */

static void put64(uint8_t *b, size_t off, uint64_t v)
{
	memcpy(b + off, &v, 8);
}

static void put32(uint8_t *b, size_t off, uint32_t v)
{
	memcpy(b + off, &v, 4);
}


/* Arena I live at its base plus SKEW, NPOOLS_CARVED pools carved; pools as given. */
static void arena(struct heap *h, const struct tc_alloc_layout *l, int i, uint64_t skew,
		  uint32_t carved, uint32_t nfree)
{
	uint32_t P = l->pool_size, max = l->arena_size / P;
	uint64_t address = arena_base(i) + skew;
	uint64_t first = (address + P - 1) & ~(uint64_t)(P - 1);
	uint8_t *ao = h->array + i * 48;

	put64(ao, 0, address);
	put64(ao, 8, first + (uint64_t)carved * P);
	put32(ao, 16, nfree);
	put32(ao, 20, first == address ? max : max - 1);
}

static void pool(struct heap *h, const struct tc_alloc_layout *l, int i, uint64_t skew, int j,
		 uint32_t szidx, uint32_t count)
{
	/* the header of carved pool J: pool-aligned, so the region index shifts by the skew */
	int k = j + (skew ? 1 : 0);
	uint8_t *p = h->pool[i][k];
	(void)l;
	put32(p, 0, count);
	put32(p, 32, (uint32_t)i);
	put32(p, 36, szidx);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	for (unsigned minor = 9; minor <= 15; minor++) {
		static struct heap h;
		struct tc_alloc_layout l;

		memset(&h, 0, sizeof h);
		h.minor = (uint8_t)(minor - 9);
		if (minor_of(&h) != minor)
			return 1;
		h.flags = F_COUNTERS | F_GC | (minor % 2 ? F_LOCATE : 0);
		if (tc_alloc_layout_get(TC_PY_HEX(3, minor, 1) | 0xf0, false, false, &l) != 0)
			return 1;
		/* counters */
		put64(h.counters, 0, ARRAY);
		put32(h.counters, 8, NARENAS);
		put64(h.counters, 16, 42);
		put64(h.counters, 24, 9);
		put64(h.counters, 32, 5);
		/* arenas: 0 aligned (3 pools), 1 unused, 2 skewed by a page (2 pools), 4 with a
		 * corrupt header, 6 with pool_address past its end */
		uint32_t bpp3 = tc_alloc_blocks_per_pool(&l, 3);
		arena(&h, &l, 0, 0, 3, 2);
		pool(&h, &l, 0, 0, 0, 0, 10);
		pool(&h, &l, 0, 0, 1, 3, bpp3);
		pool(&h, &l, 0, 0, 2, 7, 0);
		arena(&h, &l, 2, 4096, 2, 1);
		pool(&h, &l, 2, 4096, 0, 31, tc_alloc_blocks_per_pool(&l, 31));
		pool(&h, &l, 2, 4096, 1, 1, 5);
		arena(&h, &l, 4, 0, 2, 3);
		pool(&h, &l, 4, 0, 0, 2, 7);
		pool(&h, &l, 4, 0, 1, 40, 1);
		put64(h.array + 6 * 48, 0, arena_base(6));
		put64(h.array + 6 * 48, 8, arena_base(6) + 2 * 1024 * 1024);
		put32(h.array + 6 * 48, 20, 64);
		/* GC state at GCWIN + GC_BEFORE: thresholds 700/10/10, counts 3/2/1 */
		uint8_t *g = h.gcwin + GC_BEFORE;
		uint64_t gaddr = GCWIN + GC_BEFORE;
		put32(g, (size_t)l.gc.enabled, 1);
		for (int i = 0; i < 3; i++) {
			size_t o = (size_t)(l.gc.generations + i * l.gen_size);
			put64(g, o, gaddr + o);
			put64(g, o + 8, gaddr + o);
			put32(g, o + (size_t)l.gen_threshold, i ? 10 : 700);
			put32(g, o + (size_t)l.gen_count, 3u - (unsigned)i);
		}
		if (l.gc.generation0 >= 0)
			put64(g, (size_t)l.gc.generation0, gaddr + (uint64_t)l.gc.generations);
		if (l.gc_stats_model == TC_GCS_RING) {
			put64(g, (size_t)l.gc.stats, RING);
			h.ring[l.ring.young_index] = 6;
		}
		for (int i = 0; i < 3; i++) {
			uint8_t *b = g;
			size_t r = (size_t)(l.gc.stats + i * l.rec_size);
			if (l.gc_stats_model == TC_GCS_RING) {
				b = h.ring;
				r = i == 0 ? 6 * (size_t)l.rec_size :
					     (size_t)(l.ring.old + (i - 1) * l.ring.old_stride);
			}
			put64(b, r + (size_t)l.rec_collections, 5u + (unsigned)i);
			put64(b, r + (size_t)l.rec_collected, 50u * (unsigned)i);
			put64(b, r + (size_t)l.rec_uncollectable, (unsigned)i);
		}
		char path[4096];
		snprintf(path, sizeof path, "%s/heap-3.%u", argv[1], minor);
		FILE *f = fopen(path, "wb");
		if (!f || fwrite(&h, sizeof h, 1, f) != 1 || fclose(f) != 0) {
			perror(path);
			return 1;
		}
	}
	return 0;
}

#endif
