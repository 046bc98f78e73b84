/* SPDX-License-Identifier: MIT */
/* Unit tests for reader/maps.c: parsing every kind of maps line, rejecting malformed ones,
 * lookup by address, and reading the live maps of this process and of missing or
 * forbidden ones. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reader/maps.h"
#include "skip.h"

static const char sample[] =
	"55d0c8a00000-55d0c8a28000 r--p 00000000 fd:01 1234567                    /usr/bin/python3.11\n"
	"55d0c8a28000-55d0c8c00000 r-xp 00028000 fd:01 1234567                    /usr/bin/python3.11\n"
	"55d0c9000000-55d0c9100000 rw-p 00000000 00:00 0                          [heap]\n"
	"7f0000000000-7f0000021000 rw-p 00000000 00:00 0 \n"
	"7f1000000000-7f1000001000 r--s 00001000 08:02 42                         /tmp/my dir/lib with spaces.so\n"
	"7f2000000000-7f2000002000 r-xp 00000000 08:02 43                         /tmp/gone.so (deleted)\n"
	"7f3000000000-7f3000001000 r--p 00000000 08:02 44                         /tmp/a (deleted) b\n"
	"7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n"
	"7ffd00100000-7ffd00102000 r-xp 00000000 00:00 0                          [vdso]\n"
	"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]";

START_TEST(test_parse_sample)
{
	struct tc_maps m = { 0 };

	ck_assert_int_eq(tc_maps_parse(sample, strlen(sample), &m), 0);
	ck_assert_uint_eq(m.n, 10);

	ck_assert_uint_eq(m.v[0].start, 0x55d0c8a00000ull);
	ck_assert_uint_eq(m.v[0].end, 0x55d0c8a28000ull);
	ck_assert(m.v[0].r && !m.v[0].w && !m.v[0].x && m.v[0].p);
	ck_assert_uint_eq(m.v[0].offset, 0);
	ck_assert_uint_eq(m.v[0].dev_major, 0xfd);
	ck_assert_uint_eq(m.v[0].dev_minor, 1);
	ck_assert_uint_eq(m.v[0].inode, 1234567);
	ck_assert_str_eq(m.v[0].path, "/usr/bin/python3.11");
	ck_assert(!m.v[0].deleted);

	ck_assert(m.v[1].x);
	ck_assert_uint_eq(m.v[1].offset, 0x28000);

	ck_assert_str_eq(m.v[2].path, "[heap]");
	ck_assert(m.v[2].w);

	/* anonymous, with the trailing space the kernel leaves */
	ck_assert_str_eq(m.v[3].path, "");
	ck_assert_uint_eq(m.v[3].inode, 0);

	ck_assert_str_eq(m.v[4].path, "/tmp/my dir/lib with spaces.so");
	ck_assert(!m.v[4].p);
	ck_assert_uint_eq(m.v[4].dev_major, 8);
	ck_assert_uint_eq(m.v[4].dev_minor, 2);

	ck_assert_str_eq(m.v[5].path, "/tmp/gone.so");
	ck_assert(m.v[5].deleted);

	/* " (deleted)" only counts as a suffix */
	ck_assert_str_eq(m.v[6].path, "/tmp/a (deleted) b");
	ck_assert(!m.v[6].deleted);

	ck_assert_str_eq(m.v[7].path, "[stack]");
	ck_assert_str_eq(m.v[8].path, "[vdso]");
	ck_assert_str_eq(m.v[9].path, "[vsyscall]");
	ck_assert_uint_eq(m.v[9].start, 0xffffffffff600000ull);
	ck_assert(!m.v[9].r && m.v[9].x);
	tc_maps_free(&m);
	ck_assert_ptr_null(m.v);
	ck_assert_uint_eq(m.n, 0);
}
END_TEST

START_TEST(test_parse_empty)
{
	struct tc_maps m = { 0 };

	ck_assert_int_eq(tc_maps_parse("", 0, &m), 0);
	ck_assert_uint_eq(m.n, 0);
	tc_maps_free(&m);
	ck_assert_int_eq(tc_maps_parse("\n\n", 2, &m), 0);
	ck_assert_uint_eq(m.n, 0);
	tc_maps_free(&m);
	tc_maps_free(&m); /* twice: a zeroed struct is fine */
}
END_TEST

static const char *const malformed[] = {
	"garbage\n",
	"1000 r--p 00000000 00:00 0\n",                      /* no end */
	"1000-2000 r--p 00000000 00:00\n",                    /* no inode */
	"1000-2000 rq-p 00000000 00:00 0\n",                  /* bad perm */
	"1000-2000 r--x 00000000 00:00 0\n",                  /* bad share flag */
	"1000-2000 r--p 0000zz00 00:00 0 /x\n",               /* bad offset */
	"1000-2000 r--p 00000000 0000 0 /x\n",                /* bad dev */
	"1000-2000 r--p 00000000 00:00 12ab /x\n",            /* inode not decimal */
	"2000-1000 r--p 00000000 00:00 0\n",                  /* end before start */
	"11112222333344445-2000 r--p 00000000 00:00 0\n",     /* 17 hex digits */
	"1000-2000 r--p 00000000 00:00 99999999999999999999 /x\n", /* inode overflows */
	"1000-2000 r--p 00000000 00:00 0\n3000-\n",          /* good then truncated */
};

START_TEST(test_parse_malformed)
{
	struct tc_maps m = { 0 };
	const char *t = malformed[_i];

	ck_assert_int_eq(tc_maps_parse(t, strlen(t), &m), -TC_EINVAL);
	ck_assert_ptr_null(m.v);
	ck_assert_uint_eq(m.n, 0);
}
END_TEST

