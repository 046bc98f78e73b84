/* SPDX-License-Identifier: MIT */
/* Skipping a Check test honestly. Check has no "skipped" result and runs every test in a
 * forked child, so a test that cannot run here (not root, no seccomp, no /dev/full) used to
 * `return` and count as a pass. TC_SKIP records the reason where the parent sees it (a shared
 * page mapped before main) and the program's main returns tc_skip_status(failed): 77 when a
 * test was skipped and none failed, which meson reports as SKIP and `make check` refuses.
 * tc_test_run is that main: run the suite, return its status. TC_AS_NOBODY runs a check as
 * another user, skipping where that cannot be done. */
#ifndef TC_TEST_SKIP_H
#define TC_TEST_SKIP_H

#include <check.h>
#include <sys/types.h>

/* Record that test TEST was skipped because of WHY (also printed on stderr). */
void tc_skip_note(const char *test, const char *why);

/* Exit status of a test program: EXIT_FAILURE when FAILED > 0, else 77 when any test was
 * skipped (the reasons are printed again), else EXIT_SUCCESS. */
int tc_skip_status(int failed);

/* Run every test of S (built by the test program, with its own tcases and timeouts; the
 * runner frees it) and return the program's exit status, tc_skip_status of the failures. */
int tc_test_run(Suite *s);

/* Skip the current test (a START_TEST body) with reason WHY. */
#define TC_SKIP(why)                              \
	do {                                      \
		tc_skip_note(__func__, (why));    \
		return;                           \
	} while (0)

/* Run FN(PARENT) in a forked child that dropped to uid and gid 65534 (nobody), PARENT being
 * the test's pid. Returns 0 when FN returned 0, 1 when it returned anything else; or, without
 * running it, 0 with *WHY set when this process cannot switch users (not root, no
 * CAP_SETUID). */
int tc_as_nobody(int (*fn)(pid_t parent), const char **why);

/* Assert that FN(PARENT) returns 0 as nobody (tc_as_nobody), or skip the current test. */
#define TC_AS_NOBODY(fn)                                      \
	do {                                                  \
		const char *why_ = NULL;                      \
		int failed_ = tc_as_nobody((fn), &why_);      \
		if (why_)                                     \
			TC_SKIP(why_);                        \
		ck_assert_msg(!failed_, "%s as nobody", #fn); \
	} while (0)

#endif
