/* SPDX-License-Identifier: MIT */
/* Unit tests for layouts/unicode.c: synthetic str objects laid out as 3.9-3.11 and 3.12+
 * builds place them (offsets checked against live interpreters with ctypes.string_at:
 * length at 16, state at 32, ASCII data at 40 (3.12+) or 48, compact data at 56 or 72),
 * decoded to UTF-8. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "layouts/unicode.h"
#include "skip.h"

enum { OBJ_MAX = 72 + 4 * 6000 };

/* Layout of a 3.12-3.14 default build, or of 3.9-3.11 when OLD. */
static struct tc_layout layout(int old)
{
	struct tc_layout l;

	memset(&l, 0xff, sizeof l);
	l.unicode.length = 16;
	l.unicode.state = 32;
	l.unicode.ascii_data = old ? 48 : 40;
	l.unicode.compact_data = old ? 72 : 56;
	l.unicode.kind_shift = 2;
	l.unicode.compact_bit = 5;
	l.unicode.ascii_bit = 6;
	return l;
}

/* Build a str object in OBJ: header per L, then LEN code points CPS of KIND bytes. */
static void make_str(const struct tc_layout *l, uint8_t *obj, unsigned kind, int compact,
		     int ascii, int64_t len, const uint32_t *cps, size_t ncps)
{
	uint32_t state = (uint32_t)kind << l->unicode.kind_shift |
			 (uint32_t)compact << l->unicode.compact_bit |
			 (uint32_t)ascii << l->unicode.ascii_bit | 1u /* interned bits */;
	size_t off = (size_t)(ascii ? l->unicode.ascii_data : l->unicode.compact_data);

	memset(obj, 0xa5, OBJ_MAX);
	memcpy(obj + l->unicode.length, &len, sizeof len);
	memcpy(obj + l->unicode.state, &state, sizeof state);
	for (size_t i = 0; i < ncps; i++) {
		if (kind == 1) {
			obj[off + i] = (uint8_t)cps[i];
		} else if (kind == 2) {
			uint16_t v = (uint16_t)cps[i];

			memcpy(obj + off + 2 * i, &v, 2);
		} else {
			memcpy(obj + off + 4 * i, &cps[i], 4);
		}
	}
}

/* Decode OBJ through both calls; returns the tc_unicode_to_utf8 result. */
static int decode(const struct tc_layout *l, const uint8_t *obj, char *out, size_t outlen)
{
	uint32_t off;
	unsigned kind;
	size_t len;
	int rc = tc_unicode_header(l, obj, (size_t)l->unicode.compact_data, &off, &kind, &len);

	if (rc)
		return rc;
	return tc_unicode_to_utf8(obj + off, kind, len, out, outlen);
}

static uint8_t obj[OBJ_MAX];
static char out[4 * TC_STR_MAX + 1];

static void check_str(int old, unsigned kind, int ascii, const uint32_t *cps, size_t n,
		      const char *want)
{
	struct tc_layout l = layout(old);
	uint32_t off;
	unsigned k;
	size_t len;

	make_str(&l, obj, kind, 1, ascii, (int64_t)n, cps, n);
	ck_assert_int_eq(tc_unicode_header(&l, obj, (size_t)l.unicode.compact_data, &off, &k, &len), 0);
	ck_assert_uint_eq(off, (uint32_t)(ascii ? l.unicode.ascii_data : l.unicode.compact_data));
	ck_assert_uint_eq(k, kind);
	ck_assert_uint_eq(len, n);
	ck_assert_int_eq(decode(&l, obj, out, sizeof out), (int)strlen(want));
	ck_assert_str_eq(out, want);
}

START_TEST(test_ascii)
{
	static const uint32_t s[] = {'h', 'e', 'l', 'l', 'o', '_', '1'};

	check_str(_i, 1, 1, s, 7, "hello_1");
	check_str(_i, 1, 1, s, 0, "");
}
END_TEST

START_TEST(test_latin1)
{
	static const uint32_t s[] = {'c', 'a', 'f', 0xe9, 0xff, 0x80};

	check_str(_i, 1, 0, s, 6, "caf\xc3\xa9\xc3\xbf\xc2\x80");
}
END_TEST

START_TEST(test_ucs2)
{
	static const uint32_t s[] = {0x20ac, ' ', 0x4e2d, 0x6587, 0x7ff, 0x800, 0xffff};

	check_str(_i, 2, 0, s, 7, "\xe2\x82\xac \xe4\xb8\xad\xe6\x96\x87\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf");
}
END_TEST

