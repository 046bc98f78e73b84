/* SPDX-License-Identifier: MIT */
/* A reader that learns what a walk reads and fetches all of it in one batched syscall the
 * next time.
 *
 * Sampling walks the same structures again and again (thread states, the live part of each
 * thread's frame stack, the GIL state). tc_prefetch remembers the ranges one walk read, merges
 * neighbours, and at the start of the next walk reads them all with one process_vm_readv.
 * Reads during the walk are then served from that copy, taken at one instant, so the walk sees
 * a consistent snapshot at the cost of a single syscall; anything new is read directly (with
 * the rest of its page, for the reads that follow in the same walk) and learned for next time. Nothing is assumed about the data: every byte handed out was read
 * from the target during the current walk. */
#ifndef TC_PREFETCH_H
#define TC_PREFETCH_H

#include <stddef.h>
#include <stdint.h>

#include "reader/remote.h"

struct tc_prefetch_stats {
	uint64_t walks;     /* begin() calls */
	uint64_t hits;      /* reads served from the batch */
	uint64_t misses;    /* reads that needed their own syscall */
	uint64_t batch_ranges, batch_bytes; /* summed over walks */
	uint64_t batch_failures;            /* batches that had to be split (a range vanished) */
};

struct tc_prefetch;

/* Walks in a range's window: at its end the range shrinks to what the window's walks used. */
#define TC_PREFETCH_WINDOW 128

/* A prefetcher over R (borrowed; must outlive it). At most MAX_RANGES ranges and MAX_BYTES
 * bytes are fetched per walk (0: 512 ranges, 4 MiB). Returns 0 or -TC_ENOMEM. */
int tc_prefetch_new(struct tc_remote *r, size_t max_ranges, size_t max_bytes,
		    struct tc_prefetch **out);
void tc_prefetch_free(struct tc_prefetch *p); /* accepts NULL */

/* Start a walk: fetch what the previous walk used. Returns 0; -TC_ESRCH / -TC_EPERM when the
 * target is gone or refused (fatal); a range that no longer reads is just dropped. */
int tc_prefetch_begin(struct tc_prefetch *p);

/* Copy LEN bytes at ADDR into BUF: from the batch when it holds the whole range, else with a
 * direct read (learned for the next walk). Returns 0 or the errors of tc_remote_read. */
int tc_prefetch_read(struct tc_prefetch *p, tc_raddr addr, void *buf, size_t len);

/* A pointer to LEN bytes at ADDR inside this walk's batch (or a page read around a miss),
 * valid until tc_prefetch_end; NULL when they are not all there (then use tc_prefetch_read).
 * Counts as a use of those bytes, like a read. Also gives the whole stretch of fetched bytes
 * around ADDR: [*LO, *HI), starting at the returned pointer minus (ADDR - *LO). A caller
 * walking nearby addresses (a frame chain) reads them straight from that window, then reports
 * the part it used, and how many reads that saved, with tc_prefetch_mark. */
const uint8_t *tc_prefetch_window(struct tc_prefetch *p, tc_raddr addr, size_t len,
				  tc_raddr *lo, tc_raddr *hi);
void tc_prefetch_mark(struct tc_prefetch *p, tc_raddr lo, tc_raddr hi, uint64_t reads);

/* The walk turned out torn: do not learn its misses (reads through pointers that were being
 * rewritten). Call before tc_prefetch_end. */
void tc_prefetch_discard_misses(struct tc_prefetch *p);

/* End a walk: the ranges it used become the next walk's batch. */
void tc_prefetch_end(struct tc_prefetch *p);

/* Forget everything learned (the next walk starts cold). */
void tc_prefetch_reset(struct tc_prefetch *p);

void tc_prefetch_get_stats(const struct tc_prefetch *p, struct tc_prefetch_stats *out);

/* The ranges the next walk's batch will fetch: up to MAX of them into ADDR/LEN; returns how
 * many there are in all (bench reports them, so that a floor can replay the same read). */
size_t tc_prefetch_batch(const struct tc_prefetch *p, tc_raddr *addr, size_t *len, size_t max);

#endif
