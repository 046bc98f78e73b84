/* SPDX-License-Identifier: MIT */
/* The walker: every interpreter, every thread, every Python frame of a target, as raw
 * (code object, instruction offset) pairs. Names and lines are resolved afterwards through
 * the code cache, so a sampler can intern frames without decoding strings each time. */
#ifndef TC_UNWIND_H
#define TC_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/chain_memo.h"
#include "daemon/code_cache.h"
#include "daemon/target.h"

/* No depth limit short of this many frames per thread. */
#define TC_MAX_DEPTH 65536
/* Threads per snapshot, over all interpreters. */
#define TC_MAX_THREADS 4096

struct tc_raw_frame {
	tc_raddr code;  /* code object (validated) */
	int64_t addr;   /* byte offset of the current instruction; negative: not started */
	int32_t lineno; /* line known without the table (3.9/3.10 tracing), else -1 */
	uint32_t serial; /* the code cache's serial of the code object at CODE as validated in
			    this walk (an address reused by another code object gets another
			    serial); frames compare with memcmp (no padding) */
};

/* Frames at the top of a chain that a walk reads a second time (see tc_unwind): at most
 * this many, and (3.11+, frames side by side in the data stack) those within
 * TC_VERIFY_SPAN bytes of the innermost one, read as one range. */
#define TC_VERIFY_FRAMES 256
#define TC_VERIFY_SPAN 16384

/* A confirmed chain of one thread: vframes[vfirst .. vfirst+nv) of the array it is kept in. */
struct tc_vthread {
	tc_raddr tstate, vfield, vtop;
	size_t vfirst, nv;
};

/* One frame near the top of a chain as the walk used it. */
struct tc_vframe {
	tc_raddr addr, prev, code, instr; /* instr: f_lasti on 3.9/3.10 */
	size_t above;                     /* frames the walk reported above this one */
};

struct tc_thread_stack {
	tc_raddr tstate;
	int64_t interp_id;    /* index of the interpreter in the runtime's list */
	uint64_t thread_id;   /* threading.get_ident() */
	uint64_t native_id;   /* kernel tid, 0 when unknown */
	bool main;            /* the runtime's main thread */
	int8_t holds_gil;     /* 1 / 0, -1 when unknown */
	bool truncated;       /* chain broken, cyclic, deeper than TC_MAX_DEPTH, or it did not
				 reach the thread's base frame: frames above the cut only */
	bool deep;            /* truncated at TC_MAX_DEPTH (a retry would end the same way) */
	bool top_unconfirmed; /* the topmost frames the walk read returned before the second
				 read: the stack is the part it confirmed, whose innermost frame
				 was calling something not known */
	bool vsame;           /* the walk read the chain the previous walk confirmed: no second
				 read */
	bool vheap;           /* a generator's (or coroutine's) frame is among the chain's top
				 frames: it lives in a recycled heap object */
	bool torn;            /* the second read disagreed with the walk: callers retry; after
				 the last try the stack is recorded as walked unless vheap */
	bool left_out;        /* torn with vheap: no frames kept (n = 0, truncated) */
	size_t first, n;      /* frames[first .. first+n) of the snapshot, innermost first */
	/* the top of the chain as walked: the field that points at the innermost frame (0:
	 * none), its value, and the topmost frames (shims included), innermost first */
	tc_raddr vfield, vtop;
	size_t vfirst, nv;    /* vframes[vfirst .. vfirst+nv) of the snapshot */
};

/* What a walk may leave out (struct tc_snapshot.flags). */
enum {
	TC_UNWIND_NO_GIL = 1 << 0,     /* do not read the GIL state: holds_gil is -1 */
	TC_UNWIND_CACHED_HEAD = 1 << 1 /* reuse the interpreter list head read within the last
					  100 ms (a new subinterpreter shows up that much later;
					  more often, the head is one more remote range in most
					  samples at 1 kHz) */
};

/* The result of one walk. Reused across walks: arrays grow, never shrink. */
struct tc_snapshot {
	unsigned flags;                   /* TC_UNWIND_*, set by the caller */
	struct tc_thread_stack *threads;
	size_t nthreads, cap_threads;
	struct tc_raw_frame *frames;
	size_t nframes, cap_frames;
	uint64_t code_generation;         /* 3.14+: the main interpreter's code-object generation
					     (changes when code objects are freed); else 0 */
	struct tc_chain_memo *memo;       /* set by the caller to walk with a chain memo (owned
					     by the caller), else NULL: see chain_memo.h */
	uint64_t torn;                    /* stacks whose top moved while they were walked */
	uint64_t popped;                  /* stacks whose topmost frames returned before the
					     second read (reported from the frame on top then) */
	struct tc_vframe *vframes;        /* the walked top of every chain */
	size_t nvframes, cap_vframes;
	uint8_t *vbuf;                    /* scratch of the second read */
	struct tc_riov *viov;
	size_t vcap, viovcap;
	/* the chains the last walk confirmed whole (see daemon/verify.c): a thread whose walk
	 * reads the same chain again needs no second read */
	struct tc_vthread *pthreads;
	size_t npthreads, cap_pthreads;
	struct tc_vframe *pvframes;
	size_t npvframes, cap_pvframes;
	uint64_t vskipped;                /* threads whose second read was not needed */
};

/* Walk T now and fill S (previous contents discarded). Code objects met are loaded into
 * CC. The walk copies the target's memory while the target runs, so a frame can be read
 * after its caller moved on (a chain that never existed: a caller line that called
 * nothing). After the walk, the field pointing at each thread's innermost frame and the
 * topmost TC_VERIFY_FRAMES frames are read again in one batch (see daemon/verify.c): a
 * stack whose top frames returned since is reported from the caller on top then; a thread
 * whose frames no longer read as walked is marked torn (and truncated, with no frames kept:
 * frames that read the same twice may still be memory a returned call left behind, above a
 * caller that moved on), which the callers retry, and after the last try leave out of the
 * sample. Returns 0 when every thread was walked (a thread whose chain broke is marked
 * truncated, and the call still returns 0); -TC_ESRCH when the target is gone; -TC_EFAULT /
 * -TC_ECORRUPT when the thread list itself could not be read consistently (torn read:
 * retry); -TC_ENOMEM. */
/* X's layout must have passed tc_layout_walkable (layouts/layout.h): the walk checks no
 * offset. */
int tc_unwind(struct tc_walk_ctx *x, struct tc_code_cache *cc, struct tc_snapshot *s);

void tc_snapshot_free(struct tc_snapshot *s); /* frees the arrays, keeps S itself */

#endif
