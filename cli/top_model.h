/* SPDX-License-Identifier: MIT */
/* The numbers behind `tachyon-c top`, kept apart from ncurses so they can be unit tested.
 *
 * The sampling thread feeds the model one instant at a time (tc_top_model_instant, then
 * tc_top_model_add per thread); the UI thread copies it into a snapshot (tc_top_model_snap),
 * which also closes the refresh window, and then queries the snapshot without any lock (rows
 * per function or per line, one thread or all, filtered, sorted). The model itself takes no
 * lock: the caller serializes the calls on one model (cmd_top.c holds a mutex around them).
 *
 * Counting: per thread and per entry (a function: file + qualname; or a line: file + qualname
 * + line), "own" counts stacks whose innermost frame is the entry, "total" counts stacks that
 * contain it anywhere, once per stack however deep the recursion. Window counts (the %
 * columns) cover the last refresh window; cumulative times (seconds, each instant weighted by
 * the time since the previous one) cover everything since the start or the last reset.
 *
 * Bounded memory: at most MAX_ENTRIES distinct lines (functions are fewer), MAX_ENTRIES * 4
 * (thread, entry) counters and TC_TOP_MAX_THREADS threads. Past a bound, new lines fold into
 * one "[other]" entry (TC_TOP_OTHER_QUALNAME), new counters into that thread's "[other]"
 * counter, and new threads into one "other threads" slot (native_id and thread_id 0), so
 * totals stay right and only the detail is lost. A reset frees the room again.
 *
 * Strings (file, qualname) are borrowed from whoever resolves frame ids (the profile, which
 * outlives the model and its snapshots): nothing here copies or frees them. */
#ifndef TC_TOP_MODEL_H
#define TC_TOP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TC_TOP_MAX_THREADS 64        /* distinct thread slots; then "other threads" */
#define TC_TOP_DEFAULT_ENTRIES 20000 /* distinct lines kept by default */
#define TC_TOP_OTHER_QUALNAME "[other: too many entries]"

/* What a frame id stands for. LINE and FIRST_LINE are -1 when unknown. */
struct tc_top_frame_desc {
	const char *file;
	const char *qualname;
	int32_t line;
	int32_t first_line;
};

/* Resolve frame ID (>= 0) into *OUT. Returns 0, or non-zero when ID is unknown (the frame
 * then counts as "[other]"). Called only from tc_top_model_add, for ids not seen since the
 * last reset. */
typedef int (*tc_top_lookup_fn)(void *ctx, int32_t id, struct tc_top_frame_desc *out);

/* One thread of one instant. FRAMES (borrowed) are frame ids, innermost first. */
struct tc_top_thread_sample {
	uint64_t native_id;
	uint64_t thread_id;
	bool main;
	int8_t holds_gil; /* 1 / 0, -1 unknown */
	int8_t on_cpu;    /* 1 / 0, -1 unknown */
	const int32_t *frames;
	size_t n;
};

struct tc_top_model;

/* A new empty model keeping at most MAX_ENTRIES distinct lines (0: the default).
 * INTERVAL is the nominal sampling interval in seconds, the weight of the first instant.
 * Returns NULL on allocation failure. Caller frees. */
struct tc_top_model *tc_top_model_new(size_t max_entries, double interval);
void tc_top_model_free(struct tc_top_model *m); /* accepts NULL */

/* Start a sampling instant taken at TIME (monotonic seconds). FAILED: the walk failed, no
 * thread follows. NTHREADS_TOTAL: threads the walk saw (before --threads filtering). */
void tc_top_model_instant(struct tc_top_model *m, double time, bool failed,
			  size_t nthreads_total);

/* Count one thread's stack in the current instant. Returns 0, or -TC_ENOMEM (the sample is
 * partly counted; the model stays consistent). */
int tc_top_model_add(struct tc_top_model *m, const struct tc_top_thread_sample *t,
		     tc_top_lookup_fn lookup, void *ctx);

/* The sampler's own counters (instants attempted, failed, deadlines missed), as totals since
 * the start; the model shows them relative to the last reset. */
void tc_top_model_counts(struct tc_top_model *m, uint64_t samples, uint64_t failed,
			 uint64_t missed);

/* Forget every count, thread and entry (the 'r' key); the sampler counters restart at 0. */
void tc_top_model_reset(struct tc_top_model *m);

/* ---- snapshots: what the UI draws from ---- */

struct tc_top_snap;

