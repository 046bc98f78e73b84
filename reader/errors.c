/* SPDX-License-Identifier: MIT */
/* Words for the TC_E* codes of include/tc/common.h. The lowest library holds them so that
 * every layer can put a reason into a message; only cli/ prints them. */
#include <limits.h>

#include "tc/common.h"

const char *tc_strerror(int err)
{
	/* INT_MIN has no positive counterpart: it is simply no code */
	switch (err == INT_MIN ? -1 : err < 0 ? -err : err) {
	case TC_OK:
		return "success";
	case TC_ENOMEM:
		return "out of memory";
	case TC_ESRCH:
		return "no such process";
	case TC_EPERM:
		return "permission denied";
	case TC_EFAULT:
		return "memory of the target not readable";
	case TC_ENOTPY:
		return "not a Python process";
	case TC_EVERSION:
		return "unsupported Python version";
	case TC_EINVAL:
		return "invalid argument or inconsistent target data";
	case TC_EIO:
		return "input/output error";
	case TC_ENOENT:
		return "not found";
	case TC_ERANGE:
		return "a limit was reached";
	case TC_ECORRUPT:
		return "target data changed while being read";
	default:
		return "unknown error";
	}
}
