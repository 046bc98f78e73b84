/* SPDX-License-Identifier: MIT */
/* pymalloc statistics from outside the process, the reading half (see alloc.h; locating is
 * in alloc.c): the summary (counters, arena array, GC, /proc/PID/statm), the full walk of
 * every pool header, and the stats object as JSON.
 *
 * Reading: where the arena array is and the GC state (one process_vm_readv), then the arena
 * array, the counters and on 3.15 the GC records (a second one); the walk then reads the first
 * 40 bytes of every carved pool of every live arena, 1,024 per call. Every value is bounded and checked:
 * arena objects (pool_address inside the arena, free <= total pools), pool headers (size
 * class < 32, count <= blocks per pool, arenaindex == its arena). */
#include "daemon/alloc.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/alloc_internal.h"
#include "reader/proc.h"

#define SUMMARY_TRIES 5
#define WALK_BATCH 1024          /* pool headers per process_vm_readv */
#define POOL_READ 40             /* ref.count .. szidx */
/* One range per pool header, not one per arena: every page is pinned either way, and copying
 * whole runs costs more than the extra iovecs (docs/PERFORMANCE.md, "Design measurements"). */

/* RSS and anonymous RSS (reader/proc.c). */
static void read_statm(const struct tc_alloc *a, struct tc_alloc_summary *s)
{
	s->rss_bytes = s->rss_anon_bytes = -1;
	s->why_process = "/proc/PID/statm not readable";
	if (a->statm_fd >= 0 && tc_proc_statm(a->statm_fd, &s->rss_bytes, &s->rss_anon_bytes) == 0)
		s->why_process = NULL;
}

static void summary_blank(const struct tc_alloc *a, struct tc_alloc_summary *s)
{
	memset(s, 0, sizeof *s);
	s->arenas_allocated_total = s->arenas_reclaimed = s->arenas_highwater = -1;
	s->arenas_current = s->raw_allocated_blocks = s->pools_in_use = s->pools_unused = -1;
	s->arena_bytes = -1;
	s->pool_size = a->l.pool_size;
	s->arena_size = a->l.arena_size;
	s->why_pymalloc = a->have_om ? NULL : a->why_om;
	s->why_arena_counters = a->have_om ? a->why_counters : a->why_om;
	s->gc_enabled = s->gc_collecting = -1;
	for (int i = 0; i < 3; i++)
		s->gen[i] = (struct tc_gc_generation){-1, -1, -1, -1, -1};
	s->why_gc = a->have_gc ? NULL : a->why_gc;
	s->rss_bytes = s->rss_anon_bytes = -1;
}

/* One consistent read of counters, arena array and GC. *ARENAS_OUT (caller frees), when not
 * NULL, receives the arena array copy and *NARENAS_OUT its entries. A GC copy that fails
 * validation sets *GC_TORN (S->why_gc says so). Returns 0, -TC_EFAULT / -TC_ECORRUPT
 * (raced: retry), or a fatal error. */
