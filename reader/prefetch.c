/* SPDX-License-Identifier: MIT */
/* Learned, batched reads. See prefetch.h.
 *
 * The batch is a sorted array of disjoint ranges with one host buffer. Each range tracks the
 * part of it a walk actually touched; misses are appended to a list. At the end of a walk the
 * touched parts and the misses are sorted and merged (neighbours closer than MERGE_GAP become
 * one range, up to MAX_SPAN bytes), which turns a thread's frame stack, read frame by frame,
 * into one range. Stacks breathe: a call-heavy thread is a few frames deeper in one sample
 * than in the next. So a range keeps everything any walk of its current window used (a window
 * is WINDOW walks; at its end the range shrinks to what that window used), a range not touched
 * at all is still fetched for IDLE_TTL walks, and a miss reads the whole page it falls on,
 * which usually holds the next frames down the chain. A margin that decayed a little every
 * walk it was not used cut the base frame of a thread off the batch whenever one walk ended
 * early, and the next walk paid a syscall for it: about one walk in ten on a call-heavy 3.15
 * target. Misses of a walk that turned out torn are not learned: they are often reads through
 * a pointer that was being rewritten, and such a range would be fetched for nothing. */
#include "reader/prefetch.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Read the gap rather than add an iovec when it is below this (an extra iovec costs more than
 * copying a few KiB: docs/PERFORMANCE.md, "Design measurements"). */
#define MERGE_GAP 8192
#define MAX_SPAN (256u << 10)   /* one range at most this long */
#define MAX_LEARN 65536         /* misses remembered per walk */
#define MAX_HOLES 64            /* unmapped pages remembered (merges never cross them) */
#define HOLES_TTL 4096          /* walks before the hole list is forgotten */
#define PAGE 4096u
#define IDLE_TTL 16             /* walks an untouched range is still fetched */
#define WINDOW TC_PREFETCH_WINDOW
#define AROUND 16               /* pages read around misses per walk */

struct range {
	tc_raddr addr;
	size_t len;
	size_t off;        /* into buf */
	bool valid;        /* read in this walk's batch */
	uint32_t idle;     /* walks since any of it was touched */
	uint32_t age;      /* walks in the current window */
	tc_raddr used_lo, used_hi; /* touched in this walk; used_lo > used_hi when untouched */
	tc_raddr seen_lo, seen_hi; /* touched in this window; seen_lo > seen_hi when untouched */
};

/* A range to fetch next walk: [lo, hi), and its window (see struct range). */
struct span {
	tc_raddr lo, hi;
	tc_raddr seen_lo, seen_hi;
	uint32_t idle, age;
};

/* A page read around a miss, serving the rest of the walk (frames of a stack that grew past
 * the batch are read one by one otherwise, each its own syscall). */
struct around {
	tc_raddr addr;
	size_t len;
	uint8_t *buf; /* PAGE + 256 bytes */
};

struct tc_prefetch {
	struct tc_remote *r;
	size_t max_ranges, max_bytes;
	struct range *v;
	size_t n, cap;
	uint8_t *buf;
	size_t buflen, bytes; /* capacity, and bytes the ranges use */
	struct tc_riov *iov;
	struct span *learn;
	size_t nlearn, caplearn;
	size_t last;               /* range of the last hit: the next read is usually nearby */
	struct around aro[AROUND];
	size_t naro;
	tc_raddr holes[MAX_HOLES]; /* pages that failed to read inside a merged range */
	size_t nholes, hole_next;
	uint64_t holes_walks;
	struct tc_prefetch_stats st;
};

int tc_prefetch_new(struct tc_remote *r, size_t max_ranges, size_t max_bytes,
		    struct tc_prefetch **out)
{
	struct tc_prefetch *p = calloc(1, sizeof *p);
	if (!p)
		return -TC_ENOMEM;
	p->r = r;
	p->max_ranges = max_ranges ? max_ranges : 512;
	p->max_bytes = max_bytes ? max_bytes : (4u << 20);
	*out = p;
	return 0;
}

