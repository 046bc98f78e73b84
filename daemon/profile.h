/* SPDX-License-Identifier: MIT */
/* Aggregated samples: interned frames and stacks, per thread, with counts.
 *
 * The sampler interns each frame (file, qualname, line) to a small integer id and each stack
 * (sequence of frame ids) to a stack id, so that recording a sample that was seen before does
 * no allocation. Sinks (daemon/sinks/) read a profile through the accessors below. */
#ifndef TC_PROFILE_H
#define TC_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One distinct frame. Strings are owned by the profile and live as long as it does.
 * LINE and FIRST_LINE are -1 when unknown. Strings are interned: within one profile, equal
 * strings are the same pointer (sinks may compare pointers). */
struct tc_pframe {
	const char *file;
	const char *name;     /* co_name */
	const char *qualname; /* co_qualname, or co_name before 3.11 */
	int32_t line;
	int32_t first_line;
};

/* Descriptive metadata, copied into the profile (strings duplicated). */
struct tc_profile_meta {
	int pid;
	const char *python_version; /* "3.12.1", or NULL */
	const char *command;        /* target command line, or NULL */
	double rate_hz;             /* requested sampling rate */
	const char *mode;           /* "wall", "cpu", "gil" */
};

struct tc_profile;

/* Returns a new empty profile, or NULL on allocation failure. Caller frees. */
struct tc_profile *tc_profile_new(const struct tc_profile_meta *meta);
void tc_profile_free(struct tc_profile *p); /* accepts NULL */

/* Intern a frame. Strings are copied on first sight (NULL is stored as "<unknown>").
 * Returns the frame id (>= 0), or -TC_ENOMEM. Ids are dense: 0 .. nframes - 1 in order of
 * first sight. A frame seen before costs hashing and comparing, no allocation. */
int32_t tc_profile_frame(struct tc_profile *p, const char *file, const char *name,
			 const char *qualname, int32_t line, int32_t first_line);

/* Record WEIGHT samples of a stack on thread NATIVE_TID (0 when unknown; THREAD_ID is the
 * Python thread ident, used as a fallback label). FRAMES holds N frame ids, innermost first;
 * N may be 0 (a thread with no Python frames). Returns 0 or -TC_ENOMEM; -TC_EINVAL (and
 * nothing recorded) when an id did not come from tc_profile_frame on this profile.
 * A thread is keyed by (NATIVE_TID, THREAD_ID); a stack seen before allocates nothing. */
int tc_profile_add(struct tc_profile *p, uint64_t native_tid, uint64_t thread_id,
		   const int32_t *frames, size_t n, uint64_t weight);

/* Stacks form a tree: node 0 (TC_PROFILE_ROOT) is the empty stack, and node X = (parent,
 * frame) is FRAME called from the stack PARENT. tc_profile_node returns the node of FRAME on
 * top of PARENT (creating it on first sight: -TC_ENOMEM), or -TC_EINVAL for an unknown frame
 * or parent. tc_profile_add_node records WEIGHT samples of the stack NODE on a thread, like
 * tc_profile_add. A caller that keeps the node of each level of the last stack it recorded
 * interns only the frames that changed. */
#define TC_PROFILE_ROOT 0
int32_t tc_profile_node(struct tc_profile *p, int32_t parent, int32_t frame);
int tc_profile_add_node(struct tc_profile *p, uint64_t native_tid, uint64_t thread_id,
			int32_t node, uint64_t weight);
size_t tc_profile_node_depth(const struct tc_profile *p, int32_t node);

/* Bookkeeping the sampler fills in; sinks print it. */
/* The outermost frame of a stack recorded cut (its chain did not reach the thread's base,
 * or it was deeper than the walker follows): file and name of that marker frame. */
#define TC_TRUNCATED_NAME "<truncated>"
/* The leaf of a stack whose topmost frames returned before the second read confirmed them:
 * the frame under it was calling something that is not known (name, qualname and file). */
#define TC_UNCONFIRMED_NAME "<unconfirmed>"

struct tc_profile_stats {
	uint64_t samples;       /* sampling instants attempted */
	uint64_t failed;        /* instants where the walk failed after a retry */
	uint64_t missed;        /* deadlines skipped because the sampler fell behind */
	uint64_t truncated;     /* thread stacks recorded cut (marked with TC_TRUNCATED_NAME) */
	uint64_t torn;          /* thread stacks left out: read inconsistently after every retry */
	uint64_t unconfirmed;   /* thread stacks recorded up to TC_UNCONFIRMED_NAME */
	uint64_t unverified;    /* thread stacks recorded as walked although no second read
				   agreed (3.11+, data-stack frames only) */
	double start_time;      /* CLOCK_REALTIME seconds at start */
	double duration;        /* seconds actually spent sampling */
	bool target_exited;     /* the target went away during the recording */
	bool target_execed;     /* the target replaced its program (execve): sampling stopped */
};
/* Borrowed pointer into P (zeroed by tc_profile_new), valid as long as P. */
struct tc_profile_stats *tc_profile_stats(struct tc_profile *p);
const struct tc_profile_meta *tc_profile_get_meta(const struct tc_profile *p);

/* ---- read access for sinks ---- */
size_t tc_profile_nframes(const struct tc_profile *p);
/* Frame ID (borrowed), or NULL when ID is not in 0 .. nframes - 1. */
const struct tc_pframe *tc_profile_get_frame(const struct tc_profile *p, int32_t id);

size_t tc_profile_nthreads(const struct tc_profile *p);
/* Thread I (0 <= I < nthreads), in order of first appearance. */
uint64_t tc_profile_thread_native_id(const struct tc_profile *p, size_t i);
uint64_t tc_profile_thread_ident(const struct tc_profile *p, size_t i);
uint64_t tc_profile_thread_total(const struct tc_profile *p, size_t i); /* samples */

/* Stacks of thread I, in order of first appearance. For stack J: *FRAMES points at the
 * frame ids innermost first (borrowed: valid until the next call of this function on P),
 * *N their count, and the return value is the stack's sample count. */
size_t tc_profile_thread_nstacks(const struct tc_profile *p, size_t i);
uint64_t tc_profile_thread_stack(const struct tc_profile *p, size_t i, size_t j,
				 const int32_t **frames, size_t *n);

/* Total samples recorded over all threads. */
uint64_t tc_profile_total(const struct tc_profile *p);

#endif
