/* SPDX-License-Identifier: MIT */
/* One thread's frame chain, the inner half of the walk (daemon/unwind.c walks interpreters
 * and threads and calls in here). Every pointer comes from a process that keeps running: the
 * chase is bounded (TC_MAX_DEPTH) and cycle-checked, and a frame whose code object does not
 * validate ends the stack as truncated rather than producing a frame that never existed. */
#include "daemon/unwind_int.h"

#include "daemon/chain_memo.h"
#include "daemon/code_cache.h"

/* The SIZE bytes of the frame at FRAME, the next link of a chase that has followed *DEPTH
 * links (at most MAX): NULL when the chain ends here, with TS marked (too deep, a pointer that
 * is not pointer-aligned: read mid-rewrite, or a read that failed), and *ERR set only when the
 * failure ends the session. */
static const uint8_t *chain_step(struct tc_walk_ctx *x, struct win *w, tc_raddr frame, size_t size,
				 uint8_t *buf, size_t *depth, size_t max,
				 struct tc_thread_stack *ts, int *err)
{
	*err = 0;
	if (*depth >= max) {
		ts->truncated = ts->deep = true;
		return NULL;
	}
	(*depth)++;
	if (frame & 7) {
		ts->truncated = true;
		return NULL;
	}
	const uint8_t *fb = win_get(x, w, frame, size, buf, err);
	if (*err && !fatal(*err)) {
		*err = 0;
		ts->truncated = true;
	}
	return fb && !*err ? fb : NULL;
}

/* The validated code object at CODE for a frame of TS in *CI: 0; 1 when it does not validate
 * (the stack ends here: TS marked truncated); a negative error that ends the session. */
static int frame_code(struct tc_walk_ctx *x, struct tc_code_cache *cc, tc_raddr code,
		      struct tc_thread_stack *ts, const struct tc_code_info **ci)
{
	int err = tc_code_cache_get_checked(cc, x, code, ci);
	if (err && fatal(err))
		return err;
	if (err)
		ts->truncated = true;
	return err ? 1 : 0;
}

/* How far below the top of the checked frames the chase may meet them (see walk_iframes). */
#define MEET_WINDOW 32

/* The fields of the frame in FB, as the chain memo keeps them. */
static void frame_fields(const struct tc_layout *l, const uint8_t *fb, struct tc_cm_frame *e)
{
	e->prev = tc_get_u64(fb, (size_t)l->iframe.previous);
	e->code = tc_get_u64(fb, (size_t)l->iframe.code);
	e->instr = tc_get_u64(fb, (size_t)l->iframe.instr);
	e->owner = tc_get_u8(fb, (size_t)l->iframe.owner);
	e->tlbc = l->iframe.tlbc_index >= 0 ? tc_get_u32(fb, (size_t)l->iframe.tlbc_index) : 0;
}

/* How many frames of chain C, from the bottom up, read the same in this walk's batch. */
static size_t memo_check(struct tc_walk_ctx *x, const struct tc_cm_chain *c)
{
	const struct tc_layout *l = &x->t->layout;
	const size_t o_prev = (size_t)l->iframe.previous, o_code = (size_t)l->iframe.code;
	const size_t o_instr = (size_t)l->iframe.instr, o_owner = (size_t)l->iframe.owner;
	const int32_t o_tlbc = l->iframe.tlbc_index;
	struct win w = {0};
	size_t k = 0;
	/* field by field (a struct built on the stack and compared whole stalled on store
	 * forwarding: most of this loop's time) */
	for (; k < c->n; k++) {
		const struct tc_cm_frame *e = &c->f[k];
		const uint8_t *fb = win_peek(x, &w, e->addr, (size_t)l->iframe.size);
		if (!fb || tc_get_u64(fb, o_prev) != e->prev || tc_get_u64(fb, o_code) != e->code ||
		    tc_get_u64(fb, o_instr) != e->instr || tc_get_u8(fb, o_owner) != e->owner ||
		    (o_tlbc >= 0 && tc_get_u32(fb, (size_t)o_tlbc) != e->tlbc))
			break;
	}
	win_flush(x, &w);
	return k;
}

/* 3.11+: _PyInterpreterFrame chain from FRAME. With a chain memo (S->memo, and a batch to
 * check it against), the unchanged bottom of the chain is taken from it: see chain_memo.h. */
/* Returns 0, a fatal error, or WALK_AGAIN: a code object of a frame taken from the memo was
 * decoded afresh while it was validated (the memo saw another object there): walk again
 * without the memo. */
