/* SPDX-License-Identifier: MIT */
/* Unit tests for layouts/debug_offsets.c.
 *
 * Two kinds of images of _Py_DebugOffsets (the head of _PyRuntime on 3.13+):
 *  - captured: the bytes of the real struct, read with gdb from the unrelocated binaries of
 *    Debian sid's python3.13/3.14/3.15 (release and Py_DEBUG) and pyenv's 3.13.0; the
 *    expected offsets are what gdb prints for `_PyRuntime.debug_offsets` (by name), so
 *    these check the per-minor position tables against reality;
 *  - synthetic free-threaded (3.13t-3.15t: no such build is obtainable here): a captured
 *    image patched at the positions the headers give (fixtures/cpython_offsets.h:
 *    offsetof(_Py_DebugOffsets, ...) read with gdb from Debian's python3.1Nd, never
 *    tc_debug_offsets_fields(), which is under test), with the offsets a Py_GIL_DISABLED
 *    build has (32-byte PyObject header, ob_type at 24, tlbc_index).
 * Then corrupted copies, each of which one sanity check must refuse; and the project's own
 * position tables compared field by field with the headers'. */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "layouts/debug_offsets.h"
#include "layouts/version.h"

#include "fixtures/cpython_offsets.h"
#include "skip.h"

/* Where _Py_DebugOffsets holds each field in 3.MINOR, per the headers. */
static const struct tc_dbgoff_fields *pos_of(unsigned minor)
{
	return minor == 13 ? &fx_dbgoff_pos_3_13 : minor == 14 ? &fx_dbgoff_pos_3_14 :
								  &fx_dbgoff_pos_3_15;
}

struct word {
	uint32_t off;
	uint64_t val;
};

/* Debian sid python3.13d 3.13.18 (Py_DEBUG); gdb -batch -ex 'x/73gx &_PyRuntime' */
static const struct word captured_313d[] = {
	{0, 0x7970677562656478}, {8, 0x30d12f0}, {24, 0x491a0}, {32, 0x260}, {40, 0x278}, {48, 0x2f9b8},
	{56, 0x1c68}, {64, 0x1c60}, {72, 0x1cb0}, {80, 0x1ce8}, {88, 0x1de8}, {96, 0x1dd8},
	{104, 0x1de0}, {112, 0x10}, {120, 0x1e48}, {136, 0x1e58}, {144, 0x1e50}, {152, 0x138},
	{168, 0x8}, {176, 0x10}, {184, 0x48}, {192, 0x98}, {200, 0xa0}, {208, 0xe8}, {216, 0x20},
	{224, 0x50}, {232, 0x8}, {248, 0x38}, {256, 0x48}, {264, 0x46}, {272, 0xd0}, {280, 0x70},
	{288, 0x78}, {296, 0x80}, {304, 0x88}, {312, 0x44}, {320, 0x34}, {328, 0x60}, {336, 0x68},
	{344, 0xc8}, {352, 0x10}, {360, 0x8}, {368, 0x1a0}, {376, 0x18}, {384, 0x58}, {392, 0xa8},
	{400, 0x20}, {408, 0x18}, {416, 0x10}, {424, 0x28}, {432, 0x18}, {440, 0x10}, {448, 0x30},
	{456, 0x20}, {464, 0x28}, {472, 0x18}, {480, 0x10}, {488, 0x20}, {496, 0x10}, {504, 0x18},
	{512, 0x28}, {520, 0x10}, {528, 0x20}, {536, 0x40}, {544, 0x20}, {552, 0x10}, {560, 0x28},
	{568, 0xf0}, {576, 0xc8},
};

/* Debian sid python3.14d 3.14.10 (Py_DEBUG); gdb -batch -ex 'x/95gx &_PyRuntime' */
static const struct word captured_314d[] = {
	{0, 0x7970677562656478}, {8, 0x30e0af0}, {24, 0x51358}, {32, 0x310}, {40, 0x328}, {48, 0x37258},
	{56, 0x1c70}, {64, 0x1c68}, {72, 0x1cb0}, {80, 0x1cc0}, {88, 0x1cf0}, {96, 0x1e08},
	{104, 0x1df8}, {112, 0x1e00}, {120, 0x10}, {128, 0x1e68}, {144, 0x1e78}, {152, 0x1e70},
	{160, 0x1f38}, {176, 0x340}, {192, 0x8}, {200, 0x10}, {208, 0x48}, {216, 0x98}, {224, 0xa0},
	{232, 0xe8}, {240, 0x20}, {248, 0x58}, {256, 0x8}, {272, 0x38}, {280, 0x50}, {288, 0x4a},
	{296, 0x40}, {312, 0xd8}, {320, 0x70}, {328, 0x78}, {336, 0x80}, {344, 0x88}, {352, 0x44},
	{360, 0x34}, {368, 0x60}, {376, 0x68}, {384, 0xd0}, {400, 0x10}, {408, 0x8}, {416, 0x1a0},
	{424, 0x18}, {432, 0x58}, {440, 0xa8}, {448, 0x28}, {456, 0x20}, {464, 0x10}, {472, 0x28},
	{480, 0x18}, {488, 0x10}, {496, 0xc8}, {504, 0x18}, {512, 0x28}, {520, 0x20}, {528, 0x30},
	{536, 0x20}, {544, 0x28}, {552, 0x18}, {560, 0x10}, {568, 0x20}, {576, 0x10}, {584, 0x18},
	{592, 0x28}, {600, 0x10}, {608, 0x20}, {616, 0x40}, {624, 0x20}, {632, 0x10}, {640, 0x28},
	{648, 0x108}, {656, 0xc0}, {664, 0xa0}, {672, 0x18}, {680, 0x48}, {688, 0x43}, {704, 0x8},
	{712, 0x18}, {720, 0x130}, {728, 0x1f8c}, {744, 0x4}, {752, 0x200},
};

