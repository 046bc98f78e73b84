/* SPDX-License-Identifier: MIT */
/* The chain memo. See chain_memo.h.
 *
 * Chains are slots of a base/slots table keyed by the thread state's address (a fixed array
 * with an open-addressing index over it, rebuilt when idle chains are swept out every
 * TC_CM_IDLE_WALKS walks), like the frame cache's threads. This file keeps what a chain
 * holds and the bound on frames over all chains. */
#include "daemon/chain_memo.h"

#include <stdlib.h>
#include <string.h>

#include "base/slots.h"
#include "base/vec.h"

struct tc_chain_memo {
	struct tc_slots chains;    /* payload: struct tc_cm_chain, keyed (tstate, 0) */
	size_t frames;             /* room held over all chains */
	struct tc_cm_stats st;
};

/* A chain's slot is released (idle, cleared, or the memo is freed). */
static void release(void *ctx, void *payload)
{
	struct tc_chain_memo *m = ctx;
	struct tc_cm_chain *c = payload;
	m->frames -= c->cap;
	free(c->f);
}

struct tc_chain_memo *tc_chain_memo_new(void)
{
	struct tc_chain_memo *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	if (tc_slots_init(&m->chains, TC_CM_MAX_THREADS, sizeof(struct tc_cm_chain),
			  TC_CM_IDLE_WALKS, release, m) != 0) {
		free(m);
		return NULL;
	}
	return m;
}

void tc_chain_memo_free(struct tc_chain_memo *m)
{
	if (!m)
		return;
	tc_slots_free(&m->chains);
	free(m);
}

void tc_chain_memo_begin(struct tc_chain_memo *m)
{
	tc_slots_begin(&m->chains, m->chains.tick + 1);
}

void tc_chain_memo_clear(struct tc_chain_memo *m)
{
	tc_slots_sweep(&m->chains, 0);
}

struct tc_cm_chain *tc_chain_memo_thread(struct tc_chain_memo *m, tc_raddr tstate)
{
	if (!tstate)
		return NULL;
	struct tc_cm_chain *c = tc_slots_get(&m->chains, tstate, 0);
	if (c) {
		c->tstate = tstate;
		c->last_walk = m->chains.tick;
	}
	return c;
}

int tc_chain_memo_reserve(struct tc_chain_memo *m, struct tc_cm_chain *c, size_t n)
{
	if (n <= c->cap)
		return 0;
	size_t cap;
	if (tc_vec_next_cap(c->cap, n, 64, sizeof *c->f, &cap) != 0 ||
	    m->frames - c->cap + cap > TC_CM_MAX_FRAMES)
		goto none;
	struct tc_cm_frame *f = realloc(c->f, cap * sizeof *f);
	if (!f)
		goto none;
	m->frames += cap - c->cap;
	c->f = f;
	c->cap = (uint32_t)cap;
	return 0;
none:
	m->frames -= c->cap;
	free(c->f);
	c->f = NULL;
	c->n = c->cap = 0;
	return -1;
}

void tc_chain_memo_set_len(struct tc_cm_chain *c, size_t n)
{
	c->n = (uint32_t)(n <= c->cap ? n : c->cap);
}

void tc_chain_memo_count(struct tc_chain_memo *m, uint64_t taken, uint64_t chased)
{
	m->st.taken += taken;
	m->st.chased += chased;
}

void tc_chain_memo_get_stats(const struct tc_chain_memo *m, struct tc_cm_stats *out)
{
	*out = m->st;
	out->evicted = m->chains.st.evictions;
	out->threads = m->chains.n;
	out->frames = m->frames;
}
