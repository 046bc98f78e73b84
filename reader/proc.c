/* SPDX-License-Identifier: MIT */
/* Facts about the target from /proc: does it exist and may we look at it, its threads and
 * their scheduler states, its command line, and the host path of its files (a process in
 * another mount namespace shows its own tree under /proc/PID/root). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reader/proc.h"

int tc_proc_errno(int e)
{
	switch (e) {
	case ENOENT:
	case ESRCH:
		return -TC_ESRCH;
	case EACCES:
	case EPERM:
		return -TC_EPERM;
	case ENOMEM:
		return -TC_ENOMEM;
	default:
		return -TC_EIO;
	}
}

/* Read up to LEN bytes of the /proc file PATH into BUF; *GOT set. Returns 0 or TC_E*. */
static int read_small(const char *path, char *buf, size_t len, size_t *got)
{
	size_t done = 0;
	int fd;
	int err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return tc_proc_errno(errno);
	while (done < len) {
		ssize_t k = read(fd, buf + done, len - done);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			err = tc_proc_errno(errno);
			break;
		}
		if (k == 0)
			break;
		done += (size_t)k;
	}
	close(fd);
	*got = done;
	return err;
}

/* /proc/PID exists for any live (or zombie) pid, including thread ids; the maps file is
 * behind the ptrace access check (PTRACE_MODE_READ), refused at open on current kernels and
 * at read on older ones. A zombie's maps open and read as empty: it still exists. */
int tc_proc_check(pid_t pid)
{
	char path[64];
	char c;
	size_t got;
	struct stat st;
	int err;

	if (pid <= 0)
		return -TC_ESRCH;
	snprintf(path, sizeof path, "/proc/%d", (int)pid);
	if (stat(path, &st) != 0)
		return errno == EACCES || errno == EPERM ? -TC_EPERM : -TC_ESRCH;
	snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
	err = read_small(path, &c, 1, &got);
	if (err == -TC_EPERM || err == -TC_ESRCH)
		return err;
	return 0;
}

#define TC_PF_KTHREAD 0x00200000u /* include/linux/sched.h */

/* The flags are field 9 of stat, the 7th after the command name, which is in parentheses
 * and may itself contain ") ": so count from the last ')'. */
int tc_proc_kernel_thread(pid_t pid)
{
	char path[64];
	char buf[1024];
	size_t got = 0;
	unsigned long flags;
	char *rp;
	int err;

	if (pid <= 0)
		return -TC_ESRCH;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	err = read_small(path, buf, sizeof buf - 1, &got);
	if (err)
		return err;
	buf[got] = '\0';
	rp = strrchr(buf, ')');
	if (!rp || sscanf(rp + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return -TC_EIO;
	return (flags & TC_PF_KTHREAD) != 0;
}

int tc_proc_root_path(pid_t pid, const char *path, char *out, size_t len)
{
	int n;

	if (!out || len == 0 || !path)
		return -TC_ERANGE;
	n = snprintf(out, len, "/proc/%d/root%s%s", (int)pid, path[0] == '/' ? "" : "/", path);
	if (n < 0 || (size_t)n >= len) {
		out[0] = '\0';
		return -TC_ERANGE;
	}
	return 0;
}

/* Ascending tid order. */
static int cmp_tid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/* Also -TC_EPERM or -TC_EIO if the task directory cannot be listed for other reasons. */
int tc_proc_threads(pid_t pid, pid_t **tids, size_t *n)
{
	char path[64];
	DIR *d = NULL;
	pid_t *v = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *de;
	int err = 0;

	if (pid <= 0)
		return -TC_ESRCH;
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d) {
		err = tc_proc_errno(errno);
		goto out;
	}
	for (;;) {
		char *end;
		long t;

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno) {
				err = tc_proc_errno(errno);
				goto out;
			}
			break;
		}
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		t = strtol(de->d_name, &end, 10);
		if (*end || t <= 0 || t > INT32_MAX)
			continue;
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			pid_t *nv = realloc(v, ncap * sizeof *nv);

			if (!nv) {
				err = -TC_ENOMEM;
				goto out;
			}
			v = nv;
			cap = ncap;
		}
		v[cnt++] = (pid_t)t;
	}
	/* A process that exited between opendir and readdir lists no tasks. */
	if (cnt == 0) {
		err = -TC_ESRCH;
		goto out;
	}
	qsort(v, cnt, sizeof *v, cmp_tid);
	*tids = v;
	*n = cnt;
	v = NULL;
