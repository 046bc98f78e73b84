/* SPDX-License-Identifier: MIT */
/* `tachyon-c bench PID [-d SECONDS] [--json]`: sample back to back and report the cost. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/outfile.h"
#include "daemon/sinks/escape.h"
#include "daemon/sampler.h"
#include "daemon/source.h"
#include "daemon/walker.h"

static double ratio(double a, double b)
{
	return b > 0 ? a / b : 0;
}

static cJSON *num(cJSON *o, const char *k, double v)
{
	return cJSON_AddNumberToObject(o, k, v);
}

/* The report as one JSON object (keys in DESIGN.md, plus what explains the cost). */
static int print_json(pid_t pid, const struct tc_target *t, const struct tc_walker *w,
		      const struct tc_profile_stats *st, const struct tc_sampler_report *rep)
{
	double n = (double)st->samples, secs = st->duration;
	double cpu = rep->cpu_user + rep->cpu_sys;
	cJSON *o = cJSON_CreateObject(), *c;
	if (!o)
		return -TC_ENOMEM;
	num(o, "pid", (double)pid);
	cJSON_AddStringToObject(o, "python", t->version);
	num(o, "samples", n);
	num(o, "failed", (double)st->failed);
	num(o, "retries", (double)rep->retries);
	num(o, "truncated", (double)st->truncated);
	num(o, "left_out", (double)st->torn);
	num(o, "unverified", (double)st->unverified);
	num(o, "unconfirmed", (double)st->unconfirmed);
	num(o, "seconds", secs);
	num(o, "us_per_sample", ratio(secs * 1e6, n));
	num(o, "samples_per_sec", ratio(n, secs));
	num(o, "syscalls_per_sample", ratio((double)rep->io.syscalls, n));
	num(o, "reads_per_sample", ratio((double)rep->io.reads, n));
	num(o, "bytes_per_sample", ratio((double)rep->io.bytes, n));
	num(o, "frames_per_sample", ratio((double)rep->frames, n));
	num(o, "cpu_seconds", cpu);
	num(o, "cpu_user", rep->cpu_user);
	num(o, "cpu_sys", rep->cpu_sys);
	num(o, "cpu_us_per_sample", ratio(cpu * 1e6, n));
	c = cJSON_AddObjectToObject(o, "code_cache");
	if (c) {
		num(c, "hits", (double)rep->code.hits);
		num(c, "misses", (double)rep->code.misses);
		num(c, "hit_rate", ratio((double)rep->code.hits,
					 (double)(rep->code.hits + rep->code.misses)));
		num(c, "entries", (double)rep->code.entries);
		num(c, "capacity", (double)rep->code.capacity);
		num(c, "flushes", (double)rep->code.flushes);
		num(c, "failures", (double)rep->code.failures);
		num(c, "evictions", (double)rep->code.evictions);
	}
	c = cJSON_AddObjectToObject(o, "page_cache");
	if (c) {
		num(c, "hits", (double)rep->pages.hits);
		num(c, "pages_fetched", (double)rep->pages.fetches);
		num(c, "direct", (double)rep->pages.direct);
		num(c, "clears", (double)rep->pages.clears);
		num(c, "capacity_pages", (double)rep->pages.capacity);
	}
	c = cJSON_AddObjectToObject(o, "frame_cache");
	if (c) {
		num(c, "reused", (double)rep->fc.reused);
		num(c, "resolved", (double)rep->fc.resolved);
		num(c, "hit_rate", ratio((double)rep->fc.reused,
					 (double)(rep->fc.reused + rep->fc.resolved)));
		num(c, "threads", (double)rep->fc.threads);
		num(c, "frames_held", (double)rep->fc.frames);
		num(c, "capacity_frames", TC_FC_MAX_FRAMES);
		num(c, "evicted_threads", (double)rep->fc.evicted);
		num(c, "uncached_stacks", (double)rep->fc.uncached);
	}
	c = cJSON_AddObjectToObject(o, "chain_memo");
	if (c) {
		num(c, "taken", (double)rep->chain.taken);
		num(c, "chased", (double)rep->chain.chased);
		num(c, "taken_rate", ratio((double)rep->chain.taken,
					   (double)(rep->chain.taken + rep->chain.chased)));
		num(c, "threads", (double)rep->chain.threads);
		num(c, "frames_held", (double)rep->chain.frames);
		num(c, "capacity_frames", TC_CM_MAX_FRAMES);
		num(c, "evicted_threads", (double)rep->chain.evicted);
	}
	c = cJSON_AddObjectToObject(o, "frame_memo");
	if (c) {
		num(c, "hits", (double)rep->frame_hits);
		num(c, "misses", (double)rep->frame_misses);
		num(c, "hit_rate", ratio((double)rep->frame_hits,
					 (double)(rep->frame_hits + rep->frame_misses)));
	}
	c = cJSON_AddObjectToObject(o, "prefetch");
	if (c) {
		num(c, "walks", (double)rep->pf.walks);
		num(c, "hits", (double)rep->pf.hits);
		num(c, "misses", (double)rep->pf.misses);
		num(c, "hit_rate", ratio((double)rep->pf.hits,
					 (double)(rep->pf.hits + rep->pf.misses)));
		num(c, "ranges_per_walk", ratio((double)rep->pf.batch_ranges,
						(double)rep->pf.walks));
		num(c, "bytes_per_walk", ratio((double)rep->pf.batch_bytes,
					       (double)rep->pf.walks));
		num(c, "batch_failures", (double)rep->pf.batch_failures);
		/* the whole last batch, as [address, length] pairs: bench/floor.c replays it */
		cJSON *b = cJSON_AddArrayToObject(c, "batch");
		size_t nb = b ? tc_walker_batch(w, NULL, NULL, 0) : 0;
		tc_raddr *addr = nb ? malloc(nb * sizeof *addr) : NULL;
		size_t *len = nb ? malloc(nb * sizeof *len) : NULL;
		if (!addr || !len)
			nb = 0;
		else
			tc_walker_batch(w, addr, len, nb);
		for (size_t i = 0; i < nb; i++) {
			cJSON *pair = cJSON_CreateArray();
			if (!pair)
				break;
			cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)addr[i]));
			cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)len[i]));
			cJSON_AddItemToArray(b, pair);
		}
		free(addr);
		free(len);
	}
	cJSON_AddBoolToObject(o, "target_exited", st->target_exited);
	int err = tc_outfile_put_json(stdout, o);
	cJSON_Delete(o);
	return err;
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
	struct tc_walker *w = NULL;
	struct tc_source src;
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
	int err = tc_walker_new(t, NULL, &w);
	if (!err) {
		tc_walker_source(w, &src);
		err = tc_sampler_run_source(&src, &so, p);
	}
	if (err) {
		rc = tc_cli_fail(err, pid, "sampling");
		goto out;
	}
	const struct tc_profile_stats *st = tc_profile_stats(p);
	double n = (double)st->samples, secs = st->duration;
	double cpu = rep.cpu_user + rep.cpu_sys;
	if (json) {
		err = print_json(pid, t, w, st, &rep);
		if (err) {
			rc = tc_cli_fail(err, pid, "printing");
			goto out;
		}
	} else {
		char version[4 * sizeof t->version];

		printf("tachyon-c bench: pid %d, Python %s, %.2f s back to back\n", (int)pid,
		       tc_esc_text(t->version, version, sizeof version), secs);
		printf("  samples        %llu (%llu failed, %llu retried)\n",
		       (unsigned long long)st->samples, (unsigned long long)st->failed,
		       (unsigned long long)rep.retries);
		printf("  thread stacks  %llu recorded cut, %llu with an unconfirmed top, %llu "
		       "unverified, %llu left out (torn on every try)\n",
		       (unsigned long long)st->truncated, (unsigned long long)st->unconfirmed,
		       (unsigned long long)st->unverified, (unsigned long long)st->torn);
		printf("  cost           %.2f us/sample, %.0f samples/s, %.2f us CPU/sample\n",
		       ratio(secs * 1e6, n), ratio(n, secs), ratio(cpu * 1e6, n));
		printf("  reads          %.2f syscalls, %.2f ranges, %.0f bytes per sample\n",
		       ratio((double)rep.io.syscalls, n), ratio((double)rep.io.reads, n),
		       ratio((double)rep.io.bytes, n));
		printf("  frames         %.1f per sample\n", ratio((double)rep.frames, n));
		printf("  code cache     %.2f%% hits (%zu of %zu entries)\n",
		       100 * ratio((double)rep.code.hits, (double)(rep.code.hits + rep.code.misses)),
		       rep.code.entries, rep.code.capacity);
		printf("  chain memo     %.2f%% of frames taken from the thread's last chain\n",
		       100 * ratio((double)rep.chain.taken,
				   (double)(rep.chain.taken + rep.chain.chased)));
		printf("  frame cache    %.2f%% of frames reused from the thread's last sample\n",
		       100 * ratio((double)rep.fc.reused, (double)(rep.fc.reused + rep.fc.resolved)));
		printf("  frame memo     %.2f%% hits\n",
		       100 * ratio((double)rep.frame_hits, (double)(rep.frame_hits + rep.frame_misses)));
	}
	if (st->target_exited)
		fprintf(stderr, "%s: process %d exited during the benchmark\n", tc_prog, (int)pid);
	rc = tc_outfile_check_stdout();
out:
	tc_profile_free(p);
	tc_walker_free(w);
	tc_target_free(t);
	return rc;
}
