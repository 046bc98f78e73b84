/* SPDX-License-Identifier: MIT */
/* `tachyon-c dump PID [--json]`: one consistent snapshot of every thread's stack. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/outfile.h"
#include "daemon/sinks/escape.h"
#include "daemon/walker.h"

/* A walk that raced the target (torn read) is retried a few times before giving up: a
 * one-shot snapshot can afford more tries than a sampler. */
#define DUMP_TRIES 20

struct rframe {
	const char *name, *qualname, *file;
	int32_t line, first_line;
};

/* Resolve frame F; on an unreadable code object every field is NULL / -1. The strings are
 * copied into OUT's owner (the caller frees them) because cache entries are borrowed. */
static void resolve(struct tc_walker *w, const struct tc_raw_frame *f, struct rframe *out)
{
	const struct tc_code_info *ci;
	int32_t line;
	memset(out, 0, sizeof *out);
	out->line = out->first_line = -1;
	if (tc_walker_resolve(w, f, &ci, &line) != 0)
		return;
	out->name = ci->name ? strdup(ci->name) : NULL;
	out->qualname = ci->qualname ? strdup(ci->qualname) : NULL;
	out->file = ci->filename ? strdup(ci->filename) : NULL;
	out->first_line = ci->firstlineno;
	out->line = line;
}

static void rframe_free(struct rframe *r)
{
	free((char *)r->name);
	free((char *)r->qualname);
	free((char *)r->file);
}

static cJSON *num_or_null(int64_t v)
{
	return v < 0 ? cJSON_CreateNull() : cJSON_CreateNumber((double)v);
}

