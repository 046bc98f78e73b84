/* SPDX-License-Identifier: MIT */
/* Unit tests for cli/args.c: sampling rates (frequencies and intervals) and durations,
 * good and bad; PID operands (cli/errors.c); the words for error codes (tc_strerror). */
#include <check.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "cli/args.h"
#include "tc/common.h"
#include "skip.h"

struct rate_case {
	const char *in;
	double hz;
};

static const struct rate_case good_rates[] = {
	{ "1000", 1000 },    { "1khz", 1000 },    { "1kHz", 1000 },   { "1KHZ", 1000 },
	{ "10k", 10000 },    { "10K", 10000 },    { "2.5kHz", 2500 }, { "100hz", 100 },
	{ "100Hz", 100 },    { "1mhz", 1e6 },     { "1MHz", 1e6 },    { "250us", 4000 },
	{ "250US", 4000 },   { "250\xc2\xb5s", 4000 }, { "1ms", 1000 }, { "0.5s", 2 },
	{ "1s", 1 },         { "1000ns", 1e6 },   { "1us", 1e6 },     { ".5", 0.5 },
	{ "5.", 5 },         { "0.1", 0.1 },      { "1000000", 1e6 }, { "0010", 10 },
};

static const char *const bad_rates[] = {
	"", "0", "0.0", "0hz", "0ms", "-1", "-1000", "+1000", " 1000", "1000 ", "1 khz", "1000x",
	"1kk", "khz", "hz", "k", ".", "..5", "1.2.3", "1e3", "0x10", "inf", "nan", "1m",
	"1000001", "2mhz", "0.5us", "999ns", "1kzh", "1msx", "1 ms", "1,5k", "abc",
	"99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999"
	"99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999"
	"99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999"
	"99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999",
};

START_TEST(test_rate_good)
{
	const struct rate_case *c = &good_rates[_i];
	double hz = -1;

	ck_assert_msg(tc_parse_rate(c->in, &hz) == 0, "rejected \"%s\"", c->in);
	ck_assert_msg(hz == c->hz || (hz > c->hz * (1 - 1e-12) && hz < c->hz * (1 + 1e-12)),
		      "\"%s\" gave %g, want %g", c->in, hz, c->hz);
}
END_TEST

START_TEST(test_rate_bad)
{
	double hz = 1234;

	ck_assert_msg(tc_parse_rate(bad_rates[_i], &hz) == -TC_EINVAL, "accepted \"%s\"",
		      bad_rates[_i]);
	/* A failed parse leaves the output alone. */
	ck_assert(hz == 1234);
}
END_TEST

START_TEST(test_rate_exact)
{
	double hz;

	/* The brief's examples, compared exactly: intervals divide by an exact unit count. */
	ck_assert_int_eq(tc_parse_rate("250us", &hz), 0);
	ck_assert(hz == 4000.0);
	ck_assert_int_eq(tc_parse_rate("1ms", &hz), 0);
	ck_assert(hz == 1000.0);
	ck_assert_int_eq(tc_parse_rate("10k", &hz), 0);
	ck_assert(hz == 10000.0);
	ck_assert_int_eq(tc_parse_rate("1khz", &hz), 0);
	ck_assert(hz == 1000.0);
	ck_assert_int_eq(tc_parse_rate(NULL, &hz), -TC_EINVAL);
}
END_TEST

struct duration_case {
	const char *in;
	double s;
};

static const struct duration_case good_durations[] = {
	{ "10", 10 }, { "2.5", 2.5 }, { "500ms", 0.5 }, { "2s", 2 },     { "1m", 60 },
	{ "1M", 60 }, { "1.5m", 90 }, { "2min", 120 },  { "1h", 3600 }, { "0.001", 0.001 },
};

static const char *const bad_durations[] = {
	"", "0", "0s", "0ms", "-1", "+1", " 1", "1 ", "1x", "s", "m", "1.2.3", "1e3", "inf",
	"nan", "1 s", "10us", "1sec",
};

