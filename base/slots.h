/* SPDX-License-Identifier: MIT */
/* A bounded table of per-thread slots: at most CAP slots, each keyed by two words the
 * caller chooses (a thread state's address and a thread id, say; the second may be 0), each
 * holding ELEM bytes of caller data, zeroed when the slot is taken. The caller advances a
 * tick (a sample or walk number) with tc_slots_begin; a slot not looked up for IDLE ticks
 * is released at the next sweep, which runs every IDLE ticks. The chain memo and the frame
 * cache are this table with different payloads.
 *
 * Slots live in a fixed array with an open-addressing index over it (twice as many
 * entries, rebuilt by each sweep), so a lookup is one probe sequence and never allocates;
 * the memory held is fixed at creation, plus what the caller's payloads hold. Each slot is
 * its key and tick followed by its payload, so a hit touches the index and one slot. */
#ifndef TC_BASE_SLOTS_H
#define TC_BASE_SLOTS_H

#include <stddef.h>
#include <stdint.h>

#include "base/hash.h"

struct tc_slots_stats {
	uint64_t hits;      /* lookups that found their slot */
	uint64_t misses;    /* lookups that took a new slot */
	uint64_t full;      /* lookups refused: every slot taken */
	uint64_t evictions; /* slots released by sweeps (idle, or tc_slots_sweep(S, 0)) */
	uint64_t sweeps;
	size_t live;        /* slots held now */
};

/* Called with a payload about to be released (and zeroed): free what it points to. */
typedef void (*tc_slots_release_fn)(void *ctx, void *payload);

/* The head of a slot; its payload follows. */
struct tc_slot_meta {
	uint64_t a, b; /* the key */
	uint64_t last; /* tick of the last lookup */
	uint64_t used; /* slot taken */
};

struct tc_slots {
	unsigned char *data;       /* cap slots of stride bytes: a tc_slot_meta, the payload */
	int32_t *index;            /* 2^bits entries: slot + 1, 0 empty */
	size_t cap, elem, stride, n;
	size_t mask;               /* index entries - 1 */
	unsigned bits;             /* log2(index entries) */
	uint64_t idle, tick, last_sweep;
	tc_slots_release_fn release;
	void *ctx;
	struct tc_slots_stats st;
};

/* A table of CAP slots (at most 2^30) of ELEM bytes, dropping slots idle for IDLE ticks;
 * RELEASE (may be NULL) is called with CTX and each payload released. Returns 0,
 * -TC_EINVAL, or -TC_ENOMEM (S then holds nothing; tc_slots_free is still safe). */
int tc_slots_init(struct tc_slots *s, size_t cap, size_t elem, uint64_t idle,
		  tc_slots_release_fn release, void *ctx);

/* Release every slot and the table. Safe on a zeroed or failed S. */
void tc_slots_free(struct tc_slots *s);

/* Tick TICK begins (ticks only increase): when IDLE ticks passed since the last sweep,
 * sweep. */
void tc_slots_begin(struct tc_slots *s, uint64_t tick);

/* Release the slots not looked up for IDLE ticks or more (0: every slot), rebuild the index. */
void tc_slots_sweep(struct tc_slots *s, uint64_t idle);

/* Take a slot for key (A, B) that tc_slots_find did not find; NULL when every slot is taken.
 * I is where that probe ended. */
void *tc_slots_add(struct tc_slots *s, uint64_t a, uint64_t b, size_t i);

void tc_slots_get_stats(const struct tc_slots *s, struct tc_slots_stats *out);

static inline size_t tc_slots_home(const struct tc_slots *s, uint64_t a, uint64_t b)
{
	return tc_hash_top(tc_hash_pair(a, b), s->bits);
}

static inline struct tc_slot_meta *tc_slots_meta(const struct tc_slots *s, size_t slot)
{
	return (struct tc_slot_meta *)(void *)(s->data + slot * s->stride);
}

static inline void *tc_slots_payload(const struct tc_slots *s, size_t slot)
{
	return tc_slots_meta(s, slot) + 1;
}

/* The payload of key (A, B), marked used at this tick; when absent, NULL and *END the probe's
 * end (for tc_slots_add). */
static inline void *tc_slots_find(struct tc_slots *s, uint64_t a, uint64_t b, size_t *end)
{
	size_t i = tc_slots_home(s, a, b);
	for (; s->index[i]; i = (i + 1) & s->mask) {
		struct tc_slot_meta *m = tc_slots_meta(s, (size_t)(s->index[i] - 1));
		if (m->a == a && m->b == b) {
			m->last = s->tick;
			s->st.hits++;
			return m + 1;
		}
	}
	*end = i;
	return NULL;
}

/* The payload of key (A, B), taken (zeroed) on first sight; NULL when every slot is taken. */
static inline void *tc_slots_get(struct tc_slots *s, uint64_t a, uint64_t b)
{
	size_t end = 0;
	void *p = tc_slots_find(s, a, b, &end);
	return p ? p : tc_slots_add(s, a, b, end);
}

#endif
