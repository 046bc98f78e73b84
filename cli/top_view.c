/* SPDX-License-Identifier: MIT */
/* `tachyon-c top`: drawing the ncurses screen. Header (process, sampling, thread states,
 * memory with a sparkline), a status line (sort, view, thread, filter, pause), an exit
 * banner, the table, a help overlay and the 60x12 minimum. The text of each figure comes
 * from cli/top_format.c; the keys and the loop are in cli/top_input.c. Everything here runs
 * on the UI thread and reads only its snapshots. */
#include <curses.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli/top_format.h"
#include "cli/session.h"
#include "cli/top_ui.h"
#include "cli/top_view.h"
#include "tc/common.h"

#define MIN_COLS 60
#define MIN_LINES 12

static const char *const sort_names[TC_TOP_NSORT] = {"%Own", "%Total", "OwnTime", "TotalTime"};

/* Draw S at (Y, X) in at most W columns. Returns the columns used. */
static int put(const struct tc_top_ui *v, int y, int x, int w, const char *s, bool left)
{
	if (w <= 0 || y < 0 || y >= LINES)
		return 0;
	char buf[2048];
	int used = tc_top_fit(s, w, left, v->utf8, buf, sizeof buf);
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

/* Share of time on a CPU of the threads Q selects (the mean over those seen in the
 * window), or -1 when unknown. */
static double cpu_share(const struct tc_top_ui *v, const struct tc_top_frame *fr)
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
	const struct tc_top_ui *v;
	int y, x, w, last_y;
	bool compact; /* minor fields are left out */
};

/* Make room for a field of COLS columns: two spaces after the previous one, or the next
 * line when it would not fit. Returns false when the header is full. */
static bool flow_place(struct flow *f, int cols)
{
	if (f->x > 0 && f->x + 2 + cols > f->w) {
		f->y++;
		f->x = 0;
	} else if (f->x > 0) {
		f->x += 2;
	}
	return f->y <= f->last_y;
}

static void field(struct flow *f, const char *text, int attr)
{
	if (!flow_place(f, tc_top_text_cols(text, f->v->utf8)))
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

/* "LABEL VALUE" as a field, or a minor one (MINOR). */
static void labeled(struct flow *f, const char *label, const char *value, bool minor)
{
	char b[256];

	snprintf(b, sizeof b, "%s %s", label, value);
	if (minor)
		minor_field(f, b);
	else
		field(f, b, 0);
}

/* A field that takes what is left of the line (at least MIN columns), cut at the end. */
static void field_rest(struct flow *f, const char *text, int min)
{
	if (!flow_place(f, min))
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

static int draw_header(struct tc_top_ui *v, const struct tc_top_frame *fr, int w, int h)
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
	field_rest(&f, tc_top_command_name(c->command), 12);
	group_break(&f, compact);

	struct tc_top_summary s;
	memset(&s, 0, sizeof s);
	if (fr && fr->valid)
		tc_top_snap_summary(fr->snap, &v->q, &s);
	tc_top_fmt_uptime((fr && fr->valid ? s.time : tc_session_now()) - v->start, n1, sizeof n1);
	labeled(&f, "up", n1, false);
	tc_top_fmt_count(s.samples, n1, sizeof n1);
	labeled(&f, "samples", n1, false);
	snprintf(b, sizeof b, "rate %.1f/%g Hz", s.rate, c->rate_hz);
	field(&f, b, 0);
	tc_top_fmt_count(s.failed, n1, sizeof n1);
	snprintf(b, sizeof b, "failed %s (%.1f%%)", n1,
		 s.samples ? 100.0 * (double)s.failed / (double)s.samples : 0.0);
	field(&f, b, 0);
	tc_top_fmt_count(s.missed, n1, sizeof n1);
	labeled(&f, "missed", n1, true);
	snprintf(b, sizeof b, "refresh %gs", v->interval);
	field(&f, b, 0);
	group_break(&f, compact);

	tc_top_fmt_share(s.gil, n1, sizeof n1);
	labeled(&f, "GIL", n1, false);
	/* on a CPU: from the threads' CPU time; from the samples' run states in cpu mode */
	double cpu = fr && fr->valid ? cpu_share(v, fr) : -1;
	if (cpu < 0)
		cpu = s.cpu;
	tc_top_fmt_share(cpu, n1, sizeof n1);
	labeled(&f, "CPU", n1, false);
	tc_top_fmt_share(cpu < 0 ? -1 : 1 - cpu, n1, sizeof n1);
	labeled(&f, "idle", n1, false);
	tc_top_fmt_share(fr ? fr->mem.gc_running : -1, n1, sizeof n1);
	labeled(&f, "GC", n1, false);
	snprintf(b, sizeof b, "threads %zu/%zu%s", s.threads_seen, s.threads_total,
		 c->main_only ? " (main only)" : "");
	field(&f, b, 0);
	labeled(&f, "mode", c->mode, true);
	group_break(&f, compact);

	const struct tc_top_memory *m = fr ? &fr->mem : &v->mem;
	char spark[TC_TOP_HIST * 4 + 1] = "";
	if (fr && fr->nhist > 1)
		tc_top_sparkline(fr->hist, fr->nhist, v->utf8, spark, sizeof spark);
	tc_top_fmt_bytes(m->rss, n1, sizeof n1);
	snprintf(b, sizeof b, "RSS %s%s%s", n1, spark[0] ? " " : "", spark);
	field(&f, b, 0);
	tc_top_fmt_bytes(m->rss_anon, n1, sizeof n1);
	labeled(&f, "anon", n1, true);
	tc_top_fmt_bytes(m->pymalloc_bytes, n1, sizeof n1);
	labeled(&f, "pymalloc", n1, false);
	tc_top_fmt_int(m->arenas, n2, sizeof n2);
	labeled(&f, "arenas", n2, true);
	tc_top_fmt_rate(m->gc_per_sec, n2, sizeof n2);
	labeled(&f, "GC/s", n2, true);
	group_break(&f, compact);
	flow_break(&f);
	return f.y > f.last_y + 1 ? f.last_y + 1 : f.y;
}

/* ---- status line, banner, table ---- */

static void thread_label(const struct tc_top_ui *v, char *out, size_t sz)
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

static void draw_status(struct tc_top_ui *v, int y, int w)
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

static void draw_table(struct tc_top_ui *v, int y, int w, int h)
{
	const struct tc_top_row *rows = NULL;
	size_t n = 0;
	if (v->shown->valid)
		n = tc_top_snap_rows(v->shown->snap, &v->q, &rows);
	int longest = 0;
	for (size_t i = 0; i < n && (int)i < h - y; i++) {
		int l = tc_top_text_cols(rows[i].qualname, v->utf8);
		longest = l > longest ? l : longest;
	}
	struct tc_top_columns c = tc_top_layout(w, longest);

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
			tc_top_fmt_secs(r->own_time, b, sizeof b);
			put_right(y, x, 9, b);
			x += 10;
		}
		if (c.total_time) {
			tc_top_fmt_secs(r->total_time, b, sizeof b);
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

static void draw_help(struct tc_top_ui *v, int w, int h)
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

void tc_top_draw(struct tc_top_ui *v)
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
