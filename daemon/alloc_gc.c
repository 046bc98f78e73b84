/* SPDX-License-Identifier: MIT */
/* The garbage collector's state, read from outside: per generation the threshold and count
 * (gc.get_threshold(), gc.get_count()) and the records gc.get_stats() reports (collections,
 * collected, uncollectable), plus whether collection is enabled and running.
 *
 * 3.9-3.14 embed generation_stats[3] in interp->gc; 3.15 keeps a pointer to struct gc_stats,
 * rings of records of which gc.get_stats() reports the current one of each (young, old[0],
 * old[1]). The state is located once per attach: the table's offset when generation0 (a
 * pointer to generations[0], present in every version) agrees, else a search nearby. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/alloc.h"

/* How far from the table's offset the search looks (a point release that moved the field). */
#define GC_WINDOW 1024

int tc_alloc_gc_locate(struct tc_alloc_layout *l, struct tc_remote *mem, tc_raddr interp,
		       tc_raddr *addr, char *how, size_t howlen)
{
	uint8_t *buf = NULL;
	int64_t lo, hi;
	size_t len;
	int err;

	if (l->interp_gc < 0 || l->gc.size <= 0)
		return -TC_ENOENT;
	lo = l->interp_gc - GC_WINDOW;
	if (lo < 0)
		lo = 0;
	hi = (int64_t)l->interp_gc + GC_WINDOW;
	len = (size_t)(hi - lo) + (size_t)l->gc.size;
	buf = malloc(len);
	if (!buf)
		return -TC_ENOMEM;
	err = tc_remote_read(mem, interp + (uint64_t)lo, buf, len);
	if (err == -TC_EFAULT) {
		/* the window ran off the mapping: the table's offset alone */
		lo = l->interp_gc;
		hi = lo;
		len = (size_t)l->gc.size;
		err = tc_remote_read(mem, interp + (uint64_t)lo, buf, len);
	}
	if (err)
		goto out;
	err = -TC_ENOENT;
	/* the table's offset first, then outwards */
	for (int64_t d = 0; d <= GC_WINDOW; d += 8) {
		for (int s = 0; s < (d ? 2 : 1); s++) {
			int64_t off = s ? l->interp_gc - d : l->interp_gc + d;

			if (off < lo || off > hi)
				continue;
			for (int alt = 0; alt < 2; alt++) {
				struct tc_alloc_layout c = *l;

				if (alt && l->gc.generations_alt < 0)
					break;
				if (alt)
					c.gc.generations = l->gc.generations_alt;
				if (!tc_alloc_gc_plausible(&c, buf + (off - lo), interp + (uint64_t)off))
					continue;
				*addr = interp + (uint64_t)off;
				l->gc.generations = c.gc.generations;
				snprintf(how, howlen, "interp+0x%llx, generations at +%d%s",
					 (unsigned long long)off, (int)c.gc.generations,
					 d ? " (searched: the table says another offset)" :
					     " (table, generation0 checked)");
				err = 0;
				goto out;
			}
		}
	}
out:
	free(buf);
	return err;
}

tc_raddr tc_alloc_gc_ring_addr(const struct tc_alloc_layout *l, const void *gc)
{
	uint64_t p;

	if (l->gc_stats_model != TC_GCS_RING)
		return 0;
	p = tc_get_u64(gc, (size_t)l->gc.stats);
	if (p == 0 || p % 8 || p > 0x7fffffffffffull)
		return 0;
	return p;
}

int tc_alloc_gc_decode(const struct tc_alloc_layout *l, const void *gc, tc_raddr addr,
		       const void *ring, size_t ringlen, struct tc_alloc_summary *s)
{
	struct tc_gc_rec rec[3];
	const void *rbuf = l->gc_stats_model == TC_GCS_RING ? ring : gc;
	size_t rlen = l->gc_stats_model == TC_GCS_RING ? ringlen : (size_t)l->gc.size;

	if (!tc_alloc_gc_plausible(l, gc, addr)) {
		s->why_gc = "GC state failed validation (torn read or unknown layout)";
		return -TC_ECORRUPT;
	}
	if (!rbuf) {
		s->why_gc = "3.15 gc_stats pointer is not valid";
		return -TC_ECORRUPT;
	}
	for (int i = 0; i < 3; i++) {
		if (tc_alloc_gc_record(l, rbuf, rlen, i, &rec[i]) != 0) {
			s->why_gc = "GC statistics records failed validation";
			return -TC_ECORRUPT;
		}
	}
	s->gc_enabled = (int)tc_get_u32(gc, (size_t)l->gc.enabled);
	s->gc_collecting = (int)tc_get_u32(gc, (size_t)l->gc.collecting);
	for (int i = 0; i < 3; i++) {
		struct tc_gc_gen_raw g;

		tc_alloc_gc_generation(l, gc, i, &g);
		s->gen[i].threshold = g.threshold;
		s->gen[i].count = g.count;
		s->gen[i].collections = rec[i].collections;
		s->gen[i].collected = rec[i].collected;
		s->gen[i].uncollectable = rec[i].uncollectable;
	}
	s->why_gc = NULL;
	return 0;
}
