/* SPDX-License-Identifier: MIT */
/* `tachyon-c stats PID [--json] [--watch SECONDS]`: pymalloc size classes and arenas, the
 * garbage collector's generations and the process's memory, read from outside (the same
 * permissions as attach; the target is never stopped or written to). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/outfile.h"
#include "cli/session.h"
#include "daemon/alloc.h"
#include "daemon/sinks/escape.h"

const char tc_usage_stats[] =
	"usage: tachyon-c stats PID [--json] [--watch SECONDS] [--verbose]\n"
	"\n"
	"Allocator statistics of a running CPython, read from outside the process: pymalloc's\n"
	"size classes (pools, blocks in use, free blocks, bytes), arenas, allocated blocks,\n"
	"fragmentation; the garbage collector per generation (count, threshold, collections,\n"
	"collected, uncollectable); process memory (RSS, anonymous RSS). What a build does not\n"
	"expose is shown as unavailable, with the reason.\n"
	"\n"
	"  --json            one JSON object (schema in the manual)\n"
	"  --watch SECONDS   one JSON object per line every SECONDS until Ctrl-C (JSON Lines)\n"
	"  --verbose         also say where each structure was found in the target\n"
	"\n"
	"EXAMPLES\n"
	"  tachyon-c stats 1234\n"
	"  tachyon-c stats 1234 --json | jq .pymalloc.arenas\n"
	"  tachyon-c stats 1234 --watch 5 > memory.jsonl\n";

/* "1,234,567" */
static const char *commas(int64_t v, char *buf, size_t len)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof tmp, "%lld", (long long)(v < 0 ? -v : v));
	size_t o = 0;

	if (v < 0 && o + 1 < len)
		buf[o++] = '-';
	for (int i = 0; i < n && o + 1 < len; i++) {
		buf[o++] = tmp[i];
		if ((n - i - 1) % 3 == 0 && i != n - 1 && o + 1 < len)
			buf[o++] = ',';
	}
	buf[o] = '\0';
	return buf;
}

static const char *num(int64_t v, char *buf, size_t len)
{
	if (v < 0) {
		snprintf(buf, len, "n/a");
		return buf;
	}
	return commas(v, buf, len);
}

static const char *mib(int64_t v, char *buf, size_t len)
{
	if (v < 0)
		snprintf(buf, len, "n/a");
	else
		snprintf(buf, len, "%.1f MiB", (double)v / (1024.0 * 1024.0));
	return buf;
}

static void print_unavailable(const cJSON *u)
{
	const cJSON *it;

	if (!u || !u->child)
		return;
	printf("\nUnavailable on this build:\n");
	cJSON_ArrayForEach(it, u) {
		printf("  %s: ", it->string);
		tc_esc_fputs(cJSON_IsString(it) ? it->valuestring : "?", stdout);
		putchar('\n');
	}
}

