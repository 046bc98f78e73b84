/* SPDX-License-Identifier: MIT */
/* Attach: from a PID to a validated (runtime address, layout) pair.
 *
 * The runtime is found through the ELF files the target has mapped (opened through
 * /proc/PID/root so containers work): the `_PyRuntime` symbol (.dynsym, then .symtab), else
 * the `.PyRuntime` section (3.13+ places the runtime there), else, when the file is gone
 * from disk (a package upgrade deleted it), by scanning the file's writable mappings for the
 * "xdebugpy" cookie that starts _PyRuntime on 3.13+. The version comes from
 * _Py_DebugOffsets (3.13+), the `Py_Version` symbol (3.11+), or the file name plus the
 * version string in .rodata (3.9, 3.10). The target's binary is never executed. */
#include "daemon/target.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/hash.h"
#include "daemon/pthread_tid.h"
#include "layouts/debug_offsets.h"
#include "layouts/version.h"
#include "reader/elf.h"
#include "reader/maps.h"
#include "reader/proc.h"

static void diag_set(struct tc_attach_diag *d, const char *found, const char *detail)
{
	if (!d)
		return;
	if (found)
		snprintf(d->found, sizeof d->found, "%s", found);
	if (detail)
		snprintf(d->detail, sizeof d->detail, "%s", detail);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* Could a mapped file hold the interpreter? Anything named like Python ("python3.12",
 * "libpython3.12.so.1.0", "python3.13d") or the main executable itself, whatever its name
 * (an application that links CPython statically). */
static bool is_candidate(const char *path, const char *exe)
{
	return strstr(base_name(path), "python") != NULL || (exe[0] && strcmp(path, exe) == 0);
}

/* Minor version in a file name such as "libpython3.10.so.1.0" or "python3.9d", or -1. */
static int minor_from_name(const char *path)
{
	const char *b = base_name(path);
	const char *p = strstr(b, "python3.");
	if (!p)
		return -1;
	p += 8;
	if (!isdigit((unsigned char)p[0]))
		return -1;
	return (int)strtol(p, NULL, 10);
}

struct rodata_search {
	int major; /* 0: 3 */
	int minor;
	char best[24];
	bool exact;
};

/* Strings of .rodata that are, or end with, "3.MINOR.MICRO[suffix]". The linker merges
 * string tails, so PY_VERSION may only exist as the end of a longer string (a source path
 * such as ".../Python-3.10.13"); an exact string wins over such a suffix. */
static int rodata_cb(const char *s, size_t len, void *arg)
{
	struct rodata_search *rs = arg;
	char want[16];
	int wl = snprintf(want, sizeof want, "%d.%d.", rs->major ? rs->major : 3, rs->minor);
	for (size_t i = 0; i + (size_t)wl < len + 1 && i < len; i++) {
		if (strncmp(s + i, want, (size_t)wl) != 0)
			continue;
		if (i > 0 && (isdigit((unsigned char)s[i - 1]) || s[i - 1] == '.'))
			continue;
		const char *q = s + i + wl;
		if (!isdigit((unsigned char)*q))
			continue;
		while (isdigit((unsigned char)*q))
			q++;
		/* optional pre-release tag and Debian's '+' */
		if ((q[0] == 'a' || q[0] == 'b') && isdigit((unsigned char)q[1]))
			q += 2;
		else if (q[0] == 'r' && q[1] == 'c' && isdigit((unsigned char)q[2]))
			q += 3;
		while (isdigit((unsigned char)*q))
			q++;
		if (*q == '+')
			q++;
		if (*q != '\0')
			continue;
		bool exact = (i == 0);
		if (len - i >= sizeof rs->best)
			continue;
		if (!rs->best[0] || (exact && !rs->exact)) {
			memcpy(rs->best, s + i, len - i + 1);
			rs->exact = exact;
		}
		return exact ? 1 : 0;
	}
	return 0;
}

/* Version for 3.9/3.10 builds: minor from the file name, micro from .rodata. */
static int version_from_file(struct tc_elf *e, const char *path, uint32_t *hex)
{
	int minor = minor_from_name(path);
	if (minor < 0)
		return -TC_ENOENT;
	struct rodata_search rs = {.minor = minor};
	tc_elf_each_string(e, 5, 256, rodata_cb, &rs);
	if (!rs.best[0]) {
		*hex = TC_PY_HEX(3, minor, 0) | 0xf0;
		return -TC_ENOENT; /* minor known, micro not */
	}
	size_t n = strlen(rs.best);
	if (n && rs.best[n - 1] == '+')
		rs.best[n - 1] = '\0';
	return tc_version_parse(rs.best, hex);
}

/* An interpreter older than 3.7 (2.7, 3.6) has no _PyRuntime but still defines
 * Py_Initialize: name its version (major.minor from the file name, micro from .rodata) so
 * the user is told "unsupported version", not "not Python". Returns 0 and *HEX (micro 0
 * when .rodata does not say), or -TC_ENOENT. */
static int old_version(struct tc_elf *e, const char *path, uint32_t *hex)
{
	const char *p = strstr(base_name(path), "python");
	char *end;
	long major, minor;

	if (!p || tc_elf_symbol(e, "Py_Initialize", NULL, NULL) != 0)
		return -TC_ENOENT;
	p += 6;
	if (!isdigit((unsigned char)p[0]))
		return -TC_ENOENT;
	major = strtol(p, &end, 10);
	if (*end != '.' || !isdigit((unsigned char)end[1]) || major < 2 || major > 3)
		return -TC_ENOENT;
	minor = strtol(end + 1, NULL, 10);
	if (minor > 99)
		return -TC_ENOENT;
	struct rodata_search rs = {.major = (int)major, .minor = (int)minor};
	tc_elf_each_string(e, 5, 256, rodata_cb, &rs);
	size_t n = strlen(rs.best);
	if (n && rs.best[n - 1] == '+')
		rs.best[n - 1] = '\0';
	if (!n || tc_version_parse(rs.best, hex) != 0)
		*hex = TC_PY_HEX((unsigned)major, (unsigned)minor, 0) | 0xf0;
	return 0;
}

/* Scan the writable mappings of PATH for the 3.13+ debug cookie at an 8-aligned address.
 * Used when the file is deleted on disk. Returns 0 and *RUNTIME, or -TC_ENOENT. */
static int scan_for_cookie(struct tc_remote *mem, const struct tc_maps *maps, const char *path,
			   tc_raddr *runtime)
{
	enum { CHUNK = 1 << 16 };
	uint8_t *buf = malloc(CHUNK);
	int err = -TC_ENOENT;
	if (!buf)
		return -TC_ENOMEM;
	for (size_t i = 0; i < maps->n && err == -TC_ENOENT; i++) {
		const struct tc_map *m = &maps->v[i];
		if (!m->w || !m->r || strcmp(m->path, path) != 0)
			continue;
		for (tc_raddr a = m->start; a < m->end && err == -TC_ENOENT; a += CHUNK) {
			size_t len = m->end - a < CHUNK ? (size_t)(m->end - a) : CHUNK;
			if (tc_remote_read(mem, a, buf, len) != 0)
				break;
			for (size_t off = 0; off + 16 <= len; off += 8) {
				if (memcmp(buf + off, TC_DEBUG_COOKIE, TC_DEBUG_COOKIE_LEN) == 0) {
					*runtime = a + off;
					err = 0;
					break;
				}
			}
		}
	}
	free(buf);
	return err;
}

/* Read LEN bytes at ADDR but no further than the end of its mapping (the debug-offsets
 * read may run past a small .PyRuntime section). Returns bytes read or a negative error. */
static long read_clamped(struct tc_remote *mem, const struct tc_maps *maps, tc_raddr addr,
			 void *buf, size_t len)
{
	const struct tc_map *m = tc_maps_find(maps, addr);
	if (!m)
		return -TC_EFAULT;
	if (addr + len > m->end) {
		/* continue into an adjacent mapping when there is one */
		const struct tc_map *n = tc_maps_find(maps, m->end);
		if (!n)
			len = (size_t)(m->end - addr);
	}
	memset(buf, 0, len);
	int err = tc_remote_read(mem, addr, buf, len);
	return err ? err : (long)len;
}

struct found {
	tc_raddr runtime;
	uint32_t hex;       /* 0 until known */
	bool debug;
	tc_raddr code_type;
	char path[512];
	char how[64];
};

/* Try one mapped file. Returns 0 when it holds the runtime (F filled), -TC_ENOENT when it
 * does not, or a fatal error. */
static int try_file(pid_t pid, struct tc_remote *mem, const struct tc_maps *maps,
		    const struct tc_map *first, struct found *f)
{
	char host[1024];
	struct tc_elf *e = NULL;
	int err;

	if (first->deleted) {
		snprintf(host, sizeof host, "/proc/%d/map_files/%llx-%llx", (int)pid,
			 (unsigned long long)first->start, (unsigned long long)first->end);
	} else if (tc_proc_root_path(pid, first->path, host, sizeof host) != 0) {
		return -TC_ENOENT;
	}
	err = tc_elf_open(host, &e);
	if (err) {
		if (err == -TC_ENOMEM)
			return err;
		if (first->deleted) {
			/* 3.13+: the cookie still identifies the runtime in memory */
			uint8_t head[16];
			if (scan_for_cookie(mem, maps, first->path, &f->runtime) == 0 &&
			    tc_remote_read(mem, f->runtime, head, sizeof head) == 0 &&
			    tc_debug_offsets_version(head, sizeof head, &f->hex) == 0) {
				snprintf(f->path, sizeof f->path, "%s", first->path);
				snprintf(f->how, sizeof f->how, "memory scan (file deleted)");
				return 0;
			}
		}
		return -TC_ENOENT;
	}

	uint64_t value = 0;
	const char *how = NULL;
	if (tc_elf_symbol(e, "_PyRuntime", &value, NULL) == 0)
		how = "_PyRuntime symbol";
	else if (tc_elf_section(e, ".PyRuntime", &value, NULL) == 0)
		how = ".PyRuntime section";
	if (!how) {
		/* no runtime to read, but maybe a version to report (settle refuses it) */
		err = old_version(e, first->path, &f->hex);
		if (err == 0) {
			snprintf(f->path, sizeof f->path, "%s", first->path);
			snprintf(f->how, sizeof f->how, "Py_Initialize (before 3.7)");
		}
		goto out;
	}
	int64_t bias = 0;
	err = tc_elf_bias(e, maps, first->path, &bias);
	if (err)
		goto out;
	f->runtime = value + (uint64_t)bias;
	snprintf(f->path, sizeof f->path, "%s", first->path);
	snprintf(f->how, sizeof f->how, "%s", how);
	f->debug = tc_elf_symbol(e, "_Py_NegativeRefcount", NULL, NULL) == 0;
	uint64_t ct;
	if (tc_elf_symbol(e, "PyCode_Type", &ct, NULL) == 0)
		f->code_type = ct + (uint64_t)bias;

	/* Version: the debug-offsets cookie (3.13+) wins; then Py_Version (3.11+); then the
	 * file itself (3.9, 3.10). */
	uint8_t head[16];
	if (tc_remote_read(mem, f->runtime, head, sizeof head) == 0 &&
	    tc_debug_offsets_version(head, sizeof head, &f->hex) == 0)
		goto out;
	uint64_t pv;
	uint32_t hex32;
	if (tc_elf_symbol(e, "Py_Version", &pv, NULL) == 0 &&
	    tc_remote_read(mem, pv + (uint64_t)bias, &hex32, sizeof hex32) == 0) {
		f->hex = hex32;
		goto out;
	}
	uint32_t h = 0;
	if (version_from_file(e, first->path, &h) == 0 || h)
		f->hex = h;
	err = 0;
out:
	tc_elf_free(e);
	return err;
}

/* Candidate runtimes, in the order they are tried: libpython before executables (an
 * embedding application maps both, and only libpython holds the live runtime). The same
 * library mapped twice from different paths (a copy loaded with ctypes) yields two
 * candidates; only the initialized one validates. */
#define MAX_CANDIDATES 8

static int find_runtimes(pid_t pid, struct tc_remote *mem, const struct tc_maps *maps,
			 struct found *f, size_t *nf)
{
	char link[64], exe[512] = "";
	snprintf(link, sizeof link, "/proc/%d/exe", (int)pid);
	ssize_t n = readlink(link, exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = '\0';
	size_t el = strlen(exe);
	if (el > 10 && strcmp(exe + el - 10, " (deleted)") == 0)
		exe[el - 10] = '\0';
	*nf = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < maps->n && *nf < MAX_CANDIDATES; i++) {
			const struct tc_map *m = &maps->v[i];
			if (!m->path[0] || m->path[0] == '[' || !is_candidate(m->path, exe))
				continue;
			bool lib = strncmp(base_name(m->path), "libpython", 9) == 0;
			if (lib != (pass == 0))
				continue;
			/* first mapping of each path only */
			bool seen = false;
			for (size_t j = 0; j < i && !seen; j++)
				seen = strcmp(maps->v[j].path, m->path) == 0;
			if (seen)
				continue;
			memset(&f[*nf], 0, sizeof f[*nf]);
			int err = try_file(pid, mem, maps, m, &f[*nf]);
			if (err == 0)
				(*nf)++;
			else if (err != -TC_ENOENT)
				return err;
		}
	}
	return *nf ? 0 : -TC_ENOENT;
}

