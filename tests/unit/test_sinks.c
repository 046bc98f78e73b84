/* SPDX-License-Identifier: MIT */
/* Unit tests for daemon/sinks/: format selection, collapsed stacks (exact text for the
 * escapes, and a round trip: write, parse back, same multiset of stacks and counts),
 * speedscope (parsed back with cJSON and checked field by field; the file is also left at
 * TC_BUILD_ROOT/tests/unit/speedscope_sample.json for tests/functional/test_viewers.py, which
 * validates it against speedscope's own schema), the summary table, write errors, and the
 * escaping of hostile names (daemon/sinks/escape.h) in every writer. */
#include <check.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/profile.h"
#include "daemon/sinks/escape.h"
#include "daemon/sinks/sinks.h"
#include "tc/common.h"
#include "skip.h"

#define SPEEDSCOPE_SAMPLE TC_BUILD_ROOT "/tests/unit/speedscope_sample.json"

/* ---- helpers ---- */

/* Run SINK-like writer FN over P into a malloc'ed NUL-terminated string (caller frees). */
static char *render(const struct tc_profile *p, int (*fn)(const struct tc_profile *, FILE *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fn(p, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

static int summary30(const struct tc_profile *p, FILE *out)
{
	return tc_sink_summary(p, out, 0);
}

static int summary1(const struct tc_profile *p, FILE *out)
{
	return tc_sink_summary(p, out, 1);
}

/* The non-trivial profile: two threads with deep stacks, unicode names, quotes and
 * backslashes in file names, every character the collapsed format escapes, a byte sequence
 * that is not UTF-8, an unknown line, and a third thread with no native id and no Python
 * frames. */
static struct tc_profile *rich_profile(void)
{
	struct tc_profile_meta meta = { .pid = 4242, .python_version = "3.12.1",
					.command = "python3 \"app.py\" --flag", .rate_hz = 1000,
					.mode = "wall" };
	struct tc_profile *p = tc_profile_new(&meta);
	int32_t main_f, run_f, fib[200], uni, fire, quoted, semi, pct, bad, nolines, sp;
	int32_t stack[220];
	size_t n;

	ck_assert_ptr_nonnull(p);
	main_f = tc_profile_frame(p, "/srv/app/main.py", "<module>", "<module>", 3, 1);
	run_f = tc_profile_frame(p, "/srv/app/main.py", "run", "Runner.run", 20, 18);
	/* Every fourth level is one recursive function (two lines), the others distinct. */
	for (int i = 0; i < 200; i++) {
		char name[32], qual[48];

		snprintf(name, sizeof(name), "level_%d", i);
		snprintf(qual, sizeof(qual), "Deep.level_%d", i);
		if (i % 4 == 0)
			fib[i] = tc_profile_frame(p, "/srv/app/fib.py", "fib", "fib", 5 + i % 8 / 4, 4);
		else
			fib[i] = tc_profile_frame(p, "/srv/app/deep.py", name, qual, 10 + i, 9 + i);
	}
	uni = tc_profile_frame(p, "/srv/app/ünï/模块.py", "函数", "Ünïcödé.函数", 7, 6);
	fire = tc_profile_frame(p, "/srv/app/🔥.py", "hot", "🔥.hot", 1, 1);
	quoted = tc_profile_frame(p, "C:\\Users\\\"me\"\\app.py", "say", "say \"hi\"\\n", 9, 8);
	semi = tc_profile_frame(p, "/odd;dir/x.py", "f", "a;b\nc\r:d\te", 2, 1);
	pct = tc_profile_frame(p, "/100%/x:y.py", "g", "g%3B<locals>.h", 4, 3);
	bad = tc_profile_frame(p, "/bad/\x01" "ctl.py", "b", "bad\xff\xfeutf8\xed\xa0\x80", 11, 10);
	nolines = tc_profile_frame(p, "<frozen importlib._bootstrap>", "_call", "_call", -1, -1);
	sp = tc_profile_frame(p, "/srv/app/with space.py", "f", "name with spaces 12", 30, 29);

	/* Thread 4242: a recursion 150 deep (innermost first: fib..., run, <module>). */
	for (int depth = 50; depth <= 150; depth += 50) {
		n = 0;
		stack[n++] = uni;
		for (int i = 0; i < depth; i++)
			stack[n++] = fib[i];
		stack[n++] = run_f;
		stack[n++] = main_f;
		ck_assert_int_eq(tc_profile_add(p, 4242, 0x7f0000001000ull, stack, n,
						(uint64_t)depth), 0);
	}
	stack[0] = fire;
	stack[1] = run_f;
	stack[2] = main_f;
	ck_assert_int_eq(tc_profile_add(p, 4242, 0x7f0000001000ull, stack, 3, 7), 0);
	ck_assert_int_eq(tc_profile_add(p, 4242, 0x7f0000001000ull, stack, 3, 1), 0);

	/* Thread 4243: the awkward names, under a deep-ish stack. */
	n = 0;
	stack[n++] = quoted;
	stack[n++] = semi;
	stack[n++] = pct;
	stack[n++] = bad;
	stack[n++] = sp;
	stack[n++] = nolines;
	for (int i = 0; i < 30; i++)
		stack[n++] = fib[i];
	stack[n++] = main_f;
	ck_assert_int_eq(tc_profile_add(p, 4243, 0x7f0000002000ull, stack, n, 3), 0);
	ck_assert_int_eq(tc_profile_add(p, 4243, 0x7f0000002000ull, stack + 1, n - 1, 2), 0);
	ck_assert_int_eq(tc_profile_add(p, 4243, 0x7f0000002000ull, NULL, 0, 4), 0);

	/* No native id, never ran Python code. */
	ck_assert_int_eq(tc_profile_add(p, 0, 0xdead0, NULL, 0, 5), 0);

	tc_profile_stats(p)->samples = 420;
	tc_profile_stats(p)->failed = 2;
	tc_profile_stats(p)->duration = 0.5;
	return p;
}

/* ---- formats ---- */

START_TEST(test_format_names)
{
	ck_assert_int_eq(tc_format_from_name("collapsed"), TC_FMT_COLLAPSED);
	ck_assert_int_eq(tc_format_from_name("folded"), TC_FMT_COLLAPSED);
	ck_assert_int_eq(tc_format_from_name("speedscope"), TC_FMT_SPEEDSCOPE);
	ck_assert_int_eq(tc_format_from_name("Speedscope"), TC_FMT_SPEEDSCOPE);
	ck_assert_int_eq(tc_format_from_name("summary"), TC_FMT_SUMMARY);
	ck_assert_int_eq(tc_format_from_name("json"), TC_FMT_NONE);
	ck_assert_int_eq(tc_format_from_name(""), TC_FMT_NONE);
	ck_assert_int_eq(tc_format_from_name("pprof"), TC_FMT_NONE);
	ck_assert_int_eq(tc_format_from_name(NULL), TC_FMT_NONE);

	ck_assert_int_eq(tc_format_from_path("out.txt"), TC_FMT_COLLAPSED);
	ck_assert_int_eq(tc_format_from_path("/tmp/x/out.folded"), TC_FMT_COLLAPSED);
	ck_assert_int_eq(tc_format_from_path("a.b.collapsed"), TC_FMT_COLLAPSED);
	ck_assert_int_eq(tc_format_from_path("profile.json"), TC_FMT_SPEEDSCOPE);
	ck_assert_int_eq(tc_format_from_path("PROFILE.JSON"), TC_FMT_SPEEDSCOPE);
	ck_assert_int_eq(tc_format_from_path("profile"), TC_FMT_NONE);
	ck_assert_int_eq(tc_format_from_path("profile."), TC_FMT_NONE);
	ck_assert_int_eq(tc_format_from_path("dir.json/profile"), TC_FMT_NONE);
	ck_assert_int_eq(tc_format_from_path(".json"), TC_FMT_NONE);
	ck_assert_int_eq(tc_format_from_path("out.pb.gz"), TC_FMT_NONE);
	ck_assert_int_eq(tc_format_from_path("-"), TC_FMT_NONE);
	ck_assert_int_eq(tc_format_from_path("/dev/stdout"), TC_FMT_NONE);
	ck_assert_int_eq(tc_format_from_path(NULL), TC_FMT_NONE);
}
END_TEST

/* ---- collapsed ---- */

START_TEST(test_collapsed_exact)
{
	struct tc_profile *p = tc_profile_new(NULL);
	int32_t a = tc_profile_frame(p, "/a.py", "main", "main", 1, 1);
	int32_t b = tc_profile_frame(p, "/a;b.py", "w", "x:y%z\nw;v", 7, 6);
	int32_t c = tc_profile_frame(p, "C:/w x.py", "c", "C.c d", -1, -1);
	int32_t s1[] = { b, a };
	int32_t s2[] = { c, a };
	int32_t z[] = { a };
	char *text;

	ck_assert_int_eq(tc_profile_add(p, 11, 1, s1, 2, 3), 0);
	ck_assert_int_eq(tc_profile_add(p, 11, 1, NULL, 0, 2), 0);
	ck_assert_int_eq(tc_profile_add(p, 0, 0x7fab, s2, 2, 1), 0);
	ck_assert_int_eq(tc_profile_add(p, 12, 2, z, 1, 0), 0);
	text = render(p, tc_sink_collapsed);
	ck_assert_str_eq(text, "tid:11;/a.py:main:1;/a%3Bb.py:x%3Ay%25z%0Aw%3Bv:7 3\n"
			       "tid:11 2\n"
			       "tid:0x7fab;/a.py:main:1;C:/w x.py:C.c d:? 1\n");
	free(text);
	tc_profile_free(p);

	p = tc_profile_new(NULL);
	text = render(p, tc_sink_collapsed);
	ck_assert_str_eq(text, "");
	free(text);
	tc_profile_free(p);
}
END_TEST

/* Decode the collapsed escapes in place ("%XX"). */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		unsigned v;

		if (*s == '%' && sscanf(s + 1, "%2x", &v) == 1) {
			*w++ = (char)v;
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = 0;
}

struct keyed {
	char *key;
	uint64_t count;
};

static int cmp_keyed(const void *a, const void *b)
{
	return strcmp(((const struct keyed *)a)->key, ((const struct keyed *)b)->key);
}

/* Sort K by key and merge equal keys by adding their counts; returns the new length. */
static size_t canon(struct keyed *k, size_t n)
{
	size_t w = 0;

	qsort(k, n, sizeof(*k), cmp_keyed);
	for (size_t i = 0; i < n; i++) {
		if (w && !strcmp(k[w - 1].key, k[i].key)) {
			k[w - 1].count += k[i].count;
			free(k[i].key);
		} else {
			k[w++] = k[i];
		}
	}
	return w;
}

/* Key of one frame: fields separated by bytes that appear in no name of the test. */
static void put_frame_key(FILE *f, const char *file, const char *qual, long line)
{
	fprintf(f, "\x1c%s\x1d%s\x1d%ld", file, qual, line);
}

START_TEST(test_collapsed_roundtrip)
{
	struct tc_profile *p = rich_profile();
	struct keyed want[64], got[64];
	size_t nwant = 0, ngot = 0;
	char *text = render(p, tc_sink_collapsed), *line, *save = NULL;

	/* Expected: straight from the profile, root first, unescaped. */
	for (size_t i = 0; i < tc_profile_nthreads(p); i++) {
		for (size_t j = 0; j < tc_profile_thread_nstacks(p, i); j++) {
			const int32_t *ids;
			size_t n, len;
			char *key = NULL;
			FILE *f = open_memstream(&key, &len);
			uint64_t native = tc_profile_thread_native_id(p, i);

			if (native)
				fprintf(f, "tid:%" PRIu64, native);
			else
				fprintf(f, "tid:0x%" PRIx64, tc_profile_thread_ident(p, i));
			want[nwant].count = tc_profile_thread_stack(p, i, j, &ids, &n);
			for (size_t k = n; k-- > 0;) {
				const struct tc_pframe *fr = tc_profile_get_frame(p, ids[k]);

				put_frame_key(f, fr->file, fr->qualname, fr->line);
			}
			fclose(f);
			want[nwant++].key = key;
		}
	}

	/* Parsed back: lines, count after the last space, ';' between frames, LINE and
	 * QUALNAME after the last two ':' of a frame. */
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strrchr(line, ' '), *frame, *fsave = NULL, *key = NULL;
		size_t len;
		FILE *f;

		ck_assert_ptr_nonnull(sp);
		*sp = 0;
		ck_assert_msg(ngot < TC_ARRAY_LEN(got), "too many lines");
		got[ngot].count = strtoull(sp + 1, NULL, 10);
		f = open_memstream(&key, &len);
		frame = strtok_r(line, ";", &fsave);
		ck_assert_ptr_nonnull(frame);
		ck_assert_msg(!strncmp(frame, "tid:", 4), "root \"%s\"", frame);
		fputs(frame, f);
		while ((frame = strtok_r(NULL, ";", &fsave))) {
			char *c2 = strrchr(frame, ':'), *c1;
			long ln;

			ck_assert_ptr_nonnull(c2);
			*c2 = 0;
			c1 = strrchr(frame, ':');
			ck_assert_ptr_nonnull(c1);
			*c1 = 0;
			ln = strcmp(c2 + 1, "?") ? strtol(c2 + 1, NULL, 10) : -1;
			unescape(frame);
			unescape(c1 + 1);
			put_frame_key(f, frame, c1 + 1, ln);
		}
		fclose(f);
		got[ngot++].key = key;
	}

	nwant = canon(want, nwant);
	ngot = canon(got, ngot);
	ck_assert_uint_eq(ngot, nwant);
	ck_assert_uint_ge(nwant, 7);
	for (size_t i = 0; i < nwant; i++) {
		ck_assert_str_eq(got[i].key, want[i].key);
		ck_assert_uint_eq(got[i].count, want[i].count);
	}
	for (size_t i = 0; i < nwant; i++)
		free(want[i].key);
	for (size_t i = 0; i < ngot; i++)
		free(got[i].key);
	free(text);
	tc_profile_free(p);
}
END_TEST

/* ---- speedscope ---- */

static const cJSON *get(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	ck_assert_msg(v != NULL, "missing \"%s\"", name);
	return v;
}

START_TEST(test_speedscope_rich)
{
	struct tc_profile *p = rich_profile();
	const cJSON *frames, *profiles, *prof;
	cJSON *doc;
	char *text;
	FILE *f;
	size_t nframes = tc_profile_nframes(p), best = 0, bad = SIZE_MAX;

	/* Leave the file for the schema validator. */
	f = fopen(SPEEDSCOPE_SAMPLE, "w");
	ck_assert_msg(f != NULL, "%s: %s", SPEEDSCOPE_SAMPLE, strerror(errno));
	ck_assert_int_eq(tc_sink_speedscope(p, f), 0);
	ck_assert_int_eq(fclose(f), 0);

	text = render(p, tc_sink_speedscope);
	doc = cJSON_ParseWithOpts(text, NULL, 1);
	ck_assert_msg(doc != NULL, "not JSON near: %.40s", cJSON_GetErrorPtr());
	ck_assert_str_eq(get(doc, "$schema")->valuestring,
			 "https://www.speedscope.app/file-format-schema.json");
	ck_assert_str_eq(get(doc, "exporter")->valuestring, "tachyon-c");
	ck_assert_str_eq(get(doc, "name")->valuestring, "python3 \"app.py\" --flag (pid 4242)");

	frames = get(get(doc, "shared"), "frames");
	ck_assert(cJSON_IsArray(frames));
	ck_assert_int_eq(cJSON_GetArraySize(frames), (int)nframes);
	for (size_t id = 0; id < nframes; id++) {
		const struct tc_pframe *pf = tc_profile_get_frame(p, (int32_t)id);
		const cJSON *fr = cJSON_GetArrayItem(frames, (int)id);
		const cJSON *line = cJSON_GetObjectItemCaseSensitive(fr, "line");

		/* Valid UTF-8 comes back byte for byte, quotes and backslashes included. */
		if (!strncmp(pf->qualname, "bad", 3))
			bad = id;
		else
			ck_assert_str_eq(get(fr, "name")->valuestring, pf->qualname);
		if (strncmp(pf->file, "/bad/", 5))
			ck_assert_str_eq(get(fr, "file")->valuestring, pf->file);
		if (pf->line >= 0)
			ck_assert_int_eq(line->valueint, pf->line);
		else
			ck_assert_ptr_null(line);
	}
	/* Invalid UTF-8 became U+FFFD, one per bad byte; the control byte became \u0001. */
	ck_assert_uint_ne(bad, SIZE_MAX);
	ck_assert_str_eq(get(cJSON_GetArrayItem(frames, (int)bad), "name")->valuestring,
			 "bad\xef\xbf\xbd\xef\xbf\xbdutf8\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	ck_assert_str_eq(get(cJSON_GetArrayItem(frames, (int)bad), "file")->valuestring,
			 "/bad/\x01" "ctl.py");
	ck_assert_ptr_nonnull(strstr(text, "\"/bad/\\u0001ctl.py\""));
	ck_assert_ptr_nonnull(strstr(text, "\"C:\\\\Users\\\\\\\"me\\\"\\\\app.py\""));

	profiles = get(doc, "profiles");
	ck_assert_int_eq(cJSON_GetArraySize(profiles), (int)tc_profile_nthreads(p));
	for (size_t i = 0; i < tc_profile_nthreads(p); i++) {
		const cJSON *samples, *weights;
		char name[96];
		size_t k = 0;

		prof = cJSON_GetArrayItem(profiles, (int)i);
		ck_assert_str_eq(get(prof, "type")->valuestring, "sampled");
		ck_assert_str_eq(get(prof, "unit")->valuestring, "none");
		if (tc_profile_thread_native_id(p, i))
			snprintf(name, sizeof(name), "Thread %" PRIu64 " (ident 0x%" PRIx64 ")",
				 tc_profile_thread_native_id(p, i), tc_profile_thread_ident(p, i));
		else
			snprintf(name, sizeof(name), "Thread ? (ident 0x%" PRIx64 ")",
				 tc_profile_thread_ident(p, i));
		ck_assert_str_eq(get(prof, "name")->valuestring, name);
		ck_assert(get(prof, "startValue")->valuedouble == 0);
		ck_assert(get(prof, "endValue")->valuedouble == (double)tc_profile_thread_total(p, i));
		samples = get(prof, "samples");
		weights = get(prof, "weights");
		ck_assert_int_eq(cJSON_GetArraySize(samples), cJSON_GetArraySize(weights));
		ck_assert_int_eq(cJSON_GetArraySize(samples), (int)tc_profile_thread_nstacks(p, i));
		for (size_t j = 0; j < tc_profile_thread_nstacks(p, i); j++) {
			const int32_t *ids;
			size_t n;
			uint64_t c = tc_profile_thread_stack(p, i, j, &ids, &n);
			const cJSON *s = cJSON_GetArrayItem(samples, (int)j);

			ck_assert(cJSON_GetArrayItem(weights, (int)j)->valuedouble == (double)c);
			ck_assert_int_eq(cJSON_GetArraySize(s), (int)n);
			/* Root first: the reverse of the profile's innermost-first order. */
			for (k = 0; k < n; k++)
				ck_assert_int_eq(cJSON_GetArrayItem(s, (int)k)->valueint,
						 ids[n - 1 - k]);
		}
		if (tc_profile_thread_total(p, i) > tc_profile_thread_total(p, best))
			best = i;
	}
	ck_assert_int_eq(get(doc, "activeProfileIndex")->valueint, (int)best);
	ck_assert_int_eq((int)best, 0);
	/* The deepest stack made it: 150 fib frames plus uni, run, main. */
	prof = cJSON_GetArrayItem(profiles, 0);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetArrayItem(get(prof, "samples"), 2)), 153);
	cJSON_Delete(doc);
	free(text);
	tc_profile_free(p);
}
END_TEST

