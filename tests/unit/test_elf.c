/* SPDX-License-Identifier: MIT */
/* Unit tests for reader/elf.c against fixtures compiled at startup with the system cc into a
 * temporary directory: a non-PIE and a PIE executable, a shared library, stripped copies of
 * each, and an executable with an undefined reference into the library. Symbols, sections,
 * file bytes by address and .rodata strings are checked on the files; the load bias is
 * checked on live processes (the executables, run and read through tc_remote) and on the
 * library dlopen'ed into this process (compared with dlsym), plus synthetic maps for the
 * ambiguous cases (a library mapped twice, stray mappings). */
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reader/elf.h"
#include "reader/maps.h"
#include "reader/remote.h"
#include "skip.h"

#define FIXTURE_VAR 42
#define FIXTURE_SECT 0x5ec7
#define FIXTURE_STR "tachyon-fixture-string"

/* The executable: announces itself on stdout, then waits for stdin to close (so it also
 * goes away if the test dies). */
static const char exe_src[] =
	"#include <unistd.h>\n"
	"int tc_fixture_var = 42;\n"
	"int tc_fixture_sect __attribute__((section(\".tcsect\"), used)) = 0x5ec7;\n"
	"int tc_fixture_bss[64];\n"
	"const char tc_fixture_str[] = \"" FIXTURE_STR "\";\n"
	"static int tc_fixture_static __attribute__((used)) = 7;\n"
	"int main(void)\n"
	"{\n"
	"	char c;\n"
	"	volatile const char *s = tc_fixture_str;\n"
	"	(void)s;\n"
	"	if (write(1, \"r\", 1) != 1)\n"
	"		return 1;\n"
	"	while (read(0, &c, 1) > 0)\n"
	"		;\n"
	"	return tc_fixture_var + tc_fixture_bss[0] + tc_fixture_static == 0;\n"
	"}\n";

static const char lib_src[] =
	"int tc_fixture_var = 42;\n"
	"int tc_fixture_sect __attribute__((section(\".tcsect\"), used)) = 0x5ec7;\n"
	"int tc_fixture_bss[64];\n"
	"const char tc_fixture_str[] = \"" FIXTURE_STR "\";\n"
	"static int tc_fixture_static __attribute__((used)) = 7;\n"
	"int tc_lib_func(void) { return tc_fixture_var + tc_fixture_static + tc_fixture_bss[1]; }\n";

/* Calls into the library: tc_lib_func is an undefined (SHN_UNDEF) entry of its .dynsym. */
static const char use_src[] =
	"extern int tc_lib_func(void);\n"
	"int main(void) { return tc_lib_func(); }\n";

static char dir[512]; /* short enough that DIR/NAME always fits a PATH_MAX buffer */
static int have_fixtures;

enum fx { FX_NOPIE, FX_PIE, FX_PIE_S, FX_NOPIE_S, FX_LIB, FX_LIB_S, FX_USE, FX_N };

struct fixture {
	const char *name;
	bool dyn;
	bool var_visible;   /* tc_fixture_var findable (.symtab, or .dynsym after strip) */
	bool has_symtab;
	bool runnable;
};

static const struct fixture fx[FX_N] = {
	[FX_NOPIE] = { "exe_nopie", false, true, true, true },
	[FX_PIE] = { "exe_pie", true, true, true, true },
	[FX_PIE_S] = { "exe_pie_s", true, true, false, true },    /* -rdynamic, stripped */
	[FX_NOPIE_S] = { "exe_nopie_s", false, false, false, true },
	[FX_LIB] = { "libfix.so", true, true, true, false },
	[FX_LIB_S] = { "libfix_s.so", true, true, false, false },
	[FX_USE] = { "use", true, false, true, false },
};

static const char *const extra_files[] = { "fix.c", "lib.c", "use.c", "corrupt" };

/* DIR/NAME into OUT. */
static void fx_path(const char *name, char *out, size_t len)
{
	if ((size_t)snprintf(out, len, "%s/%s", dir, name) >= len)
		abort();
}