static void print_text(const struct tc_alloc *a, const struct tc_alloc_walk *w, pid_t pid,
		       const char *version, bool verbose)
{
	const struct tc_alloc_summary *s = &w->sum;
	char b1[32], b2[32], b3[32], b4[32], b5[32];
	cJSON *j;

	/* the version and where things were found come from the target: escaped */
	printf("Process %d: Python ", (int)pid);
	tc_esc_fputs(version, stdout);
	putchar('\n');
	if (verbose) {
		printf("  pymalloc: ");
		tc_esc_fputs(tc_alloc_how_pymalloc(a), stdout);
		printf("\n  gc:       ");
		tc_esc_fputs(tc_alloc_how_gc(a), stdout);
		putchar('\n');
	}
	if (!w->why) {
		printf("\npymalloc (pools of %u KiB, arenas of %u KiB)\n", s->pool_size / 1024,
		       s->arena_size / 1024);
		printf("class   size       pools   blocks in use     free blocks           bytes\n");
		for (uint32_t i = 0; i < TC_OM_NCLASSES; i++) {
			const struct tc_alloc_class *c = &w->cls[i];

			if (!c->pools)
				continue;
			printf("%5u  %5u %11s %15s %15s %15s\n", i, c->size,
			       commas((int64_t)c->pools, b1, sizeof b1),
			       commas((int64_t)c->blocks_in_use, b2, sizeof b2),
			       commas((int64_t)c->free_blocks, b3, sizeof b3),
			       commas((int64_t)(c->blocks_in_use * c->size), b4, sizeof b4));
		}
		printf("\nArenas: allocated total %s, reclaimed %s, highwater %s, current %s (%s)\n",
		       num(s->arenas_allocated_total, b1, sizeof b1),
		       num(s->arenas_reclaimed, b2, sizeof b2), num(s->arenas_highwater, b3, sizeof b3),
		       num(s->arenas_current, b4, sizeof b4), mib(s->arena_bytes, b5, sizeof b5));
		printf("Blocks: %s allocated (sys.getallocatedblocks()), %s of them outside pools\n",
		       num(w->allocated_blocks, b1, sizeof b1), num(s->raw_allocated_blocks, b2, sizeof b2));
		printf("Bytes:  %s in use and %s free inside pools; %s unused pools\n",
		       num(w->bytes_in_use, b1, sizeof b1), num(w->bytes_free, b2, sizeof b2),
		       num(s->pools_unused, b3, sizeof b3));
		if (s->arena_bytes > 0)
			printf("Fragmentation: %.1f%% of the arenas' bytes hold no allocated block\n",
			       100.0 * (1.0 - (double)w->bytes_in_use / (double)s->arena_bytes));
		if (w->pools_invalid || w->arenas_vanished || s->arenas_invalid)
			printf("(skipped while the target changed: %llu pool headers, %llu arenas)\n",
			       (unsigned long long)w->pools_invalid,
			       (unsigned long long)(w->arenas_vanished + s->arenas_invalid));
	}
	if (!s->why_gc && s->gc_enabled >= 0) {
		printf("\nGC: %s, %s\n", s->gc_enabled ? "enabled" : "disabled",
		       s->gc_collecting ? "collecting now" : "not collecting");
		printf("gen       count   threshold   collections     collected   uncollectable\n");
		for (int i = 0; i < 3; i++)
			printf("%3d %11s %11s %13s %13s %15s\n", i,
			       num(s->gen[i].count, b1, sizeof b1), num(s->gen[i].threshold, b2, sizeof b2),
			       num(s->gen[i].collections, b3, sizeof b3),
			       num(s->gen[i].collected, b4, sizeof b4),
			       num(s->gen[i].uncollectable, b5, sizeof b5));
	}
	printf("\nProcess memory: RSS %s, anonymous %s\n", mib(s->rss_bytes, b1, sizeof b1),
	       mib(s->rss_anon_bytes, b2, sizeof b2));
	j = tc_alloc_json(a, NULL, w);
	if (j)
		print_unavailable(cJSON_GetObjectItemCaseSensitive(j, "unavailable"));
	cJSON_Delete(j);
}