START_TEST(test_speedscope_empty)
{
	struct tc_profile *p = tc_profile_new(NULL);
	char *text = render(p, tc_sink_speedscope);
	cJSON *doc = cJSON_ParseWithOpts(text, NULL, 1);

	ck_assert_ptr_nonnull(doc);
	ck_assert_int_eq(cJSON_GetArraySize(get(doc, "profiles")), 0);
	ck_assert_int_eq(cJSON_GetArraySize(get(get(doc, "shared"), "frames")), 0);
	ck_assert_str_eq(get(doc, "name")->valuestring, "pid 0");
	cJSON_Delete(doc);
	free(text);
	tc_profile_free(p);
}
END_TEST

/* ---- summary ---- */

/* Number of times NEEDLE occurs in HAY. */
static int count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *s = strstr(hay, needle); s; s = strstr(s + 1, needle))
		n++;
	return n;
}

START_TEST(test_summary)
{
	struct tc_profile_meta meta = { .pid = 99, .python_version = "3.11.2",
					.command = "python\nbad.py", .rate_hz = 100, .mode = "cpu" };
	struct tc_profile *p = tc_profile_new(&meta);
	int32_t mod = tc_profile_frame(p, "/m.py", "<module>", "<module>", 1, 1);
	int32_t r10 = tc_profile_frame(p, "/r.py", "rec", "rec", 10, 9);
	int32_t r12 = tc_profile_frame(p, "/r.py", "rec", "rec", 12, 9);
	int32_t leaf = tc_profile_frame(p, "/l.py", "leaf", "K.leaf", 3, 2);
	/* Same qualname and file, other first_line: another function. */
	int32_t leaf2 = tc_profile_frame(p, "/l.py", "leaf", "K.leaf", 30, 29);
	int32_t a[] = { r12, r10, r10, r10, mod };  /* rec 4 deep: counts once in total */
	int32_t b[] = { leaf, r10, mod };
	int32_t c[] = { leaf2, mod };
	char *text, *own, *total;

	ck_assert_int_eq(tc_profile_add(p, 1, 1, a, 5, 50), 0);
	ck_assert_int_eq(tc_profile_add(p, 1, 1, b, 3, 30), 0);
	ck_assert_int_eq(tc_profile_add(p, 2, 2, c, 2, 10), 0);
	ck_assert_int_eq(tc_profile_add(p, 2, 2, NULL, 0, 10), 0);
	tc_profile_stats(p)->samples = 60;
	tc_profile_stats(p)->failed = 3;
	tc_profile_stats(p)->duration = 0.6;
	tc_profile_stats(p)->target_exited = true;

	text = render(p, summary30);
	ck_assert_ptr_nonnull(strstr(text, "pid 99"));
	ck_assert_ptr_nonnull(strstr(text, "Python 3.11.2, cpu mode"));
	ck_assert_ptr_nonnull(strstr(text, "command: python\\nbad.py\n"));
	ck_assert_ptr_nonnull(strstr(text, "duration 0.60 s, 60 samples, 3 failed (5.0%)"));
	ck_assert_ptr_nonnull(strstr(text, "rate achieved 100.0 Hz (requested 100.0 Hz)"));
	ck_assert_ptr_nonnull(strstr(text, "2 threads, 100 thread-samples, 10 (10.0%) with no "
					   "Python frames"));
	ck_assert_ptr_nonnull(strstr(text, "target exited"));

	own = strstr(text, "by own samples");
	total = strstr(text, "by total samples");
	ck_assert_ptr_nonnull(own);
	ck_assert_ptr_nonnull(total);
	ck_assert(own < total);
	total[-1] = 0; /* split the two tables */
	/* Own: rec 50 (one line, 12), K.leaf@2 30, K.leaf@29 10; <module> has no own time. */
	ck_assert_ptr_nonnull(strstr(own, "        50  50.00%         80  80.00%  rec (/r.py:12)\n"
					  "        30  30.00%         30  30.00%  K.leaf (/l.py:3)\n"
					  "        10  10.00%         10  10.00%  K.leaf (/l.py:30)\n"));
	ck_assert_ptr_null(strstr(own, "<module>"));
	/* Total: <module> 90, rec 80 counted once per stack, hottest total line is 10. */
	ck_assert_ptr_nonnull(strstr(total, "         0   0.00%         90  90.00%  <module> (/m.py:1)\n"
					    "        50  50.00%         80  80.00%  rec (/r.py:10)\n"
					    "        30  30.00%         30  30.00%  K.leaf (/l.py:3)\n"));
	free(text);

	text = render(p, summary1);
	/* One row per table: the top one. */
	ck_assert_int_eq(count_of(text, "%  rec ("), 1);
	ck_assert_int_eq(count_of(text, "%  <module> ("), 1);
	ck_assert_int_eq(count_of(text, "K.leaf"), 0);
	free(text);
	tc_profile_free(p);

	p = tc_profile_new(NULL);
	text = render(p, summary30);
	ck_assert_int_eq(count_of(text, "(no Python frames sampled)"), 2);
	ck_assert_ptr_nonnull(strstr(text, "rate achieved n/a"));
	free(text);
	tc_profile_free(p);
}
END_TEST