#define WALK_AGAIN 1

static int walk_iframes_memo(struct tc_walk_ctx *x, struct tc_code_cache *cc, tc_raddr frame,
			     struct tc_snapshot *s, struct tc_thread_stack *ts, bool use_memo)
{
	const struct tc_layout *l = &x->t->layout;
	uint8_t buf[256];
	struct cycle cyc;
	struct win w = {0};
	size_t depth = 0;
	int err;
	tc_raddr last_code = 0;
	const struct tc_code_info *last_ci = NULL;
	/* 3.15+: the chain ends at the thread's embedded base frame (not a Python frame): stop
	 * there rather than read it, which would cost a second page of the thread state */
	tc_raddr base = l->tstate.base_frame >= 0 ? ts->tstate + (tc_raddr)l->tstate.base_frame : 0;

	/* The memo: frames [0, k) of C (bottom up) read unchanged; chased frames are recorded
	 * from index k on, innermost first, and put in bottom-up order at the end. */
	struct tc_cm_chain *c = use_memo && s->memo && x->rd.pf ?
		tc_chain_memo_thread(s->memo, ts->tstate) : NULL;
	size_t k = c ? memo_check(x, c) : 0;
	const size_t k0 = k;
	size_t rec = k; /* next record slot */
	bool reached = false;
	/* the last frame read: where a chain that ends on NULL ended (see the end) */
	bool any = false;
	uint8_t last_owner = 0;

