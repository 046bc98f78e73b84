/* SPDX-License-Identifier: MIT */
/* Seccomp filter of the read-only sandbox (see sandbox.h for why). libseccomp builds the
 * BPF program so the architecture check and the syscall numbers come from one place. */
#include <errno.h>
#include <seccomp.h>
#include <stddef.h>
#include <string.h>

#include "reader/sandbox.h"

/* process_vm_writev: the write twin of the reader's own call. ptrace: stops the target and
 * pokes its memory and registers. process_madvise: pages another process's memory out or
 * drops it. pidfd_getfd: copies a descriptor out of another process. */
const char *const tc_sandbox_refused[] = {
	"process_vm_writev", "ptrace", "process_madvise", "pidfd_getfd", NULL,
};

/* Entries of tc_sandbox_refused before this index must be known to libseccomp. */
enum { REQUIRED = 2 };

int tc_sandbox_enter(unsigned flags, const char **why)
{
	scmp_filter_ctx ctx;
	const char *dummy;
	int err = 0;

	if (!why)
		why = &dummy;
	*why = NULL;
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		*why = "seccomp_init failed";
		return -TC_ENOMEM;
	}
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1) != 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) != 0) {
		*why = "libseccomp refused the filter attributes";
		err = -TC_EIO;
		goto out;
	}
	for (size_t i = 0; tc_sandbox_refused[i]; i++) {
		const char *name = tc_sandbox_refused[i];
		int nr;

		if ((flags & TC_SANDBOX_ALLOW_PTRACE) && strcmp(name, "ptrace") == 0)
			continue;
		nr = seccomp_syscall_resolve_name(name);
		if (nr == __NR_SCMP_ERROR) {
			if (i < REQUIRED) {
				*why = "libseccomp does not know process_vm_writev or ptrace";
				err = -TC_EIO;
				goto out;
			}
			continue;
		}
		if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0) != 0) {
			*why = "libseccomp refused a rule";
			err = -TC_EIO;
			goto out;
		}
	}
	if (seccomp_load(ctx) != 0) {
		*why = "the kernel refused the seccomp filter";
		err = -TC_EIO;
	}
out:
	seccomp_release(ctx);
	return err;
}
