/* SPDX-License-Identifier: MIT */
/* Per-version tables for pymalloc and GC state, and decoders for arena objects, pool headers
 * and GC records.
 *
 * Where the figures come from (gdb `ptype /o` and `print &((T *)0)->field` on the DWARF of):
 *   3.9:  pyenv 3.9.18 libpython (release) and Debian bullseye 3.9.2 python3.9d (debug);
 *   3.10: pyenv 3.10.13; 3.11: pyenv 3.11.7 and Debian bookworm 3.11.2 python3.11-dbg;
 *   3.12: pyenv 3.12.1 (no debug build available: the release figures are used and checked);
 *   3.13: pyenv 3.13.0 (release), Debian sid 3.13.18 python3.13d (debug);
 *   3.14, 3.15: Debian sid 3.14.10 / 3.15.2 -dbg (debug); the release offsets of
 *         interp->obmalloc come from the 3.14/3.15 headers (../shared/reference/off_3.1x.txt,
 *         the same with -D_Py_TIER2 -D_Py_JIT), 8 bytes before the debug ones as on 3.13.
 * Every figure is checked against the live target at attach (daemon/alloc.c): the usedpools
 * pattern, arena objects, generation0 == &generations[0]; an offset that fails is searched
 * for near the table's value, then reported unavailable, never guessed.
 *
 * Constant from 3.9 to 3.15: struct arena_object {address 0, pool_address 8, nfreepools 16,
 * ntotalpools 20, ...} (48 bytes), struct pool_header {ref.count 0, ..., arenaindex 32,
 * szidx 36, ...} (48 bytes), 32 size classes of 16 bytes, struct gc_generation {head 0,
 * threshold 16, count 20} (24 bytes). */
#include "layouts/alloc_layout.h"

#include <string.h>

#include "layouts/version.h"

/* arena_object and pool_header fields */
#define AO_ADDRESS 0
#define AO_POOL_ADDRESS 8
#define AO_NFREEPOOLS 16
#define AO_NTOTALPOOLS 20
#define PH_COUNT 0
#define PH_ARENAINDEX 32
#define PH_SZIDX 36

/* struct _gc_runtime_state from 3.9 to 3.13 (Py_DEBUG adds nothing). Debian's 3.13.18 has
 * generations[] at 20, 4-byte aligned (the DWARF of python3.13d and the memory of both of its
 * builds agree; pyenv 3.13.0 has 24): the live generation0 pointer tells which. */
#define GC_39 {.size = 240, .enabled = 12, .generations = 24, .generation0 = 96, .stats = 128, \
	       .collecting = 200, .generations_alt = 20}
/* 3.14.10: permanent_generation moved before the stats; heap_size and placeholders where the
 * reverted incremental collector lived; generation0 last */
#define GC_314 {.size = 264, .enabled = 12, .generations = 24, .generation0 = 256, .stats = 120, \
		.collecting = 192, .generations_alt = -1}
/* 3.15.2: enabled first, generation_stats a pointer to struct gc_stats */
#define GC_315 {.size = 176, .enabled = 0, .generations = 8, .generation0 = 168, .stats = 104, \
		.collecting = 112, .generations_alt = -1}

/* struct _obmalloc_state (3.12+): pools.used[64], then mgmt */
#define OM_312 {.usedpools = 0, .arenas = 512, .maxarenas = 520, \
		.narenas_currently_allocated = 1064, .ntimes_arena_allocated = 1072, \
		.narenas_highwater = 1080, .raw_allocated_blocks = 1088, .size = 1096}
#define OM_NONE {.usedpools = -1, .arenas = -1, .maxarenas = -1, \
		 .narenas_currently_allocated = -1, .ntimes_arena_allocated = -1, \
		 .narenas_highwater = -1, .raw_allocated_blocks = -1, .size = 0}

struct gcpos {
	int32_t size, enabled, generations, generation0, stats, collecting, generations_alt;
};

struct row {
	unsigned minor;
	bool debug;
	const char *source;
	uint32_t pool_size, arena_size;
	enum tc_om_home om_home;
	int32_t interp_obmalloc;
	const char *om_main_symbol;
	int32_t interp_gc;
	int gc_kind; /* 9, 14 or 15: which GC_* */
};

