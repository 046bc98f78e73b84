/* SPDX-License-Identifier: MIT */
/* Python str objects (PEP 393) decoded to UTF-8.
 *
 * Only compact strings are read: every str the interpreter creates for names, qualnames
 * and filenames is compact (its characters follow the header in the same allocation).
 * Compact ASCII strings keep their data right after PyASCIIObject, other compact strings
 * after PyCompactUnicodeObject; the state bit-field says which and how wide a code point is
 * (1 = Latin-1, 2 = UCS-2, 4 = UCS-4). Legacy strings (3.9-3.11: created by the deprecated
 * Py_UNICODE APIs, data behind a pointer) are refused.
 *
 * The header is untrusted: kind, length and bit positions are validated, and the output is
 * always valid, NUL-terminated UTF-8 whatever the code points hold. */
#include <stdbool.h>

#include "layouts/unicode.h"

/* See unicode.h. */
int tc_unicode_header(const struct tc_layout *l, const uint8_t *hdr, size_t hdrlen,
		      uint32_t *data_off, unsigned *kind, size_t *length)
{
	const unsigned kind_shift = l->unicode.kind_shift;
	uint32_t state;
	int64_t len;
	unsigned k;
	bool compact, ascii;
	int32_t off;

	if (l->unicode.state < 0 || l->unicode.length < 0 || kind_shift + 3 > 32 ||
	    l->unicode.compact_bit >= 32 || l->unicode.ascii_bit >= 32)
		return -TC_EINVAL;
	if ((size_t)l->unicode.state + sizeof(uint32_t) > hdrlen ||
	    (size_t)l->unicode.length + sizeof(int64_t) > hdrlen)
		return -TC_EINVAL;

	state = tc_get_u32(hdr, (size_t)l->unicode.state);
	len = (int64_t)tc_get_u64(hdr, (size_t)l->unicode.length);
	k = (state >> kind_shift) & 7;
	compact = (state >> l->unicode.compact_bit) & 1;
	ascii = (state >> l->unicode.ascii_bit) & 1;

	/* 3.9-3.11: a legacy string (compact 0) holds its characters behind data.any (or
	 * wstr when not ready); not worth following for names. */
	if (!compact)
		return -TC_EINVAL;
	if (k != 1 && k != 2 && k != 4)
		return -TC_EINVAL;
	/* An ASCII string is always 1 byte per code point; anything else is garbage. */
	if (ascii && k != 1)
		return -TC_EINVAL;
	if (len < 0)
		return -TC_EINVAL;
	off = ascii ? l->unicode.ascii_data : l->unicode.compact_data;
	if (off <= 0)
		return -TC_EINVAL;

	*data_off = (uint32_t)off;
	*kind = k;
	*length = len > TC_STR_MAX ? TC_STR_MAX : (size_t)len;
	return 0;
}

/* Code point I of DATA (KIND bytes each, in the target's byte order, which is the host's). */
static uint32_t code_point(const uint8_t *data, unsigned kind, size_t i)
{
	switch (kind) {
	case 1:
		return data[i];
	case 2:
		return tc_get_u16(data, i * 2);
	default:
		return tc_get_u32(data, i * 4);
	}
}

/* UTF-8 form of CP into BUF (4 bytes). Surrogates and values past U+10FFFF become
 * U+FFFD, so the output is valid UTF-8 even for lone surrogates (legal in a Python str).
 * Returns the byte count. */
static unsigned encode(uint32_t cp, uint8_t *buf)
{
	if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		cp = 0xfffd;
	if (cp < 0x80) {
		buf[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		buf[0] = (uint8_t)(0xc0 | cp >> 6);
		buf[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		buf[0] = (uint8_t)(0xe0 | cp >> 12);
		buf[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		buf[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	buf[0] = (uint8_t)(0xf0 | cp >> 18);
	buf[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
	buf[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	buf[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/* See unicode.h. LENGTH is clamped to TC_STR_MAX like tc_unicode_header's, which keeps the
 * documented output bound; an unknown KIND yields "" and -TC_EINVAL. */
int tc_unicode_to_utf8(const uint8_t *data, unsigned kind, size_t length, char *out,
		       size_t outlen)
{
	size_t n = 0;
	uint8_t buf[4];

	if (outlen == 0 || !out)
		return -TC_ERANGE;
	out[0] = '\0';
	if (kind != 1 && kind != 2 && kind != 4)
		return -TC_EINVAL;
	if (length > TC_STR_MAX)
		length = TC_STR_MAX;
	for (size_t i = 0; i < length; i++) {
		unsigned w = encode(code_point(data, kind, i), buf);

		/* Keep room for the NUL; never cut a sequence in two. */
		if (n + w >= outlen) {
			out[n] = '\0';
			return -TC_ERANGE;
		}
		for (unsigned j = 0; j < w; j++)
			out[n++] = (char)buf[j];
	}
	out[n] = '\0';
	return (int)n;
}
