/* SPDX-License-Identifier: MIT */
/* Print one `struct tc_layout` initializer for the CPython whose headers this file is compiled
 * against (layouts/gen/gen_tables.sh compiles it with -DPy_BUILD_CORE, once plain and once with
 * -DPy_DEBUG). Every number comes from offsetof/sizeof on CPython's own structs, or, for the
 * unicode state bit-field, from setting a bit-field member in a zeroed struct and looking at
 * which bits moved. Per-version #ifs are fine here: this runs at generation time, and its output
 * is the data the walker uses, so the walker itself needs none.
 *
 * Compile-time inputs: TC_GEN_SOURCE (string: where these headers come from, for the citation)
 * and TC_GEN_NAME (identifier of the emitted table; "_debug" is appended under Py_DEBUG).
 * Runs on the host, never against a target. */
#define Py_BUILD_CORE 1
#include <Python.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if PY_VERSION_HEX < 0x03090000 || PY_VERSION_HEX >= 0x030d0000
#error "compiled-in tables cover 3.9 to 3.12; 3.13+ use _Py_DebugOffsets"
#endif

#if PY_VERSION_HEX < 0x030b0000
#include <frameobject.h>
#endif
#include "internal/pycore_runtime.h"
#include "internal/pycore_interp.h"
#if PY_VERSION_HEX >= 0x030b0000
#include "internal/pycore_frame.h"
#endif

#ifndef TC_GEN_SOURCE
#define TC_GEN_SOURCE "unknown headers"
#endif
#ifndef TC_GEN_NAME
#define TC_GEN_NAME layout
#endif
#define TC_STR2(x) #x
#define TC_STR(x) TC_STR2(x)

/* A read size covering fields at the given offsets: one 8-byte word past the last field start,
 * rounded up to 8, so any field (int or pointer) can be fetched from the copied buffer. */
static long cover(const long *offs, size_t n)
{
	long max = -1;
	for (size_t i = 0; i < n; i++)
		if (offs[i] > max)
			max = offs[i];
	return (max + 8 + 7) / 8 * 8;
}
#define COVER(...) \
	cover((const long[]){__VA_ARGS__}, sizeof((const long[]){__VA_ARGS__}) / sizeof(long))
#define OFF(type, member) ((long)offsetof(type, member))

/* Bit index of the lowest bit set in the 32-bit state word of S. */
static int low_bit(const PyASCIIObject *s, int *width)
{
	uint32_t w;
	memcpy(&w, (const char *)s + offsetof(PyASCIIObject, state), sizeof w);
	*width = __builtin_popcount(w);
	return w ? __builtin_ctz(w) : -1;
}

static int state_bits(int *kind_shift, int *compact_bit, int *ascii_bit)
{
	PyASCIIObject s;
	int width;

	memset(&s, 0, sizeof s);
	s.state.kind = 7;
	*kind_shift = low_bit(&s, &width);
	if (width != 3)
		return -1;
	memset(&s, 0, sizeof s);
	s.state.compact = 1;
	*compact_bit = low_bit(&s, &width);
	if (width != 1)
		return -1;
	memset(&s, 0, sizeof s);
	s.state.ascii = 1;
	*ascii_bit = low_bit(&s, &width);
	if (width != 1)
		return -1;
	return 0;
}

