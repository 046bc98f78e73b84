/* SPDX-License-Identifier: MIT */
/* Unit tests for the compiled-in 3.9-3.12 layout tables (layouts/tables.c): which versions
 * resolve and which are refused, the per-version choice of frame model and line-table format,
 * fields that must not exist on a version (-1), and internal consistency of the offsets (read
 * sizes cover their fields, pointers are aligned). That each number matches the real structs
 * is tests/functional/test_layout_dwarf.py's job (it asks gdb). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "layouts/layout.h"
#include "skip.h"

#define HEX(major, minor, micro, level, serial) \
	((uint32_t)(((major) << 24) | ((minor) << 16) | ((micro) << 8) | ((level) << 4) | (serial)))
#define FINAL(minor, micro) HEX(3, minor, micro, 0xf, 0)

static struct tc_layout get(uint32_t hex, bool debug)
{
	struct tc_layout l;
	memset(&l, 0xa5, sizeof l);
	ck_assert_int_eq(tc_layout_from_table(hex, debug, &l), 0);
	return l;
}

/* Every micro release of 3.9-3.12 resolves, release and debug, and reports back the version
 * and variant it was asked for. */
START_TEST(test_every_version_resolves)
{
	for (int minor = 9; minor <= 12; minor++) {
		for (int micro = 0; micro <= 30; micro++) {
			for (int debug = 0; debug <= 1; debug++) {
				uint32_t hex = FINAL(minor, micro);
				struct tc_layout l = get(hex, debug);
				ck_assert_uint_eq(l.version_hex, hex);
				ck_assert(l.debug == (bool)debug);
				ck_assert(!l.free_threaded);
				ck_assert_int_eq(tc_layout_walkable(&l), 0);
			}
		}
		/* a later micro's release candidate shares the minor's layout */
		ck_assert_uint_eq(get(HEX(3, minor, 5, 0xc, 1), false).version_hex,
				  HEX(3, minor, 5, 0xc, 1));
	}
}
END_TEST

/* What the walker refuses once, at attach, so that the walk checks no offset: a structure
 * larger than its buffer, or a str length field outside the str header. */
START_TEST(test_walkable_bounds)
{
	const struct tc_layout good = get(FINAL(12, 1), false);
	struct tc_layout l = good;
	ck_assert_int_eq(tc_layout_walkable(&l), 0);
	l.tstate.size = TC_WALK_TSTATE_MAX + 8;
	ck_assert_int_eq(tc_layout_walkable(&l), -TC_EINVAL);
	l = good;
	l.iframe.size = TC_WALK_FRAME_MAX + 8;
	ck_assert_int_eq(tc_layout_walkable(&l), -TC_EINVAL);
	l = good;
	l.code.size = TC_WALK_CODE_MAX + 8;
	ck_assert_int_eq(tc_layout_walkable(&l), -TC_EINVAL);
	l = good;
	l.unicode.ascii_data = TC_WALK_STR_HDR_MAX + 8;
	ck_assert_int_eq(tc_layout_walkable(&l), -TC_EINVAL);
	l = good;
	l.unicode.length = l.unicode.ascii_data;
	ck_assert_int_eq(tc_layout_walkable(&l), -TC_EINVAL);
	l = good;
	l.code.ident_len = TC_WALK_IDENT_MAX + 1;
	ck_assert_int_eq(tc_layout_walkable(&l), -TC_EINVAL);
}
END_TEST

START_TEST(test_refused_versions)
{
	static const uint32_t refused[] = {
		0,
		0xffffffff,
		HEX(2, 7, 18, 0xf, 0),
		FINAL(8, 0),
		FINAL(8, 18),
		HEX(3, 8, 255, 0xf, 15),
		FINAL(13, 0),
		FINAL(13, 18),
		FINAL(14, 10),
		FINAL(15, 2),
		HEX(3, 9, 0, 0xa, 1),  /* 3.9.0a1: before the layout froze */
		HEX(3, 10, 0, 0xb, 4), /* 3.10.0b4 */
		HEX(3, 11, 0, 0xc, 3), /* 3.11.0rc3 */
		HEX(3, 12, 0, 0xc, 1), /* 3.12.0rc1 */
		HEX(3, 12, 1, 0x0, 0), /* not a release level */
		HEX(3, 11, 7, 0xd, 0), /* not a release level */
		HEX(4, 9, 0, 0xf, 0),
	};
	for (size_t i = 0; i < TC_ARRAY_LEN(refused); i++) {
		for (int debug = 0; debug <= 1; debug++) {
			struct tc_layout l, before;
			memset(&l, 0x5a, sizeof l);
			memcpy(&before, &l, sizeof l);
			ck_assert_msg(tc_layout_from_table(refused[i], debug, &l) == -TC_EVERSION,
				      "0x%08x debug=%d was not refused", refused[i], debug);
			ck_assert_msg(memcmp(&l, &before, sizeof l) == 0,
				      "0x%08x: OUT written on failure", refused[i]);
		}
	}
}
END_TEST

