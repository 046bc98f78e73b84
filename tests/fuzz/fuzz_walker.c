/* SPDX-License-Identifier: MIT */
/* Fuzz the walker (daemon/unwind.c) with the code cache, the chain memo, the prefetcher, the
 * page cache and the frame cache, over target memory made of the input.
 *
 * Input: a header, then a memory image, then patches.
 *   byte 0   version: 3.9, 3.10, 3.11, 3.12, 3.13, 3.13t, 3.14, 3.14t, 3.15, 3.15t (mod 10)
 *   byte 1   flags (F_* below): chain memo, prefetcher, page cache, no GIL, cached head,
 *            3.13+ layout from the image's own _Py_DebugOffsets, a 2-entry code cache
 *   byte 2-3 image length L (at most IMG_MAX; the image is zero-padded to it)
 *   L bytes  the image. It is mapped three times: at ARENA (_PyRuntime at its start), so that
 *            it ends exactly at 2^64 (HIGH), and at a misaligned base (MIS): a pointer into any
 *            of them finds the same bytes.
 *   then     10-byte patches {u16 offset, u64 value}: offset 0xffff walks, anything else
 *            stores the value at that offset of the image (mod L). One walk runs before the
 *            first patch and one after the last, at most MAX_WALKS in all: caches, memos and
 *            the prefetcher's learned ranges meet memory that changed since the last walk.
 * After every walk each frame's code object is resolved through the code cache and its line
 * computed (names, strings and line tables come from the image too), and the stacks go
 * through the frame cache the way the sampler stores them.
 *
 * Properties: no crash, no sanitizer report; the walk returns 0 or a documented error; the
 * snapshot is well-formed (every thread's frames inside the frame array, at most
 * TC_MAX_DEPTH frames a thread, TC_MAX_THREADS threads); a frame reported has a code address
 * without tag bits.
 *
 * Built with -DTC_FUZZ_SEEDS it is instead a program that writes seed images (every version,
 * well-formed stacks, plus pointers near 2^64, misaligned, cyclic and into the middle of
 * objects) into the directory given. The builder lays objects out with the project's own
 * layouts: this is not an oracle of where fields are, only a source of valid-looking
 * memory for mutation. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/chain_memo.h"
#include "daemon/code_cache.h"
#include "daemon/frame_cache.h"
#include "daemon/target.h"
#include "daemon/unwind.h"
#include "fuzz_common.h"
#include "layouts/debug_offsets.h"
#include "layouts/layout.h"
#include "layouts/version.h"
#include "reader/page_cache.h"
#include "reader/prefetch.h"
#include "reader/remote.h"

#define IMG_MAX 65536u
#define ARENA 0x7f1200000000ull
#define MIS 0x7f1300000003ull
#define HIGH(len) (0ull - (uint64_t)(len)) /* the image's last byte is 2^64 - 1 */
#define CODE_TYPE 0x55aa00001000ull
#define STR_TYPE 0x55aa00002000ull
#define BYTES_TYPE 0x55aa00003000ull
#define OTHER_TYPE 0x55aa00004000ull
#define MAX_WALKS 8

enum {
	F_MEMO = 1, F_PREFETCH = 2, F_PAGES = 4, F_NOGIL = 8, F_HEAD = 16, F_DBGOFF = 32,
	F_SMALLCC = 64
};

struct ver {
	unsigned minor;
	bool ft;
	uint32_t hex;
};

static const struct ver vers[10] = {
	{9, false, 0x030912f0},  {10, false, 0x030a0df0}, {11, false, 0x030b07f0},
	{12, false, 0x030c01f0}, {13, false, 0x030d12f0}, {13, true, 0x030d12f0},
	{14, false, 0x030e0af0}, {14, true, 0x030e0af0},  {15, false, 0x030f02f0},
	{15, true, 0x030f02f0},
};

/* Values of _Py_DebugOffsets fields of the Debian sid -dbg interpreters (gdb; the same facts
 * tests/unit/test_unwind.c records), -1 where a version lacks the field. */
