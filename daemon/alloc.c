/* SPDX-License-Identifier: MIT */
/* pymalloc statistics from outside the process (see alloc.h).
 *
 * Locating (once, at attach):
 *  - 3.9-3.11 keep the allocator in static globals of Objects/obmalloc.c. Source and debug
 *    builds name them in .symtab (arenas, maxarenas, raw_allocated_blocks, the arena
 *    counters, usedpools). Stripped builds export only _Py_GetAllocatedBlocks(), whose first
 *    instructions load raw_allocated_blocks, maxarenas (4 bytes) and arenas (a pointer that
 *    is then dereferenced): reader/x86_decode.c lists those RIP-relative operands. The
 *    lifetime arena counters have no anchor there and are reported unavailable.
 *  - 3.12 embeds struct _obmalloc_state in PyInterpreterState, 3.13+ points to it (the main
 *    interpreter's is the static obmalloc_state_main). The table's offset is checked by the
 *    usedpools pattern (every size class either empty, its pair pointing 16 bytes before
 *    itself, or pointing at pool-aligned headers); a point release that moved it is found by
 *    searching nearby.
 * Reading: where the arena array is and the GC state (one process_vm_readv), then the arena
 * array, the counters and on 3.15 the GC records (a second one); the walk then reads the first
 * 40 bytes of every carved pool of every live arena, 1,024 per call. Every value is bounded and checked:
 * arena objects (pool_address inside the arena, free <= total pools), pool headers (size
 * class < 32, count <= blocks per pool, arenaindex == its arena). */
#include "daemon/alloc.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "layouts/version.h"
#include "reader/elf.h"
#include "reader/maps.h"
#include "reader/proc.h"
#include "reader/x86_decode.h"

#define SUMMARY_TRIES 5
#define WALK_BATCH 1024          /* pool headers per process_vm_readv */
#define POOL_READ 40             /* ref.count .. szidx *//* Reading whole carved runs instead (one range per arena) was measured slower on 3.9's 4 KiB
 * pools (bench/stats_bench.py: 29 ms against 21 ms per 100 MiB walk): every page is pinned
 * either way, and the copy costs more than the extra iovecs. */
#define OM_WINDOW 512            /* search around the table's interp->obmalloc */

/* Addresses of the allocator's variables (0: unknown). */
struct om_vars {
	tc_raddr arenas, maxarenas, raw, current, ntimes, highwater;
};

struct tc_alloc {
	pid_t pid;
	struct tc_alloc_layout l;
	char version[24];
	bool debug, free_threaded;
	bool have_om;
	struct om_vars v;
	const char *why_om;             /* when !have_om */
	const char *why_counters;       /* lifetime counters unknown */
	char how_om[160];
	bool have_gc;
	tc_raddr gc;
	const char *why_gc;
	char how_gc[160];
	int statm_fd;                   /* /proc/PID/statm, -1 */
	long page_size;
};

/* ---- locating -------------------------------------------------------------------------- */

/* True when [ADDR, ADDR+LEN) lies in one readable mapping (writable when W). */
static bool mapped(const struct tc_maps *maps, tc_raddr addr, size_t len, bool w)
{
	const struct tc_map *m = tc_maps_find(maps, addr);

	return m && m->r && (!w || m->w) && addr + len <= m->end;
}

/* Check a usedpools copy at ADDR, re-reading a few times: a class being relinked while we
 * read can look inconsistent for an instant. Returns >= 0 (empty classes) or an error. */
static int usedpools_ok(const struct tc_alloc_layout *l, struct tc_remote *mem, tc_raddr addr)
{
	uint8_t buf[TC_OM_USEDPOOLS * 8];
	int err = -TC_EINVAL;

	for (int i = 0; i < 3; i++) {
		err = tc_remote_read(mem, addr, buf, sizeof buf);
		if (err == -TC_ESRCH || err == -TC_EPERM)
			return err;
		if (err)
			continue;
		err = tc_alloc_check_usedpools(l, buf, sizeof buf, addr);
		if (err >= 0)
			return err;
	}
	return err;
}

/* Plausible maxarenas / arenas pair (values read from the target). */
static bool arenas_plausible(const struct tc_maps *maps, uint32_t maxarenas, uint64_t arenas)
{
	if (maxarenas == 0)
		return arenas == 0 || mapped(maps, arenas, 1, false);
	if (maxarenas > TC_OM_MAX_ARENAS || maxarenas % 16)
		return false; /* INITIAL_ARENA_OBJECTS is 16, and the array doubles */
	return arenas && mapped(maps, arenas, (size_t)maxarenas * TC_OM_ARENA_OBJECT_SIZE, true);
}

static int check_vars(struct tc_alloc *a, struct tc_remote *mem, const struct tc_maps *maps)
{
	uint32_t maxarenas = 0;
	uint64_t arenas = 0, raw = 0;
	struct tc_riov v[3] = {
		{a->v.maxarenas, &maxarenas, 4}, {a->v.arenas, &arenas, 8}, {a->v.raw, &raw, 8},
	};
	int err = tc_remote_readv(mem, v, 3);

	if (err)
		return err;
	if ((int64_t)raw < 0 || !arenas_plausible(maps, maxarenas, arenas))
		return -TC_EINVAL;
	return 0;
}

