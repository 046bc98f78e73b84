/* SPDX-License-Identifier: MIT */
/* `tachyon-c top`: the ncurses screen. Header (process, sampling, thread states, memory with a
 * sparkline), a status line (sort, view, thread, filter, pause), an exit banner, and the
 * table; keys, a help overlay, resizes and the 60x12 minimum.
 *
 * Everything here runs on the UI thread. The model is touched only under the shared mutex,
 * briefly, to copy it into a snapshot (which also closes the refresh window) or to reset it;
 * sorting, filtering and drawing work on the snapshot with no lock held. While paused, new
 * snapshots keep being taken on schedule (so windows stay one refresh long) but the screen
 * keeps showing the frozen one. */
#include <curses.h>
#include <langinfo.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "cli/top_view.h"
#include "reader/proc.h"
#include "tc/common.h"

#define MIN_COLS 60
#define MIN_LINES 12
#define HIST 24           /* refreshes of memory history in the sparkline */
#define FUNC_MIN 24       /* narrowest Function column */
#define FILE_MIN 16       /* narrowest file:line column */
#define POLL_MS 100       /* longest wait for a key: how fast signals and exits are seen */

static const double steps[] = {0.25, 0.5, 1, 2, 3, 5, 10};
#define NSTEPS (sizeof steps / sizeof steps[0])

static const char *const sort_names[TC_TOP_NSORT] = {"%Own", "%Total", "OwnTime", "TotalTime"};

/* Share of the last window a thread spent on a CPU, from its CPU time in /proc. */
struct thread_cpu {
	uint64_t tid;
	double cpu, at;   /* the reading and when it was taken */
	double share;     /* -1 until two readings */
};

/* One displayable state: a snapshot and the figures polled with it. */
struct frame {
	struct tc_top_snap *snap;
	struct tc_top_memory mem;
	int64_t hist[HIST];
	int nhist;
	struct thread_cpu cpu[TC_TOP_MAX_THREADS + 1];
	size_t ncpu;
	bool valid;
};

struct view {
	struct tc_top_shared *sh;
	const struct tc_top_view_cfg *cfg;
	bool utf8;
	double start, interval, next;
	struct frame fa, fb;
	struct frame *shown, *live;
	struct tc_top_memory mem; /* last good poll */
	struct tc_top_memstate memst;
	struct tc_alloc_reading reading; /* the latest taken from the allocator monitor */
	int64_t hist[HIST];
	int nhist;
	struct thread_cpu cpu[TC_TOP_MAX_THREADS + 1]; /* the threads of the last refresh */
	size_t ncpu;
	struct tc_top_query q;
	char filter[128], filter_saved[128];
	bool paused, help, thread_mode, filter_mode;
	bool live_fresh; /* LIVE was taken while paused and is newer than SHOWN */
	bool ended, exited;
	double duration;
};

static double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- text fitting (display columns, UTF-8 aware) ---- */

/* Copy S into OUT (OUTSZ bytes) cut to at most W display columns; a cut is marked with an
 * ellipsis at the start (LEFT, for paths and qualnames whose end matters) or at the end.
 * Control and undecodable characters become '?'. Returns the columns used. */
