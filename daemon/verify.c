/* SPDX-License-Identifier: MIT */
/* The walker's second read (part of daemon/unwind.c's walk, kept apart for size). */
#include "daemon/verify.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

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
static size_t reaches(struct tc_target *t, const struct tc_snapshot *s,
		      const struct tc_thread_stack *ts, size_t cnt, tc_raddr frame)
{
	const struct tc_layout *l = &t->layout;
	const int32_t off = l->frame_model == TC_FRAMES_OBJECT ? l->frameobj.f_back :
								 l->iframe.previous;
	for (int i = 0; i < VERIFY_CHASE && frame && !(frame & 7); i++) {
		if (tc_remote_read(t->mem, frame + (tc_raddr)off, &frame, sizeof frame))
			return cnt;
		for (size_t k = 0; k < cnt; k++)
			if (s->vframes[ts->vfirst + k].addr == frame)
				return k;
	}
	return cnt;
}

int tc_unwind_verify(struct tc_target *t, struct tc_snapshot *s)
{
	const struct tc_layout *l = &t->layout;
	const bool objs = l->frame_model == TC_FRAMES_OBJECT;
	const size_t fsz = (size_t)(objs ? l->frameobj.size : l->iframe.size);
	size_t bytes = 0, niov = 0;
	/* first pass: how much to read */
	for (size_t i = 0; i < s->nthreads; i++) {
		const struct tc_thread_stack *ts = &s->threads[i];
		if (!ts->vfield)
			continue;
		tc_raddr lo;
		size_t cnt;
		bytes += 8 + verify_len(s, ts, objs, fsz, &lo, &cnt);
		niov += 1 + (lo ? 1 : cnt);
	}
	if (!niov)
		return 0;
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
		if (!ts->vfield)
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
	int err = tc_remote_readv(t->mem, s->viov, n);
	if (err == -TC_ESRCH || err == -TC_EPERM || err == -TC_ENOMEM)
		return err;
	off = 0;
	for (size_t i = 0; i < s->nthreads; i++) {
		struct tc_thread_stack *ts = &s->threads[i];
		if (!ts->vfield)
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
				m = reaches(t, s, ts, cnt, top);
			same = same && m < scan;
		}
		for (size_t j = m; same && j < cnt; j++) {
			const struct tc_vframe *v = &s->vframes[ts->vfirst + j];
			const uint8_t *fb = lo ? frames + (v->addr - lo) : frames + j * fsz;
			if (objs)
				same = tc_get_u64(fb, (size_t)l->frameobj.f_back) == v->prev &&
				       tc_get_u64(fb, (size_t)l->frameobj.f_code) == v->code &&
				       (j == m || tc_get_u32(fb, (size_t)l->frameobj.f_lasti) ==
						  (uint32_t)v->instr);
			else
				same = tc_get_u64(fb, (size_t)l->iframe.previous) == v->prev &&
				       tc_get_u64(fb, (size_t)l->iframe.code) == v->code &&
				       (j == m || tc_get_u64(fb, (size_t)l->iframe.instr) == v->instr);
		}
		/* callers' returns that leave no frame of the walk: nothing to report */
		if (same && m && s->vframes[ts->vfirst + m].above >= ts->n)
			same = false;
		if (!same) {
			/* Nothing of it is kept. Frames that read the same twice are not
			 * enough: a call that returned leaves its frame behind unchanged, and
			 * a caller that moved on under it reads as a caller line that calls
			 * nothing. */
			ts->n = 0;
			ts->truncated = ts->torn = true;
			ts->deep = false;
			s->torn++;
		} else if (m) {
			/* The frames above M returned: the stack is the one from M down, M at
			 * the instruction the walk read (a call it was making, with the same
			 * callers), marked: what it was calling is not confirmed. */
			size_t above = s->vframes[ts->vfirst + m].above;
			ts->first += above;
			ts->n -= above;
			ts->top_unconfirmed = true;
			s->popped++;
		}
	}
	return 0;
}
