/* SPDX-License-Identifier: MIT */
/* Parsing of sampling rates ("1khz", "250us") and durations ("500ms", "1m").
 *
 * Numbers are plain decimals, digits with at most one '.', parsed here rather than with
 * strtod: strtod also takes signs, spaces, hex, exponents, "inf" and "nan", and its decimal
 * point follows the locale, which a terminal UI may have set. Units are matched
 * case-insensitively against a table. A bare "m" is refused as a rate (milli or mega?) but
 * means minutes as a duration, as in sleep(1). */
#include "cli/args.h"

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <strings.h>

#include "tc/common.h"

#define TC_RATE_MAX_HZ 1e6

/* A unit suffix. A frequency multiplies the number (hz = n * per); an interval divides
 * (hz = per / n, with PER the unit's count per second, exact for every unit here). */
struct tc_unit {
	const char *suffix;
	double per;
	bool interval;
};

static const struct tc_unit tc_rate_units[] = {
	{ "", 1, false },
	{ "hz", 1, false },
	{ "k", 1e3, false },
	{ "khz", 1e3, false },
	{ "mhz", 1e6, false },
	{ "s", 1, true },
	{ "ms", 1e3, true },
	{ "us", 1e6, true },
	{ "\xc2\xb5s", 1e6, true }, /* U+00B5 MICRO SIGN */
	{ "ns", 1e9, true },
};

/* For durations PER is seconds per unit: seconds = n * per. */
static const struct tc_unit tc_duration_units[] = {
	{ "", 1, false },
	{ "s", 1, false },
	{ "ms", 1e-3, false },
	{ "m", 60, false },
	{ "min", 60, false },
	{ "h", 3600, false },
};

/* Parse the decimal number at the start of S into *V and point *END past it. Returns 0, or
 * -TC_EINVAL when S does not start with at least one digit (optionally after or around a
 * single '.'). */
static int tc_parse_decimal(const char *s, double *v, const char **end)
{
	double x = 0, scale = 1;
	bool digits = false, dot = false;
	int err = 0;

	for (; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			if (dot) {
				scale /= 10;
				x += (*s - '0') * scale;
			} else {
				x = x * 10 + (*s - '0');
			}
			digits = true;
		} else if (*s == '.' && !dot) {
			dot = true;
		} else {
			break;
		}
	}
	if (!digits) {
		err = -TC_EINVAL;
		goto out;
	}
	*v = x;
	*end = s;
out:
	return err;
}

/* A number and its unit from TABLE (N entries, suffixes matched case-insensitively): *V and
 * *U. Returns 0, or -TC_EINVAL when S is NULL, does not start with a number, or ends in
 * anything but one of the suffixes. */
static int tc_parse_with_unit(const char *s, const struct tc_unit *table, size_t n, double *v,
			      const struct tc_unit **u)
{
	const char *rest;

	if (!s || tc_parse_decimal(s, v, &rest))
		return -TC_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!strcasecmp(table[i].suffix, rest)) {
			*u = &table[i];
			return 0;
		}
	}
	return -TC_EINVAL;
}

/* Frequencies multiply, intervals divide; the result must lie in (0, 1 MHz]. */
int tc_parse_rate(const char *s, double *hz)
{
	const struct tc_unit *u;
	double v, r;

	if (tc_parse_with_unit(s, tc_rate_units, TC_ARRAY_LEN(tc_rate_units), &v, &u) ||
	    !(v > 0) || !isfinite(v))
		return -TC_EINVAL;
	r = u->interval ? u->per / v : v * u->per;
	if (!(r > 0) || !isfinite(r) || r > TC_RATE_MAX_HZ)
		return -TC_EINVAL;
	*hz = r;
	return 0;
}

/* Any positive finite number of seconds after applying the unit. */
int tc_parse_duration(const char *s, double *seconds)
{
	const struct tc_unit *u;
	double v, r;

	if (tc_parse_with_unit(s, tc_duration_units, TC_ARRAY_LEN(tc_duration_units), &v, &u))
		return -TC_EINVAL;
	r = v * u->per;
	if (!(r > 0) || !isfinite(r))
		return -TC_EINVAL;
	*seconds = r;
	return 0;
}

/* Digits only: strtol alone would also take leading spaces, a sign, and "0x" after them. */
int tc_parse_pid(const char *s, pid_t *pid)
{
	long long v = 0;

	if (!s[0])
		return -TC_EINVAL;
	for (const char *c = s; *c; c++) {
		if (*c < '0' || *c > '9')
			return -TC_EINVAL;
		v = v * 10 + (*c - '0');
		if (v > INT_MAX)
			return -TC_EINVAL;
	}
	if (v == 0)
		return -TC_EINVAL;
	*pid = (pid_t)v;
	return 0;
}