void tc_prefetch_free(struct tc_prefetch *p)
{
	if (!p)
		return;
	free(p->v);
	free(p->buf);
	free(p->iov);
	free(p->learn);
	for (size_t i = 0; i < AROUND; i++)
		free(p->aro[i].buf);
	free(p);
}

void tc_prefetch_reset(struct tc_prefetch *p)
{
	p->nholes = 0;
	p->hole_next = 0;
	p->n = 0;
	p->bytes = 0;
	p->nlearn = 0;
}

static void add_hole(struct tc_prefetch *p, tc_raddr page)
{
	for (size_t i = 0; i < p->nholes; i++)
		if (p->holes[i] == page)
			return;
	p->holes[p->hole_next] = page;
	p->hole_next = (p->hole_next + 1) % MAX_HOLES;
	if (p->nholes < MAX_HOLES)
		p->nholes++;
}

/* Probe [ADDR, ADDR+LEN) page by page and remember the pages that do not read. */
static void find_holes(struct tc_prefetch *p, tc_raddr addr, size_t len)
{
	uint8_t b;
	for (tc_raddr pg = addr & ~(tc_raddr)(PAGE - 1); pg < addr + len; pg += PAGE)
		if (tc_remote_read(p->r, pg < addr ? addr : pg, &b, 1) == -TC_EFAULT)
			add_hole(p, pg);
}

/* Is any remembered hole page inside (LO, HI)? */
static bool bridges_hole(const struct tc_prefetch *p, tc_raddr lo, tc_raddr hi)
{
	for (size_t i = 0; i < p->nholes; i++)
		if (p->holes[i] + PAGE > lo && p->holes[i] < hi)
			return true;
	return false;
}

int tc_prefetch_begin(struct tc_prefetch *p)
{
	if (++p->holes_walks >= HOLES_TTL) {
		p->nholes = 0;
		p->hole_next = 0;
		p->holes_walks = 0;
	}
	p->st.walks++;
	p->nlearn = 0;
	p->naro = 0;
	if (p->n == 0)
		return 0;
	for (size_t i = 0; i < p->n; i++) {
		p->iov[i] = (struct tc_riov){p->v[i].addr, p->buf + p->v[i].off, p->v[i].len};
		p->v[i].valid = true;
		p->v[i].used_lo = UINT64_MAX;
		p->v[i].used_hi = 0;
	}
	p->st.batch_ranges += p->n;
	p->st.batch_bytes += p->bytes;
	int err = tc_remote_readv(p->r, p->iov, p->n);
	if (err == 0)
		return 0;
	if (err == -TC_ESRCH || err == -TC_EPERM)
		return err;
	/* Some range no longer reads (freed, unmapped, or a merge that spans a hole between two
	 * mappings): take them one by one, and find the holes of the ones that fail so that the
	 * next merge does not bridge them again. */
	p->st.batch_failures++;
	for (size_t i = 0; i < p->n; i++) {
		err = tc_remote_read(p->r, p->v[i].addr, p->buf + p->v[i].off, p->v[i].len);
		if (err == -TC_ESRCH || err == -TC_EPERM)
			return err;
		p->v[i].valid = err == 0;
		if (err)
			find_holes(p, p->v[i].addr, p->v[i].len);
	}
	return 0;
}

