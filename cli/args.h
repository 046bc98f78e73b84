/* SPDX-License-Identifier: MIT */
/* Parsing of command-line values: sampling rates, durations and PIDs. */
#ifndef TC_ARGS_H
#define TC_ARGS_H

#include <sys/types.h>

/* Parse a sampling rate: a frequency ("1000", "1khz", "10k", "2.5kHz", "100hz", "1mhz") or an
 * interval ("250us", "1ms", "0.5s", "1000ns"). Case-insensitive, no spaces. On success sets
 * *HZ (> 0, at most 1e6) and returns 0; returns -TC_EINVAL for anything else (empty, zero,
 * negative, unknown unit, trailing garbage, out of range). */
int tc_parse_rate(const char *s, double *hz);

/* Parse a duration in seconds: "10", "2.5", "500ms", "2s", "1m" (minutes). Sets *SECONDS
 * (> 0) and returns 0, or -TC_EINVAL. */
int tc_parse_duration(const char *s, double *seconds);

/* Parse a PID operand: decimal digits only (no sign, no spaces, no "0x", no exponent),
 * 1 to INT_MAX. Sets *PID and returns 0, or returns -TC_EINVAL leaving *PID alone. */
int tc_parse_pid(const char *s, pid_t *pid);

#endif
