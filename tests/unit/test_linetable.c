/* SPDX-License-Identifier: MIT */
/* Unit tests for layouts/linetable.c.
 *
 * The main check replays tests/unit/fixtures/linetable_3.N.txt: real co_lnotab /
 * co_linetable bytes from every provisioned interpreter with that interpreter's own answer
 * for every code unit (see gen_linetable_fixtures.py for where each answer comes from).
 * Hand-built tables pin each encoding form; random and truncated tables check that nothing
 * reads out of bounds or loops (run under valgrind:
 * CK_FORK=no valgrind --error-exitcode=1 build/tests/unit/test_linetable). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layouts/linetable.h"
#include "skip.h"

#ifndef TC_SOURCE_ROOT
#define TC_SOURCE_ROOT "."
#endif

struct fx_row {
	int64_t addr;
	struct tc_location loc;
};

struct fx_code {
	char name[512];
	int32_t firstlineno;
	size_t nbytes;
	uint8_t *table; /* exactly tlen bytes, so valgrind sees any overread */
	size_t tlen;
	struct fx_row *rows;
	size_t nrows;
};

struct fixture {
	char version[32];
	int fmt;
	struct fx_code *codes;
	size_t ncodes;
	size_t nrows;
};

static const char *const versions[] = {"3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15"};

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Load fixture linetable_MINOR.txt; aborts the test on any malformed line. */
static void fixture_load(const char *minor, struct fixture *fx)
{
	char path[1024];
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	struct fx_code *cur = NULL;
	size_t rowcap = 0, lineno = 0;
	FILE *f;

	memset(fx, 0, sizeof *fx);
	snprintf(path, sizeof path, "%s/tests/unit/fixtures/linetable_%s.txt", TC_SOURCE_ROOT, minor);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		if (!strncmp(line, "version ", 8)) {
			snprintf(fx->version, sizeof fx->version, "%s", line + 8);
		} else if (!strncmp(line, "format ", 7)) {
			fx->fmt = atoi(line + 7);
		} else if (!strncmp(line, "code ", 5)) {
			long long first;
			unsigned long long nbytes;

			ck_assert_msg(cur == NULL, "%s:%zu: code inside code", path, lineno);
			fx->codes = realloc(fx->codes, (fx->ncodes + 1) * sizeof *fx->codes);
			ck_assert(fx->codes != NULL);
			cur = &fx->codes[fx->ncodes++];
			memset(cur, 0, sizeof *cur);
			rowcap = 0;
			ck_assert_msg(sscanf(line + 5, "%511s %lld %llu", cur->name, &first, &nbytes) == 3,
				      "%s:%zu: bad code line", path, lineno);
			cur->firstlineno = (int32_t)first;
			cur->nbytes = (size_t)nbytes;
		} else if (!strncmp(line, "table", 5)) {
			const char *h = line + 5;

			ck_assert(cur != NULL);
			while (*h == ' ')
				h++;
			cur->tlen = strlen(h) / 2;
			cur->table = malloc(cur->tlen ? cur->tlen : 1);
			ck_assert(cur->table != NULL);
			for (size_t i = 0; i < cur->tlen; i++) {
				int hi = hexval(h[2 * i]), lo = hexval(h[2 * i + 1]);

				ck_assert_msg(hi >= 0 && lo >= 0, "%s:%zu: bad hex", path, lineno);
				cur->table[i] = (uint8_t)(hi << 4 | lo);
			}
		} else if (!strcmp(line, "end")) {
			ck_assert(cur != NULL);
			cur = NULL;
		} else {
			long long a, l, el, c, ec;
			struct fx_row *r;

			ck_assert_msg(cur != NULL, "%s:%zu: row outside code", path, lineno);
			ck_assert_msg(sscanf(line, "%lld %lld %lld %lld %lld", &a, &l, &el, &c, &ec) == 5,
				      "%s:%zu: bad row '%s'", path, lineno, line);
			if (cur->nrows == rowcap) {
				rowcap = rowcap ? 2 * rowcap : 64;
				cur->rows = realloc(cur->rows, rowcap * sizeof *cur->rows);
				ck_assert(cur->rows != NULL);
			}
			r = &cur->rows[cur->nrows++];
			r->addr = a;
			r->loc.line = (int32_t)l;
			r->loc.end_line = (int32_t)el;
			r->loc.column = (int32_t)c;
			r->loc.end_column = (int32_t)ec;
			fx->nrows++;
		}
	}
	free(line);
	fclose(f);
	ck_assert_msg(cur == NULL, "%s: missing final 'end'", path);
	ck_assert_msg(fx->fmt >= TC_LT_LNOTAB && fx->fmt <= TC_LT_LOCATIONS, "%s: bad format", path);
}

