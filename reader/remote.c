/* SPDX-License-Identifier: MIT */
/* Reading the target's memory. Three backends behind one interface:
 *  - process_vm_readv, batching up to IOV_MAX ranges per syscall (the normal case);
 *  - pread on /proc/PID/mem, opened O_RDONLY, when process_vm_readv is missing (ENOSYS) or
 *    refused by a seccomp profile (EPERM) while the mem file is still allowed;
 *  - an in-memory image of regions, standing in for a process in tests and for synthetic
 *    layouts.
 * Strictly read-only: nothing here writes to, stops or signals the target.
 *
 * A tc_remote is used by one thread at a time (it keeps scratch iovec arrays and plain
 * counters). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "reader/remote.h"

#define TC_IOV_MAX 1024
/* The kernel caps one transfer at MAX_RW_COUNT (INT_MAX rounded down to a page) and would
 * silently shorten a larger one; stay well below so a short result always means a fault. */
#define TC_BATCH_MAX ((size_t)1 << 30)

enum tc_backend { TC_BK_VM, TC_BK_MEM, TC_BK_IMAGE };

struct tc_remote {
	enum tc_backend backend;
	pid_t pid;
	int memfd;                  /* TC_BK_MEM only, else -1 */
	struct tc_region *regions;  /* TC_BK_IMAGE: sorted by addr (array owned, bufs borrowed) */
	size_t nregions;
	struct iovec *liov, *riov;  /* TC_BK_VM scratch, TC_IOV_MAX each */
	struct tc_remote_stats stats;
	/* TC_BK_IMAGE: called before every read call (tests: the target moving) */
	void (*on_read)(void *ctx, uint64_t call);
	void *on_read_ctx;
	uint64_t calls;
};

/* errno of a failed read to TC_E*: gone, forbidden, or the range is not there. */
static int read_errno(int e)
{
	switch (e) {
	case ESRCH:
		return -TC_ESRCH;
	case EPERM:
	case EACCES:
		return -TC_EPERM;
	case ENOMEM:
		return -TC_ENOMEM;
	default: /* EFAULT, EIO, EINVAL (offset past 2^63 on the mem file), ... */
		return -TC_EFAULT;
	}
}

/* True when [ADDR, ADDR+LEN) wraps or cannot be expressed as a host pointer-sized range. */
static bool range_wraps(tc_raddr addr, size_t len)
{
	return addr > (uint64_t)UINTPTR_MAX || (uint64_t)len > (uint64_t)UINTPTR_MAX - addr;
}

/* process_vm_readv of one byte at address 0: no page is mapped there, so a live target we
 * may read answers EFAULT, while ESRCH/EPERM/ENOSYS come back before any page is touched.
 * Returns 0 (usable) or the errno. */
static int probe_vm(pid_t pid)
{
	char c;
	struct iovec l = { .iov_base = &c, .iov_len = 1 };
	struct iovec rv = { .iov_base = NULL, .iov_len = 1 };

	for (;;) {
		if (process_vm_readv(pid, &l, 1, &rv, 1, 0) >= 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EFAULT || errno == EIO)
			return 0;
		return errno;
	}
}

/* Open /proc/PID/mem read-only and check the process still has an address space (the mem
 * file of a zombie opens, then reads as empty). Returns 0 and *FD, or a TC_E* code. */
static int open_mem(pid_t pid, int vm_errno, int *fd)
{
	char path[64];
	char c;
	int f;
	ssize_t k;

	snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0) {
		if (errno == ENOENT || errno == ESRCH)
			return -TC_ESRCH;
		if (errno == EACCES || errno == EPERM || vm_errno == EPERM)
			return -TC_EPERM;
		return errno == ENOMEM ? -TC_ENOMEM : -TC_EIO;
	}
	do
		k = pread(f, &c, 1, 0);
	while (k < 0 && errno == EINTR);
	if (k == 0 || (k < 0 && errno == ESRCH)) {
		close(f);
		return -TC_ESRCH;
	}
	if (k < 0 && (errno == EPERM || errno == EACCES)) {
		close(f);
		return -TC_EPERM;
	}
	*fd = f;
	return 0;
}