#define KIB 1024u
static const struct row rows[] = {
	{9, false, "pyenv 3.9.18 DWARF", 4 * KIB, 256 * KIB, TC_OM_STATIC, -1, NULL, 616, 9},
	{9, true, "Debian 3.9.2 python3.9d DWARF", 4 * KIB, 256 * KIB, TC_OM_STATIC, -1, NULL, 616, 9},
	{10, false, "pyenv 3.10.13 DWARF", 16 * KIB, 1024 * KIB, TC_OM_STATIC, -1, NULL, 616, 9},
	{10, true, "pyenv 3.10.13 DWARF (release figures)", 16 * KIB, 1024 * KIB, TC_OM_STATIC, -1,
	 NULL, 616, 9},
	{11, false, "pyenv 3.11.7 DWARF", 16 * KIB, 1024 * KIB, TC_OM_STATIC, -1, NULL, 648, 9},
	{11, true, "Debian 3.11.2 python3.11-dbg DWARF", 16 * KIB, 1024 * KIB, TC_OM_STATIC, -1,
	 NULL, 648, 9},
	{12, false, "pyenv 3.12.1 DWARF", 16 * KIB, 1024 * KIB, TC_OM_INTERP, 3960, NULL, 112, 9},
	{12, true, "pyenv 3.12.1 DWARF (release figures)", 16 * KIB, 1024 * KIB, TC_OM_INTERP, 3960,
	 NULL, 112, 9},
	{13, false, "pyenv 3.13.0 DWARF", 16 * KIB, 1024 * KIB, TC_OM_INTERP_PTR, 10800,
	 "obmalloc_state_main", 7400, 9},
	{13, true, "Debian 3.13.18 python3.13d DWARF", 16 * KIB, 1024 * KIB, TC_OM_INTERP_PTR, 10808,
	 "obmalloc_state_main", 7400, 9},
	{14, false, "3.14.10 headers", 16 * KIB, 1024 * KIB, TC_OM_INTERP_PTR, 10904,
	 "obmalloc_state_main", 7408, 14},
	{14, true, "Debian 3.14.10 python3.14d DWARF", 16 * KIB, 1024 * KIB, TC_OM_INTERP_PTR, 10912,
	 "obmalloc_state_main", 7408, 14},
	{15, false, "3.15.2 headers", 16 * KIB, 1024 * KIB, TC_OM_INTERP_PTR, 10880,
	 "obmalloc_state_main", 7400, 15},
	{15, true, "Debian 3.15.2 python3.15d DWARF", 16 * KIB, 1024 * KIB, TC_OM_INTERP_PTR, 10888,
	 "obmalloc_state_main", 7400, 15},
};

int tc_alloc_layout_get(uint32_t version_hex, bool debug, bool free_threaded,
			struct tc_alloc_layout *out)
{
	static const struct tc_alloc_layout blank = {
		.om = OM_NONE,
		.interp_obmalloc = -1,
		.interp_gc = -1,
		.gc = {.size = 0, .enabled = -1, .generations = -1, .generations_alt = -1,
		       .generation0 = -1, .stats = -1, .collecting = -1},
		.gen_size = 24, .gen_threshold = 16, .gen_count = 20,
		.rec_size = 24, .rec_collections = 0, .rec_collected = 8, .rec_uncollectable = 16,
		.ring = {.size = 0, .young_items = 0, .young_index = -1, .old = -1, .old_stride = 0,
			 .old_items = 0, .old_index = -1},
	};
	static const struct gcpos gc39 = GC_39, gc314 = GC_314, gc315 = GC_315;
	static const struct {
		int32_t usedpools, arenas, maxarenas, narenas_currently_allocated,
			ntimes_arena_allocated, narenas_highwater, raw_allocated_blocks, size;
	} om312 = OM_312;
	unsigned minor = TC_HEX_MINOR(version_hex);

