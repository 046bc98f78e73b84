/* SPDX-License-Identifier: MIT */
/* Commands of the tachyon-c binary and their shared helpers. */
#ifndef TC_CLI_H
#define TC_CLI_H

#include <signal.h>
#include <stdio.h>
#include <sys/types.h>

#include "daemon/target.h"

/* Exit codes (DESIGN.md). */
enum {
	TC_EXIT_OK = 0,
	TC_EXIT_RUNTIME = 1,
	TC_EXIT_USAGE = 2,
	TC_EXIT_NOPROC = 3,
	TC_EXIT_PERM = 4,
	TC_EXIT_NOTPY = 5
};

int tc_cmd_dump(int argc, char **argv);
int tc_cmd_attach(int argc, char **argv);
int tc_cmd_bench(int argc, char **argv);
int tc_cmd_stats(int argc, char **argv); /* cli/cmd_stats.c */
int tc_cmd_top(int argc, char **argv);   /* cli/cmd_top.c */

/* Usage texts kept next to their command. */
extern const char tc_usage_stats[];
extern const char tc_usage_top[];

/* Print the usage of COMMAND (NULL: the overview) to OUT. */
void tc_usage(FILE *out, const char *command);

/* Report a usage error for COMMAND on stderr (message, then a hint) and return
 * TC_EXIT_USAGE. */
int tc_usage_error(const char *command, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The PID operand, the options every command shares and the stop signals are in
 * cli/session.h. */

/* Attach to PID, printing a clear message on failure. Returns 0 and *T, or the exit code
 * to use. */
int tc_cli_attach(pid_t pid, struct tc_target **t);

/* Message for a runtime failure ERR while working on PID; returns the exit code. */
int tc_cli_fail(int err, pid_t pid, const char *doing);

/* "tachyon-c" prefix for messages. */
extern const char *tc_prog;

#endif
