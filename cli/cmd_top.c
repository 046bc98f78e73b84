/* SPDX-License-Identifier: MIT */
/* `tachyon-c top PID`: a live view of where a running Python process spends its time.
 *
 * Two threads. The sampling thread runs tc_sampler_run (absolute deadlines, as `attach`)
 * and, from its observer, feeds each instant into the model (cli/top_model.c) under a mutex
 * held only for that; frame ids are resolved through the profile there, the only thread
 * allowed to touch it. The UI thread (cli/top_input.c, drawing in cli/top_view.c) copies the
 * model into a snapshot once per refresh, under the same mutex, and draws from the copy, so
 * a slow terminal never delays a sample. A third thread, the allocator monitor
 * (daemon/alloc_monitor.h), reads the memory figures the header shows. Signals are blocked
 * in both helper threads: SIGINT, SIGTERM, SIGHUP and SIGWINCH reach the UI thread, which
 * restores the terminal on every way out. */
#include <locale.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/session.h"
#include "cli/top_model.h"
#include "cli/top_view.h"
#include "daemon/alloc_monitor.h"
#include "daemon/sampler.h"
#include "reader/proc.h"

const char tc_usage_top[] =
	"usage: tachyon-c top PID [-r RATE] [-i SECONDS] [--threads all|main]\n"
	"                         [--mode wall|cpu|gil]\n"
	"\n"
	"A live terminal view of where PID spends its time: the functions (or lines) seen\n"
	"innermost (%Own) and anywhere on the stack (%Total) during the last refresh, with\n"
	"cumulative times, over a header of sampling, GIL, CPU, thread and memory figures.\n"
	"Sampling goes on while the screen is drawn; if the target exits, its last view stays\n"
	"up until q. Needs a terminal (to record without one, use `tachyon-c attach`).\n"
	"\n"
	"  -r, --rate RATE      samples per second: 100, 1khz, or an interval: 10ms\n"
	"                       (default 100 Hz)\n"
	"  -i, --interval SEC   refresh every SEC seconds to start with (default 1)\n"
	"      --threads WHICH  all (default) or main\n"
	"      --mode MODE      wall (default): every thread; cpu: threads on a CPU;\n"
	"                       gil: the thread holding the GIL\n"
	"\n"
	"keys: 1-4 or s/S sort column, l per function/per line, t then Left/Right one thread\n"
	"or all, p pause the display, r reset, / filter (c clears), +/- refresh faster/slower,\n"
	"? help, q quit.\n"
	"\n"
	"EXAMPLES\n"
	"  tachyon-c top 1234\n"
	"  tachyon-c top 1234 -r 1khz -i 0.5 --threads main\n";

struct top_run {
	struct tc_target *t;
	struct tc_profile *p;
	struct tc_sampler_opts so;
	struct tc_top_shared sh;
	uint64_t model_errors; /* instants partly counted for lack of memory */
};

/* Resolve a profile frame id for the model (sampling thread, inside the observer). */
static int lookup_frame(void *ctx, int32_t id, struct tc_top_frame_desc *out)
{
	const struct tc_pframe *f = tc_profile_get_frame(ctx, id);
	if (!f)
		return -1;
	*out = (struct tc_top_frame_desc){f->file, f->qualname, f->line, f->first_line};
	return 0;
}

/* The sampler's observer: one instant into the model. */
static void on_sample(void *ctx, const struct tc_sample *s)
{
	struct top_run *r = ctx;
	const struct tc_profile_stats *st = tc_profile_stats(r->p);
	pthread_mutex_lock(&r->sh.lock);
	tc_top_model_instant(r->sh.model, s->time, s->failed, s->nthreads_total);
	for (size_t i = 0; i < s->nthreads; i++) {
		const struct tc_sample_thread *th = &s->threads[i];
		struct tc_top_thread_sample ts = {
			.native_id = th->native_id, .thread_id = th->thread_id, .main = th->main,
			.holds_gil = th->holds_gil, .on_cpu = th->on_cpu,
			.frames = th->frames, .n = th->n};
		if (tc_top_model_add(r->sh.model, &ts, lookup_frame, r->p) != 0)
			r->model_errors++;
	}
	tc_top_model_counts(r->sh.model, st->samples, st->failed, st->missed);
	pthread_mutex_unlock(&r->sh.lock);
}

static void *sampler_main(void *arg)
{
	struct top_run *r = arg;
	int err = tc_sampler_run(r->t, &r->so, r->p);
	const struct tc_profile_stats *st = tc_profile_stats(r->p);
	pthread_mutex_lock(&r->sh.lock);
	r->sh.done = true;
	r->sh.err = err;
	r->sh.exited = st->target_exited;
	r->sh.duration = st->duration;
	pthread_mutex_unlock(&r->sh.lock);
	return NULL;
}

struct top_opts {
	double rate_hz, interval;
};

static int top_option(void *ctx, int opt, const char *arg)
{
	struct top_opts *o = ctx;

	if (opt == 'r') {
		if (tc_parse_rate(arg, &o->rate_hz) != 0)
			return tc_usage_error("top", "bad rate '%s' (try 100, 1khz, 10ms)", arg);
	} else if (tc_parse_duration(arg, &o->interval) != 0 || o->interval < 0.1 ||
		   o->interval > 60) { /* 'i' */
		return tc_usage_error("top", "bad interval '%s' (seconds, 0.1 to 60)", arg);
	}
	return 0;
}

