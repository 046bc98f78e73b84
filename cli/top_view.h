/* SPDX-License-Identifier: MIT */
/* The terminal side of `tachyon-c top`: ncurses drawing and keys (cli/top_view.c). It reads
 * the model only through snapshots taken under the shared mutex, so drawing never holds up
 * the sampling thread. */
#ifndef TC_TOP_VIEW_H
#define TC_TOP_VIEW_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "cli/top_model.h"
#include "daemon/alloc_monitor.h"

/* State shared by the sampling thread and the UI thread; every field under LOCK. */
struct tc_top_shared {
	pthread_mutex_t lock;
	struct tc_top_model *model; /* borrowed */
	bool done;                  /* the sampler returned */
	int err;                    /* its result (0 or -TC_E*) */
	bool exited;                /* because the target exited */
	double duration;            /* seconds it sampled */
};

struct tc_top_view_cfg {
	pid_t pid;
	const char *command;        /* target command line, may be empty */
	const char *version;        /* "3.12.1" */
	const char *mode;           /* "wall", "cpu", "gil" */
	double rate_hz;             /* requested */
	double interval;            /* initial refresh interval, seconds */
	bool main_only;
	volatile sig_atomic_t *stop; /* set by SIGINT/SIGTERM/SIGHUP; also set by 'q' */
	struct tc_alloc_monitor *alloc; /* readings for the memory line (started), or NULL */
};

enum tc_top_end {
	TC_TOP_QUIT = 0,      /* 'q' */
	TC_TOP_INTERRUPTED,   /* *stop became non-zero */
	TC_TOP_FAILED,        /* the sampler failed: SH->err says why */
	TC_TOP_NOTERM         /* the terminal could not be set up */
};

/* Run the live view on this process's terminal until 'q', a signal, or a sampler failure.
 * The terminal is restored before returning, whatever the reason. */
enum tc_top_end tc_top_view_run(struct tc_top_shared *sh, const struct tc_top_view_cfg *cfg);

#endif