/* ---- escaping (daemon/sinks/escape.h) ---- */

/* ESC [31m, BEL, DEL, C1 CSI (U+009B), an invalid byte and a truncated sequence. */
#define HOSTILE "f\x1b[31m\x07\x7f\xc2\x9b\xff\xe2\x82"

/* No byte of S may drive a terminal: no C0 except newline, no DEL, no C1, valid UTF-8. */
static void assert_terminal_safe(const char *s, const char *what)
{
	for (const unsigned char *c = (const unsigned char *)s; *c;) {
		int n = tc_utf8_len(c);

		ck_assert_msg(n > 0, "%s: invalid UTF-8 at offset %td", what, (const char *)c - s);
		ck_assert_msg(*c >= 0x20 || *c == '\n', "%s: control byte 0x%02x at offset %td", what,
			      *c, (const char *)c - s);
		ck_assert_msg(*c != 0x7f, "%s: DEL at offset %td", what, (const char *)c - s);
		ck_assert_msg(!(c[0] == 0xc2 && c[1] <= 0x9f), "%s: C1 control at offset %td", what,
			      (const char *)c - s);
		c += n;
	}
}

static char *capture_fputs(void (*fn)(const char *, FILE *), const char *in)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	fn(in, f);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

static void collapsed_colon(const char *s, FILE *f)
{
	tc_esc_collapsed(s, true, f);
}

