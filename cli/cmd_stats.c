/* SPDX-License-Identifier: MIT */
/* `tachyon-c stats PID`: placeholder until the allocator reader lands. */
#include "cli/cli.h"

const char tc_usage_stats[] = "usage: tachyon-c stats PID [--json] [--watch SECONDS]\n";

int tc_cmd_stats(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return tc_usage_error("stats", "not implemented yet");
}