	cycle_init(&cyc, frame);
	while (frame && frame != base) {
		/* The chase meets the checked frames at one of the topmost few: frames the
		 * previous walk saw above the present top may read unchanged (returned from, not
		 * yet overwritten) but are not on the chain. */
		for (size_t j = k, stop = k > MEET_WINDOW ? k - MEET_WINDOW : 0; j > stop; j--) {
			if (c->f[j - 1].addr == frame) {
				reached = true;
				k = j;
				break;
			}
		}
		if (reached)
			break;
		/* TC_MAX_DEPTH bounds the frames reported; shims between them are links too */
		const uint8_t *fb = chain_step(x, &w, frame, (size_t)l->iframe.size, buf, &depth,
					       2 * TC_MAX_DEPTH, ts, &err);
		if (!fb) {
			if (err)
				return err;
			break;
		}
		struct tc_cm_frame e;
		frame_fields(l, fb, &e);
		e.addr = frame;
		e.pushed = 0;
		uint8_t owner = e.owner;
		tc_raddr prev = e.prev;
		any = true;
		if (ts->nv < TC_VERIFY_FRAMES) {
			if (push_vframe(s, ts, frame, e.prev, e.code, e.instr))
				return -TC_ENOMEM;
			if (e.owner == l->iframe.owner_generator)
				ts->vheap = true;
		}
		last_owner = owner;
		tc_raddr code = e.code & ~l->iframe.code_tag_mask;
		/* 3.12: frames owned by the C stack are shims; 3.14+: owned by the interpreter.
		 * 3.14+: a frame whose executable is the NULL stackref is not (or no longer) a
		 * Python frame; seen on 3.15 at the top of busy stacks. Python shows neither.
		 * Before 3.14 a NULL code pointer is garbage and ends the stack below. */
		bool null_ref = code == 0 && l->iframe.code_tag_mask != 0;
		if (owner < l->iframe.owner_first_shim && !null_ref) {
			tc_raddr instr = e.instr;
			/* Free-threaded 3.14+: a thread may run its own copy of the bytecode
			 * (tlbc_index > 0); the offset is then not relative to co_code_adaptive. */
			bool tlbc = l->iframe.tlbc_index >= 0 && e.tlbc != 0;
			int64_t addr = (int64_t)(instr - (code + (tc_raddr)l->code.code_adaptive));
			/* A frame popped while the walk read it holds whatever the memory holds
			 * next (locals of a newer frame, a freed generator): its instruction
			 * pointer must lie in its own code object (one unit before the start
			 * for a frame not started yet). Checked before the code object is
			 * looked up, so a torn walk costs no read of a bogus code object. */
			if (!tlbc && (code == 0 || code & 7 || instr < code || addr < -2 ||
				      addr > (INT64_C(1) << 31))) {
				ts->truncated = true;
				break;
			}
			const struct tc_code_info *ci = last_ci;
			if (code != last_code || !ci) {
				err = frame_code(x, cc, code, ts, &ci);
				if (err < 0)
					return err;
				if (err)
					break;
				last_code = code;
				last_ci = ci;
			}
			if (tlbc)
				addr = INT64_MIN;
			else if (ci->code_bytes >= 0 && addr > ci->code_bytes) {
				ts->truncated = true;
				break;
			}
			/* Incomplete frames (still in their prologue) are invisible to Python
			 * (_PyFrame_IsIncomplete); skip them too. */
			bool incomplete = addr != INT64_MIN && ci->firsttraceable >= 0 &&
					  owner != l->iframe.owner_generator &&
					  addr < (int64_t)ci->firsttraceable * 2;
			if (!incomplete) {
				if (s->nframes - ts->first >= TC_MAX_DEPTH) {
					ts->truncated = ts->deep = true;
					break;
				}
				err = push_frame(s, code, addr, -1, ci->serial);
				if (err)
					return err;
				e.pushed = 1;
			}
		}
		if (c) {
			if (tc_chain_memo_reserve(s->memo, c, rec + 1) == 0) {
				c->f[rec++] = e;
			} else { /* no room: the chain goes unremembered, and chased to its end */
				c = NULL;
				k = 0;
			}
		}
		if (cycle_step(&cyc, prev)) {
			ts->truncated = true;
			break;
		}
		frame = prev;
	}
	win_flush(x, &w);
	if (reached) {
		size_t pushed = s->nframes - ts->first;
		for (size_t i = 0; i < k && pushed <= TC_MAX_DEPTH; i++)
			pushed += c->f[i].pushed;
		if (pushed > TC_MAX_DEPTH) {
			reached = false;
			ts->truncated = ts->deep = true;
		}
	}
	/* A chain is whole only when it ends at the thread's own base; anything else is a
	 * walk that met a frame mid-change (a generator that just yielded has previous = NULL:
	 * its frame is no thread's bottom), and the stack is cut, never presented as whole.
	 * 3.15+: the embedded base frame. 3.12-3.14: the entry frame on the C stack (a shim)
	 * whose previous is NULL. 3.11 (no shims): a frame owned by the thread. A chain memo
	 * chain was whole when it was recorded, and its bottom read unchanged. */
	if (!ts->truncated && !reached && !(base && frame == base) && any) {
		bool shims = l->iframe.owner_first_shim != 255;
		bool whole = base ? false : shims ? last_owner >= l->iframe.owner_first_shim :
					    last_owner == 0;
		if (!whole)
			ts->truncated = true;
	}
	if (reached) {
		/* the rest of the chain, innermost first: frames k-1 .. 0 of the memo, reported
		 * as the chase reported them */
		if (grow_frames(s, s->nframes + k))
			return -TC_ENOMEM;
		const tc_raddr mask = ~l->iframe.code_tag_mask, adaptive = (tc_raddr)l->code.code_adaptive;
		size_t above = s->nframes - ts->first;
		for (size_t i = k; i-- > 0 && ts->nv < TC_VERIFY_FRAMES;) {
			if (push_vframe(s, ts, c->f[i].addr, c->f[i].prev, c->f[i].code, c->f[i].instr))
				return -TC_ENOMEM;
			if (c->f[i].owner == l->iframe.owner_generator)
				ts->vheap = true;
			s->vframes[s->nvframes - 1].above = above;
			above += c->f[i].pushed;
		}
		struct tc_raw_frame *out = s->frames + s->nframes;
		/* every code object met is validated in this walk like a chased frame's; if one
		 * had to be decoded (afresh or again), the memo's view of it is not to be trusted */
		const uint64_t changes = tc_code_cache_changes(cc);
		tc_raddr vcode = 0;
		uint32_t serial = 0;
		for (size_t i = k; i-- > 0;) {
			const struct tc_cm_frame *e = &c->f[i];
			if (!e->pushed)
				continue;
			tc_raddr code = e->code & mask;
			if (code != vcode) {
				const struct tc_code_info *ci;
				err = tc_code_cache_get_checked(cc, x, code, &ci);
				if (err && fatal(err))
					return err;
				if (err || tc_code_cache_changes(cc) != changes)
					return WALK_AGAIN;
				vcode = code;
				serial = ci->serial;
			}
			bool tlbc = l->iframe.tlbc_index >= 0 && e->tlbc != 0;
			*out++ = (struct tc_raw_frame){code, tlbc ? INT64_MIN :
						   (int64_t)(e->instr - (code + adaptive)), -1, serial};
		}
		s->nframes = (size_t)(out - s->frames);
	}
	if (c) {
		/* chased frames recorded at [k0, rec), innermost first; the chain keeps [0, k)
		 * when the chase met it at frame k - 1 */
		size_t from = reached ? k : 0;
		if (from != k0)
			memmove(c->f + from, c->f + k0, (rec - k0) * sizeof *c->f);
		size_t n = from + (rec - k0);
		for (size_t i = from, j = n; i < j--; i++) {
			struct tc_cm_frame tmp = c->f[i];
			c->f[i] = c->f[j];
			c->f[j] = tmp;
		}
		tc_chain_memo_set_len(c, ts->truncated ? 0 : n);
		tc_chain_memo_count(s->memo, reached ? k : 0, rec - k0);
	}
	return 0;
}

