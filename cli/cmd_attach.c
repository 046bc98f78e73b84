/* SPDX-License-Identifier: MIT */
/* `tachyon-c attach PID ...`: sample until done, then write the profile.
 *
 * The output file is always complete: regular files are written under a temporary name in
 * the same directory and renamed into place; '-' and paths that are not regular files
 * (pipes, /dev/stdout) are written directly. Ctrl-C and SIGTERM end the recording early and
 * still write the file; a target that exits ends it too (exit 0, with a note). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "daemon/sampler.h"
#include "daemon/sinks/sinks.h"
#include "reader/proc.h"

static int write_profile(struct tc_profile *p, enum tc_format fmt, FILE *f)
{
	switch (fmt) {
	case TC_FMT_COLLAPSED:
		return tc_sink_collapsed(p, f);
	case TC_FMT_SPEEDSCOPE:
		return tc_sink_speedscope(p, f);
	default:
		return tc_sink_summary(p, f, 0);
	}
}

/* Write P to PATH (NULL: summary on stdout). Returns 0 or an exit code. */
static int emit(struct tc_profile *p, const char *path, enum tc_format fmt)
{
	struct stat st;
	if (!path || strcmp(path, "-") == 0 || (stat(path, &st) == 0 && !S_ISREG(st.st_mode))) {
		FILE *f = stdout;
		bool close_it = false;
		if (path && strcmp(path, "-") != 0) {
			f = fopen(path, "w");
			if (!f) {
				fprintf(stderr, "%s: cannot open %s: %s\n", tc_prog, path, strerror(errno));
				return TC_EXIT_RUNTIME;
			}
			close_it = true;
		}
		int err = write_profile(p, fmt, f);
		if (fflush(f) != 0)
			err = -TC_EIO;
		if (close_it && fclose(f) != 0)
			err = -TC_EIO;
		if (err) {
			fprintf(stderr, "%s: writing %s failed\n", tc_prog, path ? path : "stdout");
			return TC_EXIT_RUNTIME;
		}
		return 0;
	}
	size_t n = strlen(path) + 32;
	char *tmp = malloc(n);
	if (!tmp)
		return TC_EXIT_RUNTIME;
	snprintf(tmp, n, "%s.tmp.%d", path, (int)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "%s: cannot create %s: %s\n", tc_prog, tmp, strerror(errno));
		free(tmp);
		return TC_EXIT_RUNTIME;
	}
	int err = write_profile(p, fmt, f);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		err = -TC_EIO;
	if (fclose(f) != 0)
		err = -TC_EIO;
	if (!err && rename(tmp, path) != 0)
		err = -TC_EIO;
	if (err) {
		fprintf(stderr, "%s: writing %s failed: %s\n", tc_prog, path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return TC_EXIT_RUNTIME;
	}
	free(tmp);
	return 0;
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
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	struct tc_sampler_opts so = {.rate_hz = 1000, .mode = TC_MODE_WALL};
	const char *out = NULL, *mode = "wall";
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
			out = optarg;
			break;
		case 'f':
			fmt = tc_format_from_name(optarg);
			if (fmt == TC_FMT_NONE)
				return tc_usage_error("attach", "unknown format '%s' (collapsed, speedscope, summary)", optarg);
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
	int rc = tc_cli_attach(pid, &t);
	if (rc)
		return rc;

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
	int err = tc_sampler_run(t, &so, p);
	const struct tc_profile_stats *st = tc_profile_stats(p);
	if (err)
		rc = tc_cli_fail(err, pid, "sampling");
	/* whatever happened, what was collected is written */
	int wrc = emit(p, out, fmt);
	if (wrc)
		rc = wrc;
	if (st->target_exited)
		fprintf(stderr, "%s: process %d exited after %.2f s; %llu samples kept%s%s\n",
			tc_prog, (int)pid, st->duration, (unsigned long long)st->samples,
			out && strcmp(out, "-") ? " in " : "", out && strcmp(out, "-") ? out : "");
	if (*so.stop)
		fprintf(stderr, "%s: interrupted after %.2f s; %llu samples kept\n", tc_prog,
			st->duration, (unsigned long long)st->samples);
out:
	tc_profile_free(p);
	tc_target_free(t);
	return rc;
}