static cJSON *str_or_null(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *bool_or_null(int v)
{
	return v < 0 ? cJSON_CreateNull() : cJSON_CreateBool(v);
}

/* A stack whose second read never agreed is not printed: a snapshot shows no stack it cannot
 * stand behind, where a profile keeps a data-stack chain as walked. */
static bool left_out(const struct tc_thread_stack *ts)
{
	return ts->left_out || ts->torn;
}

static int print_json(struct tc_walker *w, const struct tc_snapshot *s)
{
	const struct tc_target *t = tc_walker_target(w);
	cJSON *root = cJSON_CreateObject();
	cJSON_AddNumberToObject(root, "pid", t->pid);
	cJSON *py = cJSON_AddObjectToObject(root, "python");
	cJSON_AddStringToObject(py, "version", t->version);
	cJSON_AddBoolToObject(py, "free_threaded", t->layout.free_threaded);
	cJSON_AddBoolToObject(py, "debug", t->layout.debug);
	cJSON_AddStringToObject(py, "binary", t->binary);
	cJSON *threads = cJSON_AddArrayToObject(root, "threads");
	for (size_t i = 0; i < s->nthreads; i++) {
		const struct tc_thread_stack *ts = &s->threads[i];
		cJSON *th = cJSON_CreateObject();
		cJSON_AddItemToObject(th, "native_id", num_or_null(ts->native_id ? (int64_t)ts->native_id : -1));
		cJSON_AddNumberToObject(th, "thread_id", (double)ts->thread_id);
		cJSON_AddNumberToObject(th, "interpreter", (double)ts->interp_id);
		cJSON_AddBoolToObject(th, "main", ts->main);
		cJSON_AddItemToObject(th, "holds_gil", bool_or_null(ts->holds_gil));
		cJSON *frames = cJSON_AddArrayToObject(th, "frames");
		const size_t n = left_out(ts) ? 0 : ts->n;
		for (size_t j = 0; j < n; j++) {
			struct rframe r;
			resolve(w, &s->frames[ts->first + j], &r);
			cJSON *fr = cJSON_CreateObject();
			cJSON_AddItemToObject(fr, "name", str_or_null(r.name));
			cJSON_AddItemToObject(fr, "qualname", str_or_null(r.qualname));
			cJSON_AddItemToObject(fr, "file", str_or_null(r.file));
			cJSON_AddItemToObject(fr, "line", num_or_null(r.line));
			cJSON_AddItemToObject(fr, "first_line", num_or_null(r.first_line));
			cJSON_AddItemToArray(frames, fr);
			rframe_free(&r);
		}
		cJSON_AddBoolToObject(th, "truncated", ts->truncated || left_out(ts));
		cJSON_AddBoolToObject(th, "torn", ts->torn);
		cJSON_AddBoolToObject(th, "top_unconfirmed", ts->top_unconfirmed);
		cJSON_AddItemToArray(threads, th);
	}
	int err = tc_outfile_put_json(stdout, root);
	cJSON_Delete(root);
	return err;
}

static void print_text(struct tc_walker *w, const struct tc_snapshot *s)
{
	const struct tc_target *t = tc_walker_target(w);
	/* every string below comes from the target: escaped (daemon/sinks/escape.h) */
	printf("Process %d: Python ", (int)t->pid);
	tc_esc_fputs(t->version, stdout);
	printf("%s%s (", t->layout.debug ? " debug" : "",
	       t->layout.free_threaded ? " free-threaded" : "");
	tc_esc_fputs(t->binary, stdout);
	printf(")\n");
	for (size_t i = 0; i < s->nthreads; i++) {
		const struct tc_thread_stack *ts = &s->threads[i];
		printf("\nThread %llu", (unsigned long long)ts->native_id);
		if (!ts->native_id)
			printf(" (native id unknown)");
		printf(" (ident %llu)", (unsigned long long)ts->thread_id);
		if (ts->main)
			printf(" [main]");
		if (ts->holds_gil == 1)
			printf(" [holds the GIL]");
		if (ts->interp_id)
			printf(" [interpreter %lld]", (long long)ts->interp_id);
		printf("\n");
		if (left_out(ts))
			printf("  (stack not read: the thread kept moving while it was read, on every "
			       "try)\n");
		else if (ts->n == 0)
			printf("  (no Python frames)\n");
		if (ts->truncated && !left_out(ts))
			printf("  ... (stack truncated: the chain could not be followed further)\n");
		/* traceback order: outermost first, innermost last */
		for (size_t j = left_out(ts) ? 0 : ts->n; j-- > 0;) {
			struct rframe r;
			resolve(w, &s->frames[ts->first + j], &r);
			printf("  File \"");
			tc_esc_fputs(r.file ? r.file : "<unknown>", stdout);
			printf("\", line ");
			if (r.line >= 0)
				printf("%d", r.line);
			else
				printf("?");
			printf(", in ");
			tc_esc_fputs(r.qualname ? r.qualname : "<unknown>", stdout);
			printf("\n");
			rframe_free(&r);
		}
		if (ts->top_unconfirmed)
			printf("  ... (calling something not confirmed: the frames above returned while "
			       "the stack was read)\n");
	}
}

int tc_cmd_dump(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"walks", required_argument, NULL, 'w'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	bool json = false;
	long walks = 1;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "jw:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'w': {
			char *end;
			walks = strtol(optarg, &end, 10);
			if (*end || walks < 1 || walks > 1000)
				return tc_usage_error("dump", "--walks takes 1 to 1000, not '%s'", optarg);
			break;
		}
		case 'h':
			tc_usage(stdout, "dump");
			return TC_EXIT_OK;
		case ':':
			return tc_usage_error("dump", "option %s needs a value", argv[optind - 1]);
		default:
			return tc_usage_error("dump", "unknown option: %s", argv[optind - 1]);
		}
	}
	/* GNU getopt permutes, so the PID may come before or after the options */
	pid_t pid = 0;
	int urc = tc_cli_one_pid("dump", argc, argv, optind, &pid);
	if (urc)
		return urc;

	struct tc_target *t = NULL;
	struct tc_walker *w = NULL;
	const struct tc_snapshot *s = NULL;
	int rc = tc_cli_attach(pid, &t);
	if (rc)
		return rc;
	/* A busy thread can return from the frame being read (torn walk, or a stack cut
	 * short): the walker walks again; the next walk reads from the batch the previous one
	 * learned, in one syscall, so it is much more likely to be consistent. A stack still
	 * broken after the last try is printed as truncated; one whose second read never
	 * agreed is not printed. --walks N: walk N times and print the last; from the second
	 * walk on, everything is served from the prefetched batch, and unchanged frames from
	 * the chain memo (a check that the fast path sees the same stacks). */
	struct tc_walker_opts wo = {.tries = DUMP_TRIES, .no_chain_memo = walks <= 1};
	int err = tc_walker_new(t, &wo, &w);
	for (long k = 0; !err && k < walks; k++)
		err = tc_walker_take(w, 0, &s);
	if (err) {
		rc = tc_cli_fail(err, pid, "reading");
		goto out;
	}
	if (json) {
		err = print_json(w, s);
		if (err) {
			rc = tc_cli_fail(err, pid, "printing");
			goto out;
		}
	} else {
		print_text(w, s);
	}
	rc = tc_outfile_check_stdout();
out:
	tc_walker_free(w);
	tc_target_free(t);
	return rc;
}
