/* SPDX-License-Identifier: MIT */
/* /proc/PID/maps parser. The maps file is read once at attach; everything later (ELF load
 * bias, "is this address mapped", which file holds libpython) asks the parsed table.
 *
 * A line is "START-END PERMS OFFSET MAJ:MIN INODE [PATH]". The kernel pads the gap before
 * PATH with spaces, PATH itself may contain spaces, and a file unlinked after it was mapped
 * gets " (deleted)" appended. Leading spaces of PATH cannot be told from the padding and are
 * dropped. The table is kept sorted by start address so lookups can bisect. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reader/maps.h"
#include "reader/proc.h"

#define TC_DELETED_SUFFIX " (deleted)"

/* Parse a hexadecimal number at *P, advancing *P past it. At least one digit; at most 16. */
static int parse_hex(const char **p, const char *end, uint64_t *out)
{
	uint64_t v = 0;
	int digits = 0;

	while (*p < end) {
		char c = **p;
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			break;
		if (++digits > 16)
			return -TC_EINVAL;
		v = v << 4 | d;
		(*p)++;
	}
	if (digits == 0)
		return -TC_EINVAL;
	*out = v;
	return 0;
}

/* Parse a decimal number at *P, advancing *P past it. At least one digit; no overflow. */
static int parse_dec(const char **p, const char *end, uint64_t *out)
{
	uint64_t v = 0;
	int digits = 0;

	while (*p < end && **p >= '0' && **p <= '9') {
		unsigned d = (unsigned)(**p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -TC_EINVAL;
		v = v * 10 + d;
		digits++;
		(*p)++;
	}
	if (digits == 0)
		return -TC_EINVAL;
	*out = v;
	return 0;
}

/* Consume the single character C at *P. */
static int expect(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return -TC_EINVAL;
	(*p)++;
	return 0;
}

/* One permission flag: YES or '-'. */
static int parse_flag(const char **p, const char *end, char yes, bool *out)
{
	if (*p >= end)
		return -TC_EINVAL;
	if (**p == yes)
		*out = true;
	else if (**p == '-')
		*out = false;
	else
		return -TC_EINVAL;
	(*p)++;
	return 0;
}

/* Parse one line [P, END) (no newline) into M. M->path is allocated on success only. */
static int parse_line(const char *p, const char *end, struct tc_map *m)
{
	uint64_t maj, min;
	const char *path;
	size_t plen;
	size_t slen = sizeof(TC_DELETED_SUFFIX) - 1;

	memset(m, 0, sizeof *m);
	if (parse_hex(&p, end, &m->start) || expect(&p, end, '-') ||
	    parse_hex(&p, end, &m->end) || expect(&p, end, ' '))
		return -TC_EINVAL;
	if (m->end < m->start)
		return -TC_EINVAL;
	if (parse_flag(&p, end, 'r', &m->r) || parse_flag(&p, end, 'w', &m->w) ||
	    parse_flag(&p, end, 'x', &m->x))
		return -TC_EINVAL;
	if (p >= end || (*p != 'p' && *p != 's'))
		return -TC_EINVAL;
	m->p = *p++ == 'p';
	if (expect(&p, end, ' ') || parse_hex(&p, end, &m->offset) || expect(&p, end, ' '))
		return -TC_EINVAL;
	if (parse_hex(&p, end, &maj) || expect(&p, end, ':') || parse_hex(&p, end, &min))
		return -TC_EINVAL;
	if (maj > 0xffffffffu || min > 0xffffffffu)
		return -TC_EINVAL;
	m->dev_major = (unsigned)maj;
	m->dev_minor = (unsigned)min;
	if (expect(&p, end, ' ') || parse_dec(&p, end, &m->inode))
		return -TC_EINVAL;
	/* Anything after the inode must be separated from it by padding. */
	if (p < end && *p != ' ')
		return -TC_EINVAL;
	while (p < end && *p == ' ')
		p++;
	path = p;
	plen = (size_t)(end - p);
	if (plen >= slen && memcmp(path + plen - slen, TC_DELETED_SUFFIX, slen) == 0) {
		m->deleted = true;
		plen -= slen;
	}
	if (memchr(path, '\0', plen))
		return -TC_EINVAL;
	m->path = malloc(plen + 1);
	if (!m->path)
		return -TC_ENOMEM;
	memcpy(m->path, path, plen);
	m->path[plen] = '\0';
	return 0;
}

/* qsort order: by start address; equal starts keep their input order (index tie-break is
 * not needed for correctness, only to make the result deterministic). */
static int cmp_map(const void *a, const void *b)
{
	const struct tc_map *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return 0;
}

int tc_maps_parse(const char *text, size_t len, struct tc_maps *out)
{
	struct tc_maps m = { 0 };
	size_t cap = 0;
	const char *p = text, *end = text + len;
	bool sorted = true;
	int err = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;

		if (eol == p) { /* blank line (e.g. trailing) */
			p = eol + 1;
			continue;
		}
		if (m.n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct tc_map *nv = realloc(m.v, ncap * sizeof *nv);

			if (!nv) {
				err = -TC_ENOMEM;
				goto out;
			}
			m.v = nv;
			cap = ncap;
		}
		err = parse_line(p, eol, &m.v[m.n]);
		if (err)
			goto out;
		if (m.n > 0 && m.v[m.n].start < m.v[m.n - 1].start)
			sorted = false;
		m.n++;
		p = nl ? nl + 1 : end;
	}
	/* The kernel emits ascending addresses; hand-written text might not. */
	if (!sorted)
		qsort(m.v, m.n, sizeof *m.v, cmp_map);
	*out = m;
	m.v = NULL;
	m.n = 0;
out:
	tc_maps_free(&m);
	return err;
}


int tc_maps_read(pid_t pid, struct tc_maps *out)
{
	char path[64];
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd = -1;
	int err = 0;

	if (pid <= 0)
		return -TC_ESRCH;
	snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = tc_proc_errno(errno);
		goto out;
	}
	for (;;) {
		ssize_t k;

		if (cap - len < 4096) {
			size_t ncap = cap ? cap * 2 : 16384;
			char *nb = realloc(buf, ncap);

			if (!nb) {
				err = -TC_ENOMEM;
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		k = read(fd, buf + len, cap - len);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			err = tc_proc_errno(errno);
			goto out;
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	/* An empty table is what a zombie (or kernel thread) shows; tell a process that went
	 * away while we read from one that merely has no memory. */
	if (len == 0) {
		struct stat st;

		snprintf(path, sizeof path, "/proc/%d", (int)pid);
		if (stat(path, &st) != 0) {
			err = -TC_ESRCH;
			goto out;
		}
	}
	err = tc_maps_parse(buf ? buf : "", len, out);
	/* A line torn by a racing read is not the caller's malformed input. */
	if (err == -TC_EINVAL)
		err = -TC_EIO;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return err;
}

void tc_maps_free(struct tc_maps *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

/* Bisect for the last mapping starting at or below ADDR, then check it contains ADDR.
 * Mappings never overlap in a real maps file, so that one is the only candidate. */
const struct tc_map *tc_maps_find(const struct tc_maps *m, tc_raddr addr)
{
	size_t lo = 0, hi;

	if (!m || m->n == 0)
		return NULL;
	hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->v[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	if (addr < m->v[lo - 1].end)
		return &m->v[lo - 1];
	return NULL;
}
