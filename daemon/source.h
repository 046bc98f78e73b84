/* SPDX-License-Identifier: MIT */
/* A sample source: what the sampling loop (daemon/sampler.h) takes samples from. A source
 * produces, per sampling instant, a snapshot (daemon/unwind.h: threads, each with raw
 * (code object, instruction) frames and its state flags) and turns a thread's raw frames into
 * a profile stack. The remote-read walker (daemon/walker.h) is the first source; a kernel-side
 * engine reading stacks from perf events fills the same snapshot, so both feed the same
 * profile and sinks.
 *
 * Adding a source: implement the operations below and hand tc_sampler_run_source a struct
 * tc_source pointing at them. */
#ifndef TC_SOURCE_H
#define TC_SOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/chain_memo.h"
#include "daemon/code_cache.h"
#include "daemon/frame_cache.h"
#include "daemon/profile.h"
#include "daemon/unwind.h"
#include "reader/page_cache.h"
#include "reader/prefetch.h"
#include "reader/remote.h"

/* What a source's work cost so far (counters since it was made; zero what it does not
 * have). */
struct tc_source_stats {
	struct tc_remote_stats io;        /* reads of the target */
	struct tc_prefetch_stats pf;      /* batched reads */
	struct tc_page_cache_stats pages; /* cold-path page cache */
	struct tc_code_cache_stats code;
	struct tc_frame_cache_stats fc;
	struct tc_cm_stats chain;
	uint64_t frame_hits, frame_misses;/* (code, offset) -> frame id memo */
	uint64_t retries;                 /* walks retried after a torn read */
};

struct tc_source;

struct tc_source_ops {
	/* One sampling instant (TC_UNWIND_* flags). Returns 0 and *OUT (borrowed until the next
	 * call); -TC_EFAULT / -TC_ECORRUPT / -TC_EINVAL: this instant failed (counted, the run
	 * goes on); -TC_ESRCH: the target is gone; anything else ends the run. */
	int (*take)(struct tc_source *src, unsigned flags, const struct tc_snapshot **out);
	/* Before the threads of the last snapshot are interned into P (SAMPLE: its number). */
	void (*begin_record)(struct tc_source *src, struct tc_profile *p, uint64_t sample);
	/* One thread of the last snapshot into P: as tc_walker_intern. */
	int (*intern)(struct tc_source *src, struct tc_profile *p, const struct tc_thread_stack *ts,
		      int32_t *leaf, const int32_t **ids_bu);
	/* Has the target replaced its program (execve) since the source was made? */
	bool (*execed)(struct tc_source *src);
	/* Cost counters since the source was made (zero what a source does not have). */
	void (*get_stats)(struct tc_source *src, struct tc_source_stats *out);
};

struct tc_source {
	const struct tc_source_ops *ops;
	void *impl;
	pid_t pid;  /* the target's process (run states in cpu mode, liveness) */
};

#endif