int tc_cmd_top(int argc, char **argv)
{
	static const struct option opts[] = {
		{"rate", required_argument, NULL, 'r'},
		{"interval", required_argument, NULL, 'i'},
		TC_SESSION_OPT_THREADS,
		TC_SESSION_OPT_MODE,
		TC_SESSION_OPT_HELP,
		{0, 0, 0, 0},
	};
	struct top_opts o = {.rate_hz = 100, .interval = 1.0};
	struct tc_session ss;
	/* a leading ':': a missing value has its own message */
	int rc = tc_session_parse(&ss, "top", ":r:i:h", opts, top_option, &o, argc, argv);
	if (rc != TC_SESSION_RUN)
		return rc;
	struct top_run r;
	struct tc_alloc_monitor *mon = NULL;
	memset(&r, 0, sizeof r);
	r.so = (struct tc_sampler_opts){.rate_hz = o.rate_hz, .mode = ss.mode,
					.main_only = ss.main_only};
	double interval = o.interval;
	const char *mode = ss.mode_name;
	pid_t pid = ss.pid;
	pthread_t th;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr,
			"%s: top needs a terminal, but its %s is not one.\n"
			"  To record without a terminal, use attach: tachyon-c attach %d -d 10 [-o FILE]\n",
			tc_prog, isatty(STDIN_FILENO) ? "output" : "input", (int)pid);
		return TC_EXIT_USAGE;
	}

	rc = tc_cli_attach(pid, &r.t);
	if (rc)
		return rc;

	volatile sig_atomic_t *stop = tc_session_catch_stop(true);

	char cmdline[512] = "";
	tc_proc_cmdline(pid, cmdline, sizeof cmdline);
	struct tc_profile_meta meta = {.pid = pid, .python_version = r.t->version,
				       .command = cmdline, .rate_hz = r.so.rate_hz, .mode = mode};
	bool mutex_ok = false, started = false;
	r.p = tc_profile_new(&meta);
	r.sh.model = tc_top_model_new(0, 1.0 / r.so.rate_hz);
	if (!r.p || !r.sh.model || pthread_mutex_init(&r.sh.lock, NULL) != 0) {
		rc = tc_cli_fail(-TC_ENOMEM, pid, "starting");
		goto out;
	}
	mutex_ok = true;
	r.so.stop = stop;
	r.so.on_sample = on_sample;
	r.so.ctx = &r;
	/* the GIL holder costs no extra read per sample worth counting; the run state of each
	 * thread would (a /proc read per thread per sample), so the view reads the threads' CPU
	 * time once per refresh instead */
	r.so.want_gil = true;

	/* the allocator monitor locates its structures through r.t->mem: before the sampling
	 * thread owns it; afterwards it reads through a reader of its own, on a thread of its
	 * own: a full walk per refresh, and every 100 ms whether a collection is running.
	 * Without it the memory line shows n/a. */
	if (tc_alloc_monitor_open(r.t, &mon) == 0) {
		sigset_t quiet;
		tc_session_quiet_signals(&quiet);
		struct tc_alloc_monitor_cfg mcfg = {.interval = interval, .tick = 0.1, .walk = true,
						    .block = &quiet};
		if (tc_alloc_monitor_start(mon, &mcfg) != 0) {
			tc_alloc_monitor_free(mon);
			mon = NULL;
		}
	}

	/* the sampling thread starts with the stop, terminal and job-control signals blocked,
	 * so they reach the UI */
	if (tc_session_thread(&th, sampler_main, &r) != 0) {
		fprintf(stderr, "%s: cannot start the sampling thread\n", tc_prog);
		rc = TC_EXIT_RUNTIME;
		goto out;
	}
	started = true;

	/* wide characters for the sparkline and long names; numbers stay in the C locale */
	setlocale(LC_CTYPE, "");
	struct tc_top_view_cfg cfg = {.pid = pid, .command = cmdline, .version = r.t->version,
				      .mode = mode, .rate_hz = r.so.rate_hz, .interval = interval,
				      .main_only = r.so.main_only, .stop = stop, .alloc = mon};
	enum tc_top_end end = tc_top_view_run(&r.sh, &cfg);

	*stop = 1;
	pthread_join(th, NULL);
	started = false;
	switch (end) {
	case TC_TOP_FAILED:
		rc = tc_cli_fail(r.sh.err, pid, "sampling");
		break;
	case TC_TOP_NOTERM: {
		const char *term = getenv("TERM");
		fprintf(stderr, "%s: cannot set up the terminal (TERM=%s).\n"
			"  To record without a terminal, use attach: tachyon-c attach %d -d 10 [-o FILE]\n",
			tc_prog, term ? term : "unset", (int)pid);
		rc = TC_EXIT_USAGE;
		break;
	}
	default:
		rc = TC_EXIT_OK;
		if (r.sh.exited)
			fprintf(stderr, "%s: process %d exited after %.1f s (%llu samples)\n", tc_prog,
				(int)pid, r.sh.duration,
				(unsigned long long)tc_profile_stats(r.p)->samples);
		if (r.model_errors)
			fprintf(stderr, "%s: %llu samples were only partly counted (out of memory)\n",
				tc_prog, (unsigned long long)r.model_errors);
		break;
	}
out:
	if (started) {
		*stop = 1;
		pthread_join(th, NULL);
	}
	if (mutex_ok)
		pthread_mutex_destroy(&r.sh.lock);
	tc_top_model_free(r.sh.model);
	tc_profile_free(r.p);
	tc_alloc_monitor_free(mon);
	tc_target_free(r.t);
	return rc;
}
