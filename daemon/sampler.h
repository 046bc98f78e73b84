/* SPDX-License-Identifier: MIT */
/* The sampling loop: walk the target at a fixed rate against absolute deadlines and record
 * each stack into a profile. */
#ifndef TC_SAMPLER_H
#define TC_SAMPLER_H

#include <signal.h>
#include <stdbool.h>

#include "daemon/code_cache.h"
#include "daemon/frame_cache.h"
#include "daemon/profile.h"
#include "daemon/target.h"

enum tc_mode {
	TC_MODE_WALL = 0, /* every thread at every instant */
	TC_MODE_CPU,      /* only threads the kernel shows running */
	TC_MODE_GIL       /* only the thread holding the GIL */
};

/* What a run cost, for `bench` and for the user. */
struct tc_sampler_report {
	struct tc_remote_stats io;        /* reads during the run */
	struct tc_prefetch_stats pf;      /* batched reads during the run */
	struct tc_page_cache_stats pages; /* cold-path page cache (whole life of the target) */
	struct tc_code_cache_stats code;  /* code-object cache */
	struct tc_frame_cache_stats fc;   /* per-thread frame cache */
	struct tc_cm_stats chain;         /* per-thread chain memo (walker) */
	uint64_t frame_hits, frame_misses;/* (code, offset) -> frame id memo */
	uint64_t frames;                  /* raw frames walked */
	uint64_t retries;                 /* walks retried after a torn read */
	double cpu_user, cpu_sys;         /* profiler CPU seconds during the run */
};

/* One thread of one sampling instant, as handed to tc_sampler_opts.on_sample. */
struct tc_sample_thread {
	uint64_t native_id;    /* kernel tid, 0 when unknown */
	uint64_t thread_id;    /* threading.get_ident() */
	bool main;
	int8_t holds_gil;      /* 1 / 0; -1 unless want_gil (or gil mode) */
	int8_t on_cpu;         /* 1 running / 0 not; -1 unless want_cpu (or cpu mode) */
	const int32_t *frames; /* profile frame ids (tc_profile_get_frame), innermost first */
	size_t n;
};

/* One sampling instant. Everything is borrowed for the duration of the call only. */
struct tc_sample {
	double time;           /* CLOCK_MONOTONIC seconds */
	bool failed;           /* torn after every retry: no threads */
	const struct tc_sample_thread *threads; /* the threads recorded (mode, --threads) */
	size_t nthreads;
	size_t nthreads_total; /* threads the walk saw, before filtering */
};

struct tc_sampler_opts {
	double rate_hz;                   /* > 0; 0 = back to back (bench) */
	double duration;                  /* seconds; 0 = until *stop */
	enum tc_mode mode;
	bool main_only;                   /* --threads main */
	volatile sig_atomic_t *stop;      /* set asynchronously (signal handler) to end early */
	struct tc_sampler_report *report; /* filled at the end when not NULL */
	/* Optional observer, called on the sampling thread after each instant was recorded
	 * into the profile (so tc_profile_get_frame works on the ids inside the call). It must
	 * be quick: time spent in it delays the next sample. */
	void (*on_sample)(void *ctx, const struct tc_sample *s);
	void *ctx;
	bool want_gil;                    /* read which thread holds the GIL in every mode */
	bool want_cpu;                    /* read each thread's run state from /proc */
};

/* Sample T into P until the duration elapses, *STOP becomes non-zero, or the target exits
 * (then tc_profile_stats(P)->target_exited is set and 0 is returned: what was collected is
 * kept). Returns 0, or -TC_ENOMEM / -TC_EPERM (access revoked) with P still holding every
 * sample taken before the failure. */
int tc_sampler_run(struct tc_target *t, const struct tc_sampler_opts *o, struct tc_profile *p);

struct tc_source;
/* The same loop over any sample source (daemon/source.h); tc_sampler_run is this over a new
 * walker of T with the default options. */
int tc_sampler_run_source(struct tc_source *src, const struct tc_sampler_opts *o,
			  struct tc_profile *p);

#endif
