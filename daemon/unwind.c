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
#include "base/vec.h"
#include "daemon/chain_memo.h"
#include "daemon/pthread_tid.h"
#include "daemon/verify.h"

/* Interpreters per runtime (subinterpreters). */
#define MAX_INTERPS 256

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

static void win_flush(struct tc_walk_ctx *x, struct win *w)
{
	if (w->base && w->reads)
		tc_prefetch_mark(x->rd.pf, w->ulo, w->uhi, w->reads);
	w->base = NULL;
	w->reads = 0;
}

/* LEN bytes at ADDR from this walk's batch through window W, or NULL (never a read). */
static const uint8_t *win_peek(struct tc_walk_ctx *x, struct win *w, tc_raddr addr, size_t len)
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
static const uint8_t *win_get(struct tc_walk_ctx *x, struct win *w, tc_raddr addr, size_t len,
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

static void cycle_init(struct cycle *c, tc_raddr start)
{
	c->tortoise = start;
	c->power = 1;
	c->lam = 0;
}

/* True when NEXT closes a cycle. */
static bool cycle_step(struct cycle *c, tc_raddr next)
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

static __attribute__((noinline)) int grow_frames(struct tc_snapshot *s)
{
	return tc_vec_reserve((void **)&s->frames, &s->cap_frames, sizeof *s->frames,
			      s->nframes + 1);
}

static inline int push_frame(struct tc_snapshot *s, tc_raddr code, int64_t addr, int32_t lineno,
			     uint32_t serial)
{
	if (s->nframes == s->cap_frames && grow_frames(s))
		return -TC_ENOMEM;
	struct tc_raw_frame *f = &s->frames[s->nframes++];
	f->code = code;
	f->addr = addr;
	f->lineno = lineno;
	f->serial = serial;
	return 0;
}

/* Record a frame of TS's top as walked (for the second read). Returns 0 or -TC_ENOMEM. */
static int push_vframe(struct tc_snapshot *s, struct tc_thread_stack *ts, tc_raddr addr,
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

static struct tc_thread_stack *push_thread(struct tc_snapshot *s)
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
static bool fatal(int err)
{
	return err == -TC_ESRCH || err == -TC_EPERM || err == -TC_ENOMEM;
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
		/* frames are pointer-aligned: anything else is a pointer read mid-rewrite */
		/* TC_MAX_DEPTH bounds the frames reported; shims between them are links too */
		if (depth >= 2 * TC_MAX_DEPTH) {
			ts->truncated = ts->deep = true;
			break;
		}
		depth++;
		if (frame & 7) {
			ts->truncated = true;
			break;
		}
		const uint8_t *fb = win_get(x, &w, frame, (size_t)l->iframe.size, buf, &err);
		if (err) {
			if (fatal(err))
				return err;
			ts->truncated = true;
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
				err = tc_code_cache_get_checked(cc, x, code, &ci);
				if (err) {
					if (fatal(err))
						return err;
					ts->truncated = true;
					break;
				}
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
		while (s->cap_frames - s->nframes < k)
			if (grow_frames(s))
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

static int walk_iframes(struct tc_walk_ctx *x, struct tc_code_cache *cc, tc_raddr frame,
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
static int walk_frameobjs(struct tc_walk_ctx *x, struct tc_code_cache *cc, tc_raddr frame,
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
		if (depth >= TC_MAX_DEPTH) {
			ts->truncated = ts->deep = true;
			break;
		}
		depth++;
		if (frame & 7) {
			ts->truncated = true;
			break;
		}
		const uint8_t *fb = win_get(x, &w, frame, (size_t)l->frameobj.size, buf, &err);
		if (err) {
			if (fatal(err))
				return err;
			ts->truncated = true;
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
		err = tc_code_cache_get_checked(cc, x, code, &ci);
		if (err) {
			if (fatal(err))
				return err;
			ts->truncated = true;
			break;
		}
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
				err = walk_frameobjs(x, cc, frame, s, ts);
			else
				err = walk_iframes(x, cc, frame, s, ts);
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
