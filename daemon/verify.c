/* SPDX-License-Identifier: MIT */
/* The walker's second read (part of daemon/unwind.c's walk, kept apart for size). */
#include "daemon/verify.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reader/remote.h"
#include "layouts/layout.h"

/* The second read (see unwind.h): the top of every stack read again in one batch after the
 * walk. The stack stands if the frame on top now is one the walk read (its top, or, 3.11+, a
 * caller whose callees returned since: the stack is then the one from that caller down), or,
 * 3.11+, a callee of one the walk read (its links lead there: the same), and every frame from
 * there down has the link, code object and (callers) instruction the walk read. Otherwise the thread is
 * torn: its frames were read across a call or a return (the target runs while the walk
 * copies, so a chain can pair a caller that moved on with a callee that returned). The top
 * frame's own instruction moves all the time and is not compared: any value it had while
 * that frame was on top is a state that existed.
 *
 * 3.11+: the frames within TC_VERIFY_SPAN bytes of the innermost one are read as one range
 * (a data-stack chunk holds them side by side); frames of other chunks, and 3.9/3.10 frame
 * objects, one range each for the topmost few. */
#define VERIFY_SCATTERED 8

/* Bytes of TS's frames to read again: with *LO set, one range [*LO, *LO + result) holding
 * the *CNT topmost frames that lie within TC_VERIFY_SPAN below the innermost; with *LO 0,
 * *CNT ranges of FSZ bytes (3.9/3.10, or frames in another chunk). */
static size_t verify_len(const struct tc_snapshot *s, const struct tc_thread_stack *ts,
			 bool objs, size_t fsz, tc_raddr *lo, size_t *cnt)
{
	size_t n = ts->nv < VERIFY_SCATTERED ? ts->nv : VERIFY_SCATTERED;
	if (!objs && ts->nv) {
		const tc_raddr top = s->vframes[ts->vfirst].addr;
		tc_raddr l0 = top;
		size_t k = 1;
		/* frames below the top, in the chain's order, while they stay in the span
		 * (addresses were checked 8-aligned by the walk; TOP + FSZ cannot wrap there) */
		if (top <= UINT64_MAX - fsz) {
			for (; k < ts->nv; k++) {
				tc_raddr a = s->vframes[ts->vfirst + k].addr;
				if (a > top || top + fsz - a > TC_VERIFY_SPAN)
					break;
				if (a < l0)
					l0 = a;
			}
			/* one range, unless the chain leaves the chunk right below the top */
			if (k >= n) {
				if (lo)
					*lo = l0;
				if (cnt)
					*cnt = k;
				return (size_t)(top + fsz - l0);
			}
		}
	}
	if (lo)
		*lo = 0;
	if (cnt)
		*cnt = n;
	return n * fsz;
}

/* Links followed from a top the walk did not see, looking for a frame the walk read. */
#define VERIFY_CHASE 3

/* The index (< CNT) of the first of TS's walked frames that the chain from FRAME reaches
 * within VERIFY_CHASE links (read now), or CNT. */
static size_t reaches(struct tc_walk_ctx *x, const struct tc_snapshot *s,
		      const struct tc_thread_stack *ts, size_t cnt, tc_raddr frame)
{
	const struct tc_layout *l = &x->t->layout;
	const int32_t off = l->frame_model == TC_FRAMES_OBJECT ? l->frameobj.f_back :
								 l->iframe.previous;
	for (int i = 0; i < VERIFY_CHASE && frame && !(frame & 7); i++) {
		if (tc_remote_read(x->rd.mem, frame + (tc_raddr)off, &frame, sizeof frame))
			return cnt;
		for (size_t k = 0; k < cnt; k++)
			if (s->vframes[ts->vfirst + k].addr == frame)
				return k;
	}
	return cnt;
}

/* Confirmed chains looked up by position first (threads keep their order from walk to walk),
 * then among the first few. */
#define VERIFY_LOOKUP 64

/* Did the walk read, for TS (thread I of the walk), exactly the chain the previous walk
 * confirmed whole: the same top pointer field and value, the same frames with the same links
 * and code objects, and every caller at the same instruction (the innermost frame's own
 * instruction may differ: it runs)? Then its frames are a stack that existed (the one
 * confirmed, with the top further on), whatever the walk raced: no second read. */
