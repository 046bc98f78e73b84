/* SPDX-License-Identifier: MIT */
/* The chain memo: per thread, the frame chain the last walk followed (each frame's address
 * and the fields the walker used), so that the next walk need not chase the unchanged bottom
 * of a deep stack pointer by pointer.
 *
 * Chasing a chain is one dependent load after another (the next address is in the bytes just
 * read); on a 900-frame stack that, not the copying, was most of the walker's time. With the
 * memo the walker first checks the remembered frames from the bottom up against this walk's
 * batch: their addresses are known, so the loads are independent and cheap. It then chases
 * from the top as usual, and when it reaches the topmost frame that checked out unchanged, it
 * takes the rest of the chain from the memo.
 *
 * Sound for the same reason as the frame cache (see frame_cache.h): nothing is assumed about
 * the target. Every frame taken from the memo was read in this walk and its fields are equal
 * to what the memo holds; the chase reached it, so it is live; its `previous` field is equal,
 * so it points where it pointed, to the next remembered frame, whose fields are equal too,
 * and so on down. A full chase over the same bytes would visit the same frames and produce
 * the same output. Only the bytes the walker actually uses are compared, and only bytes of
 * this walk's batch (a frame outside it ends the check; the chase reads it).
 *
 * Bounded: TC_CM_MAX_THREADS threads, TC_CM_MAX_FRAMES frames in all; a thread not walked for
 * TC_CM_IDLE_WALKS walks is dropped; a chain that does not fit is not remembered. */
#ifndef TC_CHAIN_MEMO_H
#define TC_CHAIN_MEMO_H

#include <stddef.h>
#include <stdint.h>

#include "reader/remote.h"

#define TC_CM_MAX_THREADS 4096
#define TC_CM_MAX_FRAMES (1u << 18)
#define TC_CM_IDLE_WALKS 1024

/* One frame of a chain as the walker read it (40 bytes: the check reads every entry). What
 * it reported follows from these fields and the layout. */
struct tc_cm_frame {
	tc_raddr addr;               /* where the frame is */
	uint64_t prev, code, instr;  /* the fields the walker used, as read */
	uint32_t tlbc;               /* tlbc_index as read (0 where the version has none) */
	uint8_t owner;
	uint8_t pushed;              /* the walk reported this frame (not a shim, not incomplete) */
	uint16_t pad;
};

/* A thread's chain, bottom (outermost) frame first, so a bottom part that stays keeps its
 * indexes and new top frames are appended. */
struct tc_cm_chain {
	tc_raddr tstate;
	uint64_t last_walk;
	struct tc_cm_frame *f;
	uint32_t n, cap;
};

struct tc_cm_stats {
	uint64_t taken;   /* frames taken from the memo */
	uint64_t chased;  /* frames chased pointer by pointer */
	uint64_t evicted; /* chains dropped (idle, no room, cleared) */
	size_t threads, frames; /* held now */
};

struct tc_chain_memo;

struct tc_chain_memo *tc_chain_memo_new(void);      /* NULL on allocation failure */
void tc_chain_memo_free(struct tc_chain_memo *m);   /* accepts NULL */

/* Start a walk: chains idle for too long are dropped. */
void tc_chain_memo_begin(struct tc_chain_memo *m);

/* The chain of the thread whose state is at TSTATE, created empty on first sight; NULL when
 * the table is full. */
struct tc_cm_chain *tc_chain_memo_thread(struct tc_chain_memo *m, tc_raddr tstate);

/* Room for N frames in C (keeping what it holds); 0, or -1 when the memo's frame bound or
 * memory does not allow it (then C is emptied and the chain goes unremembered). */
int tc_chain_memo_reserve(struct tc_chain_memo *m, struct tc_cm_chain *c, size_t n);

/* Set C's length to N, at most its reserved room (the memo bounds room, not length). */
void tc_chain_memo_set_len(struct tc_cm_chain *c, size_t n);

/* Forget every chain (code objects were freed: what a frame produced may have changed). */
void tc_chain_memo_clear(struct tc_chain_memo *m);

void tc_chain_memo_count(struct tc_chain_memo *m, uint64_t taken, uint64_t chased);
void tc_chain_memo_get_stats(const struct tc_chain_memo *m, struct tc_cm_stats *out);

#endif