/* Debian sid python3.15d 3.15.2 (Py_DEBUG); gdb -batch -ex 'x/111gx &_PyRuntime' */
static const struct word captured_315d[] = {
	{0, 0x7970677562656478}, {8, 0x30f02f0}, {24, 0x58860}, {32, 0x390}, {40, 0x3a8}, {48, 0x373d0},
	{56, 0x1c68}, {64, 0x1c60}, {72, 0x1ca8}, {80, 0x1cb8}, {88, 0x1ce8}, {96, 0x1da8},
	{104, 0x1d98}, {112, 0x1da0}, {120, 0x10}, {128, 0x1e38}, {144, 0x1e48}, {152, 0x1e40},
	{160, 0x1f08}, {176, 0x378}, {192, 0x8}, {200, 0x10}, {208, 0x48}, {216, 0x50}, {224, 0x58},
	{232, 0x60}, {240, 0xb0}, {248, 0xb8}, {256, 0x100}, {264, 0x20}, {272, 0x24}, {280, 0x28},
	{288, 0x88}, {296, 0x120}, {312, 0x58}, {320, 0x8}, {336, 0x38}, {344, 0x50}, {352, 0x4a},
	{360, 0x40}, {376, 0xd8}, {384, 0x70}, {392, 0x78}, {400, 0x80}, {408, 0x88}, {416, 0x44},
	{424, 0x34}, {432, 0x60}, {440, 0x68}, {448, 0xd0}, {464, 0x10}, {472, 0x8}, {480, 0x1a8},
	{488, 0x18}, {496, 0x58}, {504, 0xa8}, {512, 0x20}, {520, 0x120}, {528, 0x3b0}, {536, 0x378},
	{544, 0x28}, {552, 0x20}, {560, 0x10}, {568, 0x28}, {576, 0x18}, {584, 0x10}, {592, 0xc8},
	{600, 0x18}, {608, 0x28}, {616, 0x20}, {624, 0x30}, {632, 0x20}, {640, 0x28}, {648, 0x18},
	{656, 0x10}, {664, 0x20}, {672, 0x10}, {680, 0x18}, {688, 0x28}, {696, 0x10}, {704, 0x20},
	{712, 0x40}, {720, 0x20}, {728, 0x10}, {736, 0x28}, {744, 0x38}, {752, 0xb0}, {760, 0x70},
	{768, 0x78}, {776, 0x460}, {784, 0x68}, {792, 0xa0}, {800, 0x18}, {808, 0x48}, {816, 0x43},
	{832, 0x8}, {840, 0x18}, {848, 0x158}, {856, 0x1f5c}, {872, 0x4}, {880, 0x200},
};

/* Debian sid python3.13 3.13.18; gdb -batch -ex 'x/73gx &_PyRuntime' */
static const struct word captured_313[] = {
	{0, 0x7970677562656478}, {8, 0x30d12f0}, {24, 0x45310}, {32, 0x260}, {40, 0x278}, {48, 0x2f9a8},
	{56, 0x1c68}, {64, 0x1c60}, {72, 0x1cb0}, {80, 0x1ce8}, {88, 0x1de8}, {96, 0x1dd8},
	{104, 0x1de0}, {112, 0x10}, {120, 0x1e48}, {136, 0x1e58}, {144, 0x1e50}, {152, 0x138},
	{168, 0x8}, {176, 0x10}, {184, 0x48}, {192, 0x98}, {200, 0xa0}, {208, 0xe8}, {216, 0x20},
	{224, 0x50}, {232, 0x8}, {248, 0x38}, {256, 0x48}, {264, 0x46}, {272, 0xd0}, {280, 0x70},
	{288, 0x78}, {296, 0x80}, {304, 0x88}, {312, 0x44}, {320, 0x34}, {328, 0x60}, {336, 0x68},
	{344, 0xc8}, {352, 0x10}, {360, 0x8}, {368, 0x1a0}, {376, 0x18}, {384, 0x58}, {392, 0xa8},
	{400, 0x20}, {408, 0x18}, {416, 0x10}, {424, 0x28}, {432, 0x18}, {440, 0x10}, {448, 0x30},
	{456, 0x20}, {464, 0x28}, {472, 0x18}, {480, 0x10}, {488, 0x20}, {496, 0x10}, {504, 0x18},
	{512, 0x28}, {520, 0x10}, {528, 0x20}, {536, 0x40}, {544, 0x20}, {552, 0x10}, {560, 0x28},
	{568, 0xf0}, {576, 0xc8},
};

