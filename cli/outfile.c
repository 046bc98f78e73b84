/* SPDX-License-Identifier: MIT */
/* Output files written safely (the rules are in outfile.h).
 *
 * Why each step: the old scheme wrote PATH.tmp.PID with fopen and renamed it over PATH. The
 * name was predictable and fopen follows symlinks, so anyone able to write to the directory
 * could plant PATH.tmp.PID -> /etc/shadow and have a root profiler overwrite it; and
 * renaming over a symlink replaced the link itself (-o /dev/stdout turned the system's
 * /dev/stdout into a regular file). Here the temporary name is random and created with
 * O_EXCL|O_NOFOLLOW (it can be neither pre-planted nor followed), the rename targets the
 * symlink's resolved destination, and what is not a regular file is written in place. */
#include "cli/outfile.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/hash.h"
#include "cli/cli.h"
#include "daemon/sinks/escape.h"
#include "tc/common.h"

#define TC_PROC_SUPER_MAGIC 0x9fa0 /* linux/magic.h */
#define TC_MAX_LINKS 40            /* the kernel's own limit on nested symlinks */

/* Directory part of PATH as a new string ("." for a bare name); NULL when out of memory. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* Is the symlink PATH on procfs? Those (/proc/self/fd/N, /proc/PID/exe) are handles on
 * open files whose readlink text is not a usable name (a pipe reads "pipe:[123]"). */
static bool on_procfs(const char *path)
{
	char *dir = dir_of(path);
	struct statfs sf;
	bool yes = false;

	if (dir && statfs(dir, &sf) == 0 && sf.f_type == TC_PROC_SUPER_MAGIC)
		yes = true;
	free(dir);
	return yes;
}

/* The descriptor of this process that PATH names ("/proc/self/fd/N", "/proc/OURPID/fd/N",
 * "/dev/fd/N"), or -1. */
static int own_fd(const char *path)
{
	int fd = -1, pid = -1, n = 0;

	if ((sscanf(path, "/proc/self/fd/%d%n", &fd, &n) == 1 && !path[n]) ||
	    (sscanf(path, "/dev/fd/%d%n", &fd, &n) == 1 && !path[n]))
		return fd;
	n = 0;
	if (sscanf(path, "/proc/%d/fd/%d%n", &pid, &fd, &n) == 2 && !path[n] && pid == getpid())
		return fd;
	return -1;
}

/* Symlink LINK's target as a path usable from here (a relative target is relative to the
 * link's directory). New string, or NULL with errno set. */
static char *follow(const char *link)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(link, buf, sizeof buf - 1);
	char *dir, *out;

	if (n < 0)
		return NULL;
	if ((size_t)n >= sizeof buf - 1) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	buf[n] = '\0';
	if (buf[0] == '/')
		return strdup(buf);
	dir = dir_of(link);
	if (!dir)
		return NULL;
	if (asprintf(&out, "%s/%s", dir, buf) < 0)
		out = NULL;
	free(dir);
	return out;
}

/* "tachyon-c: FMT: REASON" with FMT's %s the path as given. Returns TC_EXIT_RUNTIME. */
static int fail(const struct tc_outfile *o, const char *fmt, int e)
{
	fprintf(stderr, "%s: ", tc_prog);
	fprintf(stderr, fmt, o->path);
	fprintf(stderr, ": %s\n", strerror(e));
	return TC_EXIT_RUNTIME;
}

/* Open an unpredictable, new temporary file in DIR. Returns the descriptor (name in *TMP,
 * caller frees) or -1 with errno set. */
static int make_temp(const char *dir, char **tmp)
{
	for (int tries = 0; tries < 100; tries++) {
		uint64_t r;
		int fd;

		if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
			/* no entropy yet: O_EXCL|O_NOFOLLOW still make a guessed name harmless */
			r = tc_hash_mul(tc_now_ns()) ^ (uint64_t)getpid() ^ (uint64_t)tries;
		}
		if (asprintf(tmp, "%s/.tachyon-c-%016llx.tmp", dir, (unsigned long long)r) < 0) {
			errno = ENOMEM;
			return -1;
		}
		fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0)
			return fd;
		free(*tmp);
		*tmp = NULL;
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

/* Open DEST (resolved, final component not a symlink) for writing in place. */
static int open_direct(struct tc_outfile *o, const char *dest, int flags)
{
	int fd = open(dest, O_WRONLY | O_CLOEXEC | O_NOCTTY | flags, 0666);

	if (fd < 0)
		return fail(o, "cannot write %s", errno);
	o->f = fdopen(fd, "w");
	if (!o->f) {
		int e = errno;

		close(fd);
		return fail(o, "cannot write %s", e);
	}
	return 0;
}

/* Write through descriptor FD of this process (a dup: closing the file leaves FD open). */
static int open_fd(struct tc_outfile *o, int fd)
{
	int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);

	if (d < 0)
		return fail(o, "cannot write %s", errno);
	o->f = fdopen(d, "w");
	if (!o->f) {
		int e = errno;

		close(d);
		return fail(o, "cannot write %s", e);
	}
	return 0;
}