static const struct tc_dbgoff_fields spec[3] = {
	{.minor = 13, .rt_interpreters_head = 632, .is_code_generation = -1, .is_next = 7264,
	 .is_threads_head = 7344, .is_threads_main = -1, .is_ceval_gil = 16, .is_gil_state = 7752,
	 .is_gil_locked = 7768, .is_gil_holder = 7760, .ts_size = 312, .ts_next = 8,
	 .ts_interp = 16, .ts_current_frame = 72, .ts_thread_id = 152, .ts_native_thread_id = 160,
	 .ts_holds_gil = -1, .fr_size = 80, .fr_previous = 8, .fr_executable = 0,
	 .fr_instr_ptr = 56, .fr_owner = 70, .fr_tlbc_index = -1, .co_size = 208,
	 .co_filename = 112, .co_name = 120, .co_qualname = 128, .co_linetable = 136,
	 .co_firstlineno = 68, .co_code_adaptive = 200, .ob_size = 16, .ob_type = 8,
	 .tu_ob_item = 24, .by_ob_size = 16, .by_ob_sval = 32, .un_state = 32, .un_length = 16,
	 .un_ascii_size = 40, .un_compact_size = -1},
	{.minor = 14, .rt_interpreters_head = 808, .is_next = 7272, .is_threads_head = 7344,
	 .is_threads_main = 7360, .is_ceval_gil = 16, .is_gil_state = 7784, .is_gil_locked = 7800,
	 .is_gil_holder = 7792, .is_code_generation = 7368, .ts_size = 832, .ts_next = 8,
	 .ts_interp = 16, .ts_current_frame = 72, .ts_thread_id = 152, .ts_native_thread_id = 160,
	 .ts_holds_gil = -1, .fr_size = 88, .fr_previous = 8, .fr_executable = 0,
	 .fr_instr_ptr = 56, .fr_owner = 74, .fr_tlbc_index = 0, .co_size = 216,
	 .co_filename = 112, .co_name = 120, .co_qualname = 128, .co_linetable = 136,
	 .co_firstlineno = 68, .co_code_adaptive = 208, .ob_size = 16, .ob_type = 8,
	 .tu_ob_item = 32, .by_ob_size = 16, .by_ob_sval = 32, .un_state = 32, .un_length = 16,
	 .un_ascii_size = 40, .un_compact_size = -1},
	{.minor = 15, .rt_interpreters_head = 936, .is_next = 7264, .is_threads_head = 7336,
	 .is_threads_main = 7352, .is_ceval_gil = 16, .is_gil_state = 7736, .is_gil_locked = 7752,
	 .is_gil_holder = 7744, .is_code_generation = 7360, .ts_size = 888, .ts_next = 8,
	 .ts_interp = 16, .ts_current_frame = 72, .ts_thread_id = 176, .ts_native_thread_id = 184,
	 .ts_holds_gil = 36, .fr_size = 88, .fr_previous = 8, .fr_executable = 0,
	 .fr_instr_ptr = 56, .fr_owner = 74, .fr_tlbc_index = 0, .co_size = 216,
	 .co_filename = 112, .co_name = 120, .co_qualname = 128, .co_linetable = 136,
	 .co_firstlineno = 68, .co_code_adaptive = 208, .ob_size = 16, .ob_type = 8,
	 .tu_ob_item = 32, .by_ob_size = 16, .by_ob_sval = 32, .un_state = 32, .un_length = 16,
	 .un_ascii_size = 40, .un_compact_size = 56},
};

/* Free-threaded builds: a 32-byte object header moves every object field by 16; code
 * objects grow; 3.14t+ frames carry tlbc_index at 72 and owner at 78. */
static struct tc_dbgoff_fields spec_of(const struct ver *v)
{
	struct tc_dbgoff_fields s = spec[v->minor - 13];

	if (!v->ft)
		return s;
	s.free_threaded = 1;
	s.ob_size = 32;
	s.ob_type = 24;
	s.tu_ob_item = v->minor >= 14 ? 48 : 40;
	s.by_ob_size = 32;
	s.by_ob_sval = 48;
	s.un_length = 32;
	s.un_state = 48;
	s.un_ascii_size = 56;
	if (s.un_compact_size >= 0)
		s.un_compact_size = 72;
	s.co_size = v->minor >= 14 ? 240 : 224;
	s.co_filename = 128;
	s.co_name = 136;
	s.co_qualname = 144;
	s.co_linetable = 152;
	s.co_firstlineno = 84;
	s.co_code_adaptive = v->minor >= 14 ? 232 : 216;
	if (v->minor >= 14) {
		s.fr_tlbc_index = 72;
		s.fr_owner = 78;
	}
	return s;
}

#define FIELDS(X) \
	X(rt_interpreters_head) X(is_next) X(is_threads_head) X(is_threads_main) \
	X(is_ceval_gil) X(is_gil_state) X(is_gil_locked) X(is_gil_holder) X(is_code_generation) \
	X(ts_size) X(ts_next) X(ts_interp) X(ts_current_frame) X(ts_thread_id) \
	X(ts_native_thread_id) X(ts_holds_gil) X(fr_size) X(fr_previous) X(fr_executable) \
	X(fr_instr_ptr) X(fr_owner) X(fr_tlbc_index) X(co_size) X(co_filename) X(co_name) \
	X(co_qualname) X(co_linetable) X(co_firstlineno) X(co_code_adaptive) X(ob_size) \
	X(ob_type) X(tu_ob_item) X(by_ob_size) X(by_ob_sval) X(un_state) X(un_length) \
	X(un_ascii_size) X(un_compact_size)

