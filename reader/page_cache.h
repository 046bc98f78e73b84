/* SPDX-License-Identifier: MIT */
/* A small cache of whole target pages for cold-path reads: a code object met for the first
 * time needs the object, three strings and a line table, usually a few pages apart or on the
 * same page. Through this cache each page is read once (the missing pages of one request in
 * one batched syscall) however many of those reads land on it.
 *
 * It is a cache of what the target held when the page was read, so its owner empties it
 * whenever that may be too old: the walker does at the start of every walk, which keeps
 * every byte handed out no older than the walk that uses it. Emptying costs O(1), not
 * O(capacity); a full cache empties itself. */
#ifndef TC_PAGE_CACHE_H
#define TC_PAGE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "reader/remote.h"

#define TC_PAGE_SIZE 4096u

struct tc_page_cache_stats {
	uint64_t hits;      /* requests served entirely from pages held */
	uint64_t fetches;   /* pages read */
	uint64_t direct;    /* requests read directly (too long, or a page would not read) */
	uint64_t clears;
	size_t pages, capacity;
};

struct tc_page_cache;

/* A cache of at most MAX_PAGES pages (0: 64) over R (borrowed). Returns 0 or -TC_ENOMEM. */
int tc_page_cache_new(struct tc_remote *r, size_t max_pages, struct tc_page_cache **out);
void tc_page_cache_free(struct tc_page_cache *pc); /* accepts NULL */

/* Copy LEN bytes at ADDR into BUF, through the cache. Errors as tc_remote_read. */
int tc_page_cache_read(struct tc_page_cache *pc, tc_raddr addr, void *buf, size_t len);

/* Forget every page held. */
void tc_page_cache_clear(struct tc_page_cache *pc);

void tc_page_cache_get_stats(const struct tc_page_cache *pc, struct tc_page_cache_stats *out);

#endif