/* 3.9-3.11 with a symbol table. Returns 0, -TC_ENOENT (no symbols), or an error. */
static int locate_static_symbols(struct tc_alloc *a, struct tc_elf *e, int64_t bias,
				 struct tc_remote *mem, const struct tc_maps *maps)
{
	static const char *const names[] = {
		"arenas", "maxarenas", "raw_allocated_blocks", "narenas_currently_allocated",
		"ntimes_arena_allocated", "narenas_highwater", "usedpools",
	};
	uint64_t val[TC_ARRAY_LEN(names)];
	int err;

	for (size_t i = 0; i < TC_ARRAY_LEN(names); i++)
		if (tc_elf_symbol(e, names[i], &val[i], NULL) != 0)
			return -TC_ENOENT;
	a->v.arenas = val[0] + (uint64_t)bias;
	a->v.maxarenas = val[1] + (uint64_t)bias;
	a->v.raw = val[2] + (uint64_t)bias;
	a->v.current = val[3] + (uint64_t)bias;
	a->v.ntimes = val[4] + (uint64_t)bias;
	a->v.highwater = val[5] + (uint64_t)bias;
	err = usedpools_ok(&a->l, mem, val[6] + (uint64_t)bias);
	if (err == -TC_ESRCH || err == -TC_EPERM)
		return err;
	if (err < 0) {
		a->why_om = "usedpools at its symbol does not hold the expected pattern";
		return -TC_EINVAL;
	}
	err = check_vars(a, mem, maps);
	if (err == -TC_ESRCH || err == -TC_EPERM)
		return err;
	if (err) {
		a->why_om = "arenas/maxarenas at their symbols are not plausible";
		return -TC_EINVAL;
	}
	snprintf(a->how_om, sizeof a->how_om, "static variables by symbol (.symtab), usedpools checked");
	return 0;
}

int tc_alloc_decode_getallocatedblocks(const uint8_t *code, size_t len, uint64_t pc,
				       uint64_t *raw, uint64_t *maxarenas, uint64_t *arenas)
{
	struct tc_x86_ref refs[16];
	uint64_t found[3] = {0, 0, 0}; /* raw, maxarenas, arenas */
	size_t n = 0;

	if (tc_x86_rip_refs(code, len, pc, 64, refs, TC_ARRAY_LEN(refs), &n) != 0)
		return -TC_EINVAL;
	/* maxarenas: the one 4-byte global; arenas: the 8-byte global used as a pointer;
	 * raw_allocated_blocks: the other 8-byte global read into a register. Anything
	 * ambiguous is refused rather than guessed. */
	for (size_t i = 0; i < n; i++) {
		int slot;

		if (refs[i].size == 4)
			slot = 1;
		else if (refs[i].size == 8 && refs[i].dereferenced)
			slot = 2;
		else if (refs[i].size == 8 && refs[i].load_to_reg)
			slot = 0;
		else
			continue;
		if (found[slot] && found[slot] != refs[i].target)
			return -TC_ENOENT;
		found[slot] = refs[i].target;
	}
	if (!found[0] || !found[1] || !found[2] || found[0] == found[1] || found[1] == found[2] ||
	    found[0] == found[2])
		return -TC_ENOENT;
	*raw = found[0];
	*maxarenas = found[1];
	*arenas = found[2];
	return 0;
}

/* 3.9-3.11 stripped: the variables _Py_GetAllocatedBlocks() reads. */
static int locate_static_decode(struct tc_alloc *a, struct tc_elf *e, int64_t bias,
				struct tc_remote *mem, const struct tc_maps *maps)
{
	uint8_t code[256];
	uint64_t fn, fsize = 0;
	size_t len = sizeof code;
	uint64_t maxarenas = 0, arenas = 0, raw = 0;
	int err;

	if (tc_elf_symbol(e, "_Py_GetAllocatedBlocks", &fn, &fsize) != 0) {
		a->why_om = "stripped build without _Py_GetAllocatedBlocks: no anchor to pymalloc";
		return -TC_ENOENT;
	}
	if (fsize && fsize < len)
		len = (size_t)fsize;
	if (tc_elf_read_vaddr(e, fn, code, len) != 0 &&
	    tc_remote_read(mem, fn + (uint64_t)bias, code, len) != 0) {
		a->why_om = "cannot read the code of _Py_GetAllocatedBlocks";
		return -TC_ENOENT;
	}
	err = tc_alloc_decode_getallocatedblocks(code, len, fn, &raw, &maxarenas, &arenas);
	if (err) {
		a->why_om = err == -TC_EINVAL ? "cannot decode _Py_GetAllocatedBlocks (not x86-64?)" :
			    "_Py_GetAllocatedBlocks does not read the three globals expected";
		return -TC_ENOENT;
	}
	a->v.maxarenas = maxarenas + (uint64_t)bias;
	a->v.arenas = arenas + (uint64_t)bias;
	a->v.raw = raw + (uint64_t)bias;
	if (!mapped(maps, a->v.maxarenas, 4, true) || !mapped(maps, a->v.arenas, 8, true) ||
	    !mapped(maps, a->v.raw, 8, true)) {
		a->why_om = "globals read by _Py_GetAllocatedBlocks are not in writable memory";
		return -TC_EINVAL;
	}
	err = check_vars(a, mem, maps);
	if (err == -TC_ESRCH || err == -TC_EPERM)
		return err;
	if (err) {
		a->why_om = "arenas/maxarenas found through _Py_GetAllocatedBlocks are not plausible";
		return -TC_EINVAL;
	}
	a->why_counters = "stripped build: the lifetime arena counters are static variables "
			  "without a symbol or an exported reader";
	snprintf(a->how_om, sizeof a->how_om,
		 "stripped: decoded _Py_GetAllocatedBlocks (raw_allocated_blocks, maxarenas, arenas)");
	return 0;
}