/* Write version V's _Py_DebugOffsets at the start of BUF (TC_DEBUG_OFFSETS_MAX bytes). */
static void write_dbgoff(const struct ver *v, uint8_t *buf)
{
	const struct tc_dbgoff_fields *pos = tc_debug_offsets_fields(v->minor);
	struct tc_dbgoff_fields s = spec_of(v);
	uint64_t x;

	memset(buf, 0, TC_DEBUG_OFFSETS_MAX);
	memcpy(buf, TC_DEBUG_COOKIE, TC_DEBUG_COOKIE_LEN);
	x = v->hex;
	memcpy(buf + 8, &x, 8);
	x = v->ft;
	memcpy(buf + pos->free_threaded, &x, 8);
#define W(f) \
	if (pos->f >= 0) { \
		x = (uint64_t)(int64_t)s.f; \
		memcpy(buf + pos->f, &x, 8); \
	}
	FIELDS(W)
#undef W
}

static struct tc_layout layouts[10];
static bool have_layout[10];

static void init_layouts(void)
{
	static bool done;
	uint8_t buf[TC_DEBUG_OFFSETS_MAX];

	if (done)
		return;
	done = true;
	for (int i = 0; i < 10; i++) {
		const struct ver *v = &vers[i];
		if (v->minor <= 12) {
			have_layout[i] = tc_layout_from_table(v->hex, false, &layouts[i]) == 0;
		} else {
			write_dbgoff(v, buf);
			have_layout[i] = tc_layout_from_debug_offsets(buf, sizeof buf, false,
								      &layouts[i]) == 0;
		}
		if (!have_layout[i]) {
			fprintf(stderr, "fuzz_walker: no layout for version %d\n", i);
			abort();
		}
	}
}

#ifndef TC_FUZZ_SEEDS

static uint8_t image[IMG_MAX];

static void check_snapshot(const struct tc_snapshot *s)
{
	FZ_REQUIRE(s->nthreads <= TC_MAX_THREADS && s->nthreads <= s->cap_threads);
	FZ_REQUIRE(s->nframes <= s->cap_frames);
	for (size_t i = 0; i < s->nthreads; i++) {
		const struct tc_thread_stack *ts = &s->threads[i];
		FZ_REQUIRE(ts->n <= TC_MAX_DEPTH);
		FZ_REQUIRE(ts->first <= s->nframes && ts->n <= s->nframes - ts->first);
	}
}

