/* SPDX-License-Identifier: MIT */
/* What daemon/alloc.c (locating) and daemon/alloc_read.c (reading, JSON) share: the
 * struct tc_alloc behind the opaque handle of daemon/alloc.h. Not for other modules. */
#ifndef TC_ALLOC_INTERNAL_H
#define TC_ALLOC_INTERNAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "daemon/alloc.h"

/* Addresses of the allocator's variables (0: unknown). */
struct om_vars {
	tc_raddr arenas, maxarenas, raw, current, ntimes, highwater;
};

struct tc_alloc {
	pid_t pid;
	struct tc_alloc_layout l;
	char version[24];
	bool debug, free_threaded;
	bool have_om;
	struct om_vars v;
	const char *why_om;             /* when !have_om */
	const char *why_counters;       /* lifetime counters unknown */
	char how_om[160];
	bool have_gc;
	tc_raddr gc;
	const char *why_gc;
	char how_gc[160];
	int statm_fd;                   /* /proc/PID/statm, -1 */
	long page_size;
};

#endif