struct tc_top_snap *tc_top_snap_new(void); /* NULL on allocation failure; caller frees */
void tc_top_snap_free(struct tc_top_snap *s); /* accepts NULL */

/* Copy M into S (replacing what S held) and close the refresh window at NOW (monotonic
 * seconds): the window counts of M restart at zero. Returns 0 or -TC_ENOMEM (S is then
 * empty and M untouched). */
int tc_top_model_snap(struct tc_top_model *m, double now, struct tc_top_snap *s);

enum tc_top_sort {
	TC_TOP_SORT_OWN = 0, /* %Own over the window */
	TC_TOP_SORT_TOTAL,   /* %Total over the window */
	TC_TOP_SORT_OWN_TIME,
	TC_TOP_SORT_TOTAL_TIME,
	TC_TOP_NSORT
};

struct tc_top_query {
	bool by_line;            /* rows per line instead of per function */
	bool one_thread;         /* only the thread (native_id, thread_id) below */
	uint64_t native_id, thread_id;
	const char *filter;      /* case-insensitive substring of qualname or file; NULL: all */
	enum tc_top_sort sort;   /* descending */
};

struct tc_top_row {
	const char *file;
	const char *qualname;
	int32_t line;            /* the line (per line) or the def line (per function); -1 */
	uint64_t own, total;     /* samples in the window */
	double own_pct, total_pct; /* of the window's thread samples in the view, 0..100 */
	double own_time, total_time; /* cumulative seconds */
};

/* Rows of S for Q, sorted; every entry with any cumulative time in the selected threads.
 * *ROWS is borrowed from S until the next query or snap. Returns the row count, or 0 with
 * *ROWS NULL on allocation failure. */
size_t tc_top_snap_rows(struct tc_top_snap *s, const struct tc_top_query *q,
			const struct tc_top_row **rows);

/* Figures of the header, for the threads Q selects (its filter and sort do not matter). */
struct tc_top_summary {
	double time;             /* when the snapshot was taken (monotonic s) */
	double window;           /* seconds the window covered */
	uint64_t samples, failed, missed; /* since start or reset */
	uint64_t win_instants, win_failed;
	double rate;             /* instants per second over the window, 0 when unknown */
	uint64_t win_thread_samples; /* thread stacks in the window, selected threads */
	double gil, cpu, idle;   /* shares 0..1 over the window; -1 when unknown */
	size_t threads_seen;     /* selected threads recorded during the window */
	size_t threads_total;    /* threads the last walk saw */
	double since_reset;      /* seconds since start or reset */
};
void tc_top_snap_summary(const struct tc_top_snap *s, const struct tc_top_query *q,
			 struct tc_top_summary *out);

/* Threads of S, in order of first appearance. */
struct tc_top_thread_info {
	uint64_t native_id, thread_id; /* both 0: the "other threads" slot */
	bool main;
	bool seen;               /* recorded during the window */
	double time;             /* cumulative seconds recorded */
};
size_t tc_top_snap_nthreads(const struct tc_top_snap *s);
const struct tc_top_thread_info *tc_top_snap_thread(const struct tc_top_snap *s, size_t i);

/* ---- memory line ---- */

/* The memory figures of the header. A value < 0 is unknown ("n/a"). */
struct tc_top_memory {
	int64_t rss;             /* resident bytes */
	int64_t rss_anon;        /* resident anonymous bytes (resident - shared) */
	int64_t pymalloc_bytes;  /* pymalloc bytes in use */
	int64_t arenas;          /* pymalloc arenas allocated now */
	double gc_per_sec;       /* GC collections per second since the previous poll */
	double gc_running;       /* share of time the GC was running, 0..1 */
};

/* What the memory line remembers from one allocator reading to the next. */
struct tc_top_memstate {
	uint64_t seq;             /* the reading last turned into LAST, 0 none */
	int64_t last_collections; /* summed over generations at that reading, -1 none */
	double last_time;
	struct tc_top_memory last;
};

struct tc_alloc_reading;

void tc_top_memstate_init(struct tc_top_memstate *st);

/* The memory figures of the header from allocator reading R (daemon/alloc_monitor.h, taken
 * with a full walk): RSS and anonymous RSS, pymalloc bytes in use, arenas, GC collections
 * per second since the previous reading passed here, and the share of the reading's ticks
 * that found a collection running. The same reading again gives the same figures. This is
 * the one place the memory line of `top` comes from; nothing is read here. */
void tc_top_memory_from_reading(struct tc_top_memstate *st, const struct tc_alloc_reading *r,
				struct tc_top_memory *out);

#endif