static int fit(const struct view *v, const char *s, int w, bool left, char *out, size_t outsz)
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
		} else if (v->utf8) {
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
	const char *ell = v->utf8 ? "\u2026" : "~";
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

static int text_cols(const struct view *v, const char *s)
{
	char tmp[1024];
	return fit(v, s, 1 << 20, false, tmp, sizeof tmp);
}

/* Draw S at (Y, X) in at most W columns. Returns the columns used. */
static int put(const struct view *v, int y, int x, int w, const char *s, bool left)
{
	if (w <= 0 || y < 0 || y >= LINES)
		return 0;
	char buf[2048];
	int used = fit(v, s, w, left, buf, sizeof buf);
	mvaddstr(y, x, buf);
	return used;
}

/* S right-aligned in W columns at (Y, X) (ASCII numbers only). */
static void put_right(int y, int x, int w, const char *s)
{
	int len = (int)strlen(s);
	if (len > w)
		len = w;
	mvaddnstr(y, x + w - len, s + (strlen(s) - (size_t)len), len);
}

/* ---- number formats ---- */

static void fmt_count(uint64_t n, char *out, size_t sz)
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

static void fmt_bytes(int64_t b, char *out, size_t sz)
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

static void fmt_share(double s, char *out, size_t sz)
{
	if (s < 0)
		snprintf(out, sz, "n/a");
	else
		snprintf(out, sz, "%.0f%%", 100 * s);
}

static void fmt_secs(double s, char *out, size_t sz)
{
	if (s < 60)
		snprintf(out, sz, "%.2fs", s);
	else if (s < 3600)
		snprintf(out, sz, "%dm%02ds", (int)(s / 60), (int)s % 60);
	else
		snprintf(out, sz, "%dh%02dm", (int)(s / 3600), ((int)s % 3600) / 60);
}

static void fmt_uptime(double s, char *out, size_t sz)
{
	long t = s > 0 ? (long)s : 0;
	snprintf(out, sz, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
}

/* A sparkline of H[0..N) (oldest first) in block characters, or ASCII without UTF-8. */
static void sparkline(const struct view *v, const int64_t *h, int n, char *out, size_t sz)
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
		size_t cl = v->utf8 ? strlen(c) : 1;
		if (o + cl + 1 > sz)
			break;
		if (v->utf8)
			memcpy(out + o, c, cl);
		else
			out[o] = ascii[k];
		o += cl;
	}
	out[o] = '\0';
}

/* Share of time on a CPU of the threads Q selects (the mean over those seen in the
 * window), or -1 when unknown. */
static double cpu_share(const struct view *v, const struct frame *fr)
{
	double sum = 0;
	int n = 0;
	const struct tc_top_snap *s = fr->snap;
	for (size_t i = 0; i < tc_top_snap_nthreads(s); i++) {
		const struct tc_top_thread_info *t = tc_top_snap_thread(s, i);
		if (v->q.one_thread ? t->native_id != v->q.native_id || t->thread_id != v->q.thread_id
				    : !t->seen)
			continue;
		for (size_t j = 0; j < fr->ncpu; j++) {
			if (fr->cpu[j].tid == t->native_id && fr->cpu[j].share >= 0) {
				sum += fr->cpu[j].share;
				n++;
			}
		}
	}
	return n ? sum / n : -1;
}

/* ---- header ---- */

/* Fields flow left to right, two spaces apart, wrapping to the next line. */
struct flow {
	const struct view *v;
	int y, x, w, last_y;
	bool compact; /* minor fields are left out */
};

static void field(struct flow *f, const char *text, int attr)
{
	int cols = text_cols(f->v, text);
	if (f->x > 0 && f->x + 2 + cols > f->w) {
		f->y++;
		f->x = 0;
	} else if (f->x > 0) {
		f->x += 2;
	}
	if (f->y > f->last_y)
		return;
	attron(attr);
	f->x += put(f->v, f->y, f->x, f->w - f->x, text, false);
	attroff(attr);
}

static void minor_field(struct flow *f, const char *text)
{
	if (!f->compact)
		field(f, text, 0);
}

/* A field that takes what is left of the line (at least MIN columns), cut at the end. */
static void field_rest(struct flow *f, const char *text, int min)
{
	if (f->x > 0 && f->x + 2 + min > f->w) {
		f->y++;
		f->x = 0;
	} else if (f->x > 0) {
		f->x += 2;
	}
	if (f->y > f->last_y)
		return;
	f->x += put(f->v, f->y, f->x, f->w - f->x, text, false);
}

static void flow_break(struct flow *f)
{
	if (f->x > 0) {
		f->y++;
		f->x = 0;
	}
}

/* Short terminals get a compact header: the groups run on and stop after 4 lines (the least
 * useful fields come last in each group, the minor ones are left out). */
#define COMPACT_BELOW 20

static void group_break(struct flow *f, bool compact)
{
	if (!compact)
		flow_break(f);
}

