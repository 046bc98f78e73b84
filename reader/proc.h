/* SPDX-License-Identifier: MIT */
/* Facts about the target process from /proc: existence, threads, their scheduler state,
 * command line, and the path prefix under which its files are visible (containers). */
#ifndef TC_PROC_H
#define TC_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tc/common.h"

/* errno from opening or reading a /proc/PID file as a TC_E* code: ENOENT/ESRCH -> -TC_ESRCH
 * (gone), EACCES/EPERM -> -TC_EPERM, ENOMEM -> -TC_ENOMEM, anything else -> -TC_EIO. */
int tc_proc_errno(int e);

/* 0 when PID exists, -TC_ESRCH when it does not, -TC_EPERM when it exists but /proc refuses
 * to show its maps (ptrace access mode check failed). */
int tc_proc_check(pid_t pid);

/* Is PID a kernel thread (kthreadd, kworker: PF_KTHREAD in /proc/PID/stat)? Those have no
 * user memory to read. Returns 1 (yes), 0 (no), or -TC_ESRCH / -TC_EPERM / -TC_EIO. */
int tc_proc_kernel_thread(pid_t pid);

/* Host path of target file PATH: "/proc/PID/root" + PATH, so a process in another mount
 * namespace (container) is read through its own root. Writes at most LEN bytes including
 * the NUL. Returns 0 or -TC_ERANGE. */
int tc_proc_root_path(pid_t pid, const char *path, char *out, size_t len);

/* Thread ids of PID (from /proc/PID/task). *TIDS is allocated (caller frees); *N set.
 * Returns 0, -TC_ESRCH, -TC_ENOMEM. */
int tc_proc_threads(pid_t pid, pid_t **tids, size_t *n);

/* What /proc/PID/task/TID/stat says about a thread that the profiler uses. */
struct tc_proc_task_stat {
	int state;             /* scheduler state letter: 'R', 'S', 'D', ... */
	bool times;            /* UTIME and STIME were present */
	uint64_t utime, stime; /* CPU time in user and kernel mode, clock ticks (_SC_CLK_TCK) */
};

/* Parse the text of a /proc/.../stat file (LINE, NUL-terminated; it may be cut short after
 * the state). The command name is in parentheses and may itself hold spaces and ')': fields
 * resume after the last ')'. Returns 0 when at least the state was found (OUT->times says
 * whether the CPU times were), or -TC_EIO. */
int tc_proc_parse_task_stat(const char *line, struct tc_proc_task_stat *out);

/* Read and parse /proc/PID/task/TID/stat. Returns 0, -TC_ESRCH (gone, or an empty file),
 * -TC_EPERM, -TC_ENOMEM, or -TC_EIO (not in the expected format). */
int tc_proc_task_stat(pid_t pid, pid_t tid, struct tc_proc_task_stat *out);

/* Scheduler state letter of thread TID of PID ('R', 'S', 'D', ...), from
 * /proc/PID/task/TID/stat. Returns the letter (> 0), or -TC_ESRCH. */
int tc_proc_thread_state(pid_t pid, pid_t tid);

/* CPU seconds (user + system) thread TID of PID has used so far, from
 * /proc/PID/task/TID/stat. Returns 0, or -TC_ESRCH when the thread is gone or its times
 * cannot be read. */
int tc_proc_thread_cpu_time(pid_t pid, pid_t tid, double *seconds);

/* Command line of PID with NULs replaced by spaces, into OUT (at most LEN bytes incl. NUL,
 * truncated). Returns 0 or -TC_ESRCH. */
int tc_proc_cmdline(pid_t pid, char *out, size_t len);

/* Resident and anonymous resident bytes of the process whose /proc/PID/statm is open as FD
 * (read with pread, so one descriptor serves every call): resident = file + shmem + anon
 * pages, shared = file + shmem pages, so anon = resident - shared. Returns 0, or -TC_ESRCH
 * (an exiting process shows an empty file) / -TC_EIO. */
int tc_proc_statm(int fd, int64_t *rss, int64_t *anon);

/* Open /proc/PID/statm read-only; returns the descriptor or a negative TC_E* code. */
int tc_proc_open_statm(pid_t pid);

#endif
