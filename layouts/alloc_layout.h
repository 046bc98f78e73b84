/* SPDX-License-Identifier: MIT */
/* Where CPython keeps its small-object allocator (pymalloc, Objects/obmalloc.c) and its
 * garbage-collector state, per version, and what the bytes of an arena_object and a
 * pool_header mean.
 *
 * _Py_DebugOffsets describes none of this, so the offsets are tables here (read off the
 * DWARF of every build on the test machine that has it, and off the headers for the rest;
 * see alloc_layout.c), validated against the live target by daemon/alloc.c. The decoders and
 * validators below are pure functions over copied bytes: no I/O. */
#ifndef TC_ALLOC_LAYOUT_H
#define TC_ALLOC_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tc/common.h"

/* Fixed by obmalloc.c on 64-bit builds from 3.9 to 3.15. */
#define TC_OM_NCLASSES 32         /* SMALL_REQUEST_THRESHOLD 512 / ALIGNMENT 16 */
#define TC_OM_ALIGNMENT 16
#define TC_OM_POOL_OVERHEAD 48    /* sizeof(struct pool_header), rounded to ALIGNMENT */
#define TC_OM_ARENA_OBJECT_SIZE 48
#define TC_OM_POOL_HEADER_SIZE 48
#define TC_OM_USEDPOOLS 64        /* entries of usedpools[] (two per class, padded to 8) */
/* Bounds for untrusted counts (1 << 20 arena objects describe 1 TiB of 1 MiB arenas). */
#define TC_OM_MAX_ARENAS (1u << 20)

/* Where a build keeps its struct _obmalloc_state. */
enum tc_om_home {
	TC_OM_NONE = 0,        /* not pymalloc (free-threaded builds use mimalloc) */
	TC_OM_STATIC = 1,      /* 3.9-3.11: separate static globals of obmalloc.c */
	TC_OM_INTERP = 2,      /* 3.12: embedded in PyInterpreterState (interp->obmalloc) */
	TC_OM_INTERP_PTR = 3   /* 3.13+: interp->obmalloc is a pointer (main: a static) */
};

/* How gc.get_stats() records are kept. */
enum tc_gc_stats_model {
	TC_GCS_NONE = 0,
	TC_GCS_ARRAY = 1, /* 3.9-3.14: struct gc_generation_stats generation_stats[3] embedded */
	TC_GCS_RING = 2   /* 3.15: struct gc_stats *generation_stats, rings of records */
};

struct tc_alloc_layout {
	uint32_t version_hex;
	bool debug;
	const char *source;     /* where the table's figures come from, for messages */

	/* pymalloc geometry */
	uint32_t pool_size;     /* 4 KiB on 3.9, 16 KiB from 3.10 */
	uint32_t arena_size;    /* 256 KiB on 3.9, 1 MiB from 3.10 */

	enum tc_om_home om_home;
	int32_t interp_obmalloc;      /* offset of obmalloc in PyInterpreterState, -1 */
	const char *om_main_symbol;   /* static holding the main interpreter's state, or NULL */
	/* offsets inside struct _obmalloc_state (3.12+) */
	struct {
		int32_t usedpools;                   /* poolp used[64] */
		int32_t arenas;                      /* struct arena_object * */
		int32_t maxarenas;                   /* uint */
		int32_t narenas_currently_allocated; /* size_t */
		int32_t ntimes_arena_allocated;      /* size_t */
		int32_t narenas_highwater;           /* size_t */
		int32_t raw_allocated_blocks;        /* Py_ssize_t */
		int32_t size;                        /* bytes to read to cover the counters */
	} om;

	/* GC: struct _gc_runtime_state at interp + interp_gc */
	int32_t interp_gc;            /* -1 when unknown */
	struct {
		int32_t size;         /* bytes to read to cover every field below */
		int32_t enabled;      /* int */
		int32_t generations;  /* struct gc_generation[3] */
		int32_t generations_alt; /* where a point release moved it (see .c), -1 */
		int32_t generation0;  /* PyGC_Head *: == &generations[0] (validation), -1 */
		int32_t stats;        /* embedded array (ARRAY) or pointer (RING) */
		int32_t collecting;   /* int */
	} gc;
	enum tc_gc_stats_model gc_stats_model;
	/* struct gc_generation: PyGC_Head head (16), int threshold, int count */
	int32_t gen_size, gen_threshold, gen_count;
	/* records: {collections, collected, uncollectable} at these offsets */
	int32_t rec_size, rec_collections, rec_collected, rec_uncollectable;
	/* 3.15 struct gc_stats: young ring then old[2] rings (RING model only) */
	struct {
		int32_t size;         /* sizeof(struct gc_stats) */
		int32_t young_items;  /* records in the young ring (11) */
		int32_t young_index;  /* int8_t index of the young ring */
		int32_t old;          /* offset of old[0] */
		int32_t old_stride;   /* sizeof(struct gc_old_stats_buffer) */
		int32_t old_items;    /* records per old ring (3) */
		int32_t old_index;    /* int8_t index inside an old ring */
	} ring;
};