static int draw_header(struct view *v, const struct frame *fr, int w, int h)
{
	const bool compact = h < COMPACT_BELOW;
	struct flow f = {.v = v, .y = 0, .x = 0, .w = w, .last_y = compact ? 3 : 5,
			 .compact = compact};
	const struct tc_top_view_cfg *c = v->cfg;
	char b[256], n1[32], n2[32];

	field(&f, "tachyon-c top", A_BOLD);
	snprintf(b, sizeof b, "PID %d", (int)c->pid);
	field(&f, b, 0);
	snprintf(b, sizeof b, "Python %s", c->version && *c->version ? c->version : "?");
	field(&f, b, 0);
	/* the command line, its program by base name: the arguments say more */
	const char *cmd = c->command && *c->command ? c->command : "?";
	const char *sp = strchr(cmd, ' ');
	const char *slash = NULL;
	for (const char *q = cmd; *q && (!sp || q < sp); q++)
		if (*q == '/')
			slash = q;
	field_rest(&f, slash ? slash + 1 : cmd, 12);
	group_break(&f, compact);

	struct tc_top_summary s;
	memset(&s, 0, sizeof s);
	if (fr && fr->valid)
		tc_top_snap_summary(fr->snap, &v->q, &s);
	fmt_uptime(fr && fr->valid ? s.time - v->start : now_mono() - v->start, n1, sizeof n1);
	snprintf(b, sizeof b, "up %s", n1);
	field(&f, b, 0);
	fmt_count(s.samples, n1, sizeof n1);
	snprintf(b, sizeof b, "samples %s", n1);
	field(&f, b, 0);
	snprintf(b, sizeof b, "rate %.1f/%g Hz", s.rate, c->rate_hz);
	field(&f, b, 0);
	fmt_count(s.failed, n1, sizeof n1);
	snprintf(b, sizeof b, "failed %s (%.1f%%)", n1,
		 s.samples ? 100.0 * (double)s.failed / (double)s.samples : 0.0);
	field(&f, b, 0);
	fmt_count(s.missed, n1, sizeof n1);
	snprintf(b, sizeof b, "missed %s", n1);
	minor_field(&f, b);
	snprintf(b, sizeof b, "refresh %gs", v->interval);
	field(&f, b, 0);
	group_break(&f, compact);

	fmt_share(s.gil, n1, sizeof n1);
	snprintf(b, sizeof b, "GIL %s", n1);
	field(&f, b, 0);
	/* on a CPU: from the threads' CPU time; from the samples' run states in cpu mode */
	double cpu = fr && fr->valid ? cpu_share(v, fr) : -1;
	if (cpu < 0)
		cpu = s.cpu;
	fmt_share(cpu, n1, sizeof n1);
	snprintf(b, sizeof b, "CPU %s", n1);
	field(&f, b, 0);
	fmt_share(cpu < 0 ? -1 : 1 - cpu, n1, sizeof n1);
	snprintf(b, sizeof b, "idle %s", n1);
	field(&f, b, 0);
	fmt_share(fr ? fr->mem.gc_running : -1, n1, sizeof n1);
	snprintf(b, sizeof b, "GC %s", n1);
	field(&f, b, 0);
	snprintf(b, sizeof b, "threads %zu/%zu%s", s.threads_seen, s.threads_total,
		 c->main_only ? " (main only)" : "");
	field(&f, b, 0);
	snprintf(b, sizeof b, "mode %s", c->mode);
	minor_field(&f, b);
	group_break(&f, compact);

	const struct tc_top_memory *m = fr ? &fr->mem : &v->mem;
	char spark[HIST * 4 + 1] = "";
	if (fr && fr->nhist > 1)
		sparkline(v, fr->hist, fr->nhist, spark, sizeof spark);
	fmt_bytes(m->rss, n1, sizeof n1);
	snprintf(b, sizeof b, "RSS %s%s%s", n1, spark[0] ? " " : "", spark);
	field(&f, b, 0);
	fmt_bytes(m->rss_anon, n1, sizeof n1);
	snprintf(b, sizeof b, "anon %s", n1);
	minor_field(&f, b);
	fmt_bytes(m->pymalloc_bytes, n1, sizeof n1);
	snprintf(b, sizeof b, "pymalloc %s", n1);
	field(&f, b, 0);
	if (m->arenas < 0)
		snprintf(n2, sizeof n2, "n/a");
	else
		snprintf(n2, sizeof n2, "%lld", (long long)m->arenas);
	snprintf(b, sizeof b, "arenas %s", n2);
	minor_field(&f, b);
	if (m->gc_per_sec < 0)
		snprintf(n2, sizeof n2, "n/a");
	else
		snprintf(n2, sizeof n2, "%.1f", m->gc_per_sec);
	snprintf(b, sizeof b, "GC/s %s", n2);
	minor_field(&f, b);
	group_break(&f, compact);
	flow_break(&f);
	return f.y > f.last_y + 1 ? f.last_y + 1 : f.y;
}

