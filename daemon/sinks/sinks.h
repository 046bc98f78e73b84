/* SPDX-License-Identifier: MIT */
/* Writers that turn a profile into a file format, each behind its descriptor (tc_format_NAME,
 * daemon/sinks/sink.h); callers choose and drive formats through sink.h. Each returns 0, or
 * -TC_EIO when writing to OUT failed. None of them closes OUT. */
#ifndef TC_SINKS_H
#define TC_SINKS_H

#include <stdio.h>

#include "daemon/profile.h"
#include "daemon/sinks/sink.h"

/* Collapsed stacks: "tid:NATIVE_ID;FILE:QUALNAME:LINE;... COUNT\n", root first. Escaping
 * of ';', '%', control characters (and ':' in QUALNAME) is described in collapsed.c. */
int tc_sink_collapsed(const struct tc_profile *p, FILE *out);
/* Speedscope file format, one "sampled" profile per thread. */
int tc_sink_speedscope(const struct tc_profile *p, FILE *out);
/* Top functions by own and total samples, with a header describing the recording. LIMIT
 * rows at most (0 = 30). Also returns -TC_ENOMEM (nothing written) when its scratch tables
 * cannot be allocated. */
int tc_sink_summary(const struct tc_profile *p, FILE *out, size_t limit);

#endif
