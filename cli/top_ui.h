/* SPDX-License-Identifier: MIT */
/* The state of the `top` screen, shared by its drawing (cli/top_view.c) and its keys, state
 * changes and loop (cli/top_input.c). Private to those two files. */
#ifndef TC_TOP_UI_H
#define TC_TOP_UI_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/top_model.h"
#include "cli/top_view.h"
#include "daemon/alloc_monitor.h"

#define TC_TOP_HIST 24          /* refreshes of memory history in the sparkline */

/* Share of the last window a thread spent on a CPU, from its CPU time in /proc. */
struct tc_top_thread_cpu {
	uint64_t tid;
	double cpu, at;   /* the reading and when it was taken */
	double share;     /* -1 until two readings */
};

/* One displayable state: a snapshot and the figures polled with it. */
struct tc_top_frame {
	struct tc_top_snap *snap;
	struct tc_top_memory mem;
	int64_t hist[TC_TOP_HIST];
	int nhist;
	struct tc_top_thread_cpu cpu[TC_TOP_MAX_THREADS + 1];
	size_t ncpu;
	bool valid;
};

/* The screen: what it shows, what the keys chose, and what the next refresh needs. */
struct tc_top_ui {
	struct tc_top_shared *sh;
	const struct tc_top_view_cfg *cfg;
	bool utf8;
	double start, interval, next;
	struct tc_top_frame fa, fb;
	struct tc_top_frame *shown, *live;
	struct tc_top_memory mem; /* last good poll */
	struct tc_top_memstate memst;
	struct tc_alloc_reading reading; /* the latest taken from the allocator monitor */
	int64_t hist[TC_TOP_HIST];
	int nhist;
	struct tc_top_thread_cpu cpu[TC_TOP_MAX_THREADS + 1]; /* the threads of the last refresh */
	size_t ncpu;
	struct tc_top_query q;
	char filter[128], filter_saved[128];
	bool paused, help, thread_mode, filter_mode;
	bool live_fresh; /* LIVE was taken while paused and is newer than SHOWN */
	bool ended, exited;
	double duration;
};

/* Draw the whole screen from V->shown (cli/top_view.c). */
void tc_top_draw(struct tc_top_ui *v);

#endif