/* ---- status line, banner, table ---- */

static void thread_label(const struct view *v, char *out, size_t sz)
{
	if (!v->q.one_thread) {
		snprintf(out, sz, "all");
		return;
	}
	bool main = false;
	const struct tc_top_snap *s = v->shown->valid ? v->shown->snap : NULL;
	for (size_t i = 0; s && i < tc_top_snap_nthreads(s); i++) {
		const struct tc_top_thread_info *t = tc_top_snap_thread(s, i);
		if (t->native_id == v->q.native_id && t->thread_id == v->q.thread_id)
			main = t->main;
	}
	if (v->q.native_id == 0 && v->q.thread_id == 0)
		snprintf(out, sz, "other threads");
	else if (v->q.native_id)
		snprintf(out, sz, "%llu%s", (unsigned long long)v->q.native_id, main ? " (main)" : "");
	else
		snprintf(out, sz, "ident %llu%s", (unsigned long long)v->q.thread_id, main ? " (main)" : "");
}

static void draw_status(struct view *v, int y, int w)
{
	char b[512], th[64];
	thread_label(v, th, sizeof th);
	if (v->filter_mode) {
		snprintf(b, sizeof b, "filter: %s_   (Enter keep, Esc cancel)", v->filter);
		attron(A_BOLD);
		put(v, y, 0, w, b, false);
		attroff(A_BOLD);
		return;
	}
	if (v->thread_mode) {
		snprintf(b, sizeof b, "thread: < %s >   (Left/Right choose, Enter done)", th);
		attron(A_BOLD);
		put(v, y, 0, w, b, false);
		attroff(A_BOLD);
		return;
	}
	int n = snprintf(b, sizeof b, "sort %s  view %s  thread %s", sort_names[v->q.sort],
			 v->q.by_line ? "lines" : "functions", th);
	if (v->filter[0])
		n += snprintf(b + n, sizeof b - (size_t)n, "  filter \"%s\"", v->filter);
	int x = put(v, y, 0, w, b, false);
	if (v->paused && x + 10 < w) {
		attron(A_REVERSE | A_BOLD);
		mvaddstr(y, x + 2, "PAUSED");
		attroff(A_REVERSE | A_BOLD);
		x += 8;
	}
	const char *hint = "? help  q quit";
	int hl = (int)strlen(hint);
	if (x + 2 + hl <= w)
		mvaddstr(y, w - hl, hint);
}

struct columns {
	bool own_time, total_time, file;
	int func_w, file_w;
};

/* Which columns fit in W: TotalTime goes first, then OwnTime, then file:line; %Own, %Total
 * and Function always stay. LONGEST is the widest qualname to show. */
static struct columns layout(int w, int longest)
{
	struct columns c = {true, true, true, 0, 0};
	const int fixed = 6 + 1 + 7 + 1;
#define NEED (fixed + (c.own_time ? 10 : 0) + (c.total_time ? 11 : 0) + FUNC_MIN + \
	      (c.file ? 1 + FILE_MIN : 0))
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
		int max = rest - 1 - FILE_MIN;
		/* the path gets at least 40% of the room when it is short of it */
		if (fw > max)
			fw = max;
		if (fw > rest * 6 / 10 && rest - 1 - fw < 40)
			fw = rest * 6 / 10 > FUNC_MIN ? rest * 6 / 10 : FUNC_MIN;
		c.func_w = fw;
		c.file_w = rest - fw - 1;
	} else {
		c.func_w = rest;
	}
	return c;
}

