/* SPDX-License-Identifier: MIT */
/* The read-only promise, enforced by the kernel: a seccomp filter that makes every system
 * call able to change another process fail with EPERM. tachyon-c installs it first thing in
 * main(), before any target is looked at, so no later bug (and no code path a hostile target
 * could steer) can write to the target, stop it or take over its descriptors. Opening
 * /proc/PID/mem for writing cannot be told apart by seccomp (it sees no paths); every open
 * in reader/ is O_RDONLY and the functional suite checks that under strace. */
#ifndef TC_SANDBOX_H
#define TC_SANDBOX_H

#include "tc/common.h"

/* LeakSanitizer stops the process's threads with ptrace to scan them at exit, so the binary
 * of an ASan build (tests only: `make sanitize`) passes TC_SANDBOX_ALLOW_PTRACE.
 * process_vm_writev is refused in every build. */
#if defined(__SANITIZE_ADDRESS__)
#define TC_SANDBOX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define TC_SANDBOX_ASAN 1
#endif
#endif
#ifndef TC_SANDBOX_ASAN
#define TC_SANDBOX_ASAN 0
#endif

enum { TC_SANDBOX_ALLOW_PTRACE = 1 };

/* The system calls refused, by name (NULL-terminated): process_vm_writev and ptrace are
 * required; the others are refused when libseccomp knows them (they are newer). */
extern const char *const tc_sandbox_refused[];

/* Install the filter on the calling thread and every other thread of the process (TSYNC),
 * with no_new_privs set (the kernel requires it of unprivileged callers). Irreversible.
 * FLAGS: 0, or TC_SANDBOX_ALLOW_PTRACE to leave ptrace out. Every other system call is
 * unaffected. Returns 0, -TC_ENOMEM, or -TC_EIO when libseccomp or the kernel refuses the
 * filter (no seccomp, a thread that cannot be synchronised); *WHY (may be NULL) is then set
 * to a static description. */
int tc_sandbox_enter(unsigned flags, const char **why);

#endif
