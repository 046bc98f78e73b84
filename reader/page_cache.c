/* SPDX-License-Identifier: MIT */
/* Page cache for cold-path reads. See page_cache.h.
 *
 * A base/intmap from page address to page number, pages stored in one buffer in the order
 * they were fetched. The map is sized for the page bound at creation and never grows;
 * clearing it is O(1) (its slots carry a generation). */
#include "reader/page_cache.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/intmap.h"

/* Requests longer than this bypass the cache (a long line table is read once anyway). */
#define MAX_CACHED_REQUEST (16 * TC_PAGE_SIZE)

struct tc_page_cache {
	struct tc_remote *r;
	size_t max_pages;
	struct tc_intmap pages; /* page address -> page number in buf */
	size_t n;
	uint8_t *buf;           /* max_pages * TC_PAGE_SIZE */
	struct tc_page_cache_stats st;
};

int tc_page_cache_new(struct tc_remote *r, size_t max_pages, struct tc_page_cache **out)
{
	struct tc_page_cache *pc = calloc(1, sizeof *pc);
	if (!pc)
		return -TC_ENOMEM;
	pc->r = r;
	pc->max_pages = max_pages ? max_pages : 64;
	pc->buf = malloc(pc->max_pages * TC_PAGE_SIZE);
	if (!pc->buf || tc_intmap_init(&pc->pages, pc->max_pages) != 0) {
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
	tc_intmap_free(&pc->pages);
	free(pc->buf);
	free(pc);
}

void tc_page_cache_clear(struct tc_page_cache *pc)
{
	tc_intmap_clear(&pc->pages);
	pc->n = 0;
	pc->st.clears++;
}

/* Where PAGE's copy is in the buffer, or NULL when it is not held. */
static uint8_t *held(const struct tc_page_cache *pc, tc_raddr page)
{
	uint32_t idx;
	return tc_intmap_get(&pc->pages, page, &idx) ? pc->buf + (size_t)idx * TC_PAGE_SIZE : NULL;
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
	bool fail = false;
	for (size_t k = 0; k < npages; k++) {
		tc_raddr pg = first + k * TC_PAGE_SIZE;
		if (held(pc, pg))
			continue;
		/* the map is sized for max_pages: it never grows, so this never fails */
		if (tc_intmap_put(&pc->pages, pg, (uint32_t)pc->n) != 0) {
			fail = true;
			break;
		}
		iov[nmiss] = (struct tc_riov){pg, pc->buf + pc->n * TC_PAGE_SIZE, TC_PAGE_SIZE};
		pc->n++;
		nmiss++;
	}
	if (nmiss || fail) {
		int err = fail ? -TC_ENOMEM : tc_remote_readv(pc->r, iov, nmiss);
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
		memcpy(out, held(pc, pg) + off, take);
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
