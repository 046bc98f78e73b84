/* SPDX-License-Identifier: MIT */
/* The readers one walker uses, and the one read call that picks among them by what the bytes
 * are for: per-sample data (hot: the prefetcher's batch, one syscall per walk in the steady
 * state), data that changes rarely (cold: code objects, through the page cache, emptied at
 * every walk), or a plain read (direct). A missing prefetcher or page cache means direct. */
#ifndef TC_READERS_H
#define TC_READERS_H

#include "reader/page_cache.h"
#include "reader/prefetch.h"
#include "reader/remote.h"

struct tc_readers {
	struct tc_remote *mem;      /* borrowed: the target's reader */
	struct tc_prefetch *pf;     /* NULL: hot reads are direct */
	struct tc_page_cache *pc;   /* NULL: cold reads are direct */
};

enum tc_read_hint {
	TC_READ_DIRECT = 0,
	TC_READ_HOT,  /* changes every sample: batched with the rest of the walk */
	TC_READ_COLD  /* changes rarely: page cache */
};

/* Copy LEN bytes at remote ADDR into BUF; returns as tc_remote_read. */
static inline int tc_read(const struct tc_readers *r, enum tc_read_hint hint, tc_raddr addr,
			  void *buf, size_t len)
{
	if (hint == TC_READ_HOT && r->pf)
		return tc_prefetch_read(r->pf, addr, buf, len);
	if (hint == TC_READ_COLD && r->pc)
		return tc_page_cache_read(r->pc, addr, buf, len);
	return tc_remote_read(r->mem, addr, buf, len);
}

#endif
