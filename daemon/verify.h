/* SPDX-License-Identifier: MIT */
/* The walker's second read: see verify() in daemon/verify.c and tc_unwind in unwind.h. */
#ifndef TC_VERIFY_H
#define TC_VERIFY_H

#include "daemon/target.h"
#include "daemon/unwind.h"

/* Read the top of every walked stack of S again and keep, cut or mark torn each thread's
 * frames (see verify.c). Returns 0, or a fatal read error (-TC_ESRCH, -TC_EPERM) /
 * -TC_ENOMEM. */
int tc_unwind_verify(struct tc_walk_ctx *x, struct tc_snapshot *s);

#endif
