/* SPDX-License-Identifier: MIT */
/* The frame cache. See frame_cache.h.
 *
 * Threads live in a fixed array with an open-addressing index over it (rebuilt when idle
 * threads are swept out, every TC_FC_IDLE_SAMPLES samples), so a lookup is one probe and the
 * memory held is bounded by the two TC_FC_MAX_* limits. */
#include "daemon/frame_cache.h"

#include <stdlib.h>
#include <string.h>

#include "tc/common.h"

#define INDEX_CAP (2 * TC_FC_MAX_THREADS) /* power of two */

struct tc_frame_cache {
	struct tc_fc_thread *th;   /* TC_FC_MAX_THREADS entries */
	size_t nth;                /* entries in use */
	int32_t *index;            /* INDEX_CAP slots: entry + 1, 0 empty */
	size_t frames;             /* capacity held over all threads, in frames */
	uint64_t sample, last_sweep;
	struct tc_frame_cache_stats st;
};

struct tc_frame_cache *tc_frame_cache_new(void)
{
	struct tc_frame_cache *fc = calloc(1, sizeof *fc);
	if (!fc)
		return NULL;
	fc->th = calloc(TC_FC_MAX_THREADS, sizeof *fc->th);
	fc->index = calloc(INDEX_CAP, sizeof *fc->index);
	if (!fc->th || !fc->index) {
		tc_frame_cache_free(fc);
		return NULL;
	}
	return fc;
}

static void release(struct tc_frame_cache *fc, struct tc_fc_thread *th)
{
	fc->frames -= th->cap;
	free(th->frames);
	free(th->ids);
	free(th->nodes);
	memset(th, 0, sizeof *th);
}

void tc_frame_cache_free(struct tc_frame_cache *fc)
{
	if (!fc)
		return;
	if (fc->th)
		for (size_t i = 0; i < TC_FC_MAX_THREADS; i++)
			if (fc->th[i].used)
				release(fc, &fc->th[i]);
	free(fc->th);
	free(fc->index);
	free(fc);
}

static size_t slot_of(tc_raddr tstate, uint64_t thread_id)
{
	uint64_t h = (tstate ^ (thread_id * 0xC2B2AE3D27D4EB4Full)) * 0x9E3779B97F4A7C15ull;
	return (size_t)(h >> 40) & (INDEX_CAP - 1);
}

static void index_insert(struct tc_frame_cache *fc, size_t entry)
{
	size_t i = slot_of(fc->th[entry].tstate, fc->th[entry].thread_id);
	while (fc->index[i])
		i = (i + 1) & (INDEX_CAP - 1);
	fc->index[i] = (int32_t)entry + 1;
}

/* Drop threads idle for too long, then rebuild the index over the survivors. */
static void sweep(struct tc_frame_cache *fc)
{
	memset(fc->index, 0, INDEX_CAP * sizeof *fc->index);
	for (size_t i = 0; i < TC_FC_MAX_THREADS; i++) {
		struct tc_fc_thread *th = &fc->th[i];
		if (!th->used)
			continue;
		if (fc->sample - th->last_seen >= TC_FC_IDLE_SAMPLES) {
			release(fc, th);
			fc->nth--;
			fc->st.evicted++;
			continue;
		}
		index_insert(fc, i);
	}
	fc->last_sweep = fc->sample;
}

void tc_frame_cache_begin(struct tc_frame_cache *fc, uint64_t sample)
{
	fc->sample = sample;
	if (sample - fc->last_sweep >= TC_FC_IDLE_SAMPLES)
		sweep(fc);
}

struct tc_fc_thread *tc_frame_cache_thread(struct tc_frame_cache *fc, tc_raddr tstate,
					   uint64_t thread_id)
{
	size_t i = slot_of(tstate, thread_id);
	for (; fc->index[i]; i = (i + 1) & (INDEX_CAP - 1)) {
		struct tc_fc_thread *th = &fc->th[fc->index[i] - 1];
		if (th->tstate == tstate && th->thread_id == thread_id) {
			th->last_seen = fc->sample;
			return th;
		}
	}
	if (fc->nth >= TC_FC_MAX_THREADS)
		return NULL;
	size_t e = 0;
	while (fc->th[e].used)
		e++;
	struct tc_fc_thread *th = &fc->th[e];
	th->used = 1;
	th->tstate = tstate;
	th->thread_id = thread_id;
	th->last_seen = fc->sample;
	fc->index[i] = (int32_t)e + 1;
	fc->nth++;
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
	size_t cap = th->cap ? th->cap : 16;
	while (cap < n)
		cap *= 2;
	if (fc->frames - th->cap + cap > TC_FC_MAX_FRAMES) {
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
	out->threads = fc->nth;
	out->frames = fc->frames;
}
