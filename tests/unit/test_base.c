/* SPDX-License-Identifier: MIT */
/* base/: growable arrays (growth, overflow refused), the integer map (put, get, overwrite,
 * growth, clear), the hash index (collisions, growth), the bounded slot table (hits and
 * misses, the bound, the idle sweep), the hash functions (spread, stable values) and the
 * clock (monotonic). */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/hash.h"
#include "base/hindex.h"
#include "base/intmap.h"
#include "base/slots.h"
#include "base/vec.h"
#include "tc/common.h"
#include "skip.h"

START_TEST(test_vec_growth)
{
	int *v = NULL;
	size_t cap = 0;
	ck_assert_int_eq(tc_vec_reserve((void **)&v, &cap, sizeof *v, 0), 0);
	ck_assert_ptr_null(v); /* nothing needed: nothing allocated */
	ck_assert_int_eq(tc_vec_reserve((void **)&v, &cap, sizeof *v, 1), 0);
	ck_assert_uint_eq(cap, TC_VEC_FIRST);
	for (int i = 0; i < 1000; i++) {
		ck_assert_int_eq(tc_vec_reserve((void **)&v, &cap, sizeof *v, (size_t)i + 1), 0);
		v[i] = i * 3;
	}
	ck_assert_uint_ge(cap, 1000);
	ck_assert_uint_eq(cap & (cap - 1), 0); /* doubled from 16 */
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(v[i], i * 3); /* contents kept over every move */
	size_t before = cap;
	ck_assert_int_eq(tc_vec_reserve((void **)&v, &cap, sizeof *v, 10), 0);
	ck_assert_uint_eq(cap, before); /* never shrinks */
	free(v);
}
END_TEST

START_TEST(test_vec_overflow)
{
	char *v = NULL;
	size_t cap = 0, out = 0;
	ck_assert_int_eq(tc_vec_reserve((void **)&v, &cap, 8, SIZE_MAX / 4), -TC_ENOMEM);
	ck_assert_ptr_null(v);
	ck_assert_uint_eq(cap, 0);
	ck_assert_int_eq(tc_vec_reserve((void **)&v, &cap, 1, SIZE_MAX), -TC_ENOMEM);
	ck_assert_int_eq(tc_vec_next_cap(0, 5, 64, 4, &out), 0);
	ck_assert_uint_eq(out, 64);
	ck_assert_int_eq(tc_vec_next_cap(64, 65, 64, 4, &out), 0);
	ck_assert_uint_eq(out, 128);
	ck_assert_int_eq(tc_vec_next_cap(100, 50, 64, 4, &out), 0);
	ck_assert_uint_eq(out, 100);
	ck_assert_int_eq(tc_vec_next_cap(0, SIZE_MAX / 2 + 2, 1, 1, &out), -TC_ENOMEM);
	ck_assert_int_eq(tc_vec_next_cap(0, 1, 1, 0, &out), -TC_EINVAL);
}
END_TEST

START_TEST(test_intmap_basic)
{
	struct tc_intmap m;
	uint32_t v = 0;
	memset(&m, 0, sizeof m); /* a zeroed map is empty */
	ck_assert(!tc_intmap_get(&m, 0, &v));
	ck_assert_int_eq(tc_intmap_put(&m, 0, 7), 0); /* key 0 is a key like any other */
	ck_assert_int_eq(tc_intmap_put(&m, 42, 9), 0);
	ck_assert(tc_intmap_get(&m, 0, &v));
	ck_assert_uint_eq(v, 7);
	ck_assert(tc_intmap_get(&m, 42, &v));
	ck_assert_uint_eq(v, 9);
	ck_assert(!tc_intmap_get(&m, 43, &v));
	ck_assert_int_eq(tc_intmap_put(&m, 42, 11), 0); /* overwrite */
	ck_assert(tc_intmap_get(&m, 42, &v));
	ck_assert_uint_eq(v, 11);
	ck_assert_uint_eq(tc_intmap_count(&m), 2);
	tc_intmap_free(&m);
	ck_assert_uint_eq(tc_intmap_count(&m), 0);
	ck_assert(!tc_intmap_get(&m, 42, &v));
}
END_TEST