static void vars_from_state(struct tc_alloc *a, tc_raddr om)
{
	a->v.arenas = om + (uint64_t)a->l.om.arenas;
	a->v.maxarenas = om + (uint64_t)a->l.om.maxarenas;
	a->v.raw = om + (uint64_t)a->l.om.raw_allocated_blocks;
	a->v.current = om + (uint64_t)a->l.om.narenas_currently_allocated;
	a->v.ntimes = om + (uint64_t)a->l.om.ntimes_arena_allocated;
	a->v.highwater = om + (uint64_t)a->l.om.narenas_highwater;
}

/* A struct _obmalloc_state at OM? Returns 0, -TC_EINVAL, or a fatal error. */
static int state_ok(struct tc_alloc *a, struct tc_remote *mem, const struct tc_maps *maps,
		    tc_raddr om)
{
	int err;

	if (!om || om % 8 || !mapped(maps, om, (size_t)a->l.om.size, true))
		return -TC_EINVAL;
	err = usedpools_ok(&a->l, mem, om + (uint64_t)a->l.om.usedpools);
	if (err == -TC_ESRCH || err == -TC_EPERM)
		return err;
	if (err < 0)
		return -TC_EINVAL;
	vars_from_state(a, om);
	return check_vars(a, mem, maps);
}

/* 3.12+: the state in (3.12) or behind (3.13+) the main interpreter. */
static int locate_state(struct tc_alloc *a, struct tc_remote *mem, const struct tc_maps *maps,
			tc_raddr interp, struct tc_elf *e, int64_t bias)
{
	bool ptr = a->l.om_home == TC_OM_INTERP_PTR;
	uint8_t win[2 * OM_WINDOW + 8];
	int64_t base = a->l.interp_obmalloc;
	int err;

	/* the table's offset */
	if (ptr) {
		uint64_t om = 0;

		err = tc_remote_read(mem, interp + (uint64_t)base, &om, 8);
		if (err == -TC_ESRCH || err == -TC_EPERM)
			return err;
		if (!err && (err = state_ok(a, mem, maps, om)) == 0) {
			snprintf(a->how_om, sizeof a->how_om,
				 "*(interp+0x%llx) = 0x%llx (table, usedpools checked)",
				 (unsigned long long)base, (unsigned long long)om);
			return 0;
		}
	} else {
		err = state_ok(a, mem, maps, interp + (uint64_t)base);
		if (err == 0) {
			snprintf(a->how_om, sizeof a->how_om,
				 "interp+0x%llx (table, usedpools checked)", (unsigned long long)base);
			return 0;
		}
	}
	if (err == -TC_ESRCH || err == -TC_EPERM)
		return err;
	/* the main interpreter's static, where the symbol table names it */
	uint64_t sym;

	if (ptr && e && a->l.om_main_symbol && tc_elf_symbol(e, a->l.om_main_symbol, &sym, NULL) == 0) {
		err = state_ok(a, mem, maps, sym + (uint64_t)bias);
		if (err == 0) {
			snprintf(a->how_om, sizeof a->how_om, "%s symbol (usedpools checked)",
				 a->l.om_main_symbol);
			return 0;
		}
		if (err == -TC_ESRCH || err == -TC_EPERM)
			return err;
	}
	/* search near the table's offset: a point release that moved the field */
	int64_t lo = base - OM_WINDOW < 0 ? 0 : base - OM_WINDOW;

	err = tc_remote_read(mem, interp + (uint64_t)lo, win, sizeof win);
	if (err == -TC_ESRCH || err == -TC_EPERM)
		return err;
	if (err)
		goto fail;
	for (int64_t d = 8; d <= OM_WINDOW; d += 8) {
		for (int s = 0; s < 2; s++) {
			int64_t off = s ? base - d : base + d;
			tc_raddr om;

			if (off < lo || off + 8 > lo + (int64_t)sizeof win)
				continue;
			om = ptr ? tc_get_u64(win, (size_t)(off - lo)) : interp + (uint64_t)off;
			if (ptr && !mapped(maps, om, (size_t)a->l.om.size, true))
				continue;
			err = state_ok(a, mem, maps, om);
			if (err == -TC_ESRCH || err == -TC_EPERM)
				return err;
			if (err == 0) {
				snprintf(a->how_om, sizeof a->how_om,
					 "%sinterp+0x%llx%s (searched: the table says 0x%llx; usedpools checked)",
					 ptr ? "*(" : "", (unsigned long long)off, ptr ? ")" : "",
					 (unsigned long long)base);
				return 0;
			}
		}
	}
fail:
	a->why_om = "the obmalloc state was not found where this version keeps it "
		    "(usedpools pattern not seen)";
	return -TC_ENOENT;
}