/* Fill OUT for PY_VERSION_HEX VERSION_HEX (DEBUG: Py_DEBUG build). A free-threaded build gets
 * om_home TC_OM_NONE and interp_gc -1 (not covered). Returns 0, or -TC_EVERSION outside
 * 3.9-3.15. */
int tc_alloc_layout_get(uint32_t version_hex, bool debug, bool free_threaded,
			struct tc_alloc_layout *out);

/* Blocks of size class SZIDX that fit in one pool: (POOL_SIZE - 48) / ((SZIDX + 1) * 16);
 * 0 for an invalid class. */
uint32_t tc_alloc_blocks_per_pool(const struct tc_alloc_layout *l, uint32_t szidx);

/* usedpools[] at remote ADDR (BUF holds its TC_OM_USEDPOOLS pointers): every class is
 * either empty, both entries pointing 16 bytes before their own pair (CPython's PTA()), or
 * both entries point at pool-aligned addresses. Returns the number of empty classes (>= 0),
 * or -TC_EINVAL when the pattern does not hold (this is not usedpools). */
int tc_alloc_check_usedpools(const struct tc_alloc_layout *l, const void *buf, size_t len,
			     tc_raddr addr);

/* One decoded struct arena_object. */
struct tc_arena {
	tc_raddr address;      /* 0: slot not in use */
	tc_raddr pool_address; /* first never-carved pool */
	uint32_t nfreepools, ntotalpools;
	tc_raddr first_pool;   /* address rounded up to the pool size */
	uint32_t npools;       /* pools carved so far: (pool_address - first_pool) / pool_size */
};

/* Decode and check the arena object in BUF (TC_OM_ARENA_OBJECT_SIZE bytes). Returns 1 when
 * the slot holds a live arena (OUT filled), 0 for an unused slot, -TC_ECORRUPT when the
 * fields are inconsistent (pool_address outside the arena, more free than total pools). */
int tc_alloc_decode_arena(const struct tc_alloc_layout *l, const void *buf,
			  struct tc_arena *out);

/* Decode and check a pool header (BUF, at least 40 bytes) of arena number ARENAINDEX.
 * Returns 1 with *SZIDX and *COUNT for a pool in use, 0 for an empty pool (count 0: on the
 * arena's free list), -TC_ECORRUPT when the header cannot be one of a live pool of that
 * arena (size class >= 32, more blocks than fit, another arena's index). */
int tc_alloc_decode_pool(const struct tc_alloc_layout *l, const void *buf, uint32_t arenaindex,
			 uint32_t *szidx, uint32_t *count);

/* GC generation I (0..2) of a struct _gc_runtime_state copy (BUF, l->gc.size bytes). */
struct tc_gc_gen_raw {
	int64_t threshold, count;
};
void tc_alloc_gc_generation(const struct tc_alloc_layout *l, const void *buf, int i,
			    struct tc_gc_gen_raw *out);

/* Record of generation I in a copy of the stats (BUF: the embedded array's gc state copy for
 * TC_GCS_ARRAY, a struct gc_stats copy for TC_GCS_RING). Returns 0, or -TC_ECORRUPT when a
 * ring index is out of range or a value is negative. */
struct tc_gc_rec {
	int64_t collections, collected, uncollectable;
};
int tc_alloc_gc_record(const struct tc_alloc_layout *l, const void *buf, size_t len, int i,
		       struct tc_gc_rec *out);

/* True when the GC state copy BUF at remote ADDR looks like one: enabled and collecting 0/1,
 * thresholds and counts non-negative and, where the build has it, generation0 pointing at
 * generations[0]. */
bool tc_alloc_gc_plausible(const struct tc_alloc_layout *l, const void *buf, tc_raddr addr);

#endif