START_TEST(test_intmap_growth_and_clear)
{
	struct tc_intmap m;
	uint32_t v;
	const uint32_t n = 100000;
	ck_assert_int_eq(tc_intmap_init(&m, 8), 0);
	size_t cap0 = m.cap;
	/* keys sharing their low bits (page addresses) and ones differing in high bits only */
	for (uint32_t i = 0; i < n; i++) {
		ck_assert_int_eq(tc_intmap_put(&m, (uint64_t)i << 12, i), 0);
		ck_assert_int_eq(tc_intmap_put(&m, (uint64_t)i << 40 | 1, i + n), 0);
	}
	ck_assert_uint_gt(m.cap, cap0);
	ck_assert_uint_le(2 * tc_intmap_count(&m), m.cap); /* at most half full */
	ck_assert_uint_eq(tc_intmap_count(&m), 2 * n);
	for (uint32_t i = 0; i < n; i++) {
		ck_assert(tc_intmap_get(&m, (uint64_t)i << 12, &v));
		ck_assert_uint_eq(v, i);
		ck_assert(tc_intmap_get(&m, (uint64_t)i << 40 | 1, &v));
		ck_assert_uint_eq(v, i + n);
	}
	ck_assert(!tc_intmap_get(&m, 3, &v));
	/* clear keeps the table, forgets every key, and the map is usable again */
	size_t cap = m.cap;
	tc_intmap_clear(&m);
	ck_assert_uint_eq(m.cap, cap);
	ck_assert_uint_eq(tc_intmap_count(&m), 0);
	for (uint32_t i = 0; i < n; i += 97)
		ck_assert(!tc_intmap_get(&m, (uint64_t)i << 12, &v));
	ck_assert_int_eq(tc_intmap_put(&m, 5 << 12, 123), 0);
	ck_assert(tc_intmap_get(&m, 5 << 12, &v));
	ck_assert_uint_eq(v, 123);
	ck_assert(!tc_intmap_get(&m, 6 << 12, &v));
	/* many clears: the generation wraps without bringing old keys back */
	m.gen = UINT32_MAX;
	ck_assert_int_eq(tc_intmap_put(&m, 77, 1), 0);
	tc_intmap_clear(&m);
	ck_assert(!tc_intmap_get(&m, 77, &v));
	ck_assert(!tc_intmap_get(&m, 5 << 12, &v));
	ck_assert_int_eq(tc_intmap_put(&m, 77, 2), 0);
	ck_assert(tc_intmap_get(&m, 77, &v));
	ck_assert_uint_eq(v, 2);
	tc_intmap_free(&m);
}
END_TEST

/* Position of KEY among KEYS[0..N) through IX (hash: KEY's hash, or a constant to force
 * every key into one probe run); -1 when absent. */
static long hfind(const struct tc_hindex *ix, const uint64_t *keys, uint64_t key, uint32_t hash)
{
	for (size_t cur = TC_HINDEX_START, pos; tc_hindex_next(ix, hash, &cur, &pos);)
		if (keys[pos] == key)
			return (long)pos;
	return -1;
}

START_TEST(test_hindex)
{
	enum { N = 5000 };
	static uint64_t keys[N];
	struct tc_hindex ix;
	memset(&ix, 0, sizeof ix); /* a zeroed index is empty */
	ck_assert_int_eq(hfind(&ix, keys, 1, 1), -1);
	for (size_t i = 0; i < N; i++) {
		keys[i] = i * 7919 + 3;
		/* every tenth key collides on purpose: the caller tells them apart */
		uint32_t h = i % 10 ? (uint32_t)tc_hash_fmix(keys[i]) : 12345u;
		ck_assert_int_eq(tc_hindex_reserve(&ix), 0);
		tc_hindex_insert(&ix, h, i);
		ck_assert_uint_le(2 * ix.used, ix.cap); /* at most half full */
	}
	ck_assert_uint_eq(ix.used, N);
	for (size_t i = 0; i < N; i++) {
		uint32_t h = i % 10 ? (uint32_t)tc_hash_fmix(keys[i]) : 12345u;
		ck_assert_int_eq(hfind(&ix, keys, keys[i], h), (long)i);
	}
	ck_assert_int_eq(hfind(&ix, keys, 2, (uint32_t)tc_hash_fmix(2)), -1);
	ck_assert_int_eq(hfind(&ix, keys, 2, 12345u), -1); /* all colliding candidates differ */
	tc_hindex_free(&ix);
	ck_assert_uint_eq(ix.cap, 0);
	ck_assert_int_eq(hfind(&ix, keys, keys[1], (uint32_t)tc_hash_fmix(keys[1])), -1);
}
END_TEST