START_TEST(test_range_string)
{
	ck_assert_str_eq(tc_layout_table_range, "3.9 to 3.12");
}
END_TEST

START_TEST(test_enums_per_version)
{
	for (int debug = 0; debug <= 1; debug++) {
		struct tc_layout l9 = get(FINAL(9, 18), debug), l10 = get(FINAL(10, 13), debug);
		struct tc_layout l11 = get(FINAL(11, 7), debug), l12 = get(FINAL(12, 1), debug);
		ck_assert_int_eq(l9.frame_model, TC_FRAMES_OBJECT);
		ck_assert_int_eq(l10.frame_model, TC_FRAMES_OBJECT);
		ck_assert_int_eq(l11.frame_model, TC_FRAMES_INTERP);
		ck_assert_int_eq(l12.frame_model, TC_FRAMES_INTERP);
		ck_assert_int_eq(l9.linetable, TC_LT_LNOTAB);
		ck_assert_int_eq(l10.linetable, TC_LT_LINETABLE);
		ck_assert_int_eq(l11.linetable, TC_LT_LOCATIONS);
		ck_assert_int_eq(l12.linetable, TC_LT_LOCATIONS);
		/* FRAME_OWNED_BY_GENERATOR is 1 in both; 3.12 added FRAME_OWNED_BY_CSTACK = 3 */
		ck_assert_uint_eq(l11.iframe.owner_generator, 1);
		ck_assert_uint_eq(l12.iframe.owner_generator, 1);
		ck_assert_uint_eq(l11.iframe.owner_first_shim, 255);
		ck_assert_uint_eq(l12.iframe.owner_first_shim, 3);
	}
}
END_TEST

/* Fields that exist only on later versions (or only on earlier ones) are -1 everywhere else. */
START_TEST(test_absent_fields)
{
	for (int minor = 9; minor <= 12; minor++) {
		for (int debug = 0; debug <= 1; debug++) {
			struct tc_layout l = get(FINAL(minor, 1), debug);
			bool objframes = minor <= 10;

			/* 3.13+ / 3.14+ / 3.15+ only */
			ck_assert_int_eq(l.interp.threads_main, -1);
			ck_assert_int_eq(l.tstate.current_frame, -1);
			ck_assert_int_eq(l.tstate.holds_gil, -1);
			ck_assert_int_eq(l.iframe.tlbc_index, -1);
			ck_assert_uint_eq(l.iframe.code_tag_mask, 0);

			/* 3.12 moved the GIL into the interpreter and tstate_current into a TLS */
			if (minor == 12) {
				ck_assert_int_eq(l.runtime.gil, -1);
				ck_assert_int_eq(l.runtime.tstate_current, -1);
				ck_assert_int_ge(l.interp.gil_ptr, 0);
			} else {
				ck_assert_int_ge(l.runtime.gil, 0);
				ck_assert_int_ge(l.runtime.tstate_current, 0);
				ck_assert_int_eq(l.interp.gil_ptr, -1);
			}

			/* frame objects (3.9/3.10) vs interpreter frames behind a cframe (3.11/3.12) */
			if (objframes) {
				ck_assert_int_ge(l.tstate.frame, 0);
				ck_assert_int_eq(l.tstate.cframe, -1);
				ck_assert_int_eq(l.tstate.native_thread_id, -1);
				ck_assert_int_eq(l.cframe.current_frame, -1);
				ck_assert_int_gt(l.frameobj.size, 0);
				ck_assert_int_ge(l.frameobj.f_back, 0);
				ck_assert_int_ge(l.frameobj.f_code, 0);
				ck_assert_int_ge(l.frameobj.f_lasti, 0);
				ck_assert_int_ge(l.frameobj.f_lineno, 0);
				ck_assert_int_ge(l.frameobj.f_trace, 0);
				ck_assert_int_eq(l.iframe.size, -1);
				ck_assert_int_eq(l.iframe.previous, -1);
				ck_assert_int_eq(l.iframe.code, -1);
				ck_assert_int_eq(l.iframe.instr, -1);
				ck_assert_int_eq(l.iframe.owner, -1);
				ck_assert_int_eq(l.code.qualname, -1);
				ck_assert_int_eq(l.code.code_adaptive, -1);
				ck_assert_int_eq(l.code.firsttraceable, -1);
			} else {
				ck_assert_int_eq(l.tstate.frame, -1);
				ck_assert_int_ge(l.tstate.cframe, 0);
				ck_assert_int_ge(l.tstate.native_thread_id, 0);
				ck_assert_int_ge(l.cframe.current_frame, 0);
				ck_assert_int_eq(l.frameobj.size, -1);
				ck_assert_int_eq(l.frameobj.f_back, -1);
				ck_assert_int_eq(l.frameobj.f_code, -1);
				ck_assert_int_eq(l.frameobj.f_lasti, -1);
				ck_assert_int_eq(l.frameobj.f_lineno, -1);
				ck_assert_int_eq(l.frameobj.f_trace, -1);
				ck_assert_int_gt(l.iframe.size, 0);
				ck_assert_int_ge(l.iframe.previous, 0);
				ck_assert_int_ge(l.iframe.code, 0);
				ck_assert_int_ge(l.iframe.instr, 0);
				ck_assert_int_ge(l.iframe.owner, 0);
				ck_assert_int_ge(l.code.qualname, 0);
				ck_assert_int_gt(l.code.code_adaptive, 0);
				ck_assert_int_ge(l.code.firsttraceable, 0);
			}
		}
	}
}
END_TEST

