/* SPDX-License-Identifier: MIT */
/* Unit tests for reader/remote.c. A forked child stands in for the target: fork keeps
 * addresses, and the child rewrites its buffer after the fork, so a read that returns the
 * child's bytes cannot have come from the parent's copy. Covers single and batched reads
 * (more than IOV_MAX ranges), unmapped ranges, exited targets, a forbidden target, the
 * /proc/PID/mem fallback (process_vm_readv blocked by a seccomp filter) and the image
 * backend. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reader/remote.h"
#include "skip.h"

#define BUF_LEN 65536
#define NRANGES 3000

static unsigned char childbuf[BUF_LEN];
static unsigned char *hole; /* one readable page followed by an unmapped one */
static long page;

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 7 + 3);
}

/* The page after HOLE must still be unmapped when a child is forked (nothing we allocate
 * may have landed there), or the EFAULT checks would prove nothing. */
static bool hole_unmapped(void)
{
	unsigned char vec;

	return mincore(hole + page, (size_t)page, &vec) == -1 && errno == ENOMEM;
}

/* A child that fills CHILDBUF with the pattern (the parent keeps zeros), says so on a pipe,
 * and lives until the parent closes its stdin. */
struct child {
	pid_t pid;
	int in;
};

static void child_main(int in, int out)
{
	char c;

	for (size_t i = 0; i < BUF_LEN; i++)
		childbuf[i] = pattern(i);
	if (write(out, "r", 1) != 1)
		_exit(1);
	while (read(in, &c, 1) > 0)
		;
	_exit(0);
}

/* Returns 0 or -1; no Check asserts, so it is also usable from helper processes. */
static int spawn(struct child *ch)
{
	int to[2], from[2];
	char c;

	memset(childbuf, 0, sizeof childbuf);
	if (!hole_unmapped())
		return -1;
	if (pipe2(to, O_CLOEXEC) || pipe2(from, O_CLOEXEC))
		return -1;
	ch->pid = fork();
	if (ch->pid < 0)
		return -1;
	if (ch->pid == 0) {
		close(to[1]);
		close(from[0]);
		child_main(to[0], from[1]);
	}
	close(to[0]);
	close(from[1]);
	ch->in = to[1];
	if (read(from[0], &c, 1) != 1) {
		close(from[0]);
		return -1;
	}
	close(from[0]);
	return 0;
}

static void reap(struct child *ch)
{
	int st;

	close(ch->in);
	kill(ch->pid, SIGKILL);
	waitpid(ch->pid, &st, 0);
}

static tc_raddr raddr(const void *p)
{
	return (tc_raddr)(uintptr_t)p;
}

START_TEST(test_read_child)
{
	struct child ch;
	struct tc_remote *r = NULL;
	static unsigned char got[BUF_LEN];
	struct tc_remote_stats st;

	ck_assert_int_eq(spawn(&ch), 0);
	ck_assert_uint_eq(childbuf[1], 0); /* our copy was never written */
	ck_assert_int_eq(tc_remote_open(ch.pid, &r), 0);
	ck_assert_int_eq(tc_remote_pid(r), ch.pid);
	ck_assert_int_eq(tc_remote_read(r, raddr(childbuf), got, sizeof got), 0);
	for (size_t i = 0; i < BUF_LEN; i++)
		ck_assert_uint_eq(got[i], pattern(i));
	memset(got, 0, 16);
	ck_assert_int_eq(tc_remote_read(r, raddr(childbuf + 1001), got, 5), 0);
	for (size_t i = 0; i < 5; i++)
		ck_assert_uint_eq(got[i], pattern(1001 + i));
	ck_assert_int_eq(tc_remote_read(r, raddr(childbuf), got, 0), 0);
	ck_assert_int_eq(tc_remote_read(r, 8, got, 0), 0); /* nothing asked, nothing faults */
	tc_remote_get_stats(r, &st);
	ck_assert_uint_eq(st.reads, 4);
	ck_assert_uint_eq(st.bytes, BUF_LEN + 5);
	ck_assert_uint_ge(st.syscalls, 2);
	tc_remote_free(r);
	reap(&ch);
}
END_TEST

