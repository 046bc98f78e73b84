/* SPDX-License-Identifier: MIT */
/* `tachyon-c top PID`: placeholder until the live view lands. */
#include "cli/cli.h"

const char tc_usage_top[] = "usage: tachyon-c top PID\n";

int tc_cmd_top(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return tc_usage_error("top", "not implemented yet");
}
