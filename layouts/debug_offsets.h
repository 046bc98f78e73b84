/* SPDX-License-Identifier: MIT */
/* CPython 3.13+ describes its own layout in _Py_DebugOffsets, the first member of
 * _PyRuntime. Its own layout differs per minor version (fields are inserted mid-struct), so
 * this module knows where each field sits for each minor and turns the target's copy into a
 * struct tc_layout, then sanity-checks the result. */
#ifndef TC_DEBUG_OFFSETS_H
#define TC_DEBUG_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

#include "layouts/layout.h"

/* "xdebugpy": the first 8 bytes of _PyRuntime on 3.13+. */
#define TC_DEBUG_COOKIE "xdebugpy"
#define TC_DEBUG_COOKIE_LEN 8

/* Bytes of _PyRuntime to read so that any supported version's _Py_DebugOffsets fits. */
#define TC_DEBUG_OFFSETS_MAX 1024

/* PY_VERSION_HEX stored in a _Py_DebugOffsets copy (BUF, LEN bytes). Returns 0 and sets
 * *HEX, or -TC_ENOTPY when the cookie is missing. */
int tc_debug_offsets_version(const uint8_t *buf, size_t len, uint32_t *hex);

/* Build OUT from a copy of the target's _Py_DebugOffsets (BUF, LEN bytes, LEN >= the size
 * for that version). DEBUG is whether the build is Py_DEBUG (not recorded in the struct).
 * Returns 0; -TC_ENOTPY when the cookie is missing; -TC_EVERSION when the minor version has
 * no known _Py_DebugOffsets layout (older than 3.13 or newer than 3.15); -TC_EINVAL when the
 * values fail the sanity checks (garbage, or a layout change this build does not know). */
int tc_layout_from_debug_offsets(const uint8_t *buf, size_t len, bool debug,
				 struct tc_layout *out);

/* Size of _Py_DebugOffsets for minor version MINOR (13..15), or 0 when unknown. Used by
 * tests that build synthetic images. */
size_t tc_debug_offsets_size(unsigned minor);

/* Position of each field tachyon-c uses inside _Py_DebugOffsets for one minor version
 * (-1 when that version lacks the field). Exposed so tests can build synthetic images. */
struct tc_dbgoff_fields {
	unsigned minor;
	size_t total;
	int32_t free_threaded;
	int32_t rt_interpreters_head;
	int32_t is_next, is_threads_head, is_threads_main, is_ceval_gil, is_gil_state,
		is_gil_locked, is_gil_holder, is_code_generation;
	int32_t ts_size, ts_next, ts_interp, ts_current_frame, ts_thread_id, ts_native_thread_id,
		ts_holds_gil;
	int32_t fr_size, fr_previous, fr_executable, fr_instr_ptr, fr_owner, fr_tlbc_index;
	int32_t co_size, co_filename, co_name, co_qualname, co_linetable, co_firstlineno,
		co_code_adaptive;
	int32_t ob_size, ob_type;
	int32_t tu_ob_item;
	int32_t by_ob_size, by_ob_sval;
	int32_t un_state, un_length, un_ascii_size, un_compact_size;
};
const struct tc_dbgoff_fields *tc_debug_offsets_fields(unsigned minor);

#endif
