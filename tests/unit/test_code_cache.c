/* SPDX-License-Identifier: MIT */
/* daemon/code_cache through its header, over a synthetic image (reader/remote.c's image
 * backend) holding code objects laid out with the project's own 3.10/3.12 layouts: a code
 * object is decoded once and then hit; invalid addresses are refused; the identity check
 * (once per walk) gives a code object that replaced another at the same address a new
 * serial; clearing and the LRU bound; the counters and tc_code_cache_changes. How the
 * walker uses it (and independent offsets) are test_unwind.c's business. */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/code_cache.h"
#include "daemon/target.h"
#include "daemon/walk_ctx.h"
#include "layouts/layout.h"
#include "reader/page_cache.h"
#include "reader/remote.h"
#include "skip.h"

#define BASE 0x7f3400000000ull
#define CAP (64 * 1024)
#define CODE_TYPE 0x55aa00001000ull
#define STR_TYPE 0x55aa00002000ull
#define BYTES_TYPE 0x55aa00003000ull

static uint8_t mem[CAP];

struct img {
	size_t used;
	struct tc_layout l;
	struct tc_remote *r;
	struct tc_target t;
	struct tc_walk_ctx x; /* reads of t: direct, or through a page cache */
	unsigned minor;
};

static uint8_t *host(tc_raddr a)
{
	ck_assert(a >= BASE && a - BASE < CAP);
	return mem + (a - BASE);
}

static void put64(tc_raddr a, uint64_t v)
{
	memcpy(host(a), &v, 8);
}

static void put32(tc_raddr a, uint32_t v)
{
	memcpy(host(a), &v, 4);
}

static tc_raddr alloc(struct img *m, size_t n)
{
	size_t start = (m->used + 15) & ~(size_t)15;
	ck_assert_uint_le(start + n, CAP);
	m->used = start + n;
	return BASE + start;
}

/* A compact ASCII str. */
static tc_raddr str(struct img *m, const char *s)
{
	const struct tc_layout *l = &m->l;
	size_t n = strlen(s);
	tc_raddr o = alloc(m, (size_t)l->unicode.ascii_data + n + 1);
	uint32_t state = 1u << l->unicode.kind_shift | 1u << l->unicode.compact_bit |
			 1u << l->unicode.ascii_bit;
	if (m->minor <= 11)
		state |= 1u << (l->unicode.kind_shift + 5); /* `ready` */
	put64(o + (tc_raddr)l->object.ob_type, STR_TYPE);
	put64(o + (tc_raddr)l->unicode.length, n);
	put32(o + (tc_raddr)l->unicode.state, state);
	memcpy(host(o + (tc_raddr)l->unicode.ascii_data), s, n);
	return o;
}

static tc_raddr bytes(struct img *m, const uint8_t *b, size_t n)
{
	tc_raddr o = alloc(m, (size_t)m->l.bytes.ob_sval + n + 1);
	put64(o + (tc_raddr)m->l.object.ob_type, BYTES_TYPE);
	put64(o + (tc_raddr)m->l.bytes.ob_size, n);
	memcpy(host(o + (tc_raddr)m->l.bytes.ob_sval), b, n);
	return o;
}

/* Write a code object NAME (qualname "Q.NAME", file FILE, first line FIRST) at CO, which
 * holds l.code.size bytes; VERSION goes where 3.12 keeps co_version (inside the identity
 * span). */
static void code_at(struct img *m, tc_raddr co, const char *name, const char *file,
		    int32_t first, uint64_t version)
{
	const struct tc_layout *l = &m->l;
	static const uint8_t table[] = {0x80, 0x00, 0x84, 0x02};
	char qual[64];
	snprintf(qual, sizeof qual, "Q.%s", name);
	memset(host(co), 0, (size_t)l->code.size);
	put64(co + (tc_raddr)l->object.ob_type, CODE_TYPE);
	put64(co + (tc_raddr)l->code.filename, str(m, file));
	put64(co + (tc_raddr)l->code.name, str(m, name));
	if (l->code.qualname >= 0)
		put64(co + (tc_raddr)l->code.qualname, str(m, qual));
	put64(co + (tc_raddr)l->code.linetable, bytes(m, table, sizeof table));
	put32(co + (tc_raddr)l->code.firstlineno, (uint32_t)first);
	if (l->code.code_adaptive >= 0)
		put64(co + (tc_raddr)l->bytes.ob_size, 64); /* code units */
	if (m->minor == 12)
		put64(co + (tc_raddr)l->code.firstlineno + 24, version);
}

