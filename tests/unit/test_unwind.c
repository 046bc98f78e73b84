/* SPDX-License-Identifier: MIT */
/* Unit tests for daemon/unwind.c and the code cache it fills, against synthetic memory images
 * served by the image backend of reader/remote.c.
 *
 * A small builder lays out, in one zeroed arena mapped at a fake remote address, what a
 * target holds: _PyRuntime (on 3.13+ headed by a _Py_DebugOffsets image: cookie, version,
 * free_threaded flag and our offsets, written at the positions the headers give them:
 * fixtures/cpython_offsets.h), an interpreter, its GIL, thread states, frame chains (_PyInterpreterFrame for 3.11+,
 * PyFrameObject for 3.9/3.10), code objects whose ob_type is a fake &PyCode_Type, compact str
 * objects (ASCII, Latin-1, UCS-2, UCS-4) and bytes objects holding line tables.
 *
 * Where the offsets come from:
 *  - 3.13/3.14/3.15 default builds: the values gdb prints for `_PyRuntime.debug_offsets` in
 *    Debian sid's python3.13d/3.14d/3.15d (3.13.18, 3.14.10, 3.15.2), and
 *    _co_firsttraceable = co_code_adaptive - 16 (gdb, same binaries);
 *  - 3.13t/3.14t/3.15t (no free-threaded build is obtainable): the same values with a 32-byte
 *    PyObject header (ob_type at 24, every object field 16 bytes later), tlbc_index at 72 and
 *    owner at 78 in 3.14t+ frames, and str state bit-fields from bit 8 where `interned`
 *    became a whole byte (3.14t+), from bit 2 on 3.13t;
 *  - 3.9-3.12: fixtures/cpython_offsets.h, offsetof/sizeof read with gdb from the DWARF of
 *    pyenv's 3.9.18-3.12.1 (tests/unit/fixtures/gen_cpython_offsets.sh), never the project's
 *    compiled-in tables.
 * The builder writes with its own copy of the offsets; the walker reads with the layout the
 * project derives (from the image's _Py_DebugOffsets, or tc_layout_from_table()), so a wrong
 * table entry or a wrong derivation shows up as a wrong stack. */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/chain_memo.h"
#include "daemon/code_cache.h"
#include "daemon/target.h"
#include "daemon/unwind.h"
#include "daemon/walker.h"
#include "layouts/debug_offsets.h"
#include "layouts/layout.h"
#include "layouts/version.h"
#include "reader/prefetch.h"
#include "reader/remote.h"

#include "fixtures/cpython_offsets.h"
#include "skip.h"

#define ARENA_BASE 0x7f1200000000ull
#define UNMAPPED 0x0000dead0000ull   /* in no image */
#define CODE_TYPE 0x55aa00001000ull  /* &PyCode_Type of the fake target (never read) */
#define STR_TYPE 0x55aa00002000ull
#define BYTES_TYPE 0x55aa00003000ull
#define OTHER_TYPE 0x55aa00004000ull /* any type but code: Py_None's, a frame's, ... */
#define PID 4242
#define NOLINE INT32_MIN
#define SMALL (1u << 20)

/* ---- versions ------------------------------------------------------------------------- */

struct ver {
	const char *name;
	unsigned minor;
	bool ft;
	uint32_t hex;
};

static const struct ver vers[] = {
	{"3.9", 9, false, 0x030912f0},   {"3.10", 10, false, 0x030a0df0},
	{"3.11", 11, false, 0x030b07f0}, {"3.12", 12, false, 0x030c01f0},
	{"3.13", 13, false, 0x030d12f0}, {"3.13t", 13, true, 0x030d12f0},
	{"3.14", 14, false, 0x030e0af0}, {"3.14t", 14, true, 0x030e0af0},
	{"3.15", 15, false, 0x030f02f0}, {"3.15t", 15, true, 0x030f02f0},
};
#define NVERS ((int)TC_ARRAY_LEN(vers))

/* Values (not positions) of _Py_DebugOffsets fields, -1 where the version lacks the field.
 * From gdb on the Debian sid -dbg interpreters; interpreter_frame.tlbc_index is 0 in default
 * 3.14+ builds, as there. */
static const struct tc_dbgoff_fields spec_313 = {
	.minor = 13, .free_threaded = 0, .rt_interpreters_head = 632, .is_code_generation = -1,
	.is_next = 7264, .is_threads_head = 7344, .is_threads_main = -1, .is_ceval_gil = 16,
	.is_gil_state = 7752, .is_gil_locked = 7768, .is_gil_holder = 7760,
	.ts_size = 312, .ts_next = 8, .ts_interp = 16, .ts_current_frame = 72, .ts_thread_id = 152,
	.ts_native_thread_id = 160, .ts_holds_gil = -1,
	.fr_size = 80, .fr_previous = 8, .fr_executable = 0, .fr_instr_ptr = 56, .fr_owner = 70,
	.fr_tlbc_index = -1,
	.co_size = 208, .co_filename = 112, .co_name = 120, .co_qualname = 128,
	.co_linetable = 136, .co_firstlineno = 68, .co_code_adaptive = 200,
	.ob_size = 16, .ob_type = 8, .tu_ob_item = 24, .by_ob_size = 16, .by_ob_sval = 32,
	.un_state = 32, .un_length = 16, .un_ascii_size = 40, .un_compact_size = -1,
};
static const struct tc_dbgoff_fields spec_314 = {
	.minor = 14, .free_threaded = 0, .rt_interpreters_head = 808,
	.is_next = 7272, .is_threads_head = 7344, .is_threads_main = 7360, .is_ceval_gil = 16,
	.is_gil_state = 7784, .is_gil_locked = 7800, .is_gil_holder = 7792,
	.is_code_generation = 7368,
	.ts_size = 832, .ts_next = 8, .ts_interp = 16, .ts_current_frame = 72, .ts_thread_id = 152,
	.ts_native_thread_id = 160, .ts_holds_gil = -1,
	.fr_size = 88, .fr_previous = 8, .fr_executable = 0, .fr_instr_ptr = 56, .fr_owner = 74,
	.fr_tlbc_index = 0,
	.co_size = 216, .co_filename = 112, .co_name = 120, .co_qualname = 128,
	.co_linetable = 136, .co_firstlineno = 68, .co_code_adaptive = 208,
	.ob_size = 16, .ob_type = 8, .tu_ob_item = 32, .by_ob_size = 16, .by_ob_sval = 32,
	.un_state = 32, .un_length = 16, .un_ascii_size = 40, .un_compact_size = -1,
};
static const struct tc_dbgoff_fields spec_315 = {
	.minor = 15, .free_threaded = 0, .rt_interpreters_head = 936,
	.is_next = 7264, .is_threads_head = 7336, .is_threads_main = 7352, .is_ceval_gil = 16,
	.is_gil_state = 7736, .is_gil_locked = 7752, .is_gil_holder = 7744,
	.is_code_generation = 7360,
	.ts_size = 888, .ts_next = 8, .ts_interp = 16, .ts_current_frame = 72, .ts_thread_id = 176,
	.ts_native_thread_id = 184, .ts_holds_gil = 36,
	.fr_size = 88, .fr_previous = 8, .fr_executable = 0, .fr_instr_ptr = 56, .fr_owner = 74,
	.fr_tlbc_index = 0,
	.co_size = 216, .co_filename = 112, .co_name = 120, .co_qualname = 128,
	.co_linetable = 136, .co_firstlineno = 68, .co_code_adaptive = 208,
	.ob_size = 16, .ob_type = 8, .tu_ob_item = 32, .by_ob_size = 16, .by_ob_sval = 32,
	.un_state = 32, .un_length = 16, .un_ascii_size = 40, .un_compact_size = 56,
};

/* Py_GIL_DISABLED: PyObject is ob_tid, ob_flags, ob_mutex, ob_gc_bits, ob_ref_local,
 * ob_ref_shared, ob_type (32 bytes), so object fields move by 16; PyCodeObject gains fields
 * for per-thread bytecode; 3.14+ frames gain int32 tlbc_index before return_offset/owner. */
static void free_threaded_spec(struct tc_dbgoff_fields *v)
{
	v->free_threaded = 1;
	v->ob_size = 32;
	v->ob_type = 24;
	v->tu_ob_item = v->minor >= 14 ? 48 : 40;
	v->by_ob_size = 32;
	v->by_ob_sval = 48;
	v->un_length = 32;
	v->un_state = 48;
	v->un_ascii_size = 56;
	if (v->un_compact_size >= 0)
		v->un_compact_size = 72;
	v->co_size = v->minor >= 14 ? 240 : 224;
	v->co_filename = 128;
	v->co_name = 136;
	v->co_qualname = 144;
	v->co_linetable = 152;
	v->co_firstlineno = 84;
	v->co_code_adaptive = v->minor >= 14 ? 232 : 216;
	if (v->minor >= 14) {
		v->fr_tlbc_index = 72;
		v->fr_owner = 78;
	}
}

#define DBGOFF_FIELDS(X) \
	X(rt_interpreters_head) X(is_next) X(is_threads_head) X(is_threads_main) \
	X(is_ceval_gil) X(is_gil_state) X(is_gil_locked) X(is_gil_holder) X(is_code_generation) \
	X(ts_size) X(ts_next) \
	X(ts_interp) X(ts_current_frame) X(ts_thread_id) X(ts_native_thread_id) X(ts_holds_gil) \
	X(fr_size) X(fr_previous) X(fr_executable) X(fr_instr_ptr) X(fr_owner) X(fr_tlbc_index) \
	X(co_size) X(co_filename) X(co_name) X(co_qualname) X(co_linetable) X(co_firstlineno) \
	X(co_code_adaptive) X(ob_size) X(ob_type) X(tu_ob_item) X(by_ob_size) X(by_ob_sval) \
	X(un_state) X(un_length) X(un_ascii_size) X(un_compact_size)

/* ---- the image builder ---------------------------------------------------------------- */

/* Check records every passing ck_assert (a write to its pipe when forking); the builder
 * checks every store of a 70,000-frame image, so it only reports failures. */
#define REQUIRE(cond, ...) \
	do { \
		if (!(cond)) \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)

struct img {
	const struct ver *v;
	uint8_t *mem; /* host copy of [ARENA_BASE, ARENA_BASE + cap) */
	size_t cap, used;
	struct tc_dbgoff_fields spec; /* 3.13+: values written into _Py_DebugOffsets */
	struct tc_layout w;           /* where the builder writes: its own truth */
	size_t interp_alloc, ts_alloc, frame_alloc, code_alloc;
	uint64_t tag; /* low bit of a tagged f_executable (_PyStackRef, 3.14+) */
	tc_raddr runtime, interp, gil, last_ts, none;
	tc_raddr shim; /* 3.12-3.14: the entry frame every thread's chain ends at */
	bool raw;      /* walk chains as built: no base frame added under them */
	struct tc_remote *r;
	struct tc_target t;
	struct tc_walk_ctx x; /* reads of t, the walk memo */
	struct tc_code_cache *cc;
	struct tc_snapshot s;
};

static uint8_t *host(struct img *m, tc_raddr a, size_t n)
{
	REQUIRE(a >= ARENA_BASE && a - ARENA_BASE + n <= m->used, "write outside the image");
	return m->mem + (a - ARENA_BASE);
}

static void put64(struct img *m, tc_raddr a, uint64_t v)
{
	memcpy(host(m, a, 8), &v, 8);
}

static void put32(struct img *m, tc_raddr a, uint32_t v)
{
	memcpy(host(m, a, 4), &v, 4);
}

static void put16(struct img *m, tc_raddr a, uint16_t v)
{
	memcpy(host(m, a, 2), &v, 2);
}

static void put8(struct img *m, tc_raddr a, uint8_t v)
{
	*host(m, a, 1) = v;
}

/* Field OFF of the object at OBJ (asserting the version has the field). */
static tc_raddr at(tc_raddr obj, int32_t off)
{
	REQUIRE(off >= 0, "field missing on this version");
	return obj + (tc_raddr)off;
}

/* N zeroed bytes, 16-aligned like every CPython object. */
static tc_raddr alloc(struct img *m, size_t n)
{
	size_t start = (m->used + 15) & ~(size_t)15;
	REQUIRE(!m->r, "the image is fixed once attached");
	REQUIRE(start + n <= m->cap, "image full");
	m->used = start + n;
	return ARENA_BASE + start;
}

/* The offsets a 3.13+ build with _Py_DebugOffsets V has, written down independently of
 * layouts/debug_offsets.c. */
