/* SPDX-License-Identifier: MIT */
/* The readable summary printed when no output file is given: a header describing the
 * recording (pid, Python version, duration, samples, failures, rate achieved) and two tables,
 * the top functions by own samples (innermost frame) and by total samples (anywhere on the
 * stack).
 *
 * A function is (qualname, file, first_line): the profile interns one frame per line, and the
 * tables add a function's lines together, showing file:line of its hottest line (by own
 * samples in the first table, by total samples in the second). A recursive function counts
 * once per stack in its total, so no total exceeds 100%. Percentages are of all thread-samples
 * recorded (one sampling instant of a process with four threads records four). Control
 * characters in names are printed escaped ("\x1b", "\u009b": daemon/sinks/escape.h) so that a
 * hostile name can neither break the table nor drive the terminal. */
#include "daemon/sinks/sinks.h"
#include "daemon/sinks/escape.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tc/common.h"

#define TC_SUMMARY_DEFAULT_LIMIT 30

struct tc_func {
	const struct tc_pframe *frame; /* any frame of the function: its identity */
	uint64_t own;
	uint64_t total;
	size_t stamp;         /* serial (from 1) of the last stack counted in TOTAL */
	int32_t hot_own;      /* frame id of the line with most own samples */
	int32_t hot_total;    /* frame id of the line with most total samples */
};

/* Scratch state for one summary. */
struct tc_summary {
	const struct tc_profile *p;
	size_t nframes;
	size_t nfuncs;
	size_t *func_of;        /* frame id -> function index */
	uint64_t *frame_own;    /* per frame id */
	uint64_t *frame_total;  /* per frame id, once per stack */
	size_t *frame_stamp;
	struct tc_func *funcs;
	size_t *order;          /* function indexes, sorted for a table */
	uint64_t no_python;     /* thread-samples with an empty stack */
};

/* Order frame ids by function identity: qualname, file, first_line. */
static int tc_cmp_frame_func(const void *a, const void *b, void *ctx)
{
	const struct tc_profile *p = ctx;
	const struct tc_pframe *fa = tc_profile_get_frame(p, *(const int32_t *)a);
	const struct tc_pframe *fb = tc_profile_get_frame(p, *(const int32_t *)b);
	int c = strcmp(fa->qualname, fb->qualname);

	if (c)
		return c;
	c = strcmp(fa->file, fb->file);
	if (c)
		return c;
	return (fa->first_line > fb->first_line) - (fa->first_line < fb->first_line);
}

/* Ties in the tables are broken by name, then file, so the output is deterministic. */
static int tc_cmp_func_name(const struct tc_func *a, const struct tc_func *b)
{
	int c = strcmp(a->frame->qualname, b->frame->qualname);

	return c ? c : strcmp(a->frame->file, b->frame->file);
}

/* Most own samples first. */
static int tc_cmp_by_own(const void *a, const void *b, void *ctx)
{
	const struct tc_func *funcs = ctx;
	const struct tc_func *fa = &funcs[*(const size_t *)a];
	const struct tc_func *fb = &funcs[*(const size_t *)b];

	if (fa->own != fb->own)
		return fa->own < fb->own ? 1 : -1;
	return tc_cmp_func_name(fa, fb);
}

/* Most total samples first. */
static int tc_cmp_by_total(const void *a, const void *b, void *ctx)
{
	const struct tc_func *funcs = ctx;
	const struct tc_func *fa = &funcs[*(const size_t *)a];
	const struct tc_func *fb = &funcs[*(const size_t *)b];

	if (fa->total != fb->total)
		return fa->total < fb->total ? 1 : -1;
	return tc_cmp_func_name(fa, fb);
}

/* Group frames into functions: fill S->func_of and S->funcs. Returns 0 or -TC_ENOMEM. */
static int tc_summary_group(struct tc_summary *s)
{
	int32_t *ids = NULL;
	int err = 0;

	ids = malloc((s->nframes ? s->nframes : 1) * sizeof(*ids));
	if (!ids) {
		err = -TC_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < s->nframes; i++)
		ids[i] = (int32_t)i;
	qsort_r(ids, s->nframes, sizeof(*ids), tc_cmp_frame_func, (void *)s->p);
	for (size_t i = 0; i < s->nframes; i++) {
		if (i == 0 || tc_cmp_frame_func(&ids[i - 1], &ids[i], (void *)s->p)) {
			struct tc_func *f = &s->funcs[s->nfuncs++];

			f->frame = tc_profile_get_frame(s->p, ids[i]);
			f->hot_own = f->hot_total = ids[i];
		}
		s->func_of[ids[i]] = s->nfuncs - 1;
	}
out:
	free(ids);
	return err;
}