static int write_file(const char *name, const char *text)
{
	char p[PATH_MAX];
	FILE *f;
	int ok;

	fx_path(name, p, sizeof p);
	f = fopen(p, "w");
	if (!f)
		return -1;
	ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int run(const char *cmd)
{
	char full[4 * PATH_MAX];

	snprintf(full, sizeof full, "cd '%s' && %s", dir, cmd);
	return system(full) == 0 ? 0 : -1;
}

/* Build every fixture; returns 0 or -1 (printing what failed: this is a test program). */
static int build_fixtures(void)
{
	char tmpl[] = "/tmp/tc-test-elf-XXXXXX";
	char real[PATH_MAX];
	static const char *const cmds[] = {
		"cc -O0 -no-pie -fno-pie -o exe_nopie fix.c",
		"cc -O0 -pie -fPIE -o exe_pie fix.c",
		"cc -O0 -pie -fPIE -rdynamic -s -o exe_pie_s fix.c",
		"strip -o exe_nopie_s exe_nopie",
		"cc -O0 -shared -fPIC -o libfix.so lib.c",
		"strip -o libfix_s.so libfix.so",
		"cc -O0 -o use use.c -L. -lfix -Wl,-rpath,.",
	};

	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		return -1;
	}
	/* maps shows the resolved path; compare like with like */
	if (!realpath(tmpl, real) || strlen(real) >= sizeof dir) {
		rmdir(tmpl);
		return -1;
	}
	strcpy(dir, real);
	if (write_file("fix.c", exe_src) || write_file("lib.c", lib_src) ||
	    write_file("use.c", use_src))
		return -1;
	for (size_t i = 0; i < TC_ARRAY_LEN(cmds); i++) {
		if (run(cmds[i])) {
			fprintf(stderr, "fixture build failed: %s\n", cmds[i]);
			return -1;
		}
	}
	have_fixtures = 1;
	return 0;
}

static void remove_fixtures(void)
{
	char p[PATH_MAX];

	if (!dir[0])
		return;
	for (int i = 0; i < FX_N; i++) {
		fx_path(fx[i].name, p, sizeof p);
		unlink(p);
	}
	for (size_t i = 0; i < TC_ARRAY_LEN(extra_files); i++) {
		fx_path(extra_files[i], p, sizeof p);
		unlink(p);
	}
	rmdir(dir);
}

static struct tc_elf *open_fx(int i)
{
	char p[PATH_MAX];
	struct tc_elf *e = NULL;

	ck_assert(have_fixtures);
	fx_path(fx[i].name, p, sizeof p);
	ck_assert_int_eq(tc_elf_open(p, &e), 0);
	ck_assert_ptr_nonnull(e);
	return e;
}

/* Per fixture: type, which symbols are visible, undefined ones skipped, sections. */
START_TEST(test_symbols)
{
	const struct fixture *f = &fx[_i];
	struct tc_elf *e = open_fx(_i);
	uint64_t v = 0, sz = 0, sv, ssz;
	int want_var = f->var_visible ? 0 : -TC_ENOENT;

	ck_assert_int_eq(tc_elf_is_dyn(e), f->dyn);
	if (_i != FX_USE) {
		ck_assert_int_eq(tc_elf_symbol(e, "tc_fixture_var", &v, &sz), want_var);
		if (f->var_visible) {
			ck_assert_uint_ne(v, 0);
			ck_assert_uint_eq(sz, sizeof(int));
		}
		/* a static is only ever in .symtab */
		ck_assert_int_eq(tc_elf_symbol(e, "tc_fixture_static", NULL, NULL),
				 f->has_symtab ? 0 : -TC_ENOENT);
		ck_assert_int_eq(tc_elf_section(e, ".tcsect", &sv, &ssz), 0);
		ck_assert_uint_eq(ssz, sizeof(int));
		if (f->var_visible || f->has_symtab) {
			uint64_t a;

			ck_assert_int_eq(tc_elf_symbol(e, "tc_fixture_sect", &a, NULL), 0);
			ck_assert_uint_eq(a, sv);
		}
	}
	ck_assert_int_eq(tc_elf_symbol(e, "tc_no_such_symbol", &v, &sz), -TC_ENOENT);
	ck_assert_int_eq(tc_elf_symbol(e, "", NULL, NULL), -TC_ENOENT);
	ck_assert_int_eq(tc_elf_section(e, ".symtab", NULL, NULL), f->has_symtab ? 0 : -TC_ENOENT);
	ck_assert_int_eq(tc_elf_section(e, ".no_such_section", NULL, NULL), -TC_ENOENT);
	ck_assert_int_eq(tc_elf_section(e, ".rodata", NULL, NULL), 0);
	ck_assert_int_eq(tc_elf_section(e, ".dynsym", NULL, NULL), 0); /* all dynamically linked */
	tc_elf_free(e);
}
END_TEST

