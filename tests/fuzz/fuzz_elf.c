/* SPDX-License-Identifier: MIT */
/* Fuzz reader/elf.c: the input is an ELF file (the target's executable or libpython, which
 * the profiler opens from /proc/PID/root and must not trust). It is written to a memfd and
 * opened by path, as at attach, then every query attach makes is asked: symbols, sections,
 * bytes at link-time addresses (from the file's own symbols and sections, so mutated headers
 * pick the addresses), the load bias against mappings of that path, .rodata strings.
 * Properties: no crash or sanitizer report; strings handed to the callback have the length
 * it is told, within the bounds asked. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "reader/elf.h"
#include "reader/maps.h"

static int fd = -1;
static char path[64];

struct strs {
	size_t minlen, maxlen, n;
};

static int on_string(const char *s, size_t len, void *arg)
{
	struct strs *st = arg;

	FZ_REQUIRE(len >= st->minlen && len <= st->maxlen && strlen(s) == len);
	return ++st->n >= 1000; /* stop early sometimes: the early-return path */
}

static void read_at(struct tc_elf *e, uint64_t vaddr, uint64_t size)
{
	static uint8_t buf[4096];
	size_t len = size > sizeof buf ? sizeof buf : (size_t)size;

	(void)tc_elf_read_vaddr(e, vaddr, buf, len ? len : 1);
	(void)tc_elf_read_vaddr(e, vaddr, buf, 8);
	(void)tc_elf_read_vaddr(e, vaddr + size - 1, buf, 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *syms[] = {"_PyRuntime", "PyCode_Type", "_Py_GetAllocatedBlocks",
				     "Py_Version", "main", ""};
	static const char *secs[] = {".PyRuntime", ".rodata", ".data", ".bss", ".dynsym", ""};
	struct tc_elf *e = NULL;
	char maps[512];
	struct tc_maps m = {0};

	if (fd < 0) {
		fd = memfd_create("fuzz-elf", MFD_CLOEXEC);
		FZ_REQUIRE(fd >= 0);
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	FZ_REQUIRE(ftruncate(fd, 0) == 0);
	if (size && pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	if (tc_elf_open(path, &e) != 0)
		return 0;
	(void)tc_elf_is_dyn(e);
	for (size_t i = 0; i < TC_ARRAY_LEN(syms); i++) {
		uint64_t v, sz;
		if (tc_elf_symbol(e, syms[i], &v, &sz) == 0)
			read_at(e, v, sz);
		(void)tc_elf_symbol(e, syms[i], NULL, NULL);
	}
	for (size_t i = 0; i < TC_ARRAY_LEN(secs); i++) {
		uint64_t a, sz;
		if (tc_elf_section(e, secs[i], &a, &sz) == 0)
			read_at(e, a, sz);
	}
	read_at(e, 0, 64);
	read_at(e, UINT64_MAX - 3, 64);
	/* mappings of this file the way a PIE and an ET_EXEC would be mapped */
	snprintf(maps, sizeof maps,
		 "400000-401000 r--p 00000000 08:01 7 %s\n"
		 "401000-403000 r-xp 00001000 08:01 7 %s\n"
		 "555555554000-555555556000 r--p 00000000 08:01 7 %s\n"
		 "555555556000-55555555a000 r-xp 00002000 08:01 7 %s\n"
		 "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]\n",
		 path, path, path, path);
	if (tc_maps_parse(maps, strlen(maps), &m) == 0) {
		int64_t bias;
		(void)tc_elf_bias(e, &m, path, &bias);
		(void)tc_elf_bias(e, &m, "/nonexistent", &bias);
		tc_maps_free(&m);
	}
	struct strs st = {4, 64, 0};
	(void)tc_elf_each_string(e, st.minlen, st.maxlen, on_string, &st);
	struct strs st1 = {0, 0, 0};
	(void)tc_elf_each_string(e, 0, 0, on_string, &st1);
	tc_elf_free(e);
	return 0;
}
