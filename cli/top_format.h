/* SPDX-License-Identifier: MIT */
/* Text of `tachyon-c top`: pure functions that turn the model's figures into strings
 * (counts, bytes, shares, times, a sparkline), fit names into display columns, and choose
 * the table's columns for a width. No ncurses and no state: cli/top_view.c draws what these
 * return, and tests/unit/test_top_format.c checks them. UTF8 says whether the terminal's
 * locale is UTF-8 (ellipsis and block characters) or not (ASCII stand-ins). */
#ifndef TC_TOP_FORMAT_H
#define TC_TOP_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_TOP_FUNC_MIN 24 /* narrowest Function column */
#define TC_TOP_FILE_MIN 16 /* narrowest file:line column */

/* Copy S (NULL: "") into OUT (OUTSZ bytes) cut to at most W display columns; a cut is marked
 * with an ellipsis at the start (LEFT, for paths and qualnames whose end matters) or at the
 * end. Control and undecodable characters become '?'. Returns the columns used. */
int tc_top_fit(const char *s, int w, bool left, bool utf8, char *out, size_t outsz);

/* Display columns S takes (as tc_top_fit would show it uncut). */
int tc_top_text_cols(const char *s, bool utf8);

/* "1,234,567" */
void tc_top_fmt_count(uint64_t n, char *out, size_t sz);

/* "512 B", "1.5 KiB", ... "2.0 TiB"; "n/a" when B < 0. */
void tc_top_fmt_bytes(int64_t b, char *out, size_t sz);

/* A share 0..1 as "42%"; "n/a" when S < 0. */
void tc_top_fmt_share(double s, char *out, size_t sz);

/* Seconds as "1.25s", "2m05s" or "1h02m". */
void tc_top_fmt_secs(double s, char *out, size_t sz);

/* Elapsed time as "H:MM:SS". */
void tc_top_fmt_uptime(double s, char *out, size_t sz);

/* V as "%lld", or "n/a" when V < 0. */
void tc_top_fmt_int(int64_t v, char *out, size_t sz);

/* V as "%.1f", or "n/a" when V < 0. */
void tc_top_fmt_rate(double v, char *out, size_t sz);

/* A sparkline of H[0..N) (oldest first), scaled between their minimum and maximum: block
 * characters, or "_.,-=+*#" without UTF-8. */
void tc_top_sparkline(const int64_t *h, int n, bool utf8, char *out, size_t sz);

/* The program of command line CMD by base name, with its arguments: "/usr/bin/python3 x.py"
 * -> "python3 x.py" (borrowed from CMD). "?" for NULL or "". */
const char *tc_top_command_name(const char *cmd);

/* The table's columns for a terminal W columns wide. TotalTime goes first, then OwnTime,
 * then file:line; %Own, %Total and Function always stay. LONGEST is the widest qualname to
 * show. */
struct tc_top_columns {
	bool own_time, total_time, file;
	int func_w, file_w;
};
struct tc_top_columns tc_top_layout(int w, int longest);

#endif