/* References to functions defined elsewhere sit in .dynsym as SHN_UNDEF: never a hit. */
START_TEST(test_undefined_skipped)
{
	struct tc_elf *use = open_fx(FX_USE), *lib = open_fx(FX_LIB), *pie = open_fx(FX_PIE);
	uint64_t v;

	ck_assert_int_eq(tc_elf_symbol(use, "tc_lib_func", &v, NULL), -TC_ENOENT);
	ck_assert_int_eq(tc_elf_symbol(use, "main", &v, NULL), 0);
	ck_assert_int_eq(tc_elf_symbol(lib, "tc_lib_func", &v, NULL), 0);
	ck_assert_uint_ne(v, 0);
	ck_assert_int_eq(tc_elf_symbol(pie, "write", &v, NULL), -TC_ENOENT);
	ck_assert_int_eq(tc_elf_symbol(pie, "read", &v, NULL), -TC_ENOENT);
	tc_elf_free(use);
	tc_elf_free(lib);
	tc_elf_free(pie);
}
END_TEST

/* File bytes by link-time address: .data initializers, .tcsect, and .bss as zeros. */
START_TEST(test_read_vaddr)
{
	const struct fixture *f = &fx[_i];
	struct tc_elf *e = open_fx(_i);
	uint64_t a, sz;
	int32_t val;
	unsigned char bss[64 * sizeof(int)];

	ck_assert_int_eq(tc_elf_section(e, ".tcsect", &a, &sz), 0);
	val = 0;
	ck_assert_int_eq(tc_elf_read_vaddr(e, a, &val, sizeof val), 0);
	ck_assert_int_eq(val, FIXTURE_SECT);
	if (f->var_visible) {
		ck_assert_int_eq(tc_elf_symbol(e, "tc_fixture_var", &a, NULL), 0);
		val = 0;
		ck_assert_int_eq(tc_elf_read_vaddr(e, a, &val, sizeof val), 0);
		ck_assert_int_eq(val, FIXTURE_VAR);
		ck_assert_int_eq(tc_elf_symbol(e, "tc_fixture_bss", &a, &sz), 0);
		ck_assert_uint_eq(sz, sizeof bss);
		memset(bss, 0xff, sizeof bss);
		ck_assert_int_eq(tc_elf_read_vaddr(e, a, bss, sizeof bss), 0);
		for (size_t i = 0; i < sizeof bss; i++)
			ck_assert_uint_eq(bss[i], 0);
		ck_assert_int_eq(tc_elf_symbol(e, "tc_fixture_str", &a, &sz), 0);
		{
			char s[sizeof FIXTURE_STR];

			ck_assert_uint_eq(sz, sizeof s);
			ck_assert_int_eq(tc_elf_read_vaddr(e, a, s, sizeof s), 0);
			ck_assert_str_eq(s, FIXTURE_STR);
		}
	}
	ck_assert_int_eq(tc_elf_read_vaddr(e, 0xffffffff00000000ull, &val, sizeof val), -TC_ENOENT);
	ck_assert_int_eq(tc_elf_read_vaddr(e, UINT64_MAX - 1, &val, sizeof val), -TC_ENOENT);
	tc_elf_free(e);
}
END_TEST

struct str_hunt {
	int seen;
	int stop_with;
	size_t shortest, longest;
};

