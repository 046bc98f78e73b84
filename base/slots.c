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
	s->meta = calloc(cap, sizeof *s->meta);
	s->data = calloc(cap, elem);
	s->index = calloc((size_t)1 << s->bits, sizeof *s->index);
	if (!s->meta || !s->data || !s->index) {
		tc_slots_free(s);
		return -TC_ENOMEM;
	}
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
	memset(p, 0, s->elem);
	memset(&s->meta[e], 0, sizeof s->meta[e]);
	s->n--;
}

void tc_slots_free(struct tc_slots *s)
{
	if (s->meta && s->data)
		for (size_t e = 0; e < s->cap; e++)
			if (s->meta[e].used)
				release_slot(s, e);
	free(s->meta);
	free(s->data);
	free(s->index);
	memset(s, 0, sizeof *s);
}

static void index_insert(struct tc_slots *s, size_t e)
{
	size_t mask = ((size_t)1 << s->bits) - 1;
	size_t i = tc_slots_home(s, s->meta[e].a, s->meta[e].b);
	while (s->index[i])
		i = (i + 1) & mask;
	s->index[i] = (int32_t)e + 1;
}

void tc_slots_sweep(struct tc_slots *s, uint64_t idle)
{
	memset(s->index, 0, ((size_t)1 << s->bits) * sizeof *s->index);
	for (size_t e = 0; e < s->cap; e++) {
		if (!s->meta[e].used)
			continue;
		if (s->tick - s->meta[e].last >= idle) {
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
	while (s->meta[e].used)
		e++;
	s->meta[e] = (struct tc_slot_meta){a, b, s->tick, 1};
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
