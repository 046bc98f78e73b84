/* SPDX-License-Identifier: MIT */
/* The allocator summary (daemon/alloc.h) read at an interval on a thread of its own, next to
 * the sampler: `attach --alloc-log` writes each reading as it comes, `top` shows the latest.
 *
 * The monitor locates the allocator through T->mem on the calling thread when it is opened
 * (before the sampler starts using T), then reads only through a tc_remote of its own (a
 * tc_remote is not thread-safe, and the target's prefetcher is never used). Readings follow
 * absolute deadlines on the monotonic clock, so a slow reading does not shift the next one.
 * The caller says which signals the thread must not take (those its own threads handle). */
#ifndef TC_ALLOC_MONITOR_H
#define TC_ALLOC_MONITOR_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon/alloc.h"
#include "daemon/target.h"

struct tc_alloc_monitor;

/* One reading. */
struct tc_alloc_reading {
	uint64_t seq;             /* 1 for the first reading, then 2, 3, ...; 0: none yet */
	double time;              /* monotonic seconds (CLOCK_MONOTONIC) when it was taken */
	double elapsed;           /* seconds since tc_alloc_monitor_start */
	bool walked;              /* WALK is a full walk; otherwise only WALK.sum was read */
	struct tc_alloc_walk walk;
	/* Summaries since the previous reading (this one's included) that knew the GC's state,
	 * and how many of them found a collection running: the share of time the GC ran. */
	uint32_t ticks, collecting;
};

/* Called on the monitor's thread with each good reading (A: the allocator, for
 * tc_alloc_json). Returning non-zero (a TC_E* code) stops the monitor with that error. */
typedef int (*tc_alloc_monitor_fn)(void *ctx, const struct tc_alloc *a,
				   const struct tc_alloc_reading *r);

struct tc_alloc_monitor_cfg {
	double interval;          /* seconds between readings (> 0) */
	double tick;              /* > 0: also a summary every TICK s between readings, for
				   * TICKS/COLLECTING; 0: none */
	bool walk;                /* each reading is a full walk (pymalloc bytes in use) */
	bool last_reading;        /* when stopped without an error, one more reading, so a
				   * log covers the whole run (its -TC_ESRCH is not an error) */
	tc_alloc_monitor_fn on_reading; /* NULL: only keep the latest */
	void *ctx;
	const sigset_t *block;    /* signals blocked in the monitor's thread; NULL: none */
};

/* Locate the allocator of T (reads through T->mem on this thread) and open a reader of its
 * own. Returns 0 and *OUT (free with tc_alloc_monitor_free), or -TC_ESRCH, -TC_EPERM,
 * -TC_ENOMEM. */
int tc_alloc_monitor_open(struct tc_target *t, struct tc_alloc_monitor **out);

/* A monitor over allocator A read through MEM (a reader of the same target that no other
 * thread uses; unit tests pass a synthetic image). Takes ownership of both, also on failure.
 * Returns 0 and *OUT, or -TC_ENOMEM. */
int tc_alloc_monitor_new(struct tc_alloc *a, struct tc_remote *mem, struct tc_alloc_monitor **out);

/* The allocator being read (borrowed, read-only), e.g. for tc_alloc_json. */
const struct tc_alloc *tc_alloc_monitor_alloc(const struct tc_alloc_monitor *m);

/* Start the thread: a first reading at once, then one every CFG->interval. Returns 0, or the
 * positive error number of pthread_create. */
int tc_alloc_monitor_start(struct tc_alloc_monitor *m, const struct tc_alloc_monitor_cfg *cfg);

/* Change the time between readings (> 0); the next deadline moves closer if it was further
 * than one new interval away. Any thread. */
void tc_alloc_monitor_set_interval(struct tc_alloc_monitor *m, double interval);

/* Copy the latest good reading into *OUT. Returns its SEQ (0 when there is none yet: *OUT is
 * left alone). Any thread. */
uint64_t tc_alloc_monitor_latest(struct tc_alloc_monitor *m, struct tc_alloc_reading *out);

/* Stop the thread (after the last reading, when asked for) and wait for it. Returns what
 * ended it: 0 (stopped), the error of a reading (-TC_ESRCH: the target exited), or the one
 * the callback returned. Calling it again, or on a monitor never started, returns the same. */
int tc_alloc_monitor_stop(struct tc_alloc_monitor *m);

/* Stop (when running) and free. Accepts NULL. */
void tc_alloc_monitor_free(struct tc_alloc_monitor *m);

#endif