START_TEST(test_parse_no_newline_and_len)
{
	static const char t[] = "1000-2000 r--p 00000000 00:00 0 /a\n3000-4000 r--p 0 00:00 0 /b";
	struct tc_maps m = { 0 };

	ck_assert_int_eq(tc_maps_parse(t, strlen(t), &m), 0);
	ck_assert_uint_eq(m.n, 2);
	ck_assert_str_eq(m.v[1].path, "/b");
	tc_maps_free(&m);
	/* only LEN bytes count: the second line is cut inside its path */
	ck_assert_int_eq(tc_maps_parse(t, strlen(t) - 1, &m), 0);
	ck_assert_uint_eq(m.n, 2);
	ck_assert_str_eq(m.v[1].path, "/");
	tc_maps_free(&m);
}
END_TEST

START_TEST(test_find)
{
	/* out of order on purpose: find must still work */
	static const char t[] = "5000-6000 r--p 0 00:00 0 /c\n"
				"1000-2000 r--p 0 00:00 0 /a\n"
				"2000-3000 r--p 0 00:00 0 /b\n";
	struct tc_maps m = { 0 };
	const struct tc_map *f;

	ck_assert_int_eq(tc_maps_parse(t, strlen(t), &m), 0);
	ck_assert_uint_eq(m.n, 3);
	ck_assert_ptr_null(tc_maps_find(&m, 0xfff));
	f = tc_maps_find(&m, 0x1000);
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->path, "/a");
	f = tc_maps_find(&m, 0x1fff);
	ck_assert_str_eq(f->path, "/a");
	f = tc_maps_find(&m, 0x2000); /* end is exclusive */
	ck_assert_str_eq(f->path, "/b");
	ck_assert_ptr_null(tc_maps_find(&m, 0x3000));
	ck_assert_ptr_null(tc_maps_find(&m, 0x4fff));
	f = tc_maps_find(&m, 0x5800);
	ck_assert_str_eq(f->path, "/c");
	ck_assert_ptr_null(tc_maps_find(&m, 0x6000));
	tc_maps_free(&m);
	ck_assert_ptr_null(tc_maps_find(&m, 0x1000));
}
END_TEST

static int marker_global = 1;

/* A plain function whose address must fall in an executable mapping of this binary
 * (START_TEST names are not functions in every Check version). */
__attribute__((noinline)) static int marker_fn(int x)
{
	return x + marker_global;
}

START_TEST(test_read_self)
{
	struct tc_maps m = { 0 };
	const struct tc_map *f;
	int local = 0;
	char *heap = malloc(64);

	ck_assert_int_eq(tc_maps_read(getpid(), &m), 0);
	ck_assert_uint_gt(m.n, 5);

	f = tc_maps_find(&m, (tc_raddr)(uintptr_t)&marker_fn);
	ck_assert_ptr_nonnull(f);
	ck_assert(f->x && f->r);
	ck_assert_ptr_nonnull(strstr(f->path, "test_maps"));

	f = tc_maps_find(&m, (tc_raddr)(uintptr_t)&marker_global);
	ck_assert_ptr_nonnull(f);
	ck_assert(f->w);

	f = tc_maps_find(&m, (tc_raddr)(uintptr_t)&local);
	ck_assert_ptr_nonnull(f);
	ck_assert(f->w && !f->x);

	f = tc_maps_find(&m, (tc_raddr)(uintptr_t)heap);
	ck_assert_ptr_nonnull(f);
	ck_assert(f->w);
	free(heap);
	tc_maps_free(&m);
}
END_TEST

START_TEST(test_read_missing)
{
	struct tc_maps m = { 0 };
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(tc_maps_read(pid, &m), -TC_ESRCH);
	ck_assert_int_eq(tc_maps_read(0x7ffffff0, &m), -TC_ESRCH);
	ck_assert_int_eq(tc_maps_read(0, &m), -TC_ESRCH);
	ck_assert_ptr_null(m.v);
}
END_TEST

/* A process that dropped to another uid may not read our maps: -TC_EPERM, not ESRCH. */
static int read_eperm(pid_t parent)
{
	struct tc_maps m = { 0 };
	int rc = tc_maps_read(parent, &m);

	tc_maps_free(&m);
	return rc != -TC_EPERM;
}

START_TEST(test_read_eperm)
{
	TC_AS_NOBODY(read_eperm);
}
END_TEST

/* A zombie still exists; its maps are empty, not an error. */
START_TEST(test_read_zombie)
{
	struct tc_maps m = { 0 };
	pid_t pid = fork();
	int st;
	char path[64];

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	/* wait until it is a zombie without reaping it */
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	for (int i = 0; i < 2000; i++) {
		char buf[256] = { 0 };
		FILE *f = fopen(path, "r");
		char *rp;

		ck_assert_ptr_nonnull(f);
		ck_assert_ptr_nonnull(fgets(buf, sizeof buf, f));
		fclose(f);
		rp = strrchr(buf, ')');
		if (rp && rp[2] == 'Z')
			break;
		usleep(1000);
	}
	ck_assert_int_eq(tc_maps_read(pid, &m), 0);
	ck_assert_uint_eq(m.n, 0);
	tc_maps_free(&m);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
}
END_TEST

static Suite *maps_suite(void)
{
	Suite *s = suite_create("maps");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_parse_sample);
	tcase_add_test(tc, test_parse_empty);
	tcase_add_loop_test(tc, test_parse_malformed, 0, (int)(sizeof malformed / sizeof *malformed));
	tcase_add_test(tc, test_parse_no_newline_and_len);
	tcase_add_test(tc, test_find);
	tcase_add_test(tc, test_read_self);
	tcase_add_test(tc, test_read_missing);
	tcase_add_test(tc, test_read_eperm);
	tcase_add_test(tc, test_read_zombie);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tc_test_run(maps_suite());
}