static int hunt_cb(const char *s, size_t len, void *arg)
{
	struct str_hunt *h = arg;

	ck_assert_uint_eq(strlen(s), len);
	if (len < h->shortest)
		h->shortest = len;
	if (len > h->longest)
		h->longest = len;
	if (len == strlen(FIXTURE_STR) && memcmp(s, FIXTURE_STR, len) == 0)
		h->seen++;
	return h->stop_with;
}

START_TEST(test_each_string)
{
	struct tc_elf *e = open_fx(_i);
	struct str_hunt h = { 0, 0, SIZE_MAX, 0 };

	ck_assert_int_eq(tc_elf_each_string(e, 5, 64, hunt_cb, &h), 0);
	ck_assert_int_eq(h.seen, 1);
	ck_assert_uint_ge(h.shortest, 5);
	ck_assert_uint_le(h.longest, 64);

	h = (struct str_hunt){ 0, 0, SIZE_MAX, 0 };
	ck_assert_int_eq(tc_elf_each_string(e, 1, 10, hunt_cb, &h), 0);
	ck_assert_int_eq(h.seen, 0);
	ck_assert_uint_le(h.longest, 10);

	h = (struct str_hunt){ 0, 7, SIZE_MAX, 0 };
	ck_assert_int_eq(tc_elf_each_string(e, 22, 22, hunt_cb, &h), 7);
	ck_assert_int_eq(h.seen, 1);
	tc_elf_free(e);
}
END_TEST

START_TEST(test_open_errors)
{
	struct tc_elf *e = NULL;
	char p[PATH_MAX];

	ck_assert_int_eq(tc_elf_open("/nonexistent/definitely/not", &e), -TC_ENOENT);
	ck_assert_ptr_null(e);
	fx_path("fix.c", p, sizeof p); /* not ELF */
	ck_assert_int_eq(tc_elf_open(p, &e), -TC_EIO);
	ck_assert_int_eq(tc_elf_open(dir, &e), -TC_EIO); /* a directory */
	ck_assert_int_eq(tc_elf_open("/dev/null", &e), -TC_EIO);
	ck_assert_ptr_null(e);
	tc_elf_free(NULL);
}
END_TEST

/* Copy fixture SRC to DIR/corrupt, then overwrite LEN bytes at OFF with BYTES (or truncate
 * to OFF when BYTES is NULL). */
static void make_corrupt(int src, long off, const void *bytes, size_t len)
{
	char from[PATH_MAX], to[PATH_MAX];
	FILE *in, *out;
	char buf[65536];
	size_t n;

	fx_path(fx[src].name, from, sizeof from);
	fx_path("corrupt", to, sizeof to);
	in = fopen(from, "rb");
	out = fopen(to, "wb");
	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(out);
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
	fclose(in);
	if (bytes) {
		ck_assert_int_eq(fseek(out, off, SEEK_SET), 0);
		ck_assert_uint_eq(fwrite(bytes, 1, len, out), len);
	}
	ck_assert_int_eq(fclose(out), 0);
	if (!bytes)
		ck_assert_int_eq(truncate(to, off), 0);
}

static int count_cb(const char *s, size_t len, void *arg)
{
	(void)s;
	(void)len;
	(*(int *)arg)++;
	return 0;
}

/* Everything the API offers, on a damaged file: any error code is fine, a crash is not. */
static void poke_everything(void)
{
	char p[PATH_MAX];
	struct tc_elf *e = NULL;
	struct tc_maps maps = { 0 };
	static const char mtext[] = "1000-2000 r--p 00000000 00:00 1 /x\n";
	uint64_t v, s;
	int64_t bias;
	char buf[64];
	int cnt = 0;
	int rc;

	fx_path("corrupt", p, sizeof p);
	rc = tc_elf_open(p, &e);
	if (rc != 0) {
		ck_assert_int_eq(rc, -TC_EIO);
		return;
	}
	ck_assert_int_eq(tc_maps_parse(mtext, strlen(mtext), &maps), 0);
	(void)tc_elf_is_dyn(e);
	(void)tc_elf_symbol(e, "tc_fixture_var", &v, &s);
	(void)tc_elf_symbol(e, "tc_fixture_static", &v, &s);
	(void)tc_elf_section(e, ".tcsect", &v, &s);
	(void)tc_elf_section(e, ".rodata", &v, &s);
	for (uint64_t a = 0; a < 0x10000; a += 0x3f1)
		(void)tc_elf_read_vaddr(e, a, buf, sizeof buf);
	(void)tc_elf_each_string(e, 1, 100, count_cb, &cnt);
	(void)tc_elf_bias(e, &maps, "/x", &bias);
	tc_maps_free(&maps);
	tc_elf_free(e);
}

