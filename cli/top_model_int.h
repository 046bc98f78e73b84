/* SPDX-License-Identifier: MIT */
/* The insides of the top model that cli/top_model.c (counting, copying into snapshots) and
 * cli/top_query.c (rows, summaries and threads of a snapshot) share. Not for other files:
 * everyone else goes through cli/top_model.h. */
#ifndef TC_TOP_MODEL_INT_H
#define TC_TOP_MODEL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hindex.h"
#include "base/intmap.h"
#include "cli/top_model.h"

#define OTHER_SLOT TC_TOP_MAX_THREADS
#define NSLOTS (TC_TOP_MAX_THREADS + 1)

enum { KIND_FUNC = 0, KIND_LINE = 1 };

struct line_ent {
	const char *file, *qualname;
	int32_t line, first_line;
	int32_t func;
};

struct func_ent {
	const char *file, *qualname;
	int32_t first_line;
};

struct cell {
	uint64_t key; /* slot << 33 | kind << 32 | entry */
	uint32_t win_own, win_total;
	double own_time, total_time;
};

struct slot {
	uint64_t native_id, thread_id;
	bool main, win_seen;
	uint32_t win_samples, win_gil_known, win_gil, win_cpu_known, win_cpu;
	double time;
};

struct tc_top_model {
	size_t max_lines, max_cells;
	double interval;

	int32_t *ext; /* frame id -> line entry, -1 not resolved yet */
	size_t next;

	struct line_ent *lines;
	uint32_t *line_stamp;
	size_t nlines, cap_lines, cap_lstamp;
	struct tc_hindex line_ix; /* by (file, qualname, line) */

	struct func_ent *funcs;
	uint32_t *func_stamp;
	size_t nfuncs, cap_funcs, cap_fstamp;
	struct tc_hindex func_ix; /* by (file, qualname) */

	struct cell *cells;
	size_t ncells, cap_cells;
	size_t nreserved; /* "[other]" counters of threads, outside the bound */
	struct tc_intmap cell_ix; /* key -> position in cells[] */

	struct slot slots[NSLOTS];
	size_t nslots;     /* slots in use, the overflow slot not counted */
	bool other_used;   /* the overflow slot received a thread */

	uint32_t serial;   /* stamp of the stack being counted */

	/* the current instant */
	double dt;
	double prev_time;
	bool have_prev, inst_gil_known, inst_gil;
	size_t nthreads_total;

	/* the window */
	double win_start;  /* < 0: set by the first instant */
	uint64_t win_instants, win_failed, win_gil_known, win_gil;

	double reset_start; /* < 0: set by the first instant */
	uint64_t samples, failed, missed;
	uint64_t base_samples, base_failed, base_missed;
};

struct acc {
	uint64_t own, total;
	double own_time, total_time;
	bool present;
};

struct tc_top_snap {
	struct line_ent *lines;
	size_t nlines, cap_lines;
	struct func_ent *funcs;
	size_t nfuncs, cap_funcs;
	struct cell *cells;
	size_t ncells, cap_cells;
	struct slot slots[NSLOTS];
	struct tc_top_thread_info threads[NSLOTS];
	size_t nthreads;       /* entries of threads[] */
	int slot_of[NSLOTS];   /* threads[i] is slots[slot_of[i]] */

	double time, window, since_reset;
	uint64_t samples, failed, missed;
	uint64_t win_instants, win_failed, win_gil_known, win_gil;
	size_t nthreads_total;

	struct acc *acc;
	size_t cap_acc;
	struct tc_top_row *rows;
	size_t cap_rows;
};

#endif