static int print_json(const struct tc_alloc *a, const struct tc_alloc_walk *w, double elapsed)
{
	cJSON *j = tc_alloc_json(a, NULL, w);
	int err;

	if (!j)
		return -TC_ENOMEM;
	if (elapsed >= 0)
		cJSON_AddNumberToObject(j, "time", elapsed);
	err = tc_outfile_put_json(stdout, j);
	cJSON_Delete(j);
	return err;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

/* Sorted timings T[0..N) -> {"n", "min", "median", "p90", "max"} in UNIT (1e6: us, 1e3: ms). */
static cJSON *timing(double *t, size_t n, double unit)
{
	cJSON *o = cJSON_CreateObject();

	qsort(t, n, sizeof *t, cmp_double);
	cJSON_AddNumberToObject(o, "n", (double)n);
	cJSON_AddNumberToObject(o, "min", t[0] * unit);
	cJSON_AddNumberToObject(o, "median", t[n / 2] * unit);
	cJSON_AddNumberToObject(o, "p90", t[(n * 9) / 10] * unit);
	cJSON_AddNumberToObject(o, "max", t[n - 1] * unit);
	return o;
}

/* N summaries (or, with WALK, N full walks into *W) back to back; each one's seconds into
 * TS[0..N). Returns 0 or the first error. */
static int time_reads(struct tc_target *t, struct tc_alloc *a, struct tc_alloc_walk *w, bool walk,
		      double *ts, long n)
{
	struct tc_alloc_summary s;
	int err = 0;

	for (long i = 0; i < n && !err; i++) {
		double t0 = tc_session_now();

		err = walk ? tc_alloc_walk(a, t->mem, w) : tc_alloc_summary(a, t->mem, &s);
		ts[i] = tc_session_now() - t0;
	}
	return err;
}

/* Hidden `--bench N`: N summaries, then N full walks, back to back; what each costs (wall
 * time, syscalls) as one JSON object. bench/stats_bench.py drives it. */
static int run_bench(struct tc_target *t, struct tc_alloc *a, struct tc_alloc_walk *w, long n)
{
	double *ts = calloc((size_t)n, sizeof *ts);
	struct tc_remote_stats r0, r1;
	cJSON *o = NULL, *sec;
	int err = 0;

	if (!ts)
		return -TC_ENOMEM;
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "pid", (double)t->pid);
	cJSON_AddStringToObject(o, "python", t->version);
	tc_remote_get_stats(t->mem, &r0);
	err = time_reads(t, a, w, false, ts, n);
	tc_remote_get_stats(t->mem, &r1);
	if (err)
		goto out;
	sec = timing(ts, (size_t)n, 1e6);
	cJSON_AddNumberToObject(sec, "syscalls", (double)(r1.syscalls - r0.syscalls) / (double)n);
	cJSON_AddNumberToObject(sec, "bytes", (double)(r1.bytes - r0.bytes) / (double)n);
	cJSON_AddItemToObject(o, "summary_us", sec);
	r0 = r1;
	err = time_reads(t, a, w, true, ts, n);
	tc_remote_get_stats(t->mem, &r1);
	if (err)
		goto out;
	sec = timing(ts, (size_t)n, 1e3);
	cJSON_AddNumberToObject(sec, "syscalls", (double)(r1.syscalls - r0.syscalls) / (double)n);
	cJSON_AddNumberToObject(sec, "reads", (double)(r1.reads - r0.reads) / (double)n);
	cJSON_AddNumberToObject(sec, "bytes", (double)(r1.bytes - r0.bytes) / (double)n);
	cJSON_AddItemToObject(o, "walk_ms", sec);
	sec = cJSON_AddObjectToObject(o, "heap");
	cJSON_AddNumberToObject(sec, "arenas", (double)w->sum.arenas_current);
	cJSON_AddNumberToObject(sec, "arena_bytes", (double)w->sum.arena_bytes);
	cJSON_AddNumberToObject(sec, "pools_read", (double)w->pools_read);
	cJSON_AddNumberToObject(sec, "bytes_in_use", (double)w->bytes_in_use);
	cJSON_AddNumberToObject(sec, "allocated_blocks", (double)w->allocated_blocks);
	err = tc_outfile_put_json(stdout, o);
out:
	cJSON_Delete(o);
	free(ts);
	return err;
}

struct stats_opts {
	bool json, verbose;
	double watch;
	long walks, bench;
};

static int stats_option(void *ctx, int opt, const char *arg)
{
	struct stats_opts *o = ctx;

	switch (opt) {
	case 'j':
		o->json = true;
		break;
	case 'w':
		if (tc_parse_duration(arg, &o->watch) != 0 || !(o->watch > 0) || o->watch > 86400)
			return tc_usage_error("stats", "bad --watch interval '%s' (seconds, e.g. 5 or 500ms)",
					      arg);
		break;
	case 'W':
		if (tc_session_count(arg, 1, 1000000, &o->walks) != 0)
			return tc_usage_error("stats", "--walks takes 1 to 1000000, not '%s'", arg);
		break;
	case 'B':
		if (tc_session_count(arg, 1, 1000000, &o->bench) != 0)
			return tc_usage_error("stats", "--bench takes 1 to 1000000, not '%s'", arg);
		break;
	default: /* 'v' */
		o->verbose = true;
		break;
	}
	return 0;
}

