/* SPDX-License-Identifier: MIT */
/* Attaching to a Python process: find _PyRuntime in the executable or libpython the target
 * has mapped, learn the version without running anything, and choose the layout. */
#ifndef TC_TARGET_H
#define TC_TARGET_H

#include <stdbool.h>
#include <sys/types.h>

#include "layouts/layout.h"
#include "reader/page_cache.h"
#include "reader/prefetch.h"
#include "reader/remote.h"

struct tc_target {
	pid_t pid;
	struct tc_remote *mem;   /* owned */
	struct tc_prefetch *pf;  /* owned; NULL: the walker reads directly (tests) */
	struct tc_page_cache *pc;/* owned; cold-path reads (code objects); NULL: direct */
	struct tc_layout layout;
	tc_raddr runtime;        /* &_PyRuntime */
	tc_raddr code_type;      /* &PyCode_Type, 0 when unknown */
	char version[24];        /* "3.12.1" */
	char binary[512];        /* target path of the file holding _PyRuntime */
	char how[64];            /* how _PyRuntime was found: ".dynsym", ".PyRuntime", ... */
	int pthread_tid_off;     /* offset of the kernel tid in glibc's struct pthread, -1 */
	uint64_t tid_calib_next_ns; /* CLOCK_MONOTONIC before which a failed calibration is
				       not tried again */
	/* walker memo of values that change rarely (see TC_UNWIND_CACHED_HEAD) */
	tc_raddr head_cache;     /* runtime->interpreters.head, 0 = not cached */
	uint64_t main_ident;     /* runtime->main_thread (<= 3.12), read with the head; 0 unknown */
	uint64_t head_cache_ns;  /* CLOCK_MONOTONIC when read */
	tc_raddr gil_interp, gil_ptr; /* interp->ceval.gil of the last interpreter seen */
	uint64_t code_gen;       /* main interpreter's code-object generation at the last walk */
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