/* pyenv 3.13.0 libpython3.13.so; gdb -batch -ex 'x/73gx &_PyRuntime' */
static const struct word captured_3130[] = {
	{0, 0x7970677562656478}, {8, 0x30d00f0}, {24, 0x452b8}, {32, 0x260}, {40, 0x278}, {48, 0x2f998},
	{56, 0x1c68}, {64, 0x1c60}, {72, 0x1cb0}, {80, 0x1ce8}, {88, 0x1de8}, {96, 0x1dd8},
	{104, 0x1de0}, {112, 0x10}, {120, 0x1e48}, {136, 0x1e58}, {144, 0x1e50}, {152, 0x130},
	{168, 0x8}, {176, 0x10}, {184, 0x48}, {192, 0x98}, {200, 0xa0}, {208, 0xe8}, {216, 0x20},
	{224, 0x50}, {232, 0x8}, {248, 0x38}, {256, 0x48}, {264, 0x46}, {272, 0xd0}, {280, 0x70},
	{288, 0x78}, {296, 0x80}, {304, 0x88}, {312, 0x44}, {320, 0x34}, {328, 0x60}, {336, 0x68},
	{344, 0xc8}, {352, 0x10}, {360, 0x8}, {368, 0x1a0}, {376, 0x18}, {384, 0x58}, {392, 0xa8},
	{400, 0x20}, {408, 0x18}, {416, 0x10}, {424, 0x28}, {432, 0x18}, {440, 0x10}, {448, 0x30},
	{456, 0x20}, {464, 0x28}, {472, 0x18}, {480, 0x10}, {488, 0x20}, {496, 0x10}, {504, 0x18},
	{512, 0x28}, {520, 0x10}, {528, 0x20}, {536, 0x40}, {544, 0x20}, {552, 0x10}, {560, 0x28},
	{568, 0xf0}, {576, 0xc8},
};

/* Debian sid python3.14 3.14.10; gdb -batch -ex 'x/95gx &_PyRuntime' */
static const struct word captured_314[] = {
	{0, 0x7970677562656478}, {8, 0x30e0af0}, {24, 0x4d4c8}, {32, 0x310}, {40, 0x328}, {48, 0x37248},
	{56, 0x1c70}, {64, 0x1c68}, {72, 0x1cb0}, {80, 0x1cc0}, {88, 0x1cf0}, {96, 0x1e08},
	{104, 0x1df8}, {112, 0x1e00}, {120, 0x10}, {128, 0x1e68}, {144, 0x1e78}, {152, 0x1e70},
	{160, 0x1f38}, {176, 0x340}, {192, 0x8}, {200, 0x10}, {208, 0x48}, {216, 0x98}, {224, 0xa0},
	{232, 0xe8}, {240, 0x20}, {248, 0x58}, {256, 0x8}, {272, 0x38}, {280, 0x50}, {288, 0x4a},
	{296, 0x40}, {312, 0xd8}, {320, 0x70}, {328, 0x78}, {336, 0x80}, {344, 0x88}, {352, 0x44},
	{360, 0x34}, {368, 0x60}, {376, 0x68}, {384, 0xd0}, {400, 0x10}, {408, 0x8}, {416, 0x1a0},
	{424, 0x18}, {432, 0x58}, {440, 0xa8}, {448, 0x28}, {456, 0x20}, {464, 0x10}, {472, 0x28},
	{480, 0x18}, {488, 0x10}, {496, 0xc8}, {504, 0x18}, {512, 0x28}, {520, 0x20}, {528, 0x30},
	{536, 0x20}, {544, 0x28}, {552, 0x18}, {560, 0x10}, {568, 0x20}, {576, 0x10}, {584, 0x18},
	{592, 0x28}, {600, 0x10}, {608, 0x20}, {616, 0x40}, {624, 0x20}, {632, 0x10}, {640, 0x28},
	{648, 0x108}, {656, 0xc0}, {664, 0xa0}, {672, 0x18}, {680, 0x48}, {688, 0x43}, {704, 0x8},
	{712, 0x18}, {720, 0x130}, {728, 0x1f8c}, {744, 0x4}, {752, 0x200},
};

