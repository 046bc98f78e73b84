/* SPDX-License-Identifier: MIT */
/* The hash index. See hindex.h. */
#include "base/hindex.h"

#include <stdlib.h>

#include "tc/common.h"

#define MIN_CAP 64u

/* Insert S into SLOTS (CAP slots, a power of two, with room). */
static void place(struct tc_hindex_slot *slots, uint32_t cap, struct tc_hindex_slot s)
{
	uint32_t j = s.hash & (cap - 1);
	while (slots[j].pos1)
		j = (j + 1) & (cap - 1);
	slots[j] = s;
}

int tc_hindex_reserve(struct tc_hindex *ix)
{
	if (ix->cap && (uint64_t)(ix->used + 1) * 2 <= ix->cap)
		return 0;
	uint32_t cap = ix->cap ? ix->cap * 2 : MIN_CAP;
	if (cap < ix->cap || cap == 0)
		return -TC_ENOMEM;
	struct tc_hindex_slot *slots = calloc(cap, sizeof *slots);
	if (!slots)
		return -TC_ENOMEM;
	for (uint32_t i = 0; i < ix->cap; i++)
		if (ix->slots[i].pos1)
			place(slots, cap, ix->slots[i]);
	free(ix->slots);
	ix->slots = slots;
	ix->cap = cap;
	return 0;
}

void tc_hindex_insert(struct tc_hindex *ix, uint32_t hash, size_t pos)
{
	place(ix->slots, ix->cap, (struct tc_hindex_slot){hash, (uint32_t)pos + 1});
	ix->used++;
}

void tc_hindex_free(struct tc_hindex *ix)
{
	free(ix->slots);
	ix->slots = NULL;
	ix->cap = ix->used = 0;
}
