/* SPDX-License-Identifier: MIT */
/* Attaching to a Python process: find _PyRuntime in the executable or libpython the target
 * has mapped, learn the version without running anything, and choose the layout. */
#ifndef TC_TARGET_H
#define TC_TARGET_H

#include <stdbool.h>
#include <sys/types.h>

#include "layouts/layout.h"
#include "reader/remote.h"

/* Fixed once attach returns: several walkers (threads) may share one target. What a walk
 * changes lives in the walker (daemon/walk_ctx.h). */
struct tc_target {
	pid_t pid;
	struct tc_remote *mem;   /* owned; what attach read through, and what walkers borrow */
	struct tc_layout layout;
	tc_raddr runtime;        /* &_PyRuntime */
	tc_raddr code_type;      /* &PyCode_Type, 0 when unknown */
	char version[24];        /* "3.12.1" */
	char binary[512];        /* target path of the file holding _PyRuntime */
	char how[64];            /* how _PyRuntime was found: ".dynsym", ".PyRuntime", ... */
	int pthread_tid_off;     /* offset of the kernel tid in glibc's struct pthread, as
				    calibrated at attach; -1 (a walker may calibrate later) */
	uint64_t exec_id;        /* tc_target_exec_id at attach, 0 unknown */
};

/* Why an attach failed, for the user. Filled on every failure (empty on success). */
struct tc_attach_diag {
	char found[256];   /* what was found, e.g. "Python 3.8.18 (/usr/bin/python3.8)" */
	char detail[256];  /* extra explanation */
};

/* Attach to PID. Returns 0 and *OUT (caller frees with tc_target_free); -TC_ESRCH (no such
 * process), -TC_EPERM (not allowed to read it), -TC_ENOTPY (no Python runtime found),
 * -TC_EVERSION (Python, but a version this build cannot read; DIAG->found names it),
 * -TC_EINVAL (runtime found but its contents fail validation), -TC_ENOMEM. */
int tc_target_attach(pid_t pid, struct tc_target **out, struct tc_attach_diag *diag);
void tc_target_free(struct tc_target *t); /* accepts NULL */

/* An identity of the program PID runs, which changes when it calls execve: where the kernel
 * put its code, stack and heap (/proc/PID/stat startcode, startstack, start_brk; randomised
 * per exec). Returns 0 and *ID (never 0), or a negative TC_E* code (-TC_ESRCH: gone). */
int tc_target_exec_id(pid_t pid, uint64_t *id);

/* Did T's process replace its program since attach (execve)? Then the layout, the runtime's
 * address and every cache describe a process that no longer exists. */
bool tc_target_execed(const struct tc_target *t);

#endif