static bool same_as_confirmed(const struct tc_snapshot *s, size_t i,
			      const struct tc_thread_stack *ts)
{
	const struct tc_vthread *p = NULL;
	if (i < s->npthreads && s->pthreads[i].tstate == ts->tstate)
		p = &s->pthreads[i];
	for (size_t k = 0; !p && k < s->npthreads && k < VERIFY_LOOKUP; k++)
		if (s->pthreads[k].tstate == ts->tstate)
			p = &s->pthreads[k];
	if (!p || p->vfield != ts->vfield || p->vtop != ts->vtop || p->nv != ts->nv)
		return false;
	for (size_t j = 0; j < ts->nv; j++) {
		const struct tc_vframe *a = &s->vframes[ts->vfirst + j];
		const struct tc_vframe *b = &s->pvframes[p->vfirst + j];
		if (a->addr != b->addr || a->prev != b->prev || a->code != b->code ||
		    (j && a->instr != b->instr))
			return false;
	}
	return true;
}

/* Keep the chains of this walk that stand whole (not torn, not cut at the top, not cut
 * mid-chain) for the next walk's same_as_confirmed(). Returns 0 or -TC_ENOMEM. */
static int keep_confirmed(struct tc_snapshot *s)
{
	s->npthreads = 0;
	s->npvframes = 0;
	for (size_t i = 0; i < s->nthreads; i++) {
		const struct tc_thread_stack *ts = &s->threads[i];
		bool whole = ts->vfield && !ts->torn && !ts->top_unconfirmed &&
			     (!ts->truncated || ts->deep);
		if (s->npthreads == s->cap_pthreads) {
			size_t cap = s->cap_pthreads ? 2 * s->cap_pthreads : 16;
			struct tc_vthread *v = realloc(s->pthreads, cap * sizeof *v);
			if (!v)
				return -TC_ENOMEM;
			s->pthreads = v;
			s->cap_pthreads = cap;
		}
		/* a slot per thread, so that positions match the next walk's */
		struct tc_vthread *p = &s->pthreads[s->npthreads++];
		*p = (struct tc_vthread){whole ? ts->tstate : 0, ts->vfield, ts->vtop,
					 s->npvframes, ts->nv};
		if (!whole)
			continue;
		if (s->npvframes + ts->nv > s->cap_pvframes) {
			size_t cap = s->cap_pvframes ? s->cap_pvframes : 256;
			while (cap < s->npvframes + ts->nv)
				cap *= 2;
			struct tc_vframe *v = realloc(s->pvframes, cap * sizeof *v);
			if (!v)
				return -TC_ENOMEM;
			s->pvframes = v;
			s->cap_pvframes = cap;
		}
		if (ts->nv)
			memcpy(s->pvframes + s->npvframes, s->vframes + ts->vfirst,
			       ts->nv * sizeof *s->pvframes);
		s->npvframes += ts->nv;
	}
	return 0;
}

