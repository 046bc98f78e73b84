/* SPDX-License-Identifier: MIT */
/* Python str objects (PEP 393 compact representation) decoded to UTF-8. */
#ifndef TC_UNICODE_H
#define TC_UNICODE_H

#include <stddef.h>
#include <stdint.h>

#include "layouts/layout.h"

/* Longest string (in code points) the project decodes; longer ones are truncated. */
#define TC_STR_MAX 1024

/* Where the character data of a str object lives, given its header. HDR holds at least
 * L->unicode.compact_data bytes copied from the object. On success sets *DATA_OFF (offset
 * of the character data from the object's start), *KIND (1, 2 or 4 bytes per code point)
 * and *LENGTH (code points, already clamped to TC_STR_MAX). Returns 0, or -TC_EINVAL when
 * the header is not a compact str this build can read (non-compact legacy strings, kind
 * not 1/2/4, negative length). */
int tc_unicode_header(const struct tc_layout *l, const uint8_t *hdr, size_t hdrlen,
		      uint32_t *data_off, unsigned *kind, size_t *length);

/* Encode LENGTH code points of KIND bytes each at DATA into UTF-8 at OUT (capacity OUTLEN
 * bytes including the terminating NUL; 4 * TC_STR_MAX + 1 always suffices). Invalid code
 * points (surrogates, > 0x10FFFF) become U+FFFD. Returns the number of bytes written
 * excluding the NUL, or -TC_ERANGE when OUTLEN is too small (OUT then holds a truncated,
 * still valid, NUL-terminated prefix). */
int tc_unicode_to_utf8(const uint8_t *data, unsigned kind, size_t length, char *out,
		       size_t outlen);

#endif