	if (!out)
		return -TC_EINVAL;
	if (TC_HEX_MAJOR(version_hex) != 3 || minor < 9 || minor > 15)
		return -TC_EVERSION;
	*out = blank;
	out->version_hex = version_hex;
	out->debug = debug;
	for (size_t i = 0; i < TC_ARRAY_LEN(rows); i++) {
		const struct row *r = &rows[i];

		if (r->minor != minor || r->debug != debug)
			continue;
		out->source = r->source;
		out->pool_size = r->pool_size;
		out->arena_size = r->arena_size;
		if (free_threaded) {
			/* mimalloc heaps and a different GC: not covered */
			out->om_home = TC_OM_NONE;
			return 0;
		}
		out->om_home = r->om_home;
		out->interp_obmalloc = r->interp_obmalloc;
		out->om_main_symbol = r->om_main_symbol;
		if (r->om_home != TC_OM_STATIC) {
			out->om.usedpools = om312.usedpools;
			out->om.arenas = om312.arenas;
			out->om.maxarenas = om312.maxarenas;
			out->om.narenas_currently_allocated = om312.narenas_currently_allocated;
			out->om.ntimes_arena_allocated = om312.ntimes_arena_allocated;
			out->om.narenas_highwater = om312.narenas_highwater;
			out->om.raw_allocated_blocks = om312.raw_allocated_blocks;
			out->om.size = om312.size;
		}
		out->interp_gc = r->interp_gc;
		const struct gcpos *g = r->gc_kind == 15 ? &gc315 :
					    r->gc_kind == 14 ? &gc314 : &gc39;
		out->gc.size = g->size;
		out->gc.enabled = g->enabled;
		out->gc.generations = g->generations;
		out->gc.generations_alt = minor == 13 ? g->generations_alt : -1;
		out->gc.generation0 = g->generation0;
		out->gc.stats = g->stats;
		out->gc.collecting = g->collecting;
		if (r->gc_kind == 15) {
			/* struct gc_generation_stats {ts_start, ts_stop, collections, collected,
			 * uncollectable, candidates, duration, heap_size}; gc_get_stats_impl
			 * reports young.items[young.index], old[0].items[old[0].index] and
			 * old[1].items[old[1].index] */
			out->gc_stats_model = TC_GCS_RING;
			out->rec_size = 64;
			out->rec_collections = 16;
			out->rec_collected = 24;
			out->rec_uncollectable = 32;
			out->ring.size = 1120;
			out->ring.young_items = 11;
			out->ring.young_index = 704;
			out->ring.old = 712;
			out->ring.old_stride = 200;
			out->ring.old_items = 3;
			out->ring.old_index = 192;
		} else {
			out->gc_stats_model = TC_GCS_ARRAY;
		}
		return 0;
	}
	return -TC_EVERSION;
}

uint32_t tc_alloc_blocks_per_pool(const struct tc_alloc_layout *l, uint32_t szidx)
{
	if (!l || szidx >= TC_OM_NCLASSES || l->pool_size <= TC_OM_POOL_OVERHEAD)
		return 0;
	return (l->pool_size - TC_OM_POOL_OVERHEAD) / ((szidx + 1) * TC_OM_ALIGNMENT);
}

int tc_alloc_check_usedpools(const struct tc_alloc_layout *l, const void *buf, size_t len,
			     tc_raddr addr)
{
	int empty = 0;

	if (!l || !buf || len < TC_OM_USEDPOOLS * 8 || l->pool_size == 0 || addr < 16)
		return -TC_EINVAL;
	for (unsigned x = 0; x < TC_OM_USEDPOOLS / 2; x++) {
		uint64_t next = tc_get_u64(buf, 16 * x), prev = tc_get_u64(buf, 16 * x + 8);
		/* PTA(x): the fake pool header whose nextpool/prevpool are this pair */
		tc_raddr pta = addr + 16 * x - 16;

		if (next == pta && prev == pta) {
			empty++;
			continue;
		}
		if (next == 0 || prev == 0 || next % l->pool_size || prev % l->pool_size)
			return -TC_EINVAL;
	}
	return empty;
}

int tc_alloc_decode_arena(const struct tc_alloc_layout *l, const void *buf,
			  struct tc_arena *out)
{
	struct tc_arena a;
	uint32_t max_pools;

	if (!l || !buf || !out || l->pool_size == 0 || l->arena_size < l->pool_size)
		return -TC_EINVAL;
	memset(&a, 0, sizeof a);
	a.address = tc_get_u64(buf, AO_ADDRESS);
	if (a.address == 0) {
		*out = a;
		return 0;
	}
	a.pool_address = tc_get_u64(buf, AO_POOL_ADDRESS);
	a.nfreepools = tc_get_u32(buf, AO_NFREEPOOLS);
	a.ntotalpools = tc_get_u32(buf, AO_NTOTALPOOLS);
	max_pools = l->arena_size / l->pool_size;
	if (a.address > UINT64_MAX - l->arena_size - l->pool_size)
		return -TC_ECORRUPT;
	a.first_pool = (a.address + l->pool_size - 1) & ~(uint64_t)(l->pool_size - 1);
	/* CPython: ntotalpools = ARENA_SIZE / POOL_SIZE, one less when the arena is not
	 * pool-aligned; pools are carved from first_pool up to pool_address */
	if (a.ntotalpools > max_pools || a.ntotalpools + 1 < max_pools ||
	    a.nfreepools > a.ntotalpools)
		return -TC_ECORRUPT;
	if (a.pool_address < a.first_pool || a.pool_address > a.address + l->arena_size ||
	    (a.pool_address - a.first_pool) % l->pool_size)
		return -TC_ECORRUPT;
	a.npools = (uint32_t)((a.pool_address - a.first_pool) / l->pool_size);
	if (a.npools > a.ntotalpools)
		return -TC_ECORRUPT;
	*out = a;
	return 1;
}

