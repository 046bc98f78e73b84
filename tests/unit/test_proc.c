/* SPDX-License-Identifier: MIT */
/* Unit tests for reader/proc.c on this process, a pthread of it, and children in known
 * states (sleeping, zombie, exec'd with a known command line, gone). */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reader/proc.h"
#include "skip.h"

#define NO_SUCH_PID 0x7ffffff0 /* above any pid_max */

struct blocked {
	int fd[2];
	pid_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int ready;
};

/* Publishes its tid, then sleeps in read() until the test closes the pipe. */
static void *blocked_thread(void *arg)
{
	struct blocked *b = arg;
	char c;

	pthread_mutex_lock(&b->mu);
	b->tid = (pid_t)syscall(SYS_gettid);
	b->ready = 1;
	pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
	while (read(b->fd[0], &c, 1) > 0)
		;
	return NULL;
}

/* Poll thread TID's state until it is WANT (a scheduler transition takes a moment). */
static int wait_state(pid_t pid, pid_t tid, int want)
{
	int s = 0;

	for (int i = 0; i < 3000; i++) {
		s = tc_proc_thread_state(pid, tid);
		if (s == want)
			break;
		usleep(1000);
	}
	return s;
}

START_TEST(test_threads)
{
	struct blocked b = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };
	pthread_t th;
	pid_t *tids = NULL;
	size_t n = 0;
	bool self = false, other = false;

	ck_assert_int_eq(pipe(b.fd), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, blocked_thread, &b), 0);
	pthread_mutex_lock(&b.mu);
	while (!b.ready)
		pthread_cond_wait(&b.cv, &b.mu);
	pthread_mutex_unlock(&b.mu);

	ck_assert_int_eq(tc_proc_threads(getpid(), &tids, &n), 0);
	ck_assert_uint_ge(n, 2);
	for (size_t i = 0; i < n; i++) {
		self |= tids[i] == getpid();
		other |= tids[i] == b.tid;
		if (i > 0)
			ck_assert_int_lt(tids[i - 1], tids[i]);
	}
	ck_assert(self);
	ck_assert(other);
	free(tids);

	/* we are running while we ask; the other thread sleeps in read() */
	ck_assert_int_eq(tc_proc_thread_state(getpid(), (pid_t)syscall(SYS_gettid)), 'R');
	ck_assert_int_eq(wait_state(getpid(), b.tid, 'S'), 'S');

	close(b.fd[1]);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	close(b.fd[0]);
	ck_assert_int_eq(tc_proc_thread_state(getpid(), b.tid), -TC_ESRCH);
}
END_TEST

START_TEST(test_zombie_and_gone)
{
	pid_t pid = fork();
	pid_t *tids = NULL;
	size_t n = 0;
	char buf[64];
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitid(P_PID, (id_t)pid, &(siginfo_t){ 0 }, WEXITED | WNOWAIT), 0);
	ck_assert_int_eq(tc_proc_thread_state(pid, pid), 'Z');
	ck_assert_int_eq(tc_proc_check(pid), 0); /* still exists */
	ck_assert_int_eq(tc_proc_cmdline(pid, buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);

	ck_assert_int_eq(tc_proc_check(pid), -TC_ESRCH);
	ck_assert_int_eq(tc_proc_threads(pid, &tids, &n), -TC_ESRCH);
	ck_assert_ptr_null(tids);
	ck_assert_int_eq(tc_proc_thread_state(pid, pid), -TC_ESRCH);
	ck_assert_int_eq(tc_proc_cmdline(pid, buf, sizeof buf), -TC_ESRCH);

	ck_assert_int_eq(tc_proc_check(NO_SUCH_PID), -TC_ESRCH);
	ck_assert_int_eq(tc_proc_check(0), -TC_ESRCH);
	ck_assert_int_eq(tc_proc_check(-1), -TC_ESRCH);
	ck_assert_int_eq(tc_proc_threads(NO_SUCH_PID, &tids, &n), -TC_ESRCH);
	ck_assert_int_eq(tc_proc_thread_state(NO_SUCH_PID, NO_SUCH_PID), -TC_ESRCH);
	ck_assert_int_eq(tc_proc_cmdline(NO_SUCH_PID, buf, sizeof buf), -TC_ESRCH);
	ck_assert_int_eq(tc_proc_thread_state(getpid(), NO_SUCH_PID), -TC_ESRCH);
}
END_TEST

START_TEST(test_check_self)
{
	ck_assert_int_eq(tc_proc_check(getpid()), 0);
	ck_assert_int_eq(tc_proc_check(getppid()), 0);
}
END_TEST

/* Another uid exists for us but may not see our maps: -TC_EPERM, not -TC_ESRCH. */
static int check_eperm(pid_t parent)
{
	return !(tc_proc_check(parent) == -TC_EPERM && tc_proc_check(NO_SUCH_PID) == -TC_ESRCH);
}

START_TEST(test_check_eperm)
{
	TC_AS_NOBODY(check_eperm);
}
END_TEST