static void layout_from_spec(const struct tc_dbgoff_fields *v, struct tc_layout *w)
{
	bool ft = v->free_threaded;

	memset(w, 0xff, sizeof *w);
	w->frame_model = TC_FRAMES_INTERP;
	w->linetable = TC_LT_LOCATIONS;
	w->runtime.interpreters_head = v->rt_interpreters_head;
	w->interp.next = v->is_next;
	w->interp.threads_head = v->is_threads_head;
	w->interp.threads_main = v->is_threads_main;
	w->interp.gil_ptr = v->is_ceval_gil;
	w->gil.locked = v->is_gil_locked - v->is_gil_state;
	w->gil.last_holder = v->is_gil_holder - v->is_gil_state;
	w->tstate.next = v->ts_next;
	w->tstate.interp = v->ts_interp;
	w->tstate.current_frame = v->ts_current_frame;
	w->tstate.thread_id = v->ts_thread_id;
	w->tstate.native_thread_id = v->ts_native_thread_id;
	w->iframe.previous = v->fr_previous;
	w->iframe.code = v->fr_executable;
	w->iframe.instr = v->fr_instr_ptr;
	w->iframe.owner = v->fr_owner;
	w->iframe.tlbc_index = ft && v->minor >= 14 ? v->fr_tlbc_index : -1;
	w->code.filename = v->co_filename;
	w->code.name = v->co_name;
	w->code.qualname = v->co_qualname;
	w->code.linetable = v->co_linetable;
	w->code.firstlineno = v->co_firstlineno;
	w->code.code_adaptive = v->co_code_adaptive;
	w->code.firsttraceable = ft ? -1 : v->co_code_adaptive - 16;
	w->object.ob_type = v->ob_type;
	w->bytes.ob_size = v->by_ob_size;
	w->bytes.ob_sval = v->by_ob_sval;
	w->unicode.length = v->un_length;
	w->unicode.state = v->un_state;
	w->unicode.ascii_data = v->un_ascii_size;
	w->unicode.compact_data = v->un_compact_size >= 0 ? v->un_compact_size : v->un_ascii_size + 16;
	w->unicode.kind_shift = ft && v->minor >= 14 ? 8 : 2;
	w->unicode.compact_bit = (uint8_t)(w->unicode.kind_shift + 3);
	w->unicode.ascii_bit = (uint8_t)(w->unicode.kind_shift + 4);
}

static size_t max3(int32_t a, int32_t b, int32_t c)
{
	int32_t m = a > b ? a : b;
	return (size_t)(m > c ? m : c);
}

/* Where _Py_DebugOffsets holds each field, per the headers (3.13, 3.14, 3.15; the free-threaded
 * builds share the struct). */
static const struct tc_dbgoff_fields *dbgoff_pos(unsigned minor)
{
	static const struct tc_dbgoff_fields *const pos[] = {
		&fx_dbgoff_pos_3_13, &fx_dbgoff_pos_3_14, &fx_dbgoff_pos_3_15};
	REQUIRE(minor >= 13 && minor <= 15, "no _Py_DebugOffsets positions for 3.%u", minor);
	return pos[minor - 13];
}

/* The offsets a 3.9-3.12 build has, from the headers' figures H (fixtures/cpython_offsets.h),
 * written down independently of layouts/tables.c. Sizes are how much the builder allocates:
 * enough for every field it writes. */
static void layout_from_headers(const struct fx_table_offsets *h, struct tc_layout *w)
{
	bool obj = h->minor <= 10;

	memset(w, 0xff, sizeof *w);
	w->frame_model = obj ? TC_FRAMES_OBJECT : TC_FRAMES_INTERP;
	w->linetable = h->minor == 9 ? TC_LT_LNOTAB : obj ? TC_LT_LINETABLE : TC_LT_LOCATIONS;
	w->runtime.interpreters_head = h->rt_interpreters_head;
	w->runtime.main_thread = h->rt_main_thread;
	w->runtime.gil = h->rt_gil;
	w->interp.next = h->is_next;
	w->interp.threads_head = h->is_threads_head;
	w->interp.gil_ptr = h->is_gil_ptr;
	w->interp.size = (h->is_threads_head > h->is_gil_ptr ? h->is_threads_head : h->is_gil_ptr) + 8;
	w->gil.locked = h->gil_locked;
	w->gil.last_holder = h->gil_last_holder;
	w->tstate.next = h->ts_next;
	w->tstate.interp = h->ts_interp;
	w->tstate.thread_id = h->ts_thread_id;
	w->tstate.native_thread_id = h->ts_native_thread_id;
	w->tstate.size = h->ts_size;
	/* 3.10 has a cframe too, but its frames hang off tstate->frame until 3.11 */
	if (obj)
		w->tstate.frame = h->ts_frame;
	else
		w->tstate.cframe = h->ts_cframe;
	w->cframe.current_frame = h->cf_current_frame;
	if (obj) {
		w->frameobj.f_back = h->fo_f_back;
		w->frameobj.f_code = h->fo_f_code;
		w->frameobj.f_lasti = h->fo_f_lasti;
		w->frameobj.f_lineno = h->fo_f_lineno;
		w->frameobj.f_trace = h->fo_f_trace;
		w->frameobj.size = max3(max3(h->fo_f_back, h->fo_f_code, h->fo_f_lasti),
					h->fo_f_lineno, h->fo_f_trace) + 8;
	} else {
		w->iframe.previous = h->if_previous;
		w->iframe.code = h->if_code;
		w->iframe.instr = h->if_prev_instr;
		w->iframe.owner = h->if_owner;
		w->iframe.size = h->if_size;
	}
	w->code.filename = h->co_filename;
	w->code.name = h->co_name;
	w->code.qualname = h->co_qualname;
	w->code.linetable = h->co_linetable;
	w->code.firstlineno = h->co_firstlineno;
	w->code.code_adaptive = h->co_code_adaptive;
	w->code.firsttraceable = h->co_firsttraceable;
	w->code.size = h->co_size;
	w->object.ob_type = h->ob_type;
	w->bytes.ob_size = h->var_ob_size;
	w->bytes.ob_sval = h->by_ob_sval;
	w->unicode.length = h->un_length;
	w->unicode.state = h->un_state;
	w->unicode.ascii_data = h->un_ascii_size;
	w->unicode.compact_data = h->un_compact_size;
	w->unicode.kind_shift = (uint8_t)h->un_kind_bit;
	w->unicode.compact_bit = (uint8_t)(h->un_kind_bit + 3);
	w->unicode.ascii_bit = (uint8_t)(h->un_kind_bit + 4);
}

/* A new image of version V: runtime, one interpreter, its GIL. CAP bytes of arena. */
static tc_raddr img_iframe(struct img *m, tc_raddr code, tc_raddr prev, int64_t addr,
			   uint8_t owner, int32_t tlbc, bool tagged);

/* PyThreadState.root_cframe (gdb: pyenv 3.11.7 and Debian 3.11.2-dbg 336, pyenv 3.12.1 272) */
static int32_t root_cframe_off(const struct ver *v)
{
	return v->minor == 11 ? 336 : 272;
}

static struct img *img_new(const struct ver *v, size_t cap)
{
	struct img *m = calloc(1, sizeof *m);
	ck_assert_ptr_nonnull(m);
	m->v = v;
	m->cap = cap;
	m->mem = calloc(1, cap);
	ck_assert_ptr_nonnull(m->mem);

	if (v->minor >= 13) {
		m->spec = v->minor == 13 ? spec_313 : v->minor == 14 ? spec_314 : spec_315;
		if (v->ft)
			free_threaded_spec(&m->spec);
		layout_from_spec(&m->spec, &m->w);
		const struct tc_dbgoff_fields *s = &m->spec;
		m->interp_alloc = max3(s->is_threads_head, s->is_threads_main,
				       s->is_gil_locked > s->is_gil_holder ? s->is_gil_locked :
									      s->is_gil_holder) + 16;
		m->frame_alloc = (size_t)s->fr_size;
		/* 3.15: _PyThreadStateImpl embeds the base frame right after the PyThreadState */
		m->ts_alloc = (size_t)s->ts_size + (v->minor >= 15 ? m->frame_alloc : 0);
		m->code_alloc = (size_t)s->co_size + 64;
		m->tag = v->minor >= 14 ? 1 : 0;
	} else {
		static const struct fx_table_offsets *const hdr[] = {
			&fx_table_3_9, &fx_table_3_10, &fx_table_3_11, &fx_table_3_12};
		layout_from_headers(hdr[v->minor - 9], &m->w);
		m->interp_alloc = (size_t)m->w.interp.size + 16;
		m->ts_alloc = (size_t)m->w.tstate.size + 16;
		if (v->minor == 11 || v->minor == 12) /* up to root_cframe, 16 bytes */
			m->ts_alloc = (size_t)root_cframe_off(v) + 16;
		m->frame_alloc = m->w.frame_model == TC_FRAMES_OBJECT ? (size_t)m->w.frameobj.size :
								       (size_t)m->w.iframe.size;
		m->code_alloc = (size_t)(m->w.code.code_adaptive > 0 ? m->w.code.code_adaptive :
								       m->w.code.size) + 64;
	}

	m->runtime = alloc(m, 1024);
	if (v->minor >= 13) {
		const struct tc_dbgoff_fields *pos = dbgoff_pos(v->minor);
		memcpy(host(m, m->runtime, 8), "xdebugpy", 8);
		put64(m, m->runtime + 8, v->hex);
		put64(m, m->runtime + (tc_raddr)pos->free_threaded, v->ft);
#define WRITE(f) \
		if (pos->f >= 0) { \
			ck_assert_msg(m->spec.f >= 0, "spec lacks " #f); \
			put64(m, m->runtime + (tc_raddr)pos->f, (uint64_t)m->spec.f); \
		}
		DBGOFF_FIELDS(WRITE)
#undef WRITE
	}
	m->interp = alloc(m, m->interp_alloc);
	put64(m, at(m->runtime, m->w.runtime.interpreters_head), m->interp);
	if (m->w.runtime.gil >= 0) {
		m->gil = m->runtime + (tc_raddr)m->w.runtime.gil; /* 3.9-3.11: in _PyRuntime */
	} else {
		/* 3.12+: interp->ceval.gil; 3.13+: pointing at the interpreter's own _gil */
		m->gil = v->minor >= 13 ? m->interp + (tc_raddr)m->spec.is_gil_state : alloc(m, 64);
		put64(m, at(m->interp, m->w.interp.gil_ptr), m->gil);
	}
	/* Py_None: not a code object (what C-stack shim frames hold in f_executable) */
	m->none = alloc(m, 32);
	put64(m, at(m->none, m->w.object.ob_type), OTHER_TYPE);
	/* 3.12-3.14: the C stack's entry frame under the first Python frame of a thread
	 * (_PyEval_EvalFrameDefault's entry_frame: owner 3, previous NULL) */
	if (m->w.frame_model == TC_FRAMES_INTERP && v->minor >= 12 && v->minor <= 14)
		m->shim = img_iframe(m, m->none, 0, 0, 3, 0, false);
	return m;
}

/* UTF-8 to code points (test input is valid UTF-8). Returns the count. */
static size_t utf8_decode(const char *s, uint32_t *cp, size_t max)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t n = 0;

	while (*p && n < max) {
		uint32_t c = *p++;
		int more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
		if (more)
			c &= 0x3fu >> more;
		while (more--)
			c = c << 6 | (*p++ & 0x3fu);
		cp[n++] = c;
	}
	return n;
}

/* A compact str holding UTF8: ASCII data after PyASCIIObject, anything else after
 * PyCompactUnicodeObject, 1/2/4 bytes per code point. `interned` is set (3: interned and
 * immortal), so a decoder that looks for `kind` in the wrong bits finds garbage. */
static tc_raddr img_str(struct img *m, const char *utf8)
{
	const struct tc_layout *w = &m->w;
	uint32_t cp[256], max = 0;
	size_t n = utf8_decode(utf8, cp, TC_ARRAY_LEN(cp));

	for (size_t i = 0; i < n; i++)
		if (cp[i] > max)
			max = cp[i];
	bool ascii = max < 0x80;
	unsigned kind = max < 0x100 ? 1 : max < 0x10000 ? 2 : 4;
	size_t data = (size_t)(ascii ? w->unicode.ascii_data : w->unicode.compact_data);
	tc_raddr o = alloc(m, data + (n + 1) * kind);
	unsigned ks = w->unicode.kind_shift;
	uint32_t state = 3u | kind << ks | 1u << (ks + 3) | (uint32_t)ascii << (ks + 4);
	if (m->v->minor <= 11)
		state |= 1u << (ks + 5); /* `ready` */

	put64(m, at(o, w->object.ob_type), STR_TYPE);
	put64(m, at(o, w->unicode.length), n);
	put32(m, at(o, w->unicode.state), state);
	for (size_t i = 0; i < n; i++) {
		tc_raddr a = o + data + i * kind;
		if (kind == 1)
			put8(m, a, (uint8_t)cp[i]);
		else if (kind == 2)
			put16(m, a, (uint16_t)cp[i]);
		else
			put32(m, a, cp[i]);
	}
	return o;
}

static tc_raddr img_bytes(struct img *m, const uint8_t *b, size_t n)
{
	tc_raddr o = alloc(m, (size_t)m->w.bytes.ob_sval + n + 1);
	put64(m, at(o, m->w.object.ob_type), BYTES_TYPE);
	put64(m, at(o, m->w.bytes.ob_size), n);
	if (n)
		memcpy(host(m, o + (tc_raddr)m->w.bytes.ob_sval, n), b, n);
	return o;
}

/* LEN bytes of bytecode on one line: the previous range's line + DELTA (the first range:
 * co_firstlineno + DELTA), or no line at all (DELTA == NOLINE). */
struct range {
	int len;
	int32_t delta;
};

/* 3.11+ signed varint: sign in the low bit, 6-bit chunks, low chunk first, 0x40 = more. */
static size_t put_svarint(uint8_t *out, int32_t d)
{
	uint32_t u = d < 0 ? (uint32_t)(-d) << 1 | 1 : (uint32_t)d << 1;
	size_t n = 0;

	while (u >= 64) {
		out[n++] = (uint8_t)(0x40 | (u & 63));
		u >>= 6;
	}
	out[n++] = (uint8_t)u;
	return n;
}