out:
	if (d)
		closedir(d);
	free(v);
	return err;
}

/* After the command name: state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt
 * majflt cmajflt utime(14) stime(15). The name is in parentheses and may itself contain
 * ") ": so search from the last ')'. */
int tc_proc_parse_task_stat(const char *line, struct tc_proc_task_stat *out)
{
	const char *rp = strrchr(line, ')');
	unsigned long long ut = 0, st = 0;

	if (!rp || rp[1] != ' ' || rp[2] < 'A' || rp[2] > 'z')
		return -TC_EIO;
	out->state = (unsigned char)rp[2];
	out->times = sscanf(rp + 3, " %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
			    &st) == 2;
	out->utime = out->times ? ut : 0;
	out->stime = out->times ? st : 0;
	return 0;
}

int tc_proc_task_stat(pid_t pid, pid_t tid, struct tc_proc_task_stat *out)
{
	char path[96];
	char buf[1024];
	size_t got = 0;
	int err;

	if (pid <= 0 || tid <= 0)
		return -TC_ESRCH;
	snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	err = read_small(path, buf, sizeof buf - 1, &got);
	if (err == -TC_EPERM || err == -TC_ENOMEM)
		return err;
	if (err || got == 0)
		return -TC_ESRCH;
	buf[got] = '\0';
	return tc_proc_parse_task_stat(buf, out);
}

int tc_proc_thread_state(pid_t pid, pid_t tid)
{
	struct tc_proc_task_stat st;
	int err = tc_proc_task_stat(pid, tid, &st);

	return err ? err : st.state;
}

int tc_proc_thread_cpu_time(pid_t pid, pid_t tid, double *seconds)
{
	struct tc_proc_task_stat st;
	long hz;

	if (tc_proc_task_stat(pid, tid, &st) != 0 || !st.times)
		return -TC_ESRCH;
	hz = sysconf(_SC_CLK_TCK);
	*seconds = (double)(st.utime + st.stime) / (double)(hz > 0 ? hz : 100);
	return 0;
}

/* Also -TC_ERANGE when LEN is 0 (nothing can be written). */
int tc_proc_cmdline(pid_t pid, char *out, size_t len)
{
	char path[64];
	size_t got = 0;
	int err;

	if (!out || len == 0)
		return -TC_ERANGE;
	out[0] = '\0';
	if (pid <= 0)
		return -TC_ESRCH;
	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
	err = read_small(path, out, len - 1, &got);
	if (err) {
		out[0] = '\0';
		return err == -TC_ENOMEM ? err : -TC_ESRCH;
	}
	/* Trailing NULs terminate the last argument; the ones inside separate arguments. */
	while (got > 0 && out[got - 1] == '\0')
		got--;
	for (size_t i = 0; i < got; i++)
		if (out[i] == '\0')
			out[i] = ' ';
	out[got] = '\0';
	return 0;
}

int tc_proc_open_statm(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd >= 0 ? fd : tc_proc_errno(errno);
}

int tc_proc_statm(int fd, int64_t *rss, int64_t *anon)
{
	char buf[256];
	unsigned long long size, resident, shared;
	ssize_t k;

	do
		k = pread(fd, buf, sizeof buf - 1, 0);
	while (k < 0 && errno == EINTR);
	if (k < 0)
		return tc_proc_errno(errno);
	buf[k] = '\0';
	if (sscanf(buf, "%llu %llu %llu", &size, &resident, &shared) != 3)
		return -TC_ESRCH;
	if (shared > resident)
		return -TC_EIO;
	long page = sysconf(_SC_PAGESIZE);
	if (page <= 0)
		page = 4096;
	*rss = (int64_t)(resident * (unsigned long long)page);
	*anon = (int64_t)((resident - shared) * (unsigned long long)page);
	return 0;
}