static void fixture_free(struct fixture *fx)
{
	for (size_t i = 0; i < fx->ncodes; i++) {
		free(fx->codes[i].table);
		free(fx->codes[i].rows);
	}
	free(fx->codes);
}

static int loc_eq(const struct tc_location *a, const struct tc_location *b)
{
	return a->line == b->line && a->end_line == b->end_line && a->column == b->column &&
	       a->end_column == b->end_column;
}

/* Every offset of every code object of one fixture gives the interpreter's answer; the
 * fixture is also required to cover the hard cases, so a weaker one cannot pass. */
START_TEST(test_fixture)
{
	struct fixture fx;
	size_t bad = 0, noline = 0, wide = 0, multiline = 0, neg = 0, lines_back = 0;

	fixture_load(versions[_i], &fx);
	ck_assert_msg(!strncmp(fx.version, versions[_i], strlen(versions[_i])) &&
		      fx.version[strlen(versions[_i])] == '.',
		      "fixture %s made by %s", versions[_i], fx.version);
	ck_assert_uint_ge(fx.ncodes, 25);
	ck_assert_uint_ge(fx.nrows, 2000);
	for (size_t i = 0; i < fx.ncodes; i++) {
		const struct fx_code *c = &fx.codes[i];
		int32_t prev = -1;

		ck_assert_uint_ge(c->nrows, c->nbytes / 2);
		for (size_t j = 0; j < c->nrows; j++) {
			const struct fx_row *r = &c->rows[j];
			struct tc_location got;

			memset(&got, 0x55, sizeof got);
			if (tc_linetable_lookup(fx.fmt, c->table, c->tlen, c->firstlineno, r->addr,
						&got) != 0)
				ck_abort_msg("%s %s @%lld: lookup failed", fx.version, c->name,
					     (long long)r->addr);
			if (!loc_eq(&got, &r->loc) && bad++ < 10)
				fprintf(stderr, "%s %s @%lld: got %d %d %d %d, want %d %d %d %d\n",
					fx.version, c->name, (long long)r->addr, got.line, got.end_line,
					got.column, got.end_column, r->loc.line, r->loc.end_line,
					r->loc.column, r->loc.end_column);
			if (r->addr < 0) {
				neg++;
				continue;
			}
			noline += r->loc.line == -1;
			wide += r->loc.end_column > 4096;
			multiline += r->loc.end_line > r->loc.line;
			lines_back += r->loc.line != -1 && prev != -1 && r->loc.line < prev - 127;
			if (r->loc.line != -1)
				prev = r->loc.line;
		}
	}
	ck_assert_msg(bad == 0, "%s: %zu offsets differ from the interpreter", fx.version, bad);
	ck_assert_uint_ge(neg, 2 * fx.ncodes);
	ck_assert_uint_ge(lines_back, 1);
	if (fx.fmt >= TC_LT_LINETABLE)
		ck_assert_uint_ge(noline, 5);
	if (fx.fmt == TC_LT_LOCATIONS) {
		ck_assert_uint_ge(wide, 1);
		ck_assert_uint_ge(multiline, 50);
	}
	fixture_free(&fx);
}
END_TEST

/* Entry boundaries of a table: offsets where a prefix ends with a whole entry. 3.9/3.10:
 * every pair; 3.11+: every byte with bit 7 set (and the end). */
static int is_boundary(int fmt, const uint8_t *t, size_t len, size_t p)
{
	if (p == len)
		return 1;
	if (fmt == TC_LT_LOCATIONS)
		return (t[p] & 128) != 0;
	return p % 2 == 0;
}