/* the payload the slot tests store: the release callback counts what it frees */
struct pay {
	uint64_t seen;
	char *buf;
};

static void pay_release(void *ctx, void *payload)
{
	struct pay *p = payload;
	(*(int *)ctx)++;
	free(p->buf);
}

/* S: CAP slots of struct pay, idle after 4 ticks, counting releases in *RELEASED; tick 1. */
static void slots_of_pay(struct tc_slots *s, size_t cap, int *released)
{
	*released = 0;
	ck_assert_int_eq(tc_slots_init(s, cap, sizeof(struct pay), 4, pay_release, released), 0);
	tc_slots_begin(s, 1);
}

START_TEST(test_slots_hits_and_bound)
{
	struct tc_slots s;
	struct tc_slots_stats st;
	int released;
	slots_of_pay(&s, 8, &released);
	struct pay *a = tc_slots_get(&s, 0x1000, 1);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(a->seen, 0); /* a new slot is zeroed */
	a->seen = 5;
	a->buf = malloc(16);
	struct pay *b = tc_slots_get(&s, 0x1000, 2); /* same first word, another key */
	ck_assert_ptr_ne(a, b);
	ck_assert_ptr_eq(tc_slots_get(&s, 0x1000, 1), a);
	ck_assert_uint_eq(a->seen, 5);
	tc_slots_get_stats(&s, &st);
	ck_assert_uint_eq(st.hits, 1);
	ck_assert_uint_eq(st.misses, 2);
	ck_assert_uint_eq(st.live, 2);
	/* the bound: 8 slots, the ninth key is refused, known keys still found */
	for (uint64_t k = 0; k < 6; k++)
		ck_assert_ptr_nonnull(tc_slots_get(&s, 0x2000 + k, 0));
	ck_assert_ptr_null(tc_slots_get(&s, 0x9000, 0));
	ck_assert_ptr_eq(tc_slots_get(&s, 0x1000, 1), a);
	tc_slots_get_stats(&s, &st);
	ck_assert_uint_eq(st.full, 1);
	ck_assert_uint_eq(st.live, 8);
	tc_slots_free(&s);
	ck_assert_int_eq(released, 8); /* every slot released once */
}
END_TEST

START_TEST(test_slots_idle_sweep)
{
	struct tc_slots s;
	struct tc_slots_stats st;
	int released;
	slots_of_pay(&s, 16, &released);
	struct pay *busy = tc_slots_get(&s, 1, 0);
	struct pay *idle = tc_slots_get(&s, 2, 0);
	busy->seen = 1;
	idle->buf = malloc(8);
	for (uint64_t t = 2; t <= 12; t++) {
		tc_slots_begin(&s, t);
		ck_assert_ptr_eq(tc_slots_get(&s, 1, 0), busy); /* kept: used every tick */
	}
	tc_slots_get_stats(&s, &st);
	ck_assert_uint_eq(st.evictions, 1);
	ck_assert_uint_eq(st.live, 1);
	ck_assert_uint_ge(st.sweeps, 2);
	ck_assert_int_eq(released, 1);
	ck_assert_uint_eq(busy->seen, 1);
	/* the idle key comes back as a fresh, zeroed slot */
	struct pay *again = tc_slots_get(&s, 2, 0);
	ck_assert_ptr_nonnull(again);
	ck_assert_ptr_null(again->buf);
	/* a sweep with idle 0 releases everything */
	tc_slots_sweep(&s, 0);
	tc_slots_get_stats(&s, &st);
	ck_assert_uint_eq(st.live, 0);
	ck_assert_uint_eq(st.evictions, 3);
	ck_assert_int_eq(released, 3);
	ck_assert_ptr_nonnull(tc_slots_get(&s, 1, 0));
	tc_slots_free(&s);
	ck_assert_int_eq(released, 4);
	/* bad sizes are refused and leave a freeable table */
	ck_assert_int_eq(tc_slots_init(&s, 0, 8, 4, NULL, NULL), -TC_EINVAL);
	tc_slots_free(&s);
}
END_TEST

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