/* Add up own and total samples per frame and per function over every stack. */
static void tc_summary_count(struct tc_summary *s)
{
	size_t serial = 0;

	for (size_t i = 0; i < tc_profile_nthreads(s->p); i++) {
		for (size_t j = 0; j < tc_profile_thread_nstacks(s->p, i); j++) {
			const int32_t *ids;
			size_t n;
			uint64_t count = tc_profile_thread_stack(s->p, i, j, &ids, &n);

			serial++;
			if (n == 0) {
				s->no_python += count;
				continue;
			}
			s->frame_own[ids[0]] += count;
			s->funcs[s->func_of[ids[0]]].own += count;
			for (size_t k = 0; k < n; k++) {
				struct tc_func *f = &s->funcs[s->func_of[ids[k]]];

				if (s->frame_stamp[ids[k]] != serial) {
					s->frame_stamp[ids[k]] = serial;
					s->frame_total[ids[k]] += count;
				}
				if (f->stamp != serial) {
					f->stamp = serial;
					f->total += count;
				}
			}
		}
	}
	for (size_t id = 0; id < s->nframes; id++) {
		struct tc_func *f = &s->funcs[s->func_of[id]];

		if (s->frame_own[id] > s->frame_own[f->hot_own])
			f->hot_own = (int32_t)id;
		if (s->frame_total[id] > s->frame_total[f->hot_total])
			f->hot_total = (int32_t)id;
	}
}

/* Print S with control characters escaped (daemon/sinks/escape.h). */
static void tc_summary_put(FILE *out, const char *str)
{
	tc_esc_fputs(str, out);
}

/* PART as a percentage of WHOLE, 0 when WHOLE is 0. */
static double tc_pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

/* Print the header describing the recording. */
static void tc_summary_header(const struct tc_summary *s, FILE *out)
{
	const struct tc_profile_meta *m = tc_profile_get_meta(s->p);
	/* tc_profile_stats hands out a writable pointer for the sampler; this only reads. */
	const struct tc_profile_stats *st = tc_profile_stats((struct tc_profile *)s->p);
	uint64_t total = tc_profile_total(s->p);

	fprintf(out, "tachyon-c profile of pid %d, Python ", m->pid);
	tc_summary_put(out, m->python_version ? m->python_version : "(unknown version)");
	if (m->mode) {
		fputs(", ", out);
		tc_summary_put(out, m->mode);
		fputs(" mode", out);
	}
	putc('\n', out);
	if (m->command && m->command[0]) {
		fputs("command: ", out);
		tc_summary_put(out, m->command);
		putc('\n', out);
	}
	fprintf(out, "duration %.2f s, %" PRIu64 " samples, %" PRIu64 " failed (%.1f%%), %" PRIu64
		" missed\n", st->duration, st->samples, st->failed, tc_pct(st->failed, st->samples),
		st->missed);
	if (st->duration > 0)
		fprintf(out, "rate achieved %.1f Hz", (double)st->samples / st->duration);
	else
		fputs("rate achieved n/a", out);
	if (m->rate_hz > 0)
		fprintf(out, " (requested %.1f Hz)", m->rate_hz);
	putc('\n', out);
	fprintf(out, "%zu threads, %" PRIu64 " thread-samples, %" PRIu64
		" (%.1f%%) with no Python frames\n", tc_profile_nthreads(s->p), total, s->no_python,
		tc_pct(s->no_python, total));
	if (st->target_exited)
		fputs("note: the target exited during the recording\n", out);
	if (st->target_execed)
		fputs("note: the target replaced its program (exec) during the recording; sampling "
		      "stopped there\n", out);
	if (st->truncated)
		fprintf(out, "note: %" PRIu64 " thread stacks were recorded cut (" TC_TRUNCATED_NAME
			"): deeper than %d frames, or still changing after every retry\n",
			st->truncated, 65536);
	if (st->unconfirmed)
		fprintf(out, "note: %" PRIu64 " thread stacks end in " TC_UNCONFIRMED_NAME ": their "
			"innermost frames returned before a second read confirmed them\n",
			st->unconfirmed);
	if (st->unverified)
		fprintf(out, "note: %" PRIu64 " thread stacks were recorded as read although the "
			"thread kept moving on every retry (no second read agreed)\n",
			st->unverified);
	if (st->torn)
		fprintf(out, "note: %" PRIu64 " thread stacks were left out: the thread kept moving "
			"while it was read, on every retry\n", st->torn);
}

