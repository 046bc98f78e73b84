/* SPDX-License-Identifier: MIT */
/* CPython version numbers: PY_VERSION_HEX <-> "3.12.1" / "3.13.0rc2".
 *
 * PY_VERSION_HEX packs major << 24 | minor << 16 | micro << 8 | level << 4 | serial, level
 * 0xA alpha, 0xB beta, 0xC release candidate, 0xF final. The text form is PY_VERSION, the
 * string sys.version starts with and that binaries carry: "3.12.1", "3.13.0rc2",
 * "3.15.0a1", and "3.9.2+" for a build from a branch after the 3.9.2 tag. */
#include <stdio.h>

#include "tc/common.h"
#include "layouts/version.h"

enum {
	LEVEL_ALPHA = 0xa,
	LEVEL_BETA = 0xb,
	LEVEL_RC = 0xc,
	LEVEL_FINAL = 0xf
};

/* See version.h. A release level other than alpha, beta or rc prints as a final release. */
char *tc_version_format(uint32_t hex, char *out, size_t len)
{
	unsigned level = (hex >> 4) & 0xf, serial = hex & 0xf;
	const char *tag = level == LEVEL_ALPHA ? "a" : level == LEVEL_BETA ? "b" :
			  level == LEVEL_RC ? "rc" : NULL;

	if (!out || len == 0)
		return out;
	if (tag)
		snprintf(out, len, "%u.%u.%u%s%u", TC_HEX_MAJOR(hex), TC_HEX_MINOR(hex),
			 TC_HEX_MICRO(hex), tag, serial);
	else
		snprintf(out, len, "%u.%u.%u", TC_HEX_MAJOR(hex), TC_HEX_MINOR(hex),
			 TC_HEX_MICRO(hex));
	return out;
}

/* Parse a decimal number no larger than MAX at *S, advancing *S. Digits only (no sign, no
 * space); returns 0 or -TC_EINVAL. */
static int parse_num(const char **s, unsigned max, unsigned *val)
{
	const char *p = *s;
	unsigned v = 0;

	if (*p < '0' || *p > '9')
		return -TC_EINVAL;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > max)
			return -TC_EINVAL;
		p++;
	}
	*s = p;
	*val = v;
	return 0;
}

/* See version.h. Accepted: MAJOR.MINOR.MICRO, then optionally a, b or rc and a serial, then
 * optionally '+', then the end of the string or whitespace (so "3.12.1 (main, ...)", the
 * start of sys.version, parses too). Each number must fit its field of the hex form. */
int tc_version_parse(const char *s, uint32_t *hex)
{
	unsigned major, minor, micro, level = LEVEL_FINAL, serial = 0;

	if (!s || !hex)
		return -TC_EINVAL;
	if (parse_num(&s, 255, &major) || *s++ != '.' || parse_num(&s, 255, &minor) ||
	    *s++ != '.' || parse_num(&s, 255, &micro))
		return -TC_EINVAL;
	if (s[0] == 'a' || s[0] == 'b' || (s[0] == 'r' && s[1] == 'c')) {
		level = s[0] == 'a' ? LEVEL_ALPHA : s[0] == 'b' ? LEVEL_BETA : LEVEL_RC;
		s += level == LEVEL_RC ? 2 : 1;
		if (parse_num(&s, 15, &serial))
			return -TC_EINVAL;
	}
	if (*s == '+')
		s++;
	if (*s != '\0' && *s != ' ' && *s != '\t' && *s != '\n')
		return -TC_EINVAL;
	*hex = (uint32_t)major << 24 | (uint32_t)minor << 16 | (uint32_t)micro << 8 |
	       (uint32_t)level << 4 | serial;
	return 0;
}