int tc_unwind_verify(struct tc_walk_ctx *x, struct tc_snapshot *s)
{
	const struct tc_layout *l = &x->t->layout;
	const bool objs = l->frame_model == TC_FRAMES_OBJECT;
	const size_t fsz = (size_t)(objs ? l->frameobj.size : l->iframe.size);
	size_t bytes = 0, niov = 0;
	/* first pass: which threads to read again, and how much */
	for (size_t i = 0; i < s->nthreads; i++) {
		struct tc_thread_stack *ts = &s->threads[i];
		if (!ts->vfield)
			continue;
		ts->vsame = !(ts->truncated && !ts->deep) && same_as_confirmed(s, i, ts);
		if (ts->vsame) {
			s->vskipped++;
			continue;
		}
		tc_raddr lo;
		size_t cnt;
		bytes += 8 + verify_len(s, ts, objs, fsz, &lo, &cnt);
		niov += 1 + (lo ? 1 : cnt);
	}
	if (!niov)
		return keep_confirmed(s);
	if (bytes > s->vcap) {
		uint8_t *b = realloc(s->vbuf, bytes);
		if (!b)
			return -TC_ENOMEM;
		s->vbuf = b;
		s->vcap = bytes;
	}
	if (niov > s->viovcap) {
		struct tc_riov *v = realloc(s->viov, niov * sizeof *v);
		if (!v)
			return -TC_ENOMEM;
		s->viov = v;
		s->viovcap = niov;
	}
	size_t n = 0, off = 0;
	for (size_t i = 0; i < s->nthreads; i++) {
		const struct tc_thread_stack *ts = &s->threads[i];
		if (!ts->vfield || ts->vsame)
			continue;
		s->viov[n++] = (struct tc_riov){ts->vfield, s->vbuf + off, 8};
		off += 8;
		tc_raddr lo;
		size_t cnt, len = verify_len(s, ts, objs, fsz, &lo, &cnt);
		if (lo) {
			s->viov[n++] = (struct tc_riov){lo, s->vbuf + off, len};
		} else {
			for (size_t j = 0; j < cnt; j++)
				s->viov[n++] = (struct tc_riov){s->vframes[ts->vfirst + j].addr,
								s->vbuf + off + j * fsz, fsz};
		}
		off += len;
	}
	int err = tc_remote_readv(x->rd.mem, s->viov, n);
	if (err == -TC_ESRCH || err == -TC_EPERM || err == -TC_ENOMEM)
		return err;
	off = 0;
	for (size_t i = 0; i < s->nthreads; i++) {
		struct tc_thread_stack *ts = &s->threads[i];
		if (!ts->vfield || ts->vsame)
			continue;
		const uint8_t *b = s->vbuf + off;
		off += 8;
		tc_raddr lo;
		size_t cnt, len = verify_len(s, ts, objs, fsz, &lo, &cnt);
		const uint8_t *frames = s->vbuf + off;
		off += len;
		const tc_raddr top = tc_get_u64(b, 0);
		bool same = !err;
		/* the frame on top now: the walk's top, or one of its callers (the frames
		 * above it returned) */
		size_t m = 0;
		if (!cnt) { /* no frame was read (none, or the first did not read) */
			same = same && top == ts->vtop;
		} else {
			/* 3.9/3.10: the walk's top only. Frame objects are recycled (a code
			 * object's zombie frame, the free list): a frame object at a walked
			 * address is too often a new call, and accepting a returned top or a
			 * new callee there made the oracle's violations 8x as frequent. */
			/* A walk cut mid-chain (not at the depth limit) already met memory
			 * being rewritten: its top must still be the top. */
			const bool strict = objs || (ts->truncated && !ts->deep);
			const size_t scan = strict ? 1 : cnt;
			while (same && m < scan && s->vframes[ts->vfirst + m].addr != top)
				m++;
			/* a frame the walk did not see is on top: a callee of one the walk
			 * read if its links lead there (that one is live: the frames the
			 * walk saw above it returned) */
			if (same && m == scan && !strict)
				m = reaches(x, s, ts, cnt, top);
			same = same && m < scan;
		}
		/* A chain without generator frames is kept whole, frames above M included:
		 * only if M has not moved since the walk (its callees were then live as the
		 * walk read them); one with them is cut at M, whose own instruction then
		 * does not matter. */
		const size_t first_cmp = m && !ts->vheap ? m : m + 1; /* instructions from here */
		for (size_t j = m; same && j < cnt; j++) {
			const struct tc_vframe *v = &s->vframes[ts->vfirst + j];
			const uint8_t *fb = lo ? frames + (v->addr - lo) : frames + j * fsz;
			if (objs)
				same = tc_get_u64(fb, (size_t)l->frameobj.f_back) == v->prev &&
				       tc_get_u64(fb, (size_t)l->frameobj.f_code) == v->code &&
				       (j < first_cmp || tc_get_u32(fb, (size_t)l->frameobj.f_lasti) ==
						  (uint32_t)v->instr);
			else
				same = tc_get_u64(fb, (size_t)l->iframe.previous) == v->prev &&
				       tc_get_u64(fb, (size_t)l->iframe.code) == v->code &&
				       (j < first_cmp || tc_get_u64(fb, (size_t)l->iframe.instr) == v->instr);
		}
		/* callers' returns that leave no frame of the walk: nothing to report */
		if (same && m && s->vframes[ts->vfirst + m].above >= ts->n)
			same = false;
		if (!same) {
			/* Torn: the caller retries, and after the last try keeps the stack
			 * as walked, unless a generator's frame is among its top frames (a
			 * recycled heap object: frames that read the same twice may still be
			 * a returned call's). Why, in figures: docs/PERFORMANCE.md, "Design
			 * measurements". */
			ts->torn = true;
			s->torn++;
			if (ts->vheap) {
				ts->n = 0;
				ts->truncated = ts->left_out = true;
				ts->deep = false;
			}
		} else if (m && ts->vheap) {
			/* The frames above M returned: the stack is the one from M down, M at
			 * the instruction the walk read (a call it was making, with the same
			 * callers), marked: what it was calling is not confirmed. (Other chains
			 * are kept whole when M did not move: docs/PERFORMANCE.md, "Design
			 * measurements".) */
			size_t above = s->vframes[ts->vfirst + m].above;
			ts->first += above;
			ts->n -= above;
			ts->top_unconfirmed = true;
			s->popped++;
		}
	}
	return keep_confirmed(s);
}