static void draw_table(struct view *v, int y, int w, int h)
{
	const struct tc_top_row *rows = NULL;
	size_t n = 0;
	if (v->shown->valid)
		n = tc_top_snap_rows(v->shown->snap, &v->q, &rows);
	int longest = 0;
	for (size_t i = 0; i < n && (int)i < h - y; i++) {
		int l = text_cols(v, rows[i].qualname);
		longest = l > longest ? l : longest;
	}
	struct columns c = layout(w, longest);

	/* heading */
	attron(A_REVERSE);
	mvhline(y, 0, ' ', w);
	int x = 0;
	const char *heads[TC_TOP_NSORT] = {"%Own", "%Total", "OwnTime", "TotalTime"};
	const int widths[TC_TOP_NSORT] = {6, 7, 9, 10};
	const bool shown[TC_TOP_NSORT] = {true, true, c.own_time, c.total_time};
	for (int k = 0; k < TC_TOP_NSORT; k++) {
		if (!shown[k])
			continue;
		if (k == (int)v->q.sort)
			attron(A_BOLD);
		put_right(y, x, widths[k], heads[k]);
		attroff(A_BOLD);
		x += widths[k] + 1;
	}
	mvaddstr(y, x, "Function");
	if (c.file)
		mvaddstr(y, x + c.func_w + 1, "file:line");
	attroff(A_REVERSE);
	y++;

	if (n == 0) {
		const char *msg = !v->shown->valid ? "(collecting the first samples...)"
				  : v->filter[0] ? "(no function matches the filter; c clears it)"
				  : "(no samples in this view yet)";
		put(v, y + 1, 2, w - 2, msg, false);
		return;
	}
	char b[64], loc[1024];
	for (size_t i = 0; i < n && y < h; i++, y++) {
		const struct tc_top_row *r = &rows[i];
		x = 0;
		snprintf(b, sizeof b, "%.1f", r->own_pct);
		put_right(y, x, 6, b);
		x += 7;
		snprintf(b, sizeof b, "%.1f", r->total_pct);
		put_right(y, x, 7, b);
		x += 8;
		if (c.own_time) {
			fmt_secs(r->own_time, b, sizeof b);
			put_right(y, x, 9, b);
			x += 10;
		}
		if (c.total_time) {
			fmt_secs(r->total_time, b, sizeof b);
			put_right(y, x, 10, b);
			x += 11;
		}
		put(v, y, x, c.func_w, r->qualname, true);
		if (c.file && r->file && r->file[0]) {
			if (r->line >= 0)
				snprintf(loc, sizeof loc, "%s:%d", r->file, (int)r->line);
			else
				snprintf(loc, sizeof loc, "%s", r->file);
			put(v, y, x + c.func_w + 1, c.file_w, loc, true);
		}
	}
}

static const char *const help_lines[] = {
	"tachyon-c top: keys",
	"",
	"1 2 3 4   sort by %Own, %Total, OwnTime, TotalTime",
	"s / S     next / previous sort column",
	"l         per function / per line",
	"t         choose a thread: then Left/Right, Enter",
	"p         pause the display (sampling goes on)",
	"r         reset every count",
	"/         filter by substring of function or file",
	"c         clear the filter",
	"+ / -     refresh faster / slower",
	"?         this help (any key closes it)",
	"q         quit",
	"",
	"%Own, %Total: share of the samples of the last",
	"refresh window (Own: innermost frame; Total: on",
	"the stack, once per stack even when recursive).",
	"OwnTime, TotalTime: seconds since start or reset.",
};

static void draw_help(struct view *v, int w, int h)
{
	int n = (int)(sizeof help_lines / sizeof help_lines[0]);
	int bw = 0;
	for (int i = 0; i < n; i++) {
		int l = (int)strlen(help_lines[i]);
		bw = l > bw ? l : bw;
	}
	bw += 4;
	if (bw > w)
		bw = w;
	int bh = n + 2 > h ? h : n + 2;
	int y0 = (h - bh) / 2, x0 = (w - bw) / 2;
	for (int i = 0; i < bh; i++)
		mvhline(y0 + i, x0, ' ', bw);
	attron(A_REVERSE);
	mvhline(y0, x0, ' ', bw);
	mvhline(y0 + bh - 1, x0, ' ', bw);
	for (int i = 0; i < bh; i++) {
		mvaddch(y0 + i, x0, ' ');
		mvaddch(y0 + i, x0 + bw - 1, ' ');
	}
	attroff(A_REVERSE);
	for (int i = 0; i < n && i + 1 < bh - 1; i++) {
		if (i == 0)
			attron(A_BOLD);
		put(v, y0 + 1 + i, x0 + 2, bw - 4, help_lines[i], false);
		attroff(A_BOLD);
	}
}

