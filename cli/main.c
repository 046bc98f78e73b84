/* SPDX-License-Identifier: MIT */
/* tachyon-c: entry point and command dispatch. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "reader/sandbox.h"

#ifndef TC_VERSION
#define TC_VERSION "0.1.0"
#endif

static const char overview[] =
	"usage: tachyon-c COMMAND [OPTIONS] PID\n"
	"\n"
	"Profile a running CPython (3.9 to 3.15) from the outside: no code injected, nothing\n"
	"written to the target, no restart.\n"
	"\n"
	"commands:\n"
	"  attach PID   sample stacks at a fixed rate and write a profile\n"
	"  dump PID     print every thread's Python stack once\n"
	"  stats PID    allocator (pymalloc), GC and process memory, once or every N s\n"
	"  top PID      live view of where the time goes\n"
	"  bench PID    sample back to back and report what a sample costs\n"
	"  help CMD     details of one command\n"
	"\n"
	"options:\n"
	"  --version    print the version and exit\n"
	"  --help       print this help and exit\n"
	"\n"
	"EXAMPLES\n"
	"  tachyon-c dump 1234                   every thread's stack, like a traceback\n"
	"  tachyon-c dump 1234 --json            the same as JSON\n"
	"  tachyon-c attach 1234 -d 10           10 s at 1 kHz, top functions on stdout\n"
	"  tachyon-c attach 1234 -o out.json     speedscope file (open in speedscope.app)\n"
	"  tachyon-c attach 1234 -r 250us -o out.txt   collapsed stacks for flamegraph.pl\n"
	"\n"
	"Reading another process needs root or CAP_SYS_PTRACE (see tachyon-c(1)).\n"
	"Exit codes: 0 ok, 1 runtime error, 2 usage, 3 no such process, 4 permission denied,\n"
	"5 not Python or unsupported version.\n";

static const char usage_dump[] =
	"usage: tachyon-c dump PID [--json] [--walks N]\n"
	"\n"
	"Print one snapshot of every thread's Python stack. Text output reads like a traceback\n"
	"(innermost frame last) with the thread ids and which thread holds the GIL; --json prints\n"
	"frames innermost first. --walks N walks N times and prints the last walk (from the\n"
	"second on, reads come from the batch learned by the previous walk, as when sampling).\n"
	"\n"
	"EXAMPLES\n"
	"  tachyon-c dump 1234\n"
	"  tachyon-c dump 1234 --json | jq '.threads[0].frames[0]'\n";

static const char usage_attach[] =
	"usage: tachyon-c attach PID [-r RATE] [-d SECONDS] [-o FILE] [-f FORMAT]\n"
	"                            [--threads all|main] [--mode wall|cpu|gil]\n"
	"                            [--alloc-log FILE]\n"
	"\n"
	"Sample the target's stacks until SECONDS elapse, Ctrl-C / SIGTERM, or the target exits;\n"
	"then write the profile (always a complete file: written to a temporary name, then\n"
	"renamed).\n"
	"\n"
	"  -r, --rate RATE      samples per second: 1000, 1khz, 10k, or an interval: 250us, 1ms\n"
	"                       (default 1khz)\n"
	"  -d, --duration SEC   stop after SEC seconds (default: until interrupted)\n"
	"  -o, --output FILE    write to FILE ('-' for stdout); without it, print the top\n"
	"                       functions\n"
	"  -f, --format FMT     collapsed | speedscope | summary (default: from FILE's\n"
	"                       extension: .json speedscope, otherwise collapsed)\n"
	"      --threads WHICH  all (default) or main\n"
	"      --mode MODE      wall (default): every thread; cpu: threads on a CPU;\n"
	"                       gil: the thread holding the GIL\n"
	"      --alloc-log FILE also write the allocator summary (pymalloc arenas and pools,\n"
	"                       GC, RSS) to FILE, one JSON line per second\n"
	"\n"
	"EXAMPLES\n"
	"  tachyon-c attach 1234 -d 30 -o profile.txt && flamegraph.pl profile.txt > fg.svg\n"
	"  tachyon-c attach 1234 -r 10k -d 5 -o profile.json\n"
	"  tachyon-c attach 1234 --mode cpu --threads main\n";

static const char usage_bench[] =
	"usage: tachyon-c bench PID [-d SECONDS] [--json]\n"
	"\n"
	"Sample the target back to back (no sleeping) for SECONDS (default 5) and report the cost\n"
	"of one sample: microseconds, syscalls, bytes read, frames, cache hit rates. The target is\n"
	"not stopped; it runs slower only by the memory bandwidth the reads take.\n"
	"\n"
	"EXAMPLES\n"
	"  tachyon-c bench 1234 -d 10\n"
	"  tachyon-c bench 1234 --json\n";

void tc_usage(FILE *out, const char *command)
{
	if (command && strcmp(command, "stats") == 0)
		fputs(tc_usage_stats, out);
	else if (command && strcmp(command, "top") == 0)
		fputs(tc_usage_top, out);
	else if (command && strcmp(command, "dump") == 0)
		fputs(usage_dump, out);
	else if (command && strcmp(command, "attach") == 0)
		fputs(usage_attach, out);
	else if (command && strcmp(command, "bench") == 0)
		fputs(usage_bench, out);
	else
		fputs(overview, out);
}

int main(int argc, char **argv)
{
	const char *why = NULL;

	/* First of all, before any argument names a target: from here on the kernel refuses
	 * every call that could write to or stop another process (reader/sandbox.h). */
	if (tc_sandbox_enter(TC_SANDBOX_ASAN ? TC_SANDBOX_ALLOW_PTRACE : 0, &why) != 0) {
		fprintf(stderr, "%s: cannot install the read-only sandbox (seccomp): %s\n", tc_prog,
			why ? why : "unknown reason");
		return TC_EXIT_RUNTIME;
	}
	if (argc < 2)
		return tc_usage_error(NULL, "missing command");
	const char *cmd = argv[1];
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
		printf("tachyon-c %s (reads CPython %s)\n", TC_VERSION, "3.9 to 3.15");
		return TC_EXIT_OK;
	}
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		tc_usage(stdout, NULL);
		return TC_EXIT_OK;
	}
	if (strcmp(cmd, "help") == 0) {
		if (argc > 2 && strcmp(argv[2], "dump") != 0 && strcmp(argv[2], "attach") != 0 &&
		    strcmp(argv[2], "bench") != 0 && strcmp(argv[2], "stats") != 0 &&
		    strcmp(argv[2], "top") != 0)
			return tc_usage_error(NULL, "no such command: %s", argv[2]);
		tc_usage(stdout, argc > 2 ? argv[2] : NULL);
		return TC_EXIT_OK;
	}
	if (strcmp(cmd, "dump") == 0)
		return tc_cmd_dump(argc - 1, argv + 1);
	if (strcmp(cmd, "attach") == 0)
		return tc_cmd_attach(argc - 1, argv + 1);
	if (strcmp(cmd, "bench") == 0)
		return tc_cmd_bench(argc - 1, argv + 1);
	if (strcmp(cmd, "stats") == 0)
		return tc_cmd_stats(argc - 1, argv + 1);
	if (strcmp(cmd, "top") == 0)
		return tc_cmd_top(argc - 1, argv + 1);
	return tc_usage_error(NULL, "unknown command: %s", cmd);
}
