/* SPDX-License-Identifier: MIT */
/* The walker: one object that owns everything a sampler needs to turn a target's memory into
 * profile stacks, so `dump`, `bench`, `top` and `attach` (and `serve`, one per target) all
 * sample the same way. It owns the readers (the prefetcher's batch for per-sample data, the
 * page cache for code objects), the walk memo (daemon/walk_ctx.h), the code cache, the chain
 * memo, the frame cache, the (code, instruction) -> frame id map and the retry policy. The
 * target it reads is only borrowed, and never changed, and each walker reads through its own
 * reader: walkers of one target may run on different threads.
 *
 * A sample is taken in two steps: tc_walker_take walks the target (again while a stack was
 * read across a change, up to the retry policy) into a snapshot of raw frames, then
 * tc_walker_intern turns each thread's raw frames into frame ids and a stack node of a
 * profile. The walker is also the first sample source (daemon/source.h). */
#ifndef TC_WALKER_H
#define TC_WALKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/chain_memo.h"
#include "daemon/code_cache.h"
#include "daemon/frame_cache.h"
#include "daemon/profile.h"
#include "daemon/source.h"
#include "daemon/target.h"
#include "daemon/unwind.h"
#include "reader/page_cache.h"
#include "reader/prefetch.h"
#include "reader/remote.h"

/* Walks per sample by default: a stack read across a change is walked again at once, then
 * kept as walked (or left out, see tc_thread_stack.torn). The figures behind four:
 * docs/PERFORMANCE.md, "Design measurements". */
#define TC_WALKER_TRIES 4

struct tc_walker_opts {
	unsigned tries;        /* walks per sample; 0 = TC_WALKER_TRIES */
	bool direct;           /* no prefetcher and no page cache: every read is a syscall */
	bool no_chain_memo;    /* chase every frame pointer by pointer */
	bool no_frame_cache;   /* resolve every level of every stack */
	size_t code_cache_max; /* code objects kept; 0 = the code cache's default */
};


struct tc_walker;

/* A walker of T (borrowed: it must outlive the walker), reading through a reader of its own
 * (T's, for an image in tests). O NULL: the defaults. Returns 0 and *OUT (caller frees),
 * -TC_EINVAL when T's layout does not fit the walker's buffers (tc_layout_walkable),
 * -TC_ESRCH / -TC_EPERM when the target can no longer be opened, or -TC_ENOMEM. */
int tc_walker_new(const struct tc_target *t, const struct tc_walker_opts *o,
		  struct tc_walker **out);
void tc_walker_free(struct tc_walker *w); /* accepts NULL */

const struct tc_target *tc_walker_target(const struct tc_walker *w);

/* Take one sample: walk the target with FLAGS (TC_UNWIND_*; from the second try on the
 * interpreter list head is read afresh) and walk again while a stack was read across a
 * change (torn, or cut for a reason a new walk may not meet), up to the retry policy; the
 * last try's snapshot is kept as it is. Returns 0 and *OUT (borrowed until the next call);
 * -TC_EFAULT / -TC_ECORRUPT / -TC_EINVAL when no try read the thread list consistently;
 * -TC_ESRCH (gone), -TC_EPERM (access revoked), -TC_ENOMEM. */
int tc_walker_take(struct tc_walker *w, unsigned flags, const struct tc_snapshot **out);

/* The code object of raw frame F and the line of its instruction (-1 none). *CI is borrowed
 * until the walker's next call. Returns 0, or the code cache's errors. */
int tc_walker_resolve(struct tc_walker *w, const struct tc_raw_frame *f,
		      const struct tc_code_info **ci, int32_t *line);

/* Start recording the last snapshot taken into P: called once per sample before
 * tc_walker_intern. Frame ids memoised for another profile, or for code objects freed since
 * (3.14+ code-object generation), are forgotten here. */
void tc_walker_begin_record(struct tc_walker *w, struct tc_profile *p, uint64_t sample);

/* Intern the stack of TS (a thread of the last snapshot) into P and return its node in
 * *LEAF, and its frame ids bottom-up in *IDS_BU (valid until the next call; a cut stack's
 * marker first, an unconfirmed top's marker last). Levels the frame cache shows unchanged
 * since the thread's last sample keep their ids and nodes. Returns 0; -TC_ECORRUPT /
 * -TC_EFAULT when a code object the walk used cannot be read any more (that thread's sample
 * is lost, not the recording); -TC_ENOMEM. */
int tc_walker_intern(struct tc_walker *w, struct tc_profile *p, const struct tc_thread_stack *ts,
		     int32_t *leaf, const int32_t **ids_bu);

void tc_walker_get_stats(const struct tc_walker *w, struct tc_source_stats *out);

/* The walker W as a sample source (W borrowed). */
void tc_walker_source(struct tc_walker *w, struct tc_source *out);

/* The ranges of the prefetcher's last batch (see tc_prefetch_batch); 0 without one. */
size_t tc_walker_batch(const struct tc_walker *w, tc_raddr *addr, size_t *len, size_t max);

#endif
