/* SPDX-License-Identifier: MIT */
/* The integer map. See intmap.h. */
#include "base/intmap.h"

#include <stdlib.h>
#include <string.h>

#include "tc/common.h"

#define MIN_BITS 4 /* 16 slots */

/* Move the entries of M into a new table of 2^BITS slots. */
static int rehash(struct tc_intmap *m, unsigned bits)
{
	size_t cap = (size_t)1 << bits, mask = cap - 1;
	struct tc_intmap_slot *slots = calloc(cap, sizeof *slots);

	if (!slots)
		return -TC_ENOMEM;
	for (size_t k = 0; k < m->cap; k++) {
		const struct tc_intmap_slot *s = &m->slots[k];
		if (s->gen != m->gen)
			continue;
		size_t i = tc_intmap_home(s->key, bits);
		while (slots[i].gen == 1)
			i = (i + 1) & mask;
		slots[i] = (struct tc_intmap_slot){s->key, s->val, 1};
	}
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	m->bits = bits;
	m->gen = 1;
	return 0;
}

/* Bits of a table that holds N entries at most half full. */
static unsigned bits_for(size_t n)
{
	unsigned bits = MIN_BITS;
	while (bits < 8 * sizeof(size_t) - 2 && ((size_t)1 << bits) < 2 * n)
		bits++;
	return bits;
}

int tc_intmap_init(struct tc_intmap *m, size_t expect)
{
	memset(m, 0, sizeof *m);
	if (!expect)
		return 0;
	if (expect > SIZE_MAX / 4 / sizeof(struct tc_intmap_slot))
		return -TC_ENOMEM;
	return rehash(m, bits_for(expect));
}

void tc_intmap_free(struct tc_intmap *m)
{
	free(m->slots);
	memset(m, 0, sizeof *m);
}

void tc_intmap_clear(struct tc_intmap *m)
{
	if (!m->cap)
		return;
	m->n = 0;
	if (++m->gen == 0) { /* wrapped: old slots could look current again */
		memset(m->slots, 0, m->cap * sizeof *m->slots);
		m->gen = 1;
	}
}

int tc_intmap_put(struct tc_intmap *m, uint64_t key, uint32_t val)
{
	size_t i, mask;

	if (m->cap) {
		mask = m->cap - 1;
		for (i = tc_intmap_home(key, m->bits); m->slots[i].gen == m->gen; i = (i + 1) & mask) {
			if (m->slots[i].key == key) {
				m->slots[i].val = val;
				return 0;
			}
		}
	}
	if (2 * (m->n + 1) > m->cap) {
		if (m->cap > SIZE_MAX / 4 / sizeof(struct tc_intmap_slot))
			return -TC_ENOMEM;
		int err = rehash(m, m->cap ? m->bits + 1 : MIN_BITS);
		if (err)
			return err;
	}
	mask = m->cap - 1;
	for (i = tc_intmap_home(key, m->bits); m->slots[i].gen == m->gen; i = (i + 1) & mask)
		;
	m->slots[i] = (struct tc_intmap_slot){key, val, m->gen};
	m->n++;
	return 0;
}