/* Debian sid python3.15 3.15.2; gdb -batch -ex 'x/111gx &_PyRuntime' */
static const struct word captured_315[] = {
	{0, 0x7970677562656478}, {8, 0x30f02f0}, {24, 0x549c8}, {32, 0x390}, {40, 0x3a8}, {48, 0x373c0},
	{56, 0x1c68}, {64, 0x1c60}, {72, 0x1ca8}, {80, 0x1cb8}, {88, 0x1ce8}, {96, 0x1da8},
	{104, 0x1d98}, {112, 0x1da0}, {120, 0x10}, {128, 0x1e38}, {144, 0x1e48}, {152, 0x1e40},
	{160, 0x1f08}, {176, 0x378}, {192, 0x8}, {200, 0x10}, {208, 0x48}, {216, 0x50}, {224, 0x58},
	{232, 0x60}, {240, 0xb0}, {248, 0xb8}, {256, 0x100}, {264, 0x20}, {272, 0x24}, {280, 0x28},
	{288, 0x88}, {296, 0x120}, {312, 0x58}, {320, 0x8}, {336, 0x38}, {344, 0x50}, {352, 0x4a},
	{360, 0x40}, {376, 0xd8}, {384, 0x70}, {392, 0x78}, {400, 0x80}, {408, 0x88}, {416, 0x44},
	{424, 0x34}, {432, 0x60}, {440, 0x68}, {448, 0xd0}, {464, 0x10}, {472, 0x8}, {480, 0x1a8},
	{488, 0x18}, {496, 0x58}, {504, 0xa8}, {512, 0x20}, {520, 0x120}, {528, 0x3b0}, {536, 0x378},
	{544, 0x28}, {552, 0x20}, {560, 0x10}, {568, 0x28}, {576, 0x18}, {584, 0x10}, {592, 0xc8},
	{600, 0x18}, {608, 0x28}, {616, 0x20}, {624, 0x30}, {632, 0x20}, {640, 0x28}, {648, 0x18},
	{656, 0x10}, {664, 0x20}, {672, 0x10}, {680, 0x18}, {688, 0x28}, {696, 0x10}, {704, 0x20},
	{712, 0x40}, {720, 0x20}, {728, 0x10}, {736, 0x28}, {744, 0x38}, {752, 0xb0}, {760, 0x70},
	{768, 0x78}, {776, 0x460}, {784, 0x68}, {792, 0xa0}, {800, 0x18}, {808, 0x48}, {816, 0x43},
	{832, 0x8}, {840, 0x18}, {848, 0x158}, {856, 0x1f5c}, {872, 0x4}, {880, 0x200},
};


/* One captured image and what gdb printed for it. */
struct captured {
	const char *name;
	const struct word *words;
	size_t nwords;
	unsigned minor;
	uint32_t hex; /* `version` as gdb printed it */
	bool debug;
};

#define CAPTURE(name, w, minor, hex, debug) {name, w, TC_ARRAY_LEN(w), minor, hex, debug}
static const struct captured captures[] = {
	CAPTURE("3.13.18", captured_313, 13, 0x030d12f0, false),
	CAPTURE("3.13.18d", captured_313d, 13, 0x030d12f0, true),
	CAPTURE("3.13.0", captured_3130, 13, 0x030d00f0, false),
	CAPTURE("3.14.10", captured_314, 14, 0x030e0af0, false),
	CAPTURE("3.14.10d", captured_314d, 14, 0x030e0af0, true),
	CAPTURE("3.15.2", captured_315, 15, 0x030f02f0, false),
	CAPTURE("3.15.2d", captured_315d, 15, 0x030f02f0, true),
};

/* The offsets gdb printed by name (`print _PyRuntime.debug_offsets`, python3.1Nd and pyenv
 * 3.13.0), plus _co_firsttraceable (`print &((PyCodeObject *)0)->_co_firsttraceable`). */
struct expect {
	int32_t interpreters_head;
	int32_t i_next, i_threads_head, i_threads_main, i_gil_ptr;
	int32_t t_next, t_interp, t_current_frame, t_thread_id, t_native, t_holds_gil;
	int32_t f_size, f_previous, f_code, f_instr, f_owner;
	int32_t c_filename, c_name, c_qualname, c_linetable, c_firstlineno, c_adaptive,
		c_firsttraceable;
	int32_t u_compact;
	uint64_t tag_mask;
};

static const struct expect expect_313 = {
	632, 7264, 7344, -1, 16, 8, 16, 72, 152, 160, -1, 80, 8, 0, 56, 70,
	112, 120, 128, 136, 68, 200, 184, 56, 0,
};
static const struct expect expect_314 = {
	808, 7272, 7344, 7360, 16, 8, 16, 72, 152, 160, -1, 88, 8, 0, 56, 74,
	112, 120, 128, 136, 68, 208, 192, 56, 7,
};
static const struct expect expect_315 = {
	936, 7264, 7336, 7352, 16, 8, 16, 72, 176, 184, 36, 88, 8, 0, 56, 74,
	112, 120, 128, 136, 68, 208, 192, 56, 7,
};

static const struct expect *expect_for(unsigned minor)
{
	return minor == 13 ? &expect_313 : minor == 14 ? &expect_314 : &expect_315;
}

/* BUF (TC_DEBUG_OFFSETS_MAX bytes) := the captured image C. */
static void load(uint8_t *buf, const struct captured *c)
{
	memset(buf, 0, TC_DEBUG_OFFSETS_MAX);
	for (size_t i = 0; i < c->nwords; i++)
		memcpy(buf + c->words[i].off, &c->words[i].val, 8);
}

/* Store V at position POS of BUF (a _Py_DebugOffsets field is 8 bytes). */
static void set(uint8_t *buf, int32_t pos, uint64_t v)
{
	ck_assert_int_ge(pos, 0);
	memcpy(buf + pos, &v, 8);
}

static uint64_t get(const uint8_t *buf, int32_t pos)
{
	return tc_get_u64(buf, (size_t)pos);
}

/* The release capture of MINOR. */
static const struct captured *release_of(unsigned minor)
{
	for (size_t i = 0; i < TC_ARRAY_LEN(captures); i++)
		if (captures[i].minor == minor && !captures[i].debug)
			return &captures[i];
	return NULL;
}