/* Encode ranges R[0..N) in FMT into OUT. Returns the length. */
static size_t encode_table(enum tc_linetable_format fmt, const struct range *r, size_t n,
			   uint8_t *out)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		bool noline = r[i].delta == NOLINE;
		switch (fmt) {
		case TC_LT_LNOTAB: /* (bytes since the previous change, line delta at this one) */
			out[len++] = (uint8_t)(i ? r[i - 1].len : 0);
			out[len++] = (uint8_t)(int8_t)(noline ? 0 : r[i].delta);
			break;
		case TC_LT_LINETABLE: /* (bytes in the range, line delta or -128) */
			out[len++] = (uint8_t)r[i].len;
			out[len++] = noline ? 0x80 : (uint8_t)(int8_t)r[i].delta;
			break;
		case TC_LT_LOCATIONS:
			/* code 13 "no column" entries (0x80 | 13 << 3 | units - 1, then the line
			 * delta), or code 15 "no location"; at most 8 code units each */
			for (int units = r[i].len / 2, first = 1; units > 0; first = 0) {
				int k = units > 8 ? 8 : units;
				out[len++] = (uint8_t)(0x80 | (noline ? 15 : 13) << 3 | (k - 1));
				if (!noline)
					len += put_svarint(out + len, first ? r[i].delta : 0);
				units -= k;
			}
			break;
		}
	}
	return len;
}

struct code_def {
	const char *name, *qualname, *file;
	int32_t first;
	struct range r[4];
	size_t nr;
};

/* Four code objects used throughout. Line of a byte offset:
 *   inner: [0,4) 11, [4,10) 13, [10,18) 18, [18,34) 15
 *   gen:   [0,2) 30, [2,10) 32
 *   main:  [0,2) 1, [2,18) 7
 *   work:  [0,4) 101, [4,8) none, [8,20) 105 */
static const struct code_def def_inner = {
	"inner", "Outer.inner", "/app/mod.py", 10, {{4, 1}, {6, 2}, {8, 5}, {16, -3}}, 4};
static const struct code_def def_gen = {
	"gen", "Outer.gen", "/app/mod.py", 30, {{2, 0}, {8, 2}}, 2};
static const struct code_def def_main = {
	"<module>", "<module>", "/app/main.py", 1, {{2, 0}, {16, 6}}, 2};
static const struct code_def def_work = {
	"café", "Ωμέγα.café", "/srv/𝔣𝔲𝔫.py", 100, {{4, 1}, {4, NOLINE}, {12, 4}}, 3};

static tc_raddr img_code(struct img *m, const struct code_def *d)
{
	const struct tc_layout *w = &m->w;
	uint8_t table[64];
	size_t n = encode_table(w->linetable, d->r, d->nr, table);
	tc_raddr file = img_str(m, d->file), name = img_str(m, d->name);
	tc_raddr qual = w->code.qualname >= 0 ? img_str(m, d->qualname) : 0;
	tc_raddr lt = img_bytes(m, table, n);
	tc_raddr co = alloc(m, m->code_alloc);

	put64(m, at(co, w->object.ob_type), CODE_TYPE);
	put64(m, at(co, w->code.filename), file);
	put64(m, at(co, w->code.name), name);
	if (qual)
		put64(m, at(co, w->code.qualname), qual);
	put64(m, at(co, w->code.linetable), lt);
	put32(m, at(co, w->code.firstlineno), (uint32_t)d->first);
	/* 3.11+: Py_SIZE(code) counts code units; the walker rejects an instruction beyond */
	if (w->code.code_adaptive >= 0)
		put64(m, at(co, w->bytes.ob_size), 256);
	/* RESUME at code unit 1: a frame whose instruction is before it is incomplete */
	if (w->code.firsttraceable >= 0)
		put32(m, at(co, w->code.firsttraceable), 1);
	return co;
}

/* A _PyInterpreterFrame (3.11+) running CODE at byte offset ADDR of its bytecode. */
static tc_raddr img_iframe(struct img *m, tc_raddr code, tc_raddr prev, int64_t addr,
			   uint8_t owner, int32_t tlbc, bool tagged)
{
	const struct tc_layout *w = &m->w;
	tc_raddr f = alloc(m, m->frame_alloc);

	REQUIRE(w->frame_model == TC_FRAMES_INTERP, "not an interpreter-frame version");
	put64(m, at(f, w->iframe.code), code | (tagged ? m->tag : 0));
	put64(m, at(f, w->iframe.previous), prev);
	put64(m, at(f, w->iframe.instr), code + (tc_raddr)w->code.code_adaptive + (tc_raddr)addr);
	put8(m, at(f, w->iframe.owner), owner);
	if (w->iframe.tlbc_index >= 0)
		put32(m, at(f, w->iframe.tlbc_index), (uint32_t)tlbc);
	return f;
}

/* A PyFrameObject (3.9/3.10). LASTI as the version stores it (3.9 bytes, 3.10 code units). */
static tc_raddr img_frameobj(struct img *m, tc_raddr code, tc_raddr back, int32_t lasti,
			     int32_t lineno, bool trace)
{
	const struct tc_layout *w = &m->w;
	tc_raddr f = alloc(m, m->frame_alloc);

	REQUIRE(w->frame_model == TC_FRAMES_OBJECT, "not a frame-object version");
	put64(m, at(f, w->object.ob_type), OTHER_TYPE);
	put64(m, at(f, w->frameobj.f_back), back);
	put64(m, at(f, w->frameobj.f_code), code);
	put32(m, at(f, w->frameobj.f_lasti), (uint32_t)lasti);
	put32(m, at(f, w->frameobj.f_lineno), (uint32_t)lineno);
	if (trace)
		put64(m, at(f, w->frameobj.f_trace), OTHER_TYPE);
	return f;
}

/* A plain Python frame of any version, at byte offset ADDR. */
static tc_raddr img_frame(struct img *m, tc_raddr code, tc_raddr prev, int64_t addr)
{
	if (m->w.frame_model == TC_FRAMES_INTERP)
		return img_iframe(m, code, prev, addr, 0, 0, true);
	int32_t lasti = addr < 0 ? -1 : (int32_t)(m->v->minor == 10 ? addr / 2 : addr);
	return img_frameobj(m, code, prev, lasti, 0, false);
}

static void img_set_prev(struct img *m, tc_raddr f, tc_raddr prev)
{
	put64(m, at(f, m->w.frame_model == TC_FRAMES_INTERP ? m->w.iframe.previous :
							     m->w.frameobj.f_back), prev);
}

/* Append a thread whose innermost frame is TOP. The first thread is the main thread. */
static tc_raddr img_thread(struct img *m, uint64_t ident, uint64_t native, tc_raddr top)
{
	const struct tc_layout *w = &m->w;
	tc_raddr ts = alloc(m, m->ts_alloc);

	put64(m, at(ts, w->tstate.interp), m->interp);
	put64(m, at(ts, w->tstate.thread_id), ident);
	if (w->tstate.native_thread_id >= 0)
		put64(m, at(ts, w->tstate.native_thread_id), native);
	if (w->tstate.frame >= 0) {
		put64(m, at(ts, w->tstate.frame), top);
	} else if (w->tstate.current_frame >= 0) {
		put64(m, at(ts, w->tstate.current_frame), top);
	} else { /* 3.11/3.12: tstate->cframe->current_frame; a thread running no Python
		  * frame points at its own root record */
		tc_raddr cf = top ? alloc(m, 32) : ts + (tc_raddr)root_cframe_off(m->v);
		put64(m, at(cf, w->cframe.current_frame), top);
		put64(m, at(ts, w->tstate.cframe), cf);
	}
	if (!m->last_ts) {
		put64(m, at(m->interp, w->interp.threads_head), ts);
		if (w->runtime.main_thread >= 0)
			put64(m, at(m->runtime, w->runtime.main_thread), ident);
		if (w->interp.threads_main >= 0)
			put64(m, at(m->interp, w->interp.threads_main), ts);
	} else {
		put64(m, at(m->last_ts, w->tstate.next), ts);
	}
	m->last_ts = ts;
	return ts;
}

static void img_gil(struct img *m, int32_t locked, tc_raddr holder)
{
	put32(m, at(m->gil, m->w.gil.locked), (uint32_t)locked);
	put64(m, at(m->gil, m->w.gil.last_holder), holder);
}

/* Freeze the image and attach to it the way tc_target_attach would once it has found
 * _PyRuntime: 3.13+ layouts come from the image's own _Py_DebugOffsets. */
static void img_attach(struct img *m)
{
	struct tc_region reg = {ARENA_BASE, m->mem, m->used};

	ck_assert_int_eq(tc_remote_open_image(&reg, 1, &m->r), 0);
	m->t.pid = PID;
	m->t.mem = m->r;
	m->t.runtime = m->runtime;
	m->t.code_type = CODE_TYPE;
	m->t.pthread_tid_off = -1;
	if (m->v->minor >= 13) {
		uint8_t buf[TC_DEBUG_OFFSETS_MAX];
		ck_assert_int_eq(tc_remote_read(m->r, m->runtime, buf, sizeof buf), 0);
		ck_assert_int_eq(tc_layout_from_debug_offsets(buf, sizeof buf, false, &m->t.layout), 0);
		ck_assert(m->t.layout.free_threaded == m->v->ft);
	} else {
		ck_assert_int_eq(tc_layout_from_table(m->v->hex, false, &m->t.layout), 0);
	}
	ck_assert_int_eq(tc_layout_walkable(&m->t.layout), 0);
	tc_walk_ctx_init(&m->x, &m->t);
	m->cc = tc_code_cache_new(0);
	ck_assert_ptr_nonnull(m->cc);
}

static uint64_t get64(struct img *m, tc_raddr a)
{
	uint64_t v;
	memcpy(&v, m->mem + (a - ARENA_BASE), 8);
	return v;
}

static bool in_image(const struct img *m, tc_raddr a, size_t n)
{
	return a >= ARENA_BASE && a - ARENA_BASE <= m->used && n <= m->used - (a - ARENA_BASE);
}

/* Give every thread's chain the bottom a real interpreter gives it, as the walker requires
 * (unless M->raw): 3.12-3.14 the entry shim, 3.15 the thread's embedded base frame. Chains
 * that are cyclic, leave the image or already end there are left alone. */
static void img_close_chains(struct img *m)
{
	const struct tc_layout *w = &m->w;
	if (m->raw || w->frame_model != TC_FRAMES_INTERP || m->v->minor < 12)
		return;
	tc_raddr ts = get64(m, at(m->interp, w->interp.threads_head));
	for (int nt = 0; ts && nt < 4096 && in_image(m, ts, m->ts_alloc); nt++) {
		tc_raddr base = m->v->minor >= 15 ? ts + (tc_raddr)m->spec.ts_size : m->shim;
		tc_raddr f;
		if (w->tstate.current_frame >= 0) {
			f = get64(m, at(ts, w->tstate.current_frame));
		} else {
			tc_raddr cf = get64(m, at(ts, w->tstate.cframe));
			f = in_image(m, cf, 32) ? get64(m, at(cf, w->cframe.current_frame)) : 0;
		}
		for (int d = 0; f && f != base && d < 80000; d++) {
			if (!in_image(m, f, m->frame_alloc))
				break;
			tc_raddr prev = get64(m, at(f, w->iframe.previous));
			if (!prev) {
				put64(m, at(f, w->iframe.previous), base);
				break;
			}
			f = prev;
		}
		ts = get64(m, at(ts, w->tstate.next));
	}
}

static int img_walk(struct img *m)
{
	img_close_chains(m);
	return tc_unwind(&m->x, m->cc, &m->s);
}

/* Free M, with the chain memo and prefetcher a test may have attached (NULL otherwise). */
static void img_free(struct img *m)
{
	tc_chain_memo_free(m->s.memo);
	m->s.memo = NULL;
	tc_prefetch_free(m->x.rd.pf);
	m->x.rd.pf = NULL;
	tc_snapshot_free(&m->s);
	tc_code_cache_free(m->cc);
	tc_remote_free(m->r);
	free(m->mem);
	free(m);
}

/* ---- checking a snapshot -------------------------------------------------------------- */

struct want {
	const struct code_def *code;
	int32_t line;      /* as a profile would report it; -1 none */
	bool unknown_addr; /* per-thread bytecode: no offset into co_code_adaptive */
};

/* Frame I of thread TI is W, resolved through the code cache the way cmd_dump resolves it. */
static void check_frame(struct img *m, size_t ti, size_t i, const struct want *w)
{
	const struct tc_thread_stack *ts = &m->s.threads[ti];
	const struct tc_raw_frame *f = &m->s.frames[ts->first + i];
	const struct code_def *d = w->code;
	const struct tc_code_info *ci;

	ck_assert_uint_lt(i, ts->n);
	ck_assert_uint_eq(f->code & 15, 0); /* tag bits cleared */
	ck_assert_int_eq(tc_code_cache_get(m->cc, &m->x, f->code, &ci), 0);
	ck_assert_str_eq(ci->name, d->name);
	ck_assert_str_eq(ci->qualname, m->v->minor >= 11 ? d->qualname : d->name);
	ck_assert_str_eq(ci->filename, d->file);
	ck_assert_int_eq(ci->firstlineno, d->first);
	if (w->unknown_addr) {
		ck_assert(f->addr == INT64_MIN);
		return;
	}
	ck_assert(f->addr != INT64_MIN);
	int32_t line = f->lineno >= 0 ? f->lineno : tc_code_line(&m->t.layout, ci, f->addr);
	ck_assert_msg(line == w->line, "%s thread %zu frame %zu (%s): line %d, want %d",
		      m->v->name, ti, i, d->name, line, w->line);
}

/* Thread TI of the snapshot holds exactly the frames W[0..N), innermost first. */
static void check_frames(struct img *m, size_t ti, const struct want *w, size_t n)
{
	const struct tc_thread_stack *ts = &m->s.threads[ti];

	ck_assert_msg(ts->n == n, "%s thread %zu: %zu frames, want %zu", m->v->name, ti, ts->n, n);
	for (size_t i = 0; i < n; i++)
		check_frame(m, ti, i, &w[i]);
}

