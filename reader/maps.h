/* SPDX-License-Identifier: MIT */
/* /proc/PID/maps: the target's mappings, parsed once at attach. */
#ifndef TC_MAPS_H
#define TC_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "tc/common.h"

struct tc_map {
	tc_raddr start, end;  /* [start, end) */
	uint64_t offset;      /* file offset of start */
	uint64_t inode;
	unsigned dev_major, dev_minor;
	bool r, w, x, p;      /* permissions; p = private */
	bool deleted;         /* path ended in " (deleted)" (suffix stripped from PATH) */
	char *path;           /* owned; "" for anonymous, "[heap]" etc. for special */
};

struct tc_maps {
	struct tc_map *v; /* owned */
	size_t n;
};

/* Parse the text of a maps file (LEN bytes at TEXT). Returns 0 and fills OUT (caller frees
 * with tc_maps_free), -TC_EINVAL on a malformed line, -TC_ENOMEM. */
int tc_maps_parse(const char *text, size_t len, struct tc_maps *out);

/* Read and parse /proc/PID/maps. Returns 0, -TC_ESRCH (no such process), -TC_EPERM,
 * -TC_EIO, -TC_ENOMEM. */
int tc_maps_read(pid_t pid, struct tc_maps *out);

void tc_maps_free(struct tc_maps *m); /* accepts a zeroed struct */

/* The mapping containing ADDR, or NULL (borrowed). */
const struct tc_map *tc_maps_find(const struct tc_maps *m, tc_raddr addr);

#endif