/* More ranges than one process_vm_readv takes: three syscalls for 3000 ranges. */
START_TEST(test_batch)
{
	struct child ch;
	struct tc_remote *r = NULL;
	static struct tc_riov v[NRANGES];
	static uint64_t out[NRANGES];
	struct tc_remote_stats a, b;

	ck_assert_int_eq(spawn(&ch), 0);
	ck_assert_int_eq(tc_remote_open(ch.pid, &r), 0);
	for (size_t i = 0; i < NRANGES; i++) {
		size_t off = (i * 40) % (BUF_LEN - 8);

		v[i] = (struct tc_riov){ raddr(childbuf + off), &out[i], sizeof out[i] };
		out[i] = 0;
	}
	tc_remote_get_stats(r, &a);
	ck_assert_int_eq(tc_remote_readv(r, v, NRANGES), 0);
	tc_remote_get_stats(r, &b);
	ck_assert_uint_eq(b.syscalls - a.syscalls, (NRANGES + 1023) / 1024);
	ck_assert_uint_eq(b.reads - a.reads, NRANGES);
	ck_assert_uint_eq(b.bytes - a.bytes, NRANGES * sizeof(uint64_t));
	for (size_t i = 0; i < NRANGES; i++) {
		size_t off = (i * 40) % (BUF_LEN - 8);
		const unsigned char *p = (const unsigned char *)&out[i];

		for (size_t k = 0; k < 8; k++)
			ck_assert_uint_eq(p[k], pattern(off + k));
	}
	ck_assert_int_eq(tc_remote_readv(r, v, 0), 0);
	tc_remote_free(r);
	reap(&ch);
}
END_TEST

START_TEST(test_efault)
{
	struct child ch;
	struct tc_remote *r = NULL;
	unsigned char got[64];
	uint64_t a = 0, b = 0, c = 0, d = 0xdddd;
	static struct tc_riov v[NRANGES];
	static uint64_t out[NRANGES];
	size_t bad = 1500;

	ck_assert_int_eq(spawn(&ch), 0);
	ck_assert_int_eq(tc_remote_open(ch.pid, &r), 0);
	ck_assert_int_eq(tc_remote_read(r, 8, got, 8), -TC_EFAULT);
	ck_assert_int_eq(tc_remote_read(r, raddr(hole), got, 8), 0);
	ck_assert_int_eq(tc_remote_read(r, raddr(hole + page), got, 8), -TC_EFAULT);
	/* straddling into the unmapped page */
	ck_assert_int_eq(tc_remote_read(r, raddr(hole + page - 4), got, 8), -TC_EFAULT);
	/* wrapping past the top of the address space */
	ck_assert_int_eq(tc_remote_read(r, UINT64_MAX - 3, got, 8), -TC_EFAULT);
	ck_assert_int_eq(tc_remote_read(r, 0xffff800000000000ull, got, 8), -TC_EFAULT);

	/* a batch stops at the bad range: the ones before it are filled */
	{
		struct tc_riov w[4] = {
			{ raddr(childbuf), &a, 8 },
			{ raddr(childbuf + 8), &b, 8 },
			{ raddr(hole + page), &c, 8 },
			{ raddr(childbuf + 16), &d, 8 },
		};

		ck_assert_int_eq(tc_remote_readv(r, w, 4), -TC_EFAULT);
		ck_assert_uint_eq(((unsigned char *)&a)[0], pattern(0));
		ck_assert_uint_eq(((unsigned char *)&b)[7], pattern(15));
		ck_assert_uint_eq(d, 0xdddd);
	}
	/* same across syscall batches */
	for (size_t i = 0; i < NRANGES; i++) {
		v[i] = (struct tc_riov){ raddr(childbuf + i * 8 % BUF_LEN), &out[i], 8 };
		out[i] = 0;
	}
	v[bad].addr = raddr(hole + page);
	ck_assert_int_eq(tc_remote_readv(r, v, NRANGES), -TC_EFAULT);
	for (size_t k = 0; k < 8; k++)
		ck_assert_uint_eq(((unsigned char *)&out[bad - 1])[k], pattern((bad - 1) * 8 % BUF_LEN + k));
	ck_assert_uint_eq(out[NRANGES - 1], 0);
	/* a wrapping range in a batch also stops it, after what precedes it */
	v[bad].addr = UINT64_MAX - 3;
	out[bad - 1] = 0;
	ck_assert_int_eq(tc_remote_readv(r, v, NRANGES), -TC_EFAULT);
	ck_assert_uint_ne(out[bad - 1], 0);
	tc_remote_free(r);
	reap(&ch);
}
END_TEST