static int read_once(const struct tc_alloc *a, struct tc_remote *mem, struct tc_alloc_summary *s,
		     uint8_t **arenas_out, uint32_t *narenas_out, bool *gc_torn)
{
	uint32_t maxarenas = 0;
	uint64_t arenas = 0, raw = 0, ntimes = 0, highwater = 0;
	uint8_t gcbuf[512], ringbuf[2048];
	uint8_t *arr = NULL;
	struct tc_riov v[8];
	size_t n = 0, ringlen = 0;
	tc_raddr ring = 0;
	int err;

	summary_blank(a, s);
	if (a->have_om) {
		v[n++] = (struct tc_riov){a->v.maxarenas, &maxarenas, 4};
		v[n++] = (struct tc_riov){a->v.arenas, &arenas, 8};
	}
	if (a->have_gc && (size_t)a->l.gc.size <= sizeof gcbuf)
		v[n++] = (struct tc_riov){a->gc, gcbuf, (size_t)a->l.gc.size};
	if (n) {
		err = tc_remote_readv(mem, v, n);
		if (err)
			return err;
	}
	/* second call: the arena array and the 3.15 GC records */
	n = 0;
	if (a->have_om) {
		if (maxarenas > TC_OM_MAX_ARENAS || (maxarenas && !arenas))
			return -TC_ECORRUPT;
		if (maxarenas) {
			arr = malloc((size_t)maxarenas * TC_OM_ARENA_OBJECT_SIZE);
			if (!arr)
				return -TC_ENOMEM;
			v[n++] = (struct tc_riov){arenas, arr,
						  (size_t)maxarenas * TC_OM_ARENA_OBJECT_SIZE};
		}
		/* The counters after the array (iovecs are copied in order): arenas allocated
		 * meanwhile then count in ntimes and highwater too, so neither is ever below
		 * the live arenas counted in the array. */
		v[n++] = (struct tc_riov){a->v.raw, &raw, 8};
		if (a->v.ntimes && a->v.highwater) {
			v[n++] = (struct tc_riov){a->v.ntimes, &ntimes, 8};
			v[n++] = (struct tc_riov){a->v.highwater, &highwater, 8};
		}
	}
	if (a->have_gc && a->l.gc_stats_model == TC_GCS_RING &&
	    (size_t)a->l.ring.size <= sizeof ringbuf) {
		ring = tc_alloc_gc_ring_addr(&a->l, gcbuf);
		if (ring) {
			ringlen = (size_t)a->l.ring.size;
			v[n++] = (struct tc_riov){ring, ringbuf, ringlen};
		}
	}
	if (n) {
		err = tc_remote_readv(mem, v, n);
		if (err) {
			free(arr);
			return err;
		}
	}
	/* a torn GC copy costs the GC figures of this attempt, not pymalloc's */
	if (a->have_gc && tc_alloc_gc_decode(&a->l, gcbuf, a->gc, ring ? ringbuf : NULL, ringlen,
					     s) != 0)
		*gc_torn = true;
	if (a->have_om) {
		int64_t live = 0, inuse = 0, unused = 0;

		for (uint32_t i = 0; i < maxarenas; i++) {
			struct tc_arena ar;
			int r = tc_alloc_decode_arena(&a->l, arr + (size_t)i * TC_OM_ARENA_OBJECT_SIZE,
						      &ar);

			if (r < 0) {
				s->arenas_invalid++;
				continue;
			}
			if (r == 0)
				continue;
			live++;
			inuse += ar.ntotalpools - ar.nfreepools;
			unused += ar.nfreepools;
		}
		if ((int64_t)raw < 0 ||
		    (a->v.ntimes && (ntimes > (uint64_t)INT64_MAX || highwater > ntimes ||
				     highwater < (uint64_t)live))) {
			free(arr);
			return -TC_ECORRUPT;
		}
		s->arenas_current = live;
		s->raw_allocated_blocks = (int64_t)raw;
		s->pools_in_use = inuse;
		s->pools_unused = unused;
		s->arena_bytes = live * (int64_t)a->l.arena_size;
		if (a->v.ntimes) {
			s->arenas_allocated_total = (int64_t)ntimes;
			/* reclaimed as _debugmallocstats prints it: total - live (>= 0: the
			 * counters were read after the array, and highwater >= live is checked) */
			s->arenas_reclaimed = (int64_t)ntimes - live;
			s->arenas_highwater = (int64_t)highwater;
		}
	}
	if (arenas_out) {
		*arenas_out = arr;
		*narenas_out = maxarenas;
	} else {
		free(arr);
	}
	return 0;
}

