/* SPDX-License-Identifier: MIT */
/* Kernel tids from glibc's struct pthread (3.9/3.10 targets). See pthread_tid.h. */
#include "daemon/pthread_tid.h"

#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "reader/proc.h"

enum { SCAN = 1024, MAX_IDENTS = 64 };

/* glibc x86-64 has kept `tid` at 0x2d0 for years; preferred when it is consistent. */
#define USUAL_OFFSET 0x2d0

static uint64_t rd64(struct tc_remote *mem, tc_raddr a, int *ok)
{
	uint64_t v = 0;
	*ok = tc_remote_read(mem, a, &v, sizeof v) == 0;
	return v;
}

/* Thread idents of the first interpreter (bounded). */
static size_t collect_idents(const struct tc_target *t, struct tc_remote *mem, uint64_t *out,
			     size_t max)
{
	const struct tc_layout *l = &t->layout;
	int ok;
	size_t n = 0;
	tc_raddr interp = rd64(mem, t->runtime + (tc_raddr)l->runtime.interpreters_head, &ok);
	if (!ok || !interp)
		return 0;
	tc_raddr ts = rd64(mem, interp + (tc_raddr)l->interp.threads_head, &ok);
	for (size_t guard = 0; ok && ts && n < max && guard < 4096; guard++) {
		uint64_t ident = rd64(mem, ts + (tc_raddr)l->tstate.thread_id, &ok);
		if (!ok)
			break;
		if (ident)
			out[n++] = ident;
		ts = rd64(mem, ts + (tc_raddr)l->tstate.next, &ok);
	}
	return n;
}

static bool in_set(const pid_t *v, size_t n, uint32_t x)
{
	for (size_t i = 0; i < n; i++)
		if ((uint32_t)v[i] == x)
			return true;
	return false;
}

int tc_pthread_tid_calibrate(const struct tc_target *t, struct tc_remote *mem)
{
	int best = -1;
	uint64_t idents[MAX_IDENTS];
	uint8_t (*blocks)[SCAN] = NULL;
	pid_t *tids = NULL;
	size_t ntids = 0;

	size_t n = collect_idents(t, mem, idents, MAX_IDENTS);
	if (n == 0 || tc_proc_threads(t->pid, &tids, &ntids) != 0)
		goto out;
	blocks = calloc(n, SCAN);
	if (!blocks)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (tc_remote_read(mem, idents[i], blocks[i], SCAN) != 0)
			goto out;
	/* Threads come and go while this runs: a thread that exited after its ident was read
	 * has no tid in the list any more. An offset qualifies when every value is non-zero and
	 * distinct and at most a quarter of them (and never all) are missing from the list. */
	const size_t may_miss = n / 4;
	for (int off = 0; off + 4 <= SCAN; off += 4) {
		bool good = true;
		size_t missing = 0;
		for (size_t i = 0; i < n && good; i++) {
			uint32_t v = tc_get_u32(blocks[i], (size_t)off);
			good = v != 0;
			if (good && !in_set(tids, ntids, v))
				good = ++missing <= may_miss;
			for (size_t j = 0; j < i && good; j++)
				good = tc_get_u32(blocks[j], (size_t)off) != v;
		}
		if (!good)
			continue;
		if (off == USUAL_OFFSET || best < 0)
			best = off;
		if (off == USUAL_OFFSET)
			break;
	}
out:
	free(blocks);
	free(tids);
	return best;
}

/* A calibration that failed (threads starting or exiting while it ran) is tried again,
 * at most this often. */
#define RECALIBRATE_NS 250000000ull

uint64_t tc_pthread_tid(struct tc_walk_ctx *x, uint64_t ident)
{
	uint32_t v = 0;
	if (!ident)
		return 0;
	if (x->m.tid_off < 0) {
		uint64_t ns = tc_now_ns();
		if (ns < x->m.tid_calib_next_ns)
			return 0;
		x->m.tid_calib_next_ns = ns + RECALIBRATE_NS;
		x->m.tid_off = tc_pthread_tid_calibrate(x->t, x->rd.mem);
		if (x->m.tid_off < 0)
			return 0;
	}
	tc_raddr a = ident + (tc_raddr)x->m.tid_off;
	int err = tc_read(&x->rd, TC_READ_HOT, a, &v, sizeof v);
	if (err)
		return 0;
	return v;
}