int tc_remote_open(pid_t pid, struct tc_remote **out)
{
	struct tc_remote *r = NULL;
	int vm_errno;
	int err = 0;

	if (pid <= 0)
		return -TC_ESRCH;
	r = calloc(1, sizeof *r);
	if (!r)
		return -TC_ENOMEM;
	r->pid = pid;
	r->memfd = -1;
	vm_errno = probe_vm(pid);
	if (vm_errno == 0) {
		r->backend = TC_BK_VM;
	} else if (vm_errno == ESRCH) {
		err = -TC_ESRCH;
		goto out;
	} else if (vm_errno == ENOSYS || vm_errno == EPERM || vm_errno == EACCES) {
		/* Containers' seccomp profiles have been known to deny process_vm_readv
		 * alone; the mem file goes through the same ptrace check, so this only helps
		 * when the refusal was not about ptrace access. */
		err = open_mem(pid, vm_errno == EACCES ? EPERM : vm_errno, &r->memfd);
		if (err)
			goto out;
		r->backend = TC_BK_MEM;
	} else {
		err = read_errno(vm_errno);
		goto out;
	}
	if (r->backend == TC_BK_VM) {
		r->liov = calloc(TC_IOV_MAX, sizeof *r->liov);
		r->riov = calloc(TC_IOV_MAX, sizeof *r->riov);
		if (!r->liov || !r->riov) {
			err = -TC_ENOMEM;
			goto out;
		}
	}
	*out = r;
	r = NULL;
out:
	tc_remote_free(r);
	return err;
}

/* Region order for the image backend. */
static int cmp_region(const void *a, const void *b)
{
	const struct tc_region *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return 0;
}

int tc_remote_open_image(const struct tc_region *regions, size_t n, struct tc_remote **out)
{
	struct tc_remote *r = NULL;
	int err = 0;

	r = calloc(1, sizeof *r);
	if (!r)
		return -TC_ENOMEM;
	r->backend = TC_BK_IMAGE;
	r->memfd = -1;
	if (n > 0) {
		r->regions = calloc(n, sizeof *r->regions);
		if (!r->regions) {
			err = -TC_ENOMEM;
			goto out;
		}
		memcpy(r->regions, regions, n * sizeof *regions);
		qsort(r->regions, n, sizeof *r->regions, cmp_region);
	}
	r->nregions = n;
	*out = r;
	r = NULL;
out:
	tc_remote_free(r);
	return err;
}

void tc_remote_image_on_read(struct tc_remote *r, void (*fn)(void *ctx, uint64_t call),
			     void *ctx)
{
	if (!r || r->backend != TC_BK_IMAGE)
		return;
	r->on_read = fn;
	r->on_read_ctx = ctx;
	r->calls = 0;
}

void tc_remote_free(struct tc_remote *r)
{
	if (!r)
		return;
	if (r->memfd >= 0)
		close(r->memfd);
	free(r->regions);
	free(r->liov);
	free(r->riov);
	free(r);
}

/* True when region G holds ADDR. */
static bool region_has(const struct tc_region *g, tc_raddr addr)
{
	return addr >= g->addr && addr - g->addr < g->len;
}

/* The image region holding ADDR, or NULL. Bisects; overlapping regions (allowed, if odd)
 * fall back to a scan. */
static const struct tc_region *image_find(const struct tc_remote *r, tc_raddr addr)
{
	size_t lo = 0, hi = r->nregions;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->regions[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && region_has(&r->regions[lo - 1], addr))
		return &r->regions[lo - 1];
	for (size_t i = 0; i < lo; i++)
		if (region_has(&r->regions[i], addr))
			return &r->regions[i];
	return NULL;
}

/* One range from the image; may span adjacent regions, like adjacent mappings. */
static int image_read(const struct tc_remote *r, tc_raddr addr, void *buf, size_t len)
{
	size_t done = 0;

	if (range_wraps(addr, len))
		return -TC_EFAULT;
	while (done < len) {
		const struct tc_region *g = image_find(r, addr + done);
		uint64_t off, n;

		if (!g)
			return -TC_EFAULT;
		off = addr + done - g->addr;
		n = g->len - off;
		if (n > len - done)
			n = len - done;
		memcpy((char *)buf + done, (const char *)g->buf + off, (size_t)n);
		done += (size_t)n;
	}
	return 0;
}

