/* SPDX-License-Identifier: MIT */
/* Reading the target's memory: process_vm_readv, batched, with /proc/PID/mem as fallback.
 * Strictly read-only: nothing in this project writes to the target. */
#ifndef TC_REMOTE_H
#define TC_REMOTE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tc/common.h"

struct tc_remote;

struct tc_remote_stats {
	uint64_t syscalls; /* process_vm_readv / pread calls */
	uint64_t reads;    /* ranges requested */
	uint64_t bytes;    /* bytes requested */
};

/* One range to read in a batch. */
struct tc_riov {
	tc_raddr addr;
	void *buf;
	size_t len;
};

/* Prepare to read PID's memory. Does not stop or signal the target. Returns 0 and *OUT
 * (caller frees), -TC_ESRCH, -TC_EPERM (with process_vm_readv and /proc/PID/mem both
 * refused), -TC_ENOMEM. */
int tc_remote_open(pid_t pid, struct tc_remote **out);
void tc_remote_free(struct tc_remote *r); /* accepts NULL */

/* Copy LEN bytes at remote ADDR into BUF. Returns 0, -TC_EFAULT when any part of the range
 * is not mapped (the caller drops the sample), -TC_ESRCH when the target is gone,
 * -TC_EPERM when access was revoked. */
int tc_remote_read(struct tc_remote *r, tc_raddr addr, void *buf, size_t len);

/* Read N ranges, as few syscalls as the iovec limit allows. Returns 0 when all were read in
 * full, else the first error as tc_remote_read would (ranges before it are filled). */
int tc_remote_readv(struct tc_remote *r, const struct tc_riov *v, size_t n);

/* A memory image standing in for a process (unit tests, synthetic layouts such as
 * free-threaded builds): reads of [ADDR, ADDR+LEN) are served from BUF. */
struct tc_region {
	tc_raddr addr;
	const void *buf; /* borrowed: must outlive the tc_remote */
	size_t len;
};

/* A reader over N regions instead of a live process (copied array; the buffers are
 * borrowed). Reads outside every region fail with -TC_EFAULT, exactly like an unmapped
 * address in a live target. tc_remote_pid() returns 0. Returns 0 or -TC_ENOMEM. */
int tc_remote_open_image(const struct tc_region *regions, size_t n, struct tc_remote **out);

/* Image readers only: FN(CTX, K) runs before the K-th read call from now on (K from 0; one
 * call per tc_remote_read or tc_remote_readv), and may change the regions' buffers: a target
 * that moves between two reads. FN NULL removes it. No effect on other readers. */
void tc_remote_image_on_read(struct tc_remote *r, void (*fn)(void *ctx, uint64_t call),
			     void *ctx);

/* Fill OUT with counters since open. */
void tc_remote_get_stats(const struct tc_remote *r, struct tc_remote_stats *out);

pid_t tc_remote_pid(const struct tc_remote *r);

#endif