/* Index of the last range starting at or before ADDR, or -1. */
static long find(const struct tc_prefetch *p, tc_raddr addr)
{
	long lo = 0, hi = (long)p->n - 1, ans = -1;
	while (lo <= hi) {
		long mid = (lo + hi) / 2;
		if (p->v[mid].addr <= addr) {
			ans = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return ans;
}

static void learn(struct tc_prefetch *p, tc_raddr lo, tc_raddr hi)
{
	if (p->nlearn == p->caplearn) {
		if (p->caplearn >= MAX_LEARN)
			return;
		size_t cap = p->caplearn ? p->caplearn * 2 : 64;
		struct span *s = realloc(p->learn, cap * sizeof *s);
		if (!s)
			return; /* only a lost prediction */
		p->learn = s;
		p->caplearn = cap;
	}
	p->learn[p->nlearn++] = (struct span){lo, hi, lo, hi, 0, 0};
}

/* The batch bytes for [ADDR, END), or NULL. */
static const uint8_t *in_batch(struct tc_prefetch *p, tc_raddr addr, tc_raddr end)
{
	struct range *r;
	if (p->last < p->n) {
		r = &p->v[p->last];
		if (r->valid && addr >= r->addr && end <= r->addr + r->len)
			goto hit;
	}
	long i = find(p, addr);
	if (i < 0)
		return NULL;
	r = &p->v[i];
	if (!r->valid || end > r->addr + r->len)
		return NULL;
	p->last = (size_t)i;
hit:
	if (addr < r->used_lo)
		r->used_lo = addr;
	if (end > r->used_hi)
		r->used_hi = end;
	p->st.hits++;
	return p->buf + r->off + (addr - r->addr);
}

/* The page read around a miss that holds [ADDR, END) (counted as a use), or NULL. */
static const struct around *in_around(struct tc_prefetch *p, tc_raddr addr, tc_raddr end)
{
	for (size_t k = 0; k < p->naro; k++) {
		const struct around *a = &p->aro[k];
		if (addr >= a->addr && end <= a->addr + a->len) {
			p->st.hits++;
			learn(p, addr, end);
			return a;
		}
	}
	return NULL;
}

const uint8_t *tc_prefetch_window(struct tc_prefetch *p, tc_raddr addr, size_t len,
				  tc_raddr *lo, tc_raddr *hi)
{
	tc_raddr end = addr + len;
	if (end < addr)
		return NULL;
	const uint8_t *b = in_batch(p, addr, end);
	if (b) {
		const struct range *r = &p->v[p->last];
		*lo = r->addr;
		*hi = r->addr + r->len;
		return b;
	}
	const struct around *a = in_around(p, addr, end);
	if (!a)
		return NULL;
	*lo = a->addr;
	*hi = a->addr + a->len;
	return a->buf + (addr - a->addr);
}

void tc_prefetch_mark(struct tc_prefetch *p, tc_raddr lo, tc_raddr hi, uint64_t reads)
{
	if (lo >= hi)
		return;
	p->st.hits += reads;
	long i = find(p, lo);
	if (i >= 0 && p->v[i].valid && hi <= p->v[i].addr + p->v[i].len) {
		struct range *r = &p->v[i];
		if (lo < r->used_lo)
			r->used_lo = lo;
		if (hi > r->used_hi)
			r->used_hi = hi;
		return;
	}
	learn(p, lo, hi); /* a page read around a miss */
}

int tc_prefetch_read(struct tc_prefetch *p, tc_raddr addr, void *buf, size_t len)
{
	tc_raddr end = addr + len;
	if (end < addr)
		return -TC_EFAULT;
	const uint8_t *b = in_batch(p, addr, end);
	if (!b) {
		const struct around *a = in_around(p, addr, end);
		if (a)
			b = a->buf + (addr - a->addr);
	}
	if (b) {
		if (len) /* an empty batch has no buffer: memcpy(NULL, ...) is undefined even for 0 */
			memcpy(buf, b, len);
		return 0;
	}
	p->st.misses++;
	/* Read the whole page of ADDR (it is mapped if ADDR is): the next frames of a stack
	 * that outgrew the batch are usually on it. */
	tc_raddr pg = addr & ~(tc_raddr)(PAGE - 1);
	if (p->naro < AROUND && end - pg <= PAGE + 256) {
		struct around *a = &p->aro[p->naro];
		if (!a->buf)
			a->buf = malloc(PAGE + 256);
		size_t alen = end - pg > PAGE ? (size_t)(end - pg) : PAGE;
		if (a->buf && tc_remote_read(p->r, pg, a->buf, alen) == 0) {
			a->addr = pg;
			a->len = alen;
			p->naro++;
			memcpy(buf, a->buf + (addr - pg), len);
			learn(p, addr, end);
			return 0;
		}
	}
	int err = tc_remote_read(p->r, addr, buf, len);
	if (err == 0)
		learn(p, addr, end);
	return err;
}

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* What range R contributes to the next batch: all of it while its window runs (a stack
 * breathes within it), what its window used when the window ends, nothing once it has been
 * idle for IDLE_TTL walks. */
static bool carry(const struct range *r, struct span *out)
{
	tc_raddr slo = r->seen_lo, shi = r->seen_hi;
	if (r->used_lo < r->used_hi) {
		if (r->used_lo < slo)
			slo = r->used_lo;
		if (r->used_hi > shi)
			shi = r->used_hi;
	} else if (r->idle + 1 >= IDLE_TTL) {
		return false;
	}
	uint32_t idle = r->used_lo < r->used_hi ? 0 : r->idle + 1;
	if (r->age + 1 < WINDOW || slo >= shi) {
		*out = (struct span){r->addr, r->addr + r->len, slo, shi, idle, r->age + 1};
		return true;
	}
	*out = (struct span){slo, shi, UINT64_MAX, 0, idle, 0};
	return true;
}

void tc_prefetch_discard_misses(struct tc_prefetch *p)
{
	p->nlearn = 0;
}

void tc_prefetch_end(struct tc_prefetch *p)
{
	/* what the batch carries over + misses, sorted */
	size_t total = p->nlearn + p->n;
	if (total > p->caplearn) {
		struct span *s = realloc(p->learn, total * sizeof *s);
		if (!s) {
			p->n = 0;
			return;
		}
		p->learn = s;
		p->caplearn = total;
	}
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].valid && carry(&p->v[i], &p->learn[p->nlearn]))
			p->nlearn++;
	if (p->nlearn) /* nothing learned: no array to sort (qsort(NULL, 0) is undefined) */
		qsort(p->learn, p->nlearn, sizeof *p->learn, cmp_span);

	/* merge into at most max_ranges ranges, max_bytes bytes */
	size_t n = 0, bytes = 0;
	struct span *m = p->learn; /* merged in place */
	for (size_t i = 0; i < p->nlearn; i++) {
		struct span s = p->learn[i];
		if (n > 0 && s.lo <= m[n - 1].hi + MERGE_GAP && s.hi - m[n - 1].lo <= MAX_SPAN &&
		    (s.lo <= m[n - 1].hi || !bridges_hole(p, m[n - 1].hi, s.lo))) {
			struct span *d = &m[n - 1];
			if (s.hi > d->hi)
				d->hi = s.hi;
			if (s.seen_lo < d->seen_lo)
				d->seen_lo = s.seen_lo;
			if (s.seen_hi > d->seen_hi)
				d->seen_hi = s.seen_hi;
			if (s.idle < d->idle)
				d->idle = s.idle;
			if (s.age > d->age)
				d->age = s.age;
		} else {
			m[n++] = s;
		}
	}
	if (n > p->max_ranges)
		n = p->max_ranges;
	if (n > p->cap) {
		struct range *v = realloc(p->v, n * sizeof *v);
		struct tc_riov *iov = realloc(p->iov, n * sizeof *iov);
		if (v)
			p->v = v;
		if (iov)
			p->iov = iov;
		if (!v || !iov) {
			p->n = 0;
			return;
		}
		p->cap = n;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		size_t len = (size_t)(m[i].hi - m[i].lo);
		if (bytes + len > p->max_bytes)
			break;
		p->v[k++] = (struct range){.addr = m[i].lo, .len = len, .off = bytes,
					   .idle = m[i].idle, .age = m[i].age,
					   .seen_lo = m[i].seen_lo, .seen_hi = m[i].seen_hi};
		bytes += len;
	}
	p->n = k;
	p->bytes = bytes;
	if (bytes > p->buflen || (p->buflen > (1u << 20) && bytes < p->buflen / 4)) {
		uint8_t *b = realloc(p->buf, bytes ? bytes : 1);
		if (!b) {
			p->n = 0;
			return;
		}
		p->buf = b;
		p->buflen = bytes;
	}
	p->nlearn = 0;
}

void tc_prefetch_get_stats(const struct tc_prefetch *p, struct tc_prefetch_stats *out)
{
	*out = p->st;
}

size_t tc_prefetch_batch(const struct tc_prefetch *p, tc_raddr *addr, size_t *len, size_t max)
{
	for (size_t i = 0; i < p->n && i < max; i++) {
		addr[i] = p->v[i].addr;
		len[i] = p->v[i].len;
	}
	return p->n;
}