/* ---- tests ---------------------------------------------------------------------------- */

#define IDENT1 0x7f00c0001000ull
#define IDENT2 0x7f00c0802000ull

/* Two threads, every kind of frame the version has:
 *   thread 1 (main, holds the GIL), innermost first:
 *     incomplete frame (owner 0, before _co_firsttraceable)      skipped (where known)
 *     shim (owner 3: C stack / interpreter, f_executable None)   skipped (3.12+)
 *     inner @12 (tagged executable on 3.14+)                     line 18
 *     gen @0, owned by a generator (owner 1)                     kept although "incomplete"
 *     entry shim (owner 3)                                       skipped (3.12+)
 *     <module> @6 (tagged)                                       line 7
 *   thread 2: work @8 (tlbc_index 1 on 3.14t+: no line), inner @20 (line 15)
 * 3.9/3.10 (frame objects): inner @12 with a stale f_lineno and no trace function, gen with a
 * trace function and f_lineno 55, <module> not started (f_lasti -1). */
START_TEST(test_two_threads)
{
	const struct ver *v = &vers[_i];
	struct img *m = img_new(v, SMALL);
	bool shims = v->minor >= 12;
	bool tlbc = v->ft && v->minor >= 14;
	tc_raddr inner = img_code(m, &def_inner), gen = img_code(m, &def_gen);
	tc_raddr main_co = img_code(m, &def_main), work = img_code(m, &def_work);
	tc_raddr top1, top2;
	const struct want *w1;
	size_t n1;

	static const struct want want_interp[] = {
		{&def_inner, 18, false}, {&def_gen, 30, false}, {&def_main, 7, false}};
	static const struct want want_obj[] = {
		{&def_inner, 18, false}, {&def_gen, 55, false}, {&def_main, 1, false}};
	const struct want want2[] = {{&def_work, 105, tlbc}, {&def_inner, 15, false}};

	if (m->w.frame_model == TC_FRAMES_INTERP) {
		tc_raddr f = img_iframe(m, main_co, 0, 6, 0, 0, true);
		if (shims)
			f = img_iframe(m, m->none, f, 0, 3, 0, false);
		f = img_iframe(m, gen, f, 0, 1, 0, false);
		f = img_iframe(m, inner, f, 12, 0, 0, true);
		if (shims)
			f = img_iframe(m, m->none, f, 0, 3, 0, false);
		/* just pushed: 3.11/3.12 prev_instr is one unit before the bytecode, 3.13+
		 * instr_ptr at its start; both before _co_firsttraceable (1) */
		if (m->w.code.firsttraceable >= 0)
			f = img_iframe(m, main_co, f, v->minor <= 12 ? -2 : 0, 0, 0, false);
		top1 = f;
		f = img_iframe(m, inner, 0, 20, 0, 0, false);
		top2 = img_iframe(m, work, f, 8, 0, tlbc ? 1 : 0, true);
		w1 = want_interp;
		n1 = TC_ARRAY_LEN(want_interp);
	} else {
		int scale = v->minor == 10 ? 2 : 1; /* f_lasti: 3.9 bytes, 3.10 code units */
		tc_raddr f = img_frameobj(m, main_co, 0, -1, 0, false);
		f = img_frameobj(m, gen, f, 4 / scale, 55, true);
		/* 3.9 keeps f_lineno only while tracing; 3.10 zeroes it when not */
		top1 = img_frameobj(m, inner, f, 12 / scale, v->minor == 9 ? 777 : 0, false);
		f = img_frameobj(m, inner, 0, 20 / scale, 0, false);
		top2 = img_frameobj(m, work, f, 8 / scale, 0, false);
		w1 = want_obj;
		n1 = TC_ARRAY_LEN(want_obj);
	}
	tc_raddr ts1 = img_thread(m, IDENT1, PID, top1);
	tc_raddr ts2 = img_thread(m, IDENT2, PID + 1, top2);
	img_gil(m, 1, ts1);
	img_attach(m);

	for (int pass = 0; pass < 2; pass++) { /* the snapshot and the cache are reused */
		ck_assert_int_eq(img_walk(m), 0);
		ck_assert_uint_eq(m->s.nthreads, 2);
		const struct tc_thread_stack *a = &m->s.threads[0], *b = &m->s.threads[1];
		ck_assert_uint_eq(a->tstate, ts1);
		ck_assert_uint_eq(b->tstate, ts2);
		ck_assert_int_eq(a->interp_id, 0);
		ck_assert_uint_eq(a->thread_id, IDENT1);
		ck_assert_uint_eq(b->thread_id, IDENT2);
		/* 3.9/3.10 learn native ids from glibc's struct pthread: unknown here */
		ck_assert_uint_eq(a->native_id, v->minor >= 11 ? PID : 0);
		ck_assert_uint_eq(b->native_id, v->minor >= 11 ? PID + 1 : 0);
		ck_assert(a->main);
		ck_assert(!b->main);
		ck_assert_int_eq(a->holds_gil, 1);
		ck_assert_int_eq(b->holds_gil, 0);
		ck_assert(!a->truncated);
		ck_assert(!b->truncated);
		check_frames(m, 0, w1, n1);
		check_frames(m, 1, want2, TC_ARRAY_LEN(want2));
	}
	struct tc_code_cache_stats st;
	tc_code_cache_get_stats(m->cc, &st);
	ck_assert_uint_eq(st.misses, 4); /* four code objects, each decoded once */
	ck_assert_uint_eq(st.failures, 0);
	img_free(m);
}
END_TEST

/* Free-threaded 3.14t/3.15t: a frame running a thread-local copy of the bytecode reports no
 * offset, whatever its instruction pointer; tlbc_index 0 is the shared copy. 3.13t has no
 * such field: a nonzero word where 3.14t keeps it changes nothing. */
START_TEST(test_tlbc)
{
	static const struct ver *const pick[] = {&vers[5], &vers[7], &vers[9], &vers[6]};
	const struct ver *v = pick[_i];
	struct img *m = img_new(v, SMALL);
	tc_raddr inner = img_code(m, &def_inner);
	tc_raddr f = img_iframe(m, inner, 0, 12, 0, 0, true);
	f = img_iframe(m, inner, f, 20, 0, 7, true);
	f = img_iframe(m, inner, f, 4, 0, 0, false);
	if (m->w.iframe.tlbc_index < 0) /* where 3.14t+ would keep it: unused bytes here */
		put32(m, f + 72, 5);
	img_thread(m, IDENT1, PID, f);
	img_attach(m);

	bool has = v->ft && v->minor >= 14;
	const struct want want[] = {
		{&def_inner, 13, false}, {&def_inner, 15, has}, {&def_inner, 18, false}};
	ck_assert_int_eq(img_walk(m), 0);
	ck_assert_uint_eq(m->s.nthreads, 1);
	check_frames(m, 0, want, 3);
	img_free(m);
}
END_TEST


/* Names are decoded with the version's str layout (Latin-1, UCS-2 and UCS-4 compact strings
 * in `work`, long ASCII ones here); a name whose state says "not compact" (a legacy string)
 * is refused, which ends the stack there as truncated rather than inventing a frame. */
START_TEST(test_strings)
{
	static const struct code_def long_def = {
		"a_rather_long_function_name_that_is_still_ascii_only_0123456789",
		"K.a_rather_long_function_name_that_is_still_ascii_only_0123456789",
		"/usr/lib/python3/dist-packages/some/deeply/nested/package/module.py", 7,
		{{8, 0}}, 1};
	const struct ver *v = &vers[_i];
	struct img *m = img_new(v, SMALL);
	tc_raddr lng = img_code(m, &long_def), work = img_code(m, &def_work);
	tc_raddr legacy = img_code(m, &def_gen), main_co = img_code(m, &def_main);
	tc_raddr name = tc_get_u64(host(m, at(legacy, m->w.code.name), 8), 0);
	tc_raddr state = at(name, m->w.unicode.state);
	put32(m, state, tc_get_u32(host(m, state, 4), 0) & ~(1u << m->w.unicode.compact_bit));

	tc_raddr f = img_frame(m, main_co, 0, 6);
	f = img_frame(m, legacy, f, 4);
	f = img_frame(m, work, f, 8);
	f = img_frame(m, lng, f, 4);
	img_thread(m, IDENT1, PID, f);
	img_attach(m);

	const struct want want[] = {{&long_def, 7, false}, {&def_work, 105, false}};
	ck_assert_int_eq(img_walk(m), 0);
	check_frames(m, 0, want, 2);
	ck_assert(m->s.threads[0].truncated);
	img_free(m);
}
END_TEST

/* 3.14+: a code object freed and another allocated at its address. The code cache keeps
 * the old names until the interpreter's code-object generation moves; then the walker
 * empties it and the new object is read. */
START_TEST(test_code_generation)
{
	const struct ver *v = &vers[_i == 0 ? 6 : 8]; /* 3.14, 3.15 */
	struct img *m = img_new(v, SMALL);
	tc_raddr work = img_code(m, &def_work), main_co = img_code(m, &def_main);
	tc_raddr other = img_str(m, "replacement");
	tc_raddr gen = at(m->interp, m->spec.is_code_generation);
	put64(m, gen, 5);
	tc_raddr f = img_frame(m, main_co, 0, 6);
	f = img_frame(m, work, f, 8);
	img_thread(m, IDENT1, PID, f);
	img_attach(m);
	ck_assert_int_ge(m->t.layout.interp.code_generation, 0);

	const struct tc_code_info *ci;
	ck_assert_int_eq(img_walk(m), 0);
	ck_assert_uint_eq(m->s.code_generation, 5);
	ck_assert_int_eq(tc_code_cache_get(m->cc, &m->x, m->s.frames[0].code, &ci), 0);
	ck_assert_str_eq(ci->name, "café");
	/* the object at WORK now names another function: same generation, cache kept */
	put64(m, at(work, m->w.code.name), other);
	ck_assert_int_eq(img_walk(m), 0);
	ck_assert_int_eq(tc_code_cache_get(m->cc, &m->x, m->s.frames[0].code, &ci), 0);
	ck_assert_str_eq(ci->name, "café");
	/* the generation moves: emptied, re-read */
	put64(m, gen, 6);
	struct tc_code_cache_stats st0, st1;
	tc_code_cache_get_stats(m->cc, &st0);
	ck_assert_int_eq(img_walk(m), 0);
	tc_code_cache_get_stats(m->cc, &st1);
	ck_assert_uint_eq(st1.flushes, st0.flushes + 1);
	ck_assert_uint_eq(m->s.code_generation, 6);
	ck_assert_int_eq(tc_code_cache_get(m->cc, &m->x, m->s.frames[0].code, &ci), 0);
	ck_assert_str_eq(ci->name, "replacement");
	img_free(m);
}
END_TEST

/* 3.15: every chain ends at the base frame embedded in the thread state; the walk stops there
 * without reading it. Here it holds what would be a Python frame pointing at another one, so
 * a walk that read it would report two more frames. */
START_TEST(test_base_frame)
{
	const struct ver *v = &vers[_i == 0 ? 8 : 9]; /* 3.15, 3.15t */
	struct img *m = img_new(v, SMALL);
	tc_raddr work = img_code(m, &def_work), main_co = img_code(m, &def_main);
	tc_raddr bottom = img_frame(m, main_co, 0, 6);
	tc_raddr top = img_frame(m, work, bottom, 8);
	tc_raddr decoy = img_frame(m, main_co, 0, 6);
	tc_raddr ts = img_thread(m, IDENT1, PID, top);
	tc_raddr base = ts + (tc_raddr)m->spec.ts_size;
	img_set_prev(m, bottom, base);
	put64(m, at(base, m->w.iframe.code), main_co | m->tag);
	put64(m, at(base, m->w.iframe.previous), decoy);
	put64(m, at(base, m->w.iframe.instr), main_co + (tc_raddr)m->w.code.code_adaptive + 6);
	img_attach(m);
	ck_assert_int_eq(m->t.layout.tstate.base_frame, m->spec.ts_size);

	ck_assert_int_eq(img_walk(m), 0);
	ck_assert_uint_eq(m->s.nthreads, 1);
	ck_assert_uint_eq(m->s.threads[0].n, 2);
	ck_assert(!m->s.threads[0].truncated);
	ck_assert_uint_eq(m->s.frames[0].code, work);
	ck_assert_uint_eq(m->s.frames[1].code, main_co);
	img_free(m);
}
END_TEST

/* Walk with the chain memo (over a prefetched batch) and without it: the same stacks. */
static void walk_both_ways(struct img *m)
{
	struct tc_snapshot cold = {0};
	ck_assert_int_eq(img_walk(m), 0);
	ck_assert_int_eq(tc_unwind(&m->x, m->cc, &cold), 0);
	ck_assert_uint_eq(m->s.nthreads, cold.nthreads);
	for (size_t i = 0; i < cold.nthreads; i++) {
		ck_assert_uint_eq(m->s.threads[i].n, cold.threads[i].n);
		ck_assert(m->s.threads[i].truncated == cold.threads[i].truncated);
	}
	ck_assert_uint_eq(m->s.nframes, cold.nframes);
	ck_assert_mem_eq(m->s.frames, cold.frames, cold.nframes * sizeof *cold.frames);
	tc_snapshot_free(&cold);
}

/* The chain memo (3.11+): an unchanged stack is taken from it, and whatever changes below
 * the top (an instruction pointer, a frame replaced at the same address, a frame's previous
 * pointer skipping frames, the bottom frame) gives exactly the stack a walk without it
 * gives. */
