/* SPDX-License-Identifier: MIT */
/* Line-number tables of code objects: instruction offset -> source position.
 *
 * Three encodings, one per CPython era, each answered the way that version's
 * PyCode_Addr2Line / PyCode_Addr2Location answers (tests/unit/fixtures/linetable_3.N.txt hold
 * the interpreters' own answers for every offset of many real tables):
 *   3.9   co_lnotab: (unsigned address delta, signed line delta) byte pairs; a pair applies
 *         to the addresses from its cumulated address on.
 *   3.10  co_linetable: (unsigned address delta, signed line delta) pairs, each closing a
 *         range of addresses; a line delta of -128 marks a range with no line.
 *   3.11+ location table (PEP 657): one entry per run of code units, with line, end line,
 *         column and end column, in short, one-line, no-column, long and no-location forms.
 *
 * The table is untrusted target memory: every byte read is checked against LEN, every loop
 * consumes at least one byte, and arithmetic that a corrupt table could overflow is done in
 * 64 bits. A corrupt table yields some answer, never a crash. */
#include <stdbool.h>

#include "layouts/linetable.h"

/* 3.11+ location entry codes (bits 3-6 of an entry's first byte). */
enum {
	LOC_SHORT_LAST = 9,  /* 0-9: short form, column = code * 8 + (next byte >> 4) */
	LOC_ONE_LINE0 = 10,  /* 10-12: line delta 0-2, column and end column one byte each */
	LOC_ONE_LINE2 = 12,
	LOC_NO_COLUMNS = 13, /* signed varint line delta, no columns */
	LOC_LONG = 14,       /* signed varint line delta, varint end-line delta, col+1, endcol+1 */
	LOC_NONE = 15        /* no location at all */
};

/* Fill *OUT with "unknown" everywhere. */
static void loc_unknown(struct tc_location *out)
{
	out->line = -1;
	out->end_line = -1;
	out->column = -1;
	out->end_column = -1;
}

/* Line of byte offset ADDR in a 3.9 co_lnotab. Walks pairs until their cumulated address
 * passes ADDR; an odd trailing byte is ignored (3.9 counts len / 2 pairs). ADDR < 0 stops
 * at the first pair, so it reports co_firstlineno, as 3.9 does. */
static void lookup_lnotab(const uint8_t *t, size_t len, int32_t firstlineno, int64_t addr,
			  struct tc_location *out)
{
	int64_t line = firstlineno;
	int64_t at = 0;

	for (size_t i = 0; i + 1 < len; i += 2) {
		at += t[i];
		if (at > addr)
			break;
		line += (int8_t)t[i + 1];
	}
	loc_unknown(out);
	out->line = (int32_t)line;
}

/* Line of byte offset ADDR in a 3.10 co_linetable. Each pair closes the range
 * [previous end, previous end + address delta); empty ranges only move the line. 3.10:
 * ADDR < 0 reports co_firstlineno, an address past the last range reports no line (-1). */
static void lookup_linetable(const uint8_t *t, size_t len, int32_t firstlineno, int64_t addr,
			     struct tc_location *out)
{
	int64_t computed = firstlineno;
	int64_t end = 0;

	loc_unknown(out);
	if (addr < 0) {
		out->line = firstlineno;
		return;
	}
	for (size_t i = 0; i + 1 < len; i += 2) {
		int8_t delta = (int8_t)t[i + 1];
		bool noline = delta == -128;

		if (!noline)
			computed += delta;
		end += t[i];
		/* addr >= start of this range here, so an empty range never matches. */
		if (addr < end) {
			out->line = noline ? -1 : (int32_t)computed;
			return;
		}
	}
}

/* Read one 6-bit-chunk varint (low chunk first, 0x40 = more follows) at T[*POS], advancing
 * *POS. Chunks beyond 32 bits are consumed but dropped. Returns false when the table ends
 * inside the varint. */
static bool read_varint(const uint8_t *t, size_t len, size_t *pos, uint32_t *val)
{
	uint32_t v = 0;
	unsigned shift = 0;
	uint8_t b;

	do {
		if (*pos >= len)
			return false;
		b = t[(*pos)++];
		if (shift < 32) {
			v |= (uint32_t)(b & 63) << shift;
			shift += 6;
		}
	} while (b & 64);
	*val = v;
	return true;
}

/* Signed varint: the unsigned value's low bit is the sign, the rest the magnitude. */
static bool read_svarint(const uint8_t *t, size_t len, size_t *pos, int64_t *val)
{
	uint32_t u;

	if (!read_varint(t, len, pos, &u))
		return false;
	*val = (u & 1) ? -(int64_t)(u >> 1) : (int64_t)(u >> 1);
	return true;
}

