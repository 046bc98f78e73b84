/* SPDX-License-Identifier: MIT */
/* Turning the target's _Py_DebugOffsets (3.13+) into a struct tc_layout.
 *
 * The positions below were read with gdb (`ptype /o struct _Py_DebugOffsets`) from the DWARF
 * of CPython 3.13.0 (pyenv), 3.13.18, 3.14.10 and 3.15.2 (Debian -dbg); 3.13.0 and 3.13.18
 * agree. Every value read from the target is checked against the others before use: a
 * layout change this table does not know shows up as a refusal, not as garbage stacks. */
#include "layouts/debug_offsets.h"

#include <string.h>

#include "layouts/version.h"

static const struct tc_dbgoff_fields fields_313 = {
	.minor = 13, .total = 584, .free_threaded = 16, .rt_interpreters_head = 40,
	.is_next = 64, .is_threads_head = 72, .is_threads_main = -1, .is_ceval_gil = 112,
	.is_gil_state = 120, .is_gil_locked = 136, .is_gil_holder = 144, .is_code_generation = -1,
	.ts_size = 152, .ts_next = 168, .ts_interp = 176, .ts_current_frame = 184,
	.ts_thread_id = 192, .ts_native_thread_id = 200, .ts_holds_gil = -1,
	.fr_size = 224, .fr_previous = 232, .fr_executable = 240, .fr_instr_ptr = 248,
	.fr_owner = 264, .fr_tlbc_index = -1,
	.co_size = 272, .co_filename = 280, .co_name = 288, .co_qualname = 296,
	.co_linetable = 304, .co_firstlineno = 312, .co_code_adaptive = 344,
	.ob_size = 352, .ob_type = 360, .tu_ob_item = 408, .by_ob_size = 520, .by_ob_sval = 528,
	.un_state = 544, .un_length = 552, .un_ascii_size = 560, .un_compact_size = -1,
};

/* 3.14: interpreter_state gains threads_main, code_object_generation, tlbc_generation;
 * interpreter_frame gains stackpointer, tlbc_index; code_object gains co_tlbc. */
static const struct tc_dbgoff_fields fields_314 = {
	.minor = 14, .total = 760, .free_threaded = 16, .rt_interpreters_head = 40,
	.is_next = 64, .is_threads_head = 72, .is_threads_main = 80, .is_ceval_gil = 120,
	.is_gil_state = 128, .is_gil_locked = 144, .is_gil_holder = 152, .is_code_generation = 160,
	.ts_size = 176, .ts_next = 192, .ts_interp = 200, .ts_current_frame = 208,
	.ts_thread_id = 216, .ts_native_thread_id = 224, .ts_holds_gil = -1,
	.fr_size = 248, .fr_previous = 256, .fr_executable = 264, .fr_instr_ptr = 272,
	.fr_owner = 288, .fr_tlbc_index = 304,
	.co_size = 312, .co_filename = 320, .co_name = 328, .co_qualname = 336,
	.co_linetable = 344, .co_firstlineno = 352, .co_code_adaptive = 384,
	.ob_size = 400, .ob_type = 408, .tu_ob_item = 456, .by_ob_size = 600, .by_ob_sval = 608,
	.un_state = 624, .un_length = 632, .un_ascii_size = 640, .un_compact_size = -1,
};

/* 3.15: thread_state gains base_frame, last_profiled_frame(_seq), holds_gil, ...;
 * unicode_object gains compactunicodeobject_size; new heap_type/set/err_stackitem blocks. */
static const struct tc_dbgoff_fields fields_315 = {
	.minor = 15, .total = 888, .free_threaded = 16, .rt_interpreters_head = 40,
	.is_next = 64, .is_threads_head = 72, .is_threads_main = 80, .is_ceval_gil = 120,
	.is_gil_state = 128, .is_gil_locked = 144, .is_gil_holder = 152, .is_code_generation = 160,
	.ts_size = 176, .ts_next = 192, .ts_interp = 200, .ts_current_frame = 208,
	.ts_thread_id = 240, .ts_native_thread_id = 248, .ts_holds_gil = 272,
	.fr_size = 312, .fr_previous = 320, .fr_executable = 328, .fr_instr_ptr = 336,
	.fr_owner = 352, .fr_tlbc_index = 368,
	.co_size = 376, .co_filename = 384, .co_name = 392, .co_qualname = 400,
	.co_linetable = 408, .co_firstlineno = 416, .co_code_adaptive = 448,
	.ob_size = 464, .ob_type = 472, .tu_ob_item = 552, .by_ob_size = 696, .by_ob_sval = 704,
	.un_state = 720, .un_length = 728, .un_ascii_size = 736, .un_compact_size = 744,
};