static void draw(struct view *v)
{
	int w = COLS, h = LINES;
	erase();
	if (w < MIN_COLS || h < MIN_LINES) {
		char b[128];
		snprintf(b, sizeof b, "terminal too small: %dx%d", w, h);
		put(v, 0, 0, w, b, false);
		snprintf(b, sizeof b, "top needs at least %dx%d", MIN_COLS, MIN_LINES);
		put(v, 1, 0, w, b, false);
		put(v, 2, 0, w, "(q quits)", false);
		refresh();
		return;
	}
	int y = draw_header(v, v->shown->valid ? v->shown : NULL, w, h);
	draw_status(v, y++, w);
	if (v->ended) {
		char b[256];
		snprintf(b, sizeof b, " process %d %s after %.1f s: this is its last view. Press q to quit. ",
			 (int)v->cfg->pid, v->exited ? "exited" : "stopped being sampled", v->duration);
		attron(A_REVERSE | A_BOLD);
		mvhline(y, 0, ' ', w);
		put(v, y, 0, w, b, false);
		attroff(A_REVERSE | A_BOLD);
		y++;
	}
	draw_table(v, y, w, h);
	if (v->help)
		draw_help(v, w, h);
	refresh();
}

/* ---- state changes ---- */

/* Read the CPU time of every thread of S (reader/proc.h); each gets the share of the time
 * since its previous reading that it spent on a CPU. One small /proc read per thread per
 * refresh, instead of one per thread per sample. */
static void poll_cpu(struct view *v, const struct tc_top_snap *s, double now)
{
	struct thread_cpu next[TC_TOP_MAX_THREADS + 1];
	size_t n = 0;
	for (size_t i = 0; i < tc_top_snap_nthreads(s) && n < TC_TOP_MAX_THREADS + 1; i++) {
		const struct tc_top_thread_info *t = tc_top_snap_thread(s, i);
		double cpu;
		if (t->native_id == 0 || t->native_id > INT32_MAX ||
		    tc_proc_thread_cpu_time(v->cfg->pid, (pid_t)t->native_id, &cpu) != 0)
			continue;
		struct thread_cpu c = {t->native_id, cpu, now, -1};
		for (size_t j = 0; j < v->ncpu; j++) {
			const struct thread_cpu *p = &v->cpu[j];
			if (p->tid == c.tid && now > p->at) {
				c.share = (cpu - p->cpu) / (now - p->at);
				c.share = c.share < 0 ? 0 : c.share > 1 ? 1 : c.share;
			}
		}
		next[n++] = c;
	}
	memcpy(v->cpu, next, n * sizeof *next);
	v->ncpu = n;
}

/* Copy the model into the live frame (closing the window) and show it unless paused. */
static int take(struct view *v, double now, bool poll_memory)
{
	struct frame *f = v->live;
	pthread_mutex_lock(&v->sh->lock);
	int err = tc_top_model_snap(v->sh->model, now, f->snap);
	pthread_mutex_unlock(&v->sh->lock);
	if (poll_memory) {
		struct tc_top_memory m;
		if (v->cfg->alloc && tc_alloc_monitor_latest(v->cfg->alloc, &v->reading)) {
			tc_top_memory_from_reading(&v->memst, &v->reading, &m);
			v->mem = m;
			if (m.rss >= 0) {
				if (v->nhist == HIST) {
					memmove(v->hist, v->hist + 1, (HIST - 1) * sizeof *v->hist);
					v->nhist--;
				}
				v->hist[v->nhist++] = m.rss;
			}
		}
	}
	if (poll_memory && err == 0)
		poll_cpu(v, f->snap, now);
	f->mem = v->mem;
	memcpy(f->hist, v->hist, sizeof f->hist);
	f->nhist = v->nhist;
	memcpy(f->cpu, v->cpu, sizeof f->cpu);
	f->ncpu = v->ncpu;
	f->valid = err == 0;
	if (!v->paused) {
		v->live = v->shown;
		v->shown = f;
		v->live_fresh = false;
	} else {
		v->live_fresh = true;
	}
	return err;
}

