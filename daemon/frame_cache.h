/* SPDX-License-Identifier: MIT */
/* The frame cache: per thread, the last stack the sampler recorded (raw frames as walked),
 * with the profile frame id and stack node of every level, so that the next sample of that
 * thread resolves only the frames that changed.
 *
 * Read-only by construction: nothing is assumed about the target. Every sample is walked in
 * full from memory read during that sample; the cache is consulted only after the walk, to
 * find how many frames at the bottom of the fresh stack are identical (code object, instruction
 * offset, known line) to the bottom of the previous one. Those levels reuse the previous
 * frame ids and stack nodes, which are functions of exactly those values. So a reused prefix
 * is never a guess about frames that were not read: it is a memo keyed by what was read.
 *
 * Bounded: at most TC_FC_MAX_THREADS threads and TC_FC_MAX_FRAMES frames in all; a thread
 * not seen for TC_FC_IDLE_SAMPLES samples is dropped, and a stack that does not fit is simply
 * not cached (it is resolved frame by frame). */
#ifndef TC_FRAME_CACHE_H
#define TC_FRAME_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/unwind.h"

#define TC_FC_MAX_THREADS 4096
#define TC_FC_MAX_FRAMES (1u << 18)
#define TC_FC_IDLE_SAMPLES 1024

struct tc_frame_cache_stats {
	uint64_t reused;   /* frames whose id and node came from the cache */
	uint64_t resolved; /* frames resolved afresh */
	uint64_t evicted;  /* threads dropped (idle, or no room) */
	uint64_t uncached; /* stacks not stored for lack of room */
	size_t threads, frames; /* held now */
};

/* One thread's last recorded stack. FRAMES is innermost first, as walked; IDS and NODES are
 * indexed from the bottom (level 0 is the outermost frame), so a prefix that stays keeps its
 * indexes. */
struct tc_fc_thread {
	tc_raddr tstate;
	uint64_t thread_id;
	uint64_t last_seen;       /* sample number */
	struct tc_raw_frame *frames;
	int32_t *ids, *nodes;
	size_t n, cap;
	int used;                 /* slot in use */
};

struct tc_frame_cache;

struct tc_frame_cache *tc_frame_cache_new(void); /* NULL on allocation failure */
void tc_frame_cache_free(struct tc_frame_cache *fc); /* accepts NULL */

/* Start sample number SAMPLE (increasing): threads idle for too long are dropped. */
void tc_frame_cache_begin(struct tc_frame_cache *fc, uint64_t sample);

/* The entry of thread (TSTATE, THREAD_ID), created empty on first sight; NULL when the
 * thread table is full. */
struct tc_fc_thread *tc_frame_cache_thread(struct tc_frame_cache *fc, tc_raddr tstate,
					   uint64_t thread_id);

/* Number of bottom frames of FRAMES[0..N) (innermost first) identical to the bottom of TH's
 * cached stack: levels 0 .. result-1 of TH->ids / TH->nodes apply to this stack. */
size_t tc_frame_cache_match(const struct tc_fc_thread *th, const struct tc_raw_frame *frames,
			    size_t n);

/* Make room for a stack of N frames in TH (levels already there are kept). Returns 0, or
 * -TC_ERANGE when the cache is full (TH is then emptied and the stack is not cached), or
 * -TC_ENOMEM. */
int tc_frame_cache_reserve(struct tc_frame_cache *fc, struct tc_fc_thread *th, size_t n);

/* After the caller filled TH->ids / TH->nodes for levels REUSED..N-1 (the levels below came
 * from tc_frame_cache_match): store FRAMES[0..N) as TH's stack. */
void tc_frame_cache_store(struct tc_frame_cache *fc, struct tc_fc_thread *th,
			  const struct tc_raw_frame *frames, size_t n, size_t reused);

void tc_frame_cache_get_stats(const struct tc_frame_cache *fc, struct tc_frame_cache_stats *out);

#endif
