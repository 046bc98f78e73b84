/* SPDX-License-Identifier: MIT */
/* Fuzz layouts/linetable.c: every format's decoder over arbitrary table bytes.
 * Input: format selector (1 byte), co_firstlineno (4), an instruction offset (8), then the
 * table. The table is copied into a buffer of exactly its length, so a read one byte past it
 * is an AddressSanitizer report (and signed overflow in the line arithmetic a UBSan one).
 * Properties: a known format always answers 0, an unknown one -TC_EINVAL. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "layouts/linetable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = {data, size};
	uint8_t sel = fz_u8(&in);
	int32_t first = (int32_t)fz_u32(&in);
	int64_t addr = (int64_t)fz_u64(&in);
	/* 1..3 are the formats; a few other values check the refusal */
	enum tc_linetable_format fmt = (enum tc_linetable_format)(sel % 5);
	uint8_t *table = malloc(in.n ? in.n : 1);
	size_t len = in.n;
	struct tc_location loc;

	if (!table)
		return 0;
	memcpy(table, in.p, len);
	bool known = fmt >= TC_LT_LNOTAB && fmt <= TC_LT_LOCATIONS;
	int err = tc_linetable_lookup(fmt, table, len, first, addr, &loc);
	FZ_REQUIRE(known ? err == 0 : err == -TC_EINVAL);
	if (known) {
		/* every instruction of a code object as long as the table could describe, plus
		 * the ones before the start: what the walker asks for */
		int64_t step = fmt == TC_LT_LNOTAB ? 1 : 2;
		int64_t end = (int64_t)len * 16 + 8, stride = step * (end / 128 / step + 1);
		for (int64_t a = -4; a < end; a += a < 64 ? step : stride) {
			FZ_REQUIRE(tc_linetable_lookup(fmt, table, len, first, a, &loc) == 0);
		}
		FZ_REQUIRE(tc_linetable_lookup(fmt, table, len, first, INT64_MAX, &loc) == 0);
		FZ_REQUIRE(tc_linetable_lookup(fmt, table, len, first, INT64_MIN, &loc) == 0);
		/* an empty table (NULL data) answers too */
		FZ_REQUIRE(tc_linetable_lookup(fmt, NULL, 0, first, addr, &loc) == 0);
	}
	free(table);
	return 0;
}
