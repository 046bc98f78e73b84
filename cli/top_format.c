/* SPDX-License-Identifier: MIT */
/* Text of `tachyon-c top` (see top_format.h): fitting names into display columns (UTF-8
 * aware), number formats, the sparkline and the table's column layout. */
#include "cli/top_format.h"

#include <stdio.h>
#include <string.h>
#include <wchar.h>

/* ---- text fitting (display columns, UTF-8 aware) ---- */

int tc_top_fit(const char *s, int w, bool left, bool utf8, char *out, size_t outsz)
{
	enum { MAXC = 512 };
	struct {
		char b[8];
		int len, cols;
	} ch[MAXC];
	int n = 0, total = 0;
	mbstate_t st;
	memset(&st, 0, sizeof st);
	if (!s)
		s = "";
	size_t rem = strlen(s);
	while (rem && n < MAXC) {
		wchar_t wc;
		size_t k = 1;
		int cols = 1;
		bool ok = false;
		if ((unsigned char)*s < 0x80) {
			ok = *s >= 0x20 && *s != 0x7f;
		} else if (utf8) {
			k = mbrtowc(&wc, s, rem, &st);
			if (k == (size_t)-1 || k == (size_t)-2 || k == 0 || k > 6) {
				memset(&st, 0, sizeof st);
				k = 1;
			} else {
				cols = wcwidth(wc);
				ok = cols >= 0;
				if (!ok)
					cols = 1;
			}
		}
		if (ok) {
			memcpy(ch[n].b, s, k);
			ch[n].len = (int)k;
		} else {
			ch[n].b[0] = '?';
			ch[n].len = 1;
			cols = 1;
		}
		ch[n].cols = cols;
		total += cols;
		n++;
		s += k;
		rem -= k;
	}
	const char *ell = utf8 ? "\u2026" : "~";
	int first = 0, last = n; /* chars [first, last) are kept */
	bool cut = false;
	if (total > w) {
		cut = w >= 2;
		int budget = cut ? w - 1 : w, used = 0;
		if (left) {
			first = n;
			while (first > 0 && used + ch[first - 1].cols <= budget)
				used += ch[--first].cols;
		} else {
			last = 0;
			while (last < n && used + ch[last].cols <= budget)
				used += ch[last++].cols;
		}
		total = used + (cut ? 1 : 0);
	}
	size_t o = 0;
	if (cut && left) {
		size_t el = strlen(ell);
		if (o + el < outsz) {
			memcpy(out + o, ell, el);
			o += el;
		}
	}
	for (int i = first; i < last && o + (size_t)ch[i].len < outsz; i++) {
		memcpy(out + o, ch[i].b, (size_t)ch[i].len);
		o += (size_t)ch[i].len;
	}
	if (cut && !left) {
		size_t el = strlen(ell);
		if (o + el < outsz) {
			memcpy(out + o, ell, el);
			o += el;
		}
	}
	if (outsz)
		out[o < outsz ? o : outsz - 1] = '\0';
	return total;
}

int tc_top_text_cols(const char *s, bool utf8)
{
	char tmp[1024];
	return tc_top_fit(s, 1 << 20, false, utf8, tmp, sizeof tmp);
}

/* ---- number formats ---- */