START_TEST(test_chain_memo)
{
	const struct ver *v = &vers[2 + _i]; /* 3.11 .. 3.15t */
	struct img *m = img_new(v, SMALL);
	tc_raddr work = img_code(m, &def_work), main_co = img_code(m, &def_main);
	enum { D = 60 };
	tc_raddr f[D];
	for (int i = 0; i < D; i++) /* f[0] the outermost */
		f[i] = img_frame(m, i % 2 ? work : main_co, i ? f[i - 1] : 0, i % 2 ? 8 : 6);
	tc_raddr ts = img_thread(m, IDENT1, PID, f[D - 1]);
	img_attach(m);
	ck_assert_int_eq(tc_prefetch_new(m->r, 0, 0, &m->x.rd.pf), 0);
	m->s.memo = tc_chain_memo_new();
	ck_assert_ptr_nonnull(m->s.memo);
	const int32_t o_instr = m->w.iframe.instr, o_code = m->w.iframe.code;
	const tc_raddr adaptive = (tc_raddr)m->w.code.code_adaptive;

	struct tc_cm_stats st0, st1;
	for (int w = 0; w < 3; w++)
		walk_both_ways(m);
	ck_assert_uint_eq(m->s.threads[0].n, D);
	tc_chain_memo_get_stats(m->s.memo, &st0);
	walk_both_ways(m);
	tc_chain_memo_get_stats(m->s.memo, &st1);
	/* all of it (and the entry shim under it, 3.12-3.14), nothing chased */
	const unsigned S = m->shim ? 1 : 0;
	ck_assert_uint_eq(st1.taken - st0.taken, D + S);
	ck_assert_uint_eq(st1.chased, st0.chased);

	/* an instruction pointer in the middle moves */
	put64(m, at(f[10], o_instr), main_co + adaptive + 12);
	walk_both_ways(m);
	ck_assert_int_eq(m->s.frames[D - 1 - 10].addr, 12);
	tc_chain_memo_get_stats(m->s.memo, &st0);
	ck_assert_uint_eq(st0.taken - st1.taken, 10 + S); /* the ten frames below it */
	/* a frame replaced at the same address by one of another function */
	put64(m, at(f[30], o_code), main_co | m->tag);
	put64(m, at(f[30], o_instr), main_co + adaptive + 6);
	walk_both_ways(m);
	ck_assert_uint_eq(m->s.frames[D - 1 - 30].code, main_co);
	/* frames 6 .. 19 return: 20's caller is 5 */
	img_set_prev(m, f[20], f[5]);
	walk_both_ways(m);
	ck_assert_uint_eq(m->s.threads[0].n, D - 14);
	/* the bottom frame changes: nothing to take, still the same stack */
	put64(m, at(f[0], o_instr), main_co + adaptive + 12);
	walk_both_ways(m);
	walk_both_ways(m);
	/* and back: the memo learns the new chain */
	img_set_prev(m, f[20], f[19]);
	walk_both_ways(m);
	ck_assert_uint_eq(m->s.threads[0].n, D);
	tc_chain_memo_get_stats(m->s.memo, &st0);
	walk_both_ways(m);
	tc_chain_memo_get_stats(m->s.memo, &st1);
	ck_assert_uint_eq(st1.taken - st0.taken, D + S);
	if (m->w.tstate.current_frame >= 0) {
		/* the top four frames return; their memory still reads as before (a walk
		 * checking from the bottom finds them unchanged), yet they are not on the chain:
		 * the chase meets the memo at the new top */
		put64(m, at(ts, m->w.tstate.current_frame), f[D - 5]);
		walk_both_ways(m);
		ck_assert_uint_eq(m->s.threads[0].n, D - 4);
		tc_chain_memo_get_stats(m->s.memo, &st0);
		ck_assert_uint_eq(st0.taken - st1.taken, D - 4 + S);
		ck_assert_uint_eq(st0.chased, st1.chased);
		put64(m, at(ts, m->w.tstate.current_frame), f[D - 1]);
		walk_both_ways(m);
		ck_assert_uint_eq(m->s.threads[0].n, D);
	}

	img_free(m);
}
END_TEST

/* The chain memo's bounds: frames in all, threads, idle chains swept, clear. */
START_TEST(test_chain_memo_bounds)
{
	struct tc_chain_memo *m = tc_chain_memo_new();
	struct tc_cm_stats st;
	ck_assert_ptr_nonnull(m);
	tc_chain_memo_begin(m);
	struct tc_cm_chain *a = tc_chain_memo_thread(m, 0x1000);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_eq(tc_chain_memo_thread(m, 0x1000), a);
	ck_assert_ptr_null(tc_chain_memo_thread(m, 0));
	ck_assert_int_eq(tc_chain_memo_reserve(m, a, 1000), 0);
	tc_chain_memo_set_len(a, 1000);
	ck_assert_int_eq(tc_chain_memo_reserve(m, a, TC_CM_MAX_FRAMES + 1), -1);
	ck_assert_uint_eq(a->n, 0); /* no room: emptied, not half kept */
	tc_chain_memo_get_stats(m, &st);
	ck_assert_uint_eq(st.frames, 0);
	for (tc_raddr i = 1; i <= TC_CM_MAX_THREADS; i++)
		ck_assert_ptr_nonnull(tc_chain_memo_thread(m, i * 0x1000));
	ck_assert_ptr_null(tc_chain_memo_thread(m, 0x99999000));
	tc_chain_memo_get_stats(m, &st);
	ck_assert_uint_eq(st.threads, TC_CM_MAX_THREADS);
	/* only 0x2000 stays busy: the others go after TC_CM_IDLE_WALKS walks */
	for (int w = 0; w < 2 * TC_CM_IDLE_WALKS; w++) {
		tc_chain_memo_begin(m);
		ck_assert_ptr_nonnull(tc_chain_memo_thread(m, 0x2000));
	}
	tc_chain_memo_get_stats(m, &st);
	ck_assert_uint_eq(st.threads, 1);
	ck_assert_uint_eq(st.evicted, TC_CM_MAX_THREADS - 1);
	tc_chain_memo_clear(m);
	tc_chain_memo_get_stats(m, &st);
	ck_assert_uint_eq(st.threads, 0);
	tc_chain_memo_free(m);
}
END_TEST

/* The code cache is bounded with LRU eviction: full, it drops its least recently used half. */
START_TEST(test_code_cache_lru)
{
	struct img *m = img_new(&vers[3], SMALL); /* 3.12 */
	tc_raddr co[6];
	for (int k = 0; k < 6; k++)
		co[k] = img_code(m, &def_work);
	img_attach(m);
	tc_code_cache_free(m->cc);
	m->cc = tc_code_cache_new(4);
	const struct tc_code_info *ci;
	struct tc_code_cache_stats st;
	for (int k = 0; k < 4; k++) /* 0 1 2 3: full */
		ck_assert_int_eq(tc_code_cache_get(m->cc, &m->x, co[k], &ci), 0);
	ck_assert_int_eq(tc_code_cache_get(m->cc, &m->x, co[0], &ci), 0); /* 0 is recent */
	ck_assert_int_eq(tc_code_cache_get(m->cc, &m->x, co[3], &ci), 0); /* and 3 */
	ck_assert_int_eq(tc_code_cache_get(m->cc, &m->x, co[4], &ci), 0); /* evicts 1, 2 */
	tc_code_cache_get_stats(m->cc, &st);
	ck_assert_uint_eq(st.evictions, 2);
	ck_assert_uint_eq(st.entries, 3);
	ck_assert_uint_le(st.entries, st.capacity);
	uint64_t misses = st.misses;
	ck_assert_int_eq(tc_code_cache_get(m->cc, &m->x, co[0], &ci), 0);
	ck_assert_int_eq(tc_code_cache_get(m->cc, &m->x, co[3], &ci), 0);
	ck_assert_int_eq(tc_code_cache_get(m->cc, &m->x, co[4], &ci), 0);
	ck_assert_str_eq(ci->name, "café");
	tc_code_cache_get_stats(m->cc, &st);
	ck_assert_uint_eq(st.misses, misses); /* all three still there */
	ck_assert_int_eq(tc_code_cache_get(m->cc, &m->x, co[1], &ci), 0);
	tc_code_cache_get_stats(m->cc, &st);
	ck_assert_uint_eq(st.misses, misses + 1); /* 1 was evicted */
	/* clearing empties it */
	tc_code_cache_clear(m->cc);
	tc_code_cache_get_stats(m->cc, &st);
	ck_assert_uint_eq(st.entries, 0);
	img_free(m);
}
END_TEST

/* A frame whose instruction pointer lies outside its code object (a frame popped while the
 * walk read it, its memory reused): the stack ends there, truncated, and the bogus code
 * pointer is never dereferenced. */
START_TEST(test_instr_outside_code)
{
	const struct ver *v = &vers[2 + _i]; /* 3.11 .. 3.15t */
	struct img *m = img_new(v, SMALL);
	tc_raddr main_co = img_code(m, &def_main);
	tc_raddr f = img_frame(m, main_co, 0, 6);
	tc_raddr top = img_iframe(m, 0x7777000, f, 0, 0, 0, false);
	put64(m, at(top, m->w.iframe.instr), 0x10); /* below the "code object" */
	img_thread(m, IDENT1, PID, top);
	img_attach(m);
	struct tc_code_cache_stats st;
	ck_assert_int_eq(img_walk(m), 0);
	ck_assert(m->s.threads[0].truncated);
	ck_assert_uint_eq(m->s.threads[0].n, 0);
	/* the bogus code object was never looked up (so never read) */
	tc_code_cache_get_stats(m->cc, &st);
	ck_assert_uint_eq(st.misses + st.hits, 0);
	/* an instruction past the end of a real code object: also rejected */
	put64(m, at(top, m->w.iframe.code), main_co);
	put64(m, at(top, m->w.iframe.instr), main_co + (tc_raddr)m->w.code.code_adaptive + 4096);
	ck_assert_int_eq(img_walk(m), 0);
	ck_assert(m->s.threads[0].truncated);
	ck_assert_uint_eq(m->s.threads[0].n, 0);
	img_free(m);
}
END_TEST

/* A frame chain that loops (A -> B -> C -> A) and one that points at itself: each thread
 * ends truncated after a few frames, and the walk goes on to the next thread. */
START_TEST(test_frame_cycle)
{
	const struct ver *v = &vers[_i];
	struct img *m = img_new(v, SMALL);
	tc_raddr inner = img_code(m, &def_inner), gen = img_code(m, &def_gen);
	tc_raddr main_co = img_code(m, &def_main);
	tc_raddr c = img_frame(m, main_co, 0, 6);
	tc_raddr b = img_frame(m, gen, c, 4);
	tc_raddr a = img_frame(m, inner, b, 12);
	img_set_prev(m, c, a);
	tc_raddr self = img_frame(m, gen, 0, 4);
	img_set_prev(m, self, self);
	img_thread(m, IDENT1, PID, a);
	img_thread(m, IDENT2, PID + 1, self);
	img_thread(m, IDENT2 + 0x1000, PID + 2, img_frame(m, inner, 0, 20));
	img_attach(m);

	ck_assert_int_eq(img_walk(m), 0);
	ck_assert_uint_eq(m->s.nthreads, 3);
	const struct tc_thread_stack *t0 = &m->s.threads[0], *t1 = &m->s.threads[1];
	ck_assert(t0->truncated);
	ck_assert_uint_ge(t0->n, 3);
	ck_assert_uint_le(t0->n, 16);
	const struct want want[] = {{&def_inner, 18, false}, {&def_gen, 32, false},
				    {&def_main, 7, false}};
	for (size_t i = 0; i < 3; i++) /* the first lap is the real stack */
		check_frame(m, 0, i, &want[i]);
	ck_assert(t1->truncated);
	ck_assert_uint_ge(t1->n, 1);
	ck_assert_uint_le(t1->n, 4);
	const struct want want2[] = {{&def_inner, 15, false}};
	check_frames(m, 2, want2, 1);
	ck_assert(!m->s.threads[2].truncated);
	img_free(m);
}
END_TEST

/* A previous pointer into unmapped memory ends that stack as truncated; so does an unmapped
 * innermost frame; a thread with no frame is empty and whole. */
START_TEST(test_prev_unmapped)
{
	const struct ver *v = &vers[_i];
	struct img *m = img_new(v, SMALL);
	tc_raddr inner = img_code(m, &def_inner), gen = img_code(m, &def_gen);
	tc_raddr b = img_frame(m, gen, UNMAPPED, 4);
	tc_raddr a = img_frame(m, inner, b, 12);
	img_thread(m, IDENT1, PID, a);
	img_thread(m, IDENT2, PID + 1, UNMAPPED);
	img_thread(m, IDENT2 + 0x1000, PID + 2, 0);
	img_attach(m);

	ck_assert_int_eq(img_walk(m), 0);
	ck_assert_uint_eq(m->s.nthreads, 3);
	const struct want want[] = {{&def_inner, 18, false}, {&def_gen, 32, false}};
	check_frames(m, 0, want, 2);
	ck_assert(m->s.threads[0].truncated);
	ck_assert_uint_eq(m->s.threads[1].n, 0);
	ck_assert(m->s.threads[1].truncated);
	ck_assert_uint_eq(m->s.threads[2].n, 0);
	ck_assert(!m->s.threads[2].truncated);
	img_free(m);
}
END_TEST

/* A frame whose code object does not validate ends the stack as truncated, and is not
 * reported: wrong ob_type, unmapped code, NULL code (before 3.14; from 3.14 the NULL
 * stackref is skipped), a code object whose file name pointer is unmapped. The frame above
 * it is kept. */