static void collapsed_nocolon(const char *s, FILE *f)
{
	tc_esc_collapsed(s, false, f);
}

START_TEST(test_escape_text)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "plain name <module>", "plain name <module>" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d \xc2\xa0", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d \xc2\xa0" },
		{ HOSTILE, "f\\x1b[31m\\x07\\x7f\\u009b\\xff\\xe2\\x82" },
		{ "a\nb\tc\rd\x01", "a\\nb\\tc\\rd\\x01" },
		{ "\xc2\x80\xc2\x9f", "\\u0080\\u009f" },
		{ "\xc0\xaf\xed\xa0\x80", "\\xc0\\xaf\\xed\\xa0\\x80" }, /* overlong '/', surrogate */
		{ "", "" },
	};
	char buf[128];

	for (size_t i = 0; i < TC_ARRAY_LEN(cases); i++) {
		char *out = capture_fputs(tc_esc_fputs, cases[i].in), *dup = tc_esc_dup(cases[i].in);

		ck_assert_str_eq(out, cases[i].want);
		ck_assert_str_eq(tc_esc_text(cases[i].in, buf, sizeof buf), cases[i].want);
		ck_assert_str_eq(dup, cases[i].want);
		assert_terminal_safe(out, cases[i].in);
		free(out);
		free(dup);
	}
	/* too long: cut before the escape that does not fit, never inside it */
	ck_assert_str_eq(tc_esc_text("ab\x1b" "cd", buf, 6), "ab");
	ck_assert_str_eq(tc_esc_text("ab\x1b" "cd", buf, 7), "ab\\x1b");
	ck_assert_str_eq(tc_esc_text("\xc3\xa9\xc3\xa9", buf, 4), "\xc3\xa9");
}
END_TEST

