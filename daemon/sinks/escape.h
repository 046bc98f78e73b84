/* SPDX-License-Identifier: MIT */
/* Escaping of strings that come from the target (function, file and qualified names, paths,
 * command lines) before they reach a terminal, a text format or markup. The target is
 * untrusted: a name may hold ESC or BEL sequences that would drive the user's terminal, C1
 * controls (U+0080-U+009F, which some terminals obey as CSI and OSC), or bytes that are not
 * UTF-8. One set of rules, applied by every writer:
 *
 *   "dangerous" = a C0 control (0x00-0x1f), DEL (0x7f), a C1 control (U+0080-U+009F in UTF-8,
 *                 bytes C2 80..C2 9F) or a byte that does not start a valid UTF-8 sequence.
 *
 * Everything else, including all other UTF-8, passes unchanged, so ordinary names print as
 * they are. */
#ifndef TC_SINKS_ESCAPE_H
#define TC_SINKS_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Length of the valid UTF-8 sequence starting at S (1-4), or 0 when S starts an invalid
 * one (a continuation byte, overlong forms, surrogates, past U+10FFFF, truncated). S must
 * be NUL-terminated (a NUL ends a truncated sequence). */
int tc_utf8_len(const unsigned char *s);

/* Text for a terminal or a plain-text report: C0 and DEL as "\xNN" (newline, carriage
 * return and tab as "\n", "\r", "\t"), C1 controls as "\u00NN", an invalid byte as "\xNN".
 * Writes S escaped to OUT. */
void tc_esc_fputs(const char *s, FILE *out);

/* The same into BUF of LEN bytes, always NUL-terminated (truncated at a character boundary
 * when too long). Returns BUF, so it can be an argument of printf. */
char *tc_esc_text(const char *s, char *buf, size_t len);

/* The same into a new string (caller frees); NULL when out of memory. */
char *tc_esc_dup(const char *s);

/* Collapsed stacks: a dangerous byte, ';', newline, carriage return and '%' as "%XX" (the
 * byte in upper-case hex; every byte of a C1 sequence), ':' too when COLON is set. Byte-wise
 * percent-decoding gives S back exactly. */
void tc_esc_collapsed(const char *s, bool colon, FILE *out);

/* The inside of a JSON string literal (RFC 8259): '"' and '\\' escaped, C0, DEL and C1 as
 * "\u00NN" (newline, carriage return and tab as "\n", "\r", "\t"), an invalid byte as
 * "\ufffd" (JSON text must be UTF-8). */
void tc_esc_json(const char *s, FILE *out);

/* Make the text of a JSON document written by cJSON safe for a terminal: cJSON escapes C0
 * controls but passes DEL, C1 controls and invalid UTF-8 through. Outside string literals its
 * output is ASCII, so a byte-level rewrite of those (to "\u007f", "\u00NN", "\ufffd") touches
 * only the inside of strings and keeps the document valid. Returns a new string (caller
 * frees) or NULL when out of memory. */
char *tc_esc_json_text(const char *json);

/* HTML text or a quoted attribute value: '&', '<', '>', '"', '\'' as character references,
 * dangerous characters as in tc_esc_fputs (the result contains no markup and no control). */
void tc_esc_html(const char *s, FILE *out);

#endif