START_TEST(test_bad_code)
{
	const struct ver *v = &vers[_i];
	struct img *m = img_new(v, SMALL);
	tc_raddr inner = img_code(m, &def_inner), main_co = img_code(m, &def_main);
	tc_raddr wrong = img_code(m, &def_gen), nofile = img_code(m, &def_work);
	put64(m, at(wrong, m->w.object.ob_type), OTHER_TYPE);
	put64(m, at(nofile, m->w.code.filename), UNMAPPED);
	const tc_raddr bad[] = {wrong, UNMAPPED, 0, nofile};

	for (size_t i = 0; i < TC_ARRAY_LEN(bad); i++) {
		tc_raddr c = img_frame(m, main_co, 0, 6);
		tc_raddr b = img_frame(m, bad[i], c, 4);
		img_thread(m, IDENT1 + i * 0x1000, PID + i, img_frame(m, inner, b, 12));
	}
	img_attach(m);

	ck_assert_int_eq(img_walk(m), 0);
	ck_assert_uint_eq(m->s.nthreads, TC_ARRAY_LEN(bad));
	const struct want want[] = {{&def_inner, 18, false}};
	for (size_t i = 0; i < TC_ARRAY_LEN(bad); i++) {
		if (bad[i] == 0 && v->minor >= 14) {
			/* 3.14+: the NULL stackref marks a frame that is not a Python frame (yet or
			 * any more): it is skipped, and the walk goes on below it */
			const struct tc_thread_stack *ts = &m->s.threads[i];
			ck_assert_msg(ts->n == 2 && !ts->truncated, "%s NULL executable: %zu frames%s",
				      v->name, ts->n, ts->truncated ? ", truncated" : "");
			check_frame(m, i, 0, &want[0]);
			ck_assert_uint_eq(m->s.frames[ts->first + 1].code, main_co);
			continue;
		}
		check_frames(m, i, want, 1);
		ck_assert_msg(m->s.threads[i].truncated, "%s bad code %zu", v->name, i);
	}
	img_free(m);
}
END_TEST

/* Chain lengths around the depth limit: 3,000 frames come out whole, exactly 65,536 too;
 * 65,537 and 70,000 stop at 65,536, truncated. */
static const size_t depths[] = {3000, TC_MAX_DEPTH, TC_MAX_DEPTH + 1, 70000};

START_TEST(test_depth)
{
	const struct ver *v = &vers[_i / (int)TC_ARRAY_LEN(depths)];
	size_t depth = depths[_i % (int)TC_ARRAY_LEN(depths)];
	struct img *m = img_new(v, depth * 128 + SMALL);
	tc_raddr main_co = img_code(m, &def_main), inner = img_code(m, &def_inner);
	tc_raddr f = img_frame(m, main_co, 0, 6);

	for (size_t i = 1; i < depth; i++)
		f = img_frame(m, inner, f, 12);
	img_thread(m, IDENT1, PID, f);
	img_thread(m, IDENT2, PID + 1, img_frame(m, inner, 0, 20));
	img_attach(m);

	ck_assert_int_eq(img_walk(m), 0);
	ck_assert_uint_eq(m->s.nthreads, 2);
	const struct tc_thread_stack *ts = &m->s.threads[0];
	size_t want_n = depth < TC_MAX_DEPTH ? depth : TC_MAX_DEPTH;
	ck_assert_msg(ts->n == want_n, "%s depth %zu: %zu frames", v->name, depth, ts->n);
	ck_assert(ts->truncated == (depth > TC_MAX_DEPTH));
	/* the outermost frame (<module>) is there exactly when the chain was whole */
	const struct tc_raw_frame *last = &m->s.frames[ts->first + ts->n - 1];
	ck_assert((last->code == main_co) == (depth <= TC_MAX_DEPTH));
	const struct want want2[] = {{&def_inner, 15, false}};
	check_frames(m, 1, want2, 1);
	img_free(m);
}
END_TEST

/* A thread list that loops (1 -> 2 -> 1, or 1 -> 1) is a torn read: the whole walk fails
 * with -TC_ECORRUPT (the caller retries), it does not loop or invent threads. */
START_TEST(test_thread_cycle)
{
	const struct ver *v = &vers[_i / 2];
	bool selfloop = _i % 2;
	struct img *m = img_new(v, SMALL);
	tc_raddr inner = img_code(m, &def_inner);
	tc_raddr ts1 = img_thread(m, IDENT1, PID, img_frame(m, inner, 0, 12));
	if (selfloop) {
		put64(m, at(ts1, m->w.tstate.next), ts1);
	} else {
		tc_raddr ts2 = img_thread(m, IDENT2, PID + 1, img_frame(m, inner, 0, 20));
		put64(m, at(ts2, m->w.tstate.next), ts1);
	}
	img_attach(m);

	ck_assert_int_eq(img_walk(m), -TC_ECORRUPT);
	ck_assert_uint_le(m->s.nthreads, 8);
	img_free(m);
}
END_TEST

/* An interpreter list that loops is corrupt too; a thread list running into unmapped memory
 * is a failed read (-TC_EFAULT). */
START_TEST(test_list_errors)
{
	const struct ver *v = &vers[_i / 2];
	bool interp_cycle = _i % 2 == 0;
	struct img *m = img_new(v, SMALL);
	tc_raddr inner = img_code(m, &def_inner);
	tc_raddr ts1 = img_thread(m, IDENT1, PID, img_frame(m, inner, 0, 12));
	if (interp_cycle)
		put64(m, at(m->interp, m->w.interp.next), m->interp);
	else
		put64(m, at(ts1, m->w.tstate.next), UNMAPPED);
	img_attach(m);

	ck_assert_int_eq(img_walk(m), interp_cycle ? -TC_ECORRUPT : -TC_EFAULT);
	img_free(m);
}
END_TEST

/* 3.11/3.12: the innermost frame is found through tstate->cframe. A cframe pointer into
 * unmapped memory breaks that one thread's chain like any other unreadable frame pointer:
 * unwind.h promises the thread is marked truncated and the call still returns 0, so the
 * other threads' stacks are not lost. */
START_TEST(test_cframe_unmapped)
{
	const struct ver *v = &vers[2 + _i];
	struct img *m = img_new(v, SMALL);
	tc_raddr inner = img_code(m, &def_inner);
	tc_raddr ts1 = img_thread(m, IDENT1, PID, img_frame(m, inner, 0, 12));
	img_thread(m, IDENT2, PID + 1, img_frame(m, inner, 0, 20));
	ck_assert_int_ge(m->w.tstate.cframe, 0);
	put64(m, at(ts1, m->w.tstate.cframe), UNMAPPED);
	img_attach(m);

	/* gather, release, then judge: a failure here must not leak the image under
	 * CK_FORK=no valgrind runs */
	int err = img_walk(m);
	size_t nthreads = m->s.nthreads;
	bool trunc0 = nthreads > 0 && m->s.threads[0].truncated;
	size_t n0 = nthreads > 0 ? m->s.threads[0].n : 99, n1 = nthreads > 1 ? m->s.threads[1].n : 99;
	img_free(m);
	ck_assert_msg(err == 0, "%s: tc_unwind returned %d for one thread's unreadable cframe",
		      v->name, err);
	ck_assert_uint_eq(nthreads, 2);
	ck_assert(trunc0);
	ck_assert_uint_eq(n0, 0);
	ck_assert_uint_eq(n1, 1);
}
END_TEST

/* A short ASCII name is a small object: "f" takes sizeof(PyASCIIObject) + 2 bytes, 48 in a
 * 3.12 pymalloc block, less than sizeof(PyCompactUnicodeObject). When it is the last block
 * before unmapped memory (end of an arena), its name must still decode: nothing past the
 * object's own bytes should be needed. */
START_TEST(test_short_str_at_end_of_mapping)
{
	const struct ver *v = &vers[_i];
	struct img *m = img_new(v, SMALL);
	tc_raddr inner = img_code(m, &def_inner);
	img_thread(m, IDENT1, PID, img_frame(m, inner, 0, 12));
	tc_raddr s = img_str(m, "f");
	m->used = (m->used + 15) & ~(size_t)15; /* the block ends on a 16-byte boundary */
	put64(m, at(inner, m->w.code.name), s);
	img_attach(m);

	int err = img_walk(m);
	bool whole = err == 0 && m->s.nthreads == 1 && m->s.threads[0].n == 1 &&
		     !m->s.threads[0].truncated;
	const struct tc_code_info *ci;
	char name[8] = "";
	if (tc_code_cache_get(m->cc, &m->x, inner, &ci) == 0)
		snprintf(name, sizeof name, "%s", ci->name);
	img_free(m); /* before judging: no leak under CK_FORK=no */
	ck_assert_msg(whole, "%s: frame with name \"f\" at the end of a mapping dropped", v->name);
	ck_assert_str_eq(name, "f");
}
END_TEST

/* ---- issue 10: stacks that never existed ------------------------------------------------ */

/* Copy the N-byte object at SRC over DST (a freed object's address reused). */
static void img_copy(struct img *m, tc_raddr dst, tc_raddr src, size_t n)
{
	memmove(host(m, dst, n), host(m, src, n), n);
}

/* co_flags where the headers put it (gdb ptype /o PyCodeObject), written independently of
 * layouts/code_ident.c: 3.9/3.10 at 36, 3.11-3.13 at 48 (default builds; +16 free-threaded) */
static int32_t co_flags_off(const struct ver *v)
{
	return (v->minor <= 10 ? 36 : 48) + (v->ft ? 16 : 0);
}

/* 3.9-3.13: a code object freed and another allocated at its address. The walk must name the
 * object that is there now: on top of the stack (chased) and below it (with the chain memo,
 * where the frame's own bytes do not change at all). Then the name string alone is replaced
 * in place (same length, same address): 3.9-3.11 compare the name's bytes; 3.12/3.13 a new
 * code object has a new co_version, which the test bumps as CPython would. */
START_TEST(test_code_reuse)
{
	const struct ver *v = &vers[_i];
	struct img *m = img_new(v, SMALL);
	tc_raddr main_co = img_code(m, &def_main), x = img_code(m, &def_inner);
	tc_raddr work = img_code(m, &def_work), other = img_code(m, &def_main);
	tc_raddr bottom = img_frame(m, main_co, 0, 6);
	tc_raddr mid = img_frame(m, x, bottom, 12);   /* inner line 18 */
	tc_raddr top = img_frame(m, work, mid, 8);    /* work line 105 */
	img_thread(m, IDENT1, PID, top);
	img_attach(m);
	if (m->w.frame_model == TC_FRAMES_INTERP) {
		ck_assert_int_eq(tc_prefetch_new(m->r, 0, 0, &m->x.rd.pf), 0);
		m->s.memo = tc_chain_memo_new();
	}
	const struct want before[] = {{&def_work, 105, false}, {&def_inner, 18, false},
				      {&def_main, 7, false}};
	for (int w = 0; w < 3; w++) {
		ck_assert_int_eq(img_walk(m), 0);
		ck_assert(!m->s.threads[0].truncated);
		check_frames(m, 0, before, 3);
	}
	uint32_t serial = m->s.frames[1].serial;
	/* X is freed; a <module> code object is allocated there (its strings elsewhere) */
	img_copy(m, x, other, m->code_alloc);
	if (v->minor == 12 || v->minor == 13) /* co_version: firstlineno + 24 */
		put32(m, x + (tc_raddr)m->w.code.firstlineno + 24, 4242);
	const struct want after[] = {{&def_work, 105, false}, {&def_main, 7, false},
				     {&def_main, 7, false}};
	ck_assert_int_eq(img_walk(m), 0);
	ck_assert(!m->s.threads[0].truncated);
	check_frames(m, 0, after, 3);
	ck_assert_uint_ne(m->s.frames[1].serial, serial);
	struct tc_code_cache_stats st;
	tc_code_cache_get_stats(m->cc, &st);
	ck_assert_uint_ge(st.replaced, 1);

	/* the same code object layout, a name of the same length at the same address */
	tc_raddr name = get64(m, at(x, m->w.code.name));
	uint8_t *p = host(m, name + (tc_raddr)m->w.unicode.ascii_data, 8);
	ck_assert_mem_eq(p, "<module>", 8);
	memcpy(p, "<lambda>", 8);
	if (v->minor == 12 || v->minor == 13)
		put32(m, x + (tc_raddr)m->w.code.firstlineno + 24, 4243);
	ck_assert_int_eq(img_walk(m), 0);
	const struct tc_code_info *ci;
	ck_assert_int_eq(tc_code_cache_get(m->cc, &m->x, m->s.frames[1].code, &ci), 0);
	ck_assert_str_eq(ci->name, "<lambda>");

	img_free(m);
}
END_TEST

/* A chain that does not end at the thread's base is cut, never whole: a generator's frame
 * read just after it yielded (previous / f_back NULL) at the bottom. 3.9/3.10: a frame of a
 * generator code object; 3.11: a frame owned by a generator; 3.12-3.14: no entry shim under
 * it; 3.15: no base frame. The frames above the cut are kept. */
START_TEST(test_gen_bottom)
{
	const struct ver *v = &vers[_i];
	struct img *m = img_new(v, SMALL);
	m->raw = true;
	tc_raddr gen = img_code(m, &def_gen), inner = img_code(m, &def_inner);
	put32(m, gen + (tc_raddr)co_flags_off(v), 0x20 | 0x3); /* CO_GENERATOR */
	tc_raddr g = m->w.frame_model == TC_FRAMES_INTERP ? img_iframe(m, gen, 0, 2, 1, 0, true) :
							    img_frame(m, gen, 0, 2);
	img_thread(m, IDENT1, PID, img_frame(m, inner, g, 12));
	img_attach(m);
	ck_assert_int_eq(img_walk(m), 0);
	ck_assert_msg(m->s.threads[0].truncated, "%s: a chain rooted at a generator is whole",
		      v->name);
	ck_assert(!m->s.threads[0].deep);
	ck_assert_uint_ge(m->s.threads[0].n, 1);
	ck_assert_uint_eq(m->s.frames[m->s.threads[0].first].code, inner);
	img_free(m);
}
END_TEST

