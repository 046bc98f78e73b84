/* SPDX-License-Identifier: MIT */
/* `tachyon-c bench PID [-d SECONDS] [--json]`: sample back to back and report the cost. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "daemon/sampler.h"

static double ratio(double a, double b)
{
	return b > 0 ? a / b : 0;
}

int tc_cmd_bench(int argc, char **argv)
{
	static const struct option opts[] = {
		{"duration", required_argument, NULL, 'd'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	struct tc_sampler_report rep;
	struct tc_sampler_opts so = {.rate_hz = 0, .duration = 5,
				     .report = &rep};
	bool json = false;
	pid_t pid = 0;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "d:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (tc_parse_duration(optarg, &so.duration) != 0)
				return tc_usage_error("bench", "bad duration '%s'", optarg);
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			tc_usage(stdout, "bench");
			return TC_EXIT_OK;
		default:
			return tc_usage_error("bench", "unknown option: %s", argv[optind - 1]);
		}
	}
	int urc = tc_cli_one_pid("bench", argc, argv, optind, &pid);
	if (urc)
		return urc;

	struct tc_target *t = NULL;
	struct tc_profile *p = NULL;
	int rc = tc_cli_attach(pid, &t);
	if (rc)
		return rc;
	so.stop = tc_cli_catch_stop();

	struct tc_profile_meta meta = {.pid = pid, .python_version = t->version, .mode = "wall"};
	p = tc_profile_new(&meta);
	if (!p) {
		rc = tc_cli_fail(-TC_ENOMEM, pid, "sampling");
		goto out;
	}
	int err = tc_sampler_run(t, &so, p);
	if (err) {
		rc = tc_cli_fail(err, pid, "sampling");
		goto out;
	}
	const struct tc_profile_stats *st = tc_profile_stats(p);
	double n = (double)st->samples, secs = st->duration;
	double cpu = rep.cpu_user + rep.cpu_sys;
	if (json) {
		printf("{\"pid\":%d,\"python\":\"%s\",\"samples\":%llu,\"failed\":%llu,"
		       "\"retries\":%llu,\"seconds\":%.6f,\"us_per_sample\":%.4f,"
		       "\"samples_per_sec\":%.1f,\"syscalls_per_sample\":%.4f,"
		       "\"reads_per_sample\":%.4f,\"bytes_per_sample\":%.1f,"
		       "\"frames_per_sample\":%.2f,\"cpu_seconds\":%.6f,\"cpu_user\":%.6f,"
		       "\"cpu_sys\":%.6f,\"cpu_us_per_sample\":%.4f,"
		       "\"code_cache\":{\"hits\":%llu,\"misses\":%llu,\"hit_rate\":%.6f,"
		       "\"entries\":%zu,\"capacity\":%zu,\"flushes\":%llu,\"failures\":%llu},"
		       "\"frame_memo\":{\"hits\":%llu,\"misses\":%llu,\"hit_rate\":%.6f},"
		       "\"target_exited\":%s}\n",
		       (int)pid, t->version, (unsigned long long)st->samples,
		       (unsigned long long)st->failed, (unsigned long long)rep.retries, secs,
		       ratio(secs * 1e6, n), ratio(n, secs), ratio((double)rep.io.syscalls, n),
		       ratio((double)rep.io.reads, n), ratio((double)rep.io.bytes, n),
		       ratio((double)rep.frames, n), cpu, rep.cpu_user, rep.cpu_sys,
		       ratio(cpu * 1e6, n), (unsigned long long)rep.code.hits,
		       (unsigned long long)rep.code.misses,
		       ratio((double)rep.code.hits, (double)(rep.code.hits + rep.code.misses)),
		       rep.code.entries, rep.code.capacity, (unsigned long long)rep.code.flushes,
		       (unsigned long long)rep.code.failures, (unsigned long long)rep.frame_hits,
		       (unsigned long long)rep.frame_misses,
		       ratio((double)rep.frame_hits, (double)(rep.frame_hits + rep.frame_misses)),
		       st->target_exited ? "true" : "false");
	} else {
		printf("tachyon-c bench: pid %d, Python %s, %.2f s back to back\n", (int)pid,
		       t->version, secs);
		printf("  samples        %llu (%llu failed, %llu retried)\n",
		       (unsigned long long)st->samples, (unsigned long long)st->failed,
		       (unsigned long long)rep.retries);
		printf("  cost           %.2f us/sample, %.0f samples/s, %.2f us CPU/sample\n",
		       ratio(secs * 1e6, n), ratio(n, secs), ratio(cpu * 1e6, n));
		printf("  reads          %.2f syscalls, %.2f ranges, %.0f bytes per sample\n",
		       ratio((double)rep.io.syscalls, n), ratio((double)rep.io.reads, n),
		       ratio((double)rep.io.bytes, n));
		printf("  frames         %.1f per sample\n", ratio((double)rep.frames, n));
		printf("  code cache     %.2f%% hits (%zu of %zu entries)\n",
		       100 * ratio((double)rep.code.hits, (double)(rep.code.hits + rep.code.misses)),
		       rep.code.entries, rep.code.capacity);
		printf("  frame memo     %.2f%% hits\n",
		       100 * ratio((double)rep.frame_hits, (double)(rep.frame_hits + rep.frame_misses)));
	}
	if (st->target_exited)
		fprintf(stderr, "%s: process %d exited during the benchmark\n", tc_prog, (int)pid);
	rc = TC_EXIT_OK;
out:
	tc_profile_free(p);
	tc_target_free(t);
	return rc;
}