/* What the sampler does with a walk: store each stack in the frame cache. */
static void through_frame_cache(struct tc_frame_cache *fc, const struct tc_snapshot *s,
				uint64_t sample)
{
	tc_frame_cache_begin(fc, sample);
	for (size_t i = 0; i < s->nthreads; i++) {
		const struct tc_thread_stack *ts = &s->threads[i];
		struct tc_fc_thread *th = tc_frame_cache_thread(fc, ts->tstate, ts->thread_id);
		/* an empty stack: no frames to store (and s->frames may still be NULL, which
		 * must not be offset) */
		if (!th || ts->n == 0)
			continue;
		const struct tc_raw_frame *f = s->frames + ts->first;
		/* a new entry has no frames array yet: tc_frame_cache_match would offset NULL
		 * (UBSan: pointer-overflow; reported, frame_cache.c is not this harness's) */
		size_t keep = th->n ? tc_frame_cache_match(th, f, ts->n) : 0;
		FZ_REQUIRE(keep <= ts->n);
		if (tc_frame_cache_reserve(fc, th, ts->n) != 0)
			continue;
		for (size_t k = keep; k < ts->n; k++) {
			th->ids[k] = (int32_t)k;
			th->nodes[k] = (int32_t)k;
		}
		tc_frame_cache_store(fc, th, f, ts->n, keep);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = {data, size};
	unsigned vi = fz_u8(&in) % 10;
	unsigned flags = fz_u8(&in);
	size_t len = fz_u16(&in);
	struct tc_target t;
	struct tc_walk_ctx x = {0};
	struct tc_snapshot s = {0};
	struct tc_remote *mem = NULL;
	struct tc_code_cache *cc = NULL;
	struct tc_frame_cache *fc = NULL;

	init_layouts();
	/* FUZZ_WALKER_VERBOSE=1: what each walk found (to check that seeds walk) */
	static int verbose = -1;
	if (verbose < 0)
		verbose = getenv("FUZZ_WALKER_VERBOSE") != NULL;
	if (len == 0)
		len = IMG_MAX;
	fz_take(&in, image, len);

	struct tc_region r[3] = {
		{ARENA, image, len}, {HIGH(len), image, len}, {MIS, image, len}};
	FZ_REQUIRE(tc_remote_open_image(r, 3, &mem) == 0);
	memset(&t, 0, sizeof t);
	t.pid = 0;
	t.mem = mem;
	t.runtime = ARENA;
	t.code_type = CODE_TYPE;
	t.pthread_tid_off = -1;
	snprintf(t.version, sizeof t.version, "3.%u", vers[vi].minor);
	t.layout = layouts[vi];
	if ((flags & F_DBGOFF) && vers[vi].minor >= 13) {
		/* attach's path: the layout the target describes (garbage is refused) */
		uint8_t buf[TC_DEBUG_OFFSETS_MAX];
		struct tc_layout l;
		if (tc_remote_read(mem, ARENA, buf, sizeof buf) == 0 &&
		    tc_layout_from_debug_offsets(buf, sizeof buf, false, &l) == 0)
			t.layout = l;
	}
	/* what a walker requires of a layout before it walks (tc_walker_new) */
	if (tc_layout_walkable(&t.layout) != 0)
		goto out;
	tc_walk_ctx_init(&x, &t);
	if ((flags & F_PREFETCH) && tc_prefetch_new(mem, 0, 0, &x.rd.pf) != 0)
		goto out;
	if ((flags & F_PAGES) && tc_page_cache_new(mem, 0, &x.rd.pc) != 0)
		goto out;
	cc = tc_code_cache_new((flags & F_SMALLCC) ? 2 : 0);
	fc = tc_frame_cache_new();
	FZ_REQUIRE(cc && fc);
	if (flags & F_MEMO) {
		s.memo = tc_chain_memo_new();
		FZ_REQUIRE(s.memo);
	}
	s.flags = ((flags & F_NOGIL) ? TC_UNWIND_NO_GIL : 0) |
		  ((flags & F_HEAD) ? TC_UNWIND_CACHED_HEAD : 0);

	for (int walks = 0; walks < MAX_WALKS;) {
		int err = tc_unwind(&x, cc, &s);
		FZ_REQUIRE(err == 0 || err == -TC_EFAULT || err == -TC_ECORRUPT ||
			   err == -TC_EINVAL || err == -TC_ENOMEM || err == -TC_ERANGE);
		walks++;
		if (verbose)
			fprintf(stderr, "walk %d: %d, %zu threads, %zu frames\n", walks, err,
				err ? 0 : s.nthreads, err ? 0 : s.nframes);
		if (err == 0) {
			check_snapshot(&s);
			for (size_t i = 0; i < s.nframes; i++) {
				const struct tc_raw_frame *f = &s.frames[i];
				const struct tc_code_info *ci;
				if (tc_code_cache_get(cc, &x, f->code, &ci) != 0)
					continue;
				FZ_REQUIRE(ci->addr == f->code);
				if (ci->name)
					(void)strlen(ci->name);
				if (ci->qualname)
					(void)strlen(ci->qualname);
				if (ci->filename)
					(void)strlen(ci->filename);
				(void)tc_code_line(&t.layout, ci, f->addr);
			}
			through_frame_cache(fc, &s, (uint64_t)walks);
		}
		/* apply patches up to the next walk marker */
		bool more = false;
		while (in.n >= 10) {
			uint16_t off = fz_u16(&in);
			uint64_t val = fz_u64(&in);
			if (off == 0xffff) {
				more = true;
				break;
			}
			size_t o = off % len;
			if (o + 8 > len)
				o = len >= 8 ? len - 8 : 0;
			memcpy(image + o, &val, len >= 8 ? 8 : len);
			more = true;
		}
		if (!more)
			break;
	}
out:
	tc_chain_memo_free(s.memo);
	tc_snapshot_free(&s);
	tc_frame_cache_free(fc);
	tc_code_cache_free(cc);
	tc_page_cache_free(x.rd.pc);
	tc_prefetch_free(x.rd.pf);
	tc_remote_free(mem);
	return 0;
}

#else /* TC_FUZZ_SEEDS */

/* ---- seed images ---------------------------------------------------------------------- */

struct b {
	const struct ver *v;
	struct tc_layout L;
	struct tc_dbgoff_fields s; /* 3.13+ */
	uint8_t mem[IMG_MAX];
	size_t used;
	tc_raddr runtime, interp, gil, none, last_ts;
	uint8_t patches[4096];
	size_t npatch;
};

static tc_raddr balloc(struct b *b, size_t n)
{
	size_t start = (b->used + 15) & ~(size_t)15;
	if (start + n > IMG_MAX) {
		fprintf(stderr, "seed image full\n");
		exit(1);
	}
	b->used = start + n;
	return ARENA + start;
}

static void put(struct b *b, tc_raddr a, int32_t off, uint64_t v, size_t n)
{
	if (off < 0)
		return; /* the version lacks the field */
	a += (tc_raddr)off;
	if (a < ARENA || a - ARENA + n > b->used) {
		fprintf(stderr, "seed write outside the image\n");
		exit(1);
	}
	memcpy(b->mem + (a - ARENA), &v, n);
}

static size_t max_of(const int32_t *v, size_t n)
{
	int32_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i] > m)
			m = v[i];
	return (size_t)m;
}

