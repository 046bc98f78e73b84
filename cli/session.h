/* SPDX-License-Identifier: MIT */
/* What every command of the tachyon-c binary does the same way before it starts working: the
 * getopt loop with its help, unknown-option and missing-value handling, the options shared
 * by several commands (--threads, --mode), the one PID operand, and the stop signals. Each
 * message and exit code is the one the commands printed when each had its own copy
 * (tests/functional/test_errors.py and test_cli_hardening.py hold them to it). */
#ifndef TC_SESSION_H
#define TC_SESSION_H

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "daemon/sampler.h"

/* tc_session_parse: the command goes on (any other value is the exit code to return). */
#define TC_SESSION_RUN (-1)

/* Values of the shared long-only options in a command's struct option table. */
enum {
	TC_OPT_THREADS = 0x100, /* --threads all|main */
	TC_OPT_MODE,            /* --mode wall|cpu|gil */
};

#define TC_SESSION_OPT_THREADS { "threads", required_argument, NULL, TC_OPT_THREADS }
#define TC_SESSION_OPT_MODE { "mode", required_argument, NULL, TC_OPT_MODE }
#define TC_SESSION_OPT_HELP { "help", no_argument, NULL, 'h' }

/* What the shared parsing found. */
struct tc_session {
	const char *command;   /* "attach", "top", ...: usage texts and messages */
	pid_t pid;             /* the PID operand */
	bool main_only;        /* --threads main */
	enum tc_mode mode;     /* --mode (default wall) */
	const char *mode_name; /* "wall", "cpu" or "gil", as given */
};

/* A command's own option OPT (the getopt value) with argument ARG (NULL when it takes
 * none). Returns 0, or the exit code to return (after printing why, e.g. tc_usage_error). */
typedef int (*tc_session_opt_fn)(void *ctx, int opt, const char *arg);

/* Parse ARGV (ARGV[0] is the command's name) with getopt_long over SHORTOPTS and LONGOPTS
 * exactly as given (GNU permutation: options before or after the PID; a leading ':' in
 * SHORTOPTS makes a missing value its own message). The shared options and -h/--help are
 * handled here, every other option goes to ON_OPT; then the operands must be exactly one
 * PID. Fills *S (defaults: all threads, wall mode). Returns TC_SESSION_RUN, or the exit code
 * to return now (0 after --help; TC_EXIT_USAGE after a usage message on stderr). */
int tc_session_parse(struct tc_session *s, const char *command, const char *shortopts,
		     const struct option *longopts, tc_session_opt_fn on_opt, void *ctx, int argc,
		     char **argv);

/* Parse a whole-number option value: an integer in [LO, HI] (strtol syntax). Returns 0 and
 * *OUT, or -TC_EINVAL. */
int tc_session_count(const char *arg, long lo, long hi, long *out);

/* Make SIGINT and SIGTERM, and SIGHUP with HUP, set the returned flag (ending a recording
 * early, cleanly). The handler (no SA_RESTART: a sleep returns at once) is installed once
 * per signal, however often this is called. */
volatile sig_atomic_t *tc_session_catch_stop(bool hup);

/* The signals the commands' main threads handle (SIGINT, SIGTERM, SIGHUP, SIGWINCH, SIGTSTP,
 * SIGCONT), into *SET: every other thread starts with them blocked. */
void tc_session_quiet_signals(sigset_t *set);

/* Start a thread running FN(ARG) with those signals blocked in it, so they reach the calling
 * thread. Returns 0 or pthread_create's error number. */
int tc_session_thread(pthread_t *th, void *(*fn)(void *), void *arg);

/* Monotonic seconds: tc_now_s (base/clock.h), under the name the commands use. */
double tc_session_now(void);

#endif