int main(void)
{
	int kind_shift, compact_bit, ascii_bit;
	int debug = 0;
#ifdef Py_DEBUG
	debug = 1;
#endif
#ifdef Py_TRACE_REFS
	fprintf(stderr, "gen_layout: Py_TRACE_REFS builds are not covered\n");
	return 1;
#endif
	if (state_bits(&kind_shift, &compact_bit, &ascii_bit) < 0) {
		fprintf(stderr, "gen_layout: unexpected PyASCIIObject.state bit-field widths\n");
		return 1;
	}

	/* _PyRuntimeState */
	long rt_interp_head = OFF(_PyRuntimeState, interpreters.head);
	long rt_main_thread = OFF(_PyRuntimeState, main_thread);
#if PY_VERSION_HEX < 0x030c0000
	long rt_gil = OFF(_PyRuntimeState, ceval.gil);
	long rt_tstate_current = OFF(_PyRuntimeState, gilstate.tstate_current);
	long interp_gil_ptr = -1;
#else
	/* 3.12: per-interpreter GIL (PEP 684), tstate_current became a thread-local */
	long rt_gil = -1;
	long rt_tstate_current = -1;
	long interp_gil_ptr = OFF(PyInterpreterState, ceval.gil);
#endif

	/* PyInterpreterState */
	long interp_next = OFF(PyInterpreterState, next);
#if PY_VERSION_HEX < 0x030b0000
	long interp_threads_head = OFF(PyInterpreterState, tstate_head);
#else
	long interp_threads_head = OFF(PyInterpreterState, threads.head);
#endif
	long interp_size = interp_gil_ptr >= 0 ? COVER(interp_next, interp_threads_head, interp_gil_ptr)
					       : COVER(interp_next, interp_threads_head);

	/* struct _gil_runtime_state */
	long gil_locked = OFF(struct _gil_runtime_state, locked);
	long gil_last_holder = OFF(struct _gil_runtime_state, last_holder);

	/* PyThreadState */
	long ts_next = OFF(PyThreadState, next);
	long ts_interp = OFF(PyThreadState, interp);
	long ts_thread_id = OFF(PyThreadState, thread_id);
#if PY_VERSION_HEX < 0x030b0000
	long ts_frame = OFF(PyThreadState, frame);
	long ts_cframe = -1;
	long ts_native = -1;
	long ts_size = COVER(ts_next, ts_interp, ts_frame, ts_thread_id);
	long cf_current = -1;
#else
	long ts_frame = -1;
	long ts_cframe = OFF(PyThreadState, cframe);
	long ts_native = OFF(PyThreadState, native_thread_id);
	long ts_size = COVER(ts_next, ts_interp, ts_cframe, ts_thread_id, ts_native);
	long cf_current = OFF(_PyCFrame, current_frame);
#endif

	/* PyFrameObject (3.9/3.10) or _PyInterpreterFrame (3.11/3.12) */
#if PY_VERSION_HEX < 0x030b0000
	long fo_back = OFF(PyFrameObject, f_back);
	long fo_code = OFF(PyFrameObject, f_code);
	long fo_lasti = OFF(PyFrameObject, f_lasti);
	long fo_lineno = OFF(PyFrameObject, f_lineno);
	long fo_trace = OFF(PyFrameObject, f_trace);
	long fo_size = COVER(fo_back, fo_code, fo_lasti, fo_lineno, fo_trace);
	long if_previous = -1, if_code = -1, if_instr = -1, if_owner = -1, if_size = -1;
	int owner_generator = 0, owner_first_shim = 0;
#else
	long fo_back = -1, fo_code = -1, fo_lasti = -1, fo_lineno = -1, fo_trace = -1, fo_size = -1;
	long if_previous = OFF(_PyInterpreterFrame, previous);
	long if_code = OFF(_PyInterpreterFrame, f_code);
	long if_instr = OFF(_PyInterpreterFrame, prev_instr);
	long if_owner = OFF(_PyInterpreterFrame, owner);
	long if_size = COVER(if_previous, if_code, if_instr, if_owner);
	int owner_generator = FRAME_OWNED_BY_GENERATOR;
#if PY_VERSION_HEX >= 0x030c0000
	int owner_first_shim = FRAME_OWNED_BY_CSTACK;
#else
	int owner_first_shim = 255; /* 3.11 has no shim frames: no owner value means "skip" */
#endif
#endif

	/* PyCodeObject */
	long co_filename = OFF(PyCodeObject, co_filename);
	long co_name = OFF(PyCodeObject, co_name);
	long co_firstlineno = OFF(PyCodeObject, co_firstlineno);
#if PY_VERSION_HEX < 0x030a0000
	long co_linetable = OFF(PyCodeObject, co_lnotab);
#else
	long co_linetable = OFF(PyCodeObject, co_linetable);
#endif
#if PY_VERSION_HEX < 0x030b0000
	long co_qualname = -1, co_adaptive = -1, co_firsttraceable = -1;
	long co_size = COVER(co_filename, co_name, co_linetable, co_firstlineno);
#else
	long co_qualname = OFF(PyCodeObject, co_qualname);
	long co_adaptive = OFF(PyCodeObject, co_code_adaptive);
	long co_firsttraceable = OFF(PyCodeObject, _co_firsttraceable);
	long co_size = COVER(co_filename, co_name, co_qualname, co_linetable, co_firstlineno,
			     co_firsttraceable);
#endif

	printf("/* CPython %s%s: generated by layouts/gen/gen_tables.sh from\n"
	       " * %s */\n",
	       PY_VERSION, debug ? " Py_DEBUG" : "", TC_GEN_SOURCE);
	printf("static const struct tc_layout %s%s = {\n", TC_STR(TC_GEN_NAME),
	       debug ? "_debug" : "");
	printf("\t.debug = %s,\n", debug ? "true" : "false");
	printf("\t.free_threaded = false,\n");
	printf("\t.frame_model = %s,\n",
	       PY_VERSION_HEX < 0x030b0000 ? "TC_FRAMES_OBJECT" : "TC_FRAMES_INTERP");
	printf("\t.linetable = %s,\n",
	       PY_VERSION_HEX < 0x030a0000   ? "TC_LT_LNOTAB"
	       : PY_VERSION_HEX < 0x030b0000 ? "TC_LT_LINETABLE"
					     : "TC_LT_LOCATIONS");
	printf("\t.runtime = {\n"
	       "\t\t.interpreters_head = %ld,\n"
	       "\t\t.main_thread = %ld,\n"
	       "\t\t.gil = %ld,\n"
	       "\t\t.tstate_current = %ld,\n"
	       "\t},\n",
	       rt_interp_head, rt_main_thread, rt_gil, rt_tstate_current);
	printf("\t.interp = {\n"
	       "\t\t.size = %ld,\n"
	       "\t\t.next = %ld,\n"
	       "\t\t.threads_head = %ld,\n"
	       "\t\t.threads_main = -1,\n"
	       "\t\t.gil_ptr = %ld,\n"
	       "\t},\n",
	       interp_size, interp_next, interp_threads_head, interp_gil_ptr);
	printf("\t.gil = {\n"
	       "\t\t.locked = %ld,\n"
	       "\t\t.last_holder = %ld,\n"
	       "\t},\n",
	       gil_locked, gil_last_holder);
	printf("\t.tstate = {\n"
	       "\t\t.size = %ld,\n"
	       "\t\t.next = %ld,\n"
	       "\t\t.interp = %ld,\n"
	       "\t\t.frame = %ld,\n"
	       "\t\t.cframe = %ld,\n"
	       "\t\t.current_frame = -1,\n"
	       "\t\t.thread_id = %ld,\n"
	       "\t\t.native_thread_id = %ld,\n"
	       "\t\t.holds_gil = -1,\n"
	       "\t},\n",
	       ts_size, ts_next, ts_interp, ts_frame, ts_cframe, ts_thread_id, ts_native);
	printf("\t.cframe = {\n"
	       "\t\t.current_frame = %ld,\n"
	       "\t},\n",
	       cf_current);
	printf("\t.frameobj = {\n"
	       "\t\t.size = %ld,\n"
	       "\t\t.f_back = %ld,\n"
	       "\t\t.f_code = %ld,\n"
	       "\t\t.f_lasti = %ld,\n"
	       "\t\t.f_lineno = %ld,\n"
	       "\t\t.f_trace = %ld,\n"
	       "\t},\n",
	       fo_size, fo_back, fo_code, fo_lasti, fo_lineno, fo_trace);
	printf("\t.iframe = {\n"
	       "\t\t.size = %ld,\n"
	       "\t\t.previous = %ld,\n"
	       "\t\t.code = %ld,\n"
	       "\t\t.instr = %ld,\n"
	       "\t\t.owner = %ld,\n"
	       "\t\t.tlbc_index = -1,\n"
	       "\t\t.owner_generator = %d,\n"
	       "\t\t.owner_first_shim = %d,\n"
	       "\t\t.code_tag_mask = 0,\n"
	       "\t},\n",
	       if_size, if_previous, if_code, if_instr, if_owner, owner_generator,
	       owner_first_shim);
	printf("\t.code = {\n"
	       "\t\t.size = %ld,\n"
	       "\t\t.filename = %ld,\n"
	       "\t\t.name = %ld,\n"
	       "\t\t.qualname = %ld,\n"
	       "\t\t.linetable = %ld,\n"
	       "\t\t.firstlineno = %ld,\n"
	       "\t\t.code_adaptive = %ld,\n"
	       "\t\t.firsttraceable = %ld,\n"
	       "\t},\n",
	       co_size, co_filename, co_name, co_qualname, co_linetable, co_firstlineno,
	       co_adaptive, co_firsttraceable);
	printf("\t.object = {\n"
	       "\t\t.ob_type = %ld,\n"
	       "\t},\n",
	       OFF(PyObject, ob_type));
	printf("\t.bytes = {\n"
	       "\t\t.ob_size = %ld,\n"
	       "\t\t.ob_sval = %ld,\n"
	       "\t},\n",
	       OFF(PyBytesObject, ob_base.ob_size), OFF(PyBytesObject, ob_sval));
	printf("\t.unicode = {\n"
	       "\t\t.length = %ld,\n"
	       "\t\t.state = %ld,\n"
	       "\t\t.ascii_data = %zu,\n"
	       "\t\t.compact_data = %zu,\n"
	       "\t\t.kind_shift = %d,\n"
	       "\t\t.compact_bit = %d,\n"
	       "\t\t.ascii_bit = %d,\n"
	       "\t},\n",
	       OFF(PyASCIIObject, length), OFF(PyASCIIObject, state), sizeof(PyASCIIObject),
	       sizeof(PyCompactUnicodeObject), kind_shift, compact_bit, ascii_bit);
	printf("};\n");
	return 0;
}