static int open_elf(pid_t pid, const char *binary, const struct tc_maps *maps,
		    struct tc_elf **e, int64_t *bias)
{
	char host[1024];
	int err;

	if (tc_proc_root_path(pid, binary, host, sizeof host) != 0)
		return -TC_ENOENT;
	err = tc_elf_open(host, e);
	if (err)
		return err;
	err = tc_elf_bias(*e, maps, binary, bias);
	if (err) {
		tc_elf_free(*e);
		*e = NULL;
	}
	return err;
}

int tc_alloc_open(struct tc_target *t, struct tc_alloc **out)
{
	struct tc_alloc *a = NULL;
	struct tc_maps maps = {0};
	struct tc_elf *e = NULL;
	int64_t bias = 0;
	uint64_t interp = 0;
	int err;

	if (!t || !out)
		return -TC_EINVAL;
	a = calloc(1, sizeof *a);
	if (!a)
		return -TC_ENOMEM;
	a->pid = t->pid;
	a->statm_fd = -1;
	a->page_size = sysconf(_SC_PAGESIZE);
	snprintf(a->version, sizeof a->version, "%s", t->version);
	a->debug = t->layout.debug;
	a->free_threaded = t->layout.free_threaded;
	snprintf(a->how_om, sizeof a->how_om, "not located");
	snprintf(a->how_gc, sizeof a->how_gc, "not located");
	if (tc_alloc_layout_get(t->layout.version_hex, t->layout.debug, t->layout.free_threaded,
				&a->l) != 0) {
		a->why_om = a->why_gc = "no allocator layout for this version";
		goto proc;
	}
	if (a->free_threaded) {
		a->why_om = "free-threaded build uses mimalloc";
		a->why_gc = "free-threaded builds are not covered";
		goto proc;
	}
	err = tc_maps_read(t->pid, &maps);
	if (err)
		goto out;
	/* runtime->interpreters.main sits right after .head in every version 3.9-3.15 */
	err = tc_remote_read(t->mem, t->runtime + (uint64_t)t->layout.runtime.interpreters_head + 8,
			     &interp, sizeof interp);
	if (err == -TC_ESRCH || err == -TC_EPERM)
		goto out;
	if (err || !interp || !tc_maps_find(&maps, interp)) {
		a->why_om = a->why_gc = "main interpreter not readable";
		goto proc;
	}
	if (open_elf(t->pid, t->binary, &maps, &e, &bias) != 0)
		e = NULL;

	if (a->l.om_home == TC_OM_STATIC) {
		err = -TC_ENOENT;
		if (e)
			err = locate_static_symbols(a, e, bias, t->mem, &maps);
		if (err == -TC_ENOENT && e) {
			a->why_om = NULL;
			err = locate_static_decode(a, e, bias, t->mem, &maps);
		} else if (err == -TC_ENOENT) {
			a->why_om = "cannot open the binary holding the interpreter";
		}
	} else {
		err = locate_state(a, t->mem, &maps, interp, e, bias);
	}
	if (err == -TC_ESRCH || err == -TC_EPERM)
		goto out;
	a->have_om = err == 0;
	if (!a->have_om) {
		memset(&a->v, 0, sizeof a->v);
		if (!a->why_om)
			a->why_om = "pymalloc state not found";
	}

	err = tc_alloc_gc_locate(&a->l, t->mem, interp, &a->gc, a->how_gc, sizeof a->how_gc);
	if (err == -TC_ESRCH || err == -TC_EPERM || err == -TC_ENOMEM)
		goto out;
	a->have_gc = err == 0;
	if (!a->have_gc)
		a->why_gc = "GC state not found where this version keeps it (validation failed)";
proc:
	a->statm_fd = tc_proc_open_statm(t->pid);
	if (a->statm_fd < 0)
		a->statm_fd = -1;
	*out = a;
	a = NULL;
	err = 0;
out:
	tc_elf_free(e);
	tc_maps_free(&maps);
	tc_alloc_free(a);
	return err;
}

int tc_alloc_open_addrs(pid_t pid, const struct tc_alloc_layout *l,
			const struct tc_alloc_addrs *ad, const char *version,
			struct tc_alloc **out)
{
	struct tc_alloc *a;