/* Address range covered by a whole-entry prefix of P bytes (3.10+). */
static int64_t covered(int fmt, const uint8_t *t, size_t p)
{
	int64_t end = 0;

	for (size_t i = 0; i < p; i++) {
		if (fmt == TC_LT_LINETABLE && i % 2 == 0)
			end += t[i];
		else if (fmt == TC_LT_LOCATIONS && (t[i] & 128))
			end += ((t[i] & 7) + 1) * 2;
	}
	return end;
}

/* Every table of a fixture cut at many lengths, each copy exactly as long as the cut: no
 * read past it (valgrind), and 3.10+ offsets the kept entries cover still decode as in
 * the whole table. */
START_TEST(test_truncated_fixture_tables)
{
	struct fixture fx;
	size_t checked = 0;

	fixture_load(versions[_i], &fx);
	for (size_t i = 0; i < fx.ncodes; i++) {
		const struct fx_code *c = &fx.codes[i];
		size_t step = c->tlen > 48 ? c->tlen / 48 : 1;

		for (size_t p = 0; p < c->tlen; p += (p + step < c->tlen ? step : 1)) {
			uint8_t *cut = malloc(p ? p : 1);
			int whole = is_boundary(fx.fmt, c->table, c->tlen, p);
			int64_t end = fx.fmt == TC_LT_LNOTAB ? 0 : covered(fx.fmt, c->table, p);

			ck_assert(cut != NULL);
			memcpy(cut, c->table, p);
			for (size_t j = 0; j < c->nrows; j += 3) {
				const struct fx_row *r = &c->rows[j];
				struct tc_location got;

				if (tc_linetable_lookup(fx.fmt, p ? cut : NULL, p, c->firstlineno,
							r->addr, &got) != 0)
					ck_abort_msg("%s %s cut %zu: lookup failed", fx.version, c->name, p);
				if (whole && fx.fmt != TC_LT_LNOTAB && r->addr < end) {
					if (!loc_eq(&got, &r->loc))
						ck_abort_msg("%s %s cut %zu @%lld", fx.version, c->name, p,
							     (long long)r->addr);
					checked++;
				}
			}
			free(cut);
			if (p + step >= c->tlen && p + 1 >= c->tlen)
				break;
		}
	}
	if (fx.fmt != TC_LT_LNOTAB)
		ck_assert_uint_ge(checked, 1000);
	fixture_free(&fx);
}
END_TEST

static void expect(enum tc_linetable_format fmt, const uint8_t *t, size_t len, int32_t first,
		   int64_t addr, int32_t line, int32_t end_line, int32_t col, int32_t end_col)
{
	struct tc_location got;

	ck_assert_int_eq(tc_linetable_lookup(fmt, t, len, first, addr, &got), 0);
	ck_assert_msg(got.line == line && got.end_line == end_line && got.column == col &&
		      got.end_column == end_col,
		      "fmt %d @%lld: got %d %d %d %d, want %d %d %d %d", fmt, (long long)addr,
		      got.line, got.end_line, got.column, got.end_column, line, end_line, col,
		      end_col);
}

/* 3.9: a pair applies from its cumulated address on; (255, 0) pairs carry long jumps. */
START_TEST(test_lnotab_forms)
{
	static const uint8_t t[] = {0, 1, 6, 2, 255, 0, 10, (uint8_t)-3, 7};

	expect(TC_LT_LNOTAB, t, sizeof t, 10, -4, 10, -1, -1, -1);
	expect(TC_LT_LNOTAB, t, sizeof t, 10, 0, 11, -1, -1, -1);
	expect(TC_LT_LNOTAB, t, sizeof t, 10, 5, 11, -1, -1, -1);
	expect(TC_LT_LNOTAB, t, sizeof t, 10, 6, 13, -1, -1, -1);
	expect(TC_LT_LNOTAB, t, sizeof t, 10, 270, 13, -1, -1, -1);
	expect(TC_LT_LNOTAB, t, sizeof t, 10, 271, 10, -1, -1, -1);
	expect(TC_LT_LNOTAB, t, sizeof t, 10, 100000, 10, -1, -1, -1);
	/* The odd trailing byte is not a pair. */
	expect(TC_LT_LNOTAB, t, 1, 10, 0, 10, -1, -1, -1);
	expect(TC_LT_LNOTAB, NULL, 0, 42, 0, 42, -1, -1, -1);
}
END_TEST

