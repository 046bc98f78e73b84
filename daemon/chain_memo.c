/* SPDX-License-Identifier: MIT */
/* The chain memo. See chain_memo.h.
 *
 * Chains live in a fixed array with an open-addressing index over it, rebuilt when idle
 * chains are swept out (every TC_CM_IDLE_WALKS walks), like the frame cache's threads. */
#include "daemon/chain_memo.h"

#include <stdlib.h>
#include <string.h>

#define INDEX_CAP (2 * TC_CM_MAX_THREADS) /* power of two */

struct tc_chain_memo {
	struct tc_cm_chain *c;     /* TC_CM_MAX_THREADS entries, tstate 0 = free */
	size_t nc;
	int32_t *index;            /* INDEX_CAP slots: entry + 1, 0 empty */
	size_t frames;             /* room held over all chains */
	uint64_t walk, last_sweep;
	struct tc_cm_stats st;
};

struct tc_chain_memo *tc_chain_memo_new(void)
{
	struct tc_chain_memo *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->c = calloc(TC_CM_MAX_THREADS, sizeof *m->c);
	m->index = calloc(INDEX_CAP, sizeof *m->index);
	if (!m->c || !m->index) {
		tc_chain_memo_free(m);
		return NULL;
	}
	return m;
}

static void release(struct tc_chain_memo *m, struct tc_cm_chain *c)
{
	m->frames -= c->cap;
	free(c->f);
	memset(c, 0, sizeof *c);
}

void tc_chain_memo_free(struct tc_chain_memo *m)
{
	if (!m)
		return;
	if (m->c)
		for (size_t i = 0; i < TC_CM_MAX_THREADS; i++)
			if (m->c[i].tstate)
				release(m, &m->c[i]);
	free(m->c);
	free(m->index);
	free(m);
}

static size_t slot_of(tc_raddr tstate)
{
	return (size_t)((tstate * 0x9E3779B97F4A7C15ull) >> 40) & (INDEX_CAP - 1);
}

static void index_insert(struct tc_chain_memo *m, size_t e)
{
	size_t i = slot_of(m->c[e].tstate);
	while (m->index[i])
		i = (i + 1) & (INDEX_CAP - 1);
	m->index[i] = (int32_t)e + 1;
}

/* Drop chains idle for IDLE walks or more (all of them with 0), rebuild the index. */
static void sweep(struct tc_chain_memo *m, uint64_t idle)
{
	memset(m->index, 0, INDEX_CAP * sizeof *m->index);
	for (size_t i = 0; i < TC_CM_MAX_THREADS; i++) {
		struct tc_cm_chain *c = &m->c[i];
		if (!c->tstate)
			continue;
		if (m->walk - c->last_walk >= idle) {
			release(m, c);
			m->nc--;
			m->st.evicted++;
			continue;
		}
		index_insert(m, i);
	}
	m->last_sweep = m->walk;
}

void tc_chain_memo_begin(struct tc_chain_memo *m)
{
	m->walk++;
	if (m->walk - m->last_sweep >= TC_CM_IDLE_WALKS)
		sweep(m, TC_CM_IDLE_WALKS);
}

void tc_chain_memo_clear(struct tc_chain_memo *m)
{
	sweep(m, 0);
}

struct tc_cm_chain *tc_chain_memo_thread(struct tc_chain_memo *m, tc_raddr tstate)
{
	if (!tstate)
		return NULL;
	size_t i = slot_of(tstate);
	for (; m->index[i]; i = (i + 1) & (INDEX_CAP - 1)) {
		struct tc_cm_chain *c = &m->c[m->index[i] - 1];
		if (c->tstate == tstate) {
			c->last_walk = m->walk;
			return c;
		}
	}
	if (m->nc >= TC_CM_MAX_THREADS)
		return NULL;
	size_t e = 0;
	while (m->c[e].tstate)
		e++;
	struct tc_cm_chain *c = &m->c[e];
	c->tstate = tstate;
	c->last_walk = m->walk;
	m->nc++;
	m->index[i] = (int32_t)e + 1; /* i: the empty slot the probe ended on */
	return c;
}

int tc_chain_memo_reserve(struct tc_chain_memo *m, struct tc_cm_chain *c, size_t n)
{
	if (n <= c->cap)
		return 0;
	size_t cap = c->cap ? c->cap : 64;
	while (cap < n)
		cap *= 2;
	if (m->frames - c->cap + cap > TC_CM_MAX_FRAMES)
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
	out->threads = m->nc;
	out->frames = m->frames;
}
