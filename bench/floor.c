// SPDX-License-Identifier: MIT
/* Floors under tachyon-c's figures: what the kernel charges before a sampler does any work.
 *
 *   cc -O2 -std=c11 -o floor bench/floor.c
 *
 *   ./floor PID SECONDS
 *     The floor under any out-of-process sampler: one 8-byte process_vm_readv against the
 *     target, back to back. A sampler cannot take a sample in less time than one such read,
 *     so tachyon-c's us/sample divided by this figure says how many reads' worth of time a
 *     sample costs. Reads the first 8 bytes of the target's first readable mapping (normally
 *     the start of its executable: mapped, resident, never changing). Prints
 *       {"reads": N, "failed": F, "seconds": S, "us_per_read": X, "cpu_us_per_read": C,
 *        "addr": "0x..."}
 *
 *   ./floor --replay PID SECONDS ADDR:LEN[,ADDR:LEN...]
 *     The replay floor: exactly the given remote ranges (the "batch" that
 *     `tachyon-c bench --json` reports under "prefetch": what its next sample would fetch),
 *     read with ONE process_vm_readv per iteration (one local and one remote iovec per range,
 *     into one buffer, as tachyon-c does), back to back. ADDR and LEN are decimal, or hex with
 *     a 0x prefix (strtoull base 0; a leading 0 alone means octal). At most 1024 ranges
 *     (IOV_MAX). A read that copies less than every byte (a range no longer mapped) counts as
 *     failed and the loop goes on; if the very first read fails, exit 1. Prints
 *       {"reads": N, "failed": F, "seconds": S, "us_per_read": X, "cpu_us_per_read": C,
 *        "ranges": R, "bytes": B}
 *     This is the kernel cost of the reads tachyon-c makes per sample; tachyon-c's us/sample
 *     over this figure says what it adds on top (walking, retries, extra syscalls).
 *
 *   ./floor --wake RATE SECONDS
 *     The wake-up floor: a loop that only sleeps to absolute deadlines at RATE Hz
 *     (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME), PR_SET_TIMERSLACK 1 ns), with
 *     tachyon-c's sampler's slot policy: after each wake-up next += interval; if the loop is
 *     a whole interval or more behind next, the slots that passed are skipped and counted as
 *     missed. CPU is getrusage (user + sys) over the whole loop. Prints
 *       {"rate": R, "seconds": S, "wakeups": N, "missed": M, "achieved_hz": A,
 *        "cpu_percent": P, "cpu_us_per_wakeup": C}
 *     A profiler sampling at RATE cannot use less CPU than this.
 *
 * Exit 1 with a message on stderr when the target cannot be read, 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#define REPLAY_MAX 1024 /* IOV_MAX on Linux; tachyon-c batches at most this many per call */

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

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s PID SECONDS\n"
		"       %s --replay PID SECONDS ADDR:LEN[,ADDR:LEN...]\n"
		"       %s --wake RATE SECONDS\n",
		argv0, argv0, argv0);
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