START_TEST(test_duration_good)
{
	const struct duration_case *c = &good_durations[_i];
	double s = -1;

	ck_assert_msg(tc_parse_duration(c->in, &s) == 0, "rejected \"%s\"", c->in);
	ck_assert_msg(s > c->s * (1 - 1e-12) && s < c->s * (1 + 1e-12), "\"%s\" gave %g, want %g",
		      c->in, s, c->s);
}
END_TEST

START_TEST(test_duration_bad)
{
	double s = 42;

	ck_assert_msg(tc_parse_duration(bad_durations[_i], &s) == -TC_EINVAL, "accepted \"%s\"",
		      bad_durations[_i]);
	ck_assert(s == 42);
	ck_assert_int_eq(tc_parse_duration(NULL, &s), -TC_EINVAL);
}
END_TEST

/* ---- PIDs ---- */

static const char *const bad_pids[] = {
	"", " 12", "12 ", "+1", "-1", "0", "00", "0x10", "1e3", "1.0", "12a", "\t7",
	"2147483648", "99999999999", "18446744073709551617", "-2147483648",
};

START_TEST(test_pid_bad)
{
	pid_t pid = 1234;

	ck_assert_msg(tc_parse_pid(bad_pids[_i], &pid) != 0, "accepted \"%s\"", bad_pids[_i]);
	ck_assert_int_eq(pid, 1234);
}
END_TEST

START_TEST(test_pid_good)
{
	pid_t pid = 0;

	ck_assert_int_eq(tc_parse_pid("1", &pid), 0);
	ck_assert_int_eq(pid, 1);
	ck_assert_int_eq(tc_parse_pid("4194304", &pid), 0);
	ck_assert_int_eq(pid, 4194304);
	ck_assert_int_eq(tc_parse_pid("2147483647", &pid), 0);
	ck_assert_int_eq(pid, INT_MAX);
	ck_assert_int_eq(tc_parse_pid("012", &pid), 0);
	ck_assert_int_eq(pid, 12);
}
END_TEST

/* ---- error words ---- */

START_TEST(test_strerror)
{
	/* every code has its own phrase, the same for either sign, and none is a number */
	for (int e = TC_OK; e <= TC_ECORRUPT; e++) {
		const char *w = tc_strerror(-e);

		ck_assert_ptr_nonnull(w);
		ck_assert_str_eq(w, tc_strerror(e));
		ck_assert_str_ne(w, "unknown error");
		ck_assert_msg(!strpbrk(w, "0123456789"), "code %d: \"%s\"", e, w);
		for (int f = TC_OK; f < e; f++)
			ck_assert_str_ne(w, tc_strerror(-f));
	}
	ck_assert_str_eq(tc_strerror(-TC_ESRCH), "no such process");
	ck_assert_str_eq(tc_strerror(-(TC_ECORRUPT + 1)), "unknown error");
	ck_assert_str_eq(tc_strerror(INT_MIN), "unknown error");
}
END_TEST

static Suite *args_suite(void)
{
	Suite *s = suite_create("args");
	TCase *tc = tcase_create("rate");

	tcase_add_loop_test(tc, test_rate_good, 0, (int)TC_ARRAY_LEN(good_rates));
	tcase_add_loop_test(tc, test_rate_bad, 0, (int)TC_ARRAY_LEN(bad_rates));
	tcase_add_test(tc, test_rate_exact);
	suite_add_tcase(s, tc);
	tc = tcase_create("duration");
	tcase_add_loop_test(tc, test_duration_good, 0, (int)TC_ARRAY_LEN(good_durations));
	tcase_add_loop_test(tc, test_duration_bad, 0, (int)TC_ARRAY_LEN(bad_durations));
	suite_add_tcase(s, tc);
	tc = tcase_create("pid");
	tcase_add_loop_test(tc, test_pid_bad, 0, (int)TC_ARRAY_LEN(bad_pids));
	tcase_add_test(tc, test_pid_good);
	tcase_add_test(tc, test_strerror);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tc_test_run(args_suite());
}