START_TEST(test_corrupt)
{
	char p[PATH_MAX];
	struct stat st;
	struct tc_elf *e;
	uint64_t var, big = 0x7fffffffffff0000ull;
	uint32_t word = 0xffffff00u;
	unsigned char noise[4096];
	int32_t val;

	ck_assert(elf_version(EV_CURRENT) != EV_NONE);
	fx_path(fx[FX_PIE].name, p, sizeof p);
	ck_assert_int_eq(stat(p, &st), 0);
	e = open_fx(FX_PIE);
	ck_assert_int_eq(tc_elf_symbol(e, "tc_fixture_var", &var, NULL), 0);
	tc_elf_free(e);

	/* truncated at many lengths: headers cut, sections and segments past the end */
	for (long cut = 0; cut < st.st_size; cut += st.st_size / 37 + 1) {
		make_corrupt(FX_PIE, cut, NULL, 0);
		poke_everything();
	}
	/* cut just before the end: the section headers are gone but .data is not */
	make_corrupt(FX_PIE, st.st_size - 64, NULL, 0);
	poke_everything();
	/* cut inside .data: reading tc_fixture_var must notice the file is too short */
	{
		GElf_Phdr ph;
		Elf *el;
		int fd = open(p, O_RDONLY);
		size_t n;
		long cut = -1;

		ck_assert_int_ge(fd, 0);
		el = elf_begin(fd, ELF_C_READ, NULL);
		ck_assert_ptr_nonnull(el);
		ck_assert_int_eq(elf_getphdrnum(el, &n), 0);
		for (size_t i = 0; i < n; i++) {
			ck_assert_ptr_nonnull(gelf_getphdr(el, (int)i, &ph));
			if (ph.p_type == PT_LOAD && var >= ph.p_vaddr &&
			    var < ph.p_vaddr + ph.p_filesz)
				cut = (long)(ph.p_offset + (var - ph.p_vaddr));
		}
		elf_end(el);
		close(fd);
		ck_assert_int_gt(cut, 0);
		make_corrupt(FX_PIE, cut + 2, NULL, 0);
		fx_path("corrupt", p, sizeof p);
		if (tc_elf_open(p, &e) == 0) {
			ck_assert_int_eq(tc_elf_read_vaddr(e, var, &val, sizeof val), -TC_EIO);
			tc_elf_free(e);
		}
	}
	/* e_shoff / e_phoff (ELF64 header offsets 0x28, 0x20) pointing far away */
	make_corrupt(FX_PIE, 0x28, &big, sizeof big);
	poke_everything();
	make_corrupt(FX_PIE, 0x20, &big, sizeof big);
	poke_everything();
	/* e_shnum, e_shstrndx, e_phnum (0x3c, 0x3e, 0x38) */
	make_corrupt(FX_PIE, 0x3c, &word, 2);
	poke_everything();
	make_corrupt(FX_PIE, 0x3e, &word, 2);
	poke_everything();
	make_corrupt(FX_PIE, 0x38, &word, 2);
	poke_everything();
	/* noise over the program headers, the middle, and the section header table */
	srand(1234);
	for (size_t i = 0; i < sizeof noise; i++)
		noise[i] = (unsigned char)rand();
	make_corrupt(FX_PIE, 0x40, noise, 0x200);
	poke_everything();
	for (long off = 0x40; off + 512 < st.st_size; off += st.st_size / 23) {
		make_corrupt(FX_PIE, off, noise + (off & 1023), 512);
		poke_everything();
	}
	make_corrupt(FX_PIE, st.st_size - 0x600, noise, 0x600);
	poke_everything();
	make_corrupt(FX_LIB, 0x200, noise, 0x300);
	poke_everything();
}
END_TEST