START_TEST(test_esrch)
{
	struct child ch;
	struct tc_remote *r = NULL;
	unsigned char got[8];
	pid_t pid;
	int st;

	/* gone before open */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(tc_remote_open(pid, &r), -TC_ESRCH);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(tc_remote_open(0, &r), -TC_ESRCH);
	ck_assert_int_eq(tc_remote_open(-5, &r), -TC_ESRCH);

	/* gone while open: first a zombie, then reaped */
	ck_assert_int_eq(spawn(&ch), 0);
	ck_assert_int_eq(tc_remote_open(ch.pid, &r), 0);
	ck_assert_int_eq(tc_remote_read(r, raddr(childbuf), got, sizeof got), 0);
	close(ch.in);
	kill(ch.pid, SIGKILL);
	ck_assert_int_eq(waitid(P_PID, (id_t)ch.pid, &(siginfo_t){ 0 }, WEXITED | WNOWAIT), 0);
	ck_assert_int_eq(tc_remote_read(r, raddr(childbuf), got, sizeof got), -TC_ESRCH);
	ck_assert_int_eq(waitpid(ch.pid, &st, 0), ch.pid);
	ck_assert_int_eq(tc_remote_read(r, raddr(childbuf), got, sizeof got), -TC_ESRCH);
	tc_remote_free(r);
}
END_TEST

/* Another uid may not read us: -TC_EPERM from open. Needs root to switch uid. */
static int open_eperm(pid_t parent)
{
	struct tc_remote *r = NULL;
	int rc = tc_remote_open(parent, &r);
	bool ok = rc == -TC_EPERM && !r;

	tc_remote_free(r);
	return !ok;
}

START_TEST(test_eperm)
{
	TC_AS_NOBODY(open_eperm);
}
END_TEST

/* Is one of our fds /proc/PID/mem, and is every such fd open read-only? 1 yes, 0 no fd,
 * -1 one is writable. */
static int mem_fd_state(pid_t pid)
{
	char want[64], link[128], path[300], line[256];
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int found = 0;

	if (!d)
		return 0;
	snprintf(want, sizeof want, "/proc/%d/mem", (int)pid);
	while ((de = readdir(d)) != NULL) {
		ssize_t n;
		FILE *f;

		snprintf(path, sizeof path, "/proc/self/fd/%s", de->d_name);
		n = readlink(path, link, sizeof link - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (strcmp(link, want) != 0)
			continue;
		snprintf(path, sizeof path, "/proc/self/fdinfo/%s", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof line, f)) {
			unsigned long flags;

			if (sscanf(line, "flags: %lo", &flags) == 1) {
				if ((flags & O_ACCMODE) != O_RDONLY)
					found = -1;
				else if (found == 0)
					found = 1;
			}
		}
		fclose(f);
	}
	closedir(d);
	return found;
}

/* Runs in a helper process with process_vm_readv denied by seccomp (errno ERR). Returns an
 * exit code: 0 pass, 77 cannot set up, else the failing step. */
static int mem_fallback_body(int err)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_process_vm_readv, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = TC_ARRAY_LEN(filter), .filter = filter };
	struct child ch;
	struct tc_remote *r = NULL;
	struct tc_remote_stats st;
	static unsigned char got[BUF_LEN];
	static struct tc_riov v[NRANGES];
	static uint64_t out[NRANGES];
	struct iovec l = { got, 1 }, rv = { childbuf, 1 };
	int rc = 0;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		return 77;
	if (process_vm_readv(getpid(), &l, 1, &rv, 1, 0) != -1 || errno != err)
		return 2;
	if (spawn(&ch))
		return 3;
	if (tc_remote_open(ch.pid, &r)) {
		rc = 4;
		goto out;
	}
	if (mem_fd_state(ch.pid) != 1) {
		rc = 5;
		goto out;
	}
	if (tc_remote_read(r, raddr(childbuf), got, sizeof got)) {
		rc = 6;
		goto out;
	}
	for (size_t i = 0; i < BUF_LEN; i++)
		if (got[i] != pattern(i)) {
			rc = 7;
			goto out;
		}
	for (size_t i = 0; i < NRANGES; i++)
		v[i] = (struct tc_riov){ raddr(childbuf + i * 8 % BUF_LEN), &out[i], 8 };
	if (tc_remote_readv(r, v, NRANGES) ||
	    ((unsigned char *)&out[5])[0] != pattern(40)) {
		rc = 8;
		goto out;
	}
	if (tc_remote_read(r, raddr(hole + page - 4), got, 8) != -TC_EFAULT ||
	    tc_remote_read(r, 8, got, 8) != -TC_EFAULT ||
	    tc_remote_read(r, 0xffff800000000000ull, got, 8) != -TC_EFAULT) {
		rc = 9;
		goto out;
	}
	tc_remote_get_stats(r, &st);
	if (st.syscalls < NRANGES || st.reads != NRANGES + 4) {
		rc = 10;
		goto out;
	}
	reap(&ch);
	ch.pid = 0;
	if (tc_remote_read(r, raddr(childbuf), got, 8) != -TC_ESRCH)
		rc = 11;
out:
	tc_remote_free(r);
	if (ch.pid)
		reap(&ch);
	return rc;
}

