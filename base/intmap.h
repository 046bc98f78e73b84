/* SPDX-License-Identifier: MIT */
/* An integer map: 64-bit keys (any value, 0 included) to 32-bit values (positions in an
 * array the caller owns, as a rule), by open addressing with linear probing over a
 * power-of-two table kept at most half full and doubled on insertion when it would pass
 * that. Slots carry the generation of the map they were written in, so emptying the map is
 * O(1): a slot of an older generation is empty. No deletion of single keys.
 *
 * The lookup is inline (a table on the sampling path pays no call for it). A zeroed struct
 * is an empty map; so is one after tc_intmap_init or tc_intmap_free. */
#ifndef TC_BASE_INTMAP_H
#define TC_BASE_INTMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hash.h"

struct tc_intmap_slot {
	uint64_t key;
	uint32_t val;
	uint32_t gen; /* the map's generation when written; any other value: empty */
};

struct tc_intmap {
	struct tc_intmap_slot *slots;
	size_t cap;    /* slots: a power of two, or 0 before the first insertion */
	size_t n;      /* entries */
	unsigned bits; /* log2(cap) */
	uint32_t gen;  /* current generation, never 0 once slots exist */
};

/* An empty map with room for EXPECT entries before it first grows (0: none allocated yet).
 * Returns 0 or -TC_ENOMEM (then M is an empty map with no table). */
int tc_intmap_init(struct tc_intmap *m, size_t expect);

/* Release the table; M is an empty map afterwards. */
void tc_intmap_free(struct tc_intmap *m);

/* Set KEY to VAL (insert, or overwrite when present). Returns 0, or -TC_ENOMEM when the
 * table had to grow and could not (M unchanged then). */
int tc_intmap_put(struct tc_intmap *m, uint64_t key, uint32_t val);

/* Forget every entry, keeping the table. O(1) (O(capacity) once every 2^32 clears). */
void tc_intmap_clear(struct tc_intmap *m);

static inline size_t tc_intmap_count(const struct tc_intmap *m)
{
	return m->n;
}

/* First slot of KEY's probe in a table of 2^BITS slots. */
static inline size_t tc_intmap_home(uint64_t key, unsigned bits)
{
	return tc_hash_top(tc_hash_mul(key), bits);
}

/* Is KEY in M? When it is, *VAL is its value. */
static inline bool tc_intmap_get(const struct tc_intmap *m, uint64_t key, uint32_t *val)
{
	if (!m->cap)
		return false;
	size_t mask = m->cap - 1;
	for (size_t i = tc_intmap_home(key, m->bits); m->slots[i].gen == m->gen; i = (i + 1) & mask) {
		if (m->slots[i].key == key) {
			*val = m->slots[i].val;
			return true;
		}
	}
	return false;
}

#endif