	if (!l || !ad || !out)
		return -TC_EINVAL;
	a = calloc(1, sizeof *a);
	if (!a)
		return -TC_ENOMEM;
	a->pid = pid;
	a->l = *l;
	a->statm_fd = -1;
	a->page_size = sysconf(_SC_PAGESIZE);
	a->debug = l->debug;
	snprintf(a->version, sizeof a->version, "%s", version ? version : "");
	a->have_om = ad->arenas && ad->maxarenas && ad->raw_allocated_blocks;
	if (a->have_om) {
		a->v.arenas = ad->arenas;
		a->v.maxarenas = ad->maxarenas;
		a->v.raw = ad->raw_allocated_blocks;
		a->v.ntimes = ad->ntimes_arena_allocated;
		a->v.highwater = ad->narenas_highwater;
		if (!a->v.ntimes || !a->v.highwater)
			a->v.ntimes = a->v.highwater = 0;
		a->why_counters = a->v.ntimes ? NULL : "lifetime arena counters not located";
		snprintf(a->how_om, sizeof a->how_om, "given addresses");
	} else {
		a->why_om = "pymalloc not located";
	}
	a->have_gc = ad->gc && l->gc.size > 0;
	a->gc = ad->gc;
	a->why_gc = a->have_gc ? NULL : "GC state not located";
	snprintf(a->how_gc, sizeof a->how_gc, "given address");
	if (pid > 0) {
		a->statm_fd = tc_proc_open_statm(pid);
		if (a->statm_fd < 0)
			a->statm_fd = -1;
	}
	*out = a;
	return 0;
}

void tc_alloc_free(struct tc_alloc *a)
{
	if (!a)
		return;
	if (a->statm_fd >= 0)
		close(a->statm_fd);
	free(a);
}

const struct tc_alloc_layout *tc_alloc_layout(const struct tc_alloc *a)
{
	return &a->l;
}

const char *tc_alloc_how_pymalloc(const struct tc_alloc *a)
{
	return a->have_om ? a->how_om : a->why_om;
}

const char *tc_alloc_how_gc(const struct tc_alloc *a)
{
	return a->have_gc ? a->how_gc : a->why_gc;
}

/* ---- reading --------------------------------------------------------------------------- */

/* RSS and anonymous RSS (reader/proc.c). */
static void read_statm(const struct tc_alloc *a, struct tc_alloc_summary *s)
{
	s->rss_bytes = s->rss_anon_bytes = -1;
	s->why_process = "/proc/PID/statm not readable";
	if (a->statm_fd >= 0 && tc_proc_statm(a->statm_fd, &s->rss_bytes, &s->rss_anon_bytes) == 0)
		s->why_process = NULL;
}

static void summary_blank(const struct tc_alloc *a, struct tc_alloc_summary *s)
{
	memset(s, 0, sizeof *s);
	s->arenas_allocated_total = s->arenas_reclaimed = s->arenas_highwater = -1;
	s->arenas_current = s->raw_allocated_blocks = s->pools_in_use = s->pools_unused = -1;
	s->arena_bytes = -1;
	s->pool_size = a->l.pool_size;
	s->arena_size = a->l.arena_size;
	s->why_pymalloc = a->have_om ? NULL : a->why_om;
	s->why_arena_counters = a->have_om ? a->why_counters : a->why_om;
	s->gc_enabled = s->gc_collecting = -1;
	for (int i = 0; i < 3; i++)
		s->gen[i] = (struct tc_gc_generation){-1, -1, -1, -1, -1};
	s->why_gc = a->have_gc ? NULL : a->why_gc;
	s->rss_bytes = s->rss_anon_bytes = -1;
}

/* One consistent read of counters, arena array and GC. *ARENAS_OUT (caller frees), when not
 * NULL, receives the arena array copy and *NARENAS_OUT its entries. A GC copy that fails
 * validation sets *GC_TORN (S->why_gc says so). Returns 0, -TC_EFAULT / -TC_ECORRUPT
 * (raced: retry), or a fatal error. */