static void b_new(struct b *b, int vi)
{
	const struct tc_layout *L;

	memset(b, 0, sizeof *b);
	b->v = &vers[vi];
	b->L = layouts[vi];
	L = &b->L;
	if (b->v->minor >= 13)
		b->s = spec_of(b->v);
	const int32_t rt[] = {L->runtime.interpreters_head, L->runtime.main_thread,
			      L->runtime.gil + 64};
	b->runtime = balloc(b, max_of(rt, 3) + 64 > TC_DEBUG_OFFSETS_MAX ?
				       max_of(rt, 3) + 64 : TC_DEBUG_OFFSETS_MAX);
	if (b->v->minor >= 13)
		write_dbgoff(b->v, b->mem);
	const int32_t is[] = {L->interp.size, b->v->minor >= 13 ? b->s.is_gil_state + 64 : 0};
	b->interp = balloc(b, max_of(is, 2) + 16);
	put(b, b->runtime, L->runtime.interpreters_head, b->interp, 8);
	if (L->runtime.gil >= 0) {
		b->gil = b->runtime + (tc_raddr)L->runtime.gil;
	} else {
		b->gil = b->v->minor >= 13 ? b->interp + (tc_raddr)b->s.is_gil_state : balloc(b, 64);
		put(b, b->interp, L->interp.gil_ptr, b->gil, 8);
	}
	put(b, b->interp, L->interp.code_generation, 3, 8);
	b->none = balloc(b, 32);
	put(b, b->none, L->object.ob_type, OTHER_TYPE, 8);
}

/* A compact str of N code points of KIND bytes (1: ASCII when all < 0x80). */
static tc_raddr b_str(struct b *b, const uint32_t *cp, size_t n)
{
	const struct tc_layout *L = &b->L;
	uint32_t max = 0;
	for (size_t i = 0; i < n; i++)
		max = cp[i] > max ? cp[i] : max;
	bool ascii = max < 0x80;
	unsigned kind = max < 0x100 ? 1 : max < 0x10000 ? 2 : 4;
	size_t data = (size_t)(ascii ? L->unicode.ascii_data : L->unicode.compact_data);
	tc_raddr o = balloc(b, data + (n + 1) * kind);
	unsigned ks = L->unicode.kind_shift;
	uint32_t state = 1u | kind << ks | 1u << L->unicode.compact_bit |
			 (uint32_t)ascii << L->unicode.ascii_bit;
	if (b->v->minor <= 11)
		state |= 1u << (ks + 5); /* ready */
	put(b, o, L->object.ob_type, STR_TYPE, 8);
	put(b, o, L->unicode.length, n, 8);
	put(b, o, L->unicode.state, state, 4);
	for (size_t i = 0; i < n; i++)
		put(b, o + data + i * kind, 0, cp[i], kind);
	return o;
}

static tc_raddr b_ascii(struct b *b, const char *s)
{
	uint32_t cp[64];
	size_t n = 0;
	while (s[n] && n < 64) {
		cp[n] = (uint8_t)s[n];
		n++;
	}
	return b_str(b, cp, n);
}

static tc_raddr b_bytes(struct b *b, const uint8_t *p, size_t n)
{
	tc_raddr o = balloc(b, (size_t)b->L.bytes.ob_sval + n + 1);
	put(b, o, b->L.object.ob_type, BYTES_TYPE, 8);
	put(b, o, b->L.bytes.ob_size, n, 8);
	for (size_t i = 0; i < n; i++)
		put(b, o + (tc_raddr)b->L.bytes.ob_sval, (int32_t)i, p[i], 1);
	return o;
}

