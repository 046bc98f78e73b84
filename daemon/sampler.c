/* SPDX-License-Identifier: MIT */
/* The sampling loop. See sampler.h.
 *
 * Deadlines are absolute (clock_nanosleep with TIMER_ABSTIME on CLOCK_MONOTONIC) and follow
 * the slot policy of daemon/pace.h. Samples come from a source (daemon/source.h), whose
 * retry policy decides when an instant counts as failed; a sample is recorded into the
 * profile and handed to the observer. */
#include "daemon/sampler.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>

#include "base/clock.h"
#include "base/vec.h"
#include "daemon/pace.h"
#include "daemon/source.h"
#include "daemon/walker.h"
#include "reader/proc.h"

struct run {
	uint64_t frames;
	struct tc_source *src;
	struct tc_profile *p;
	const struct tc_snapshot *snap;
	int32_t *ids;
	size_t cap_ids;
	struct tc_sample_thread *obs; /* for the observer */
	size_t cap_obs;
	const struct tc_sampler_opts *o;
};

static int8_t run_state(struct run *r, const struct tc_thread_stack *ts)
{
	if (!ts->native_id)
		return -1;
	char c = tc_proc_thread_state(r->src->pid, (pid_t)ts->native_id);
	return c == 'R' ? 1 : c ? 0 : -1;
}

static bool wanted(struct run *r, const struct tc_thread_stack *ts, int8_t on_cpu)
{
	if (r->o->main_only && !ts->main)
		return false;
	switch (r->o->mode) {
	case TC_MODE_GIL:
		return ts->holds_gil == 1;
	case TC_MODE_CPU:
		return on_cpu == 1;
	default:
		return true;
	}
}

/* Record the snapshot (and hand it to the observer). */
static int record(struct run *r, double when)
{
	const bool observe = r->o->on_sample != NULL;
	const bool cpu = r->o->mode == TC_MODE_CPU || r->o->want_cpu;
	size_t used = 0, nt = 0;
	r->src->ops->begin_record(r->src, r->p, tc_profile_stats(r->p)->samples);
	for (size_t i = 0; i < r->snap->nthreads; i++) {
		const struct tc_thread_stack *ts = &r->snap->threads[i];
		r->frames += ts->n;
		int8_t on_cpu = cpu && !(r->o->main_only && !ts->main) ? run_state(r, ts) : -1;
		if (!wanted(r, ts, on_cpu))
			continue;
		/* still read inconsistently after the last try: left out, and counted */
		if (ts->left_out) {
			tc_profile_stats(r->p)->torn++;
			continue;
		}
		if (ts->torn)
			tc_profile_stats(r->p)->unverified++;
		int32_t leaf;
		const int32_t *ids_bu;
		int err = r->src->ops->intern(r->src, r->p, ts, &leaf, &ids_bu);
		/* a code object the walk used and the cache let go of since, freed in the target
		 * meanwhile: this thread's stack is lost, not the recording */
		if (err == -TC_ECORRUPT || err == -TC_EFAULT) {
			tc_profile_stats(r->p)->torn++;
			continue;
		}
		if (!err)
			err = tc_profile_add_node(r->p, ts->native_id, ts->thread_id, leaf, 1);
		if (err)
			return err;
		if (ts->truncated)
			tc_profile_stats(r->p)->truncated++;
		if (ts->top_unconfirmed)
			tc_profile_stats(r->p)->unconfirmed++;
		if (!observe)
			continue;
		/* the observer gets every thread's ids side by side, innermost first (an
		 * unconfirmed top's marker first, a cut stack's marker last) */
		const size_t n = ts->n + (ts->truncated ? 1 : 0) + (ts->top_unconfirmed ? 1 : 0);
		err = tc_vec_reserve((void **)&r->ids, &r->cap_ids, sizeof *r->ids, used + n);
		if (!err)
			err = tc_vec_reserve((void **)&r->obs, &r->cap_obs, sizeof *r->obs, nt + 1);
		if (err)
			return err;
		for (size_t k = 0; k < n; k++)
			r->ids[used + k] = ids_bu[n - 1 - k];
		r->obs[nt++] = (struct tc_sample_thread){
			.native_id = ts->native_id, .thread_id = ts->thread_id, .main = ts->main,
			.holds_gil = ts->holds_gil, .on_cpu = on_cpu,
			.frames = NULL, .n = n};
		used += n;
	}
	if (observe) {
		/* ids may have moved while growing: point at them only now */
		size_t off = 0;
		for (size_t k = 0; k < nt; k++) {
			r->obs[k].frames = r->ids + off;
			off += r->obs[k].n;
		}
		struct tc_sample smp = {.time = when, .threads = r->obs, .nthreads = nt,
					.nthreads_total = r->snap->nthreads};
		r->o->on_sample(r->o->ctx, &smp);
	}
	return 0;
}

