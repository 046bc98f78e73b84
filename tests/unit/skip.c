/* SPDX-License-Identifier: MIT */
/* See skip.h. The log is one anonymous shared page mapped by a constructor, so every test's
 * forked child writes into the same page the parent reads after srunner_run_all. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "skip.h"

struct skip_log {
	int n;
	char why[4000];
};

static struct skip_log *skips;

__attribute__((constructor)) static void skip_map(void)
{
	void *p = mmap(NULL, sizeof *skips, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	skips = p == MAP_FAILED ? NULL : p;
}

void tc_skip_note(const char *test, const char *why)
{
	fprintf(stderr, "SKIP %s: %s\n", test, why);
	/* Without the page the parent could not tell: fail rather than pass silently. */
	ck_assert_msg(skips != NULL, "%s skipped (%s) and the skip log is unavailable", test, why);
	__atomic_fetch_add(&skips->n, 1, __ATOMIC_SEQ_CST);
	size_t used = strnlen(skips->why, sizeof skips->why - 1);
	snprintf(skips->why + used, sizeof skips->why - used, "  %s: %s\n", test, why);
}

int tc_skip_status(int failed)
{
	if (failed)
		return EXIT_FAILURE;
	if (!skips || __atomic_load_n(&skips->n, __ATOMIC_SEQ_CST) == 0)
		return EXIT_SUCCESS;
	fprintf(stderr, "%d test(s) skipped (exit 77):\n%s", skips->n, skips->why);
	return 77;
}

int tc_test_run(Suite *s)
{
	SRunner *sr = srunner_create(s);

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return tc_skip_status(failed);
}

int tc_as_nobody(int (*fn)(pid_t parent), const char **why)
{
	pid_t parent = getpid(), pid;
	int st;

	if (geteuid() != 0) {
		*why = "needs root to become someone else";
		return 0;
	}
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(77);
		_exit(fn(parent) ? 1 : 0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77) {
		*why = "no CAP_SETUID here";
		return 0;
	}
	return WEXITSTATUS(st) != 0;
}