/* 3.10: pairs close ranges; -128 = no line; empty ranges still move the line. */
START_TEST(test_linetable_forms)
{
	static const uint8_t t[] = {6, 0, 0, 5, 4, 0x80, 2, (uint8_t)-3, 254, 127, 0, 1};

	expect(TC_LT_LINETABLE, t, sizeof t, 10, -2, 10, -1, -1, -1);
	expect(TC_LT_LINETABLE, t, sizeof t, 10, 0, 10, -1, -1, -1);
	expect(TC_LT_LINETABLE, t, sizeof t, 10, 4, 10, -1, -1, -1);
	expect(TC_LT_LINETABLE, t, sizeof t, 10, 6, -1, -1, -1, -1);
	expect(TC_LT_LINETABLE, t, sizeof t, 10, 8, -1, -1, -1, -1);
	expect(TC_LT_LINETABLE, t, sizeof t, 10, 10, 12, -1, -1, -1);
	expect(TC_LT_LINETABLE, t, sizeof t, 10, 12, 139, -1, -1, -1);
	expect(TC_LT_LINETABLE, t, sizeof t, 10, 265, 139, -1, -1, -1);
	/* Past the last range: no line. */
	expect(TC_LT_LINETABLE, t, sizeof t, 10, 266, -1, -1, -1, -1);
	expect(TC_LT_LINETABLE, NULL, 0, 10, 0, -1, -1, -1, -1);
}
END_TEST

/* 3.11+: each entry form, multi-chunk varints, both signs of line delta. */
START_TEST(test_locations_forms)
{
	static const uint8_t t[] = {
		0x80 | 2 << 3 | 2, 0x15,             /* short: 3 units, col 17..22 */
		0x80 | 11 << 3 | 0, 100, 120,        /* one-line +1: col 100..120 */
		0x80 | 13 << 3 | 1, 3,               /* no columns, line -1 */
		0x80 | 14 << 3 | 0, 0x50, 0x5c, 0x02, /* long: line +5000 */
		0x02,                                /* end line +2 */
		0x42, 0x02,                          /* col + 1 = 130 */
		0x68, 0x41, 0x01,                    /* end col + 1 = 4200 */
		0x80 | 15 << 3 | 1,                  /* no location, 2 units */
		0x80 | 14 << 3 | 0, 0x01, 0, 0, 0,   /* long: line "-0", columns 0 = unknown */
		0x80 | 10 << 3 | 0, 5, 9,            /* one-line +0 */
	};

	expect(TC_LT_LOCATIONS, t, sizeof t, 10, -2, 10, 10, 0, 0);
	expect(TC_LT_LOCATIONS, t, sizeof t, 10, 0, 10, 10, 17, 22);
	expect(TC_LT_LOCATIONS, t, sizeof t, 10, 4, 10, 10, 17, 22);
	expect(TC_LT_LOCATIONS, t, sizeof t, 10, 5, 10, 10, 17, 22);
	expect(TC_LT_LOCATIONS, t, sizeof t, 10, 6, 11, 11, 100, 120);
	expect(TC_LT_LOCATIONS, t, sizeof t, 10, 8, 10, 10, -1, -1);
	expect(TC_LT_LOCATIONS, t, sizeof t, 10, 10, 10, 10, -1, -1);
	expect(TC_LT_LOCATIONS, t, sizeof t, 10, 12, 5010, 5012, 129, 4199);
	expect(TC_LT_LOCATIONS, t, sizeof t, 10, 14, -1, -1, -1, -1);
	expect(TC_LT_LOCATIONS, t, sizeof t, 10, 16, -1, -1, -1, -1);
	/* Signed varint 1 is "-0": the line stays; columns stored as 0 mean unknown. */
	expect(TC_LT_LOCATIONS, t, sizeof t, 10, 18, 5010, 5010, -1, -1);
	expect(TC_LT_LOCATIONS, t, sizeof t, 10, 20, 5010, 5010, 5, 9);
	expect(TC_LT_LOCATIONS, t, sizeof t, 10, 22, -1, -1, -1, -1);
	expect(TC_LT_LOCATIONS, NULL, 0, 10, 0, -1, -1, -1, -1);
}
END_TEST

