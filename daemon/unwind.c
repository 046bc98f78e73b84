/* SPDX-License-Identifier: MIT */
/* The walker. See unwind.h.
 *
 * Interpreters -> threads -> frames, reading only the bytes the layout names. Every pointer
 * and count comes from a process that keeps running, so each loop is bounded (threads,
 * depth) and cycle-checked (Brent's algorithm: O(1) memory), and a frame whose code object
 * does not validate ends that thread's stack as truncated rather than producing a frame
 * that never existed. */
#include "daemon/unwind.h"

#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "daemon/unwind_int.h"
#include "daemon/chain_memo.h"
#include "daemon/pthread_tid.h"
#include "daemon/verify.h"

/* Interpreters per runtime (subinterpreters). */
#define MAX_INTERPS 256

/* The innermost frame of the thread whose state is in TBUF (and where that pointer is, in
 * TS->vfield, for the second read). */
static int top_frame(struct tc_walk_ctx *x, const uint8_t *tbuf, struct tc_thread_stack *ts,
		     tc_raddr *frame)
{
	const struct tc_layout *l = &x->t->layout;
	int32_t off = l->tstate.frame >= 0 ? l->tstate.frame : l->tstate.current_frame;
	*frame = 0;
	if (off >= 0) {
		*frame = tc_get_u64(tbuf, (size_t)off);
		ts->vfield = ts->tstate + (tc_raddr)off;
		ts->vtop = *frame;
		return 0;
	}
	/* 3.11/3.12: through the C frame record */
	tc_raddr cframe = tc_get_u64(tbuf, (size_t)l->tstate.cframe);
	if (!cframe)
		return 0;
	int err = rd(x, cframe + (tc_raddr)l->cframe.current_frame, frame, sizeof *frame);
	if (!err) {
		ts->vfield = cframe + (tc_raddr)l->cframe.current_frame;
		ts->vtop = *frame;
		/* The eval loop points tstate->cframe at its own record before it stores the
		 * record's current_frame: a record other than the thread's root one with no
		 * frame is a thread entering Python, not a thread without Python frames. */
		if (!*frame && l->tstate.root_cframe >= 0 &&
		    cframe != ts->tstate + (tc_raddr)l->tstate.root_cframe)
			ts->truncated = true;
	}
	return err;
}

struct gil_view {
	bool known;
	int32_t locked;
	tc_raddr holder;
};

static void read_gil(struct tc_walk_ctx *x, tc_raddr gil, struct gil_view *g)
{
	const struct tc_layout *l = &x->t->layout;
	g->known = false;
	if (!gil || l->gil.locked < 0 || l->gil.last_holder < 0)
		return;
	if (rd(x, gil + (tc_raddr)l->gil.locked, &g->locked, sizeof g->locked))
		return;
	if (rd(x, gil + (tc_raddr)l->gil.last_holder, &g->holder, sizeof g->holder))
		return;
	g->known = true;
}

static int unwind(struct tc_walk_ctx *x, struct tc_code_cache *cc, struct tc_snapshot *s);

int tc_unwind(struct tc_walk_ctx *x, struct tc_code_cache *cc, struct tc_snapshot *s)
{
	/* cold-path pages are never older than the walk that uses them */
	if (x->rd.pc)
		tc_page_cache_clear(x->rd.pc);
	tc_code_cache_begin_walk(cc);
	if (s->memo)
		tc_chain_memo_begin(s->memo);
	if (!x->rd.pf) {
		int err = unwind(x, cc, s);
		return err ? err : tc_unwind_verify(x, s);
	}
	int err = tc_prefetch_begin(x->rd.pf);
	if (err)
		return err;
	err = unwind(x, cc, s);
	if (!err)
		err = tc_unwind_verify(x, s);
	bool torn = err != 0;
	for (size_t i = 0; i < s->nthreads && !torn; i++)
		torn = s->threads[i].truncated;
	if (torn)
		tc_prefetch_discard_misses(x->rd.pf);
	tc_prefetch_end(x->rd.pf);
	return err;
}

/* A thread state created for a thread that has not started yet: 3.9-3.11 give it the
 * creating thread's ident and native id until the new thread binds it, so it reads as a
 * second, empty stack of its creator. Dropped: a thread state with no frame whose ident
 * another thread state of the walk has too (the first of them is kept if none has frames). */
static void drop_unstarted(struct tc_snapshot *s)
{
	size_t out = 0;
	for (size_t i = 0; i < s->nthreads; i++) {
		const struct tc_thread_stack *ts = &s->threads[i];
		bool dup = false;
		if (ts->n == 0 && !ts->truncated) {
			for (size_t j = 0; j < s->nthreads && !dup; j++) {
				const struct tc_thread_stack *o = &s->threads[j];
				dup = j != i && o->thread_id == ts->thread_id &&
				      o->interp_id == ts->interp_id &&
				      (o->n > 0 || o->truncated || j < i);
			}
		}
		if (!dup)
			s->threads[out++] = *ts;
	}
	s->nthreads = out;
}