/* Temporary file next to DEST; EXISTING is DEST's lstat, or NULL for a new file. */
static int open_temp(struct tc_outfile *o, const char *dest, const struct stat *existing)
{
	char *dir = dir_of(dest);
	int fd;

	if (!dir)
		return fail(o, "cannot write %s", ENOMEM);
	fd = make_temp(dir, &o->tmp);
	free(dir);
	if (fd < 0)
		return fail(o, "cannot create a temporary file next to %s", errno);
	o->dest = strdup(dest);
	o->f = o->dest ? fdopen(fd, "w") : NULL;
	if (!o->f) {
		int e = o->dest ? errno : ENOMEM;

		close(fd);
		tc_outfile_abort(o);
		return fail(o, "cannot write %s", e);
	}
	if (existing) {
		/* set-id bits are dropped: the content is not the old file's */
		o->mode = existing->st_mode & 01777;
		o->uid = existing->st_uid;
		o->gid = existing->st_gid;
		o->keep_owner = existing->st_uid != geteuid() || existing->st_gid != getegid();
	} else {
		mode_t mask = umask(0);

		umask(mask);
		o->mode = 0666 & ~mask;
	}
	return 0;
}

int tc_outfile_open(const char *path, enum tc_out_mode mode, struct tc_outfile *o)
{
	char *cur = NULL;
	int rc;

	memset(o, 0, sizeof *o);
	o->path = (char *)path;
	if (!path[0]) {
		fprintf(stderr, "%s: empty output file name\n", tc_prog);
		return TC_EXIT_USAGE;
	}
	if (strcmp(path, "-") == 0) {
		o->f = stdout;
		return 0;
	}
	cur = strdup(path);
	if (!cur)
		return fail(o, "cannot write %s", ENOMEM);
	for (int hops = 0;; hops++) {
		struct stat st;
		char *next;
		int fd;

		if (lstat(cur, &st) != 0) {
			if (errno != ENOENT) {
				rc = fail(o, "cannot write %s", errno);
				break;
			}
			/* a new file (possibly the target of a dangling link) */
			rc = mode == TC_OUT_ATOMIC ?
				     open_temp(o, cur, NULL) :
				     open_direct(o, cur, O_CREAT | O_EXCL | O_NOFOLLOW);
			break;
		}
		if (S_ISLNK(st.st_mode)) {
			if (hops >= TC_MAX_LINKS) {
				rc = fail(o, "cannot write %s", ELOOP);
				break;
			}
			if (on_procfs(cur)) {
				fd = own_fd(cur);
				rc = fd >= 0 ? open_fd(o, fd) : open_direct(o, cur, O_TRUNC);
				break;
			}
			next = follow(cur);
			if (!next) {
				rc = fail(o, "cannot write %s", errno);
				break;
			}
			free(cur);
			cur = next;
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			/* pipe, terminal, device: written in place, never replaced (and not
			 * through a symlink swapped in since the lstat) */
			rc = open_direct(o, cur, O_NOFOLLOW);
			break;
		}
		rc = mode == TC_OUT_ATOMIC ? open_temp(o, cur, &st) :
					     open_direct(o, cur, O_TRUNC | O_NOFOLLOW);
		break;
	}
	free(cur);
	return rc;
}

void tc_outfile_abort(struct tc_outfile *o)
{
	if (o->f && o->f != stdout)
		fclose(o->f);
	o->f = NULL;
	if (o->tmp)
		unlink(o->tmp);
	free(o->tmp);
	free(o->dest);
	o->tmp = o->dest = NULL;
}

/* Make the rename itself durable; a failure here loses nothing already written. */
static void sync_dir(const char *dest)
{
	char *dir = dir_of(dest);
	int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

static int check_stdout(int hint);

int tc_outfile_close(struct tc_outfile *o)
{
	int e = 0;

	if (!o->f)
		return 0;
	if (o->f == stdout) {
		o->f = NULL;
		return check_stdout(o->err);
	}
	errno = 0;
	if (fflush(o->f) != 0)
		e = errno ? errno : EIO;
	else if (ferror(o->f))
		e = o->err ? o->err : EIO;
	if (!e && o->tmp) {
		int fd = fileno(o->f);

		if (o->keep_owner && fchown(fd, o->uid, o->gid) != 0) {
			/* not allowed (not root): the file stays ours, as any new file would */
		}
		if (fchmod(fd, o->mode) != 0 || fsync(fd) != 0)
			e = errno;
	}
	if (fclose(o->f) != 0 && !e)
		e = errno ? errno : EIO;
	o->f = NULL;
	if (!e && o->tmp && rename(o->tmp, o->dest) != 0)
		e = errno;
	if (e) {
		tc_outfile_abort(o);
		return fail(o, "writing %s failed", e);
	}
	if (o->tmp)
		sync_dir(o->dest);
	free(o->tmp);
	free(o->dest);
	o->tmp = o->dest = NULL;
	return 0;
}

/* HINT: errno of an earlier failed write, or 0. */
static int check_stdout(int hint)
{
	int e = 0;

	errno = 0;
	if (fflush(stdout) != 0)
		e = errno ? errno : EIO;
	else if (ferror(stdout))
		e = hint ? hint : EIO;
	if (!e)
		return 0;
	fprintf(stderr, "%s: writing stdout failed: %s\n", tc_prog, strerror(e));
	return TC_EXIT_RUNTIME;
}

int tc_outfile_check_stdout(void)
{
	return check_stdout(0);
}

int tc_outfile_put_json(FILE *f, const struct cJSON *j)
{
	char *text = cJSON_PrintUnformatted(j), *safe;

	if (!text)
		return -TC_ENOMEM;
	safe = tc_esc_json_text(text);
	free(text);
	if (!safe)
		return -TC_ENOMEM;
	fputs(safe, f);
	putc('\n', f);
	free(safe);
	return 0;
}