START_TEST(test_sizes)
{
	ck_assert_uint_eq(tc_debug_offsets_size(12), 0);
	ck_assert_uint_eq(tc_debug_offsets_size(13), 584);
	ck_assert_uint_eq(tc_debug_offsets_size(14), 760);
	ck_assert_uint_eq(tc_debug_offsets_size(15), 888);
	ck_assert_uint_eq(tc_debug_offsets_size(16), 0);
	ck_assert_ptr_null(tc_debug_offsets_fields(16));
	for (unsigned m = 13; m <= 15; m++) {
		const struct tc_dbgoff_fields *f = tc_debug_offsets_fields(m);
		ck_assert_ptr_nonnull(f);
		ck_assert_uint_eq(f->minor, m);
		ck_assert_uint_le(f->total, TC_DEBUG_OFFSETS_MAX);
		ck_assert_uint_eq(f->total, tc_debug_offsets_size(m));
	}
}
END_TEST

/* A real _Py_DebugOffsets yields the offsets gdb printed for that build. */
START_TEST(test_captured)
{
	const struct captured *c = &captures[_i];
	const struct expect *e = expect_for(c->minor);
	uint8_t buf[TC_DEBUG_OFFSETS_MAX];
	struct tc_layout l;
	uint32_t hex = 0;

	load(buf, c);
	ck_assert_int_eq(tc_debug_offsets_version(buf, sizeof buf, &hex), 0);
	ck_assert_uint_eq(hex, c->hex);
	ck_assert_msg(tc_layout_from_debug_offsets(buf, tc_debug_offsets_size(c->minor), c->debug,
						  &l) == 0, "%s refused", c->name);
	ck_assert_uint_eq(l.version_hex, c->hex);
	ck_assert(l.debug == c->debug);
	ck_assert(!l.free_threaded);
	ck_assert_int_eq(l.frame_model, TC_FRAMES_INTERP);
	ck_assert_int_eq(l.linetable, TC_LT_LOCATIONS);

	ck_assert_int_eq(l.runtime.interpreters_head, e->interpreters_head);
	ck_assert_int_eq(l.runtime.gil, -1);
	ck_assert_int_eq(l.interp.next, e->i_next);
	ck_assert_int_eq(l.interp.threads_head, e->i_threads_head);
	ck_assert_int_eq(l.interp.threads_main, e->i_threads_main);
	ck_assert_int_eq(l.interp.gil_ptr, e->i_gil_ptr);
	ck_assert_int_ge(l.interp.size, e->i_threads_head + 8);
	/* gil_runtime_state_locked/holder are offsets in the interpreter; the layout wants
	 * them relative to the struct _gil_runtime_state. */
	ck_assert_int_eq(l.gil.locked, 16);
	ck_assert_int_eq(l.gil.last_holder, 8);

	ck_assert_int_eq(l.tstate.next, e->t_next);
	ck_assert_int_eq(l.tstate.interp, e->t_interp);
	ck_assert_int_eq(l.tstate.current_frame, e->t_current_frame);
	ck_assert_int_eq(l.tstate.thread_id, e->t_thread_id);
	ck_assert_int_eq(l.tstate.native_thread_id, e->t_native);
	ck_assert_int_eq(l.tstate.holds_gil, e->t_holds_gil);
	ck_assert_int_eq(l.tstate.frame, -1);
	ck_assert_int_eq(l.tstate.cframe, -1);
	ck_assert_int_ge(l.tstate.size, e->t_native + 8);

	ck_assert_int_eq(l.iframe.previous, e->f_previous);
	ck_assert_int_eq(l.iframe.code, e->f_code);
	ck_assert_int_eq(l.iframe.instr, e->f_instr);
	ck_assert_int_eq(l.iframe.owner, e->f_owner);
	ck_assert_int_eq(l.iframe.tlbc_index, -1); /* default build: no per-thread bytecode */
	ck_assert_int_gt(l.iframe.size, e->f_owner);
	ck_assert_int_le(l.iframe.size, e->f_size);
	ck_assert_uint_eq(l.iframe.owner_generator, 1);
	ck_assert_uint_eq(l.iframe.owner_first_shim, 3);
	ck_assert_uint_eq(l.iframe.code_tag_mask, e->tag_mask);

	ck_assert_int_eq(l.code.filename, e->c_filename);
	ck_assert_int_eq(l.code.name, e->c_name);
	ck_assert_int_eq(l.code.qualname, e->c_qualname);
	ck_assert_int_eq(l.code.linetable, e->c_linetable);
	ck_assert_int_eq(l.code.firstlineno, e->c_firstlineno);
	ck_assert_int_eq(l.code.code_adaptive, e->c_adaptive);
	ck_assert_int_eq(l.code.firsttraceable, e->c_firsttraceable);
	ck_assert_int_ge(l.code.size, e->c_firsttraceable + 4);

	ck_assert_int_eq(l.object.ob_type, 8);
	ck_assert_int_eq(l.bytes.ob_size, 16);
	ck_assert_int_eq(l.bytes.ob_sval, 32);
	ck_assert_int_eq(l.unicode.length, 16);
	ck_assert_int_eq(l.unicode.state, 32);
	ck_assert_int_eq(l.unicode.ascii_data, 40);
	ck_assert_int_eq(l.unicode.compact_data, e->u_compact);
	ck_assert_uint_eq(l.unicode.kind_shift, 2);
	ck_assert_uint_eq(l.unicode.compact_bit, 5);
	ck_assert_uint_eq(l.unicode.ascii_bit, 6);
	/* no frame objects, no table-only fields */
	ck_assert_int_eq(l.frameobj.f_back, -1);
	ck_assert_int_eq(l.cframe.current_frame, -1);
}
END_TEST