static int unwind(struct tc_walk_ctx *x, struct tc_code_cache *cc, struct tc_snapshot *s)
{
	const struct tc_layout *l = &x->t->layout;
	uint8_t tbuf[TC_WALK_TSTATE_MAX];
	tc_raddr interp = 0;
	int err;

	s->nthreads = 0;
	s->nframes = 0;
	s->nvframes = 0;
	/* the layout's sizes fit these buffers: tc_layout_walkable, checked once by the walker */
	const uint64_t now_ns = tc_now_ns();
	if ((s->flags & TC_UNWIND_CACHED_HEAD) && x->m.head_cache &&
	    now_ns - x->m.head_cache_ns < 100000000u) {
		interp = x->m.head_cache;
	} else {
		err = rd(x, x->t->runtime + (tc_raddr)l->runtime.interpreters_head, &interp,
			 sizeof interp);
		if (err)
			return err;
		/* _PyRuntime.main_thread (<= 3.12) changes as rarely: refreshed with the head */
		x->m.main_ident = 0;
		if (l->runtime.main_thread >= 0 &&
		    rd(x, x->t->runtime + (tc_raddr)l->runtime.main_thread, &x->m.main_ident,
		       sizeof x->m.main_ident) != 0)
			x->m.main_ident = 0;
		x->m.head_cache = interp;
		x->m.head_cache_ns = now_ns;
	}

	struct cycle icyc;
	cycle_init(&icyc, interp);
	for (int64_t idx = 0; interp; idx++) {
		if (idx >= MAX_INTERPS)
			return -TC_ECORRUPT;
		/* The interpreter's fields are far apart (threads.head is ~7 KB in on 3.13+):
		 * read just them (the prefetcher batches them with the rest of the walk). */
		tc_raddr next_interp = 0, ts_addr = 0, threads_main = 0, gil = 0;
		err = rd(x, interp + (tc_raddr)l->interp.next, &next_interp, 8);
		if (!err)
			err = rd(x, interp + (tc_raddr)l->interp.threads_head, &ts_addr, 8);
		if (!err && l->interp.threads_main >= 0)
			err = rd(x, interp + (tc_raddr)l->interp.threads_main, &threads_main, 8);
		bool want_gil = !(s->flags & TC_UNWIND_NO_GIL);
		if (!want_gil)
			gil = 0;
		else if (l->runtime.gil >= 0)
			gil = x->t->runtime + (tc_raddr)l->runtime.gil;
		else if (!err && l->interp.gil_ptr >= 0) {
			/* interp->ceval.gil is set once when the interpreter is created */
			if (x->m.gil_interp == interp && x->m.gil_ptr) {
				gil = x->m.gil_ptr;
			} else {
				err = rd(x, interp + (tc_raddr)l->interp.gil_ptr, &gil, 8);
				if (!err) {
					x->m.gil_interp = interp;
					x->m.gil_ptr = gil;
				}
			}
		}
		/* 3.14+: code objects were freed since the last walk: an address in the code
		 * cache may hold another code object now */
		if (!err && idx == 0 && l->interp.code_generation >= 0) {
			uint64_t gen = 0;
			err = rd(x, interp + (tc_raddr)l->interp.code_generation, &gen, 8);
			if (!err && gen != x->m.code_gen) {
				tc_code_cache_clear(cc);
				if (s->memo)
					tc_chain_memo_clear(s->memo);
				x->m.code_gen = gen;
			}
			s->code_generation = gen;
		}
		if (err)
			return err; /* the sampler's retry re-reads the head */
		struct gil_view gv = {0};
		if (want_gil)
			read_gil(x, gil, &gv);

		struct cycle tcyc;
		cycle_init(&tcyc, ts_addr);
		while (ts_addr) {
			if (s->nthreads >= TC_MAX_THREADS)
				return -TC_ECORRUPT;
			err = rd(x, ts_addr, tbuf, (size_t)l->tstate.size);
			if (err)
				return err;
			struct tc_thread_stack *ts = push_thread(s);
			if (!ts)
				return -TC_ENOMEM;
			ts->tstate = ts_addr;
			ts->interp_id = idx;
			ts->thread_id = tc_get_u64(tbuf, (size_t)l->tstate.thread_id);
			if (l->tstate.native_thread_id >= 0)
				ts->native_id = tc_get_u64(tbuf, (size_t)l->tstate.native_thread_id);
			else
				ts->native_id = tc_pthread_tid(x, ts->thread_id);
			if (x->m.main_ident)
				ts->main = ts->thread_id == x->m.main_ident;
			else if (l->interp.threads_main >= 0)
				ts->main = threads_main == ts_addr;
			else
				ts->main = ts->native_id == (uint64_t)x->t->pid;
			ts->holds_gil = gv.known ? (gv.locked && gv.holder == ts_addr) : -1;
			ts->first = s->nframes;

			tc_raddr frame = 0;
			err = top_frame(x, tbuf, ts, &frame);
			if (err && fatal(err))
				return err;
			if (err) {
				/* this thread's stack is lost, not the snapshot */
				ts->truncated = true;
				err = 0;
			} else if (l->frame_model == TC_FRAMES_OBJECT)
				err = tc_walk_frameobjs(x, cc, frame, s, ts);
			else
				err = tc_walk_iframes(x, cc, frame, s, ts);
			if (err)
				return err;
			/* ts may have moved if threads grew; it did not (no push since) */
			ts->n = s->nframes - ts->first;

			tc_raddr next = tc_get_u64(tbuf, (size_t)l->tstate.next);
			if (cycle_step(&tcyc, next))
				return -TC_ECORRUPT;
			ts_addr = next;
		}
		if (cycle_step(&icyc, next_interp))
			return -TC_ECORRUPT;
		interp = next_interp;
	}
	drop_unstarted(s);
	return 0;
}

void tc_snapshot_free(struct tc_snapshot *s)
{
	free(s->threads);
	free(s->frames);
	free(s->vbuf);
	free(s->viov);
	free(s->pthreads);
	free(s->pvframes);
	free(s->vframes);
	memset(s, 0, sizeof *s);
}
