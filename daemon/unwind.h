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
	int32_t zero;   /* always 0: frames compare with memcmp (no undefined padding) */
};

struct tc_thread_stack {
	tc_raddr tstate;
	int64_t interp_id;    /* index of the interpreter in the runtime's list */
	uint64_t thread_id;   /* threading.get_ident() */
	uint64_t native_id;   /* kernel tid, 0 when unknown */
	bool main;            /* the runtime's main thread */
	int8_t holds_gil;     /* 1 / 0, -1 when unknown */
	bool truncated;       /* chain broken, cyclic or deeper than TC_MAX_DEPTH */
	size_t first, n;      /* frames[first .. first+n) of the snapshot, innermost first */
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
};

/* Walk T now and fill S (previous contents discarded). Code objects met are loaded into
 * CC. Returns 0 when every thread was walked (a thread whose chain broke is marked
 * truncated, and the call still returns 0); -TC_ESRCH when the target is gone; -TC_EFAULT /
 * -TC_ECORRUPT when the thread list itself could not be read consistently (torn read:
 * retry); -TC_ENOMEM. */
int tc_unwind(struct tc_target *t, struct tc_code_cache *cc, struct tc_snapshot *s);

void tc_snapshot_free(struct tc_snapshot *s); /* frees the arrays, keeps S itself */

#endif