/* A code object: lines first+1 for bytes [0,4), first+3 for [4,12), none for [12,16), then
 * first+2 for [16,32), in the version's table format. */
static tc_raddr b_code(struct b *b, const uint32_t *name, size_t nname, int32_t first)
{
	const struct tc_layout *L = &b->L;
	static const uint8_t lnotab[] = {0, 1, 4, 2, 8, 0, 4, 255, 0, 0};
	static const uint8_t linetable[] = {4, 1, 8, 2, 4, 0x80, 16, 0xff};
	/* code 13 (no column) entries of 2/4 units with a line delta, code 15 (none), code 14
	 * (long form) and code 10 (one-line form) for the last range */
	static const uint8_t locations[] = {0x80 | 13 << 3 | 1, 2,      0x80 | 13 << 3 | 3, 4,
					    0x80 | 15 << 3 | 1, 0x80 | 14 << 3 | 3, 3, 0, 1, 9,
					    0x80 | 10 << 3 | 3, 4, 8};
	const uint8_t *t = L->linetable == TC_LT_LNOTAB      ? lnotab :
			   L->linetable == TC_LT_LINETABLE ? linetable :
							     locations;
	size_t tn = L->linetable == TC_LT_LNOTAB      ? sizeof lnotab :
		    L->linetable == TC_LT_LINETABLE ? sizeof linetable :
						      sizeof locations;
	static const uint32_t file[] = {'/', 's', 'r', 'v', '/', 0x1d523, 0xe9, '.', 'p', 'y'};
	tc_raddr fn = b_str(b, file, TC_ARRAY_LEN(file)), nm = b_str(b, name, nname);
	tc_raddr qn = L->code.qualname >= 0 ? b_ascii(b, "Outer.method") : 0;
	tc_raddr lt = b_bytes(b, t, tn);
	size_t size = (size_t)(L->code.code_adaptive > 0 ? L->code.code_adaptive : L->code.size);
	tc_raddr co = balloc(b, size + 64);
	put(b, co, L->object.ob_type, CODE_TYPE, 8);
	put(b, co, L->code.filename, fn, 8);
	put(b, co, L->code.name, nm, 8);
	if (qn)
		put(b, co, L->code.qualname, qn, 8);
	put(b, co, L->code.linetable, lt, 8);
	put(b, co, L->code.firstlineno, (uint32_t)first, 4);
	if (L->code.code_adaptive >= 0)
		put(b, co, L->bytes.ob_size, 32, 8); /* code units */
	put(b, co, L->code.firsttraceable, 1, 4);
	return co;
}

static tc_raddr b_frame(struct b *b, tc_raddr code, tc_raddr prev, int64_t addr, uint8_t owner)
{
	const struct tc_layout *L = &b->L;
	tc_raddr f;

	if (L->frame_model == TC_FRAMES_INTERP) {
		f = balloc(b, (size_t)L->iframe.size + 8);
		put(b, f, L->iframe.code, code ? code | (L->iframe.code_tag_mask ? 1 : 0) : b->none, 8);
		put(b, f, L->iframe.previous, prev, 8);
		put(b, f, L->iframe.instr, code + (tc_raddr)L->code.code_adaptive + (tc_raddr)addr, 8);
		put(b, f, L->iframe.owner, owner, 1);
		put(b, f, L->iframe.tlbc_index, 0, 4);
	} else {
		f = balloc(b, (size_t)L->frameobj.size + 8);
		put(b, f, L->object.ob_type, OTHER_TYPE, 8);
		put(b, f, L->frameobj.f_back, prev, 8);
		put(b, f, L->frameobj.f_code, code, 8);
		put(b, f, L->frameobj.f_lasti, (uint32_t)(b->v->minor == 10 ? addr / 2 : addr), 4);
		put(b, f, L->frameobj.f_lineno, 7, 4);
		if (owner)
			put(b, f, L->frameobj.f_trace, OTHER_TYPE, 8);
	}
	return f;
}

static int32_t prev_off(const struct b *b)
{
	return b->L.frame_model == TC_FRAMES_INTERP ? b->L.iframe.previous : b->L.frameobj.f_back;
}

/* A thread whose innermost frame is TOP; returns the thread state. *BASE gets the 3.15
 * embedded base frame (0 before). */