/* Turn BUF (a default-build image of MINOR) into what a Py_GIL_DISABLED build of the same
 * version holds: a 32-byte PyObject header (ob_tid, flags, mutex, gc bits, ref_local,
 * ref_shared, then ob_type at 24) shifts every object's fields by 16; PyCodeObject gains
 * per-thread bytecode fields; 3.14+ _PyInterpreterFrame gains int32 tlbc_index at 72, which
 * pushes owner from 74 to 78. */
static void make_free_threaded(uint8_t *buf, unsigned minor)
{
	const struct tc_dbgoff_fields *f = pos_of(minor);

	set(buf, f->free_threaded, 1);
	set(buf, f->ob_size, 32);
	set(buf, f->ob_type, 24);
	set(buf, f->tu_ob_item, minor >= 14 ? 48 : 40);
	set(buf, f->by_ob_size, 32);
	set(buf, f->by_ob_sval, 48);
	set(buf, f->un_length, 32);
	set(buf, f->un_state, 48);
	set(buf, f->un_ascii_size, 56);
	if (f->un_compact_size >= 0)
		set(buf, f->un_compact_size, 72);
	set(buf, f->co_size, minor >= 14 ? 240 : 224);
	set(buf, f->co_filename, 128);
	set(buf, f->co_name, 136);
	set(buf, f->co_qualname, 144);
	set(buf, f->co_linetable, 152);
	set(buf, f->co_firstlineno, 84);
	set(buf, f->co_code_adaptive, minor >= 14 ? 232 : 216);
	if (f->fr_tlbc_index >= 0) {
		set(buf, f->fr_tlbc_index, 72);
		set(buf, f->fr_owner, 78);
	}
}

/* 3.13t-3.15t: the object fields move with the header, tlbc_index appears (3.14t+), and
 * the str state bit-fields start at bit 8 where `interned` became a whole byte (3.14t+)
 * but at bit 2 on 3.13t, which keeps `interned:2`. */
START_TEST(test_free_threaded)
{
	unsigned minor = 13 + (unsigned)_i;
	uint8_t buf[TC_DEBUG_OFFSETS_MAX];
	struct tc_layout l;

	load(buf, release_of(minor));
	make_free_threaded(buf, minor);
	ck_assert_int_eq(tc_layout_from_debug_offsets(buf, tc_debug_offsets_size(minor), false, &l), 0);
	ck_assert(l.free_threaded);
	ck_assert_uint_eq(TC_HEX_MINOR(l.version_hex), minor);
	ck_assert_int_eq(l.object.ob_type, 24);
	ck_assert_int_eq(l.bytes.ob_size, 32);
	ck_assert_int_eq(l.bytes.ob_sval, 48);
	ck_assert_int_eq(l.unicode.length, 32);
	ck_assert_int_eq(l.unicode.state, 48);
	ck_assert_int_eq(l.unicode.ascii_data, 56);
	ck_assert_int_eq(l.unicode.compact_data, 72);
	ck_assert_int_eq(l.code.filename, 128);
	ck_assert_int_eq(l.code.name, 136);
	ck_assert_int_eq(l.code.qualname, 144);
	ck_assert_int_eq(l.code.linetable, 152);
	ck_assert_int_eq(l.code.firstlineno, 84);
	ck_assert_int_eq(l.code.code_adaptive, minor >= 14 ? 232 : 216);
	/* the free-threaded PyCodeObject is not known well enough to place it */
	ck_assert_int_eq(l.code.firsttraceable, -1);
	ck_assert_int_ge(l.code.size, 152 + 8);
	if (minor == 13) {
		ck_assert_uint_eq(l.unicode.kind_shift, 2);
		ck_assert_uint_eq(l.unicode.compact_bit, 5);
		ck_assert_uint_eq(l.unicode.ascii_bit, 6);
		ck_assert_int_eq(l.iframe.tlbc_index, -1);
		ck_assert_int_eq(l.iframe.owner, 70);
		ck_assert_uint_eq(l.iframe.code_tag_mask, 0);
	} else {
		ck_assert_uint_eq(l.unicode.kind_shift, 8);
		ck_assert_uint_eq(l.unicode.compact_bit, 11);
		ck_assert_uint_eq(l.unicode.ascii_bit, 12);
		ck_assert_int_eq(l.iframe.tlbc_index, 72);
		ck_assert_int_eq(l.iframe.owner, 78);
		ck_assert_uint_ne(l.iframe.code_tag_mask & 1, 0);
		ck_assert_int_ge(l.iframe.size, 79); /* covers tlbc_index (72..76) and owner (78) */
		ck_assert_int_le(l.iframe.size, 88);
	}
}
END_TEST