static tc_raddr code(struct img *m, const char *name, int32_t first, uint64_t version)
{
	tc_raddr co = alloc(m, (size_t)m->l.code.size);
	code_at(m, co, name, "/app/mod.py", first, version);
	return co;
}

/* An image of a 3.MINOR target; the reader serves the whole buffer (zeroed past use). */
static struct img *img_new(unsigned minor)
{
	struct img *m = calloc(1, sizeof *m);
	memset(mem, 0, sizeof mem);
	m->minor = minor;
	ck_assert_int_eq(tc_layout_from_table(minor == 12 ? 0x030c01f0 : 0x030a0df0, false, &m->l), 0);
	struct tc_region reg = {BASE, mem, CAP};
	ck_assert_int_eq(tc_remote_open_image(&reg, 1, &m->r), 0);
	m->t.mem = m->r;
	m->t.layout = m->l;
	m->t.code_type = CODE_TYPE;
	m->t.pthread_tid_off = -1;
	tc_walk_ctx_init(&m->x, &m->t);
	return m;
}

static void img_free(struct img *m)
{
	tc_page_cache_free(m->x.rd.pc);
	tc_remote_free(m->r);
	free(m);
}

/* A code cache of MAX entries (0: the default). */
static struct tc_code_cache *cache(size_t max)
{
	struct tc_code_cache *c = tc_code_cache_new(max);
	ck_assert_ptr_nonnull(c);
	return c;
}

static void done(struct img *m, struct tc_code_cache *c)
{
	tc_code_cache_free(c);
	img_free(m);
}

static struct tc_code_cache_stats stats(const struct tc_code_cache *c)
{
	struct tc_code_cache_stats st;
	tc_code_cache_get_stats(c, &st);
	return st;
}

/* decoded once, then hit; the fields are the object's; invalid addresses refused */
START_TEST(test_load_once_then_hit)
{
	struct img *m = img_new(12);
	tc_raddr a = code(m, "alpha", 10, 1), b = code(m, "beta", 20, 2);
	tc_raddr notcode = alloc(m, (size_t)m->l.code.size); /* room for one, another type */
	put64(notcode + (tc_raddr)m->l.object.ob_type, STR_TYPE);
	struct tc_code_cache *c = cache(0);
	const struct tc_code_info *ci, *again;

	ck_assert_int_eq(tc_code_cache_get(c, &m->x, a, &ci), 0);
	ck_assert_uint_eq(ci->addr, a);
	ck_assert_str_eq(ci->name, "alpha");
	ck_assert_str_eq(ci->qualname, "Q.alpha");
	ck_assert_str_eq(ci->filename, "/app/mod.py");
	ck_assert_int_eq(ci->firstlineno, 10);
	ck_assert_uint_eq(ci->linetable_len, 4);
	ck_assert_int_eq(ci->code_bytes, 128);
	ck_assert_uint_ne(ci->serial, 0);
	uint32_t sa = ci->serial;
	uint64_t reads = 0;
	struct tc_remote_stats rs;
	tc_remote_get_stats(m->r, &rs);
	reads = rs.reads;
	ck_assert_uint_eq(stats(c).misses, 1);
	ck_assert_uint_eq(stats(c).hits, 0);
	uint64_t changes = tc_code_cache_changes(c);

	/* a hit reads nothing and returns the same entry */
	ck_assert_int_eq(tc_code_cache_get(c, &m->x, a, &again), 0);
	ck_assert_ptr_eq(again, ci);
	ck_assert_uint_eq(again->serial, sa);
	ck_assert_int_eq(tc_code_cache_get(c, &m->x, b, &ci), 0);
	ck_assert_str_eq(ci->name, "beta");
	ck_assert_uint_ne(ci->serial, sa); /* one serial per decoded object */
	ck_assert_int_eq(tc_code_cache_get(c, &m->x, a, &ci), 0);
	ck_assert_uint_eq(ci->serial, sa);
	tc_remote_get_stats(m->r, &rs);
	ck_assert_uint_gt(rs.reads, reads); /* b was read */
	reads = rs.reads;
	ck_assert_int_eq(tc_code_cache_get(c, &m->x, b, &ci), 0);
	tc_remote_get_stats(m->r, &rs);
	ck_assert_uint_eq(rs.reads, reads); /* hits read nothing */
	struct tc_code_cache_stats st = stats(c);
	ck_assert_uint_eq(st.misses, 2);
	ck_assert_uint_eq(st.hits, 3);
	ck_assert_uint_eq(st.entries, 2);
	ck_assert_uint_eq(st.capacity, 4096);
	ck_assert_uint_eq(tc_code_cache_changes(c), changes + 1); /* b's decode only */

	/* refused: no address, not a code object, not mapped; nothing is kept */
	ck_assert_int_eq(tc_code_cache_get(c, &m->x, 0, &ci), -TC_ECORRUPT);
	ck_assert_int_eq(tc_code_cache_get(c, &m->x, notcode, &ci), -TC_ECORRUPT);
	ck_assert_int_eq(tc_code_cache_get(c, &m->x, 0xdead0000, &ci), -TC_EFAULT);
	st = stats(c);
	ck_assert_uint_eq(st.failures, 2);
	ck_assert_uint_eq(st.entries, 2);
	/* a failed address is tried again (it may hold a code object later) */
	code_at(m, notcode, "late", "/app/late.py", 5, 3);
	ck_assert_int_eq(tc_code_cache_get(c, &m->x, notcode, &ci), 0);
	ck_assert_str_eq(ci->name, "late");
	tc_code_cache_free(NULL);
	done(m, c);
}
END_TEST