/* One range through /proc/PID/mem. A read of 0 bytes means the address space is gone. */
static int mem_read(struct tc_remote *r, tc_raddr addr, void *buf, size_t len)
{
	size_t done = 0;

	if (range_wraps(addr, len) || addr + len > (uint64_t)INT64_MAX)
		return -TC_EFAULT;
	while (done < len) {
		ssize_t k;

		r->stats.syscalls++;
		k = pread(r->memfd, (char *)buf + done, len - done, (off_t)(addr + done));
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return read_errno(errno);
		}
		if (k == 0)
			return -TC_ESRCH;
		done += (size_t)k;
	}
	return 0;
}

/* process_vm_readv over V[0..N), packing up to TC_IOV_MAX pieces and TC_BATCH_MAX bytes per
 * call; a range too large for one batch is split across calls. The kernel copies iovecs in
 * order and stops at the first failing one, so a short count means the range the count
 * ends in is (partly) unmapped, and everything before it was filled. */
static int vm_readv(struct tc_remote *r, const struct tc_riov *v, size_t n)
{
	size_t i = 0, off = 0;

	while (i < n) {
		size_t k = 0, total = 0;
		ssize_t got;

		while (i < n && k < TC_IOV_MAX && total < TC_BATCH_MAX) {
			size_t len = v[i].len - off, piece;

			if (len == 0) {
				i++;
				off = 0;
				continue;
			}
			if (off == 0 && range_wraps(v[i].addr, v[i].len)) {
				if (k == 0)
					return -TC_EFAULT;
				break; /* read what precedes it first */
			}
			piece = len < TC_BATCH_MAX - total ? len : TC_BATCH_MAX - total;
			r->liov[k].iov_base = (char *)v[i].buf + off;
			r->liov[k].iov_len = piece;
			r->riov[k].iov_base = (void *)(uintptr_t)(v[i].addr + off);
			r->riov[k].iov_len = piece;
			k++;
			total += piece;
			if (piece == len) {
				i++;
				off = 0;
			} else {
				off += piece;
			}
		}
		if (k == 0)
			break;
		do {
			r->stats.syscalls++;
			got = process_vm_readv(r->pid, r->liov, k, r->riov, k, 0);
		} while (got < 0 && errno == EINTR);
		if (got < 0)
			return read_errno(errno);
		if ((size_t)got < total)
			return -TC_EFAULT;
	}
	return 0;
}

int tc_remote_readv(struct tc_remote *r, const struct tc_riov *v, size_t n)
{
	if (!r || (n > 0 && !v))
		return -TC_EINVAL;
	r->stats.reads += n;
	for (size_t i = 0; i < n; i++)
		r->stats.bytes += v[i].len;
	switch (r->backend) {
	case TC_BK_VM:
		return vm_readv(r, v, n);
	case TC_BK_MEM:
		for (size_t i = 0; i < n; i++) {
			int err = v[i].len ? mem_read(r, v[i].addr, v[i].buf, v[i].len) : 0;

			if (err)
				return err;
		}
		return 0;
	case TC_BK_IMAGE:
		if (r->on_read)
			r->on_read(r->on_read_ctx, r->calls);
		r->calls++;
		for (size_t i = 0; i < n; i++) {
			int err = image_read(r, v[i].addr, v[i].buf, v[i].len);

			if (err)
				return err;
		}
		return 0;
	}
	return -TC_EINVAL;
}

int tc_remote_read(struct tc_remote *r, tc_raddr addr, void *buf, size_t len)
{
	struct tc_riov one = { .addr = addr, .buf = buf, .len = len };

	return tc_remote_readv(r, &one, 1);
}

void tc_remote_get_stats(const struct tc_remote *r, struct tc_remote_stats *out)
{
	if (!out)
		return;
	if (!r) {
		memset(out, 0, sizeof *out);
		return;
	}
	*out = r->stats;
}

pid_t tc_remote_pid(const struct tc_remote *r)
{
	return r && r->backend != TC_BK_IMAGE ? r->pid : 0;
}