int tc_alloc_decode_pool(const struct tc_alloc_layout *l, const void *buf, uint32_t arenaindex,
			 uint32_t *szidx, uint32_t *count)
{
	uint32_t c = tc_get_u32(buf, PH_COUNT);
	uint32_t sz = tc_get_u32(buf, PH_SZIDX);

	if (c == 0)
		return 0;
	if (sz >= TC_OM_NCLASSES || c > tc_alloc_blocks_per_pool(l, sz) ||
	    tc_get_u32(buf, PH_ARENAINDEX) != arenaindex)
		return -TC_ECORRUPT;
	*szidx = sz;
	*count = c;
	return 1;
}

void tc_alloc_gc_generation(const struct tc_alloc_layout *l, const void *buf, int i,
			    struct tc_gc_gen_raw *out)
{
	size_t g = (size_t)l->gc.generations + (size_t)i * (size_t)l->gen_size;

	out->threshold = (int32_t)tc_get_u32(buf, g + (size_t)l->gen_threshold);
	out->count = (int32_t)tc_get_u32(buf, g + (size_t)l->gen_count);
}

int tc_alloc_gc_record(const struct tc_alloc_layout *l, const void *buf, size_t len, int i,
		       struct tc_gc_rec *out)
{
	size_t off;

	if (i < 0 || i > 2)
		return -TC_EINVAL;
	if (l->gc_stats_model == TC_GCS_ARRAY) {
		off = (size_t)l->gc.stats + (size_t)i * (size_t)l->rec_size;
	} else if (l->gc_stats_model == TC_GCS_RING) {
		int idx;

		if (len < (size_t)l->ring.size)
			return -TC_EINVAL;
		if (i == 0) {
			idx = (int8_t)tc_get_u8(buf, (size_t)l->ring.young_index);
			if (idx < 0 || idx >= l->ring.young_items)
				return -TC_ECORRUPT;
			off = (size_t)idx * (size_t)l->rec_size;
		} else {
			size_t ring = (size_t)l->ring.old + (size_t)(i - 1) * (size_t)l->ring.old_stride;

			idx = (int8_t)tc_get_u8(buf, ring + (size_t)l->ring.old_index);
			if (idx < 0 || idx >= l->ring.old_items)
				return -TC_ECORRUPT;
			off = ring + (size_t)idx * (size_t)l->rec_size;
		}
	} else {
		return -TC_EINVAL;
	}
	if (off + (size_t)l->rec_size > len)
		return -TC_EINVAL;
	out->collections = (int64_t)tc_get_u64(buf, off + (size_t)l->rec_collections);
	out->collected = (int64_t)tc_get_u64(buf, off + (size_t)l->rec_collected);
	out->uncollectable = (int64_t)tc_get_u64(buf, off + (size_t)l->rec_uncollectable);
	if (out->collections < 0 || out->collected < 0 || out->uncollectable < 0)
		return -TC_ECORRUPT;
	return 0;
}

bool tc_alloc_gc_plausible(const struct tc_alloc_layout *l, const void *buf, tc_raddr addr)
{
	uint32_t enabled, collecting;

	if (!l || !buf || l->gc.size <= 0)
		return false;
	enabled = tc_get_u32(buf, (size_t)l->gc.enabled);
	collecting = tc_get_u32(buf, (size_t)l->gc.collecting);
	if (enabled > 1 || collecting > 1)
		return false;
	for (int i = 0; i < 3; i++) {
		struct tc_gc_gen_raw g;

		tc_alloc_gc_generation(l, buf, i, &g);
		if (g.threshold < 0 || g.count < 0)
			return false;
	}
	if (l->gc.generation0 >= 0 &&
	    tc_get_u64(buf, (size_t)l->gc.generation0) != addr + (uint64_t)l->gc.generations)
		return false;
	return true;
}
