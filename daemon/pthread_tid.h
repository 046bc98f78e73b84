/* SPDX-License-Identifier: MIT */
/* Kernel thread ids for 3.9/3.10, whose PyThreadState has no native_thread_id: the thread
 * ident is glibc's pthread_t, the address of its struct pthread, which holds the kernel tid.
 * The tid's offset is learned at attach by matching the target's own threads against
 * /proc/PID/task (no glibc version is assumed). */
#ifndef TC_PTHREAD_TID_H
#define TC_PTHREAD_TID_H

#include <stdint.h>

#include "daemon/walk_ctx.h"

/* The tid's offset in struct pthread, learned from the target's current threads read through
 * MEM; -1 when no offset is consistent with every thread (native ids are then unknown). */
int tc_pthread_tid_calibrate(const struct tc_target *t, struct tc_remote *mem);

/* Kernel tid of the thread whose pthread_t is IDENT, or 0 when unknown. A walker whose offset
 * is unknown calibrates again, at most every 250 ms (X->m.tid_off). */
uint64_t tc_pthread_tid(struct tc_walk_ctx *x, uint64_t ident);

#endif
