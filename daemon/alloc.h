/* SPDX-License-Identifier: MIT */
/* Allocator statistics read from outside the process: pymalloc (arenas, pools, size
 * classes), the garbage collector's generations, and the process's memory.
 *
 * tc_alloc_open() locates and validates everything once (at attach); afterwards a
 * struct tc_alloc is read-only, and every read goes through the struct tc_remote the caller
 * passes. So the summary can run on a thread of its own next to the sampler, provided that
 * thread passes its own tc_remote (tc_remote_open(pid)): a tc_remote is not thread-safe
 * (scratch iovecs and counters), and the target's prefetcher t->pf is never used here.
 *
 * Costs (bench/stats_bench.py, docs/PERFORMANCE.md): the summary is 2 process_vm_readv calls
 * and one pread of /proc/PID/statm; the full walk adds one call per 1,024 pools. */
#ifndef TC_ALLOC_H
#define TC_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/target.h"
#include "layouts/alloc_layout.h"
#include "reader/remote.h"

struct tc_alloc;
struct cJSON;

/* -1 in any int64_t field below: not available; the matching why_* (a static string,
 * borrowed) says why. */
struct tc_gc_generation {
	int64_t count, threshold, collections, collected, uncollectable;
};

struct tc_alloc_summary {
	/* pymalloc */
	int64_t arenas_allocated_total; /* ntimes_arena_allocated */
	int64_t arenas_reclaimed;       /* allocated_total - current */
	int64_t arenas_highwater;       /* narenas_highwater */
	int64_t arenas_current;         /* live arenas in the arena array */
	int64_t raw_allocated_blocks;   /* object-allocator blocks served by the system malloc */
	int64_t pools_in_use;           /* sum of (ntotalpools - nfreepools) over live arenas */
	int64_t pools_unused;           /* sum of nfreepools: never carved or emptied */
	int64_t arena_bytes;            /* arenas_current * arena size */
	uint32_t pool_size, arena_size;
	uint32_t arenas_invalid;        /* arena objects that failed validation (skipped) */
	const char *why_pymalloc;       /* NULL when the figures above were read */
	const char *why_arena_counters; /* allocated_total, reclaimed, highwater */
	/* garbage collector */
	int gc_enabled, gc_collecting;  /* 1 / 0, -1 unknown */
	struct tc_gc_generation gen[3];
	const char *why_gc;
	/* process memory (/proc/PID/statm) */
	int64_t rss_bytes, rss_anon_bytes;
	const char *why_process;
};

struct tc_alloc_class {
	uint32_t size;          /* block size in bytes */
	uint64_t pools;         /* pools in use (count > 0) */
	uint64_t blocks_in_use;
	uint64_t free_blocks;   /* free blocks inside those pools */
};

/* A full walk: the summary taken with it, plus every pool header. */
struct tc_alloc_walk {
	struct tc_alloc_summary sum;
	struct tc_alloc_class cls[TC_OM_NCLASSES];
	int64_t allocated_blocks; /* raw_allocated_blocks + blocks in pools: sys.getallocatedblocks() */
	int64_t bytes_in_use;     /* bytes in allocated blocks */
	int64_t bytes_free;       /* bytes in free blocks of used pools */
	uint64_t arenas_unaligned;/* arenas not pool-aligned (one pool lost each) */
	uint64_t pools_read;      /* pool headers read */
	uint64_t pools_invalid;   /* headers that failed validation (skipped) */
	uint64_t arenas_vanished; /* arenas freed while being read (skipped) */
	const char *why;          /* NULL after a walk; else why pymalloc could not be walked */
};

/* Locate and validate pymalloc's and the GC's state in target T (reads through T->mem on the
 * calling thread; T->pf is not used). What cannot be located is recorded with a reason and
 * reads back as unavailable; only a dead or forbidden target fails. Returns 0 and *OUT
 * (caller frees with tc_alloc_free), -TC_ESRCH, -TC_EPERM, -TC_ENOMEM. */
int tc_alloc_open(struct tc_target *t, struct tc_alloc **out);
void tc_alloc_free(struct tc_alloc *a); /* accepts NULL */

/* Addresses already known (a caller that located them itself; unit tests over synthetic
 * images). 0 = unknown: without arenas/maxarenas/raw_allocated_blocks pymalloc reads as
 * unavailable, without ntimes/highwater the lifetime arena counters do, without gc the GC. */
