/* SPDX-License-Identifier: MIT */
/* Page cache for cold-path reads. See page_cache.h.
 *
 * Open addressing over page addresses (capacity twice the page bound), pages stored in one
 * buffer in the order they were fetched, and the list of occupied slots is that order too:
 * clearing walks the pages held, never the whole table. */
#include "reader/page_cache.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Requests longer than this bypass the cache (a long line table is read once anyway). */
#define MAX_CACHED_REQUEST (16 * TC_PAGE_SIZE)

struct slot {
	tc_raddr page; /* 0: empty (page 0 is never mapped) */
	uint32_t idx;  /* page number in buf */
};

struct tc_page_cache {
	struct tc_remote *r;
	size_t max_pages, cap; /* cap: slots, a power of two >= 2 * max_pages */
	struct slot *slots;
	uint32_t *used;        /* slot of page i, for i < n */
	size_t n;
	uint8_t *buf;          /* max_pages * TC_PAGE_SIZE */
	struct tc_page_cache_stats st;
};

int tc_page_cache_new(struct tc_remote *r, size_t max_pages, struct tc_page_cache **out)
{
	struct tc_page_cache *pc = calloc(1, sizeof *pc);
	if (!pc)
		return -TC_ENOMEM;
	pc->r = r;
	pc->max_pages = max_pages ? max_pages : 64;
	pc->cap = 16;
	while (pc->cap < 2 * pc->max_pages)
		pc->cap <<= 1;
	pc->slots = calloc(pc->cap, sizeof *pc->slots);
	pc->used = malloc(pc->max_pages * sizeof *pc->used);
	pc->buf = malloc(pc->max_pages * TC_PAGE_SIZE);
	if (!pc->slots || !pc->used || !pc->buf) {
		tc_page_cache_free(pc);
		return -TC_ENOMEM;
	}
	*out = pc;
	return 0;
}

void tc_page_cache_free(struct tc_page_cache *pc)
{
	if (!pc)
		return;
	free(pc->slots);
	free(pc->used);
	free(pc->buf);
	free(pc);
}

void tc_page_cache_clear(struct tc_page_cache *pc)
{
	for (size_t i = 0; i < pc->n; i++)
		pc->slots[pc->used[i]].page = 0;
	pc->n = 0;
	pc->st.clears++;
}

static size_t slot_of(const struct tc_page_cache *pc, tc_raddr page)
{
	return (size_t)((page >> 12) * 0x9E3779B97F4A7C15ull >> 40) & (pc->cap - 1);
}

/* The slot holding PAGE, or the empty slot where it would go. */
static struct slot *lookup(struct tc_page_cache *pc, tc_raddr page)
{
	size_t i = slot_of(pc, page);
	while (pc->slots[i].page && pc->slots[i].page != page)
		i = (i + 1) & (pc->cap - 1);
	return &pc->slots[i];
}

int tc_page_cache_read(struct tc_page_cache *pc, tc_raddr addr, void *buf, size_t len)
{
	tc_raddr end = addr + len;
	if (end < addr)
		return -TC_EFAULT;
	if (len == 0)
		return 0;
	tc_raddr first = addr & ~(tc_raddr)(TC_PAGE_SIZE - 1);
	size_t npages = (size_t)((end - first + TC_PAGE_SIZE - 1) / TC_PAGE_SIZE);
	if (len > MAX_CACHED_REQUEST || npages > pc->max_pages || first == 0) {
		pc->st.direct++;
		return tc_remote_read(pc->r, addr, buf, len);
	}
	if (pc->n + npages > pc->max_pages)
		tc_page_cache_clear(pc);

	/* fetch the missing pages of the request in one batch */
	struct tc_riov iov[MAX_CACHED_REQUEST / TC_PAGE_SIZE + 1];
	size_t nmiss = 0;
	for (size_t k = 0; k < npages; k++) {
		tc_raddr pg = first + k * TC_PAGE_SIZE;
		struct slot *s = lookup(pc, pg);
		if (s->page)
			continue;
		s->page = pg;
		s->idx = (uint32_t)pc->n;
		pc->used[pc->n++] = (uint32_t)(s - pc->slots);
		iov[nmiss] = (struct tc_riov){pg, pc->buf + (size_t)s->idx * TC_PAGE_SIZE, TC_PAGE_SIZE};
		nmiss++;
	}
	if (nmiss) {
		int err = tc_remote_readv(pc->r, iov, nmiss);
		if (err) {
			/* A page that does not read whole (the request may still read, e.g. a guard
			 * page after it): forget everything (rare) and read the request directly. */
			tc_page_cache_clear(pc);
			pc->st.direct++;
			return tc_remote_read(pc->r, addr, buf, len);
		}
		pc->st.fetches += nmiss;
	} else {
		pc->st.hits++;
	}
	/* copy out page by page */
	uint8_t *out = buf;
	tc_raddr a = addr;
	while (a < end) {
		tc_raddr pg = a & ~(tc_raddr)(TC_PAGE_SIZE - 1);
		size_t off = (size_t)(a - pg);
		size_t take = TC_PAGE_SIZE - off;
		if (take > end - a)
			take = (size_t)(end - a);
		const struct slot *s = lookup(pc, pg);
		memcpy(out, pc->buf + (size_t)s->idx * TC_PAGE_SIZE + off, take);
		out += take;
		a += take;
	}
	return 0;
}

void tc_page_cache_get_stats(const struct tc_page_cache *pc, struct tc_page_cache_stats *out)
{
	*out = pc->st;
	out->pages = pc->n;
	out->capacity = pc->max_pages;
}