static int read_once(const struct tc_alloc *a, struct tc_remote *mem, struct tc_alloc_summary *s,
		     uint8_t **arenas_out, uint32_t *narenas_out, bool *gc_torn)
{
	uint32_t maxarenas = 0;
	uint64_t arenas = 0, raw = 0, ntimes = 0, highwater = 0;
	uint8_t gcbuf[512], ringbuf[2048];
	uint8_t *arr = NULL;
	struct tc_riov v[8];
	size_t n = 0, ringlen = 0;
	tc_raddr ring = 0;
	int err;

	summary_blank(a, s);
	if (a->have_om) {
		v[n++] = (struct tc_riov){a->v.maxarenas, &maxarenas, 4};
		v[n++] = (struct tc_riov){a->v.arenas, &arenas, 8};
	}
	if (a->have_gc && (size_t)a->l.gc.size <= sizeof gcbuf)
		v[n++] = (struct tc_riov){a->gc, gcbuf, (size_t)a->l.gc.size};
	if (n) {
		err = tc_remote_readv(mem, v, n);
		if (err)
			return err;
	}
	/* second call: the arena array and the 3.15 GC records */
	n = 0;
	if (a->have_om) {
		if (maxarenas > TC_OM_MAX_ARENAS || (maxarenas && !arenas))
			return -TC_ECORRUPT;
		if (maxarenas) {
			arr = malloc((size_t)maxarenas * TC_OM_ARENA_OBJECT_SIZE);
			if (!arr)
				return -TC_ENOMEM;
			v[n++] = (struct tc_riov){arenas, arr,
						  (size_t)maxarenas * TC_OM_ARENA_OBJECT_SIZE};
		}
		/* The counters after the array (iovecs are copied in order): arenas allocated
		 * meanwhile then count in ntimes and highwater too, so neither is ever below
		 * the live arenas counted in the array. */
		v[n++] = (struct tc_riov){a->v.raw, &raw, 8};
		if (a->v.ntimes && a->v.highwater) {
			v[n++] = (struct tc_riov){a->v.ntimes, &ntimes, 8};
			v[n++] = (struct tc_riov){a->v.highwater, &highwater, 8};
		}
	}
	if (a->have_gc && a->l.gc_stats_model == TC_GCS_RING &&
	    (size_t)a->l.ring.size <= sizeof ringbuf) {
		ring = tc_alloc_gc_ring_addr(&a->l, gcbuf);
		if (ring) {
			ringlen = (size_t)a->l.ring.size;
			v[n++] = (struct tc_riov){ring, ringbuf, ringlen};
		}
	}
	if (n) {
		err = tc_remote_readv(mem, v, n);
		if (err) {
			free(arr);
			return err;
		}
	}
	/* a torn GC copy costs the GC figures of this attempt, not pymalloc's */
	if (a->have_gc && tc_alloc_gc_decode(&a->l, gcbuf, a->gc, ring ? ringbuf : NULL, ringlen,
					     s) != 0)
		*gc_torn = true;
	if (a->have_om) {
		int64_t live = 0, inuse = 0, unused = 0;

		for (uint32_t i = 0; i < maxarenas; i++) {
			struct tc_arena ar;
			int r = tc_alloc_decode_arena(&a->l, arr + (size_t)i * TC_OM_ARENA_OBJECT_SIZE,
						      &ar);

			if (r < 0) {
				s->arenas_invalid++;
				continue;
			}
			if (r == 0)
				continue;
			live++;
			inuse += ar.ntotalpools - ar.nfreepools;
			unused += ar.nfreepools;
		}
		if ((int64_t)raw < 0 ||
		    (a->v.ntimes && (ntimes > (uint64_t)INT64_MAX || highwater > ntimes ||
				     highwater < (uint64_t)live))) {
			free(arr);
			return -TC_ECORRUPT;
		}
		s->arenas_current = live;
		s->raw_allocated_blocks = (int64_t)raw;
		s->pools_in_use = inuse;
		s->pools_unused = unused;
		s->arena_bytes = live * (int64_t)a->l.arena_size;
		if (a->v.ntimes) {
			s->arenas_allocated_total = (int64_t)ntimes;
			/* reclaimed as _debugmallocstats prints it: total - live (>= 0: the
			 * counters were read after the array, and highwater >= live is checked) */
			s->arenas_reclaimed = (int64_t)ntimes - live;
			s->arenas_highwater = (int64_t)highwater;
		}
	}
	if (arenas_out) {
		*arenas_out = arr;
		*narenas_out = maxarenas;
	} else {
		free(arr);
	}
	return 0;
}

static int read_core(const struct tc_alloc *a, struct tc_remote *mem, struct tc_alloc_summary *s,
		     uint8_t **arenas_out, uint32_t *narenas_out)
{
	int err = 0;

	for (int i = 0; i < SUMMARY_TRIES; i++) {
		bool gc_torn = false;

		if (arenas_out) {
			*arenas_out = NULL;
			*narenas_out = 0;
		}
		err = read_once(a, mem, s, arenas_out, narenas_out, &gc_torn);
		if (err == -TC_EFAULT || err == -TC_ECORRUPT)
			continue;
		if (err || !gc_torn || i + 1 == SUMMARY_TRIES)
			break;
		/* try again for a whole GC copy */
		if (arenas_out) {
			free(*arenas_out);
			*arenas_out = NULL;
		}
	}
	if (err == -TC_EFAULT || err == -TC_ECORRUPT) {
		/* the target kept changing under us: say so rather than print garbage */
		summary_blank(a, s);
		if (a->have_om)
			s->why_pymalloc = s->why_arena_counters =
				"the allocator changed during every attempt to read it";
		if (a->have_gc)
			s->why_gc = "the GC state changed during every attempt to read it";
		err = 0;
	}
	read_statm(a, s);
	return err;
}

int tc_alloc_summary(const struct tc_alloc *a, struct tc_remote *mem,
		     struct tc_alloc_summary *out)
{
	if (!a || !mem || !out)
		return -TC_EINVAL;
	return read_core(a, mem, out, NULL, NULL);
}

/* Pools of one arena to read. */
struct walk_arena {
	uint32_t index;
	struct tc_arena ar;
	size_t first; /* first header slot in the batch */
};


/* Tally the headers of arenas W[0..N) whose bytes are in HDR. */
static void tally(const struct tc_alloc *a, struct tc_alloc_walk *out, const struct walk_arena *w,
		  size_t n, const uint8_t *hdr, const bool *gone)
{
	for (size_t i = 0; i < n; i++) {
		if (gone[i]) {
			out->arenas_vanished++;
			continue;
		}
		for (uint32_t j = 0; j < w[i].ar.npools; j++) {
			uint32_t sz = 0, count = 0;
			int r = tc_alloc_decode_pool(&a->l, hdr + (w[i].first + j) * POOL_READ,
						     w[i].index, &sz, &count);

			out->pools_read++;
			if (r < 0) {
				out->pools_invalid++;
				continue;
			}
			if (r == 0)
				continue;
			out->cls[sz].pools++;
			out->cls[sz].blocks_in_use += count;
			out->cls[sz].free_blocks += tc_alloc_blocks_per_pool(&a->l, sz) - count;
		}
	}
}