/* Each corruption of a real image, and the refusal it must meet. */
enum corruption {
	C_COOKIE, C_V316, C_V312, C_V4, C_SHORT, C_OB24, C_OBTYPE, C_FT16, C_FT32_DEFAULT,
	C_HUGE_FRAME, C_HUGE_TSTATE, C_ALLONES_CODE, C_HUGE_RUNTIME, C_HUGE_UNICODE,
	C_OWNER_PAST, C_NAME_PAST, C_NEXT_PAST, C_FRSIZE, C_COSIZE, C_TSSIZE, C_GIL,
	C_UNICODE_DATA, C_N
};

static int corrupt(uint8_t *buf, unsigned minor, enum corruption c, size_t *len)
{
	const struct tc_dbgoff_fields *f = pos_of(minor);

	*len = f->total;
	switch (c) {
	case C_COOKIE:
		buf[7] = 'z';
		return -TC_ENOTPY;
	case C_V316:
		set(buf, 8, TC_PY_HEX(3, 16, 0) | 0xf0);
		return -TC_EVERSION;
	case C_V312:
		set(buf, 8, TC_PY_HEX(3, 12, 1) | 0xf0);
		return -TC_EVERSION;
	case C_V4:
		set(buf, 8, TC_PY_HEX(4, minor, 0) | 0xf0);
		return -TC_EVERSION;
	case C_SHORT:
		*len = f->total - 8;
		return -TC_EINVAL;
	case C_OB24:
		set(buf, f->ob_size, 24);
		return -TC_EINVAL;
	case C_OBTYPE:
		set(buf, f->ob_type, 0);
		return -TC_EINVAL;
	case C_FT16: /* says free-threaded, has the default 16-byte header */
		set(buf, f->free_threaded, 1);
		return -TC_EINVAL;
	case C_FT32_DEFAULT: /* 32-byte header on a build that says it is not free-threaded */
		make_free_threaded(buf, minor);
		set(buf, f->free_threaded, 0);
		return -TC_EINVAL;
	case C_HUGE_FRAME:
		set(buf, f->fr_previous, 1ull << 32);
		return -TC_EINVAL;
	case C_HUGE_TSTATE:
		set(buf, f->ts_current_frame, 1ull << 25);
		return -TC_EINVAL;
	case C_ALLONES_CODE:
		set(buf, f->co_filename, UINT64_MAX);
		return -TC_EINVAL;
	case C_HUGE_RUNTIME:
		set(buf, f->rt_interpreters_head, 1ull << 40);
		return -TC_EINVAL;
	case C_HUGE_UNICODE:
		set(buf, f->un_length, 1ull << 63);
		return -TC_EINVAL;
	case C_OWNER_PAST:
		set(buf, f->fr_owner, get(buf, f->fr_size));
		return -TC_EINVAL;
	case C_NAME_PAST:
		set(buf, f->co_name, get(buf, f->co_size) + 8);
		return -TC_EINVAL;
	case C_NEXT_PAST:
		set(buf, f->ts_next, get(buf, f->ts_size));
		return -TC_EINVAL;
	case C_FRSIZE:
		set(buf, f->fr_size, 4096);
		return -TC_EINVAL;
	case C_COSIZE:
		set(buf, f->co_size, 48);
		return -TC_EINVAL;
	case C_TSSIZE:
		set(buf, f->ts_size, 32);
		return -TC_EINVAL;
	case C_GIL: /* holder before the start of the GIL state */
		set(buf, f->is_gil_holder, get(buf, f->is_gil_state) - 8);
		return -TC_EINVAL;
	case C_UNICODE_DATA:
		set(buf, f->un_ascii_size, 48);
		return -TC_EINVAL;
	case C_N:
		break;
	}
	return 0;
}

START_TEST(test_corrupted)
{
	unsigned minor = 13 + (unsigned)(_i / C_N);
	enum corruption c = (enum corruption)(_i % C_N);
	uint8_t buf[TC_DEBUG_OFFSETS_MAX];
	struct tc_layout l;
	size_t len;

	load(buf, release_of(minor));
	ck_assert_int_eq(tc_layout_from_debug_offsets(buf, tc_debug_offsets_size(minor), false, &l), 0);
	int want = corrupt(buf, minor, c, &len);
	int got = tc_layout_from_debug_offsets(buf, len, false, &l);
	ck_assert_msg(got == want, "3.%u corruption %d: got %d, want %d", minor, (int)c, got, want);
}
END_TEST

/* 3.15 states where a non-ASCII compact str's data starts (unicode_object.compact_size): a
 * copy with any other value than 16 bytes after the ASCII data is refused (0 used to pass;
 * found by tests/fuzz/fuzz_layouts). */
