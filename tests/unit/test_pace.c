/* SPDX-License-Identifier: MIT */
/* The sampler's slot policy (daemon/pace.h) on a fake clock. */
#include <check.h>
#include <stdint.h>

#include "daemon/pace.h"
#include "skip.h"

#define MS 1000000ll

/* Every slot on time: one sample per slot at its start, nothing missed. */
START_TEST(test_on_time)
{
	struct tc_pace p;
	int64_t wake;
	tc_pace_start(&p, 5 * MS, 1000.0, 0);
	ck_assert_int_eq(p.interval, MS);
	for (int k = 0; k < 10; k++) {
		ck_assert(!tc_pace_wake(&p, &wake));
		ck_assert_int_eq(wake, 5 * MS + k * MS);
		tc_pace_done(&p, wake + MS / 10); /* a sample takes 0.1 ms */
	}
	ck_assert_uint_eq(p.missed, 0);
}
END_TEST

/* A sample that ends late into the next slot is followed at once (that slot is not missed);
 * one that ends after whole slots passed skips them, counted, with no burst after. */
START_TEST(test_late)
{
	struct tc_pace p;
	int64_t wake;
	tc_pace_start(&p, 0, 100.0, 0); /* 10 ms slots */
	ck_assert(!tc_pace_wake(&p, &wake));
	tc_pace_done(&p, 15 * MS);      /* ended halfway into slot 1 */
	ck_assert(!tc_pace_wake(&p, &wake));
	ck_assert_int_eq(wake, 10 * MS);/* in the past: taken at once */
	ck_assert_uint_eq(p.missed, 0);
	tc_pace_done(&p, 47 * MS);      /* slots 2 and 3 passed whole; 4 has begun */
	ck_assert_uint_eq(p.missed, 2);
	ck_assert(!tc_pace_wake(&p, &wake));
	ck_assert_int_eq(wake, 40 * MS);
	tc_pace_done(&p, 41 * MS);
	ck_assert(!tc_pace_wake(&p, &wake));
	ck_assert_int_eq(wake, 50 * MS);/* back on the grid */
	ck_assert_uint_eq(p.missed, 2);
}
END_TEST

/* A recording ends at its duration, not at the first slot after it. */
START_TEST(test_duration)
{
	struct tc_pace p;
	int64_t wake;
	int samples = 0;
	tc_pace_start(&p, 0, 4.0, 1.0); /* slots at 0, 250, 500, 750 ms; end at 1000 ms */
	while (!tc_pace_wake(&p, &wake)) {
		samples++;
		tc_pace_done(&p, wake);
	}
	ck_assert_int_eq(samples, 4);
	ck_assert_int_eq(wake, 1000 * MS);
}
END_TEST

/* Back to back: no slots, never missed; a very high rate is held at 1 us. */
START_TEST(test_rates)
{
	struct tc_pace p;
	int64_t wake;
	tc_pace_start(&p, 7, 0, 0);
	ck_assert_int_eq(p.interval, 0);
	tc_pace_done(&p, 1000 * MS);
	ck_assert(!tc_pace_wake(&p, &wake));
	ck_assert_uint_eq(p.missed, 0);
	tc_pace_start(&p, 0, 1e8, 0);
	ck_assert_int_eq(p.interval, 1000);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pace");
	TCase *tc = tcase_create("slots");
	tcase_add_test(tc, test_on_time);
	tcase_add_test(tc, test_late);
	tcase_add_test(tc, test_duration);
	tcase_add_test(tc, test_rates);
	suite_add_tcase(s, tc);
	return tc_test_run(s);
}