/* One sampling instant: walk (retrying a torn walk) and record. */
static int sample_once(struct run *r, struct tc_profile_stats *st)
{
	/* wall and cpu modes do not need the GIL state; the source's retry policy decides
	 * how often a torn walk is walked again */
	bool gil = r->o->mode == TC_MODE_GIL || r->o->want_gil;
	unsigned flags = TC_UNWIND_CACHED_HEAD | (gil ? 0 : TC_UNWIND_NO_GIL);
	int err = r->src->ops->take(r->src, flags, &r->snap);
	if (err == -TC_EFAULT || err == -TC_ECORRUPT || err == -TC_EINVAL) {
		/* A read that faults on a process that is exiting is its last sample. */
		if (tc_proc_check(r->src->pid) == -TC_ESRCH)
			return -TC_ESRCH;
		st->failed++;
		if (r->o->on_sample) {
			struct tc_sample smp = {.time = tc_now_s(), .failed = true};
			r->o->on_sample(r->o->ctx, &smp);
		}
		return 0;
	}
	if (err)
		return err;
	return record(r, tc_now_s());
}

static double now_real(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int tc_sampler_run(struct tc_target *t, const struct tc_sampler_opts *o, struct tc_profile *p)
{
	struct tc_walker *w;
	struct tc_source src;
	int err = tc_walker_new(t, NULL, &w);
	if (err)
		return err;
	tc_walker_source(w, &src);
	err = tc_sampler_run_source(&src, o, p);
	tc_walker_free(w);
	return err;
}

/* A - B for every counter of the run (the source's counters cover its whole life). */
static void stats_since(struct tc_source_stats *a, const struct tc_source_stats *b)
{
	a->io.syscalls -= b->io.syscalls;
	a->io.reads -= b->io.reads;
	a->io.bytes -= b->io.bytes;
	a->pf.walks -= b->pf.walks;
	a->pf.hits -= b->pf.hits;
	a->pf.misses -= b->pf.misses;
	a->pf.batch_ranges -= b->pf.batch_ranges;
	a->pf.batch_bytes -= b->pf.batch_bytes;
	a->pf.batch_failures -= b->pf.batch_failures;
	a->frame_hits -= b->frame_hits;
	a->frame_misses -= b->frame_misses;
	a->retries -= b->retries;
}

int tc_sampler_run_source(struct tc_source *src, const struct tc_sampler_opts *o,
			  struct tc_profile *p)
{
	struct tc_profile_stats *st = tc_profile_stats(p);
	struct run r = {.src = src, .p = p, .o = o};
	int err;

	/* Wake-ups as close to the deadline as the kernel allows (default slack is 50 us). */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

	/* rate 0: back to back (bench), no sleeping at all */
	bool b2b = o->rate_hz <= 0;
	struct rusage ru0;
	getrusage(RUSAGE_SELF, &ru0);
	struct tc_source_stats ws0;
	src->ops->get_stats(src, &ws0);
	struct tc_pace pace;
	const uint64_t missed0 = st->missed;
	tc_pace_start(&pace, (int64_t)tc_now_ns(), o->rate_hz, o->duration);
	double t0 = tc_now_s();
	double next_exec_check = t0 + 1.0;
	st->start_time = now_real();
	err = 0;
	while (!(o->stop && *o->stop)) {
		if (o->duration > 0 && tc_now_s() - t0 >= o->duration)
			break;
		int64_t wake_ns;
		bool last = tc_pace_wake(&pace, &wake_ns);
		if (!b2b) {
			struct timespec wake = {.tv_sec = wake_ns / 1000000000,
						.tv_nsec = wake_ns % 1000000000};
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &wake, NULL) == EINTR &&
			       !(o->stop && *o->stop))
				;
		}
		if ((o->stop && *o->stop) || (last && !b2b))
			break;
		st->samples++;
		uint64_t failed = st->failed;
		err = sample_once(&r, st);
		/* a process that called execve runs another program (maybe another Python):
		 * nothing known about it holds. Checked once a second, and at once when a
		 * sample fails. */
		if (!err && (st->failed != failed || tc_now_s() >= next_exec_check)) {
			next_exec_check = tc_now_s() + 1.0;
			if (src->ops->execed(src)) {
				st->target_execed = true;
				break;
			}
		}
		if (err == -TC_ESRCH) {
			st->target_exited = true;
			err = 0;
			break;
		}
		if (err)
			break;
		tc_pace_done(&pace, (int64_t)tc_now_ns()); /* the slot policy: daemon/pace.h */
		st->missed = missed0 + pace.missed;
	}
	st->duration = tc_now_s() - t0;
	if (o->report) {
		struct tc_sampler_report *rep = o->report;
		struct rusage ru1;
		getrusage(RUSAGE_SELF, &ru1);
		struct tc_source_stats ws;
		src->ops->get_stats(src, &ws);
		stats_since(&ws, &ws0);
		memset(rep, 0, sizeof *rep);
		rep->io = ws.io;
		rep->pf = ws.pf;
		rep->pages = ws.pages;
		rep->code = ws.code;
		rep->fc = ws.fc;
		rep->chain = ws.chain;
		rep->frame_hits = ws.frame_hits;
		rep->frame_misses = ws.frame_misses;
		rep->retries = ws.retries;
		rep->frames = r.frames;
		rep->cpu_user = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
				(double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) * 1e-6;
		rep->cpu_sys = (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
			       (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) * 1e-6;
	}
	free(r.ids);
	free(r.obs);
	return err;
}