/* Line delta the entry at T[POS] (ending at LEN) applies to the running line number.
 * A truncated varint contributes nothing. */
static int64_t entry_line_delta(const uint8_t *t, size_t len, size_t pos)
{
	unsigned code = (t[pos] >> 3) & 15;
	int64_t d = 0;

	if (code == LOC_NO_COLUMNS || code == LOC_LONG) {
		pos++;
		if (!read_svarint(t, len, &pos, &d))
			d = 0;
		return d;
	}
	if (code >= LOC_ONE_LINE0 && code <= LOC_ONE_LINE2)
		return code - LOC_ONE_LINE0;
	return 0;
}

/* Decode the full position of the entry at T[POS] (ending at LEN), given the line number
 * before it. Fields a truncated entry does not hold stay -1. */
static void decode_entry(const uint8_t *t, size_t len, size_t pos, int64_t computed,
			 struct tc_location *out)
{
	unsigned code = (t[pos] >> 3) & 15;
	int64_t d;
	uint32_t u;

	loc_unknown(out);
	pos++;
	if (code == LOC_NONE)
		return;
	if (code == LOC_LONG || code == LOC_NO_COLUMNS) {
		if (!read_svarint(t, len, &pos, &d))
			return;
		out->line = (int32_t)(computed + d);
		if (code == LOC_NO_COLUMNS) {
			out->end_line = out->line;
			return;
		}
		if (!read_varint(t, len, &pos, &u))
			return;
		out->end_line = (int32_t)((int64_t)out->line + u);
		/* Columns are stored + 1 so that 0 can mean "unknown" (-1). */
		if (!read_varint(t, len, &pos, &u))
			return;
		out->column = (int32_t)(u - 1);
		if (!read_varint(t, len, &pos, &u))
			return;
		out->end_column = (int32_t)(u - 1);
		return;
	}
	if (code >= LOC_ONE_LINE0) {
		out->line = out->end_line = (int32_t)(computed + (code - LOC_ONE_LINE0));
		if (pos < len)
			out->column = t[pos++];
		if (pos < len)
			out->end_column = t[pos];
		return;
	}
	/* Short forms 0-9: same line, column < 80, width < 16. */
	out->line = out->end_line = (int32_t)computed;
	if (pos < len) {
		out->column = (int32_t)(code << 3 | ((t[pos] >> 4) & 7));
		out->end_column = out->column + (t[pos] & 15);
	}
}

/* Position of byte offset ADDR in a 3.11+ location table. Entries are walked from the
 * start, each covering ((first byte & 7) + 1) code units and moving the running line. An
 * entry ends where the next one starts, at the next byte with bit 7 set: CPython never
 * writes such a byte inside an entry (varint chunks and one-line columns are < 128), and
 * bounding every field by it keeps a corrupt table linear (CPython's own varint scan would
 * run on into later entries). 3.11: PyCode_Addr2Location reports co_firstlineno with
 * columns 0 for ADDR < 0; past the last entry everything is unknown (CPython asserts). */
static void lookup_locations(const uint8_t *t, size_t len, int32_t firstlineno, int64_t addr,
			     struct tc_location *out)
{
	int64_t computed = firstlineno;
	int64_t end = 0;
	size_t pos = 0;

	if (addr < 0) {
		out->line = out->end_line = firstlineno;
		out->column = out->end_column = 0;
		return;
	}
	while (pos < len) {
		size_t next = pos + 1;

		while (next < len && !(t[next] & 128))
			next++;
		end += (int64_t)((t[pos] & 7) + 1) * 2;
		if (addr < end) {
			decode_entry(t, next, pos, computed, out);
			return;
		}
		computed += entry_line_delta(t, next, pos);
		pos = next;
	}
	loc_unknown(out);
}

/* See linetable.h. */
int tc_linetable_lookup(enum tc_linetable_format fmt, const uint8_t *table, size_t len,
			int32_t firstlineno, int64_t addr, struct tc_location *out)
{
	if (!out || (!table && len))
		return -TC_EINVAL;
	switch (fmt) {
	case TC_LT_LNOTAB:
		lookup_lnotab(table, len, firstlineno, addr, out);
		return 0;
	case TC_LT_LINETABLE:
		lookup_linetable(table, len, firstlineno, addr, out);
		return 0;
	case TC_LT_LOCATIONS:
		lookup_locations(table, len, firstlineno, addr, out);
		return 0;
	}
	return -TC_EINVAL;
}