static int read_core(const struct tc_alloc *a, struct tc_remote *mem, struct tc_alloc_summary *s,
		     uint8_t **arenas_out, uint32_t *narenas_out)
{
	int err = 0;

	for (int i = 0; i < SUMMARY_TRIES; i++) {
		bool gc_torn = false;

		if (arenas_out) {
			*arenas_out = NULL;
			*narenas_out = 0;
		}
		err = read_once(a, mem, s, arenas_out, narenas_out, &gc_torn);
		if (err == -TC_EFAULT || err == -TC_ECORRUPT)
			continue;
		if (err || !gc_torn || i + 1 == SUMMARY_TRIES)
			break;
		/* try again for a whole GC copy */
		if (arenas_out) {
			free(*arenas_out);
			*arenas_out = NULL;
		}
	}
	if (err == -TC_EFAULT || err == -TC_ECORRUPT) {
		/* the target kept changing under us: say so rather than print garbage */
		summary_blank(a, s);
		if (a->have_om)
			s->why_pymalloc = s->why_arena_counters =
				"the allocator changed during every attempt to read it";
		if (a->have_gc)
			s->why_gc = "the GC state changed during every attempt to read it";
		err = 0;
	}
	read_statm(a, s);
	return err;
}

int tc_alloc_summary(const struct tc_alloc *a, struct tc_remote *mem,
		     struct tc_alloc_summary *out)
{
	if (!a || !mem || !out)
		return -TC_EINVAL;
	return read_core(a, mem, out, NULL, NULL);
}

/* Pools of one arena to read. */
struct walk_arena {
	uint32_t index;
	struct tc_arena ar;
	size_t first; /* first header slot in the batch */
};


/* Tally the headers of arenas W[0..N) whose bytes are in HDR. */
static void tally(const struct tc_alloc *a, struct tc_alloc_walk *out, const struct walk_arena *w,
		  size_t n, const uint8_t *hdr, const bool *gone)
{
	for (size_t i = 0; i < n; i++) {
		if (gone[i]) {
			out->arenas_vanished++;
			continue;
		}
		for (uint32_t j = 0; j < w[i].ar.npools; j++) {
			uint32_t sz = 0, count = 0;
			int r = tc_alloc_decode_pool(&a->l, hdr + (w[i].first + j) * POOL_READ,
						     w[i].index, &sz, &count);

			out->pools_read++;
			if (r < 0) {
				out->pools_invalid++;
				continue;
			}
			if (r == 0)
				continue;
			out->cls[sz].pools++;
			out->cls[sz].blocks_in_use += count;
			out->cls[sz].free_blocks += tc_alloc_blocks_per_pool(&a->l, sz) - count;
		}
	}
}

/* Read the headers of the arenas W[0..N) (N * pools <= WALK_BATCH) in one call; an arena
 * freed meanwhile makes the call fail, then each arena is read alone and the vanished ones
 * are marked in GONE. Returns 0 or a fatal error. */
static int read_batch(const struct tc_alloc *a, struct tc_remote *mem, const struct walk_arena *w,
		      size_t n, struct tc_riov *iov, uint8_t *hdr, bool *gone)
{
	size_t k = 0;
	int err;

	for (size_t i = 0; i < n; i++) {
		gone[i] = false;
		for (uint32_t j = 0; j < w[i].ar.npools; j++, k++)
			iov[k] = (struct tc_riov){w[i].ar.first_pool + (uint64_t)j * a->l.pool_size,
						  hdr + k * POOL_READ, POOL_READ};
	}
	err = tc_remote_readv(mem, iov, k);
	if (err != -TC_EFAULT)
		return err;
	for (size_t i = 0; i < n; i++) {
		err = tc_remote_readv(mem, iov + w[i].first, w[i].ar.npools);
		if (err == -TC_EFAULT)
			gone[i] = true;
		else if (err)
			return err;
	}
	return 0;
}

