/* SPDX-License-Identifier: MIT */
/* Unit tests for reader/sandbox.c: the read-only filter makes process_vm_writev and ptrace
 * fail with EPERM, on the thread that installed it and on threads that existed before,
 * while reading (process_vm_readv) keeps working. Each check runs in a helper process (the
 * filter cannot be removed) against a forked target, after a control that shows the same
 * call succeeding without the filter, so the EPERM can only come from the sandbox. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reader/sandbox.h"
#include "skip.h"

static char word[16] = "original";

/* A target that waits to be killed; its copy of WORD is what writes aim at. */
static pid_t start_target(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static void stop_target(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static ssize_t write_word(pid_t pid, const char *text)
{
	char buf[sizeof word];
	struct iovec local = { buf, sizeof buf }, remote = { word, sizeof word };

	memset(buf, 0, sizeof buf);
	strncpy(buf, text, sizeof buf - 1);
	return process_vm_writev(pid, &local, 1, &remote, 1, 0);
}

static int read_word(pid_t pid, char *out)
{
	struct iovec local = { out, sizeof word }, remote = { word, sizeof word };

	return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)sizeof word ? 0 : -1;
}

/* Run BODY in a helper process; its exit code is the step that failed (0: all passed). */
static void in_helper(int (*body)(void))
{
	int st;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(body()); /* _exit: no atexit handlers run under the filter */
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st), "helper died with signal %d", WTERMSIG(st));
	ck_assert_msg(WEXITSTATUS(st) == 0, "helper failed at step %d", WEXITSTATUS(st));
}

static int seccomp_mode_of_self(void)
{
	char line[256];
	int mode = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "Seccomp: %d", &mode) == 1)
			break;
	fclose(f);
	return mode;
}

static int writes_refused(void)
{
	char got[sizeof word];
	pid_t target = start_target();
	int rc = 0;

	if (target < 0)
		return 1;
	/* control: without the filter the write lands */
	if (write_word(target, "control") != (ssize_t)sizeof word || read_word(target, got) ||
	    strcmp(got, "control") != 0) {
		rc = 2;
		goto out;
	}
	if (seccomp_mode_of_self() != 0) {
		rc = 3;
		goto out;
	}
	if (tc_sandbox_enter(0, NULL) != 0) {
		rc = 4;
		goto out;
	}
	if (seccomp_mode_of_self() != 2) { /* SECCOMP_MODE_FILTER */
		rc = 5;
		goto out;
	}
	errno = 0;
	if (write_word(target, "written") != -1 || errno != EPERM) {
		rc = 6;
		goto out;
	}
	errno = 0;
	if (write_word(getpid(), "written") != -1 || errno != EPERM || strcmp(word, "original") != 0) {
		rc = 7;
		goto out;
	}
	/* reading is what the profiler does; it must still work, and show the write failed */
	if (read_word(target, got) || strcmp(got, "control") != 0)
		rc = 8;
out:
	stop_target(target);
	return rc;
}

START_TEST(test_process_vm_writev_refused)
{
	in_helper(writes_refused);
}
END_TEST

static int attach_refused(void)
{
	pid_t target = start_target();
	int rc = 0, st;

	if (target < 0)
		return 1;
	/* control: without the filter we may seize our own child (then let it go) */
	if (ptrace(PTRACE_SEIZE, target, NULL, NULL) != 0 ||
	    ptrace(PTRACE_INTERRUPT, target, NULL, NULL) != 0 ||
	    waitpid(target, &st, 0) != target || ptrace(PTRACE_DETACH, target, NULL, NULL) != 0) {
		rc = 2;
		goto out;
	}
	if (tc_sandbox_enter(0, NULL) != 0) {
		rc = 3;
		goto out;
	}
	errno = 0;
	if (ptrace(PTRACE_ATTACH, target, NULL, NULL) != -1 || errno != EPERM) {
		rc = 4;
		goto out;
	}
	errno = 0;
	if (ptrace(PTRACE_SEIZE, target, NULL, NULL) != -1 || errno != EPERM) {
		rc = 5;
		goto out;
	}
	/* the target was not stopped: it is still a child we have not been told about */
	if (waitpid(target, &st, WNOHANG) != 0)
		rc = 6;
out:
	stop_target(target);
	return rc;
}

START_TEST(test_ptrace_refused)
{
	in_helper(attach_refused);
}
END_TEST

/* The ASan build's exemption: ptrace allowed, writes still refused. */
static int allow_ptrace_flag(void)
{
	pid_t target = start_target();
	int rc = 0, st;

	if (target < 0)
		return 1;
	if (tc_sandbox_enter(TC_SANDBOX_ALLOW_PTRACE, NULL) != 0) {
		rc = 2;
		goto out;
	}
	errno = 0;
	if (write_word(target, "written") != -1 || errno != EPERM) {
		rc = 3;
		goto out;
	}
	if (ptrace(PTRACE_SEIZE, target, NULL, NULL) != 0 ||
	    ptrace(PTRACE_INTERRUPT, target, NULL, NULL) != 0 ||
	    waitpid(target, &st, 0) != target || ptrace(PTRACE_DETACH, target, NULL, NULL) != 0)
		rc = 4;
out:
	stop_target(target);
	return rc;
}

START_TEST(test_allow_ptrace_flag)
{
	in_helper(allow_ptrace_flag);
}
END_TEST

/* A thread started before the filter is covered too (TSYNC): the profiler's own threads
 * all come later, but a library's could not. */
static pthread_barrier_t installed, done;
static int thread_errno;

static void *early_thread(void *arg)
{
	pid_t target = *(pid_t *)arg;

	pthread_barrier_wait(&installed);
	errno = 0;
	thread_errno = write_word(target, "thread") == -1 ? errno : 0;
	pthread_barrier_wait(&done);
	return NULL;
}

static int thread_covered(void)
{
	pthread_t th;
	pid_t target = start_target();
	int rc = 0;

	if (target < 0)
		return 1;
	pthread_barrier_init(&installed, NULL, 2);
	pthread_barrier_init(&done, NULL, 2);
	if (pthread_create(&th, NULL, early_thread, &target) != 0) {
		rc = 2;
		goto out;
	}
	if (tc_sandbox_enter(0, NULL) != 0)
		rc = 3;
	pthread_barrier_wait(&installed);
	pthread_barrier_wait(&done);
	pthread_join(th, NULL);
	if (rc == 0 && thread_errno != EPERM)
		rc = 4;
out:
	stop_target(target);
	return rc;
}

START_TEST(test_earlier_thread_covered)
{
	in_helper(thread_covered);
}
END_TEST

START_TEST(test_list)
{
	int writev = 0, ptr = 0;

	for (size_t i = 0; tc_sandbox_refused[i]; i++) {
		writev |= strcmp(tc_sandbox_refused[i], "process_vm_writev") == 0;
		ptr |= strcmp(tc_sandbox_refused[i], "ptrace") == 0;
	}
	ck_assert(writev);
	ck_assert(ptr);
}
END_TEST

static Suite *sandbox_suite(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_process_vm_writev_refused);
	tcase_add_test(tc, test_ptrace_refused);
	tcase_add_test(tc, test_allow_ptrace_flag);
	tcase_add_test(tc, test_earlier_thread_covered);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tc_test_run(sandbox_suite());
}