static void assert_ptr(int32_t off, int32_t size, const char *what)
{
	ck_assert_msg(off >= 0 && off % 8 == 0, "%s = %d: not an aligned pointer slot", what, off);
	if (size >= 0)
		ck_assert_msg(off + 8 <= size, "%s = %d: beyond the read size %d", what, off, size);
}

static void assert_int(int32_t off, int32_t size, const char *what)
{
	ck_assert_msg(off >= 0 && off % 4 == 0, "%s = %d: not an aligned int", what, off);
	ck_assert_msg(off + 4 <= size, "%s = %d: beyond the read size %d", what, off, size);
}

/* Offsets are where their C types can be, and every read size covers its fields. */
START_TEST(test_offsets_consistent)
{
	for (int minor = 9; minor <= 12; minor++) {
		for (int debug = 0; debug <= 1; debug++) {
			struct tc_layout l = get(FINAL(minor, 0), debug);

			assert_ptr(l.runtime.interpreters_head, -1, "runtime.interpreters_head");
			assert_ptr(l.runtime.main_thread, -1, "runtime.main_thread");
			ck_assert_int_eq(l.interp.size % 8, 0);
			assert_ptr(l.interp.next, l.interp.size, "interp.next");
			assert_ptr(l.interp.threads_head, l.interp.size, "interp.threads_head");
			if (l.interp.gil_ptr >= 0)
				assert_ptr(l.interp.gil_ptr, l.interp.size, "interp.gil_ptr");
			else
				assert_ptr(l.runtime.gil, -1, "runtime.gil");
			assert_ptr(l.gil.last_holder, -1, "gil.last_holder");
			ck_assert_int_ge(l.gil.locked, 0);
			ck_assert_int_eq(l.gil.locked % 4, 0);

			ck_assert_int_eq(l.tstate.size % 8, 0);
			assert_ptr(l.tstate.next, l.tstate.size, "tstate.next");
			assert_ptr(l.tstate.interp, l.tstate.size, "tstate.interp");
			assert_ptr(l.tstate.thread_id, l.tstate.size, "tstate.thread_id");
			if (minor <= 10) {
				assert_ptr(l.tstate.frame, l.tstate.size, "tstate.frame");
				ck_assert_int_eq(l.frameobj.size % 8, 0);
				assert_ptr(l.frameobj.f_back, l.frameobj.size, "frameobj.f_back");
				assert_ptr(l.frameobj.f_code, l.frameobj.size, "frameobj.f_code");
				assert_ptr(l.frameobj.f_trace, l.frameobj.size, "frameobj.f_trace");
				assert_int(l.frameobj.f_lasti, l.frameobj.size, "frameobj.f_lasti");
				assert_int(l.frameobj.f_lineno, l.frameobj.size, "frameobj.f_lineno");
			} else {
				assert_ptr(l.tstate.cframe, l.tstate.size, "tstate.cframe");
				assert_ptr(l.tstate.native_thread_id, l.tstate.size, "native_thread_id");
				assert_ptr(l.cframe.current_frame, -1, "cframe.current_frame");
				ck_assert_int_eq(l.iframe.size % 8, 0);
				assert_ptr(l.iframe.previous, l.iframe.size, "iframe.previous");
				assert_ptr(l.iframe.code, l.iframe.size, "iframe.code");
				assert_ptr(l.iframe.instr, l.iframe.size, "iframe.instr");
				ck_assert_int_lt(l.iframe.owner, l.iframe.size);
				ck_assert_int_lt(l.iframe.owner_generator, l.iframe.owner_first_shim);
				assert_ptr(l.code.qualname, l.code.size, "code.qualname");
				assert_int(l.code.firsttraceable, l.code.size, "code.firsttraceable");
				/* the bytecode follows every header field */
				ck_assert_int_gt(l.code.code_adaptive, l.code.firsttraceable);
				ck_assert_int_gt(l.code.code_adaptive, l.code.linetable);
			}
			ck_assert_int_eq(l.code.size % 8, 0);
			assert_ptr(l.code.filename, l.code.size, "code.filename");
			assert_ptr(l.code.name, l.code.size, "code.name");
			assert_ptr(l.code.linetable, l.code.size, "code.linetable");
			assert_int(l.code.firstlineno, l.code.size, "code.firstlineno");

			/* PyObject is {ob_refcnt, ob_type} in every build these tables cover */
			ck_assert_int_eq(l.object.ob_type, 8);
			ck_assert_int_eq(l.bytes.ob_size, 16);
			ck_assert_int_gt(l.bytes.ob_sval, l.bytes.ob_size);

			/* state: interned:2, kind:3, compact:1, ascii:1 in 3.9-3.12 */
			ck_assert_int_eq(l.unicode.length, 16);
			ck_assert_int_gt(l.unicode.state, l.unicode.length);
			ck_assert_uint_eq(l.unicode.kind_shift, 2);
			ck_assert_uint_eq(l.unicode.compact_bit, 5);
			ck_assert_uint_eq(l.unicode.ascii_bit, 6);
			ck_assert_int_lt(l.unicode.ascii_data, l.unicode.compact_data);
			/* 3.12 removed wstr (PEP 623), shrinking both headers */
			ck_assert_int_eq(l.unicode.ascii_data, minor <= 11 ? 48 : 40);
			ck_assert_int_eq(l.unicode.compact_data, minor <= 11 ? 72 : 56);
		}
	}
}
END_TEST