START_TEST(test_cmdline)
{
	int to[2], from[2];
	pid_t pid;
	char buf[256], small[5], c;
	int st;

	/* a child that execs a known command line, then waits on its stdin */
	ck_assert_int_eq(pipe(to), 0);
	ck_assert_int_eq(pipe(from), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		close(to[1]);
		close(from[0]);
		execl("/bin/sh", "/bin/sh", "-c", "echo r; read x", "a b", (char *)NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	ck_assert_int_eq(read(from[0], &c, 1), 1);
	ck_assert_int_eq(tc_proc_cmdline(pid, buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "/bin/sh -c echo r; read x a b");
	ck_assert_int_eq(tc_proc_cmdline(pid, small, sizeof small), 0);
	ck_assert_str_eq(small, "/bin");
	ck_assert_int_eq(tc_proc_cmdline(pid, buf, 1), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(tc_proc_cmdline(pid, buf, 0), -TC_ERANGE);
	ck_assert_int_eq(wait_state(pid, pid, 'S'), 'S');
	close(to[1]);
	close(from[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
}
END_TEST

START_TEST(test_root_path)
{
	char buf[64];

	ck_assert_int_eq(tc_proc_root_path(123, "/usr/bin/python3", buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "/proc/123/root/usr/bin/python3");
	ck_assert_int_eq(tc_proc_root_path(123, "lib/x.so", buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "/proc/123/root/lib/x.so");
	ck_assert_int_eq(tc_proc_root_path(123, "/a", buf, sizeof "/proc/123/root/a"), 0);
	ck_assert_str_eq(buf, "/proc/123/root/a");
	ck_assert_int_eq(tc_proc_root_path(123, "/ab", buf, sizeof "/proc/123/root/a"), -TC_ERANGE);
	ck_assert_int_eq(tc_proc_root_path(123, "/a", buf, 0), -TC_ERANGE);
	/* the path really resolves for ourselves */
	ck_assert_int_eq(tc_proc_root_path(getpid(), "/proc/self/stat", buf, sizeof buf), 0);
	ck_assert_int_eq(access(buf, R_OK), 0);
}
END_TEST

/* The command name may hold spaces and parentheses, even ") R ": fields resume after the
 * last ')'. */
START_TEST(test_parse_task_stat)
{
	struct tc_proc_task_stat st;
	const char *odd = "4242 (a) R (b) c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 "
			  "1234 567 0 0 20 0 1 0 99 1000 10";

	ck_assert_int_eq(tc_proc_parse_task_stat(odd, &st), 0);
	ck_assert_int_eq(st.state, 'S');
	ck_assert(st.times);
	ck_assert_uint_eq(st.utime, 1234);
	ck_assert_uint_eq(st.stime, 567);

	ck_assert_int_eq(tc_proc_parse_task_stat("7 (python3) D 1 7 7 0 -1 0 0 0 0 0 5 6", &st),
			 0);
	ck_assert_int_eq(st.state, 'D');
	ck_assert_uint_eq(st.utime, 5);
	ck_assert_uint_eq(st.stime, 6);

	/* cut short after the state: the state alone */
	ck_assert_int_eq(tc_proc_parse_task_stat("7 (x y) R 1 7", &st), 0);
	ck_assert_int_eq(st.state, 'R');
	ck_assert(!st.times);

	ck_assert_int_eq(tc_proc_parse_task_stat("", &st), -TC_EIO);
	ck_assert_int_eq(tc_proc_parse_task_stat("7 (no close paren R 1", &st), -TC_EIO);
	ck_assert_int_eq(tc_proc_parse_task_stat("7 (x)R 1", &st), -TC_EIO);
	ck_assert_int_eq(tc_proc_parse_task_stat("7 (x) 1 2", &st), -TC_EIO);
}
END_TEST

START_TEST(test_task_stat_self)
{
	struct tc_proc_task_stat st;
	pid_t tid = (pid_t)syscall(SYS_gettid);

	ck_assert_int_eq(tc_proc_task_stat(getpid(), tid, &st), 0);
	ck_assert_int_eq(st.state, 'R');
	ck_assert(st.times);
	ck_assert_int_eq(tc_proc_thread_state(getpid(), tid), 'R');
	ck_assert_int_eq(tc_proc_task_stat(getpid(), NO_SUCH_PID, &st), -TC_ESRCH);
	ck_assert_int_eq(tc_proc_task_stat(0, tid, &st), -TC_ESRCH);
}
END_TEST

START_TEST(test_thread_cpu_time)
{
	double a = -1, b = -1;

	ck_assert_int_eq(tc_proc_thread_cpu_time(getpid(), getpid(), &a), 0);
	ck_assert(a >= 0);
	/* burn some CPU: the reading moves forward */
	volatile double x = 0;
	for (long i = 0; i < 200000000L && b <= a; i++) {
		x += (double)i;
		if (i % 10000000 == 0)
			ck_assert_int_eq(tc_proc_thread_cpu_time(getpid(), getpid(), &b), 0);
	}
	ck_assert_msg(b > a, "cpu time %f then %f", a, b);
	ck_assert_int_eq(tc_proc_thread_cpu_time(getpid(), 0x3fffffff, &a), -TC_ESRCH);
}
END_TEST

static Suite *proc_suite(void)
{
	Suite *s = suite_create("proc");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_zombie_and_gone);
	tcase_add_test(tc, test_check_self);
	tcase_add_test(tc, test_check_eperm);
	tcase_add_test(tc, test_cmdline);
	tcase_add_test(tc, test_root_path);
	tcase_add_test(tc, test_parse_task_stat);
	tcase_add_test(tc, test_task_stat_self);
	tcase_add_test(tc, test_thread_cpu_time);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tc_test_run(proc_suite());
}