START_TEST(test_escape_collapsed)
{
	char *out = capture_fputs(collapsed_colon, "a;b%c:d " HOSTILE "\n\xc3\xa9");

	ck_assert_str_eq(out, "a%3Bb%25c%3Ad f%1B[31m%07%7F%C2%9B%FF%E2%82%0A\xc3\xa9");
	free(out);
	out = capture_fputs(collapsed_nocolon, "/x:y;z\r");
	ck_assert_str_eq(out, "/x:y%3Bz%0D");
	free(out);
}
END_TEST

START_TEST(test_escape_json)
{
	/* valid UTF-8 with every kind of control: the escaped literal parses back to it */
	static const char *const names[] = {
		"f\x1b[31m\x07\x7f\xc2\x9b\xc2\x80 \"q\" \\ \n\t\r\x01 caf\xc3\xa9",
		"plain",
		"",
	};
	for (size_t i = 0; i < TC_ARRAY_LEN(names); i++) {
		char *lit = capture_fputs(tc_esc_json, names[i]), *doc = NULL;
		cJSON *j, *o;
		char *printed, *safe;

		assert_terminal_safe(lit, "tc_esc_json");
		ck_assert_int_ge(asprintf(&doc, "\"%s\"", lit), 0);
		j = cJSON_Parse(doc);
		ck_assert_ptr_nonnull(j);
		ck_assert_str_eq(j->valuestring, names[i]);
		cJSON_Delete(j);
		free(doc);
		free(lit);

		/* cJSON's own output, made safe afterwards: same round trip */
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", names[i]);
		cJSON_AddNumberToObject(o, "n", 7);
		printed = cJSON_PrintUnformatted(o);
		safe = tc_esc_json_text(printed);
		assert_terminal_safe(safe, "tc_esc_json_text");
		cJSON_Delete(o);
		o = cJSON_Parse(safe);
		ck_assert_ptr_nonnull(o);
		ck_assert_str_eq(cJSON_GetObjectItem(o, "name")->valuestring, names[i]);
		ck_assert_int_eq(cJSON_GetObjectItem(o, "n")->valueint, 7);
		cJSON_Delete(o);
		free(printed);
		free(safe);
	}
	/* not UTF-8: U+FFFD, in both */
	char *lit = capture_fputs(tc_esc_json, "a\xff" "b\xe2\x82");
	ck_assert_str_eq(lit, "a\\ufffdb\\ufffd\\ufffd");
	free(lit);
	char *safe = tc_esc_json_text("{\"a\":\"x\xffy\xc2\x9b\x7f\"}");
	ck_assert_str_eq(safe, "{\"a\":\"x\\ufffdy\\u009b\\u007f\"}");
	free(safe);
}
END_TEST