/* A fixture executable, running, with its stdin held open by the test. */
struct proc {
	pid_t pid;
	int in;  /* write end of its stdin */
};

static void spawn(const char *path, struct proc *pr)
{
	int to[2], from[2];
	char c = 0;

	ck_assert_int_eq(pipe2(to, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(from, O_CLOEXEC), 0);
	pr->pid = fork();
	ck_assert_int_ge(pr->pid, 0);
	if (pr->pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	pr->in = to[1];
	ck_assert_int_eq(read(from[0], &c, 1), 1);
	ck_assert_int_eq(c, 'r');
	close(from[0]);
}

static void reap(struct proc *pr)
{
	int st;

	close(pr->in);
	kill(pr->pid, SIGKILL);
	waitpid(pr->pid, &st, 0);
}

/* Runtime address = link-time address + bias, read back from the live process. */
START_TEST(test_bias_exec)
{
	static const int which[] = { FX_NOPIE, FX_PIE, FX_PIE_S, FX_NOPIE_S };
	int i = which[_i];
	char p[PATH_MAX];
	struct proc pr;
	struct tc_elf *e = open_fx(i);
	struct tc_maps maps = { 0 };
	struct tc_remote *r = NULL;
	int64_t bias = 12345;
	uint64_t a, sz;
	int32_t val = 0;
	unsigned char bss[64 * sizeof(int)];

	fx_path(fx[i].name, p, sizeof p);
	spawn(p, &pr);
	ck_assert_int_eq(tc_maps_read(pr.pid, &maps), 0);
	ck_assert_int_eq(tc_elf_bias(e, &maps, p, &bias), 0);
	if (fx[i].dyn)
		ck_assert_int_ne(bias, 0);
	else
		ck_assert_int_eq(bias, 0);
	ck_assert_int_eq(tc_elf_bias(e, &maps, "/not/mapped/here", &bias), -TC_ENOENT);
	ck_assert_int_eq(tc_remote_open(pr.pid, &r), 0);

	ck_assert_int_eq(tc_elf_section(e, ".tcsect", &a, &sz), 0);
	ck_assert_int_eq(tc_remote_read(r, a + (uint64_t)bias, &val, sizeof val), 0);
	ck_assert_int_eq(val, FIXTURE_SECT);
	if (fx[i].var_visible) {
		ck_assert_int_eq(tc_elf_symbol(e, "tc_fixture_var", &a, NULL), 0);
		val = 0;
		ck_assert_int_eq(tc_remote_read(r, a + (uint64_t)bias, &val, sizeof val), 0);
		ck_assert_int_eq(val, FIXTURE_VAR);
		ck_assert_int_eq(tc_elf_symbol(e, "tc_fixture_bss", &a, NULL), 0);
		memset(bss, 0xff, sizeof bss);
		ck_assert_int_eq(tc_remote_read(r, a + (uint64_t)bias, bss, sizeof bss), 0);
		for (size_t k = 0; k < sizeof bss; k++)
			ck_assert_uint_eq(bss[k], 0);
	}
	tc_remote_free(r);
	tc_maps_free(&maps);
	tc_elf_free(e);
	reap(&pr);
}
END_TEST

/* The library loaded into this process: bias + st_value must be what dlsym says. */
START_TEST(test_bias_dlopen)
{
	static const int which[] = { FX_LIB, FX_LIB_S };
	int i = which[_i];
	char p[PATH_MAX];
	void *h, *sym;
	struct tc_elf *e = open_fx(i);
	struct tc_maps maps = { 0 };
	int64_t bias;
	uint64_t v;
	static const char *const names[] = { "tc_fixture_var", "tc_fixture_sect", "tc_lib_func",
					     "tc_fixture_str", "tc_fixture_bss" };

	fx_path(fx[i].name, p, sizeof p);
	h = dlopen(p, RTLD_NOW | RTLD_LOCAL);
	ck_assert_msg(h != NULL, "dlopen: %s", dlerror());
	ck_assert_int_eq(tc_maps_read(getpid(), &maps), 0);
	ck_assert_int_eq(tc_elf_bias(e, &maps, p, &bias), 0);
	for (size_t k = 0; k < TC_ARRAY_LEN(names); k++) {
		sym = dlsym(h, names[k]);
		ck_assert_ptr_nonnull(sym);
		ck_assert_int_eq(tc_elf_symbol(e, names[k], &v, NULL), 0);
		ck_assert_uint_eq(v + (uint64_t)bias, (uint64_t)(uintptr_t)sym);
	}
	ck_assert_int_eq(*(int *)dlsym(h, "tc_fixture_var"), FIXTURE_VAR);
	tc_maps_free(&maps);
	tc_elf_free(e);
	dlclose(h);
}
END_TEST

/* Append a maps line for every file-backed PT_LOAD of the library as loaded at BASE, the way
 * the kernel and ld.so place them. */
static size_t synth_image(char *out, size_t cap, const char *path, uint64_t base, long page)
{
	GElf_Phdr ph;
	Elf *el;
	size_t n, len = 0;
	int fd = open(path, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	el = elf_begin(fd, ELF_C_READ, NULL);
	ck_assert_ptr_nonnull(el);
	ck_assert_int_eq(elf_getphdrnum(el, &n), 0);
	for (size_t i = 0; i < n; i++) {
		uint64_t s, e;

		ck_assert_ptr_nonnull(gelf_getphdr(el, (int)i, &ph));
		if (ph.p_type != PT_LOAD || ph.p_filesz == 0)
			continue;
		s = base + (ph.p_vaddr & ~(uint64_t)(page - 1));
		e = (base + ph.p_vaddr + ph.p_filesz + (uint64_t)page - 1) & ~(uint64_t)(page - 1);
		len += (size_t)snprintf(out + len, cap - len, "%llx-%llx r--p %08llx 08:01 77 %s\n",
					(unsigned long long)s, (unsigned long long)e,
					(unsigned long long)(ph.p_offset & ~(uint64_t)(page - 1)),
					path);
		ck_assert_uint_lt(len, cap);
	}
	elf_end(el);
	close(fd);
	return len;
}

/* A file-backed PT_LOAD past the first whose page-aligned file offset no other segment
 * shares (the RW segment usually shares its first page with the one before it): its
 * aligned offset and vaddr. */
static void unique_load(const char *path, long page, uint64_t *off, uint64_t *vaddr)
{
	GElf_Phdr ph[32];
	Elf *el;
	size_t n, k = 0;
	int fd = open(path, O_RDONLY);
	uint64_t mask = ~(uint64_t)(page - 1);

	ck_assert_int_ge(fd, 0);
	el = elf_begin(fd, ELF_C_READ, NULL);
	ck_assert_ptr_nonnull(el);
	ck_assert_int_eq(elf_getphdrnum(el, &n), 0);
	for (size_t i = 0; i < n && k < TC_ARRAY_LEN(ph); i++) {
		ck_assert_ptr_nonnull(gelf_getphdr(el, (int)i, &ph[k]));
		if (ph[k].p_type == PT_LOAD && ph[k].p_filesz > 0)
			k++;
	}
	elf_end(el);
	close(fd);
	*off = 0;
	for (size_t i = 1; i < k; i++) {
		size_t same = 0;

		for (size_t j = 0; j < k; j++)
			same += (ph[j].p_offset & mask) == (ph[i].p_offset & mask);
		if (same == 1) {
			*off = ph[i].p_offset & mask;
			*vaddr = ph[i].p_vaddr & mask;
		}
	}
	ck_assert_uint_ne(*off, 0);
}

/* Library mapped twice (dlmopen) plus a stray mapping of a later segment at a lower
 * address: the first consistent set wins. Then only the stray: the unambiguous guess is
 * used. (Consistency is what tells the segments apart that share a file page.) */
START_TEST(test_bias_synthetic)
{
	char p[PATH_MAX];
	char text[8192];
	size_t len = 0;
	struct tc_elf *e = open_fx(FX_LIB);
	struct tc_maps maps = { 0 };
	long page = sysconf(_SC_PAGESIZE);
	uint64_t off, vaddr;
	const uint64_t stray = 0x10000000, b1 = 0x7f0000000000ull, b2 = 0x7f1000000000ull;
	int64_t bias;

	fx_path(fx[FX_LIB].name, p, sizeof p);
	ck_assert(elf_version(EV_CURRENT) != EV_NONE);
	unique_load(p, page, &off, &vaddr);
	len += (size_t)snprintf(text + len, sizeof text - len,
				"%llx-%llx r--p %08llx 08:01 77 %s\n", (unsigned long long)stray,
				(unsigned long long)(stray + (uint64_t)page),
				(unsigned long long)off, p);
	len += (size_t)snprintf(text + len, sizeof text - len,
				"%llx-%llx r--p 00000000 08:01 78 /other/lib.so\n",
				(unsigned long long)(b1 - 0x100000),
				(unsigned long long)(b1 - 0x80000));
	len += synth_image(text + len, sizeof text - len, p, b1, page);
	len += synth_image(text + len, sizeof text - len, p, b2, page);
	ck_assert_int_eq(tc_maps_parse(text, len, &maps), 0);
	ck_assert_int_eq(tc_elf_bias(e, &maps, p, &bias), 0);
	ck_assert_uint_eq((uint64_t)bias, b1);
	ck_assert_int_eq(tc_elf_bias(e, &maps, "/absent/lib.so", &bias), -TC_ENOENT);
	tc_maps_free(&maps);

	/* second copy only */
	len = synth_image(text, sizeof text, p, b2, page);
	ck_assert_int_eq(tc_maps_parse(text, len, &maps), 0);
	ck_assert_int_eq(tc_elf_bias(e, &maps, p, &bias), 0);
	ck_assert_uint_eq((uint64_t)bias, b2);
	tc_maps_free(&maps);

	/* only the stray late segment: no consistent set, fall back to what it implies */
	len = (size_t)snprintf(text, sizeof text, "%llx-%llx r--p %08llx 08:01 77 %s\n",
			       (unsigned long long)stray,
			       (unsigned long long)(stray + (uint64_t)page),
			       (unsigned long long)off, p);
	ck_assert_int_eq(tc_maps_parse(text, len, &maps), 0);
	ck_assert_int_eq(tc_elf_bias(e, &maps, p, &bias), 0);
	ck_assert_uint_eq((uint64_t)bias, stray - vaddr);
	tc_maps_free(&maps);

	/* a mapping of the path whose offset is no segment's */
	len = (size_t)snprintf(text, sizeof text, "10000000-10001000 r--p 07777000 08:01 77 %s\n", p);
	ck_assert_int_eq(tc_maps_parse(text, len, &maps), 0);
	ck_assert_int_eq(tc_elf_bias(e, &maps, p, &bias), -TC_ENOENT);
	tc_maps_free(&maps);
	tc_elf_free(e);
}
END_TEST

static Suite *elf_suite(void)
{
	Suite *s = suite_create("elf");
	TCase *tc = tcase_create("files");
	TCase *live = tcase_create("live");

	tcase_add_loop_test(tc, test_symbols, 0, FX_N);
	tcase_add_test(tc, test_undefined_skipped);
	tcase_add_loop_test(tc, test_read_vaddr, 0, FX_USE);
	tcase_add_loop_test(tc, test_each_string, 0, FX_USE);
	tcase_add_test(tc, test_open_errors);
	tcase_add_test(tc, test_corrupt);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tcase_add_loop_test(live, test_bias_exec, 0, 4);
	tcase_add_loop_test(live, test_bias_dlopen, 0, 2);
	tcase_add_test(live, test_bias_synthetic);
	tcase_set_timeout(live, 60);
	suite_add_tcase(s, live);
	return s;
}

int main(void)
{
	int status;

	if (build_fixtures() != 0) {
		remove_fixtures();
		return EXIT_FAILURE;
	}
	status = tc_test_run(elf_suite());
	remove_fixtures();
	return status;
}
