/* SPDX-License-Identifier: MIT */
/* The one interface behind every output format ("sink"): a descriptor per format (its -f
 * names, the -o extensions that imply it, a line of help, its operations), the registry that
 * lists them, and the life of one output: open before sampling, a sample per sampling instant
 * for formats that want them, finish with the aggregated profile, free.
 *
 * Adding a format: write daemon/sinks/NAME.c defining
 * `const struct tc_sink_format tc_format_NAME` (name, aliases, extensions, help and at least
 * `finish`; `sample` when the format needs every instant, e.g. for timestamps, with `open`
 * and `free` for the state it keeps in tc_sink.priv), add X(NAME) to TC_SINK_FORMATS in
 * daemon/sinks/format.c and the file to daemon/meson.build. -f, -o's extensions, the list in
 * the "unknown format" message and the help text follow from the registry; `attach` drives
 * the sink (and opens the output file before sampling for a format that has `sample`). */
#ifndef TC_SINK_H
#define TC_SINK_H

#include <stdbool.h>
#include <stdio.h>

#include "daemon/profile.h"
#include "daemon/sampler.h"

/* A format by its position in the registry + 1; 0 is none. The formats built in are named
 * here, in registry order; one added later has a value (from tc_format_from_name/path) but
 * needs no name. */
enum tc_format {
	TC_FMT_NONE = 0,
	TC_FMT_COLLAPSED,  /* .txt .folded .collapsed */
	TC_FMT_SPEEDSCOPE, /* .json */
	TC_FMT_SUMMARY     /* readable top-functions table (no -o) */
};

/* Per-format options; zero is every format's default. */
struct tc_sink_opts {
	size_t limit; /* summary: rows per table at most (0 = 30) */
};

struct tc_sink;

struct tc_sink_format {
	const char *name;           /* canonical -f name */
	const char *const *aliases; /* more -f names, NULL-terminated; may be NULL */
	const char *const *exts;    /* -o extensions implying it (no dot), NULL-terminated; may be NULL */
	const char *help;           /* one line, for help text */
	/* Optional: set up S->priv. OUT and O are also in S. Returns 0 or -TC_ENOMEM / -TC_EIO. */
	int (*open)(struct tc_sink *s, FILE *out, const struct tc_sink_opts *o);
	/* Optional: one sampling instant, on the sampling thread (must be quick; everything in
	 * SMP is borrowed for the call). NULL when the aggregated profile is all it needs.
	 * Returns 0 or -TC_EIO / -TC_ENOMEM; after an error it is not called again. */
	int (*sample)(struct tc_sink *s, const struct tc_sample *smp);
	/* Write (the rest of) the output from P. Returns 0, -TC_EIO (write failed; errno says
	 * why when the stream set it) or -TC_ENOMEM (nothing written). */
	int (*finish)(struct tc_sink *s, const struct tc_profile *p);
	/* Optional: release S->priv. */
	void (*free)(struct tc_sink *s);
};

/* One output being written. Owned by tc_sink_open's caller; formats use out, opts, priv. */
struct tc_sink {
	const struct tc_sink_format *fmt;
	FILE *out; /* not closed by the sink */
	struct tc_sink_opts opts;
	void *priv;     /* the format's own state */
	int err;        /* first error of sample(), returned by tc_sink_finish */
	bool finished;
	/* the observer tc_sink_observe found in the sampler options, called after the sink */
	void (*next)(void *ctx, const struct tc_sample *smp);
	void *next_ctx;
};

/* Format named NAME (a name or alias, case-insensitive), or TC_FMT_NONE (also for NULL). */
enum tc_format tc_format_from_name(const char *name);
/* Format implied by the extension of PATH's last component (case-insensitive), or
 * TC_FMT_NONE: none, a hidden file's leading dot (".json"), "-", NULL. */
enum tc_format tc_format_from_path(const char *path);
/* The descriptor of FMT, or NULL for TC_FMT_NONE and values past the registry's end (so
 * `for (f = 1; tc_sink_format_get(f); f++)` visits every format). */
const struct tc_sink_format *tc_sink_format_get(enum tc_format fmt);

/* The canonical names, in registry order, as "a, b, c" into BUF (always terminated when
 * SIZE > 0). Returns the length the whole list needs, like snprintf. */
size_t tc_sink_names(char *buf, size_t size);
/* One line per format for help text: "  NAME  HELP (also ALIAS...; -o .EXT...)". Returns 0
 * or -TC_EIO. */
int tc_sink_help(FILE *out);

/* Start writing FMT to OUT with options O (NULL: defaults). Returns 0 with *SP set, or
 * -TC_EINVAL (FMT is NULL) / -TC_ENOMEM / the format's open error, with *SP NULL. */
int tc_sink_open(const struct tc_sink_format *fmt, FILE *out, const struct tc_sink_opts *o,
		 struct tc_sink **sp);
/* Hand S one sampling instant (nothing when its format takes none). Returns 0 or the error
 * remembered from this or an earlier call. */
int tc_sink_sample(struct tc_sink *s, const struct tc_sample *smp);
/* When S's format takes samples, make SO's on_sample feed S, then call the observer SO had
 * (chained, not replaced). Otherwise SO is left as it is. S must outlive the sampling run. */
void tc_sink_observe(struct tc_sink *s, struct tc_sampler_opts *so);
/* Write the output from P, once. Returns 0, an error remembered from sampling, or the
 * format's finish error (errno untouched after it, for the caller's message); -TC_EINVAL
 * when already finished. */
int tc_sink_finish(struct tc_sink *s, const struct tc_profile *p);
/* Release S (NULL is fine). Does not close S->out. */
void tc_sink_free(struct tc_sink *s);

#endif