START_TEST(test_ucs4)
{
	static const uint32_t s[] = {0x1f600, 'x', 0x10000, 0x10ffff, 0xe9};

	check_str(_i, 4, 0, s, 5, "\xf0\x9f\x98\x80x\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\xc3\xa9");
}
END_TEST

/* Lone surrogates (legal in a Python str) and out-of-range values become U+FFFD. */
START_TEST(test_invalid_code_points)
{
	static const uint32_t s2[] = {'a', 0xd800, 0xdbff, 0xdc00, 0xdfff, 'b'};
	static const uint32_t s4[] = {0xd83d, 0xde00, 0x110000, 0xffffffff, 'z'};

	check_str(_i, 2, 0, s2, 6,
		  "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "b");
	check_str(_i, 4, 0, s4, 5,
		  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz");
}
END_TEST

/* Lengths past TC_STR_MAX are clamped, and the worst case fits 4 * TC_STR_MAX + 1. */
START_TEST(test_truncation)
{
	struct tc_layout l = layout(_i);
	static uint32_t cps[6000];
	uint32_t off;
	unsigned kind;
	size_t len;

	for (size_t i = 0; i < TC_ARRAY_LEN(cps); i++)
		cps[i] = 0x10000 + (uint32_t)i;
	make_str(&l, obj, 4, 1, 0, 6000, cps, 6000);
	ck_assert_int_eq(tc_unicode_header(&l, obj, (size_t)l.unicode.compact_data, &off, &kind, &len), 0);
	ck_assert_uint_eq(len, TC_STR_MAX);
	ck_assert_int_eq(tc_unicode_to_utf8(obj + off, kind, len, out, sizeof out), 4 * TC_STR_MAX);
	ck_assert_uint_eq(strlen(out), 4 * TC_STR_MAX);
	/* A caller passing the raw length gets the same bound. */
	ck_assert_int_eq(tc_unicode_to_utf8(obj + off, kind, 6000, out, sizeof out), 4 * TC_STR_MAX);

	make_str(&l, obj, 1, 1, 1, (int64_t)TC_STR_MAX + 1, NULL, 0);
	ck_assert_int_eq(tc_unicode_header(&l, obj, (size_t)l.unicode.compact_data, &off, &kind, &len), 0);
	ck_assert_uint_eq(len, TC_STR_MAX);
	make_str(&l, obj, 1, 1, 1, INT64_MAX, NULL, 0);
	ck_assert_int_eq(tc_unicode_header(&l, obj, (size_t)l.unicode.compact_data, &off, &kind, &len), 0);
	ck_assert_uint_eq(len, TC_STR_MAX);
}
END_TEST

/* A small buffer gives -TC_ERANGE and the longest prefix of whole sequences that fits. */
START_TEST(test_small_buffer)
{
	static const uint8_t data[] = {0x61, 0, 0, 0, 0xac, 0x20, 0, 0, 0x00, 0xf6, 0x01, 0, 0x62, 0, 0, 0};
	static const struct {
		size_t outlen;
		int rc;
		const char *want;
	} cases[] = {
		{1, -TC_ERANGE, ""},
		{2, -TC_ERANGE, "a"},
		{3, -TC_ERANGE, "a"},
		{4, -TC_ERANGE, "a"},
		{5, -TC_ERANGE, "a\xe2\x82\xac"},
		{8, -TC_ERANGE, "a\xe2\x82\xac"},
		{9, -TC_ERANGE, "a\xe2\x82\xac\xf0\x9f\x98\x80"},
		{10, 9, "a\xe2\x82\xac\xf0\x9f\x98\x80" "b"},
		{64, 9, "a\xe2\x82\xac\xf0\x9f\x98\x80" "b"},
	};
	char buf[64];

	for (size_t i = 0; i < TC_ARRAY_LEN(cases); i++) {
		char *o = malloc(cases[i].outlen);

		memset(o, 'X', cases[i].outlen);
		ck_assert_int_eq(tc_unicode_to_utf8(data, 4, 4, o, cases[i].outlen), cases[i].rc);
		ck_assert_str_eq(o, cases[i].want);
		free(o);
	}
	ck_assert_int_eq(tc_unicode_to_utf8(data, 4, 4, buf, 0), -TC_ERANGE);
	ck_assert_int_eq(tc_unicode_to_utf8(data, 4, 0, buf, 1), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(tc_unicode_to_utf8(data, 3, 1, buf, sizeof buf), -TC_EINVAL);
	ck_assert_str_eq(buf, "");
}
END_TEST

/* Headers this build must refuse. */
START_TEST(test_rejected_headers)
{
	struct tc_layout l = layout(_i);
	static const uint32_t s[] = {'a'};
	uint32_t off;
	unsigned kind;
	size_t len;
	size_t hl = (size_t)l.unicode.compact_data;

	/* Legacy (non-compact) string, ready or not. */
	make_str(&l, obj, 1, 0, 0, 1, s, 1);
	ck_assert_int_eq(tc_unicode_header(&l, obj, hl, &off, &kind, &len), -TC_EINVAL);
	make_str(&l, obj, 0, 0, 0, 1, s, 1);
	ck_assert_int_eq(tc_unicode_header(&l, obj, hl, &off, &kind, &len), -TC_EINVAL);
	/* Kinds other than 1, 2, 4. */
	for (unsigned k = 0; k < 8; k++) {
		if (k == 1 || k == 2 || k == 4)
			continue;
		make_str(&l, obj, k, 1, 0, 1, s, 0);
		ck_assert_int_eq(tc_unicode_header(&l, obj, hl, &off, &kind, &len), -TC_EINVAL);
	}
	/* ASCII flag with a wide kind. */
	make_str(&l, obj, 2, 1, 1, 1, s, 0);
	ck_assert_int_eq(tc_unicode_header(&l, obj, hl, &off, &kind, &len), -TC_EINVAL);
	/* Negative length. */
	make_str(&l, obj, 1, 1, 1, -1, s, 0);
	ck_assert_int_eq(tc_unicode_header(&l, obj, hl, &off, &kind, &len), -TC_EINVAL);
	/* Header buffer too short to hold state / length. */
	make_str(&l, obj, 1, 1, 1, 1, s, 1);
	ck_assert_int_eq(tc_unicode_header(&l, obj, hl, &off, &kind, &len), 0);
	ck_assert_int_eq(tc_unicode_header(&l, obj, (size_t)l.unicode.state + 3, &off, &kind, &len),
			 -TC_EINVAL);
	/* A layout without unicode offsets. */
	l.unicode.state = -1;
	ck_assert_int_eq(tc_unicode_header(&l, obj, hl, &off, &kind, &len), -TC_EINVAL);
}
END_TEST

/* The bit positions come from the layout, not from a 3.12 assumption: a free-threaded
 * 3.14 build keeps 'interned' in a whole byte, moving kind to bit 8. */
START_TEST(test_other_bit_layout)
{
	struct tc_layout l = layout(0);
	static const uint32_t s[] = {0xe9, 'x'};
	uint32_t off;
	unsigned kind;
	size_t len;

	l.unicode.kind_shift = 8;
	l.unicode.compact_bit = 11;
	l.unicode.ascii_bit = 12;
	make_str(&l, obj, 1, 1, 0, 2, s, 2);
	ck_assert_int_eq(tc_unicode_header(&l, obj, 56, &off, &kind, &len), 0);
	ck_assert_uint_eq(off, 56);
	ck_assert_int_eq(tc_unicode_to_utf8(obj + off, kind, len, out, sizeof out), 3);
	ck_assert_str_eq(out, "\xc3\xa9x");
	/* Read with the 3.12 bit positions, the same header is garbage. */
	ck_assert_int_eq(tc_unicode_header(&(struct tc_layout){.unicode = layout(0).unicode}, obj,
					   56, &off, &kind, &len), -TC_EINVAL);
}
END_TEST

static Suite *unicode_suite(void)
{
	Suite *s = suite_create("unicode");
	TCase *tc = tcase_create("core");

	/* Loop index: 0 = 3.12+ layout, 1 = 3.9-3.11 layout. */
	tcase_add_loop_test(tc, test_ascii, 0, 2);
	tcase_add_loop_test(tc, test_latin1, 0, 2);
	tcase_add_loop_test(tc, test_ucs2, 0, 2);
	tcase_add_loop_test(tc, test_ucs4, 0, 2);
	tcase_add_loop_test(tc, test_invalid_code_points, 0, 2);
	tcase_add_loop_test(tc, test_truncation, 0, 2);
	tcase_add_loop_test(tc, test_rejected_headers, 0, 2);
	tcase_add_test(tc, test_small_buffer);
	tcase_add_test(tc, test_other_bit_layout);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tc_test_run(unicode_suite());
}
