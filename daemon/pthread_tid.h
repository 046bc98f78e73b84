/* SPDX-License-Identifier: MIT */
/* Kernel thread ids for 3.9/3.10, whose PyThreadState has no native_thread_id: the thread
 * ident is glibc's pthread_t, the address of its struct pthread, which holds the kernel tid.
 * The tid's offset is learned at attach by matching the target's own threads against
 * /proc/PID/task (no glibc version is assumed). */
#ifndef TC_PTHREAD_TID_H
#define TC_PTHREAD_TID_H

#include <stdint.h>

#include "daemon/target.h"

/* Learn T->pthread_tid_off from the target's current threads. Leaves it -1 when no offset
 * is consistent with every thread (native ids are then reported as unknown). */
void tc_pthread_tid_calibrate(struct tc_target *t);

/* Kernel tid of the thread whose pthread_t is IDENT, or 0 when unknown. */
uint64_t tc_pthread_tid(struct tc_target *t, uint64_t ident);

#endif