START_TEST(test_hash)
{
	/* stable: values are fixed functions of their input */
	ck_assert_uint_eq(tc_hash_mul(1), TC_HASH_GOLDEN);
	ck_assert_uint_eq(tc_hash_fmix(0), 0);
	ck_assert_uint_eq(tc_hash_fmix(1), tc_hash_fmix(1));
	ck_assert_uint_eq(tc_hash_pair(5, 0), tc_hash_mul(5));
	ck_assert_uint_eq(tc_hash_bytes("abc", 3), tc_hash_bytes("abc", 3));
	ck_assert_uint_eq(tc_hash_str("abc"), tc_hash_str("abc"));
	ck_assert_uint_eq(tc_hash_top(UINT64_MAX, 10), 1023);
	/* different inputs, different outputs, over a sample */
	enum { N = 4096 };
	static uint64_t seen[5][N];
	for (uint64_t i = 0; i < N; i++) {
		char s[32];
		int len = snprintf(s, sizeof s, "name_%llu", (unsigned long long)i);
		seen[0][i] = tc_hash_mul(i << 12);
		seen[1][i] = tc_hash_fmix(i);
		seen[2][i] = tc_hash_combine(tc_hash_combine(0, i), i + 1);
		seen[3][i] = tc_hash_bytes(s, (size_t)len);
		seen[4][i] = tc_hash_str(s);
		ck_assert_uint_eq(seen[3][i] != 0, 1);
	}
	for (int f = 0; f < 5; f++) {
		qsort(seen[f], N, sizeof seen[f][0], cmp_u64);
		for (size_t i = 1; i < N; i++)
			ck_assert_uint_ne(seen[f][i - 1], seen[f][i]);
	}
	/* order matters in a combination; the length is part of a byte hash */
	ck_assert_uint_ne(tc_hash_combine(tc_hash_combine(0, 1), 2),
			  tc_hash_combine(tc_hash_combine(0, 2), 1));
	ck_assert_uint_ne(tc_hash_bytes("\0", 1), tc_hash_bytes("", 0));
	/* the top bits of a multiplicative mix spread page addresses over a small table */
	int used[64] = {0}, filled = 0;
	for (uint64_t p = 1; p <= 64; p++)
		used[tc_hash_top(tc_hash_mul(p << 12), 6)]++;
	for (int i = 0; i < 64; i++)
		filled += used[i] > 0;
	ck_assert_int_ge(filled, 32);
}
END_TEST

START_TEST(test_clock)
{
	uint64_t a = tc_now_ns();
	double s = tc_now_s();
	uint64_t b = tc_now_ns();
	ck_assert_uint_ge(b, a);
	ck_assert(s >= (double)a * 1e-9 - 1e-6 && s <= (double)b * 1e-9 + 1e-6);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("base");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_vec_growth);
	tcase_add_test(tc, test_vec_overflow);
	tcase_add_test(tc, test_intmap_basic);
	tcase_add_test(tc, test_intmap_growth_and_clear);
	tcase_add_test(tc, test_hindex);
	tcase_add_test(tc, test_slots_hits_and_bound);
	tcase_add_test(tc, test_slots_idle_sweep);
	tcase_add_test(tc, test_hash);
	tcase_add_test(tc, test_clock);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return tc_test_run(s);
}