/* 3.11-3.13: the innermost frame holds a NULL code pointer and a small instruction pointer
 * (a thread starting or exiting): cut, no crash (the cached code info started NULL). */
START_TEST(test_null_code_top)
{
	const struct ver *v = &vers[2 + _i]; /* 3.11, 3.12, 3.13, 3.13t */
	struct img *m = img_new(v, SMALL);
	tc_raddr main_co = img_code(m, &def_main);
	tc_raddr bottom = img_frame(m, main_co, 0, 6);
	tc_raddr f = img_iframe(m, 0, bottom, 0, 0, 0, false);
	put64(m, at(f, m->w.iframe.instr), 0x40);
	img_thread(m, IDENT1, PID, f);
	img_attach(m);
	ck_assert_int_eq(img_walk(m), 0);
	ck_assert(m->s.threads[0].truncated);
	ck_assert_uint_eq(m->s.threads[0].n, 0);
	img_free(m);
}
END_TEST

/* A torn previous pointer near the top of the address space (8-aligned, so it passes the
 * alignment check) while frames are read through a window on the prefetched batch: the
 * window's bounds check must not wrap. Cut, no crash. */
START_TEST(test_prev_near_top)
{
	const struct ver *v = &vers[_i];
	static const tc_raddr bad[] = {0xffffffffffffffe0ull, 0xfffffffffffffff8ull,
				       0x8000000000000000ull};
	struct img *m = img_new(v, SMALL);
	tc_raddr main_co = img_code(m, &def_main), inner = img_code(m, &def_inner);
	tc_raddr f[8];
	for (int i = 0; i < 8; i++)
		f[i] = img_frame(m, i ? inner : main_co, i ? f[i - 1] : 0, i ? 12 : 6);
	img_thread(m, IDENT1, PID, f[7]);
	img_attach(m);
	ck_assert_int_eq(tc_prefetch_new(m->r, 0, 0, &m->x.rd.pf), 0);
	m->s.memo = tc_chain_memo_new();
	for (size_t b = 0; b < TC_ARRAY_LEN(bad); b++) {
		img_set_prev(m, f[4], f[3]);
		for (int w = 0; w < 3; w++) /* the batch learns the frames */
			ck_assert_int_eq(img_walk(m), 0);
		ck_assert(!m->s.threads[0].truncated);
		img_set_prev(m, f[4], bad[b]);
		ck_assert_int_eq(img_walk(m), 0);
		ck_assert(m->s.threads[0].truncated);
		ck_assert_uint_eq(m->s.threads[0].n, 4);
	}
	img_free(m);
}
END_TEST

/* 3.9-3.11 give a thread state the creating thread's ident until the new thread binds it: a
 * frame-less thread state with another's ident is not a second stack of that thread. A
 * frame-less thread state of its own ident stays (a thread in C code). */
START_TEST(test_unstarted_thread)
{
	const struct ver *v = &vers[_i];
	struct img *m = img_new(v, SMALL);
	tc_raddr main_co = img_code(m, &def_main);
	img_thread(m, IDENT1, PID, 0);                            /* created by IDENT1, unbound */
	img_thread(m, IDENT1, PID, img_frame(m, main_co, 0, 6)); /* the creator */
	img_thread(m, IDENT2, PID + 1, 0);                       /* a thread in C code */
	img_thread(m, IDENT2 + 0x1000, PID + 2, 0);              /* two unbound ones of a */
	img_thread(m, IDENT2 + 0x1000, PID + 2, 0);              /* frame-less creator */
	img_attach(m);
	ck_assert_int_eq(img_walk(m), 0);
	ck_assert_uint_eq(m->s.nthreads, 3);
	ck_assert_uint_eq(m->s.threads[0].thread_id, IDENT1);
	ck_assert_uint_eq(m->s.threads[0].n, 1);
	ck_assert_uint_eq(m->s.threads[1].thread_id, IDENT2);
	ck_assert_uint_eq(m->s.threads[1].n, 0);
	ck_assert_uint_eq(m->s.threads[2].thread_id, IDENT2 + 0x1000);
	img_free(m);
}
END_TEST

/* The second read: a change that lands between the walk and the read after it. */
struct move {
	struct img *m;
	uint64_t calls;   /* read calls seen */
	uint64_t at;      /* the call before which to move (UINT64_MAX: never) */
	tc_raddr where;   /* 8 bytes to overwrite then */
	uint64_t value;
	size_t width;     /* 4 or 8 */
};

static void move_hook(void *ctx, uint64_t call)
{
	struct move *mv = ctx;
	mv->calls = call + 1;
	if (call != mv->at)
		return;
	if (mv->width == 4)
		put32(mv->m, mv->where, (uint32_t)mv->value);
	else
		put64(mv->m, mv->where, mv->value);
}

/* The address and value of frame F's instruction after it moved one code unit on. */
static void moved_instr(struct img *m, tc_raddr f, struct move *mv)
{
	if (m->w.frame_model == TC_FRAMES_INTERP) {
		mv->where = at(f, m->w.iframe.instr);
		mv->value = get64(m, mv->where) + 2;
		mv->width = 8;
	} else {
		mv->where = at(f, m->w.frameobj.f_lasti);
		uint32_t lasti;
		memcpy(&lasti, m->mem + (mv->where - ARENA_BASE), 4);
		mv->value = lasti + 2;
		mv->width = 4;
	}
}

/* A thread whose caller moved on (or whose top frame's link changed, or with a frame on top
 * that the walk did not see and whose links lead to none it did) between the walk and the
 * second read is torn, and retried by the sampler; with no generator frame among its top
 * frames it is then kept as walked (test_second_read_gen: the other case). The innermost frame's own instruction moving is not a change, nor a call it made
 * since; a top that returned leaves the stack of the caller now on top (3.11+). */
START_TEST(test_second_read)
{
	const struct ver *v = &vers[_i];
	struct img *m = img_new(v, SMALL);
	tc_raddr main_co = img_code(m, &def_main), inner = img_code(m, &def_inner);
	tc_raddr bottom = img_frame(m, main_co, 0, 6);
	tc_raddr mid = img_frame(m, inner, bottom, 12);
	tc_raddr top = img_frame(m, inner, mid, 20);
	tc_raddr stranger = img_frame(m, inner, mid, 20); /* a frame the walk never met */
	tc_raddr nowhere = img_frame(m, inner, 0, 20);    /* ... leading to none it met */
	tc_raddr callee = img_frame(m, inner, top, 20);   /* called by the walk's top since */
	img_thread(m, IDENT1, PID, top);
	img_close_chains(m);
	img_attach(m);
	struct move mv = {.m = m, .at = UINT64_MAX};
	ck_assert_int_eq(img_walk(m), 0); /* code objects decoded: later walks read the same */
	tc_remote_image_on_read(m->r, move_hook, &mv);
	m->s.npthreads = 0;
	ck_assert_int_eq(img_walk(m), 0);
	const uint64_t last = mv.calls - 1; /* the second read is the walk's last read call */
	const struct tc_thread_stack *ts = &m->s.threads[0];
	ck_assert(!ts->truncated && !ts->torn);
	ck_assert_uint_eq(ts->n, 3);
	ck_assert(ts->vfield != 0);
	const tc_raddr vfield = ts->vfield;
	const size_t mem_len = m->used;
	uint8_t *saved = malloc(mem_len);
	ck_assert_ptr_nonnull(saved);
	memcpy(saved, m->mem, mem_len);
	for (int c = 0; c < 7; c++) {
		memcpy(m->mem, saved, mem_len);
		mv = (struct move){.m = m, .at = last, .width = 8};
		bool torn = true;
		size_t n = 3;
		switch (c) {
		case 0: /* the top frame runs on: a state that existed */
			moved_instr(m, top, &mv);
			torn = false;
			break;
		case 1: /* the caller moved on: the top frame read may be a returned call's */
			moved_instr(m, mid, &mv);
			break;
		case 2: /* the top frame returned: its caller is on top (3.9/3.10: torn,
			 * frame objects are recycled; 3.11+: kept whole, the caller has not
			 * moved) */
			mv.where = vfield;
			mv.value = mid;
			torn = m->w.frame_model == TC_FRAMES_OBJECT;
			break;
		case 4: /* the top returned, and its caller called another function (3.9/3.10:
			 * torn; 3.11+ data stack: kept whole) */
			mv.where = vfield;
			mv.value = stranger;
			torn = m->w.frame_model == TC_FRAMES_OBJECT;
			break;
		case 6: /* a frame on top whose links lead to none the walk read */
			mv.where = vfield;
			mv.value = nowhere;
			break;
		case 5: /* the walk's top called a function since: the stack walked is whole
			 * (3.9/3.10: torn) */
			mv.where = vfield;
			mv.value = callee;
			torn = m->w.frame_model == TC_FRAMES_OBJECT;
			break;
		case 3: /* the top frame's link changed */
			mv.where = at(top, m->w.frame_model == TC_FRAMES_INTERP ?
						   m->w.iframe.previous : m->w.frameobj.f_back);
			mv.value = bottom;
			break;
		}
		tc_remote_image_on_read(m->r, move_hook, &mv);
		m->s.npthreads = 0; /* nothing confirmed before: the second read runs */
		ck_assert_int_eq(img_walk(m), 0);
		ck_assert_uint_ge(mv.calls, last + 1);
		ts = &m->s.threads[0];
		ck_assert_msg(ts->torn == torn, "%s case %d: torn %d", v->name, c, ts->torn);
		if (torn) {
			/* no generator frame: kept as walked (the caller retries first) */
			ck_assert(!ts->truncated && !ts->left_out);
			ck_assert_uint_eq(ts->n, 3);
			ck_assert_uint_ge(m->s.torn, 1);
		} else {
			ck_assert(!ts->truncated);
			ck_assert_uint_eq(ts->n, n);
			/* a stack cut at the top says so */
			ck_assert(ts->top_unconfirmed == (n < 3));
			/* the frames left are the walk's from the caller down */
			ck_assert_uint_eq(m->s.frames[ts->first + ts->n - 1].code, main_co);
			ck_assert_uint_eq(m->s.frames[ts->first].code, inner);
			if (n == 2)
				check_frames(m, 0, (const struct want[]){{&def_inner, 18, false},
									 {&def_main, 7, false}}, 2);
		}
	}
	tc_remote_image_on_read(m->r, NULL, NULL);
	free(saved);
	img_free(m);
}
END_TEST

/* A walk that reads the chain the previous walk confirmed (callers at the same instructions;
 * the innermost frame may have run on) needs no second read; one whose caller moved does. */
START_TEST(test_second_read_skipped)
{
	const struct ver *v = &vers[_i];
	struct img *m = img_new(v, SMALL);
	tc_raddr main_co = img_code(m, &def_main), inner = img_code(m, &def_inner);
	tc_raddr bottom = img_frame(m, main_co, 0, 6);
	tc_raddr mid = img_frame(m, inner, bottom, 12);
	tc_raddr top = img_frame(m, inner, mid, 20);
	img_thread(m, IDENT1, PID, top);
	img_close_chains(m);
	img_attach(m);
	struct move mv = {.m = m, .at = UINT64_MAX};
	ck_assert_int_eq(img_walk(m), 0); /* decodes, and confirms the chain */
	tc_remote_image_on_read(m->r, move_hook, &mv);
	ck_assert_int_eq(img_walk(m), 0);
	ck_assert(m->s.threads[0].vsame);
	const uint64_t calls_same = mv.calls;
	/* the innermost frame ran on: still the chain confirmed */
	moved_instr(m, top, &mv);
	move_hook(&(struct move){.m = m, .at = 0, .where = mv.where, .value = mv.value,
				 .width = mv.width}, 0);
	mv = (struct move){.m = m, .at = UINT64_MAX};
	tc_remote_image_on_read(m->r, move_hook, &mv);
	ck_assert_int_eq(img_walk(m), 0);
	ck_assert(m->s.threads[0].vsame);
	ck_assert_uint_eq(mv.calls, calls_same);
	ck_assert_uint_eq(m->s.threads[0].n, 3);
	/* the caller moved: read again (and it stands: nothing moves after the walk) */
	moved_instr(m, mid, &mv);
	move_hook(&(struct move){.m = m, .at = 0, .where = mv.where, .value = mv.value,
				 .width = mv.width}, 0);
	mv = (struct move){.m = m, .at = UINT64_MAX};
	tc_remote_image_on_read(m->r, move_hook, &mv);
	ck_assert_int_eq(img_walk(m), 0);
	ck_assert(!m->s.threads[0].vsame);
	ck_assert_uint_eq(mv.calls, calls_same + 1);
	ck_assert(!m->s.threads[0].torn && !m->s.threads[0].truncated);
	ck_assert_uint_eq(m->s.threads[0].n, 3);
	tc_remote_image_on_read(m->r, NULL, NULL);
	img_free(m);
}
END_TEST

/* A torn chain with a generator's frame among its top frames keeps nothing (kept as walked,
 * such stacks were often impossible); 3.11+: when its top returned to the generator, the
 * stack from there down is kept with an unconfirmed top. */