struct tc_alloc_addrs {
	tc_raddr arenas, maxarenas, raw_allocated_blocks;
	tc_raddr ntimes_arena_allocated, narenas_highwater;
	tc_raddr gc;
};

/* A struct tc_alloc over known addresses, without looking at the target (nothing is read
 * here). L is copied. PID (0: none) selects /proc/PID/statm for the process figures;
 * VERSION is reported as is. Returns 0 and *OUT (caller frees), -TC_EINVAL, -TC_ENOMEM. */
int tc_alloc_open_addrs(pid_t pid, const struct tc_alloc_layout *l,
			const struct tc_alloc_addrs *ad, const char *version,
			struct tc_alloc **out);

/* The layout in use (borrowed). */
const struct tc_alloc_layout *tc_alloc_layout(const struct tc_alloc *a);

/* How each part was located, for --verbose output ("obmalloc: interp+0x2a30 -> 0x...").
 * Borrowed strings, never NULL. */
const char *tc_alloc_how_pymalloc(const struct tc_alloc *a);
const char *tc_alloc_how_gc(const struct tc_alloc *a);

/* Counters, arena array, GC and process memory: 2 process_vm_readv calls through MEM (any
 * tc_remote of the same target that the calling thread owns) plus one pread of
 * /proc/PID/statm. A read that races the target (the arena array reallocated) is retried.
 * Returns 0 (unavailable parts flagged in OUT), -TC_ESRCH, -TC_EPERM, -TC_ENOMEM. */
int tc_alloc_summary(const struct tc_alloc *a, struct tc_remote *mem,
		     struct tc_alloc_summary *out);

/* Summary plus every pool of every live arena (one pool header per iovec, batched 1,024 per
 * call). Headers that fail validation and arenas freed meanwhile are skipped and counted, so
 * figures never go negative. Returns as tc_alloc_summary. */
int tc_alloc_walk(const struct tc_alloc *a, struct tc_remote *mem, struct tc_alloc_walk *out);

/* The stats object of DESIGN.md ("pid", "python", "pymalloc", "gc", "process",
 * "unavailable") for S (summary only: no size classes) or W (full walk; S ignored).
 * Returns a new cJSON object (caller frees with cJSON_Delete), or NULL on ENOMEM. */
struct cJSON *tc_alloc_json(const struct tc_alloc *a, const struct tc_alloc_summary *s,
			    const struct tc_alloc_walk *w);

/* The globals a 3.9-3.11 _Py_GetAllocatedBlocks() reads, from its machine code (x86-64; CODE,
 * LEN bytes at link-time address PC): raw_allocated_blocks (8 bytes, accumulated),
 * maxarenas (4 bytes) and arenas (8 bytes, dereferenced). Addresses are link-time, like PC.
 * Returns 0; -TC_EINVAL when the code does not decode; -TC_ENOENT when it does not read
 * exactly those three globals. */
int tc_alloc_decode_getallocatedblocks(const uint8_t *code, size_t len, uint64_t pc,
				       uint64_t *raw, uint64_t *maxarenas, uint64_t *arenas);

/* ---- GC (daemon/alloc_gc.c), used by alloc.c ------------------------------------------ */

/* Find the struct _gc_runtime_state of the interpreter at INTERP: the table's offset when
 * its contents are plausible (generation0 == &generations[0]), else the nearest offset
 * within 1 KiB where they are. Where a point release moved generations[] (L->gc
 * .generations_alt), L is updated to the position generation0 confirms. Returns 0 and *ADDR
 * (HOW describes it), -TC_ENOENT when no plausible state was found, or a read error. */
int tc_alloc_gc_locate(struct tc_alloc_layout *l, struct tc_remote *mem, tc_raddr interp,
		       tc_raddr *addr, char *how, size_t howlen);

/* Fill the gc fields of S from a copy of the GC state GC (l->gc.size bytes, at remote ADDR)
 * and, for 3.15, a copy of its struct gc_stats RING (RINGLEN bytes; NULL otherwise). Sets
 * S->why_gc and returns -TC_ECORRUPT when the copy fails validation (a torn read), else 0. */
int tc_alloc_gc_decode(const struct tc_alloc_layout *l, const void *gc, tc_raddr addr,
		       const void *ring, size_t ringlen, struct tc_alloc_summary *s);

/* 3.15: the address of struct gc_stats held in a GC state copy, 0 for other versions or an
 * implausible pointer. */
tc_raddr tc_alloc_gc_ring_addr(const struct tc_alloc_layout *l, const void *gc);

#endif