START_TEST(test_escape_html)
{
	char *out = capture_fputs(tc_esc_html, "<a href=\"x\" title='t'>&amp;</a>" HOSTILE " \xc3\xa9");

	ck_assert_str_eq(out, "&lt;a href=&quot;x&quot; title=&#39;t&#39;&gt;&amp;amp;&lt;/a&gt;"
			      "f\\x1b[31m\\x07\\x7f\\u009b\\xff\\xe2\\x82 \xc3\xa9");
	assert_terminal_safe(out, "tc_esc_html");
	free(out);
}
END_TEST

/* Every writer, fed names, files and a command line from a hostile target. */
START_TEST(test_sinks_hostile_names)
{
	struct tc_profile_meta meta = { .pid = 7, .python_version = "3.12.1",
					.command = "python3 " HOSTILE, .rate_hz = 100, .mode = "wall" };
	struct tc_profile *p = tc_profile_new(&meta);
	int32_t a = tc_profile_frame(p, "/t/" HOSTILE ".py", "n" HOSTILE, "q." HOSTILE, 3, 1);
	int32_t b = tc_profile_frame(p, "/t/ok.py", "<module>", "<module>", 9, 1);
	int32_t st[] = { a, b };
	char *text;
	cJSON *j;

	ck_assert_int_eq(tc_profile_add(p, 11, 11, st, 2, 5), 0);
	tc_profile_stats(p)->samples = 5;
	tc_profile_stats(p)->duration = 0.05;

	text = render(p, tc_sink_collapsed);
	assert_terminal_safe(text, "collapsed");
	ck_assert_ptr_nonnull(strstr(text, ":q.f%1B[31m%07%7F%C2%9B%FF%E2%82:3 5\n"));
	free(text);

	text = render(p, tc_sink_speedscope);
	assert_terminal_safe(text, "speedscope");
	j = cJSON_Parse(text);
	ck_assert_ptr_nonnull(j);
	free(text);
	cJSON_Delete(j);

	text = render(p, summary30);
	assert_terminal_safe(text, "summary");
	ck_assert_ptr_nonnull(strstr(text, "q.f\\x1b[31m\\x07\\x7f\\u009b\\xff\\xe2\\x82 ("));
	free(text);
	tc_profile_free(p);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_write_errors)
{
	struct tc_profile *p = rich_profile();
	FILE *f = fopen("/dev/full", "w");

	if (!f)
		TC_SKIP("no /dev/full here: nothing to test against");
	ck_assert_int_eq(tc_sink_collapsed(p, f), -TC_EIO);
	clearerr(f);
	ck_assert_int_eq(tc_sink_speedscope(p, f), -TC_EIO);
	clearerr(f);
	ck_assert_int_eq(tc_sink_summary(p, f, 0), -TC_EIO);
	fclose(f);
	tc_profile_free(p);
}
END_TEST

/* ---- the sink interface (daemon/sinks/sink.h) ---- */

/* SRC upper-cased into DST (SIZE bytes, SRC shorter). */
static void upcase(char *dst, const char *src, size_t size)
{
	size_t i = 0;

	for (; src[i] && i + 1 < size; i++)
		dst[i] = (char)(src[i] >= 'a' && src[i] <= 'z' ? src[i] - 'a' + 'A' : src[i]);
	dst[i] = '\0';
}

/* Every format in the registry: its name (any case), aliases and extensions resolve to it,
 * so none is claimed twice; the names list and the help text show each. */
START_TEST(test_sink_registry)
{
	const struct tc_sink_format *d;
	enum tc_format f;
	char path[64], upper[64], list[256], *help;
	size_t nhelp = 0, nformats = 0;
	FILE *mf;

	ck_assert_ptr_null(tc_sink_format_get(TC_FMT_NONE));
	ck_assert_str_eq(tc_sink_format_get(TC_FMT_COLLAPSED)->name, "collapsed");
	ck_assert_str_eq(tc_sink_format_get(TC_FMT_SPEEDSCOPE)->name, "speedscope");
	ck_assert_str_eq(tc_sink_format_get(TC_FMT_SUMMARY)->name, "summary");

	mf = open_memstream(&help, &nhelp);
	ck_assert_ptr_nonnull(mf);
	ck_assert_int_eq(tc_sink_help(mf), 0);
	ck_assert_int_eq(fclose(mf), 0);
	ck_assert_uint_eq(tc_sink_names(list, sizeof(list)), strlen(list));

	for (f = TC_FMT_NONE + 1; (d = tc_sink_format_get(f)); f++) {
		nformats++;
		ck_assert_ptr_nonnull(d->finish);
		ck_assert(d->help && d->help[0] && !strchr(d->help, '\n'));
		ck_assert_int_eq(tc_format_from_name(d->name), f);
		upcase(upper, d->name, sizeof(upper));
		ck_assert_int_eq(tc_format_from_name(upper), f);
		for (const char *const *a = d->aliases; a && *a; a++)
			ck_assert_int_eq(tc_format_from_name(*a), f);
		for (const char *const *e = d->exts; e && *e; e++) {
			snprintf(path, sizeof(path), "/tmp/d.x/out.%s", *e);
			ck_assert_int_eq(tc_format_from_path(path), f);
			upcase(upper, path, sizeof(upper));
			ck_assert_int_eq(tc_format_from_path(upper), f);
			/* an extension is not a name, unless it is also one */
			snprintf(path, sizeof(path), ".%s", *e);
			ck_assert_int_eq(tc_format_from_path(path), TC_FMT_NONE);
		}
		ck_assert_ptr_nonnull(strstr(list, d->name));
		snprintf(path, sizeof(path), "  %s ", d->name);
		ck_assert_msg(strstr(help, path) && strstr(help, d->help), "help lacks %s", d->name);
	}
	ck_assert_uint_eq(nformats, 3);
	ck_assert_ptr_null(tc_sink_format_get(f));
	ck_assert_int_eq(count_of(help, "\n"), (int)nformats);
	ck_assert_ptr_nonnull(strstr(help, "also folded; -o .txt .folded .collapsed)\n"));
	ck_assert_ptr_nonnull(strstr(help, "(-o .json)\n"));

	/* the list in attach's "unknown format" message, and its truncation */
	ck_assert_str_eq(list, "collapsed, speedscope, summary");
	ck_assert_uint_eq(tc_sink_names(list, 5), strlen("collapsed, speedscope, summary"));
	ck_assert_str_eq(list, "coll");
	ck_assert_uint_eq(tc_sink_names(NULL, 0), strlen("collapsed, speedscope, summary"));

	ck_assert_int_eq(tc_format_from_name("flamegraph"), TC_FMT_NONE);
	ck_assert_int_eq(tc_format_from_name("txt"), TC_FMT_NONE);
	ck_assert_int_eq(tc_format_from_path("out.summary"), TC_FMT_NONE);
	ck_assert_int_eq(tc_format_from_path("out.speedscope"), TC_FMT_NONE);
	free(help);
}
END_TEST