int tc_alloc_walk(const struct tc_alloc *a, struct tc_remote *mem, struct tc_alloc_walk *out)
{
	uint8_t *arr = NULL, *hdr = NULL;
	struct tc_riov *iov = NULL;
	struct walk_arena *w = NULL;
	bool *gone = NULL;
	uint32_t narenas = 0;
	size_t nw = 0, npools = 0;
	int err;

	if (!a || !mem || !out)
		return -TC_EINVAL;
	memset(out, 0, sizeof *out);
	for (uint32_t i = 0; i < TC_OM_NCLASSES; i++)
		out->cls[i].size = (i + 1) * TC_OM_ALIGNMENT;
	out->allocated_blocks = out->bytes_in_use = out->bytes_free = -1;
	err = read_core(a, mem, &out->sum, &arr, &narenas);
	if (err)
		return err;
	out->why = out->sum.why_pymalloc;
	if (!a->have_om || !arr) {
		if (!out->why)
			out->why = "pymalloc not readable";
		free(arr);
		return 0;
	}
	hdr = malloc((size_t)WALK_BATCH * POOL_READ);
	iov = calloc(WALK_BATCH, sizeof *iov);
	w = calloc(WALK_BATCH, sizeof *w);
	gone = calloc(WALK_BATCH, sizeof *gone);
	if (!hdr || !iov || !w || !gone) {
		err = -TC_ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i <= narenas; i++) {
		struct tc_arena ar = {0};

		if (i < narenas &&
		    tc_alloc_decode_arena(&a->l, arr + (size_t)i * TC_OM_ARENA_OBJECT_SIZE, &ar) <= 0)
			continue;
		/* flush when this arena would not fit, and at the end */
		if (nw && (i == narenas || npools + ar.npools > WALK_BATCH)) {
			err = read_batch(a, mem, w, nw, iov, hdr, gone);
			if (err)
				goto out;
			tally(a, out, w, nw, hdr, gone);
			nw = npools = 0;
		}
		if (i == narenas)
			break;
		if (ar.first_pool != ar.address)
			out->arenas_unaligned++;
		w[nw] = (struct walk_arena){i, ar, npools};
		nw++;
		npools += ar.npools;
	}
	out->allocated_blocks = out->sum.raw_allocated_blocks;
	out->bytes_in_use = out->bytes_free = 0;
	for (uint32_t i = 0; i < TC_OM_NCLASSES; i++) {
		out->allocated_blocks += (int64_t)out->cls[i].blocks_in_use;
		out->bytes_in_use += (int64_t)(out->cls[i].blocks_in_use * out->cls[i].size);
		out->bytes_free += (int64_t)(out->cls[i].free_blocks * out->cls[i].size);
	}
	out->why = NULL;
	err = 0;
out:
	free(arr);
	free(hdr);
	free(iov);
	free(w);
	free(gone);
	return err;
}

/* ---- JSON -------------------------------------------------------------------------------- */

static void num_or_null(cJSON *o, const char *k, int64_t v)
{
	if (v < 0)
		cJSON_AddNullToObject(o, k);
	else
		cJSON_AddNumberToObject(o, k, (double)v);
}

static void why(cJSON *u, const char *field, const char *reason)
{
	if (reason && !cJSON_HasObjectItem(u, field))
		cJSON_AddStringToObject(u, field, reason);
}

