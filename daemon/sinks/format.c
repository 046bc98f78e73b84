/* SPDX-License-Identifier: MIT */
/* Choosing an output format: by name (-f) or by the extension of the output path (-o).
 * Both are case-insensitive, so "-o OUT.JSON" and "-f Speedscope" work. */
#include "daemon/sinks/sinks.h"

#include <string.h>
#include <strings.h>

#include "tc/common.h"

struct tc_format_name {
	const char *name;
	enum tc_format fmt;
};

/* Names accepted by -f. "folded" is what flamegraph.pl calls the collapsed format. */
static const struct tc_format_name tc_format_names[] = {
	{ "collapsed", TC_FMT_COLLAPSED },
	{ "folded", TC_FMT_COLLAPSED },
	{ "speedscope", TC_FMT_SPEEDSCOPE },
	{ "summary", TC_FMT_SUMMARY },
};

/* Extensions (without the dot) recognised on an output path. */
static const struct tc_format_name tc_format_exts[] = {
	{ "txt", TC_FMT_COLLAPSED },
	{ "folded", TC_FMT_COLLAPSED },
	{ "collapsed", TC_FMT_COLLAPSED },
	{ "json", TC_FMT_SPEEDSCOPE },
};

/* Look NAME up in TABLE of N entries; TC_FMT_NONE when absent. */
static enum tc_format tc_format_lookup(const struct tc_format_name *table, size_t n,
				       const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcasecmp(table[i].name, name))
			return table[i].fmt;
	}
	return TC_FMT_NONE;
}

/* NULL or an unknown name gives TC_FMT_NONE. */
enum tc_format tc_format_from_name(const char *name)
{
	if (!name)
		return TC_FMT_NONE;
	return tc_format_lookup(tc_format_names, TC_ARRAY_LEN(tc_format_names), name);
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
	return tc_format_lookup(tc_format_exts, TC_ARRAY_LEN(tc_format_exts), dot + 1);
}
