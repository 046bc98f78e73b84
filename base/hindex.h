/* SPDX-License-Identifier: MIT */
/* A hash index over an array the caller owns, for keys compared by content (strings,
 * frames, tuples of words): each slot keeps an entry's 32-bit hash and its position, and a
 * lookup hands the caller the positions whose hash matches, in probe order, for it to
 * compare. Linear probing over a power-of-two table kept at most half full, doubled only
 * when an entry is added. No deletion. A zeroed struct is an empty index. Keys that are
 * integers want base/intmap instead (the key sits in the slot). */
#ifndef TC_BASE_HINDEX_H
#define TC_BASE_HINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tc_hindex_slot {
	uint32_t hash;
	uint32_t pos1; /* position + 1; 0: empty */
};

struct tc_hindex {
	struct tc_hindex_slot *slots;
	uint32_t cap;  /* power of two, or 0 before the first entry */
	uint32_t used;
};

/* A lookup cursor before its first candidate. */
#define TC_HINDEX_START SIZE_MAX

/* Room for one more entry (doubling when the index would pass half full). Returns 0 or
 * -TC_ENOMEM (the index unchanged). */
int tc_hindex_reserve(struct tc_hindex *ix);

/* Record the entry at POS under HASH. The caller reserved room and knows its key is new. */
void tc_hindex_insert(struct tc_hindex *ix, uint32_t hash, size_t pos);

/* Release the table; the index is empty (and usable) afterwards. */
void tc_hindex_free(struct tc_hindex *ix);

/* The next entry filed under HASH after *CURSOR (start at TC_HINDEX_START): true and its
 * position in *POS, or false when there is none. The caller compares the entry's key:
 *   for (size_t cur = TC_HINDEX_START, pos; tc_hindex_next(ix, h, &cur, &pos);)
 *           if (same_key(pos)) ... */
static inline bool tc_hindex_next(const struct tc_hindex *ix, uint32_t hash, size_t *cursor,
				  size_t *pos)
{
	if (!ix->cap)
		return false;
	const uint32_t mask = ix->cap - 1;
	uint32_t i = *cursor == TC_HINDEX_START ? (hash & mask) : (uint32_t)((*cursor + 1) & mask);
	for (; ix->slots[i].pos1; i = (i + 1) & mask) {
		if (ix->slots[i].hash == hash) {
			*cursor = i;
			*pos = ix->slots[i].pos1 - 1;
			return true;
		}
	}
	return false;
}

#endif