START_TEST(test_second_read_gen)
{
	const struct ver *v = &vers[_i];
	struct img *m = img_new(v, SMALL);
	tc_raddr main_co = img_code(m, &def_main), inner = img_code(m, &def_inner);
	tc_raddr gen = img_code(m, &def_gen);
	put32(m, gen + (tc_raddr)co_flags_off(v), 0x20 | 0x3); /* CO_GENERATOR */
	tc_raddr bottom = img_frame(m, main_co, 0, 6);
	tc_raddr g = m->w.frame_model == TC_FRAMES_OBJECT ? img_frame(m, gen, bottom, 2) :
		     img_iframe(m, gen, bottom, 2, 1, 0, true); /* owned by a generator */
	tc_raddr top = img_frame(m, inner, g, 20);
	img_thread(m, IDENT1, PID, top);
	img_close_chains(m);
	img_attach(m);
	struct move mv = {.m = m, .at = UINT64_MAX};
	ck_assert_int_eq(img_walk(m), 0);
	tc_remote_image_on_read(m->r, move_hook, &mv);
	m->s.npthreads = 0;
	ck_assert_int_eq(img_walk(m), 0);
	ck_assert(!m->s.threads[0].torn);
	ck_assert_uint_eq(m->s.threads[0].n, 3);
	const uint64_t last = mv.calls - 1;
	mv = (struct move){.m = m, .at = last};
	moved_instr(m, g, &mv); /* the generator moved on: the top may be a returned call's */
	tc_remote_image_on_read(m->r, move_hook, &mv);
	m->s.npthreads = 0;
	ck_assert_int_eq(img_walk(m), 0);
	const struct tc_thread_stack *ts = &m->s.threads[0];
	const tc_raddr vfield = ts->vfield;
	ck_assert(ts->torn && ts->left_out && ts->truncated);
	ck_assert_uint_eq(ts->n, 0);
	if (m->w.frame_model == TC_FRAMES_OBJECT) {
		tc_remote_image_on_read(m->r, NULL, NULL);
		img_free(m);
		return;
	}
	/* the top returned to the generator: the stack from the generator down, marked */
	moved_instr(m, g, &mv); /* reads the moved value: two units on from where it was */
	if (mv.width == 8)
		put64(m, mv.where, mv.value - 4); /* back where it was */
	mv = (struct move){.m = m, .at = last, .where = vfield, .value = g, .width = 8};
	tc_remote_image_on_read(m->r, move_hook, &mv);
	m->s.npthreads = 0;
	ck_assert_int_eq(img_walk(m), 0);
	ts = &m->s.threads[0];
	ck_assert(!ts->torn && !ts->truncated && ts->top_unconfirmed);
	ck_assert_uint_eq(ts->n, 2);
	ck_assert_uint_eq(m->s.frames[ts->first].code, gen);
	tc_remote_image_on_read(m->r, NULL, NULL);
	img_free(m);
}
END_TEST

/* ---- the walker (daemon/walker.h) ------------------------------------------------------ */

/* main_co @6 <- inner @12 on one thread; *BOTTOM gets the outer frame. */
static struct img *walker_img(const struct ver *v, tc_raddr *bottom)
{
	struct img *m = img_new(v, SMALL);
	tc_raddr main_co = img_code(m, &def_main), inner = img_code(m, &def_inner);
	*bottom = img_frame(m, main_co, 0, 6);
	img_thread(m, IDENT1, PID, img_frame(m, inner, *bottom, 12));
	img_close_chains(m);
	img_attach(m);
	return m;
}

static void check_names(const struct tc_profile *p, const int32_t *ids_bu)
{
	const struct tc_pframe *b = tc_profile_get_frame(p, ids_bu[0]);
	const struct tc_pframe *t = tc_profile_get_frame(p, ids_bu[1]);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(b->name, def_main.name);
	ck_assert_int_eq(b->line, 7);
	ck_assert_str_eq(t->name, def_inner.name);
	ck_assert_int_eq(t->line, 18);
}

/* A sample through the walker: take, then intern into a profile. The second and third samples
 * of an unchanged thread reuse its levels from the frame cache and give the same node; a
 * walker recording into another profile interns its frames afresh there. */
START_TEST(test_walker_sample)
{
	const struct ver *v = &vers[_i];
	tc_raddr bottom;
	struct img *m = walker_img(v, &bottom);
	struct tc_walker *w;
	ck_assert_int_eq(tc_walker_new(&m->t, NULL, &w), 0);
	ck_assert_ptr_eq(tc_walker_target(w), &m->t);
	struct tc_profile_meta meta = {.pid = PID, .mode = "wall"};
	struct tc_profile *p = tc_profile_new(&meta), *q = tc_profile_new(&meta);
	ck_assert(p && q);
	int32_t first = -1;
	for (uint64_t k = 0; k < 3; k++) {
		const struct tc_snapshot *s;
		ck_assert_int_eq(tc_walker_take(w, TC_UNWIND_NO_GIL, &s), 0);
		ck_assert_uint_eq(s->nthreads, 1);
		ck_assert_uint_eq(s->threads[0].n, 2);
		ck_assert(!s->threads[0].torn && !s->threads[0].truncated);
		tc_walker_begin_record(w, p, k);
		int32_t leaf;
		const int32_t *ids;
		ck_assert_int_eq(tc_walker_intern(w, p, &s->threads[0], &leaf, &ids), 0);
		check_names(p, ids);
		ck_assert_uint_eq(tc_profile_node_depth(p, leaf), 2);
		if (k == 0)
			first = leaf;
		ck_assert_int_eq(leaf, first);
	}
	struct tc_source_stats st;
	tc_walker_get_stats(w, &st);
	ck_assert_uint_eq(st.fc.reused, 4);   /* both levels, second and third samples */
	ck_assert_uint_eq(st.fc.resolved, 2);
	ck_assert_uint_eq(st.frame_misses, 2);/* each frame resolved once */
	ck_assert_uint_eq(st.code.misses, 2); /* each code object decoded once */
	ck_assert_uint_eq(st.retries, 0);
	ck_assert_uint_gt(st.pf.walks, 0);    /* through the prefetcher's batch */
	/* another profile: its own ids */
	const struct tc_snapshot *s;
	ck_assert_int_eq(tc_walker_take(w, TC_UNWIND_NO_GIL, &s), 0);
	tc_walker_begin_record(w, q, 0);
	int32_t leaf;
	const int32_t *ids;
	ck_assert_int_eq(tc_walker_intern(w, q, &s->threads[0], &leaf, &ids), 0);
	check_names(q, ids);
	ck_assert_uint_eq(tc_profile_node_depth(q, leaf), 2);
	/* the raw frames resolve the same way outside a profile */
	const struct tc_code_info *ci;
	int32_t line;
	ck_assert_int_eq(tc_walker_resolve(w, &s->frames[s->threads[0].first], &ci, &line), 0);
	ck_assert_str_eq(ci->name, def_inner.name);
	ck_assert_int_eq(line, 18);
	tc_profile_free(p);
	tc_profile_free(q);
	tc_walker_free(w);
	img_free(m);
}
END_TEST

/* A thread whose stack deepened a lot between two walks: the chase reads the new top frames
 * (the snapshot's frame array grows for them), then the chain memo supplies the old bottom,
 * which needs more room again. (A walker once looped forever here, asking for room one frame
 * at a time where the memo needed many.) */
START_TEST(test_walker_deepens)
{
	const struct ver *v = &vers[_i];
	struct img *m = img_new(v, SMALL);
	tc_raddr main_co = img_code(m, &def_main), inner = img_code(m, &def_inner);
	tc_raddr f = img_frame(m, main_co, 0, 6);
	for (int k = 0; k < 19; k++)
		f = img_frame(m, inner, f, 12);
	tc_raddr g = f; /* 60 frames called since, not on the chain yet */
	for (int k = 0; k < 60; k++)
		g = img_frame(m, inner, g, 20);
	img_thread(m, IDENT1, PID, f);
	img_close_chains(m);
	img_attach(m);
	struct tc_walker *w;
	ck_assert_int_eq(tc_walker_new(&m->t, NULL, &w), 0);
	const struct tc_snapshot *s;
	for (int pass = 0; pass < 2; pass++) {
		ck_assert_int_eq(tc_walker_take(w, 0, &s), 0);
		ck_assert_uint_eq(s->threads[0].n, 20);
	}
	const tc_raddr field = s->threads[0].vfield;
	ck_assert(field != 0);
	put64(m, field, g);
	ck_assert_int_eq(tc_walker_take(w, 0, &s), 0);
	ck_assert(!s->threads[0].truncated);
	ck_assert_uint_eq(s->threads[0].n, 80);
	ck_assert_uint_eq(s->frames[s->threads[0].first + 79].code, main_co);
	tc_walker_free(w);
	img_free(m);
}
END_TEST

/* Every read call sees the caller at another instruction: a target that never holds still. */
static void drift_hook(void *ctx, uint64_t call)
{
	struct move *mv = ctx;
	mv->calls = call + 1;
	uint64_t v = mv->value + 2 * call;
	if (mv->width == 4)
		put32(mv->m, mv->where, (uint32_t)v);
	else
		put64(mv->m, mv->where, v);
}

/* The retry policy: a thread torn on every try is walked TRIES times in all, then kept as
 * walked (no generator frame), marked torn; a still target costs no retry. */
START_TEST(test_walker_retries)
{
	const struct ver *v = &vers[_i];
	tc_raddr bottom;
	struct img *m = walker_img(v, &bottom);
	for (unsigned tries = 1; tries <= 5; tries += 2) {
		struct tc_walker *w;
		struct tc_walker_opts o = {.tries = tries};
		ck_assert_int_eq(tc_walker_new(&m->t, &o, &w), 0);
		const struct tc_snapshot *s;
		ck_assert_int_eq(tc_walker_take(w, 0, &s), 0); /* still: code objects decoded */
		struct tc_source_stats st;
		tc_walker_get_stats(w, &st);
		ck_assert_uint_eq(st.retries, 0);
		struct move mv = {.m = m};
		moved_instr(m, bottom, &mv);
		const uint64_t saved = mv.width == 4 ? (uint64_t)(uint32_t)get64(m, mv.where) :
				       get64(m, mv.where);
		tc_remote_image_on_read(m->r, drift_hook, &mv);
		ck_assert_int_eq(tc_walker_take(w, 0, &s), 0);
		tc_remote_image_on_read(m->r, NULL, NULL);
		tc_walker_get_stats(w, &st);
		ck_assert_uint_eq(st.retries, tries - 1);
		ck_assert(s->threads[0].torn);
		ck_assert(!s->threads[0].left_out && !s->threads[0].truncated);
		ck_assert_uint_eq(s->threads[0].n, 2);
		if (mv.width == 4)
			put32(m, mv.where, (uint32_t)saved);
		else
			put64(m, mv.where, saved);
		ck_assert_int_eq(tc_walker_take(w, 0, &s), 0);
		ck_assert(!s->threads[0].torn);
		tc_walker_get_stats(w, &st);
		ck_assert_uint_eq(st.retries, tries - 1);
		tc_walker_free(w);
	}
	img_free(m);
}
END_TEST

static Suite *unwind_suite(void)
{
	Suite *s = suite_create("unwind");
	TCase *tc = tcase_create("walk");
	TCase *deep = tcase_create("deep");
	TCase *bugs = tcase_create("robust");

	tcase_add_loop_test(tc, test_two_threads, 0, NVERS);
	tcase_add_loop_test(tc, test_tlbc, 0, 4);
	tcase_add_loop_test(tc, test_strings, 0, NVERS);
	tcase_add_loop_test(tc, test_code_generation, 0, 2);
	tcase_add_loop_test(tc, test_base_frame, 0, 2);
	tcase_add_loop_test(tc, test_chain_memo, 0, NVERS - 2);
	tcase_add_test(tc, test_chain_memo_bounds);
	tcase_add_test(tc, test_code_cache_lru);
	tcase_add_loop_test(tc, test_instr_outside_code, 0, NVERS - 2);
	tcase_add_loop_test(tc, test_frame_cycle, 0, NVERS);
	tcase_add_loop_test(tc, test_prev_unmapped, 0, NVERS);
	tcase_add_loop_test(tc, test_bad_code, 0, NVERS);
	tcase_add_loop_test(tc, test_thread_cycle, 0, 2 * NVERS);
	tcase_add_loop_test(tc, test_list_errors, 0, 2 * NVERS);
	suite_add_tcase(s, tc);
	tcase_add_loop_test(deep, test_depth, 0, NVERS * (int)TC_ARRAY_LEN(depths));
	tcase_set_timeout(deep, 120);
	suite_add_tcase(s, deep);
	tcase_add_loop_test(bugs, test_cframe_unmapped, 0, 2);
	tcase_add_loop_test(bugs, test_short_str_at_end_of_mapping, 0, NVERS);
	tcase_add_loop_test(bugs, test_code_reuse, 0, 6); /* 3.9 .. 3.13t */
	tcase_add_loop_test(bugs, test_gen_bottom, 0, NVERS);
	tcase_add_loop_test(bugs, test_null_code_top, 0, 4);
	tcase_add_loop_test(bugs, test_prev_near_top, 0, NVERS);
	tcase_add_loop_test(bugs, test_second_read, 0, NVERS);
	tcase_add_loop_test(bugs, test_second_read_skipped, 0, NVERS);
	tcase_add_loop_test(tc, test_walker_sample, 0, NVERS);
	tcase_add_loop_test(tc, test_walker_retries, 0, NVERS);
	tcase_add_loop_test(tc, test_walker_deepens, 0, NVERS);
	tcase_add_loop_test(bugs, test_second_read_gen, 0, NVERS);
	tcase_add_loop_test(bugs, test_unstarted_thread, 0, NVERS);
	suite_add_tcase(s, bugs);
	return s;
}

int main(void)
{
	return tc_test_run(unwind_suite());
}
