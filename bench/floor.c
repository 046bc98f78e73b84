// SPDX-License-Identifier: MIT
/* The floor under any out-of-process sampler: one 8-byte process_vm_readv against the target,
 * back to back. A sampler cannot take a sample in less time than one such read, so
 * tachyon-c's us/sample divided by this figure says how many reads' worth of time a sample
 * costs.
 *
 *   cc -O2 -std=c11 -o floor bench/floor.c && ./floor PID SECONDS
 *
 * Reads the first 8 bytes of the target's first readable mapping (normally the start of its
 * executable: mapped, resident, never changing), and prints one JSON object:
 *   {"reads": N, "failed": F, "seconds": S, "us_per_read": X, "cpu_us_per_read": C,
 *    "addr": "0x..."}
 * Exit 1 with a message on stderr if the target has no readable mapping or cannot be read.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* First readable mapping of PID; 0 when there is none or /proc cannot be read. */
static uint64_t first_readable(pid_t pid)
{
	char path[64], line[512], perms[8];
	uint64_t lo, hi, found = 0;
	snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s", &lo, &hi, perms) == 3 &&
		    perms[0] == 'r' && hi - lo >= 8) {
			found = lo;
			break;
		}
	}
	fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s PID SECONDS\n", argv[0]);
		return 2;
	}
	pid_t pid = (pid_t)atoi(argv[1]);
	double seconds = atof(argv[2]);
	uint64_t addr = first_readable(pid);
	if (!addr) {
		fprintf(stderr, "floor: no readable mapping in pid %d\n", (int)pid);
		return 1;
	}
	uint64_t word = 0, reads = 0, failed = 0;
	struct iovec local = {.iov_base = &word, .iov_len = sizeof word};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = sizeof word};
	if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != (ssize_t)sizeof word) {
		fprintf(stderr, "floor: cannot read pid %d at 0x%" PRIx64 ": %s\n", (int)pid, addr,
			strerror(errno));
		return 1;
	}
	double cpu0 = cpu_seconds(), t0 = now(), end = t0 + seconds, t = t0;
	while (t < end) {
		for (int i = 0; i < 64; i++) {
			if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != (ssize_t)sizeof word)
				failed++;
			reads++;
		}
		t = now();
	}
	double cpu = cpu_seconds() - cpu0, wall = t - t0;
	printf("{\"reads\": %" PRIu64 ", \"failed\": %" PRIu64 ", \"seconds\": %.6f, "
	       "\"us_per_read\": %.4f, \"cpu_us_per_read\": %.4f, \"addr\": \"0x%" PRIx64 "\"}\n",
	       reads, failed, wall, wall / (double)reads * 1e6, cpu / (double)reads * 1e6, addr);
	return 0;
}