START_TEST(test_mem_fallback)
{
	static const int errs[] = { ENOSYS, EPERM };
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(mem_fallback_body(errs[_i]));
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st), "helper died with signal %d", WTERMSIG(st));
	if (WEXITSTATUS(st) == 77)
		TC_SKIP("no seccomp here");
	ck_assert_int_eq(WEXITSTATUS(st), 0);
}
END_TEST

START_TEST(test_image)
{
	unsigned char r1[16], r2[16], r3[4], got[64];
	/* out of order on purpose */
	struct tc_region regs[] = {
		{ 0x5000, r3, sizeof r3 },
		{ 0x1010, r2, sizeof r2 },
		{ 0x1000, r1, sizeof r1 },
	};
	struct tc_remote *r = NULL;
	struct tc_remote_stats st;
	uint64_t a = 0, b = 0, c = 0xcccc;

	for (int i = 0; i < 16; i++) {
		r1[i] = (unsigned char)i;
		r2[i] = (unsigned char)(100 + i);
	}
	memcpy(r3, "abcd", 4);
	ck_assert_int_eq(tc_remote_open_image(regs, TC_ARRAY_LEN(regs), &r), 0);
	regs[0].addr = 0x9999; /* the array was copied */
	ck_assert_int_eq(tc_remote_pid(r), 0);

	ck_assert_int_eq(tc_remote_read(r, 0x1004, got, 4), 0);
	ck_assert_uint_eq(got[0], 4);
	ck_assert_uint_eq(got[3], 7);
	/* spans two adjacent regions like two adjacent mappings */
	ck_assert_int_eq(tc_remote_read(r, 0x1000, got, 32), 0);
	for (int i = 0; i < 32; i++)
		ck_assert_uint_eq(got[i], i < 16 ? i : 100 + i - 16);
	ck_assert_int_eq(tc_remote_read(r, 0x1000, got, 33), -TC_EFAULT);
	ck_assert_int_eq(tc_remote_read(r, 0x0fff, got, 2), -TC_EFAULT);
	ck_assert_int_eq(tc_remote_read(r, 0x1020, got, 1), -TC_EFAULT);
	ck_assert_int_eq(tc_remote_read(r, 0x5000, got, 4), 0);
	ck_assert_int_eq(memcmp(got, "abcd", 4), 0);
	ck_assert_int_eq(tc_remote_read(r, 0x5001, got, 4), -TC_EFAULT);
	ck_assert_int_eq(tc_remote_read(r, 0x9999, got, 1), -TC_EFAULT);
	ck_assert_int_eq(tc_remote_read(r, UINT64_MAX, got, 2), -TC_EFAULT);
	ck_assert_int_eq(tc_remote_read(r, 0x7777, got, 0), 0);
	{
		struct tc_riov v[3] = {
			{ 0x1000, &a, 8 },
			{ 0x2000, &b, 8 },
			{ 0x1008, &c, 8 },
		};

		ck_assert_int_eq(tc_remote_readv(r, v, 3), -TC_EFAULT);
		ck_assert_uint_eq(((unsigned char *)&a)[7], 7);
		ck_assert_uint_eq(c, 0xcccc);
	}
	tc_remote_get_stats(r, &st);
	ck_assert_uint_eq(st.syscalls, 0);
	ck_assert_uint_eq(st.reads, 13);
	ck_assert_uint_eq(st.bytes, 4 + 32 + 33 + 2 + 1 + 4 + 4 + 1 + 2 + 0 + 24);
	tc_remote_free(r);

	ck_assert_int_eq(tc_remote_open_image(NULL, 0, &r), 0);
	ck_assert_int_eq(tc_remote_read(r, 0, got, 1), -TC_EFAULT);
	ck_assert_int_eq(tc_remote_read(r, 0, got, 0), 0);
	tc_remote_free(r);
	tc_remote_free(NULL);
}
END_TEST

static Suite *remote_suite(void)
{
	Suite *s = suite_create("remote");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_read_child);
	tcase_add_test(tc, test_batch);
	tcase_add_test(tc, test_efault);
	tcase_add_test(tc, test_esrch);
	tcase_add_test(tc, test_eperm);
	tcase_add_loop_test(tc, test_mem_fallback, 0, 2);
	tcase_add_test(tc, test_image);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int status;

	page = sysconf(_SC_PAGESIZE);
	hole = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (hole == MAP_FAILED)
		return EXIT_FAILURE;
	munmap(hole + page, (size_t)page);
	memset(hole, 0x5a, (size_t)page);
	status = tc_test_run(remote_suite());
	munmap(hole, (size_t)page);
	return status;
}
