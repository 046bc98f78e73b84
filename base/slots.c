/* SPDX-License-Identifier: MIT */
/* The bounded per-thread slot table. See slots.h. */
#include "base/slots.h"

#include <stdlib.h>
#include <string.h>

#include "tc/common.h"

int tc_slots_init(struct tc_slots *s, size_t cap, size_t elem, uint64_t idle,
		  tc_slots_release_fn release, void *ctx)
{
	memset(s, 0, sizeof *s);
	if (!cap || !elem || cap > ((size_t)1 << 30))
		return -TC_EINVAL;
	s->bits = 1;
	while (((size_t)1 << s->bits) < 2 * cap)
		s->bits++;
	/* a multiple of 16 (the head is 32 bytes): every head and payload aligned like calloc's */
	s->stride = sizeof(struct tc_slot_meta) + ((elem + 15) & ~(size_t)15);
	s->data = calloc(cap, s->stride);
	s->index = calloc((size_t)1 << s->bits, sizeof *s->index);
	if (!s->data || !s->index) {
		tc_slots_free(s);
		return -TC_ENOMEM;
	}
	s->mask = ((size_t)1 << s->bits) - 1;
	s->cap = cap;
	s->elem = elem;
	s->idle = idle;
	s->release = release;
	s->ctx = ctx;
	return 0;
}

static void release_slot(struct tc_slots *s, size_t e)
{
	void *p = tc_slots_payload(s, e);
	if (s->release)
		s->release(s->ctx, p);
	memset(tc_slots_meta(s, e), 0, s->stride);
	s->n--;
}

void tc_slots_free(struct tc_slots *s)
{
	if (s->data)
		for (size_t e = 0; e < s->cap; e++)
			if (tc_slots_meta(s, e)->used)
				release_slot(s, e);
	free(s->data);
	free(s->index);
	memset(s, 0, sizeof *s);
}

static void index_insert(struct tc_slots *s, size_t e)
{
	const struct tc_slot_meta *m = tc_slots_meta(s, e);
	size_t i = tc_slots_home(s, m->a, m->b);
	while (s->index[i])
		i = (i + 1) & s->mask;
	s->index[i] = (int32_t)e + 1;
}

void tc_slots_sweep(struct tc_slots *s, uint64_t idle)
{
	memset(s->index, 0, ((size_t)1 << s->bits) * sizeof *s->index);
	for (size_t e = 0; e < s->cap; e++) {
		const struct tc_slot_meta *m = tc_slots_meta(s, e);
		if (!m->used)
			continue;
		if (s->tick - m->last >= idle) {
			release_slot(s, e);
			s->st.evictions++;
			continue;
		}
		index_insert(s, e);
	}
	s->last_sweep = s->tick;
	s->st.sweeps++;
}

void tc_slots_begin(struct tc_slots *s, uint64_t tick)
{
	s->tick = tick;
	if (tick - s->last_sweep >= s->idle)
		tc_slots_sweep(s, s->idle);
}

void *tc_slots_add(struct tc_slots *s, uint64_t a, uint64_t b, size_t i)
{
	if (s->n >= s->cap) {
		s->st.full++;
		return NULL;
	}
	size_t e = 0;
	while (tc_slots_meta(s, e)->used)
		e++;
	*tc_slots_meta(s, e) = (struct tc_slot_meta){a, b, s->tick, 1};
	s->index[i] = (int32_t)e + 1; /* i: the empty entry the probe ended on */
	s->n++;
	s->st.misses++;
	return tc_slots_payload(s, e);
}

void tc_slots_get_stats(const struct tc_slots *s, struct tc_slots_stats *out)
{
	*out = s->st;
	out->live = s->n;
}