/* A format that counts what the interface does to it. */
struct fake_state {
	int samples, finishes, bad_at;
	double last_time;
	size_t threads;
};
static int fake_frees, chained_calls;

static int fake_open(struct tc_sink *s, FILE *out, const struct tc_sink_opts *o)
{
	struct fake_state *st = calloc(1, sizeof(*st));

	ck_assert_ptr_eq(out, s->out);
	if (!st)
		return -TC_ENOMEM;
	st->bad_at = (int)o->limit; /* the test's way of asking sample() to fail */
	s->priv = st;
	return 0;
}

static int fake_sample(struct tc_sink *s, const struct tc_sample *smp)
{
	struct fake_state *st = s->priv;

	st->samples++;
	st->last_time = smp->time;
	st->threads += smp->nthreads;
	if (fprintf(s->out, "t=%.1f n=%zu\n", smp->time, smp->nthreads) < 0)
		return -TC_EIO;
	return st->samples == st->bad_at ? -TC_EIO : 0;
}

static int fake_finish(struct tc_sink *s, const struct tc_profile *p)
{
	struct fake_state *st = s->priv;

	st->finishes++;
	fprintf(s->out, "samples=%d threads=%zu profile_threads=%zu\n", st->samples, st->threads,
		tc_profile_nthreads(p));
	return fflush(s->out) || ferror(s->out) ? -TC_EIO : 0;
}

static void fake_free(struct tc_sink *s)
{
	free(s->priv);
	fake_frees++;
}

static const struct tc_sink_format fake_format = {
	.name = "fake",
	.help = "counts calls (test only)",
	.open = fake_open,
	.sample = fake_sample,
	.finish = fake_finish,
	.free = fake_free,
};

static void chained_observer(void *ctx, const struct tc_sample *smp)
{
	ck_assert_ptr_eq(ctx, &chained_calls);
	ck_assert(smp->time > 0);
	chained_calls++;
}

/* Feed N instants through the sampler options, as tc_sampler_run would. */
static void run_instants(const struct tc_sampler_opts *so, int n)
{
	int32_t frames[] = { 0 };
	struct tc_sample_thread th[2] = {
		{ .native_id = 11, .thread_id = 0x1000, .main = true, .holds_gil = 1, .on_cpu = -1,
		  .frames = frames, .n = 1 },
		{ .native_id = 12, .thread_id = 0x2000, .holds_gil = 0, .on_cpu = -1 },
	};

	for (int i = 0; i < n; i++) {
		struct tc_sample smp = { .time = 100.0 + i, .threads = th, .nthreads = 1 + i % 2,
					 .nthreads_total = 2 };

		so->on_sample(so->ctx, &smp);
	}
}

/* open, a sample per instant (chained with the observer already there), one finish, free. */
START_TEST(test_sink_lifecycle)
{
	struct tc_profile_meta meta = { .pid = 1, .python_version = "3.12.1", .command = "x",
					.rate_hz = 100, .mode = "wall" };
	struct tc_profile *p = tc_profile_new(&meta);
	struct tc_sampler_opts so = { .rate_hz = 100, .on_sample = chained_observer,
				      .ctx = &chained_calls };
	struct tc_sink_opts opts = { 0 };
	struct tc_sink *s;
	struct fake_state *st;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(f);
	fake_frees = chained_calls = 0;
	ck_assert_int_eq(tc_sink_open(&fake_format, f, &opts, &s), 0);
	st = s->priv;
	ck_assert_int_eq(st->samples, 0);
	tc_sink_observe(s, &so);
	ck_assert_ptr_eq(so.ctx, s);
	run_instants(&so, 3);
	ck_assert_int_eq(st->samples, 3);
	ck_assert_int_eq(chained_calls, 3);
	ck_assert(st->last_time == 102.0);
	ck_assert_uint_eq(st->threads, 1 + 2 + 1);
	ck_assert_int_eq(st->finishes, 0);
	ck_assert_int_eq(tc_sink_finish(s, p), 0);
	ck_assert_int_eq(st->finishes, 1);
	/* once only; a late instant is not handed on */
	ck_assert_int_eq(tc_sink_finish(s, p), -TC_EINVAL);
	run_instants(&so, 1);
	ck_assert_int_eq(st->finishes, 1);
	ck_assert_int_eq(st->samples, 3);
	ck_assert_int_eq(chained_calls, 4);
	tc_sink_free(s);
	ck_assert_int_eq(fake_frees, 1);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_str_eq(buf, "t=100.0 n=1\nt=101.0 n=2\nt=102.0 n=1\n"
			      "samples=3 threads=4 profile_threads=0\n");
	free(buf);

	/* a sample error stops the samples and is what finish returns, without writing */
	so = (struct tc_sampler_opts){ .rate_hz = 100 };
	opts.limit = 2;
	ck_assert_int_eq(tc_sink_open(&fake_format, stdout, &opts, &s), 0);
	st = s->priv;
	tc_sink_observe(s, &so);
	ck_assert_ptr_nonnull(so.on_sample);
	s->out = fopen("/dev/null", "w");
	ck_assert_ptr_nonnull(s->out);
	run_instants(&so, 4);
	ck_assert_int_eq(st->samples, 2);
	ck_assert_int_eq(tc_sink_sample(s, NULL), -TC_EIO);
	ck_assert_int_eq(tc_sink_finish(s, p), -TC_EIO);
	ck_assert_int_eq(st->finishes, 0);
	fclose(s->out);
	tc_sink_free(s);
	ck_assert_int_eq(fake_frees, 2);

	ck_assert_int_eq(tc_sink_open(NULL, stdout, NULL, &s), -TC_EINVAL);
	ck_assert_ptr_null(s);
	tc_sink_free(NULL);
	tc_profile_free(p);
}
END_TEST