/* Truncated varints and entries: known fields stay, the rest is -1, nothing overreads. */
START_TEST(test_locations_truncated)
{
	static const uint8_t full[] = {0x80 | 14 << 3 | 0, 0x50, 0x5c, 0x02, 0x02, 0x42, 0x02, 0x68, 0x41, 0x01};
	static const struct {
		size_t len;
		int32_t line, end_line, col, end_col;
	} cuts[] = {
		{1, -1, -1, -1, -1}, {2, -1, -1, -1, -1}, {3, -1, -1, -1, -1},
		{4, 5010, -1, -1, -1}, {5, 5010, 5012, -1, -1}, {6, 5010, 5012, -1, -1},
		{7, 5010, 5012, 129, -1}, {8, 5010, 5012, 129, -1}, {9, 5010, 5012, 129, -1},
		{10, 5010, 5012, 129, 4199},
	};
	static const uint8_t oneline[] = {0x80 | 12 << 3 | 0, 7, 8};
	static const uint8_t shortf[] = {0x80 | 3 << 3 | 0, 0x21};
	static const uint8_t runon[] = {0x80 | 14 << 3 | 0, 0x50, 0x80 | 3 << 3 | 0, 0x21};

	for (size_t i = 0; i < TC_ARRAY_LEN(cuts); i++) {
		uint8_t *t = malloc(cuts[i].len);

		memcpy(t, full, cuts[i].len);
		expect(TC_LT_LOCATIONS, t, cuts[i].len, 10, 0, cuts[i].line, cuts[i].end_line,
		       cuts[i].col, cuts[i].end_col);
		free(t);
	}
	for (size_t n = 1; n <= sizeof oneline; n++) {
		uint8_t *t = malloc(n);

		memcpy(t, oneline, n);
		expect(TC_LT_LOCATIONS, t, n, 10, 0, 12, 12, n > 1 ? 7 : -1, n > 2 ? 8 : -1);
		free(t);
	}
	/* A varint cut short by the next entry's header: this entry unknown, the next intact. */
	expect(TC_LT_LOCATIONS, runon, sizeof runon, 10, 0, -1, -1, -1, -1);
	expect(TC_LT_LOCATIONS, runon, sizeof runon, 10, 2, 10, 10, 26, 27);
	for (size_t n = 1; n <= sizeof shortf; n++) {
		uint8_t *t = malloc(n);

		memcpy(t, shortf, n);
		expect(TC_LT_LOCATIONS, t, n, 10, 0, 10, 10, n > 1 ? 26 : -1, n > 1 ? 27 : -1);
		free(t);
	}
}
END_TEST

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Random bytes in every format and length, looked up at many offsets, each table copied
 * into an allocation of exactly its size. (Hot loops use ck_abort_msg on failure only:
 * every ck_assert allocates in CK_FORK=no mode, which makes valgrind runs crawl.) */
START_TEST(test_random_tables)
{
	static const int64_t fixed[] = {-1000, -2, -1, 0, 1, 2, 3, 254, 255, 256, 4096, INT64_MAX,
					INT64_MIN};

	for (int iter = 0; iter < 3000; iter++) {
		size_t len = (size_t)(rng() % 80);
		uint8_t *t = malloc(len ? len : 1);
		enum tc_linetable_format fmt = (enum tc_linetable_format)(1 + iter % 3);
		uint64_t bias = rng() % 4;

		for (size_t i = 0; i < len; i++) {
			uint8_t b = (uint8_t)rng();

			/* Bias toward the bytes that matter: headers, continuation bits, -128. */
			if (bias == 1)
				b |= 0x40;
			else if (bias == 2 && fmt == TC_LT_LOCATIONS)
				b = (uint8_t)(0xf0 | (b & 7));
			else if (bias == 3)
				b = (uint8_t)((i % 2) ? 0x80 : (b & 1));
			t[i] = b;
		}
		for (size_t k = 0; k < TC_ARRAY_LEN(fixed); k++) {
			struct tc_location got;

			if (tc_linetable_lookup(fmt, len ? t : NULL, len, (int32_t)rng(), fixed[k],
						&got) != 0)
				ck_abort_msg("iter %d: lookup failed", iter);
		}
		for (int64_t a = 0; a < 40 * 16; a += 2) {
			struct tc_location got;

			if (tc_linetable_lookup(fmt, len ? t : NULL, len, 1, a, &got) != 0)
				ck_abort_msg("iter %d: lookup failed", iter);
		}
		free(t);
	}
}
END_TEST