/* Read a pointer-sized value; 0 on failure. */
static tc_raddr rd_ptr(struct tc_remote *mem, tc_raddr a)
{
	uint64_t v = 0;
	if (tc_remote_read(mem, a, &v, sizeof v) != 0)
		return 0;
	return v;
}

/* Turn candidate F into T's version and layout, and check that its runtime holds an
 * interpreter. WAIT: allow a starting process up to a second to create one. */
static int settle(struct tc_target *t, const struct tc_maps *maps, const struct found *f,
		  bool wait, struct tc_attach_diag *diag)
{
	char vbuf[24] = "", msg[256] = "";
	int err;

	if (!f->hex) {
		snprintf(msg, sizeof msg, "Python of unknown version (%s)", f->path);
		diag_set(diag, msg, "could not determine the version from the runtime or the binary");
		return -TC_EVERSION;
	}
	tc_version_format(f->hex, vbuf, sizeof vbuf);
	snprintf(msg, sizeof msg, "Python %s%s (%.200s)", vbuf, f->debug ? " debug build" : "",
		 f->path);
	diag_set(diag, msg, "");
	if (f->hex < TC_PY_MIN_HEX || f->hex > TC_PY_MAX_HEX || TC_HEX_MAJOR(f->hex) != 3)
		return -TC_EVERSION;

	if (TC_HEX_MINOR(f->hex) >= 13) {
		uint8_t dbg[TC_DEBUG_OFFSETS_MAX];
		long n = read_clamped(t->mem, maps, f->runtime, dbg, sizeof dbg);
		if (n < 0)
			return (int)n;
		err = tc_layout_from_debug_offsets(dbg, (size_t)n, f->debug, &t->layout);
		if (err == -TC_EINVAL)
			diag_set(diag, NULL, "its _Py_DebugOffsets fail validation");
	} else {
		err = tc_layout_from_table(f->hex, f->debug, &t->layout);
	}
	if (!err && tc_layout_walkable(&t->layout) != 0) {
		diag_set(diag, NULL, "its structures are larger than this build reads");
		err = -TC_EINVAL;
	}
	if (err)
		return err;
	/* Keep the full version the runtime reports (Py_Version / debug offsets), with the
	 * micro version taken from the binary for 3.9/3.10. */
	t->layout.version_hex = f->hex;
	t->runtime = f->runtime;
	t->code_type = f->code_type;
	snprintf(t->version, sizeof t->version, "%s", vbuf);
	snprintf(t->binary, sizeof t->binary, "%s", f->path);
	snprintf(t->how, sizeof t->how, "%s", f->how);

	tc_raddr interp = 0;
	for (int tries = 0; tries < (wait ? 20 : 1); tries++) {
		if (tries) {
			struct timespec ts = {0, 50 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
		interp = rd_ptr(t->mem, t->runtime + (tc_raddr)t->layout.runtime.interpreters_head);
		if (interp)
			break;
	}
	if (!interp || !tc_maps_find(maps, interp)) {
		diag_set(diag, NULL, "its runtime holds no valid interpreter (not initialized, or "
				     "the layout does not match)");
		return -TC_EINVAL;
	}
	return 0;
}

int tc_target_attach(pid_t pid, struct tc_target **out, struct tc_attach_diag *diag)
{
	struct tc_maps maps = {0};
	struct tc_target *t = NULL;
	struct found f[MAX_CANDIDATES];
	struct tc_attach_diag first_diag = {0}, d;
	size_t nf = 0;
	int err, first_err = 0;

	if (diag)
		memset(diag, 0, sizeof *diag);
	err = tc_proc_check(pid);
	if (err)
		goto out;
	t = calloc(1, sizeof *t);
	if (!t) {
		err = -TC_ENOMEM;
		goto out;
	}
	t->pid = pid;
	t->pthread_tid_off = -1;
	err = tc_maps_read(pid, &maps);
	if (err)
		goto out;
	err = tc_remote_open(pid, &t->mem);
	if (err)
		goto out;
	/* A first read tells a permission problem from a non-Python process. */
	for (size_t i = 0; i < maps.n; i++) {
		uint8_t probe;
		if (!maps.v[i].r)
			continue;
		err = tc_remote_read(t->mem, maps.v[i].start, &probe, 1);
		if (err == -TC_EPERM || err == -TC_ESRCH)
			goto out;
		err = 0;
		break;
	}

	err = find_runtimes(pid, t->mem, &maps, f, &nf);
	if (err == -TC_ENOENT) {
		char cmd[128] = "", msg[200];
		tc_proc_cmdline(pid, cmd, sizeof cmd);
		snprintf(msg, sizeof msg, "process %d (%.120s) maps no Python interpreter", (int)pid,
			 cmd[0] ? cmd : "?");
		diag_set(diag, msg, NULL);
		err = -TC_ENOTPY;
		goto out;
	}
	if (err)
		goto out;
	/* The first candidate that validates wins; the first failure is what gets reported.
	 * Only the last candidate waits for a starting process to initialize. */
	for (size_t i = 0; i < nf; i++) {
		memset(&d, 0, sizeof d);
		err = settle(t, &maps, &f[i], i + 1 == nf, &d);
		if (err == 0)
			break;
		if (!first_err) {
			first_err = err;
			first_diag = d;
		}
		if (err == -TC_ESRCH || err == -TC_EPERM || err == -TC_ENOMEM)
			break;
	}
	if (err) {
		err = first_err;
		if (diag)
			*diag = first_diag;
		goto out;
	}
	if (t->layout.tstate.native_thread_id < 0)
		t->pthread_tid_off = tc_pthread_tid_calibrate(t, t->mem);
	if (tc_target_exec_id(pid, &t->exec_id) != 0)
		t->exec_id = 0;
	*out = t;
	t = NULL;
	err = 0;
out:
	tc_maps_free(&maps);
	tc_target_free(t);
	return err;
}

void tc_target_free(struct tc_target *t)
{
	if (!t)
		return;
	tc_remote_free(t->mem);
	free(t);
}

int tc_target_exec_id(pid_t pid, uint64_t *id)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return tc_proc_errno(errno);
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	/* fields after the command name, which may hold anything but ends at the last ')' */
	char *p = strrchr(buf, ')');
	if (!p)
		return -TC_ECORRUPT;
	uint64_t h = TC_HASH_GOLDEN;
	bool any = false;
	p++;
	/* field 3 (state) is the first token after ')': startcode 26, startstack 28,
	 * start_brk 47 */
	for (int field = 3; field <= 47 && *p; field++) {
		while (*p == ' ')
			p++;
		char *end;
		unsigned long long v = strtoull(p, &end, 10);
		if (field == 26 || field == 28 || field == 47) {
			h = (h ^ v) * TC_HASH_FNV_PRIME;
			any |= v != 0;
		}
		while (*end && *end != ' ')
			end++;
		p = end;
	}
	if (!any)
		return -TC_EPERM; /* hidden from us: no identity to compare */
	*id = h ? h : 1;
	return 0;
}

bool tc_target_execed(const struct tc_target *t)
{
	uint64_t id;
	return t->exec_id && tc_target_exec_id(t->pid, &id) == 0 && id != t->exec_id;
}