/* Read the headers of the arenas W[0..N) (N * pools <= WALK_BATCH) in one call; an arena
 * freed meanwhile makes the call fail, then each arena is read alone and the vanished ones
 * are marked in GONE. Returns 0 or a fatal error. */
static int read_batch(const struct tc_alloc *a, struct tc_remote *mem, const struct walk_arena *w,
		      size_t n, struct tc_riov *iov, uint8_t *hdr, bool *gone)
{
	size_t k = 0;
	int err;

	for (size_t i = 0; i < n; i++) {
		gone[i] = false;
		for (uint32_t j = 0; j < w[i].ar.npools; j++, k++)
			iov[k] = (struct tc_riov){w[i].ar.first_pool + (uint64_t)j * a->l.pool_size,
						  hdr + k * POOL_READ, POOL_READ};
	}
	err = tc_remote_readv(mem, iov, k);
	if (err != -TC_EFAULT)
		return err;
	for (size_t i = 0; i < n; i++) {
		err = tc_remote_readv(mem, iov + w[i].first, w[i].ar.npools);
		if (err == -TC_EFAULT)
			gone[i] = true;
		else if (err)
			return err;
	}
	return 0;
}

int tc_alloc_walk(const struct tc_alloc *a, struct tc_remote *mem, struct tc_alloc_walk *out)
{
	uint8_t *arr = NULL, *hdr = NULL;
	struct tc_riov *iov = NULL;
	struct walk_arena *w = NULL;
	bool *gone = NULL;
	uint32_t narenas = 0;
	size_t nw = 0, npools = 0;
	int err;

	if (!a || !mem || !out)
		return -TC_EINVAL;
	memset(out, 0, sizeof *out);
	for (uint32_t i = 0; i < TC_OM_NCLASSES; i++)
		out->cls[i].size = (i + 1) * TC_OM_ALIGNMENT;
	out->allocated_blocks = out->bytes_in_use = out->bytes_free = -1;
	err = read_core(a, mem, &out->sum, &arr, &narenas);
	if (err)
		return err;
	out->why = out->sum.why_pymalloc;
	if (!a->have_om || !arr) {
		if (!out->why)
			out->why = "pymalloc not readable";
		free(arr);
		return 0;
	}
	hdr = malloc((size_t)WALK_BATCH * POOL_READ);
	iov = calloc(WALK_BATCH, sizeof *iov);
	w = calloc(WALK_BATCH, sizeof *w);
	gone = calloc(WALK_BATCH, sizeof *gone);
	if (!hdr || !iov || !w || !gone) {
		err = -TC_ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i <= narenas; i++) {
		struct tc_arena ar = {0};

		if (i < narenas &&
		    tc_alloc_decode_arena(&a->l, arr + (size_t)i * TC_OM_ARENA_OBJECT_SIZE, &ar) <= 0)
			continue;
		/* flush when this arena would not fit, and at the end */
		if (nw && (i == narenas || npools + ar.npools > WALK_BATCH)) {
			err = read_batch(a, mem, w, nw, iov, hdr, gone);
			if (err)
				goto out;
			tally(a, out, w, nw, hdr, gone);
			nw = npools = 0;
		}
		if (i == narenas)
			break;
		if (ar.first_pool != ar.address)
			out->arenas_unaligned++;
		w[nw] = (struct walk_arena){i, ar, npools};
		nw++;
		npools += ar.npools;
	}
	out->allocated_blocks = out->sum.raw_allocated_blocks;
	out->bytes_in_use = out->bytes_free = 0;
	for (uint32_t i = 0; i < TC_OM_NCLASSES; i++) {
		out->allocated_blocks += (int64_t)out->cls[i].blocks_in_use;
		out->bytes_in_use += (int64_t)(out->cls[i].blocks_in_use * out->cls[i].size);
		out->bytes_free += (int64_t)(out->cls[i].free_blocks * out->cls[i].size);
	}
	out->why = NULL;
	err = 0;
out:
	free(arr);
	free(hdr);
	free(iov);
	free(w);
	free(gone);
	return err;
}

/* ---- JSON -------------------------------------------------------------------------------- */

static void num_or_null(cJSON *o, const char *k, int64_t v)
{
	if (v < 0)
		cJSON_AddNullToObject(o, k);
	else
		cJSON_AddNumberToObject(o, k, (double)v);
}

static void why(cJSON *u, const char *field, const char *reason)
{
	if (reason && !cJSON_HasObjectItem(u, field))
		cJSON_AddStringToObject(u, field, reason);
}