/* Large degenerate tables end in time: zero-length 3.10 ranges, 3.11 bytes that are all
 * varint continuations, 3.9 all-zero pairs. */
START_TEST(test_degenerate_large)
{
	size_t len = 4u << 20;
	uint8_t *t = malloc(len);
	struct tc_location got;

	ck_assert(t != NULL);
	memset(t, 0, len);
	ck_assert_int_eq(tc_linetable_lookup(TC_LT_LINETABLE, t, len, 1, 0, &got), 0);
	ck_assert_int_eq(got.line, -1);
	ck_assert_int_eq(tc_linetable_lookup(TC_LT_LNOTAB, t, len, 1, 0, &got), 0);
	ck_assert_int_eq(got.line, 1);
	memset(t, 0x40, len);
	ck_assert_int_eq(tc_linetable_lookup(TC_LT_LOCATIONS, t, len, 1, INT64_MAX, &got), 0);
	ck_assert_int_eq(got.line, -1);
	t[0] = 0x80 | 14 << 3;
	ck_assert_int_eq(tc_linetable_lookup(TC_LT_LOCATIONS, t, len, 1, 0, &got), 0);
	ck_assert_int_eq(got.line, -1);
	/* Every byte a long-form header whose varint "continues" (0x40) into the next: each
	 * entry must stop at the next header, or the walk is quadratic. */
	memset(t, 0x80 | 14 << 3, len);
	ck_assert_int_eq(tc_linetable_lookup(TC_LT_LOCATIONS, t, len, 1, INT64_MAX, &got), 0);
	ck_assert_int_eq(got.line, -1);
	ck_assert_int_eq(tc_linetable_lookup(TC_LT_LOCATIONS, t, len, 1, 2 * (int64_t)len - 2, &got), 0);
	ck_assert_int_eq(got.line, -1);
	free(t);
}
END_TEST

START_TEST(test_bad_args)
{
	static const uint8_t t[] = {2, 1};
	struct tc_location got;

	ck_assert_int_eq(tc_linetable_lookup((enum tc_linetable_format)0, t, 2, 1, 0, &got), -TC_EINVAL);
	ck_assert_int_eq(tc_linetable_lookup((enum tc_linetable_format)4, t, 2, 1, 0, &got), -TC_EINVAL);
	ck_assert_int_eq(tc_linetable_lookup(TC_LT_LNOTAB, t, 2, 1, 0, NULL), -TC_EINVAL);
	ck_assert_int_eq(tc_linetable_lookup(TC_LT_LNOTAB, NULL, 2, 1, 0, &got), -TC_EINVAL);
}
END_TEST

static Suite *linetable_suite(void)
{
	Suite *s = suite_create("linetable");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, test_fixture, 0, (int)TC_ARRAY_LEN(versions));
	tcase_add_loop_test(tc, test_truncated_fixture_tables, 0, (int)TC_ARRAY_LEN(versions));
	tcase_add_test(tc, test_lnotab_forms);
	tcase_add_test(tc, test_linetable_forms);
	tcase_add_test(tc, test_locations_forms);
	tcase_add_test(tc, test_locations_truncated);
	tcase_add_test(tc, test_random_tables);
	tcase_add_test(tc, test_degenerate_large);
	tcase_add_test(tc, test_bad_args);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tc_test_run(linetable_suite());
}
