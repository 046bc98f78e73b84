/* SPDX-License-Identifier: MIT */
/* `tachyon-c top`: the UI thread's loop (tc_top_view_run), keys, and the state changes they
 * cause (snapshots, pause, reset, thread choice, refresh interval); the screen itself is
 * drawn by cli/top_view.c.
 *
 * The model is touched only under the shared mutex, briefly, to copy it into a snapshot
 * (which also closes the refresh window) or to reset it; sorting, filtering and drawing work
 * on the snapshot with no lock held. While paused, new snapshots keep being taken on schedule
 * (so windows stay one refresh long) but the screen keeps showing the frozen one. */
#include <curses.h>
#include <langinfo.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli/session.h"
#include "cli/top_ui.h"
#include "cli/top_view.h"
#include "reader/proc.h"
#include "tc/common.h"

#define POLL_MS 100       /* longest wait for a key: how fast signals and exits are seen */

static const double steps[] = {0.25, 0.5, 1, 2, 3, 5, 10};
#define NSTEPS (sizeof steps / sizeof steps[0])

/* ---- state changes ---- */

/* Read the CPU time of every thread of S (reader/proc.h); each gets the share of the time
 * since its previous reading that it spent on a CPU. One small /proc read per thread per
 * refresh, instead of one per thread per sample. */
static void poll_cpu(struct tc_top_ui *v, const struct tc_top_snap *s, double now)
{
	struct tc_top_thread_cpu next[TC_TOP_MAX_THREADS + 1];
	size_t n = 0;
	for (size_t i = 0; i < tc_top_snap_nthreads(s) && n < TC_TOP_MAX_THREADS + 1; i++) {
		const struct tc_top_thread_info *t = tc_top_snap_thread(s, i);
		double cpu;
		if (t->native_id == 0 || t->native_id > INT32_MAX ||
		    tc_proc_thread_cpu_time(v->cfg->pid, (pid_t)t->native_id, &cpu) != 0)
			continue;
		struct tc_top_thread_cpu c = {t->native_id, cpu, now, -1};
		for (size_t j = 0; j < v->ncpu; j++) {
			const struct tc_top_thread_cpu *p = &v->cpu[j];
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
static int take(struct tc_top_ui *v, double now, bool poll_memory)
{
	struct tc_top_frame *f = v->live;
	pthread_mutex_lock(&v->sh->lock);
	int err = tc_top_model_snap(v->sh->model, now, f->snap);
	pthread_mutex_unlock(&v->sh->lock);
	if (poll_memory) {
		struct tc_top_memory m;
		if (v->cfg->alloc && tc_alloc_monitor_latest(v->cfg->alloc, &v->reading)) {
			tc_top_memory_from_reading(&v->memst, &v->reading, &m);
			v->mem = m;
			if (m.rss >= 0) {
				if (v->nhist == TC_TOP_HIST) {
					memmove(v->hist, v->hist + 1, (TC_TOP_HIST - 1) * sizeof *v->hist);
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

static void step_interval(struct tc_top_ui *v, int dir)
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
	double now = tc_session_now();
	if (v->next > now + v->interval)
		v->next = now + v->interval;
	if (v->cfg->alloc)
		tc_alloc_monitor_set_interval(v->cfg->alloc, v->interval);
}

/* Select the thread DIR places from the current one: "all", then the main thread, then the
 * others in order of first appearance, round and round. */
static void cycle_thread(struct tc_top_ui *v, int dir)
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

static void reset(struct tc_top_ui *v)
{
	pthread_mutex_lock(&v->sh->lock);
	tc_top_model_reset(v->sh->model);
	pthread_mutex_unlock(&v->sh->lock);
	/* show the empty state at once, paused or not */
	bool paused = v->paused;
	v->paused = false;
	double now = tc_session_now();
	take(v, now, false);
	v->paused = paused;
	v->next = now + v->interval;
}

/* Handle key CH. Returns false when it asks to quit. */
static bool key(struct tc_top_ui *v, int ch)
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
			struct tc_top_frame *f = v->live;
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
	struct tc_top_ui v;
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
	v.start = tc_session_now();
	/* the first view comes quickly; then one per interval */
	v.next = v.start + (v.interval < 0.5 ? v.interval : 0.5);
	bool dirty = true;
	for (;;) {
		if (*cfg->stop) {
			end = TC_TOP_INTERRUPTED;
			break;
		}
		double now = tc_session_now();
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
			tc_top_draw(&v);
			dirty = false;
		}
		int wait = POLL_MS;
		if (!v.ended) {
			double left = (v.next - tc_session_now()) * 1000;
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
