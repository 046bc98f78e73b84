/* SPDX-License-Identifier: MIT */
/* The registry of output formats and everything derived from it: choosing a format by name
 * (-f) or by the extension of the output path (-o), the list of names for messages, and the
 * help text. Names and extensions are case-insensitive, so "-o OUT.JSON" and "-f Speedscope"
 * work. */
#include "daemon/sinks/sink.h"

#include <string.h>
#include <strings.h>

#include "tc/common.h"

/* One line per format: X(NAME) is the descriptor tc_format_NAME, defined in NAME.c. The
 * order is that of help text and messages, and gives each its enum tc_format (sink.h). */
#define TC_SINK_FORMATS(X) \
	X(collapsed)       \
	X(speedscope)      \
	X(summary)

#define TC_SINK_DECLARE(n) extern const struct tc_sink_format tc_format_##n;
#define TC_SINK_ENTRY(n) &tc_format_##n,

TC_SINK_FORMATS(TC_SINK_DECLARE)

static const struct tc_sink_format *const tc_sink_formats[] = { TC_SINK_FORMATS(TC_SINK_ENTRY) };

const struct tc_sink_format *tc_sink_format_get(enum tc_format fmt)
{
	if (fmt <= TC_FMT_NONE || (size_t)fmt > TC_ARRAY_LEN(tc_sink_formats))
		return NULL;
	return tc_sink_formats[fmt - 1];
}

/* True when NAME is one of LIST (NULL-terminated, or NULL). */
static bool tc_sink_listed(const char *const *list, const char *name)
{
	for (; list && *list; list++) {
		if (!strcasecmp(*list, name))
			return true;
	}
	return false;
}

/* NULL or an unknown name gives TC_FMT_NONE. */
enum tc_format tc_format_from_name(const char *name)
{
	if (!name)
		return TC_FMT_NONE;
	for (size_t i = 0; i < TC_ARRAY_LEN(tc_sink_formats); i++) {
		const struct tc_sink_format *f = tc_sink_formats[i];

		if (!strcasecmp(f->name, name) || tc_sink_listed(f->aliases, name))
			return (enum tc_format)(i + 1);
	}
	return TC_FMT_NONE;
}

/* Only the last component counts: "out.d/profile" has no extension, and a leading dot
 * names a hidden file (".json" is not a speedscope file name). "-" (stdout) has none. */
enum tc_format tc_format_from_path(const char *path)
{
	const char *base, *dot;

	if (!path)
		return TC_FMT_NONE;
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	if (!dot || dot == base || !dot[1])
		return TC_FMT_NONE;
	for (size_t i = 0; i < TC_ARRAY_LEN(tc_sink_formats); i++) {
		if (tc_sink_listed(tc_sink_formats[i]->exts, dot + 1))
			return (enum tc_format)(i + 1);
	}
	return TC_FMT_NONE;
}

size_t tc_sink_names(char *buf, size_t size)
{
	size_t len = 0;

	if (size)
		buf[0] = '\0';
	for (size_t i = 0; i < TC_ARRAY_LEN(tc_sink_formats); i++) {
		/* what fits is written, the rest only counted */
		int n = snprintf(len < size ? buf + len : NULL, len < size ? size - len : 0, "%s%s",
				 i ? ", " : "", tc_sink_formats[i]->name);

		if (n > 0)
			len += (size_t)n;
	}
	return len;
}

/* Print LIST (NULL-terminated) as " PREFIXitem PREFIXitem". */
static void tc_sink_help_list(const char *const *list, const char *prefix, FILE *out)
{
	for (; list && *list; list++)
		fprintf(out, " %s%s", prefix, *list);
}

int tc_sink_help(FILE *out)
{
	for (size_t i = 0; i < TC_ARRAY_LEN(tc_sink_formats); i++) {
		const struct tc_sink_format *f = tc_sink_formats[i];
		bool aliases = f->aliases && f->aliases[0], exts = f->exts && f->exts[0];

		fprintf(out, "  %-12s %s", f->name, f->help);
		if (aliases || exts)
			fputs(" (", out);
		if (aliases) {
			fputs("also", out);
			tc_sink_help_list(f->aliases, "", out);
		}
		if (exts) {
			fputs(aliases ? "; -o" : "-o", out);
			tc_sink_help_list(f->exts, ".", out);
		}
		fputs(aliases || exts ? ")\n" : "\n", out);
	}
	return ferror(out) ? -TC_EIO : 0;
}