static int single(pid_t pid, double seconds)
{
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

/* "ADDR:LEN[,ADDR:LEN...]" into REMOTE[]; returns the count, or -1 with a message. */
static int parse_ranges(const char *s, struct iovec *remote, size_t *total)
{
	int n = 0;
	*total = 0;
	while (*s) {
		char *end;
		if (n == REPLAY_MAX) {
			fprintf(stderr, "floor: more than %d ranges\n", REPLAY_MAX);
			return -1;
		}
		errno = 0;
		unsigned long long addr = strtoull(s, &end, 0);
		if (errno || end == s || *end != ':') {
			fprintf(stderr, "floor: bad range at \"%.40s\" (want ADDR:LEN)\n", s);
			return -1;
		}
		s = end + 1;
		unsigned long long len = strtoull(s, &end, 0);
		if (errno || end == s || (*end && *end != ',') || len == 0 || len > (1u << 26)) {
			fprintf(stderr, "floor: bad length at \"%.40s\"\n", s);
			return -1;
		}
		remote[n].iov_base = (void *)(uintptr_t)addr;
		remote[n].iov_len = (size_t)len;
		*total += (size_t)len;
		n++;
		s = *end ? end + 1 : end;
	}
	if (n == 0)
		fprintf(stderr, "floor: no ranges given\n");
	return n ? n : -1;
}

static int replay(pid_t pid, double seconds, const char *spec)
{
	static struct iovec local[REPLAY_MAX], remote[REPLAY_MAX];
	size_t total;
	int n = parse_ranges(spec, remote, &total);
	if (n < 0)
		return 2;
	char *buf = malloc(total);
	if (!buf) {
		fprintf(stderr, "floor: out of memory\n");
		return 1;
	}
	for (size_t i = 0, off = 0; i < (size_t)n; off += remote[i].iov_len, i++) {
		local[i].iov_base = buf + off;
		local[i].iov_len = remote[i].iov_len;
	}
	ssize_t got = process_vm_readv(pid, local, (unsigned long)n, remote, (unsigned long)n, 0);
	if (got != (ssize_t)total) {
		if (got < 0)
			fprintf(stderr, "floor: cannot read pid %d: %s\n", (int)pid, strerror(errno));
		else
			fprintf(stderr, "floor: short read of pid %d: %zd of %zu bytes (a range is not "
				"mapped)\n", (int)pid, got, total);
		free(buf);
		return 1;
	}
	uint64_t reads = 0, failed = 0;
	double cpu0 = cpu_seconds(), t0 = now(), end = t0 + seconds, t = t0;
	while (t < end) {
		for (int i = 0; i < 16; i++) {
			if (process_vm_readv(pid, local, (unsigned long)n, remote, (unsigned long)n, 0) !=
			    (ssize_t)total)
				failed++;
			reads++;
		}
		t = now();
	}
	double cpu = cpu_seconds() - cpu0, wall = t - t0;
	printf("{\"reads\": %" PRIu64 ", \"failed\": %" PRIu64 ", \"seconds\": %.6f, "
	       "\"us_per_read\": %.4f, \"cpu_us_per_read\": %.4f, \"ranges\": %d, "
	       "\"bytes\": %zu}\n",
	       reads, failed, wall, wall / (double)reads * 1e6, cpu / (double)reads * 1e6, n, total);
	free(buf);
	return 0;
}

static void ts_add_ns(struct timespec *ts, int64_t ns)
{
	int64_t t = (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec + ns;
	ts->tv_sec = (time_t)(t / 1000000000);
	ts->tv_nsec = (long)(t % 1000000000);
}

static int64_t ts_diff_ns(const struct timespec *a, const struct timespec *b)
{
	return ((int64_t)a->tv_sec - b->tv_sec) * 1000000000 + ((int64_t)a->tv_nsec - b->tv_nsec);
}

/* The sampler's loop (daemon/sampler.c) with the sample taken out. */
static int wake(double rate, double seconds)
{
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	int64_t interval = (int64_t)(1e9 / rate + 0.5); /* llround, without libm */
	if (interval < 1000)
		interval = 1000;
	uint64_t wakeups = 0, missed = 0;
	struct timespec next, ts;
	double cpu0 = cpu_seconds();
	clock_gettime(CLOCK_MONOTONIC, &next);
	double t0 = now();
	while (now() - t0 < seconds) {
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
		wakeups++;
		ts_add_ns(&next, interval);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		int64_t behind = ts_diff_ns(&ts, &next);
		if (behind >= interval) {
			int64_t skip = behind / interval;
			missed += (uint64_t)skip;
			ts_add_ns(&next, skip * interval);
		}
	}
	double wall = now() - t0, cpu = cpu_seconds() - cpu0;
	printf("{\"rate\": %g, \"seconds\": %.6f, \"wakeups\": %" PRIu64 ", \"missed\": %" PRIu64
	       ", \"achieved_hz\": %.2f, \"cpu_percent\": %.3f, \"cpu_us_per_wakeup\": %.3f}\n",
	       rate, wall, wakeups, missed, (double)wakeups / wall, 100.0 * cpu / wall,
	       wakeups ? cpu / (double)wakeups * 1e6 : 0.0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "--replay") == 0) {
		double seconds = atof(argv[3]);
		if (atoi(argv[2]) <= 0 || !(seconds > 0)) {
			usage(argv[0]);
			return 2;
		}
		return replay((pid_t)atoi(argv[2]), seconds, argv[4]);
	}
	if (argc == 4 && strcmp(argv[1], "--wake") == 0) {
		double rate = atof(argv[2]), seconds = atof(argv[3]);
		if (!(rate > 0) || !(seconds > 0)) {
			usage(argv[0]);
			return 2;
		}
		return wake(rate, seconds);
	}
	if (argc != 3 || argv[1][0] == '-') {
		usage(argv[0]);
		return 2;
	}
	return single((pid_t)atoi(argv[1]), atof(argv[2]));
}
