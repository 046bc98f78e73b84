/* SPDX-License-Identifier: MIT */
/* What the two halves of the walk share (daemon/unwind.c: interpreters and threads;
 * daemon/frames.c: one thread's frame chain): reads through the walker's batch, windows onto
 * it, the cycle detector and the snapshot's growing arrays. Private to those two files. */
#ifndef TC_UNWIND_INT_H
#define TC_UNWIND_INT_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/vec.h"
#include "daemon/unwind.h"
#include "daemon/walk_ctx.h"

/* Reads of per-sample data go through the prefetcher when the target has one: one batched
 * syscall per walk in the steady state. */
static inline int rd(struct tc_walk_ctx *x, tc_raddr addr, void *buf, size_t len)
{
	return tc_read(&x->rd, TC_READ_HOT, addr, buf, len);
}

/* A window onto the prefetched bytes around a frame chain: frames of one data-stack chunk
 * are read straight from it, without a lookup each; the part used is reported once. */
struct win {
	const uint8_t *base;
	tc_raddr lo, hi;   /* the window */
	tc_raddr ulo, uhi; /* used part */
	uint64_t reads;
};

static inline void win_flush(struct tc_walk_ctx *x, struct win *w)
{
	if (w->base && w->reads)
		tc_prefetch_mark(x->rd.pf, w->ulo, w->uhi, w->reads);
	w->base = NULL;
	w->reads = 0;
}

/* LEN bytes at ADDR from this walk's batch through window W, or NULL (never a read). */
static inline const uint8_t *win_peek(struct tc_walk_ctx *x, struct win *w, tc_raddr addr, size_t len)
{
	/* ADDR comes from the target: compare without forming ADDR + LEN, which can wrap
	 * (a torn pointer near 2^64 would otherwise pass as inside the window) */
	if (w->base && addr >= w->lo && len <= w->hi - w->lo && addr - w->lo <= w->hi - w->lo - len) {
		if (addr < w->ulo)
			w->ulo = addr;
		if (addr + len > w->uhi)
			w->uhi = addr + len;
		w->reads++;
		return w->base + (addr - w->lo);
	}
	win_flush(x, w);
	tc_raddr lo, hi;
	const uint8_t *p = tc_prefetch_window(x->rd.pf, addr, len, &lo, &hi);
	if (!p)
		return NULL;
	w->base = p - (addr - lo);
	w->lo = lo;
	w->hi = hi;
	w->ulo = w->uhi = addr; /* the window call counted this read itself */
	return p;
}

/* LEN bytes at ADDR: from the window, a new window, or read into BUF. */
static inline const uint8_t *win_get(struct tc_walk_ctx *x, struct win *w, tc_raddr addr, size_t len,
			      uint8_t *buf, int *err)
{
	*err = 0;
	if (x->rd.pf) {
		const uint8_t *p = win_peek(x, w, addr, len);
		if (p)
			return p;
	}
	*err = rd(x, addr, buf, len);
	return *err ? NULL : buf;
}

/* Brent's cycle detector over a chain of addresses. */
struct cycle {
	tc_raddr tortoise;
	size_t power, lam;
};

static inline void cycle_init(struct cycle *c, tc_raddr start)
{
	c->tortoise = start;
	c->power = 1;
	c->lam = 0;
}

/* True when NEXT closes a cycle. */
static inline bool cycle_step(struct cycle *c, tc_raddr next)
{
	if (next && next == c->tortoise)
		return true;
	if (++c->lam == c->power) {
		c->tortoise = next;
		c->power <<= 1;
		c->lam = 0;
	}
	return false;
}

/* Room for NEED frames in S in all. */
static __attribute__((noinline)) int grow_frames(struct tc_snapshot *s, size_t need)
{
	return tc_vec_reserve((void **)&s->frames, &s->cap_frames, sizeof *s->frames, need);
}

static inline int push_frame(struct tc_snapshot *s, tc_raddr code, int64_t addr, int32_t lineno,
			     uint32_t serial)
{
	if (s->nframes == s->cap_frames && grow_frames(s, s->nframes + 1))
		return -TC_ENOMEM;
	struct tc_raw_frame *f = &s->frames[s->nframes++];
	f->code = code;
	f->addr = addr;
	f->lineno = lineno;
	f->serial = serial;
	return 0;
}

/* Record a frame of TS's top as walked (for the second read). Returns 0 or -TC_ENOMEM. */
static inline int push_vframe(struct tc_snapshot *s, struct tc_thread_stack *ts, tc_raddr addr,
		       tc_raddr prev, tc_raddr code, tc_raddr instr)
{
	if (s->nvframes == s->cap_vframes) {
		size_t cap = s->cap_vframes ? s->cap_vframes * 2 : 256;
		struct tc_vframe *v = realloc(s->vframes, cap * sizeof *v);
		if (!v)
			return -TC_ENOMEM;
		s->vframes = v;
		s->cap_vframes = cap;
	}
	if (!ts->nv)
		ts->vfirst = s->nvframes;
	s->vframes[s->nvframes++] = (struct tc_vframe){addr, prev, code, instr,
						       s->nframes - ts->first};
	ts->nv++;
	return 0;
}

static inline struct tc_thread_stack *push_thread(struct tc_snapshot *s)
{
	if (s->nthreads == s->cap_threads) {
		size_t cap = s->cap_threads ? s->cap_threads * 2 : 16;
		struct tc_thread_stack *v = realloc(s->threads, cap * sizeof *v);
		if (!v)
			return NULL;
		s->threads = v;
		s->cap_threads = cap;
	}
	struct tc_thread_stack *ts = &s->threads[s->nthreads++];
	memset(ts, 0, sizeof *ts);
	return ts;
}

/* Is ERR the end of the session rather than of one stack? */
static inline bool fatal(int err)
{
	return err == -TC_ESRCH || err == -TC_EPERM || err == -TC_ENOMEM;
}

/* One thread's frame chain from FRAME into S (innermost first): 3.11+ interpreter frames
 * (through the chain memo when S has one) or 3.9/3.10 frame objects. Returns 0 (a broken
 * chain marks TS truncated) or a fatal error. */
int tc_walk_iframes(struct tc_walk_ctx *x, struct tc_code_cache *cc, tc_raddr frame,
		    struct tc_snapshot *s, struct tc_thread_stack *ts);
int tc_walk_frameobjs(struct tc_walk_ctx *x, struct tc_code_cache *cc, tc_raddr frame,
		      struct tc_snapshot *s, struct tc_thread_stack *ts);

#endif
