/* SPDX-License-Identifier: MIT */
/* pymalloc statistics from outside the process, the locating half (see alloc.h).
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
 * Reading the figures afterwards is in alloc_read.c. */
#include "daemon/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/alloc_internal.h"
#include "layouts/version.h"
#include "reader/elf.h"
#include "reader/maps.h"
#include "reader/proc.h"
#include "reader/x86_decode.h"

#define OM_WINDOW 512            /* search around the table's interp->obmalloc */

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