const struct tc_dbgoff_fields *tc_debug_offsets_fields(unsigned minor)
{
	switch (minor) {
	case 13: return &fields_313;
	case 14: return &fields_314;
	case 15: return &fields_315;
	default: return NULL;
	}
}

size_t tc_debug_offsets_size(unsigned minor)
{
	const struct tc_dbgoff_fields *f = tc_debug_offsets_fields(minor);
	return f ? f->total : 0;
}

int tc_debug_offsets_version(const uint8_t *buf, size_t len, uint32_t *hex)
{
	if (len < 16 || memcmp(buf, TC_DEBUG_COOKIE, TC_DEBUG_COOKIE_LEN) != 0)
		return -TC_ENOTPY;
	*hex = (uint32_t)tc_get_u64(buf, 8);
	return 0;
}

/* Value of the uint64 field at OFF, or -1 when the field does not exist (OFF < 0) or its
 * value does not fit a struct offset (garbage). */
static int64_t field(const uint8_t *buf, int32_t off)
{
	if (off < 0)
		return -1;
	uint64_t v = tc_get_u64(buf, (size_t)off);
	return v > (1u << 24) ? -2 : (int64_t)v;
}

/* Read size covering offsets A.. (each an 8-byte or smaller field), rounded up to 8. */
static int32_t cover(const int32_t *offs, size_t n)
{
	int32_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (offs[i] + 8 > m)
			m = offs[i] + 8;
	return (m + 7) & ~7;
}

int tc_layout_from_debug_offsets(const uint8_t *buf, size_t len, bool debug,
				 struct tc_layout *out)
{
	uint32_t hex;
	int err = tc_debug_offsets_version(buf, len, &hex);
	if (err)
		return err;
	if (TC_HEX_MAJOR(hex) != 3)
		return -TC_EVERSION;
	const struct tc_dbgoff_fields *f = tc_debug_offsets_fields(TC_HEX_MINOR(hex));
	if (!f)
		return -TC_EVERSION;
	if (len < f->total)
		return -TC_EINVAL;

	struct tc_layout l;
	memset(&l, 0xff, sizeof l); /* every offset -1 until set */
	l.version_hex = hex;
	l.debug = debug;
	l.free_threaded = tc_get_u64(buf, (size_t)f->free_threaded) != 0;
	l.frame_model = TC_FRAMES_INTERP;
	l.linetable = TC_LT_LOCATIONS;

	int64_t v[64];
	size_t nv = 0;
#define F(dst, off) do { int64_t x_ = field(buf, (off)); v[nv++] = x_; (dst) = (int32_t)x_; } while (0)
	F(l.runtime.interpreters_head, f->rt_interpreters_head);
	l.runtime.main_thread = -1;
	l.runtime.gil = -1;
	l.runtime.tstate_current = -1;

	F(l.interp.next, f->is_next);
	F(l.interp.threads_head, f->is_threads_head);
	l.interp.threads_main = -1;
	if (f->is_threads_main >= 0)
		F(l.interp.threads_main, f->is_threads_main);
	F(l.interp.gil_ptr, f->is_ceval_gil);
	l.interp.code_generation = -1;
	if (f->is_code_generation >= 0)
		F(l.interp.code_generation, f->is_code_generation);
	int32_t gil_state, gil_locked, gil_holder;
	F(gil_state, f->is_gil_state);
	F(gil_locked, f->is_gil_locked);
	F(gil_holder, f->is_gil_holder);