/* 3.12: a code object freed and another allocated at its address is noticed on the entry's
 * first use in a walk (its co_version differs) and decoded afresh under a new serial */
START_TEST(test_replaced_at_same_address)
{
	struct img *m = img_new(12);
	tc_raddr a = code(m, "first", 10, 100);
	struct tc_code_cache *c = cache(0);
	const struct tc_code_info *ci;
	ck_assert_int_gt(m->l.code.ident_len, 0);

	tc_code_cache_begin_walk(c);
	ck_assert_int_eq(tc_code_cache_get_checked(c, &m->x, a, &ci), 0);
	uint32_t s1 = ci->serial;
	ck_assert_int_eq(tc_code_cache_get_checked(c, &m->x, a, &ci), 0);
	ck_assert_uint_eq(stats(c).checks, 0); /* decoded in this walk: nothing to compare */

	/* the same object in the next walk: compared once, kept */
	tc_code_cache_begin_walk(c);
	ck_assert_int_eq(tc_code_cache_get_checked(c, &m->x, a, &ci), 0);
	ck_assert_int_eq(tc_code_cache_get_checked(c, &m->x, a, &ci), 0);
	ck_assert_uint_eq(ci->serial, s1);
	ck_assert_uint_eq(stats(c).checks, 1);
	ck_assert_uint_eq(stats(c).replaced, 0);

	/* another code object at the same address */
	code_at(m, a, "second", "/app/other.py", 77, 101);
	uint64_t changes = tc_code_cache_changes(c);
	/* within the walk that already compared it, the entry stands */
	ck_assert_int_eq(tc_code_cache_get_checked(c, &m->x, a, &ci), 0);
	ck_assert_str_eq(ci->name, "first");
	/* the next walk compares, and decodes the new object */
	tc_code_cache_begin_walk(c);
	ck_assert_int_eq(tc_code_cache_get_checked(c, &m->x, a, &ci), 0);
	ck_assert_str_eq(ci->name, "second");
	ck_assert_str_eq(ci->filename, "/app/other.py");
	ck_assert_int_eq(ci->firstlineno, 77);
	ck_assert_uint_ne(ci->serial, s1);
	struct tc_code_cache_stats st = stats(c);
	ck_assert_uint_eq(st.replaced, 1);
	ck_assert_uint_eq(st.checks, 2);
	ck_assert_uint_eq(st.entries, 1);
	ck_assert_uint_gt(tc_code_cache_changes(c), changes);
	/* the unchecked lookup sees the replacement too */
	const struct tc_code_info *plain;
	ck_assert_int_eq(tc_code_cache_get(c, &m->x, a, &plain), 0);
	ck_assert_ptr_eq(plain, ci);
	/* replaced by something that is not a code object: refused, and forgotten */
	memset(host(a), 0, (size_t)m->l.code.size);
	tc_code_cache_begin_walk(c);
	ck_assert_int_lt(tc_code_cache_get_checked(c, &m->x, a, &ci), 0);
	done(m, c);
}
END_TEST

/* 3.10 keeps no version counter: the identity is the immutable fields and the name's bytes,
 * so a new object with the same fields but another name is noticed too */