static void step_interval(struct view *v, int dir)
{
	if (dir < 0) {
		for (size_t i = NSTEPS; i-- > 0;) {
			if (steps[i] < v->interval - 1e-9) {
				v->interval = steps[i];
				break;
			}
		}
	} else {
		for (size_t i = 0; i < NSTEPS; i++) {
			if (steps[i] > v->interval + 1e-9) {
				v->interval = steps[i];
				break;
			}
		}
	}
	double now = now_mono();
	if (v->next > now + v->interval)
		v->next = now + v->interval;
	if (v->cfg->alloc)
		tc_alloc_monitor_set_interval(v->cfg->alloc, v->interval);
}

/* Select the thread DIR places from the current one: "all", then the main thread, then the
 * others in order of first appearance, round and round. */
static void cycle_thread(struct view *v, int dir)
{
	const struct tc_top_snap *s = v->shown->valid ? v->shown->snap : NULL;
	size_t n = s ? tc_top_snap_nthreads(s) : 0;
	const struct tc_top_thread_info *order[TC_TOP_MAX_THREADS + 1];
	long k = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n && k < (long)(sizeof order / sizeof order[0]); i++) {
			const struct tc_top_thread_info *t = tc_top_snap_thread(s, i);
			if (t->main == (pass == 0))
				order[k++] = t;
		}
	}
	long cur = -1;
	for (long i = 0; v->q.one_thread && i < k; i++) {
		if (order[i]->native_id == v->q.native_id && order[i]->thread_id == v->q.thread_id)
			cur = i;
	}
	long next = cur + dir;
	if (next >= k)
		next = -1;
	else if (next < -1)
		next = k - 1;
	if (next < 0) {
		v->q.one_thread = false;
	} else {
		v->q.one_thread = true;
		v->q.native_id = order[next]->native_id;
		v->q.thread_id = order[next]->thread_id;
	}
}

static void reset(struct view *v)
{
	pthread_mutex_lock(&v->sh->lock);
	tc_top_model_reset(v->sh->model);
	pthread_mutex_unlock(&v->sh->lock);
	/* show the empty state at once, paused or not */
	bool paused = v->paused;
	v->paused = false;
	double now = now_mono();
	take(v, now, false);
	v->paused = paused;
	v->next = now + v->interval;
}

/* Handle key CH. Returns false when it asks to quit. */
static bool key(struct view *v, int ch)
{
	if (v->help) {
		v->help = false;
		return ch != 'q' && ch != 'Q' ? true : false;
	}
	if (v->filter_mode) {
		size_t len = strlen(v->filter);
		if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
			v->filter_mode = false;
		} else if (ch == 27) {
			memcpy(v->filter, v->filter_saved, sizeof v->filter);
			v->filter_mode = false;
		} else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
			/* drop a whole UTF-8 character */
			while (len > 0 && ((unsigned char)v->filter[len - 1] & 0xc0) == 0x80)
				len--;
			if (len > 0)
				len--;
			v->filter[len] = '\0';
		} else if (ch >= 0x20 && ch < 0x100 && ch != 0x7f && len + 1 < sizeof v->filter) {
			v->filter[len] = (char)ch;
			v->filter[len + 1] = '\0';
		}
		v->q.filter = v->filter[0] ? v->filter : NULL;
		return true;
	}
	if (v->thread_mode) {
		if (ch == KEY_LEFT) {
			cycle_thread(v, -1);
			return true;
		}
		if (ch == KEY_RIGHT) {
			cycle_thread(v, 1);
			return true;
		}
		v->thread_mode = false;
		if (ch == '\n' || ch == '\r' || ch == KEY_ENTER || ch == 27 || ch == 't')
			return true;
	}
	switch (ch) {
	case 'q':
	case 'Q':
		return false;
	case '1':
	case '2':
	case '3':
	case '4':
		v->q.sort = (enum tc_top_sort)(ch - '1');
		break;
	case 's':
		v->q.sort = (enum tc_top_sort)((v->q.sort + 1) % TC_TOP_NSORT);
		break;
	case 'S':
		v->q.sort = (enum tc_top_sort)((v->q.sort + TC_TOP_NSORT - 1) % TC_TOP_NSORT);
		break;
	case 'l':
		v->q.by_line = !v->q.by_line;
		break;
	case 't':
		v->thread_mode = true;
		break;
	case 'p':
		v->paused = !v->paused;
		if (!v->paused && v->live_fresh && v->live->valid) {
			/* show the newest frame taken while paused */
			struct frame *f = v->live;
			v->live = v->shown;
			v->shown = f;
			v->live_fresh = false;
		}
		break;
	case 'r':
		if (!v->ended)
			reset(v);
		break;
	case '/':
		memcpy(v->filter_saved, v->filter, sizeof v->filter);
		v->filter_mode = true;
		break;
	case 'c':
		v->filter[0] = '\0';
		v->q.filter = NULL;
		break;
	case '+':
	case '=':
		step_interval(v, -1);
		break;
	case '-':
	case '_':
		step_interval(v, 1);
		break;
	case '?':
	case 'h':
		v->help = true;
		break;
	default:
		break;
	}
	return true;
}

