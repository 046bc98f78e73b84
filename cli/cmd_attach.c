/* SPDX-License-Identifier: MIT */
/* `tachyon-c attach PID ...`: sample until done, then write the profile.
 *
 * The output file is always complete: regular files are written under a temporary name in
 * the same directory and renamed into place; '-' and paths that are not regular files
 * (pipes, /dev/stdout) are written directly (cli/outfile.h, also for symlinks). Ctrl-C and SIGTERM end the recording early and
 * still write the file; a target that exits ends it too (exit 0, with a note). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/outfile.h"
#include "daemon/alloc.h"
#include "daemon/sampler.h"
#include "daemon/sinks/sink.h"
#include "reader/proc.h"

/* The profile's output: the file (cli/outfile.h) and the sink writing it (daemon/sinks/sink.h).
 * A format that takes samples gets both before sampling starts; the others only once it has
 * ended, so a recording is never cut short by its output. */
struct output {
	struct tc_outfile f;
	struct tc_sink *sink;
};

/* Open PATH (NULL: stdout) and a sink of FMT on it. Returns 0 or an exit code (message
 * printed; nothing left behind). */
static int output_open(struct output *o, const char *path, enum tc_format fmt)
{
	int rc = tc_outfile_open(path ? path : "-", TC_OUT_ATOMIC, &o->f);

	if (rc)
		return rc;
	int err = tc_sink_open(tc_sink_format_get(fmt), o->f.f, NULL, &o->sink);
	if (err) {
		tc_outfile_abort(&o->f);
		return tc_cli_fail(err, 0, "writing the profile");
	}
	return 0;
}

/* Give up on O: the destination keeps what it had. Safe on a zeroed or closed O. */
static void output_abort(struct output *o)
{
	tc_sink_free(o->sink);
	o->sink = NULL;
	tc_outfile_abort(&o->f);
}

/* Write P (opening the output first unless it is open) and close it. Returns 0 or an exit
 * code (message printed). */
static int emit(struct output *o, struct tc_profile *p, const char *path, enum tc_format fmt)
{
	if (!o->sink) {
		int rc = output_open(o, path, fmt);

		if (rc)
			return rc;
	}
	errno = 0;
	int err = tc_sink_finish(o->sink, p);
	if (err == -TC_EIO)
		o->f.err = errno;
	if (err == -TC_ENOMEM) {
		/* nothing written: the destination keeps what it had */
		output_abort(o);
		return tc_cli_fail(-TC_ENOMEM, 0, "writing the profile");
	}
	tc_sink_free(o->sink);
	o->sink = NULL;
	/* a write error left the stream's error flag set: closing reports it */
	return tc_outfile_close(&o->f);
}

/* --alloc-log FILE: the allocator summary (daemon/alloc.h) as one JSON line per second,
 * written by a thread of its own so the sampler's timing is untouched. The thread reads
 * through a tc_remote of its own (a tc_remote is not thread-safe, and the sampler's
 * prefetcher is not used). Lines are flushed as written, so the file is complete up to the
 * last line whatever ends the recording. */
struct alloc_log {
	pthread_t th;
	bool started;
	struct tc_alloc *a;
	struct tc_remote *mem;
	struct tc_outfile out;
	FILE *f; /* out.f */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	double t0;
	int err;
	unsigned long lines;
};

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Append one summary line. Returns 0 or an error (-TC_ESRCH: the target is gone). */
static int alloc_log_line(struct alloc_log *l)
{
	struct tc_alloc_summary s;
	int err = tc_alloc_summary(l->a, l->mem, &s);
	if (err)
		return err;
	cJSON *j = tc_alloc_json(l->a, &s, NULL);
	if (!j)
		return -TC_ENOMEM;
	cJSON_AddNumberToObject(j, "time", mono_now() - l->t0);
	err = tc_outfile_put_json(l->f, j);
	cJSON_Delete(j);
	if (!err && (fflush(l->f) != 0 || ferror(l->f))) {
		l->out.err = errno; /* the reason, for the message when the log is closed */
		err = -TC_EIO;
	}
	if (!err)
		l->lines++;
	return err;
}

