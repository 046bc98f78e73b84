/* SPDX-License-Identifier: MIT */
/* The frame cache. See frame_cache.h.
 *
 * Threads are slots of a base/slots table (a fixed array with an open-addressing index over
 * it, rebuilt when idle threads are swept out every TC_FC_IDLE_SAMPLES samples), so a lookup
 * is one probe and the memory held is bounded by the two TC_FC_MAX_* limits. This file keeps
 * what a thread's slot holds: its last stack, ids and nodes. */
#include "daemon/frame_cache.h"

#include <stdlib.h>
#include <string.h>

#include "base/slots.h"
#include "base/vec.h"
#include "tc/common.h"

struct tc_frame_cache {
	struct tc_slots threads;   /* payload: struct tc_fc_thread, keyed (tstate, thread id) */
	size_t frames;             /* capacity held over all threads, in frames */
	struct tc_frame_cache_stats st;
};

/* A thread's slot is released (idle, or the cache is freed). */
static void release(void *ctx, void *payload)
{
	struct tc_frame_cache *fc = ctx;
	struct tc_fc_thread *th = payload;
	fc->frames -= th->cap;
	free(th->frames);
	free(th->ids);
	free(th->nodes);
}

struct tc_frame_cache *tc_frame_cache_new(void)
{
	struct tc_frame_cache *fc = calloc(1, sizeof *fc);
	if (!fc)
		return NULL;
	if (tc_slots_init(&fc->threads, TC_FC_MAX_THREADS, sizeof(struct tc_fc_thread),
			  TC_FC_IDLE_SAMPLES, release, fc) != 0) {
		free(fc);
		return NULL;
	}
	return fc;
}

void tc_frame_cache_free(struct tc_frame_cache *fc)
{
	if (!fc)
		return;
	tc_slots_free(&fc->threads);
	free(fc);
}

void tc_frame_cache_begin(struct tc_frame_cache *fc, uint64_t sample)
{
	tc_slots_begin(&fc->threads, sample);
}

struct tc_fc_thread *tc_frame_cache_thread(struct tc_frame_cache *fc, tc_raddr tstate,
					   uint64_t thread_id)
{
	struct tc_fc_thread *th = tc_slots_get(&fc->threads, tstate, thread_id);
	if (!th)
		return NULL;
	if (!th->used) { /* taken just now (zeroed) */
		th->used = 1;
		th->tstate = tstate;
		th->thread_id = thread_id;
	}
	th->last_seen = fc->threads.tick;
	return th;
}

/* Frames compare as bytes (struct tc_raw_frame has no padding: its last field is an explicit
 * zero), 64 at a time from the bottom, then one by one inside the block that differs. */
size_t tc_frame_cache_match(const struct tc_fc_thread *th, const struct tc_raw_frame *frames,
			    size_t n)
{
	size_t m = th->n < n ? th->n : n, same = 0;
	if (m == 0) /* a new entry has no array: no pointer arithmetic on NULL */
		return 0;
	const struct tc_raw_frame *a = frames + n, *b = th->frames + th->n; /* one past bottom */
	while (same + 64 <= m && memcmp(a - same - 64, b - same - 64, 64 * sizeof *a) == 0)
		same += 64;
	while (same < m && memcmp(a - same - 1, b - same - 1, sizeof *a) == 0)
		same++;
	return same;
}

int tc_frame_cache_reserve(struct tc_frame_cache *fc, struct tc_fc_thread *th, size_t n)
{
	if (n <= th->cap)
		return 0;
	size_t cap;
	if (tc_vec_next_cap(th->cap, n, 16, sizeof *th->frames, &cap) != 0 ||
	    fc->frames - th->cap + cap > TC_FC_MAX_FRAMES) {
		fc->st.uncached++;
		th->n = 0;
		return -TC_ERANGE;
	}
	struct tc_raw_frame *f = realloc(th->frames, cap * sizeof *f);
	if (f)
		th->frames = f;
	int32_t *ids = realloc(th->ids, cap * sizeof *ids);
	if (ids)
		th->ids = ids;
	int32_t *nodes = realloc(th->nodes, cap * sizeof *nodes);
	if (nodes)
		th->nodes = nodes;
	if (!f || !ids || !nodes) {
		th->n = 0;
		return -TC_ENOMEM;
	}
	fc->frames = fc->frames - th->cap + cap;
	th->cap = cap;
	return 0;
}

void tc_frame_cache_store(struct tc_frame_cache *fc, struct tc_fc_thread *th,
			  const struct tc_raw_frame *frames, size_t n, size_t reused)
{
	if (n) /* an empty entry has no array yet */
		memcpy(th->frames, frames, n * sizeof *frames);
	th->n = n;
	fc->st.reused += reused;
	fc->st.resolved += n - reused;
}

void tc_frame_cache_get_stats(const struct tc_frame_cache *fc, struct tc_frame_cache_stats *out)
{
	*out = fc->st;
	out->evicted = fc->threads.st.evictions;
	out->threads = fc->threads.n;
	out->frames = fc->frames;
}