/* A few figures known independently of the generator: ../shared/reference/off_3.12.txt
 * (computed from the 3.12.1 headers by another tool) and the 3.11 _PyCFrame, whose first member
 * is the uint8_t use_tracing that 3.12 removed. */
START_TEST(test_reference_figures)
{
	struct tc_layout l12 = get(FINAL(12, 1), false), l11 = get(FINAL(11, 7), false);
	ck_assert_int_eq(l12.runtime.interpreters_head, 40);
	ck_assert_int_eq(l12.interp.threads_head, 72);
	ck_assert_int_eq(l11.cframe.current_frame, 8);
	ck_assert_int_eq(l12.cframe.current_frame, 0);
	/* 3.12 put f_code first and previous second in _PyInterpreterFrame */
	ck_assert_int_eq(l12.iframe.code, 0);
	ck_assert_int_eq(l12.iframe.previous, 8);
	/* 3.9/3.10 PyInterpreterState begins {next, tstate_head} */
	ck_assert_int_eq(get(FINAL(9, 2), false).interp.threads_head, 8);
	ck_assert_int_eq(get(FINAL(10, 13), true).interp.threads_head, 8);
}
END_TEST

/* Release and debug lookups return their own variant of the same minor. */
START_TEST(test_variants_distinct)
{
	for (int minor = 9; minor <= 12; minor++) {
		struct tc_layout r = get(FINAL(minor, 3), false), d = get(FINAL(minor, 3), true);
		ck_assert(!r.debug);
		ck_assert(d.debug);
		ck_assert_int_eq(r.frame_model, d.frame_model);
		ck_assert_int_eq(r.linetable, d.linetable);
	}
}
END_TEST

static Suite *tables_suite(void)
{
	Suite *s = suite_create("tables");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_every_version_resolves);
	tcase_add_test(tc, test_refused_versions);
	tcase_add_test(tc, test_walkable_bounds);
	tcase_add_test(tc, test_range_string);
	tcase_add_test(tc, test_enums_per_version);
	tcase_add_test(tc, test_absent_fields);
	tcase_add_test(tc, test_offsets_consistent);
	tcase_add_test(tc, test_reference_figures);
	tcase_add_test(tc, test_variants_distinct);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tc_test_run(tables_suite());
}