START_TEST(test_replaced_name_310)
{
	struct img *m = img_new(10);
	tc_raddr a = code(m, "samelen1", 10, 0);
	struct tc_code_cache *c = cache(0);
	const struct tc_code_info *ci;
	ck_assert(m->l.code.ident_name);
	tc_code_cache_begin_walk(c);
	ck_assert_int_eq(tc_code_cache_get_checked(c, &m->x, a, &ci), 0);
	ck_assert_str_eq(ci->qualname, "samelen1"); /* no co_qualname before 3.11 */
	uint32_t s1 = ci->serial;
	/* same name pointer, its bytes changed (a new str at the reused address) */
	tc_raddr name = tc_get_u64(host(a), (size_t)m->l.code.name);
	memcpy(host(name + (tc_raddr)m->l.unicode.ascii_data), "samelen2", 8);
	tc_code_cache_begin_walk(c);
	ck_assert_int_eq(tc_code_cache_get_checked(c, &m->x, a, &ci), 0);
	ck_assert_str_eq(ci->name, "samelen2");
	ck_assert_uint_ne(ci->serial, s1);
	ck_assert_uint_eq(stats(c).replaced, 1);
	done(m, c);
}
END_TEST

/* clearing forgets every entry (a flush); bounded with LRU eviction; through a page cache */
START_TEST(test_clear_and_bound)
{
	struct img *m = img_new(12);
	tc_raddr co[10];
	char name[16];
	for (int k = 0; k < 10; k++) {
		snprintf(name, sizeof name, "f%d", k);
		co[k] = code(m, name, k + 1, (uint64_t)k + 1);
	}
	ck_assert_int_eq(tc_page_cache_new(m->r, 0, &m->x.rd.pc), 0);
	struct tc_code_cache *c = cache(8);
	const struct tc_code_info *ci;
	for (int k = 0; k < 8; k++)
		ck_assert_int_eq(tc_code_cache_get(c, &m->x, co[k], &ci), 0);
	ck_assert_uint_eq(stats(c).entries, 8);
	ck_assert_uint_eq(stats(c).capacity, 8);
	/* 5, 6 and 7 are the least recent after using 0..4 again */
	for (int k = 0; k < 5; k++)
		ck_assert_int_eq(tc_code_cache_get(c, &m->x, co[k], &ci), 0);
	ck_assert_int_eq(tc_code_cache_get(c, &m->x, co[8], &ci), 0); /* full: half goes */
	struct tc_code_cache_stats st = stats(c);
	ck_assert_uint_eq(st.evictions, 4);
	ck_assert_uint_eq(st.entries, 5);
	uint64_t misses = st.misses;
	for (int k = 1; k < 5; k++) { /* the four most recent stayed */
		ck_assert_int_eq(tc_code_cache_get(c, &m->x, co[k], &ci), 0);
		snprintf(name, sizeof name, "f%d", k);
		ck_assert_str_eq(ci->name, name);
	}
	ck_assert_int_eq(tc_code_cache_get(c, &m->x, co[8], &ci), 0);
	ck_assert_uint_eq(stats(c).misses, misses);
	ck_assert_int_eq(tc_code_cache_get(c, &m->x, co[6], &ci), 0); /* evicted: read again */
	ck_assert_str_eq(ci->name, "f6");
	ck_assert_uint_eq(stats(c).misses, misses + 1);
	/* many more objects than room: never more entries than the bound */
	for (int round = 0; round < 5; round++)
		for (int k = 0; k < 10; k++) {
			ck_assert_int_eq(tc_code_cache_get(c, &m->x, co[k], &ci), 0);
			ck_assert_uint_le(stats(c).entries, 8);
		}
	/* clear: empty, counted, and what comes back is decoded anew under a new serial */
	ck_assert_int_eq(tc_code_cache_get(c, &m->x, co[9], &ci), 0);
	uint32_t s9 = ci->serial;
	uint64_t changes = tc_code_cache_changes(c), flushes = stats(c).flushes;
	tc_code_cache_clear(c);
	st = stats(c);
	ck_assert_uint_eq(st.entries, 0);
	ck_assert_uint_eq(st.flushes, flushes + 1);
	ck_assert_uint_eq(tc_code_cache_changes(c), changes + 1);
	ck_assert_int_eq(tc_code_cache_get(c, &m->x, co[9], &ci), 0);
	ck_assert_str_eq(ci->name, "f9");
	ck_assert_uint_ne(ci->serial, s9);
	done(m, c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("code_cache");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_load_once_then_hit);
	tcase_add_test(tc, test_replaced_at_same_address);
	tcase_add_test(tc, test_replaced_name_310);
	tcase_add_test(tc, test_clear_and_bound);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return tc_test_run(s);
}