/* Print one table of at most LIMIT functions, ordered by CMP; BY_OWN picks the hottest line
 * and the rows shown (functions with own samples only). */
static void tc_summary_table(struct tc_summary *s, FILE *out, size_t limit, bool by_own)
{
	uint64_t total = tc_profile_total(s->p);
	size_t rows = 0;

	for (size_t i = 0; i < s->nfuncs; i++)
		s->order[i] = i;
	qsort_r(s->order, s->nfuncs, sizeof(*s->order), by_own ? tc_cmp_by_own : tc_cmp_by_total,
		s->funcs);
	fprintf(out, "\nTop functions by %s samples:\n", by_own ? "own" : "total");
	fprintf(out, "%10s %7s %10s %7s  %s\n", "own", "own%", "total", "total%",
		"function (hottest line)");
	for (size_t i = 0; i < s->nfuncs && rows < limit; i++) {
		const struct tc_func *f = &s->funcs[s->order[i]];
		const struct tc_pframe *hot =
			tc_profile_get_frame(s->p, by_own ? f->hot_own : f->hot_total);

		if (by_own ? !f->own : !f->total)
			break;
		fprintf(out, "%10" PRIu64 " %6.2f%% %10" PRIu64 " %6.2f%%  ", f->own,
			tc_pct(f->own, total), f->total, tc_pct(f->total, total));
		tc_summary_put(out, f->frame->qualname);
		fputs(" (", out);
		tc_summary_put(out, hot->file);
		if (hot->line >= 0)
			fprintf(out, ":%" PRId32 ")\n", hot->line);
		else
			fputs(":?)\n", out);
		rows++;
	}
	if (!rows)
		fputs("  (no Python frames sampled)\n", out);
}

/* Scratch tables are sized by the number of frames (functions <= frames). */
int tc_sink_summary(const struct tc_profile *p, FILE *out, size_t limit)
{
	struct tc_summary s = { .p = p, .nframes = tc_profile_nframes(p) };
	size_t n = s.nframes ? s.nframes : 1;
	int err = 0;

	if (!limit)
		limit = TC_SUMMARY_DEFAULT_LIMIT;
	s.func_of = calloc(n, sizeof(*s.func_of));
	s.frame_own = calloc(n, sizeof(*s.frame_own));
	s.frame_total = calloc(n, sizeof(*s.frame_total));
	s.frame_stamp = calloc(n, sizeof(*s.frame_stamp));
	s.funcs = calloc(n, sizeof(*s.funcs));
	s.order = calloc(n, sizeof(*s.order));
	if (!s.func_of || !s.frame_own || !s.frame_total || !s.frame_stamp || !s.funcs ||
	    !s.order) {
		err = -TC_ENOMEM;
		goto out;
	}
	err = tc_summary_group(&s);
	if (err)
		goto out;
	tc_summary_count(&s);
	tc_summary_header(&s, out);
	tc_summary_table(&s, out, limit, true);
	tc_summary_table(&s, out, limit, false);
	if (fflush(out) || ferror(out))
		err = -TC_EIO;
out:
	free(s.func_of);
	free(s.frame_own);
	free(s.frame_total);
	free(s.frame_stamp);
	free(s.funcs);
	free(s.order);
	return err;
}

static int tc_summary_finish(struct tc_sink *s, const struct tc_profile *p)
{
	return tc_sink_summary(p, s->out, s->opts.limit);
}

/* No extension: it is what is printed when there is no -o. */
const struct tc_sink_format tc_format_summary = {
	.name = "summary",
	.help = "top functions by own and total samples (the default without -o)",
	.finish = tc_summary_finish,
};
