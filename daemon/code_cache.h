/* SPDX-License-Identifier: MIT */
/* Code objects of the target, decoded once and kept by address: names, file name, first
 * line and line table. Bounded: when the table is full the least recently used half is
 * dropped, so the memory held never exceeds the limit given at creation. On 3.14+ the walker
 * empties it whenever the interpreter's code-object generation moves (code objects were
 * freed, so an address may hold another one). */
#ifndef TC_CODE_CACHE_H
#define TC_CODE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/walk_ctx.h"

struct tc_code_info {
	tc_raddr addr;
	char *name;      /* UTF-8, owned by the cache; NULL when unreadable */
	char *qualname;  /* co_qualname (3.11+), else a copy of name */
	char *filename;
	int32_t firstlineno;
	int32_t firsttraceable; /* _co_firsttraceable in code units, -1 unknown */
	int64_t code_bytes;     /* bytecode length in bytes (3.11+: Py_SIZE * 2), -1 unknown */
	uint8_t *linetable;     /* co_lnotab / co_linetable bytes, owned */
	size_t linetable_len;
	int64_t memo_addr;      /* last line lookup (frames of a parked thread repeat) */
	int32_t memo_line;
	uint64_t last_used;     /* cache tick of the last lookup (LRU) */
	uint32_t serial;        /* unique per decoded object in this cache (never 0) */
	int32_t flags;          /* co_flags, -1 unknown */
	uint64_t checked;       /* walk in which the identity was last compared */
	uint64_t ident;         /* hash of the identity span (layout.h) when decoded */
	uint64_t name_ident;    /* hash of the name string's bytes (3.9-3.11), else 0 */
	tc_raddr name_addr;     /* co_name, where name_ident was read */
	uint32_t name_len;      /* bytes of the name string hashed, from name_addr + 16 */
};

/* co_flags bits of code objects whose frames are generators or coroutines: such a frame
 * is never the bottom of a thread's stack. */
#define TC_CO_GENERATOR_MASK (0x20 | 0x80 | 0x100 | 0x200)

struct tc_code_cache_stats {
	uint64_t hits, misses, flushes, failures, evictions;
	uint64_t checks;   /* identity comparisons (one per object per walk) */
	uint64_t replaced; /* entries whose address now held another code object */
	size_t entries, capacity;
};

struct tc_code_cache;

/* A cache of at most MAX_ENTRIES code objects (0 = 4096). Returns NULL on allocation
 * failure. Caller frees. */
struct tc_code_cache *tc_code_cache_new(size_t max_entries);
void tc_code_cache_free(struct tc_code_cache *c); /* accepts NULL */

/* The decoded code object at ADDR, read through X, read and validated on a miss (its type must be
 * PyCode_Type when that address is known; its strings and line table must read).
 * Returns 0 and *OUT (borrowed: valid until the next tc_code_cache_get or _clear),
 * -TC_EFAULT / -TC_ECORRUPT when ADDR does not hold a readable code object, -TC_ESRCH when
 * the target is gone, -TC_ENOMEM. */
int tc_code_cache_get(struct tc_code_cache *c, struct tc_walk_ctx *x, tc_raddr addr,
		      const struct tc_code_info **out);

/* A walk starts: every entry's identity is compared again on its first use in it. */
void tc_code_cache_begin_walk(struct tc_code_cache *c);

/* tc_code_cache_get, and on the entry's first use in this walk its identity span (and name)
 * read again through X's batch and compared with what was decoded: a code object at a
 * reused address is decoded afresh (new serial). The walker's lookup. Same returns. */
int tc_code_cache_get_checked(struct tc_code_cache *c, struct tc_walk_ctx *x, tc_raddr addr,
			      const struct tc_code_info **out);

/* Decodes, re-decodes and flushes so far: a walk that takes frames from a memo and sees
 * this move while it validates their code objects cannot trust the memo's view. */
uint64_t tc_code_cache_changes(const struct tc_code_cache *c);

/* Line of the instruction at byte offset ADDR (negative: not started) of code CI, per the
 * version's rules; -1 when the instruction has no line. Updates the entry's memo. */
int32_t tc_code_line(const struct tc_layout *l, const struct tc_code_info *ci, int64_t addr);

void tc_code_cache_clear(struct tc_code_cache *c);
void tc_code_cache_get_stats(const struct tc_code_cache *c, struct tc_code_cache_stats *out);

#endif