void tc_top_fmt_count(uint64_t n, char *out, size_t sz)
{
	char digits[32];
	snprintf(digits, sizeof digits, "%llu", (unsigned long long)n);
	size_t len = strlen(digits), o = 0;
	for (size_t i = 0; i < len && o + 2 < sz; i++) {
		if (i && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
}

void tc_top_fmt_bytes(int64_t b, char *out, size_t sz)
{
	if (b < 0) {
		snprintf(out, sz, "n/a");
		return;
	}
	const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double x = (double)b;
	int u = 0;
	while (x >= 1024 && u < 4) {
		x /= 1024;
		u++;
	}
	snprintf(out, sz, u ? "%.1f %s" : "%.0f %s", x, units[u]);
}

void tc_top_fmt_share(double s, char *out, size_t sz)
{
	if (s < 0)
		snprintf(out, sz, "n/a");
	else
		snprintf(out, sz, "%.0f%%", 100 * s);
}

void tc_top_fmt_secs(double s, char *out, size_t sz)
{
	if (s < 60)
		snprintf(out, sz, "%.2fs", s);
	else if (s < 3600)
		snprintf(out, sz, "%dm%02ds", (int)(s / 60), (int)s % 60);
	else
		snprintf(out, sz, "%dh%02dm", (int)(s / 3600), ((int)s % 3600) / 60);
}

void tc_top_fmt_uptime(double s, char *out, size_t sz)
{
	long t = s > 0 ? (long)s : 0;
	snprintf(out, sz, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
}

void tc_top_sparkline(const int64_t *h, int n, bool utf8, char *out, size_t sz)
{
	static const char *const blocks[8] = {"\u2581", "\u2582", "\u2583", "\u2584",
					      "\u2585", "\u2586", "\u2587", "\u2588"};
	static const char ascii[] = "_.,-=+*#";
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	for (int i = 0; i < n; i++) {
		lo = h[i] < lo ? h[i] : lo;
		hi = h[i] > hi ? h[i] : hi;
	}
	size_t o = 0;
	for (int i = 0; i < n; i++) {
		int k = hi > lo ? (int)((double)(h[i] - lo) * 7.0 / (double)(hi - lo) + 0.5) : 0;
		const char *c = blocks[k];
		size_t cl = utf8 ? strlen(c) : 1;
		if (o + cl + 1 > sz)
			break;
		if (utf8)
			memcpy(out + o, c, cl);
		else
			out[o] = ascii[k];
		o += cl;
	}
	out[o] = '\0';
}

void tc_top_fmt_int(int64_t v, char *out, size_t sz)
{
	if (v < 0)
		snprintf(out, sz, "n/a");
	else
		snprintf(out, sz, "%lld", (long long)v);
}

void tc_top_fmt_rate(double v, char *out, size_t sz)
{
	if (v < 0)
		snprintf(out, sz, "n/a");
	else
		snprintf(out, sz, "%.1f", v);
}

const char *tc_top_command_name(const char *cmd)
{
	const char *sp, *slash = NULL;

	if (!cmd || !*cmd)
		return "?";
	sp = strchr(cmd, ' ');
	for (const char *q = cmd; *q && (!sp || q < sp); q++)
		if (*q == '/')
			slash = q;
	return slash ? slash + 1 : cmd;
}

/* ---- the table ---- */

struct tc_top_columns tc_top_layout(int w, int longest)
{
	struct tc_top_columns c = {true, true, true, 0, 0};
	const int fixed = 6 + 1 + 7 + 1;
#define NEED (fixed + (c.own_time ? 10 : 0) + (c.total_time ? 11 : 0) + TC_TOP_FUNC_MIN + \
	      (c.file ? 1 + TC_TOP_FILE_MIN : 0))
	if (NEED > w)
		c.total_time = false;
	if (NEED > w)
		c.own_time = false;
	if (NEED > w)
		c.file = false;
#undef NEED
	int rest = w - fixed - (c.own_time ? 10 : 0) - (c.total_time ? 11 : 0);
	if (c.file) {
		int fw = longest < 12 ? 12 : longest;
		int max = rest - 1 - TC_TOP_FILE_MIN;
		/* the path gets at least 40% of the room when it is short of it */
		if (fw > max)
			fw = max;
		if (fw > rest * 6 / 10 && rest - 1 - fw < 40)
			fw = rest * 6 / 10 > TC_TOP_FUNC_MIN ? rest * 6 / 10 : TC_TOP_FUNC_MIN;
		c.func_w = fw;
		c.file_w = rest - fw - 1;
	} else {
		c.func_w = rest;
	}
	return c;
}
