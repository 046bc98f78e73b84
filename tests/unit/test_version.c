/* SPDX-License-Identifier: MIT */
/* Unit tests for layouts/version.c: PY_VERSION_HEX <-> text, both ways. The pairs are real
 * ones (sys.hexversion and PY_VERSION of released interpreters). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tc/common.h"
#include "layouts/version.h"
#include "skip.h"

static const struct {
	const char *text;
	uint32_t hex;
} known[] = {
	{"3.9.2", 0x030902f0},   {"3.9.18", 0x030912f0},  {"3.10.13", 0x030a0df0},
	{"3.11.7", 0x030b07f0},  {"3.12.1", 0x030c01f0},  {"3.13.0", 0x030d00f0},
	{"3.13.0rc2", 0x030d00c2}, {"3.14.0b3", 0x030e00b3}, {"3.15.0a1", 0x030f00a1},
	{"3.14.10", 0x030e0af0}, {"3.12.0a7", 0x030c00a7}, {"255.255.255rc15", 0xffffffcf},
	{"0.0.0", 0x000000f0},
};

START_TEST(test_format_known)
{
	char buf[16];

	ck_assert_str_eq(tc_version_format(known[_i].hex, buf, sizeof buf), known[_i].text);
}
END_TEST

START_TEST(test_parse_known)
{
	uint32_t hex = 0;

	ck_assert_int_eq(tc_version_parse(known[_i].text, &hex), 0);
	ck_assert_uint_eq(hex, known[_i].hex);
}
END_TEST

/* Every level and serial survives format -> parse. */
START_TEST(test_round_trip)
{
	static const unsigned levels[] = {0xa, 0xb, 0xc, 0xf};
	char buf[16];
	uint32_t back;

	for (unsigned minor = 0; minor < 256; minor += 17)
		for (size_t l = 0; l < TC_ARRAY_LEN(levels); l++)
			for (unsigned serial = 0; serial < 16; serial++) {
				uint32_t hex = TC_PY_HEX(3, minor, minor ^ 0x5a) | levels[l] << 4 |
					       (levels[l] == 0xf ? 0 : serial);

				tc_version_format(hex, buf, sizeof buf);
				ck_assert_int_eq(tc_version_parse(buf, &back), 0);
				ck_assert_msg(back == hex, "%s: %08x != %08x", buf, back, hex);
			}
}
END_TEST

START_TEST(test_format_small_buffer)
{
	char buf[8];

	memset(buf, 'X', sizeof buf);
	ck_assert_ptr_eq(tc_version_format(0x030d00c2, buf, 5), buf);
	ck_assert_str_eq(buf, "3.13");
	ck_assert_int_eq(buf[5], 'X');
	ck_assert_ptr_eq(tc_version_format(0x030d00c2, buf, 0), buf);
	ck_assert_int_eq(buf[0], '3');
	/* An unknown release level prints as a plain release, never garbage. */
	ck_assert_str_eq(tc_version_format(0x030c0105, buf, sizeof buf), "3.12.1");
}
END_TEST

/* Suffixes seen in real version strings. */
START_TEST(test_parse_suffixes)
{
	uint32_t hex;

	ck_assert_int_eq(tc_version_parse("3.9.2+", &hex), 0);
	ck_assert_uint_eq(hex, 0x030902f0);
	ck_assert_int_eq(tc_version_parse("3.13.0a1+", &hex), 0);
	ck_assert_uint_eq(hex, 0x030d00a1);
	ck_assert_int_eq(tc_version_parse("3.12.1 (main, Jan  1 2024, 00:00:00) [GCC 12.2.0]", &hex), 0);
	ck_assert_uint_eq(hex, 0x030c01f0);
	ck_assert_int_eq(tc_version_parse("3.11.2\n", &hex), 0);
	ck_assert_uint_eq(hex, 0x030b02f0);
}
END_TEST

START_TEST(test_parse_invalid)
{
	static const char *const bad[] = {
		"", "3", "3.", "3.12", "3.12.", "3.12.x", "3..1", ".3.12.1", " 3.12.1", "-3.12.1",
		"3.-12.1", "3.12.1rc", "3.12.1c1", "3.12.1a", "3.12.1b16", "3.12.1rc99", "3.12.256",
		"3.256.0", "256.0.0", "3.12.1x", "3.12.1++", "3.12.1+x", "3.12.1.4", "3.12.1rc1x",
		"99999999999999999999.1.1", "3,12,1", "python3.12",
	};
	uint32_t hex = 0x12345678;

	for (size_t i = 0; i < TC_ARRAY_LEN(bad); i++) {
		ck_assert_msg(tc_version_parse(bad[i], &hex) == -TC_EINVAL, "accepted '%s'", bad[i]);
		ck_assert_uint_eq(hex, 0x12345678);
	}
	ck_assert_int_eq(tc_version_parse(NULL, &hex), -TC_EINVAL);
	ck_assert_int_eq(tc_version_parse("3.12.1", NULL), -TC_EINVAL);
}
END_TEST

/* The supported range macros agree with the format. */
START_TEST(test_range)
{
	char buf[16];

	ck_assert_str_eq(tc_version_format(TC_PY_MIN_HEX | 0xf0, buf, sizeof buf), "3.9.0");
	ck_assert_uint_eq(TC_HEX_MINOR(TC_PY_MAX_HEX), 15);
	ck_assert_uint_eq(TC_HEX_MAJOR(0x030c01f0), 3);
	ck_assert_uint_eq(TC_HEX_MICRO(0x030c01f0), 1);
}
END_TEST

static Suite *version_suite(void)
{
	Suite *s = suite_create("version");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_format_known, 0, (int)TC_ARRAY_LEN(known));
	tcase_add_loop_test(tc, test_parse_known, 0, (int)TC_ARRAY_LEN(known));
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_format_small_buffer);
	tcase_add_test(tc, test_parse_suffixes);
	tcase_add_test(tc, test_parse_invalid);
	tcase_add_test(tc, test_range);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tc_test_run(version_suite());
}
