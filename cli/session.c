/* SPDX-License-Identifier: MIT */
/* The command-line steps every command shares (see session.h). */
#include "cli/session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "tc/common.h"

/* --threads and --mode; other values are not ours (returns TC_SESSION_RUN). */
static int shared_option(struct tc_session *s, int opt, const char *arg)
{
	switch (opt) {
	case TC_OPT_THREADS:
		if (strcmp(arg, "main") == 0)
			s->main_only = true;
		else if (strcmp(arg, "all") != 0)
			return tc_usage_error(s->command, "--threads takes all or main, not '%s'", arg);
		return 0;
	case TC_OPT_MODE:
		if (strcmp(arg, "wall") == 0)
			s->mode = TC_MODE_WALL;
		else if (strcmp(arg, "cpu") == 0)
			s->mode = TC_MODE_CPU;
		else if (strcmp(arg, "gil") == 0)
			s->mode = TC_MODE_GIL;
		else
			return tc_usage_error(s->command, "--mode takes wall, cpu or gil, not '%s'",
					      arg);
		s->mode_name = arg;
		return 0;
	default:
		return TC_SESSION_RUN;
	}
}

/* ARGV[FIRST..ARGC) must be exactly one PID. */
static int one_pid(struct tc_session *s, int argc, char **argv, int first)
{
	if (first >= argc)
		return tc_usage_error(s->command, "missing PID");
	if (tc_parse_pid(argv[first], &s->pid) != 0)
		return tc_usage_error(s->command, "expected one PID, got '%s'", argv[first]);
	if (first + 1 < argc)
		return tc_usage_error(s->command, "expected one PID, got also '%s'", argv[first + 1]);
	return TC_SESSION_RUN;
}

int tc_session_parse(struct tc_session *s, const char *command, const char *shortopts,
		     const struct option *longopts, tc_session_opt_fn on_opt, void *ctx, int argc,
		     char **argv)
{
	int c, rc;

	*s = (struct tc_session){.command = command, .mode = TC_MODE_WALL, .mode_name = "wall"};
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			tc_usage(stdout, command);
			return TC_EXIT_OK;
		case ':':
			return tc_usage_error(command, "option %s needs a value", argv[optind - 1]);
		case '?':
			return tc_usage_error(command, "unknown option: %s", argv[optind - 1]);
		default:
			rc = shared_option(s, c, optarg);
			if (rc == TC_SESSION_RUN)
				rc = on_opt(ctx, c, optarg);
			if (rc)
				return rc;
			break;
		}
	}
	return one_pid(s, argc, argv, optind);
}

int tc_session_count(const char *arg, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < lo || v > hi)
		return -TC_EINVAL;
	*out = v;
	return 0;
}

static volatile sig_atomic_t stop_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void catch_once(int sig)
{
	static sigset_t installed;
	static bool init;
	struct sigaction sa;

	if (!init) {
		sigemptyset(&installed);
		init = true;
	}
	if (sigismember(&installed, sig) == 1)
		return;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop; /* no SA_RESTART: the sampler's sleep returns at once */
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
	sigaddset(&installed, sig);
}

volatile sig_atomic_t *tc_session_catch_stop(bool hup)
{
	catch_once(SIGINT);
	catch_once(SIGTERM);
	if (hup)
		catch_once(SIGHUP);
	return &stop_flag;
}

void tc_session_quiet_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGWINCH);
	sigaddset(set, SIGTSTP);
	sigaddset(set, SIGCONT);
}

int tc_session_thread(pthread_t *th, void *(*fn)(void *), void *arg)
{
	sigset_t block, old;
	int err;

	tc_session_quiet_signals(&block);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	err = pthread_create(th, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

double tc_session_now(void)
{
	return tc_now_s();
}
