/* SPDX-License-Identifier: MIT */
/* What one walker reads through and remembers between walks. The target (daemon/target.h) is
 * fixed at attach and may be shared; everything a walk changes lives here, owned by one
 * walker (daemon/walker.h), so two walkers of one target never touch each other's state. */
#ifndef TC_WALK_CTX_H
#define TC_WALK_CTX_H

#include <stdint.h>

#include "daemon/target.h"
#include "reader/readers.h"

/* Values that change rarely, kept from walk to walk. */
struct tc_walk_memo {
	tc_raddr head_cache;     /* runtime->interpreters.head, 0 = not cached */
	uint64_t main_ident;     /* runtime->main_thread (<= 3.12), read with the head; 0 unknown */
	uint64_t head_cache_ns;  /* CLOCK_MONOTONIC when read */
	tc_raddr gil_interp, gil_ptr; /* interp->ceval.gil of the last interpreter seen */
	uint64_t code_gen;       /* main interpreter's code-object generation at the last walk */
	int tid_off;             /* offset of the kernel tid in glibc's struct pthread, -1 */
	uint64_t tid_calib_next_ns; /* CLOCK_MONOTONIC before which a failed calibration is not
				       tried again */
};

struct tc_walk_ctx {
	const struct tc_target *t;
	struct tc_readers rd;
	struct tc_walk_memo m;
};

/* A context that reads T directly through T's reader (no prefetcher, no page cache), with
 * an empty memo: unit tests and one-off reads. */
static inline void tc_walk_ctx_init(struct tc_walk_ctx *x, const struct tc_target *t)
{
	*x = (struct tc_walk_ctx){.t = t, .rd = {.mem = t->mem}};
	x->m.tid_off = t->pthread_tid_off;
}

#endif
