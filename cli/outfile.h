/* SPDX-License-Identifier: MIT */
/* Writing an output file (-o, --alloc-log) safely, also when run as root in a directory
 * other users can write to.
 *
 * "-" is stdout. Otherwise the destination is resolved first: a symlink is followed to its
 * target (the link stays a link); a link that lives on /proc (/dev/stdout -> /proc/self/fd/1)
 * is a handle on an open file, not a name, and is written through as it is.
 *   - a destination that exists and is not a regular file (pipe, terminal, /dev/null,
 *     /dev/stdout) is written directly, never replaced;
 *   - otherwise (TC_OUT_ATOMIC) a temporary file is created exclusively (O_CREAT|O_EXCL|
 *     O_NOFOLLOW, a random name) in the destination's directory, written, flushed to disk,
 *     given the destination's mode and owner (a new file: 0666 & ~umask) and renamed over
 *     it. Any failure removes the temporary file and leaves the destination as it was;
 *   - or (TC_OUT_STREAM, for a log read while it grows) the resolved destination is opened
 *     and truncated directly.
 * Every function that fails prints the reason on stderr (naming the path) and returns the
 * exit code to use, like tc_cli_attach. */
#ifndef TC_OUTFILE_H
#define TC_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

enum tc_out_mode { TC_OUT_ATOMIC, TC_OUT_STREAM };

struct tc_outfile {
	FILE *f;       /* write here; stdout for "-" */
	char *path;    /* as given (borrowed), for messages */
	char *dest;    /* resolved destination when renaming (owned), else NULL */
	char *tmp;     /* the temporary file while it exists (owned), else NULL */
	mode_t mode;   /* final mode of the temporary file */
	uid_t uid;     /* owner to give it (the destination's), when KEEP_OWNER */
	gid_t gid;
	bool keep_owner;
	int err;       /* errno of a write that failed earlier (set by the writer), else 0:
			* after a failed flush stdio forgets why, and closing could only say EIO */
};

/* Start writing PATH (not NULL, not empty: the caller refuses "" as a usage error). Returns
 * 0 with O ready, or an exit code (message printed; nothing left behind). */
int tc_outfile_open(const char *path, enum tc_out_mode mode, struct tc_outfile *o);

/* Finish: flush, and for a temporary file fsync, set mode and owner, rename into place.
 * Returns 0 or an exit code (message printed; the temporary file removed). O is closed
 * either way (stdout is flushed, not closed). */
int tc_outfile_close(struct tc_outfile *o);

/* Give up: close and remove the temporary file; the destination is untouched. Safe on a
 * zeroed or already closed O. */
void tc_outfile_abort(struct tc_outfile *o);

struct cJSON;

/* Write J to F as one line of unformatted JSON, made safe for a terminal (DEL, C1 controls
 * and invalid UTF-8 inside strings escaped: daemon/sinks/escape.h). Returns 0 or
 * -TC_ENOMEM; a write error stays flagged on F for the caller's close or check. */
int tc_outfile_put_json(FILE *f, const struct cJSON *j);

/* Flush stdout and check it for an earlier write error. Returns 0, or TC_EXIT_RUNTIME after
 * printing "writing stdout failed: REASON". */
int tc_outfile_check_stdout(void);

#endif