	int32_t ts_size;
	F(ts_size, f->ts_size);
	F(l.tstate.next, f->ts_next);
	F(l.tstate.interp, f->ts_interp);
	F(l.tstate.current_frame, f->ts_current_frame);
	F(l.tstate.thread_id, f->ts_thread_id);
	F(l.tstate.native_thread_id, f->ts_native_thread_id);
	l.tstate.holds_gil = -1;
	if (f->ts_holds_gil >= 0)
		F(l.tstate.holds_gil, f->ts_holds_gil);
	/* 3.15: _PyThreadStateImpl starts with the PyThreadState (thread_state.size bytes) and
	 * the base frame follows it (DWARF of 3.15.2d: offsetof base_frame = sizeof = 888). The
	 * walk ends there without reading it: it is never a Python frame. */
	l.tstate.base_frame = f->minor >= 15 ? ts_size : -1;
	l.tstate.frame = -1;
	l.tstate.cframe = -1;
	l.tstate.root_cframe = -1;
	l.cframe.current_frame = -1;

	int32_t fr_size;
	F(fr_size, f->fr_size);
	F(l.iframe.previous, f->fr_previous);
	F(l.iframe.code, f->fr_executable);
	F(l.iframe.instr, f->fr_instr_ptr);
	F(l.iframe.owner, f->fr_owner);
	l.iframe.tlbc_index = -1;
	if (f->fr_tlbc_index >= 0 && l.free_threaded)
		F(l.iframe.tlbc_index, f->fr_tlbc_index);

	int32_t co_size;
	F(co_size, f->co_size);
	F(l.code.filename, f->co_filename);
	F(l.code.name, f->co_name);
	F(l.code.qualname, f->co_qualname);
	F(l.code.linetable, f->co_linetable);
	F(l.code.firstlineno, f->co_firstlineno);
	F(l.code.code_adaptive, f->co_code_adaptive);

	int32_t ob_size, tu_item;
	F(ob_size, f->ob_size);
	F(l.object.ob_type, f->ob_type);
	F(tu_item, f->tu_ob_item);
	F(l.bytes.ob_size, f->by_ob_size);
	F(l.bytes.ob_sval, f->by_ob_sval);
	F(l.unicode.state, f->un_state);
	F(l.unicode.length, f->un_length);
	F(l.unicode.ascii_data, f->un_ascii_size);
	if (f->un_compact_size >= 0)
		F(l.unicode.compact_data, f->un_compact_size);
	else /* PyCompactUnicodeObject adds utf8_length and utf8 to PyASCIIObject */
		l.unicode.compact_data = l.unicode.ascii_data + 16;
#undef F
	for (size_t i = 0; i < nv; i++)
		if (v[i] < 0)
			return -TC_EINVAL;

	/* Sanity checks: relations that hold for every build of these versions. A PyObject
	 * header is 16 bytes (default) or 32 (free-threaded); the type pointer is its last
	 * word, tuple items follow ob_size (3.14+: and a cached hash), a str's data follows its
	 * 24 bytes of fields, and a non-ASCII compact str's 16 bytes later (utf8_length, utf8):
	 * 3.15 states that last offset itself (compact_size), and a copy saying 0 used to pass,
	 * leaving non-ASCII names unreadable (found by tests/fuzz/fuzz_layouts). */
	if (ob_size != (l.free_threaded ? 32 : 16) || l.object.ob_type != ob_size - 8 ||
	    tu_item < ob_size + 8 || tu_item > ob_size + 16 || l.bytes.ob_size != ob_size || l.bytes.ob_sval != ob_size + 16 ||
	    l.unicode.length != ob_size || l.unicode.state != ob_size + 16 ||
	    l.unicode.ascii_data != ob_size + 24 ||
	    l.unicode.compact_data != l.unicode.ascii_data + 16)
		return -TC_EINVAL;
	if (fr_size < 40 || fr_size > 256 || l.iframe.previous + 8 > fr_size ||
	    l.iframe.code + 8 > fr_size || l.iframe.instr + 8 > fr_size ||
	    l.iframe.owner >= fr_size || l.iframe.tlbc_index + 4 > fr_size)
		return -TC_EINVAL;
	if (co_size < 100 || co_size > 1024 || l.code.code_adaptive >= co_size + 8 ||
	    l.code.filename >= co_size || l.code.name >= co_size || l.code.qualname >= co_size ||
	    l.code.linetable >= co_size || l.code.firstlineno >= co_size)
		return -TC_EINVAL;
	if (ts_size < 64 || ts_size > 65536 || l.tstate.next >= ts_size ||
	    l.tstate.current_frame >= ts_size || l.tstate.native_thread_id >= ts_size)
		return -TC_EINVAL;
	if (gil_locked < gil_state || gil_holder < gil_state || gil_locked - gil_state > 256 ||
	    gil_holder - gil_state > 256)
		return -TC_EINVAL;

