/* SPDX-License-Identifier: MIT */
/* Escaping of target strings for terminals, text formats, JSON and HTML (rules in escape.h).
 *
 * Every writer walks the string one character at a time with next_char(), which tells a
 * character that passes (a printable ASCII byte or a valid, non-control UTF-8 sequence) from
 * a dangerous one; the writers differ only in how they spell the dangerous ones. */
#include "daemon/sinks/escape.h"

#include <stdlib.h>
#include <string.h>

int tc_utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	int n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	/* The second byte's range is what rules out overlongs, surrogates and > U+10FFFF. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (int i = 2; i < n; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	}
	return n;
}

enum kind {
	K_PLAIN,   /* passes unchanged */
	K_C0,      /* C0 control or DEL: one byte, value in *CP */
	K_C1,      /* C1 control: two bytes (C2 xx), code point in *CP */
	K_INVALID  /* one byte that is not UTF-8, value in *CP */
};

/* Classify the character at S (not NUL): its kind, its byte count in *N and, unless plain,
 * its value in *CP. */
static enum kind next_char(const unsigned char *s, size_t *n, unsigned *cp)
{
	int len = tc_utf8_len(s);

	*n = len ? (size_t)len : 1;
	*cp = s[0];
	if (len == 0)
		return K_INVALID;
	if (len == 1)
		return s[0] < 0x20 || s[0] == 0x7f ? K_C0 : K_PLAIN;
	if (len == 2 && s[0] == 0xc2 && s[1] <= 0x9f) {
		*cp = s[1];
		return K_C1;
	}
	return K_PLAIN;
}

/* The text spelling of a dangerous character into REP (at least 7 bytes). */
static void text_rep(enum kind k, unsigned cp, char *rep)
{
	static const char hex[] = "0123456789abcdef";

	if (k == K_C0 && (cp == '\n' || cp == '\r' || cp == '\t')) {
		rep[0] = '\\';
		rep[1] = cp == '\n' ? 'n' : cp == '\r' ? 'r' : 't';
		rep[2] = '\0';
		return;
	}
	if (k == K_C1) {
		memcpy(rep, "\\u00", 4);
		rep[4] = hex[cp >> 4];
		rep[5] = hex[cp & 15];
		rep[6] = '\0';
		return;
	}
	rep[0] = '\\';
	rep[1] = 'x';
	rep[2] = hex[cp >> 4];
	rep[3] = hex[cp & 15];
	rep[4] = '\0';
}

/* S to OUT as tc_esc_fputs does; with HTML, the characters HTML gives a meaning (& < > " ')
 * as entities too. */
static void esc_stream(const char *s, bool html, FILE *out)
{
	const unsigned char *c = (const unsigned char *)s;
	char rep[8];

	while (*c) {
		size_t n;
		unsigned cp;
		enum kind k = next_char(c, &n, &cp);

		if (k != K_PLAIN) {
			text_rep(k, cp, rep);
			fputs(rep, out);
		} else {
			switch (html ? *c : 0) {
			case '&':
				fputs("&amp;", out);
				break;
			case '<':
				fputs("&lt;", out);
				break;
			case '>':
				fputs("&gt;", out);
				break;
			case '"':
				fputs("&quot;", out);
				break;
			case '\'':
				fputs("&#39;", out);
				break;
			default:
				fwrite(c, 1, n, out);
			}
		}
		c += n;
	}
}

void tc_esc_fputs(const char *s, FILE *out)
{
	esc_stream(s, false, out);
}

char *tc_esc_text(const char *s, char *buf, size_t len)
{
	const unsigned char *c = (const unsigned char *)s;
	size_t o = 0;
	char rep[8];

	if (!len)
		return buf;
	while (*c) {
		size_t n, rn;
		unsigned cp;
		enum kind k = next_char(c, &n, &cp);
		const char *r = (const char *)c;

		if (k != K_PLAIN) {
			text_rep(k, cp, rep);
			r = rep;
			rn = strlen(rep);
		} else {
			rn = n;
		}
		if (o + rn >= len)
			break;
		memcpy(buf + o, r, rn);
		o += rn;
		c += n;
	}
	buf[o] = '\0';
	return buf;
}

char *tc_esc_dup(const char *s)
{
	/* at most 6 output bytes per input byte ("\u00NN" for a two-byte C1) */
	size_t len = strlen(s) * 6 + 1;
	char *buf = malloc(len);

	return buf ? tc_esc_text(s, buf, len) : NULL;
}

void tc_esc_collapsed(const char *s, bool colon, FILE *out)
{
	const unsigned char *c = (const unsigned char *)s;

	while (*c) {
		size_t n;
		unsigned cp;
		enum kind k = next_char(c, &n, &cp);

		if (k != K_PLAIN) {
			for (size_t i = 0; i < n; i++)
				fprintf(out, "%%%02X", c[i]);
		} else if (*c == ';' || *c == '%' || (colon && *c == ':')) {
			fprintf(out, "%%%02X", *c);
		} else {
			fwrite(c, 1, n, out);
		}
		c += n;
	}
}

void tc_esc_json(const char *s, FILE *out)
{
	const unsigned char *c = (const unsigned char *)s;

	while (*c) {
		size_t n;
		unsigned cp;
		enum kind k = next_char(c, &n, &cp);

		switch (k) {
		case K_INVALID:
			fputs("\\ufffd", out);
			break;
		case K_C0:
			if (cp == '\n')
				fputs("\\n", out);
			else if (cp == '\r')
				fputs("\\r", out);
			else if (cp == '\t')
				fputs("\\t", out);
			else
				fprintf(out, "\\u%04x", cp);
			break;
		case K_C1:
			fprintf(out, "\\u%04x", cp);
			break;
		default:
			if (*c == '"' || *c == '\\')
				putc('\\', out);
			fwrite(c, 1, n, out);
		}
		c += n;
	}
}

char *tc_esc_json_text(const char *json)
{
	const unsigned char *c = (const unsigned char *)json;
	/* at most 6 output bytes per input byte */
	char *buf = malloc(strlen(json) * 6 + 1), *o = buf;

	if (!buf)
		return NULL;
	while (*c) {
		size_t n;
		unsigned cp;
		enum kind k = next_char(c, &n, &cp);

		if (k == K_INVALID) {
			memcpy(o, "\\ufffd", 6);
			o += 6;
		} else if (k == K_C1 || (k == K_C0 && cp == 0x7f)) {
			o += sprintf(o, "\\u%04x", cp);
		} else {
			/* C0 bytes other than DEL are cJSON's own layout (cJSON escapes them
			 * inside strings) */
			memcpy(o, c, n);
			o += n;
		}
		c += n;
	}
	*o = '\0';
	return buf;
}

void tc_esc_html(const char *s, FILE *out)
{
	esc_stream(s, true, out);
}