START_TEST(test_compact_size)
{
	const struct tc_dbgoff_fields *f = tc_debug_offsets_fields(15);
	uint8_t buf[TC_DEBUG_OFFSETS_MAX];
	struct tc_layout l;
	size_t len = tc_debug_offsets_size(15);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(f->un_compact_size, 0);
	load(buf, release_of(15));
	uint64_t ascii = get(buf, f->un_ascii_size);
	ck_assert_int_eq(tc_layout_from_debug_offsets(buf, len, false, &l), 0);
	ck_assert_int_eq(l.unicode.compact_data, (int32_t)ascii + 16);
	const uint64_t bad[] = {0, 8, ascii, ascii + 8, ascii + 24, 1u << 20};
	for (size_t i = 0; i < TC_ARRAY_LEN(bad); i++) {
		set(buf, f->un_compact_size, bad[i]);
		ck_assert_msg(tc_layout_from_debug_offsets(buf, len, false, &l) == -TC_EINVAL,
			      "compact_size %llu accepted", (unsigned long long)bad[i]);
	}
}
END_TEST

START_TEST(test_version)
{
	uint8_t buf[TC_DEBUG_OFFSETS_MAX];
	uint32_t hex = 0;

	load(buf, release_of(14));
	ck_assert_int_eq(tc_debug_offsets_version(buf, 16, &hex), 0);
	ck_assert_uint_eq(hex, 0x030e0af0);
	ck_assert_int_eq(tc_debug_offsets_version(buf, 15, &hex), -TC_ENOTPY);
	memset(buf, 0, 8);
	ck_assert_int_eq(tc_debug_offsets_version(buf, sizeof buf, &hex), -TC_ENOTPY);
}
END_TEST

/* The walker copies a frame into a fixed buffer of iframe.size bytes; an accepted layout must
 * never ask to read more than the _Py_DebugOffsets' own interpreter_frame.size (at most 256
 * by the sanity checks). Case 0: a free-threaded 3.14 image whose tlbc_index offset (never
 * checked against the frame size) is 4096; case 1: 3.15t likewise; case 2: a default image
 * whose owner (a char) is the last byte of a 256-byte frame. */
START_TEST(test_frame_read_bounded)
{
	unsigned minor = _i == 1 ? 15 : 14;
	const struct tc_dbgoff_fields *f = pos_of(minor);
	uint8_t buf[TC_DEBUG_OFFSETS_MAX];
	struct tc_layout l;

	load(buf, release_of(minor));
	if (_i < 2) {
		make_free_threaded(buf, minor);
		set(buf, f->fr_tlbc_index, 4096);
	} else {
		set(buf, f->fr_size, 256);
		set(buf, f->fr_owner, 255);
	}
	int err = tc_layout_from_debug_offsets(buf, f->total, false, &l);
	if (err == 0)
		ck_assert_msg(l.iframe.size <= (int32_t)get(buf, f->fr_size),
			      "case %d accepted with iframe.size %d > interpreter_frame.size %d", _i,
			      l.iframe.size, (int)get(buf, f->fr_size));
	else
		ck_assert_int_eq(err, -TC_EINVAL);
}
END_TEST

/* The position of every field layouts/debug_offsets.c reads is where the headers put it. */
START_TEST(test_positions)
{
	unsigned minor = 13 + (unsigned)_i;
	const struct tc_dbgoff_fields *got = tc_debug_offsets_fields(minor), *want = pos_of(minor);

	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(got->total, want->total);
#define SAME(f) \
	ck_assert_msg(got->f == want->f, "3.%u: " #f " at %d, the headers put it at %d", minor, \
		      (int)got->f, (int)want->f);
	SAME(free_threaded) SAME(rt_interpreters_head)
	SAME(is_next) SAME(is_threads_head) SAME(is_threads_main) SAME(is_ceval_gil)
	SAME(is_gil_state) SAME(is_gil_locked) SAME(is_gil_holder) SAME(is_code_generation)
	SAME(ts_size) SAME(ts_next) SAME(ts_interp) SAME(ts_current_frame) SAME(ts_thread_id)
	SAME(ts_native_thread_id) SAME(ts_holds_gil)
	SAME(fr_size) SAME(fr_previous) SAME(fr_executable) SAME(fr_instr_ptr) SAME(fr_owner)
	SAME(fr_tlbc_index)
	SAME(co_size) SAME(co_filename) SAME(co_name) SAME(co_qualname) SAME(co_linetable)
	SAME(co_firstlineno) SAME(co_code_adaptive)
	SAME(ob_size) SAME(ob_type) SAME(tu_ob_item) SAME(by_ob_size) SAME(by_ob_sval)
	SAME(un_state) SAME(un_length) SAME(un_ascii_size) SAME(un_compact_size)
#undef SAME
}
END_TEST

static Suite *debug_offsets_suite(void)
{
	Suite *s = suite_create("debug_offsets");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_sizes);
	tcase_add_test(tc, test_version);
	tcase_add_test(tc, test_compact_size);
	tcase_add_loop_test(tc, test_captured, 0, (int)TC_ARRAY_LEN(captures));
	tcase_add_loop_test(tc, test_free_threaded, 0, 3);
	tcase_add_loop_test(tc, test_corrupted, 0, 3 * C_N);
	tcase_add_loop_test(tc, test_frame_read_bounded, 0, 3);
	tcase_add_loop_test(tc, test_positions, 0, 3);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tc_test_run(debug_offsets_suite());
}