static tc_raddr b_thread(struct b *b, uint64_t ident, tc_raddr top, tc_raddr *base)
{
	const struct tc_layout *L = &b->L;
	size_t size = (size_t)L->tstate.size + 16;
	if (L->tstate.base_frame >= 0)
		size = (size_t)L->tstate.base_frame + (size_t)L->iframe.size + 16;
	tc_raddr ts = balloc(b, size);

	put(b, ts, L->tstate.interp, b->interp, 8);
	put(b, ts, L->tstate.thread_id, ident, 8);
	put(b, ts, L->tstate.native_thread_id, ident & 0xffff, 8);
	if (L->tstate.frame >= 0) {
		put(b, ts, L->tstate.frame, top, 8);
	} else if (L->tstate.current_frame >= 0) {
		put(b, ts, L->tstate.current_frame, top, 8);
	} else {
		tc_raddr cf = balloc(b, 32);
		put(b, cf, L->cframe.current_frame, top, 8);
		put(b, ts, L->tstate.cframe, cf, 8);
	}
	if (!b->last_ts) {
		put(b, b->interp, L->interp.threads_head, ts, 8);
		put(b, b->runtime, L->runtime.main_thread, ident, 8);
		put(b, b->interp, L->interp.threads_main, ts, 8);
	} else {
		put(b, b->last_ts, L->tstate.next, ts, 8);
	}
	b->last_ts = ts;
	*base = L->tstate.base_frame >= 0 ? ts + (tc_raddr)L->tstate.base_frame : 0;
	return ts;
}

/* A chain of N frames over CODES (outermost first), ending at the thread's base frame on
 * 3.15: builds the frames first with a placeholder bottom, then the thread. */
struct chain {
	tc_raddr f[200];
	size_t n;
	tc_raddr ts, base;
};

static void b_chain(struct b *b, struct chain *c, const tc_raddr *codes, size_t ncodes, size_t n,
		    uint64_t ident, bool shims)
{
	c->n = n;
	for (size_t i = 0; i < n; i++) {
		uint8_t owner = 0;
		tc_raddr code = codes[i % ncodes];
		if (shims && b->L.frame_model == TC_FRAMES_INTERP && b->v->minor >= 12 && i == 1)
			owner = b->L.iframe.owner_first_shim, code = 0; /* entry shim */
		else if (i == n - 2 && b->L.frame_model == TC_FRAMES_INTERP)
			owner = b->L.iframe.owner_generator;
		c->f[i] = b_frame(b, code, i ? c->f[i - 1] : 0, 2 + 2 * (int64_t)(i % 14), owner);
	}
	c->ts = b_thread(b, ident, c->f[n - 1], &c->base);
	if (c->base)
		put(b, c->f[0], prev_off(b), c->base, 8);
}

static void patch(struct b *b, uint16_t off, uint64_t v)
{
	memcpy(b->patches + b->npatch, &off, 2);
	memcpy(b->patches + b->npatch + 2, &v, 8);
	b->npatch += 10;
}

static void patch_at(struct b *b, tc_raddr obj, int32_t field, uint64_t v)
{
	if (field >= 0)
		patch(b, (uint16_t)(obj + (tc_raddr)field - ARENA), v);
}

static void walk(struct b *b)
{
	patch(b, 0xffff, 0);
}