cJSON *tc_alloc_json(const struct tc_alloc *a, const struct tc_alloc_summary *s,
		     const struct tc_alloc_walk *w)
{
	cJSON *o = cJSON_CreateObject(), *py, *pm, *ar, *gc, *gens, *pr, *u;

	if (!o)
		return NULL;
	if (w)
		s = &w->sum;
	u = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "pid", (double)a->pid);
	py = cJSON_AddObjectToObject(o, "python");
	cJSON_AddStringToObject(py, "version", a->version);
	cJSON_AddBoolToObject(py, "debug", a->debug);
	cJSON_AddBoolToObject(py, "free_threaded", a->free_threaded);

	/* pymalloc */
	if (!a->have_om || (w && w->why) || s->arenas_current < 0) {
		cJSON_AddNullToObject(o, "pymalloc");
		why(u, "pymalloc", w && w->why ? w->why : s->why_pymalloc ? s->why_pymalloc :
				   "pymalloc not readable");
	} else {
		pm = cJSON_AddObjectToObject(o, "pymalloc");
		if (w) {
			cJSON *cls = cJSON_AddArrayToObject(pm, "size_classes");

			for (uint32_t i = 0; i < TC_OM_NCLASSES; i++) {
				cJSON *c;

				if (!w->cls[i].pools)
					continue;
				c = cJSON_CreateObject();
				cJSON_AddNumberToObject(c, "index", i);
				cJSON_AddNumberToObject(c, "size", w->cls[i].size);
				cJSON_AddNumberToObject(c, "pools", (double)w->cls[i].pools);
				cJSON_AddNumberToObject(c, "blocks_in_use", (double)w->cls[i].blocks_in_use);
				cJSON_AddNumberToObject(c, "free_blocks", (double)w->cls[i].free_blocks);
				cJSON_AddItemToArray(cls, c);
			}
		}
		ar = cJSON_AddObjectToObject(pm, "arenas");
		num_or_null(ar, "allocated_total", s->arenas_allocated_total);
		num_or_null(ar, "reclaimed", s->arenas_reclaimed);
		num_or_null(ar, "highwater", s->arenas_highwater);
		num_or_null(ar, "current", s->arenas_current);
		if (s->arenas_allocated_total < 0) {
			why(u, "pymalloc.arenas.allocated_total", s->why_arena_counters);
			why(u, "pymalloc.arenas.reclaimed", s->why_arena_counters);
			why(u, "pymalloc.arenas.highwater", s->why_arena_counters);
		}
		if (w) {
			num_or_null(pm, "allocated_blocks", w->allocated_blocks);
			num_or_null(pm, "bytes_in_use", w->bytes_in_use);
			num_or_null(pm, "bytes_free", w->bytes_free);
		}
		num_or_null(pm, "raw_allocated_blocks", s->raw_allocated_blocks);
		num_or_null(pm, "pools_in_use", s->pools_in_use);
		num_or_null(pm, "unused_pools", s->pools_unused);
		num_or_null(pm, "arena_bytes", s->arena_bytes);
		cJSON_AddNumberToObject(pm, "pool_size", s->pool_size);
		cJSON_AddNumberToObject(pm, "arena_size", s->arena_size);
		if (w) {
			/* share of the arenas' bytes not holding allocated blocks */
			if (s->arena_bytes > 0)
				cJSON_AddNumberToObject(pm, "fragmentation",
					1.0 - (double)w->bytes_in_use / (double)s->arena_bytes);
			else
				cJSON_AddNullToObject(pm, "fragmentation");
			cJSON *ck = cJSON_AddObjectToObject(pm, "walk");
			cJSON_AddNumberToObject(ck, "pools_read", (double)w->pools_read);
			cJSON_AddNumberToObject(ck, "pools_invalid", (double)w->pools_invalid);
			cJSON_AddNumberToObject(ck, "arenas_invalid", (double)s->arenas_invalid);
			cJSON_AddNumberToObject(ck, "arenas_vanished", (double)w->arenas_vanished);
			cJSON_AddNumberToObject(ck, "arenas_unaligned", (double)w->arenas_unaligned);
		}
	}

	/* gc */
	if (s->why_gc || s->gc_enabled < 0) {
		cJSON_AddNullToObject(o, "gc");
		why(u, "gc", s->why_gc ? s->why_gc : "GC state not readable");
	} else {
		gc = cJSON_AddObjectToObject(o, "gc");
		cJSON_AddBoolToObject(gc, "enabled", s->gc_enabled == 1);
		cJSON_AddBoolToObject(gc, "collecting", s->gc_collecting == 1);
		gens = cJSON_AddArrayToObject(gc, "generations");
		for (int i = 0; i < 3; i++) {
			cJSON *g = cJSON_CreateObject();

			num_or_null(g, "count", s->gen[i].count);
			num_or_null(g, "threshold", s->gen[i].threshold);
			num_or_null(g, "collections", s->gen[i].collections);
			num_or_null(g, "collected", s->gen[i].collected);
			num_or_null(g, "uncollectable", s->gen[i].uncollectable);
			cJSON_AddItemToArray(gens, g);
		}
	}

	/* process */
	pr = cJSON_AddObjectToObject(o, "process");
	num_or_null(pr, "rss_bytes", s->rss_bytes);
	num_or_null(pr, "rss_anon_bytes", s->rss_anon_bytes);
	if (s->rss_bytes < 0) {
		why(u, "process.rss_bytes", s->why_process);
		why(u, "process.rss_anon_bytes", s->why_process);
	}
	cJSON_AddItemToObject(o, "unavailable", u);
	return o;
}
