/* SPDX-License-Identifier: MIT */
/* Turning error codes into messages a user can act on, and exit codes. Only cli/ talks to
 * the user. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "daemon/sinks/escape.h"
#include "layouts/version.h"
#include "reader/proc.h"
#include "tc/common.h"

const char *tc_prog = "tachyon-c";

int tc_usage_error(const char *command, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", tc_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	tc_usage(stderr, command);
	return TC_EXIT_USAGE;
}

static void perm_advice(pid_t pid)
{
	fprintf(stderr,
		"%s: permission denied reading process %d.\n"
		"  Run as root, or grant the capability: sudo setcap cap_sys_ptrace+ep $(command -v tachyon-c)\n"
		"  (or lower the Yama scope: sysctl kernel.yama.ptrace_scope=0).\n"
		"  In a container: run with --cap-add SYS_PTRACE and share the target's PID namespace\n"
		"  (docker run --pid=container:TARGET, or shareProcessNamespace: true in Kubernetes).\n",
		tc_prog, (int)pid);
}

int tc_cli_fail(int err, pid_t pid, const char *doing)
{
	switch (-err) {
	case TC_ESRCH:
		fprintf(stderr, "%s: no such process: %d\n", tc_prog, (int)pid);
		return TC_EXIT_NOPROC;
	case TC_EPERM:
		perm_advice(pid);
		return TC_EXIT_PERM;
	case TC_ENOMEM:
		fprintf(stderr, "%s: out of memory while %s\n", tc_prog, doing);
		return TC_EXIT_RUNTIME;
	default:
		fprintf(stderr, "%s: error while %s process %d: %s\n", tc_prog, doing, (int)pid,
			tc_strerror(err));
		return TC_EXIT_RUNTIME;
	}
}

int tc_cli_attach(pid_t pid, struct tc_target **t)
{
	struct tc_attach_diag d;
	/* the diagnosis quotes the target's paths and version text: escaped for the terminal */
	char found[4 * sizeof d.found], detail[4 * sizeof d.detail];

	/* a kernel thread has no user memory: attaching would only say the process is gone */
	if (tc_proc_kernel_thread(pid) == 1) {
		fprintf(stderr, "%s: not a Python process: %d is a kernel thread.\n", tc_prog,
			(int)pid);
		return TC_EXIT_NOTPY;
	}
	int err = tc_target_attach(pid, t, &d);
	if (err == 0)
		return 0;
	tc_esc_text(d.found, found, sizeof found);
	tc_esc_text(d.detail, detail, sizeof detail);
	switch (-err) {
	case TC_ENOTPY:
		fprintf(stderr, "%s: not a Python process: %s.\n  tachyon-c supports CPython %s.\n",
			tc_prog, found[0] ? found : "no Python runtime found", TC_PY_RANGE);
		return TC_EXIT_NOTPY;
	case TC_EVERSION:
		fprintf(stderr, "%s: unsupported version: found %s%s%s.\n  tachyon-c supports CPython %s.\n",
			tc_prog, found[0] ? found : "an unknown Python",
			detail[0] ? ": " : "", detail, TC_PY_RANGE);
		return TC_EXIT_NOTPY;
	case TC_EINVAL:
		fprintf(stderr, "%s: cannot read %s: %s.\n  tachyon-c supports CPython %s.\n",
			tc_prog, found[0] ? found : "this process",
			detail[0] ? detail : "its interpreter state failed validation", TC_PY_RANGE);
		return TC_EXIT_NOTPY;
	default:
		return tc_cli_fail(err, pid, "attaching to");
	}
}