static void *alloc_log_main(void *arg)
{
	struct alloc_log *l = arg;
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	pthread_mutex_lock(&l->mu);
	while (!l->done) {
		pthread_mutex_unlock(&l->mu);
		int err = alloc_log_line(l);
		pthread_mutex_lock(&l->mu);
		if (err) {
			l->err = err;
			break;
		}
		next.tv_sec += 1;
		while (!l->done && pthread_cond_timedwait(&l->cv, &l->mu, &next) != ETIMEDOUT)
			;
	}
	bool last = l->done && !l->err;
	pthread_mutex_unlock(&l->mu);
	/* one more line at the end, so the file covers the whole recording */
	if (last) {
		int err = alloc_log_line(l);
		if (err && err != -TC_ESRCH)
			l->err = err;
	}
	return NULL;
}

/* Open FILE and start the thread for T. Returns 0 or an exit code (message printed). */
static int alloc_log_start(struct alloc_log *l, struct tc_target *t, const char *path)
{
	pthread_condattr_t ca;
	sigset_t block, old;
	int err;

	/* streamed, not renamed into place: the log is complete up to its last line, and can
	 * be read while it grows */
	err = tc_outfile_open(path, TC_OUT_STREAM, &l->out);
	if (err)
		return err;
	l->f = l->out.f;
	/* located on this thread through t->mem, before the sampler starts using it */
	err = tc_alloc_open(t, &l->a);
	if (!err)
		err = tc_remote_open(t->pid, &l->mem);
	if (err)
		return tc_cli_fail(err, t->pid, "locating the allocator of");
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &ca);
	pthread_condattr_destroy(&ca);
	l->t0 = mono_now();
	/* Ctrl-C and SIGTERM must reach the sampling thread, not this one */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	err = pthread_create(&l->th, NULL, alloc_log_main, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		fprintf(stderr, "%s: cannot start the allocator log thread: %s\n", tc_prog,
			strerror(err));
		return TC_EXIT_RUNTIME;
	}
	l->started = true;
	return 0;
}

/* Stop the thread, close the file. Returns 0 or an exit code (message printed). */
static int alloc_log_stop(struct alloc_log *l, const char *path)
{
	int rc = 0;

	if (l->started) {
		pthread_mutex_lock(&l->mu);
		l->done = true;
		pthread_cond_signal(&l->cv);
		pthread_mutex_unlock(&l->mu);
		pthread_join(l->th, NULL);
		l->started = false;
		pthread_cond_destroy(&l->cv);
		pthread_mutex_destroy(&l->mu);
		if (l->err && l->err != -TC_ESRCH && l->err != -TC_EIO) {
			fprintf(stderr, "%s: allocator log %s stopped early: %s\n", tc_prog,
				path, tc_strerror(l->err));
			rc = TC_EXIT_RUNTIME;
		}
	}
	/* a write error (-TC_EIO) is still flagged on the stream: closing reports its reason */
	if (l->f) {
		int crc = tc_outfile_close(&l->out);

		if (crc)
			rc = crc;
	}
	l->f = NULL;
	tc_remote_free(l->mem);
	l->mem = NULL;
	tc_alloc_free(l->a);
	l->a = NULL;
	return rc;
}