int tc_walk_iframes(struct tc_walk_ctx *x, struct tc_code_cache *cc, tc_raddr frame,
		    struct tc_snapshot *s, struct tc_thread_stack *ts)
{
	const size_t first = s->nframes;
	int err = walk_iframes_memo(x, cc, frame, s, ts, true);
	/* a walk that ended on an error may have recorded part of a chain: forget it */
	struct tc_cm_chain *c = err && s->memo ? tc_chain_memo_thread(s->memo, ts->tstate) : NULL;
	if (c)
		tc_chain_memo_set_len(c, 0);
	if (err == WALK_AGAIN) {
		s->nframes = first;
		ts->truncated = ts->deep = ts->torn = ts->top_unconfirmed = false; /* vheap stays */
		err = walk_iframes_memo(x, cc, frame, s, ts, false);
	}
	return err;
}

/* 3.9/3.10: PyFrameObject chain from FRAME. */
int tc_walk_frameobjs(struct tc_walk_ctx *x, struct tc_code_cache *cc, tc_raddr frame,
		      struct tc_snapshot *s, struct tc_thread_stack *ts)
{
	const struct tc_layout *l = &x->t->layout;
	uint8_t buf[256];
	struct cycle cyc;
	size_t depth = 0;
	int err;
	bool v310 = l->linetable == TC_LT_LINETABLE;
	struct win w = {0};

	cycle_init(&cyc, frame);
	while (frame) {
		const uint8_t *fb = chain_step(x, &w, frame, (size_t)l->frameobj.size, buf, &depth,
					       TC_MAX_DEPTH, ts, &err);
		if (!fb) {
			if (err)
				return err;
			break;
		}
		tc_raddr back = tc_get_u64(fb, (size_t)l->frameobj.f_back);
		tc_raddr code = tc_get_u64(fb, (size_t)l->frameobj.f_code);
		int32_t lasti = (int32_t)tc_get_u32(fb, (size_t)l->frameobj.f_lasti);
		int32_t lineno = (int32_t)tc_get_u32(fb, (size_t)l->frameobj.f_lineno);
		const bool verified = ts->nv < TC_VERIFY_FRAMES;
		if (verified && push_vframe(s, ts, frame, back, code, (uint32_t)lasti))
			return -TC_ENOMEM;
		const struct tc_code_info *ci;
		err = frame_code(x, cc, code, ts, &ci);
		if (err < 0)
			return err;
		if (err)
			break;
		const uint32_t serial = ci->serial;
		/* a generator's frame object is recycled with its generator (see vheap) */
		if (verified && ci->flags >= 0 && (ci->flags & TC_CO_GENERATOR_MASK))
			ts->vheap = true;
		/* The bottom of a thread's chain (f_back NULL) is where the thread entered
		 * Python; a generator's frame has f_back NULL whenever it is not running, so a
		 * chain ending there was read while the generator yielded: cut, not whole. */
		if (!back && ci->flags >= 0 && (ci->flags & TC_CO_GENERATOR_MASK)) {
			ts->truncated = true;
			break;
		}
		int32_t known = -1;
		if (v310) {
			/* 3.10: f_lineno is set while tracing, else 0; f_lasti counts code units. */
			if (lineno != 0)
				known = lineno;
			err = push_frame(s, code, lasti < 0 ? -1 : (int64_t)lasti * 2, known, serial);
		} else {
			/* 3.9: f_lineno is only maintained while a trace function is set. */
			if (tc_get_u64(fb, (size_t)l->frameobj.f_trace) != 0)
				known = lineno;
			err = push_frame(s, code, lasti, known, serial);
		}
		if (err)
			return err;
		if (cycle_step(&cyc, back)) {
			ts->truncated = true;
			break;
		}
		frame = back;
	}
	win_flush(x, &w);
	return 0;
}
