/* SPDX-License-Identifier: MIT */
/* CPython version numbers: PY_VERSION_HEX and the text forms found in binaries. */
#ifndef TC_VERSION_H
#define TC_VERSION_H

#include <stddef.h>
#include <stdint.h>

#define TC_PY_HEX(maj, min, mic) (((uint32_t)(maj) << 24) | ((uint32_t)(min) << 16) | ((uint32_t)(mic) << 8))
#define TC_HEX_MAJOR(h) (((h) >> 24) & 0xff)
#define TC_HEX_MINOR(h) (((h) >> 16) & 0xff)
#define TC_HEX_MICRO(h) (((h) >> 8) & 0xff)

/* Oldest and newest minor versions this build reads. */
#define TC_PY_MIN_HEX TC_PY_HEX(3, 9, 0)
#define TC_PY_MAX_HEX TC_PY_HEX(3, 15, 255)
#define TC_PY_RANGE "3.9 to 3.15"

/* Format HEX as "3.12.1" (or "3.13.0rc2", "3.15.0a1" for pre-releases) into OUT.
 * Returns OUT. LEN >= 16 always suffices. */
char *tc_version_format(uint32_t hex, char *out, size_t len);

/* Parse "3.12.1", "3.13.0rc2", "3.9.2+" into a PY_VERSION_HEX (release level final when
 * absent). Returns 0 or -TC_EINVAL. */
int tc_version_parse(const char *s, uint32_t *hex);

#endif