int tc_cmd_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{"rate", required_argument, NULL, 'r'},
		{"duration", required_argument, NULL, 'd'},
		{"output", required_argument, NULL, 'o'},
		{"format", required_argument, NULL, 'f'},
		{"threads", required_argument, NULL, 'T'},
		{"mode", required_argument, NULL, 'M'},
		{"alloc-log", required_argument, NULL, 'A'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	struct tc_sampler_opts so = {.rate_hz = 1000, .mode = TC_MODE_WALL};
	const char *out = NULL, *mode = "wall", *alloc_path = NULL;
	enum tc_format fmt = TC_FMT_NONE;
	pid_t pid = 0;
	int c;

	optind = 1;
	opterr = 0;
	/* GNU getopt permutes: options may come before or after the PID */
	while ((c = getopt_long(argc, argv, "r:d:o:f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (tc_parse_rate(optarg, &so.rate_hz) != 0)
				return tc_usage_error("attach", "bad rate '%s' (try 1000, 1khz, 10k, 250us)", optarg);
			break;
		case 'd':
			if (tc_parse_duration(optarg, &so.duration) != 0)
				return tc_usage_error("attach", "bad duration '%s' (seconds, e.g. 10 or 500ms)", optarg);
			break;
		case 'o':
			if (!optarg[0])
				return tc_usage_error("attach", "-o needs a file name ('-' for stdout)");
			out = optarg;
			break;
		case 'f':
			fmt = tc_format_from_name(optarg);
			if (fmt == TC_FMT_NONE) {
				char names[256];

				tc_sink_names(names, sizeof names);
				return tc_usage_error("attach", "unknown format '%s' (%s)", optarg, names);
			}
			break;
		case 'T':
			if (strcmp(optarg, "main") == 0)
				so.main_only = true;
			else if (strcmp(optarg, "all") != 0)
				return tc_usage_error("attach", "--threads takes all or main, not '%s'", optarg);
			break;
		case 'M':
			if (strcmp(optarg, "wall") == 0)
				so.mode = TC_MODE_WALL;
			else if (strcmp(optarg, "cpu") == 0)
				so.mode = TC_MODE_CPU;
			else if (strcmp(optarg, "gil") == 0)
				so.mode = TC_MODE_GIL;
			else
				return tc_usage_error("attach", "--mode takes wall, cpu or gil, not '%s'", optarg);
			mode = optarg;
			break;
		case 'A':
			if (!optarg[0])
				return tc_usage_error("attach", "--alloc-log needs a file name ('-' for stdout)");
			alloc_path = optarg;
			break;
		case 'h':
			tc_usage(stdout, "attach");
			return TC_EXIT_OK;
		case ':':
			return tc_usage_error("attach", "option %s needs a value", argv[optind - 1]);
		default:
			return tc_usage_error("attach", "unknown option: %s", argv[optind - 1]);
		}
	}
	int urc = tc_cli_one_pid("attach", argc, argv, optind, &pid);
	if (urc)
		return urc;
	if (fmt == TC_FMT_NONE)
		fmt = out && strcmp(out, "-") != 0 ? tc_format_from_path(out) : TC_FMT_NONE;
	if (fmt == TC_FMT_NONE)
		fmt = out ? TC_FMT_COLLAPSED : TC_FMT_SUMMARY;

	struct tc_target *t = NULL;
	struct tc_profile *p = NULL;
	struct alloc_log alog = {0};
	struct output output = {0};
	int rc = tc_cli_attach(pid, &t);
	if (rc)
		return rc;
	if (alloc_path) {
		rc = alloc_log_start(&alog, t, alloc_path);
		if (rc)
			goto out;
	}

	so.stop = tc_cli_catch_stop();
	signal(SIGPIPE, SIG_IGN);

	char cmdline[256] = "";
	tc_proc_cmdline(pid, cmdline, sizeof cmdline);
	struct tc_profile_meta meta = {.pid = pid, .python_version = t->version,
				       .command = cmdline, .rate_hz = so.rate_hz, .mode = mode};
	p = tc_profile_new(&meta);
	if (!p) {
		rc = tc_cli_fail(-TC_ENOMEM, pid, "sampling");
		goto out;
	}
	if (tc_sink_format_get(fmt)->sample) {
		rc = output_open(&output, out, fmt);
		if (rc)
			goto out;
		tc_sink_observe(output.sink, &so);
	}
	int err = tc_sampler_run(t, &so, p);
	if (alloc_path) {
		int arc = alloc_log_stop(&alog, alloc_path);
		if (arc && !rc)
			rc = arc;
	}
	const struct tc_profile_stats *st = tc_profile_stats(p);
	if (err)
		rc = tc_cli_fail(err, pid, "sampling");
	/* whatever happened, what was collected is written */
	int wrc = emit(&output, p, out, fmt);
	if (wrc)
		rc = wrc;
	if (st->target_exited)
		fprintf(stderr, "%s: process %d exited after %.2f s; %llu samples kept%s%s\n",
			tc_prog, (int)pid, st->duration, (unsigned long long)st->samples,
			out && strcmp(out, "-") ? " in " : "", out && strcmp(out, "-") ? out : "");
	if (st->target_execed)
		fprintf(stderr, "%s: process %d replaced its program (exec) after %.2f s: sampling "
			"stopped; %llu samples kept%s%s\n", tc_prog, (int)pid, st->duration,
			(unsigned long long)st->samples, out && strcmp(out, "-") ? " in " : "",
			out && strcmp(out, "-") ? out : "");
	if (*so.stop)
		fprintf(stderr, "%s: interrupted after %.2f s; %llu samples kept\n", tc_prog,
			st->duration, (unsigned long long)st->samples);
out:
	if (alloc_path)
		alloc_log_stop(&alog, alloc_path); /* no-op when already stopped */
	output_abort(&output); /* no-op when written */
	tc_profile_free(p);
	tc_target_free(t);
	return rc;
}