static void write_seed(const char *dir, const char *kind, int vi, unsigned flags, struct b *b)
{
	char path[4096];
	uint16_t len = (uint16_t)((b->used + 15) & ~(size_t)15);
	snprintf(path, sizeof path, "%s/%s-%d-%02x", dir, kind, vi, flags);
	FILE *f = fopen(path, "wb");
	uint8_t hdr[4] = {(uint8_t)vi, (uint8_t)flags};
	memcpy(hdr + 2, &len, 2);
	if (!f || fwrite(hdr, 4, 1, f) != 1 || fwrite(b->mem, len, 1, f) != 1 ||
	    (b->npatch && fwrite(b->patches, b->npatch, 1, f) != 1) || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static const uint32_t n_main[] = {'<', 'm', 'o', 'd', 'u', 'l', 'e', '>'};
static const uint32_t n_work[] = {'c', 'a', 'f', 0xe9};
static const uint32_t n_deep[] = {0x3a9, 0x3bc, 0x1f600};

int main(int argc, char **argv)
{
	static struct b b;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	init_layouts();
	for (int vi = 0; vi < 10; vi++) {
		const unsigned dbg = vers[vi].minor >= 13 ? F_DBGOFF : 0;
		tc_raddr codes[3];
		struct chain c1, c2, c3;

		/* basic: two threads; an instruction moves, frames return, come back */
		b_new(&b, vi);
		codes[0] = b_code(&b, n_main, TC_ARRAY_LEN(n_main), 1);
		codes[1] = b_code(&b, n_work, TC_ARRAY_LEN(n_work), 100);
		codes[2] = b_code(&b, n_deep, TC_ARRAY_LEN(n_deep), 7);
		b_chain(&b, &c1, codes, 3, 6, 0x7f00c0001000ull, true);
		b_chain(&b, &c2, codes + 1, 2, 3, 0x7f00c0802000ull, false);
		put(&b, b.gil, b.L.gil.locked, 1, 4);
		put(&b, b.gil, b.L.gil.last_holder, c1.ts, 8);
		int32_t instr = b.L.frame_model == TC_FRAMES_INTERP ? b.L.iframe.instr :
								      b.L.frameobj.f_lasti;
		walk(&b);
		patch_at(&b, c1.f[3], instr, b.L.frame_model == TC_FRAMES_INTERP ?
						     codes[0] + (tc_raddr)b.L.code.code_adaptive + 18 :
						     9);
		walk(&b);
		patch_at(&b, c1.f[5], prev_off(&b), c1.f[2]);
		walk(&b);
		patch_at(&b, c1.f[5], prev_off(&b), c1.f[4]);
		write_seed(argv[1], "basic", vi, F_MEMO | F_PREFETCH | F_PAGES | dbg, &b);
		write_seed(argv[1], "basic", vi, F_NOGIL | F_HEAD | F_SMALLCC, &b);

		/* deep: one thread of 150 frames; its middle and bottom change between walks */
		b_new(&b, vi);
		codes[0] = b_code(&b, n_main, TC_ARRAY_LEN(n_main), 1);
		codes[1] = b_code(&b, n_work, TC_ARRAY_LEN(n_work), 100);
		b_chain(&b, &c1, codes, 2, 150, 0x7f00c0001000ull, true);
		walk(&b);
		walk(&b);
		patch_at(&b, c1.f[70], instr, b.L.frame_model == TC_FRAMES_INTERP ?
						      codes[1] + (tc_raddr)b.L.code.code_adaptive + 4 :
						      4);
		walk(&b);
		patch_at(&b, c1.f[100], prev_off(&b), c1.f[20]);
		walk(&b);
		patch_at(&b, c1.ts, b.L.tstate.current_frame >= 0 ? b.L.tstate.current_frame :
								    b.L.tstate.frame,
			 c1.f[140]);
		write_seed(argv[1], "deep", vi, F_MEMO | F_PREFETCH | dbg, &b);

		/* hostile: pointers near 2^64, misaligned, cyclic, into the middle of objects;
		 * the thread list turns cyclic on the second walk */
		b_new(&b, vi);
		codes[0] = b_code(&b, n_main, TC_ARRAY_LEN(n_main), 1);
		codes[1] = b_code(&b, n_work, TC_ARRAY_LEN(n_work), 100);
		b_chain(&b, &c1, codes, 2, 5, 0x7f00c0001000ull, false);
		b_chain(&b, &c2, codes, 2, 4, 0x7f00c0802000ull, false);
		b_chain(&b, &c3, codes, 2, 4, 0x7f00c0903000ull, false);
		uint64_t len = (b.used + 15) & ~(size_t)15;
		/* thread 1 continues in the copy mapped at the top of the address space */
		put(&b, c1.f[3], prev_off(&b), HIGH(len) + (c1.f[2] - ARENA), 8);
		/* thread 2: a torn previous pointer 32 bytes below 2^64 */
		put(&b, c2.f[1], prev_off(&b), 0xffffffffffffffe0ull, 8);
		/* thread 3: a cycle through a misaligned copy */
		put(&b, c3.f[1], prev_off(&b), MIS + (c3.f[3] - ARENA), 8);
		walk(&b);
		patch_at(&b, c3.f[1], prev_off(&b), c3.f[3]); /* a plain cycle */
		patch_at(&b, c2.f[1], prev_off(&b), codes[1] + 24); /* into a code object */
		patch_at(&b, c1.f[4], b.L.frame_model == TC_FRAMES_INTERP ? b.L.iframe.code :
									    b.L.frameobj.f_code,
			 c1.f[2] + 8); /* code pointer into a frame */
		walk(&b);
		patch_at(&b, c3.ts, b.L.tstate.next, c1.ts); /* the thread list cycles */
		patch_at(&b, c2.ts, b.L.tstate.current_frame >= 0 ? b.L.tstate.current_frame :
				    b.L.tstate.frame >= 0 ? b.L.tstate.frame : -1,
			 0xfffffffffffffff8ull);
		walk(&b);
		patch_at(&b, c1.f[1], prev_off(&b), HIGH(len) + len - 8); /* the last 8 bytes */
		write_seed(argv[1], "hostile", vi, F_MEMO | F_PREFETCH | F_PAGES | dbg, &b);
		write_seed(argv[1], "hostile", vi, F_MEMO, &b);
	}
	return 0;
}

#endif
