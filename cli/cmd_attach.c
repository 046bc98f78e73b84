/* SPDX-License-Identifier: MIT */
/* `tachyon-c attach PID ...`: sample until done, then write the profile.
 *
 * The output file is always complete: regular files are written under a temporary name in
 * the same directory and renamed into place; '-' and paths that are not regular files
 * (pipes, /dev/stdout) are written directly (cli/outfile.h, also for symlinks). Ctrl-C and SIGTERM end the recording early and
 * still write the file; a target that exits ends it too (exit 0, with a note). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/outfile.h"
#include "cli/session.h"
#include "daemon/alloc.h"
#include "daemon/alloc_monitor.h"
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
 * written from the allocator monitor's thread (daemon/alloc_monitor.h) so the sampler's
 * timing is untouched. Lines are flushed as written, so the file is complete up to the last
 * line whatever ends the recording. */
struct alloc_log {
	struct tc_alloc_monitor *mon;
	struct tc_outfile out;
	FILE *f; /* out.f */
	unsigned long lines;
};

/* The monitor's callback: append one summary line. Returns 0 or an error. */
static int alloc_log_line(void *ctx, const struct tc_alloc *a, const struct tc_alloc_reading *r)
{
	struct alloc_log *l = ctx;
	cJSON *j = tc_alloc_json(a, &r->walk.sum, NULL);
	if (!j)
		return -TC_ENOMEM;
	cJSON_AddNumberToObject(j, "time", r->elapsed);
	int err = tc_outfile_put_json(l->f, j);
	cJSON_Delete(j);
	if (!err && (fflush(l->f) != 0 || ferror(l->f))) {
		l->out.err = errno; /* the reason, for the message when the log is closed */
		err = -TC_EIO;
	}
	if (!err)
		l->lines++;
	return err;
}

/* Open FILE and start the monitor for T. Returns 0 or an exit code (message printed). */
static int alloc_log_start(struct alloc_log *l, struct tc_target *t, const char *path)
{
	/* streamed, not renamed into place: the log is complete up to its last line, and can
	 * be read while it grows */
	int err = tc_outfile_open(path, TC_OUT_STREAM, &l->out);
	if (err)
		return err;
	l->f = l->out.f;
	/* located on this thread through t->mem, before the sampler starts using it */
	err = tc_alloc_monitor_open(t, &l->mon);
	if (err)
		return tc_cli_fail(err, t->pid, "locating the allocator of");
	/* Ctrl-C and SIGTERM must reach the sampling thread, not the monitor's */
	sigset_t quiet;
	tc_session_quiet_signals(&quiet);
	struct tc_alloc_monitor_cfg cfg = {.interval = 1.0, .last_reading = true,
					   .on_reading = alloc_log_line, .ctx = l, .block = &quiet};
	err = tc_alloc_monitor_start(l->mon, &cfg);
	if (err) {
		fprintf(stderr, "%s: cannot start the allocator log thread: %s\n", tc_prog,
			strerror(err));
		return TC_EXIT_RUNTIME;
	}
	return 0;
}

/* Stop the monitor, close the file. Returns 0 or an exit code (message printed). */
static int alloc_log_stop(struct alloc_log *l, const char *path)
{
	int rc = 0;

	if (l->mon) {
		int err = tc_alloc_monitor_stop(l->mon);

		tc_alloc_monitor_free(l->mon);
		l->mon = NULL;
		if (err && err != -TC_ESRCH && err != -TC_EIO) {
			fprintf(stderr, "%s: allocator log %s stopped early: %s\n", tc_prog,
				path, tc_strerror(err));
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
	return rc;
}

struct attach_opts {
	struct tc_sampler_opts so;
	const char *out, *alloc_path;
	enum tc_format fmt;
};

static int attach_option(void *ctx, int opt, const char *arg)
{
	struct attach_opts *o = ctx;

	switch (opt) {
	case 'r':
		if (tc_parse_rate(arg, &o->so.rate_hz) != 0)
			return tc_usage_error("attach", "bad rate '%s' (try 1000, 1khz, 10k, 250us)", arg);
		break;
	case 'd':
		if (tc_parse_duration(arg, &o->so.duration) != 0)
			return tc_usage_error("attach", "bad duration '%s' (seconds, e.g. 10 or 500ms)", arg);
		break;
	case 'o':
		if (!arg[0])
			return tc_usage_error("attach", "-o needs a file name ('-' for stdout)");
		o->out = arg;
		break;
	case 'f':
		o->fmt = tc_format_from_name(arg);
		if (o->fmt == TC_FMT_NONE) {
			char names[256];

			tc_sink_names(names, sizeof names);
			return tc_usage_error("attach", "unknown format '%s' (%s)", arg, names);
		}
		break;
	default: /* 'A' */
		if (!arg[0])
			return tc_usage_error("attach", "--alloc-log needs a file name ('-' for stdout)");
		o->alloc_path = arg;
		break;
	}
	return 0;
}

int tc_cmd_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{"rate", required_argument, NULL, 'r'},
		{"duration", required_argument, NULL, 'd'},
		{"output", required_argument, NULL, 'o'},
		{"format", required_argument, NULL, 'f'},
		TC_SESSION_OPT_THREADS,
		TC_SESSION_OPT_MODE,
		{"alloc-log", required_argument, NULL, 'A'},
		TC_SESSION_OPT_HELP,
		{0, 0, 0, 0},
	};
	struct attach_opts o = {.so = {.rate_hz = 1000, .mode = TC_MODE_WALL}, .fmt = TC_FMT_NONE};
	struct tc_session ss;
	/* GNU getopt permutes: options may come before or after the PID */
	int urc = tc_session_parse(&ss, "attach", "r:d:o:f:h", opts, attach_option, &o, argc, argv);
	if (urc != TC_SESSION_RUN)
		return urc;
	struct tc_sampler_opts so = o.so;
	const char *out = o.out, *mode = ss.mode_name, *alloc_path = o.alloc_path;
	enum tc_format fmt = o.fmt;
	pid_t pid = ss.pid;
	so.mode = ss.mode;
	so.main_only = ss.main_only;
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

	so.stop = tc_session_catch_stop(false);
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