cJSON *tc_alloc_json(const struct tc_alloc *a, const struct tc_alloc_summary *s,
		     const struct tc_alloc_walk *w)
{
	cJSON *o = cJSON_CreateObject(), *py, *pm, *ar, *gc, *gens, *pr, *u;

	if (!o)
		return NULL;
	if (w)
		s = &w->sum;
	u = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "pid", (double)a->pid);
	py = cJSON_AddObjectToObject(o, "python");
	cJSON_AddStringToObject(py, "version", a->version);
	cJSON_AddBoolToObject(py, "debug", a->debug);
	cJSON_AddBoolToObject(py, "free_threaded", a->free_threaded);

	/* pymalloc */
	if (!a->have_om || (w && w->why) || s->arenas_current < 0) {
		cJSON_AddNullToObject(o, "pymalloc");
		why(u, "pymalloc", w && w->why ? w->why : s->why_pymalloc ? s->why_pymalloc :
				   "pymalloc not readable");
	} else {
		pm = cJSON_AddObjectToObject(o, "pymalloc");
		if (w) {
			cJSON *cls = cJSON_AddArrayToObject(pm, "size_classes");

			for (uint32_t i = 0; i < TC_OM_NCLASSES; i++) {
				cJSON *c;

				if (!w->cls[i].pools)
					continue;
				c = cJSON_CreateObject();
				cJSON_AddNumberToObject(c, "index", i);
				cJSON_AddNumberToObject(c, "size", w->cls[i].size);
				cJSON_AddNumberToObject(c, "pools", (double)w->cls[i].pools);
				cJSON_AddNumberToObject(c, "blocks_in_use", (double)w->cls[i].blocks_in_use);
				cJSON_AddNumberToObject(c, "free_blocks", (double)w->cls[i].free_blocks);
				cJSON_AddItemToArray(cls, c);
			}
		}
		ar = cJSON_AddObjectToObject(pm, "arenas");
		num_or_null(ar, "allocated_total", s->arenas_allocated_total);
		num_or_null(ar, "reclaimed", s->arenas_reclaimed);
		num_or_null(ar, "highwater", s->arenas_highwater);
		num_or_null(ar, "current", s->arenas_current);
		if (s->arenas_allocated_total < 0) {
			why(u, "pymalloc.arenas.allocated_total", s->why_arena_counters);
			why(u, "pymalloc.arenas.reclaimed", s->why_arena_counters);
			why(u, "pymalloc.arenas.highwater", s->why_arena_counters);
		}
		if (w) {
			num_or_null(pm, "allocated_blocks", w->allocated_blocks);
			num_or_null(pm, "bytes_in_use", w->bytes_in_use);
			num_or_null(pm, "bytes_free", w->bytes_free);
		}
		num_or_null(pm, "raw_allocated_blocks", s->raw_allocated_blocks);
		num_or_null(pm, "pools_in_use", s->pools_in_use);
		num_or_null(pm, "unused_pools", s->pools_unused);
		num_or_null(pm, "arena_bytes", s->arena_bytes);
		cJSON_AddNumberToObject(pm, "pool_size", s->pool_size);
		cJSON_AddNumberToObject(pm, "arena_size", s->arena_size);
		if (w) {
			/* share of the arenas' bytes not holding allocated blocks */
			if (s->arena_bytes > 0)
				cJSON_AddNumberToObject(pm, "fragmentation",
					1.0 - (double)w->bytes_in_use / (double)s->arena_bytes);
			else
				cJSON_AddNullToObject(pm, "fragmentation");
			cJSON *ck = cJSON_AddObjectToObject(pm, "walk");
			cJSON_AddNumberToObject(ck, "pools_read", (double)w->pools_read);
			cJSON_AddNumberToObject(ck, "pools_invalid", (double)w->pools_invalid);
			cJSON_AddNumberToObject(ck, "arenas_invalid", (double)s->arenas_invalid);
			cJSON_AddNumberToObject(ck, "arenas_vanished", (double)w->arenas_vanished);
			cJSON_AddNumberToObject(ck, "arenas_unaligned", (double)w->arenas_unaligned);
		}
	}

	/* gc */
	if (s->why_gc || s->gc_enabled < 0) {
		cJSON_AddNullToObject(o, "gc");
		why(u, "gc", s->why_gc ? s->why_gc : "GC state not readable");
	} else {
		gc = cJSON_AddObjectToObject(o, "gc");
		cJSON_AddBoolToObject(gc, "enabled", s->gc_enabled == 1);
		cJSON_AddBoolToObject(gc, "collecting", s->gc_collecting == 1);
		gens = cJSON_AddArrayToObject(gc, "generations");
		for (int i = 0; i < 3; i++) {
			cJSON *g = cJSON_CreateObject();

			num_or_null(g, "count", s->gen[i].count);
			num_or_null(g, "threshold", s->gen[i].threshold);
			num_or_null(g, "collections", s->gen[i].collections);
			num_or_null(g, "collected", s->gen[i].collected);
			num_or_null(g, "uncollectable", s->gen[i].uncollectable);
			cJSON_AddItemToArray(gens, g);
		}
	}

	/* process */
	pr = cJSON_AddObjectToObject(o, "process");
	num_or_null(pr, "rss_bytes", s->rss_bytes);
	num_or_null(pr, "rss_anon_bytes", s->rss_anon_bytes);
	if (s->rss_bytes < 0) {
		why(u, "process.rss_bytes", s->why_process);
		why(u, "process.rss_anon_bytes", s->why_process);
	}
	cJSON_AddItemToObject(o, "unavailable", u);
	return o;
}
