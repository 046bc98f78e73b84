/* SPDX-License-Identifier: MIT */
/* Fuzz layouts/unicode.c: str headers of every version's layout and the UTF-8 encoder.
 * Input: version selector (1 byte), output capacity (2), then the object's bytes (header and
 * character data), copied into a buffer of exactly their length. Properties: a header that
 * decodes names data inside what a caller would read (offset > 0, kind 1/2/4, length within
 * TC_STR_MAX); the encoder writes valid, NUL-terminated UTF-8 within the capacity, and
 * 4 * TC_STR_MAX + 1 bytes always suffice. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "layouts/debug_offsets.h"
#include "layouts/layout.h"
#include "layouts/unicode.h"
#include "layouts/version.h"

/* The project's UTF-8 must be well-formed: no surrogates, nothing above U+10FFFF, shortest
 * form. Returns true when S (N bytes) is. */
static bool valid_utf8(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		size_t more;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			more = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			more = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			more = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + more >= n)
			return false;
		for (size_t k = 1; k <= more; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((more == 1 && cp < 0x80) || (more == 2 && cp < 0x800) ||
		    (more == 3 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += more + 1;
	}
	return true;
}

static struct tc_layout layouts[7];
static bool have[7];

static void init(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	/* 3.9-3.12 from the tables; 3.13+ str layouts are those of 3.12 for the fields used
	 * here (state, length, data offsets), which the tables give. */
	for (unsigned i = 0; i < 4; i++)
		have[i] = tc_layout_from_table(TC_PY_HEX(3, 9 + i, 0) | 0xf0, false,
					       &layouts[i]) == 0;
	for (unsigned i = 4; i < 7; i++) {
		layouts[i] = layouts[3];
		have[i] = have[3];
	}
	/* a free-threaded 3.14-like variant: kind bits from bit 8, header 16 bytes longer */
	layouts[6].unicode.kind_shift = 8;
	layouts[6].unicode.compact_bit = 11;
	layouts[6].unicode.ascii_bit = 12;
	layouts[6].unicode.length += 16;
	layouts[6].unicode.state += 16;
	layouts[6].unicode.ascii_data += 16;
	layouts[6].unicode.compact_data += 16;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = {data, size};
	unsigned v = fz_u8(&in) % 7;
	size_t cap = fz_u16(&in) % (4 * TC_STR_MAX + 2);
	size_t len = in.n;
	uint8_t *obj = malloc(len ? len : 1);
	char *out = malloc(cap ? cap : 1);
	static char big[4 * TC_STR_MAX + 1];
	uint32_t off;
	unsigned kind;
	size_t n;

	init();
	if (!obj || !out || !have[v])
		goto done;
	memcpy(obj, in.p, len);
	if (tc_unicode_header(&layouts[v], obj, len, &off, &kind, &n) == 0) {
		FZ_REQUIRE(off > 0 && (kind == 1 || kind == 2 || kind == 4) && n <= TC_STR_MAX);
		/* the walker reads what the header says from the target; here from the input,
		 * as far as it goes */
		size_t avail = off < len ? (len - off) / kind : 0;
		if (n > avail)
			n = avail;
		const uint8_t *chars = n ? obj + off : obj;
		int w = tc_unicode_to_utf8(chars, kind, n, big, sizeof big);
		FZ_REQUIRE(w >= 0 && (size_t)w < sizeof big && big[w] == '\0');
		FZ_REQUIRE(strlen(big) <= (size_t)w && valid_utf8((const uint8_t *)big, (size_t)w));
		int w2 = tc_unicode_to_utf8(chars, kind, n, out, cap);
		FZ_REQUIRE(w2 == -TC_ERANGE || w2 == w);
		if (cap) {
			size_t got = strnlen(out, cap);
			FZ_REQUIRE(got < cap && valid_utf8((const uint8_t *)out, got));
		}
	}
	/* the encoder alone over raw data, every kind */
	for (unsigned k = 1; k <= 4; k++) {
		size_t cps = len / k;
		int w = tc_unicode_to_utf8(obj, k, cps, big, sizeof big);
		if (k == 3) {
			FZ_REQUIRE(w == -TC_EINVAL);
			continue;
		}
		FZ_REQUIRE(w >= 0 && valid_utf8((const uint8_t *)big, (size_t)w));
	}
done:
	free(obj);
	free(out);
	return 0;
}