/* A format without `sample` leaves the sampler's observer alone: no per-instant cost. */
START_TEST(test_sink_observe_needs_sample)
{
	struct tc_sampler_opts so = { .on_sample = chained_observer, .ctx = &chained_calls };
	struct tc_sampler_opts none = { 0 };
	struct tc_sink *s;
	enum tc_format f;

	for (f = TC_FMT_NONE + 1; tc_sink_format_get(f); f++) {
		ck_assert_int_eq(tc_sink_open(tc_sink_format_get(f), stdout, NULL, &s), 0);
		tc_sink_observe(s, &so);
		tc_sink_observe(s, &none);
		ck_assert(so.on_sample == chained_observer && so.ctx == &chained_calls);
		ck_assert(none.on_sample == NULL && none.ctx == NULL);
		ck_assert_int_eq(tc_sink_sample(s, NULL), 0);
		tc_sink_free(s);
	}
}
END_TEST

/* Run FMT through the interface over P into a malloc'ed string (caller frees). */
static char *render_sink(const struct tc_profile *p, enum tc_format fmt,
			 const struct tc_sink_opts *o, size_t *lenp)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct tc_sink *s;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(tc_sink_open(tc_sink_format_get(fmt), f, o, &s), 0);
	ck_assert_int_eq(tc_sink_finish(s, p), 0);
	tc_sink_free(s);
	ck_assert_int_eq(fclose(f), 0);
	*lenp = len;
	return buf;
}

/* Byte for byte what the writers produce when called directly, rich and empty profiles. */
START_TEST(test_sink_same_bytes)
{
	struct tc_profile_meta meta = { .pid = 9, .python_version = "3.9.18", .command = "",
					.rate_hz = 10, .mode = "cpu" };
	struct tc_profile *profiles[] = { rich_profile(), tc_profile_new(&meta) };
	static const struct {
		enum tc_format fmt;
		size_t limit;
		int (*direct)(const struct tc_profile *, FILE *);
	} cases[] = {
		{ TC_FMT_COLLAPSED, 0, tc_sink_collapsed },
		{ TC_FMT_SPEEDSCOPE, 0, tc_sink_speedscope },
		{ TC_FMT_SUMMARY, 0, summary30 },
		{ TC_FMT_SUMMARY, 1, summary1 },
	};

	for (size_t k = 0; k < TC_ARRAY_LEN(profiles); k++) {
		ck_assert_ptr_nonnull(profiles[k]);
		for (size_t i = 0; i < TC_ARRAY_LEN(cases); i++) {
			struct tc_sink_opts o = { .limit = cases[i].limit };
			size_t len;
			char *via = render_sink(profiles[k], cases[i].fmt, &o, &len);
			char *direct = render(profiles[k], cases[i].direct);

			ck_assert(k || len > 0); /* the empty profile has no collapsed lines */
			ck_assert_uint_eq(len, strlen(direct));
			ck_assert_msg(!memcmp(via, direct, len), "format %d (limit %zu) differs",
				      (int)cases[i].fmt, cases[i].limit);
			free(via);
			free(direct);
		}
		tc_profile_free(profiles[k]);
	}
}
END_TEST

/* Write errors come back through finish, as from the writers. */
START_TEST(test_sink_write_errors)
{
	struct tc_profile *p = rich_profile();
	FILE *f = fopen("/dev/full", "w");
	struct tc_sink *s;

	if (!f)
		TC_SKIP("no /dev/full here: nothing to test against");
	for (enum tc_format fmt = TC_FMT_NONE + 1; tc_sink_format_get(fmt); fmt++) {
		ck_assert_int_eq(tc_sink_open(tc_sink_format_get(fmt), f, NULL, &s), 0);
		ck_assert_int_eq(tc_sink_finish(s, p), -TC_EIO);
		tc_sink_free(s);
		clearerr(f);
	}
	fclose(f);
	tc_profile_free(p);
}
END_TEST

static Suite *sinks_suite(void)
{
	Suite *s = suite_create("sinks");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_format_names);
	tcase_add_test(tc, test_collapsed_exact);
	tcase_add_test(tc, test_collapsed_roundtrip);
	tcase_add_test(tc, test_speedscope_rich);
	tcase_add_test(tc, test_speedscope_empty);
	tcase_add_test(tc, test_summary);
	tcase_add_test(tc, test_write_errors);
	tcase_add_test(tc, test_escape_text);
	tcase_add_test(tc, test_escape_collapsed);
	tcase_add_test(tc, test_escape_json);
	tcase_add_test(tc, test_escape_html);
	tcase_add_test(tc, test_sinks_hostile_names);
	tcase_add_test(tc, test_sink_registry);
	tcase_add_test(tc, test_sink_lifecycle);
	tcase_add_test(tc, test_sink_observe_needs_sample);
	tcase_add_test(tc, test_sink_same_bytes);
	tcase_add_test(tc, test_sink_write_errors);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tc_test_run(sinks_suite());
}