	l.gil.locked = gil_locked - gil_state;
	l.gil.last_holder = gil_holder - gil_state;

	if (l.interp.code_generation < -1 || l.interp.code_generation > (1 << 20))
		return -TC_EINVAL;
	const int32_t is[] = {l.interp.next, l.interp.threads_head, l.interp.threads_main,
			      l.interp.gil_ptr, l.interp.code_generation};
	l.interp.size = cover(is, TC_ARRAY_LEN(is));
	const int32_t ts[] = {l.tstate.next, l.tstate.interp, l.tstate.current_frame,
			      l.tstate.thread_id, l.tstate.native_thread_id, l.tstate.holds_gil};
	l.tstate.size = cover(ts, TC_ARRAY_LEN(ts));
	/* exact extent of the frame fields read: three pointers, the owner byte, tlbc int32 */
	int32_t fext = l.iframe.previous + 8;
	if (l.iframe.code + 8 > fext)
		fext = l.iframe.code + 8;
	if (l.iframe.instr + 8 > fext)
		fext = l.iframe.instr + 8;
	if (l.iframe.owner + 1 > fext)
		fext = l.iframe.owner + 1;
	if (l.iframe.tlbc_index >= 0 && l.iframe.tlbc_index + 4 > fext)
		fext = l.iframe.tlbc_index + 4;
	l.iframe.size = fext; /* <= fr_size, checked above */
	/* 3.13: FRAME_OWNED_BY_CSTACK = 3; 3.14: FRAME_OWNED_BY_INTERPRETER = 3, CSTACK = 4;
	 * 3.15: FRAME_OWNED_BY_INTERPRETER = 3. Owners from 3 up are never Python frames. */
	l.iframe.owner_generator = 1;
	l.iframe.owner_first_shim = 3;
	/* 3.14+: f_executable is a _PyStackRef whose low bits are tags. Objects are 16-byte
	 * aligned, so clearing three bits never clears an address bit. */
	l.iframe.code_tag_mask = TC_HEX_MINOR(hex) >= 14 ? 7 : 0;

	/* _co_firsttraceable sits 16 bytes before co_code_adaptive in 3.13-3.15 default
	 * builds (checked with gdb on 3.13.0, 3.13.18d, 3.14.10d, 3.15.2d). The free-threaded
	 * PyCodeObject has extra fields there, so it stays unknown. */
	l.code.firsttraceable = l.free_threaded ? -1 : l.code.code_adaptive - 16;
	const int32_t co[] = {l.code.filename, l.code.name, l.code.qualname, l.code.linetable,
			      l.code.firstlineno, l.code.firsttraceable};
	l.code.size = cover(co, TC_ARRAY_LEN(co));

	l.frameobj.size = l.frameobj.f_back = l.frameobj.f_code = -1;
	l.frameobj.f_lasti = l.frameobj.f_lineno = l.frameobj.f_trace = -1;

	/* 3.14t+: `interned` became a whole byte in free-threaded builds, so the bit-fields
	 * after it start at bit 8 (Include/cpython/unicodeobject.h). */
	unsigned base = (l.free_threaded && TC_HEX_MINOR(hex) >= 14) ? 8 : 2;
	l.unicode.kind_shift = (uint8_t)base;
	l.unicode.compact_bit = (uint8_t)(base + 3);
	l.unicode.ascii_bit = (uint8_t)(base + 4);
	tc_layout_code_identity(&l);

	*out = l;
	return 0;
}