/* ---- the loop ---- */

static bool locale_is_utf8(void)
{
	const char *cs = nl_langinfo(CODESET);
	return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

enum tc_top_end tc_top_view_run(struct tc_top_shared *sh, const struct tc_top_view_cfg *cfg)
{
	struct view v;
	memset(&v, 0, sizeof v);
	v.sh = sh;
	v.cfg = cfg;
	v.utf8 = locale_is_utf8();
	v.interval = cfg->interval > 0 ? cfg->interval : 1.0;
	v.q.sort = TC_TOP_SORT_OWN;
	v.mem = (struct tc_top_memory){-1, -1, -1, -1, -1, -1};
	tc_top_memstate_init(&v.memst);
	v.fa.snap = tc_top_snap_new();
	v.fb.snap = tc_top_snap_new();
	v.shown = &v.fa;
	v.live = &v.fb;
	if (!v.fa.snap || !v.fb.snap) {
		tc_top_snap_free(v.fa.snap);
		tc_top_snap_free(v.fb.snap);
		return TC_TOP_NOTERM;
	}

	SCREEN *scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		tc_top_snap_free(v.fa.snap);
		tc_top_snap_free(v.fb.snap);
		return TC_TOP_NOTERM;
	}
	set_term(scr);
	cbreak(); /* not raw(): Ctrl-C still sends SIGINT, which ends the view cleanly */
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);

	enum tc_top_end end = TC_TOP_QUIT;
	v.start = now_mono();
	/* the first view comes quickly; then one per interval */
	v.next = v.start + (v.interval < 0.5 ? v.interval : 0.5);
	bool dirty = true;
	for (;;) {
		if (*cfg->stop) {
			end = TC_TOP_INTERRUPTED;
			break;
		}
		double now = now_mono();
		if (!v.ended) {
			pthread_mutex_lock(&sh->lock);
			bool done = sh->done;
			int err = sh->err;
			v.exited = sh->exited;
			v.duration = sh->duration;
			pthread_mutex_unlock(&sh->lock);
			if (done && err) {
				end = TC_TOP_FAILED;
				break;
			}
			if (done) {
				/* the last (partial) window, then no more refreshes */
				v.ended = true;
				take(&v, now, false);
				dirty = true;
			} else if (now >= v.next) {
				take(&v, now, true);
				v.next += v.interval;
				if (v.next < now)
					v.next = now + v.interval;
				dirty = true;
			}
		}
		if (dirty) {
			draw(&v);
			dirty = false;
		}
		int wait = POLL_MS;
		if (!v.ended) {
			double left = (v.next - now_mono()) * 1000;
			if (left < wait)
				wait = left < 1 ? 1 : (int)left;
		}
		timeout(wait);
		int ch = getch();
		if (ch == ERR)
			continue;
		if (ch == KEY_RESIZE) {
			dirty = true;
			continue;
		}
		if (!key(&v, ch))
			break;
		dirty = true;
	}
	endwin();
	delscreen(scr);
	tc_top_snap_free(v.fa.snap);
	tc_top_snap_free(v.fb.snap);
	return end;
}
