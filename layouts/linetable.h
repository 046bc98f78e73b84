/* SPDX-License-Identifier: MIT */
/* Line-number tables of code objects, decoded from the bytes the target holds. Pure
 * functions over host buffers; untrusted input: every read is bounds-checked. */
#ifndef TC_LINETABLE_H
#define TC_LINETABLE_H

#include <stddef.h>
#include <stdint.h>

#include "layouts/layout.h"

/* Source position of one instruction. Fields are -1 when unknown. */
struct tc_location {
	int32_t line;
	int32_t end_line;   /* 3.11+ only */
	int32_t column;     /* 3.11+ only, 0-based UTF-8 byte offset */
	int32_t end_column; /* 3.11+ only */
};

/* Position of the instruction at byte offset ADDR (bytes from the start of the bytecode;
 * for 3.10+ that is code units * 2) in the table TABLE/LEN of format FMT, for a code object
 * whose co_firstlineno is FIRSTLINENO. Mirrors CPython's PyCode_Addr2Line /
 * PyCode_Addr2Location for that version, including its answers for ADDR < 0.
 * Returns 0 and fills *OUT (line -1 when the instruction has no line, as CPython reports
 * None), or -TC_EINVAL when FMT is unknown. A truncated or corrupt table never reads out of
 * bounds: decoding stops at LEN. */
int tc_linetable_lookup(enum tc_linetable_format fmt, const uint8_t *table, size_t len,
			int32_t firstlineno, int64_t addr, struct tc_location *out);

#endif