int tc_cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"watch", required_argument, NULL, 'w'},
		{"walks", required_argument, NULL, 'W'}, /* hidden: N walks back to back, JSON Lines */
		{"bench", required_argument, NULL, 'B'}, /* hidden: time N summaries and N walks */
		{"verbose", no_argument, NULL, 'v'},
		TC_SESSION_OPT_HELP,
		{0, 0, 0, 0},
	};
	struct stats_opts o = {0};
	struct tc_session ss;
	int urc = tc_session_parse(&ss, "stats", "jw:vh", opts, stats_option, &o, argc, argv);
	if (urc != TC_SESSION_RUN)
		return urc;
	bool json = o.json, verbose = o.verbose;
	double watch = o.watch;
	long walks = o.walks, bench = o.bench;
	pid_t pid = ss.pid;

	if (watch > 0 && walks)
		return tc_usage_error("stats", "--watch and --walks exclude each other");

	struct tc_target *t = NULL;
	struct tc_alloc *a = NULL;
	struct tc_alloc_walk *w = NULL;
	volatile sig_atomic_t *stop = NULL;
	int rc = tc_cli_attach(pid, &t);
	int err;

	if (rc)
		return rc;
	w = calloc(1, sizeof *w);
	if (!w) {
		rc = tc_cli_fail(-TC_ENOMEM, pid, "reading allocator statistics of");
		goto out;
	}
	err = tc_alloc_open(t, &a);
	if (err) {
		rc = tc_cli_fail(err, pid, "locating the allocator of");
		goto out;
	}
	if (verbose && (json || watch > 0 || walks)) {
		fprintf(stderr, "%s: pymalloc: ", tc_prog);
		tc_esc_fputs(tc_alloc_how_pymalloc(a), stderr);
		fprintf(stderr, "\n%s: gc: ", tc_prog);
		tc_esc_fputs(tc_alloc_how_gc(a), stderr);
		fputc('\n', stderr);
	}

	if (bench) {
		err = run_bench(t, a, w, bench);
		rc = err ? tc_cli_fail(err, pid, "reading allocator statistics of") :
			   tc_outfile_check_stdout();
		goto out;
	}
	if (watch <= 0 && !walks) {
		err = tc_alloc_walk(a, t->mem, w);
		if (err) {
			rc = tc_cli_fail(err, pid, "reading allocator statistics of");
			goto out;
		}
		if (json)
			err = print_json(a, w, -1);
		else
			print_text(a, w, pid, t->version, verbose);
		if (err) {
			rc = tc_cli_fail(err, pid, "printing");
			goto out;
		}
		rc = tc_outfile_check_stdout();
		goto out;
	}

	/* --watch N / --walks N: JSON Lines until Ctrl-C, N walks, or the target's exit */
	stop = tc_session_catch_stop(false);
	double t0 = tc_session_now(), next = t0;
	long done = 0;

	rc = TC_EXIT_OK;
	while (!*stop && (!walks || done < walks)) {
		err = tc_alloc_walk(a, t->mem, w);
		if (err == -TC_ESRCH) {
			fprintf(stderr, "%s: process %d exited after %.1f s; %ld records written\n",
				tc_prog, (int)pid, tc_session_now() - t0, done);
			break;
		}
		if (err) {
			rc = tc_cli_fail(err, pid, "reading allocator statistics of");
			break;
		}
		err = print_json(a, w, tc_session_now() - t0);
		if (err) {
			rc = tc_cli_fail(err, pid, "printing statistics of");
			break;
		}
		/* each record is flushed as written; a full disk or a closed pipe ends the watch */
		rc = tc_outfile_check_stdout();
		if (rc)
			break;
		done++;
		if (walks)
			continue;
		next += watch;
		double d = next - tc_session_now();

		if (d < 0) {
			next = tc_session_now(); /* fell behind: no burst to catch up */
			continue;
		}
		struct timespec ts = {(time_t)d, (long)((d - floor(d)) * 1e9)};

		nanosleep(&ts, NULL); /* Ctrl-C interrupts it */
	}
out:
	free(w);
	tc_alloc_free(a);
	tc_target_free(t);
	return rc;
}
