/* SPDX-License-Identifier: MIT */
/* Unit tests for cli/top_format.c: the text of `tachyon-c top` (numbers, shares, times,
 * names fitted into columns, the sparkline, the table's columns). */
#include <check.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "cli/top_format.h"
#include "skip.h"

/* FN(V) into a buffer must give WANT. */
#define CHECK_FMT(fn, v, want)                           \
	do {                                             \
		char b_[64];                             \
		fn(v, b_, sizeof b_);                    \
		ck_assert_str_eq(b_, want);              \
	} while (0)

START_TEST(test_numbers_and_times)
{
	CHECK_FMT(tc_top_fmt_count, 0, "0");
	CHECK_FMT(tc_top_fmt_count, 999, "999");
	CHECK_FMT(tc_top_fmt_count, 1234567, "1,234,567");
	CHECK_FMT(tc_top_fmt_bytes, -1, "n/a");
	CHECK_FMT(tc_top_fmt_bytes, 512, "512 B");
	CHECK_FMT(tc_top_fmt_bytes, 1536, "1.5 KiB");
	CHECK_FMT(tc_top_fmt_bytes, 3LL << 30, "3.0 GiB");
	CHECK_FMT(tc_top_fmt_share, -1, "n/a");
	CHECK_FMT(tc_top_fmt_share, 0.425, "42%");
	CHECK_FMT(tc_top_fmt_int, -1, "n/a");
	CHECK_FMT(tc_top_fmt_int, 17, "17");
	CHECK_FMT(tc_top_fmt_rate, -0.5, "n/a");
	CHECK_FMT(tc_top_fmt_rate, 2.25, "2.2");
	CHECK_FMT(tc_top_fmt_secs, 1.25, "1.25s");
	CHECK_FMT(tc_top_fmt_secs, 125, "2m05s");
	CHECK_FMT(tc_top_fmt_secs, 3720, "1h02m");
	CHECK_FMT(tc_top_fmt_uptime, 3723.9, "1:02:03");
	CHECK_FMT(tc_top_fmt_uptime, -5, "0:00:00");
}
END_TEST

START_TEST(test_fit_ascii)
{
	char b[64];

	ck_assert_int_eq(tc_top_fit("hello", 10, false, false, b, sizeof b), 5);
	ck_assert_str_eq(b, "hello");
	/* cut at the end or at the start, marked with '~' without UTF-8 */
	ck_assert_int_eq(tc_top_fit("abcdefgh", 5, false, false, b, sizeof b), 5);
	ck_assert_str_eq(b, "abcd~");
	ck_assert_int_eq(tc_top_fit("/a/b/mod.py", 6, true, false, b, sizeof b), 6);
	ck_assert_str_eq(b, "~od.py");
	/* control characters are shown as '?' */
	ck_assert_int_eq(tc_top_fit("a\tb\x1b", 10, false, false, b, sizeof b), 4);
	ck_assert_str_eq(b, "a?b?");
	ck_assert_int_eq(tc_top_fit(NULL, 10, false, false, b, sizeof b), 0);
	ck_assert_str_eq(b, "");
	ck_assert_int_eq(tc_top_text_cols("abc", false), 3);
}
END_TEST

START_TEST(test_fit_utf8)
{
	char b[64];

	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		return; /* no UTF-8 locale here: nothing to check */
	/* "naïve" is 5 columns in 6 bytes */
	ck_assert_int_eq(tc_top_text_cols("na\xc3\xafve", true), 5);
	ck_assert_int_eq(tc_top_fit("na\xc3\xafve_function", 6, false, true, b, sizeof b), 6);
	ck_assert_str_eq(b, "na\xc3\xafve\xe2\x80\xa6");
	/* a stray continuation byte is one '?' */
	ck_assert_int_eq(tc_top_fit("a\x80z", 10, false, true, b, sizeof b), 3);
	ck_assert_str_eq(b, "a?z");
	setlocale(LC_CTYPE, "C");
}
END_TEST

START_TEST(test_sparkline)
{
	const int64_t h[] = {0, 7, 14};
	const int64_t flat[] = {5, 5};
	char b[64];

	tc_top_sparkline(h, 3, false, b, sizeof b);
	ck_assert_str_eq(b, "_=#");
	tc_top_sparkline(flat, 2, false, b, sizeof b);
	ck_assert_str_eq(b, "__");
	tc_top_sparkline(h, 3, true, b, sizeof b);
	ck_assert_str_eq(b, "\xe2\x96\x81\xe2\x96\x85\xe2\x96\x88");
	/* no room: only what fits, always terminated */
	tc_top_sparkline(h, 3, true, b, 5);
	ck_assert_str_eq(b, "\xe2\x96\x81");
}
END_TEST

START_TEST(test_command_name)
{
	ck_assert_str_eq(tc_top_command_name(NULL), "?");
	ck_assert_str_eq(tc_top_command_name(""), "?");
	ck_assert_str_eq(tc_top_command_name("/usr/bin/python3 /srv/app.py -v"),
			 "python3 /srv/app.py -v");
	ck_assert_str_eq(tc_top_command_name("python3"), "python3");
}
END_TEST

START_TEST(test_layout)
{
	struct tc_top_columns c = tc_top_layout(200, 30);

	ck_assert(c.own_time && c.total_time && c.file);
	ck_assert_int_eq(c.func_w, 30);
	/* what is left after the fixed columns, both times and one space */
	ck_assert_int_eq(c.func_w + 1 + c.file_w, 200 - 15 - 10 - 11);
	/* narrower: TotalTime goes first, then OwnTime, then file:line */
	c = tc_top_layout(15 + 10 + 24 + 1 + 16, 10);
	ck_assert(!c.total_time && c.own_time && c.file);
	c = tc_top_layout(15 + 24 + 1 + 16, 10);
	ck_assert(!c.total_time && !c.own_time && c.file);
	c = tc_top_layout(60 - 1 - 16, 10);
	ck_assert(!c.file);
	ck_assert_int_eq(c.func_w, 60 - 1 - 16 - 15);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("top_format");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_numbers_and_times);
	tcase_add_test(tc, test_fit_ascii);
	tcase_add_test(tc, test_fit_utf8);
	tcase_add_test(tc, test_sparkline);
	tcase_add_test(tc, test_command_name);
	tcase_add_test(tc, test_layout);
	suite_add_tcase(s, tc);
	return tc_test_run(s);
}
