/* SPDX-License-Identifier: MIT */
/* ELF files of the target, read on the host with libelf: symbols (.dynsym, then .symtab),
 * sections by name, file bytes at a link-time address, the load bias of a mapped image, and
 * a scan of .rodata strings (used to spot a Python version banner in stripped builds).
 *
 * The file is mmapped privately and handed to elf_memory(), so libelf never touches the fd
 * again and the raw bytes stay available for tc_elf_read_vaddr. The file is untrusted input:
 * every offset taken from a header is checked against the image size before use. */

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reader/elf.h"

struct tc_elf {
	Elf *elf;
	char *image;   /* private mapping of the whole file */
	size_t size;
	bool dyn;
	bool have_shstrndx;
	size_t shstrndx;
	GElf_Phdr *load; /* PT_LOAD headers, in file order */
	size_t nload;
};

static pthread_once_t elf_once = PTHREAD_ONCE_INIT;
static bool elf_ok;

static void elf_init(void)
{
	elf_ok = elf_version(EV_CURRENT) != EV_NONE;
}

/* True when [OFF, OFF+LEN) lies inside the image. */
static bool in_image(const struct tc_elf *e, uint64_t off, uint64_t len)
{
	return off <= e->size && len <= e->size - off;
}

/* Copy the PT_LOAD program headers out of libelf; a broken table is an error, an absent one
 * just leaves nothing to map. */
static int load_phdrs(struct tc_elf *e)
{
	size_t n = 0;

	if (elf_getphdrnum(e->elf, &n) != 0)
		return -TC_EIO;
	if (n == 0)
		return 0;
	e->load = calloc(n, sizeof *e->load);
	if (!e->load)
		return -TC_ENOMEM;
	for (size_t i = 0; i < n && i <= INT32_MAX; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e->elf, (int)i, &ph))
			return -TC_EIO;
		if (ph.p_type != PT_LOAD)
			continue;
		/* A segment claiming more file bytes than memory is corrupt; trust memsz. */
		if (ph.p_filesz > ph.p_memsz)
			ph.p_filesz = ph.p_memsz;
		e->load[e->nload++] = ph;
	}
	return 0;
}

int tc_elf_open(const char *path, struct tc_elf **out)
{
	struct tc_elf *e = NULL;
	struct stat st;
	void *map = MAP_FAILED;
	int fd = -1;
	int err = 0;

	pthread_once(&elf_once, elf_init);
	if (!elf_ok)
		return -TC_EIO;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			err = -TC_ENOENT;
		else if (errno == EACCES || errno == EPERM)
			err = -TC_EPERM;
		else if (errno == ENOMEM)
			err = -TC_ENOMEM;
		else
			err = -TC_EIO;
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < EI_NIDENT ||
	    (uint64_t)st.st_size > SIZE_MAX) {
		err = -TC_EIO;
		goto out;
	}
	/* Writable but private: libelf gets a char * it may scribble on for conversions,
	 * and nothing ever reaches the file. */
	map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		err = errno == ENOMEM ? -TC_ENOMEM : -TC_EIO;
		goto out;
	}
	e = calloc(1, sizeof *e);
	if (!e) {
		err = -TC_ENOMEM;
		goto out;
	}
	e->image = map;
	e->size = (size_t)st.st_size;
	map = MAP_FAILED;
	e->elf = elf_memory(e->image, e->size);
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF) {
		err = -TC_EIO;
		goto out;
	}
	{
		GElf_Ehdr eh;

		if (!gelf_getehdr(e->elf, &eh)) {
			err = -TC_EIO;
			goto out;
		}
		e->dyn = eh.e_type == ET_DYN;
	}
	e->have_shstrndx = elf_getshdrstrndx(e->elf, &e->shstrndx) == 0;
	err = load_phdrs(e);
	if (err)
		goto out;
	*out = e;
	e = NULL;
out:
	if (map != MAP_FAILED)
		munmap(map, (size_t)st.st_size);
	if (fd >= 0)
		close(fd);
	tc_elf_free(e);
	return err;
}

void tc_elf_free(struct tc_elf *e)
{
	if (!e)
		return;
	if (e->elf)
		elf_end(e->elf);
	if (e->image)
		munmap(e->image, e->size);
	free(e->load);
	free(e);
}

bool tc_elf_is_dyn(const struct tc_elf *e)
{
	return e && e->dyn;
}

/* Search every section of TYPE (SHT_DYNSYM or SHT_SYMTAB) for a defined symbol NAME.
 * A global or weak definition wins over a local one (several files may each have a static
 * of that name); the first local one is the fallback. Returns 0 or -TC_ENOENT. */
static int find_symbol(struct tc_elf *e, Elf64_Word type, const char *name, GElf_Sym *out)
{
	Elf_Scn *scn = NULL;
	bool have_local = false;
	GElf_Sym local;
	size_t symsz = gelf_fsize(e->elf, ELF_T_SYM, 1, EV_CURRENT);

	if (symsz == 0)
		return -TC_ENOENT;
	while ((scn = elf_nextscn(e->elf, scn)) != NULL) {
		GElf_Shdr sh;
		Elf_Data *data;
		size_t n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != type)
			continue;
		/* elf_getdata refuses section data that runs past the end of the file. */
		data = elf_getdata(scn, NULL);
		if (!data || !data->d_buf)
			continue;
		n = data->d_size / symsz;
		for (size_t i = 1; i < n && i <= INT32_MAX; i++) {
			GElf_Sym sym;
			const char *s;
			int st;

			if (!gelf_getsym(data, (int)i, &sym))
				break;
			if (sym.st_shndx == SHN_UNDEF || sym.st_name == 0)
				continue;
			st = GELF_ST_TYPE(sym.st_info);
			if (st == STT_SECTION || st == STT_FILE)
				continue;
			s = elf_strptr(e->elf, sh.sh_link, sym.st_name);
			if (!s || strcmp(s, name) != 0)
				continue;
			if (GELF_ST_BIND(sym.st_info) != STB_LOCAL) {
				*out = sym;
				return 0;
			}
			if (!have_local) {
				local = sym;
				have_local = true;
			}
		}
	}
	if (!have_local)
		return -TC_ENOENT;
	*out = local;
	return 0;
}

int tc_elf_symbol(struct tc_elf *e, const char *name, uint64_t *value, uint64_t *size)
{
	GElf_Sym sym;

	if (!e || !name || !*name)
		return -TC_ENOENT;
	if (find_symbol(e, SHT_DYNSYM, name, &sym) != 0 &&
	    find_symbol(e, SHT_SYMTAB, name, &sym) != 0)
		return -TC_ENOENT;
	if (value)
		*value = sym.st_value;
	if (size)
		*size = sym.st_size;
	return 0;
}

/* The section header named NAME. Returns 0 or -TC_ENOENT. */
static int find_section(struct tc_elf *e, const char *name, GElf_Shdr *out)
{
	Elf_Scn *scn = NULL;

	if (!e->have_shstrndx)
		return -TC_ENOENT;
	while ((scn = elf_nextscn(e->elf, scn)) != NULL) {
		GElf_Shdr sh;
		const char *s;

		if (!gelf_getshdr(scn, &sh))
			continue;
		s = elf_strptr(e->elf, e->shstrndx, sh.sh_name);
		if (s && strcmp(s, name) == 0) {
			*out = sh;
			return 0;
		}
	}
	return -TC_ENOENT;
}

int tc_elf_section(struct tc_elf *e, const char *name, uint64_t *addr, uint64_t *size)
{
	GElf_Shdr sh;

	if (!e || !name)
		return -TC_ENOENT;
	if (find_section(e, name, &sh) != 0)
		return -TC_ENOENT;
	if (addr)
		*addr = sh.sh_addr;
	if (size)
		*size = sh.sh_size;
	return 0;
}

/* Returns 0, -TC_ENOENT (VADDR..VADDR+LEN not inside one PT_LOAD), or -TC_EIO when the
 * segment claims file bytes past the end of the file. */
int tc_elf_read_vaddr(struct tc_elf *e, uint64_t vaddr, void *buf, size_t len)
{
	if (!e || (len > 0 && !buf))
		return -TC_ENOENT;
	for (size_t i = 0; i < e->nload; i++) {
		const GElf_Phdr *ph = &e->load[i];
		uint64_t off, nfile;

		if (vaddr < ph->p_vaddr || vaddr - ph->p_vaddr >= ph->p_memsz)
			continue;
		off = vaddr - ph->p_vaddr;
		if (len > ph->p_memsz - off)
			continue; /* runs off this segment; another one may hold it all */
		nfile = off < ph->p_filesz ? ph->p_filesz - off : 0;
		if (nfile > len)
			nfile = len;
		if (nfile > 0) {
			if (ph->p_offset > UINT64_MAX - off ||
			    !in_image(e, ph->p_offset + off, nfile))
				return -TC_EIO;
			memcpy(buf, e->image + ph->p_offset + off, (size_t)nfile);
		}
		memset((char *)buf + nfile, 0, len - (size_t)nfile);
		return 0;
	}
	return -TC_ENOENT;
}

static uint64_t page_down(uint64_t v, uint64_t page)
{
	return v & ~(page - 1);
}

/* Is every file-backed PT_LOAD of E mapped from PATH where BIAS puts it, at the right file
 * offset? Adjacent segments the kernel merged into one VMA, or one segment that mprotect
 * split in two (RELRO), both pass: only the address-to-offset relation is checked. */
static bool bias_consistent(const struct tc_elf *e, const struct tc_maps *maps, const char *path,
			    uint64_t bias, uint64_t page)
{
	for (size_t i = 0; i < e->nload; i++) {
		const GElf_Phdr *ph = &e->load[i];
		const struct tc_map *m;
		uint64_t a;

		if (ph->p_filesz == 0)
			continue; /* pure .bss: anonymous memory, nothing to compare */
		a = bias + page_down(ph->p_vaddr, page);
		m = tc_maps_find(maps, a);
		if (!m || !m->path || strcmp(m->path, path) != 0)
			return false;
		if (m->offset + (a - m->start) != page_down(ph->p_offset, page))
			return false;
	}
	return true;
}

/* The kernel (and ld.so) map each PT_LOAD at bias + page_down(p_vaddr) from file offset
 * page_down(p_offset), so every mapping of PATH whose offset equals a segment's aligned
 * offset proposes a bias. Segments sharing a file page make that ambiguous, and a library
 * loaded twice (dlmopen) maps PATH twice; so a proposal is accepted only when all segments
 * sit where it predicts, lowest address first. Without any such proposal (e.g. text remapped
 * to anonymous huge pages) the first unambiguous one is used, then the first of any. */
int tc_elf_bias(struct tc_elf *e, const struct tc_maps *maps, const char *path, int64_t *bias)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t page = pg > 0 ? (uint64_t)pg : 4096;
	bool have_unique = false, have_any = false;
	uint64_t unique = 0, any = 0;

	if (!e || !maps || !path || !bias)
		return -TC_ENOENT;
	for (size_t i = 0; i < maps->n; i++) {
		const struct tc_map *m = &maps->v[i];

		if (!m->path || strcmp(m->path, path) != 0)
			continue;
		for (size_t j = 0; j < e->nload; j++) {
			const GElf_Phdr *ph = &e->load[j];
			uint64_t b;
			size_t same = 0;

			if (ph->p_filesz == 0 || page_down(ph->p_offset, page) != m->offset)
				continue;
			b = m->start - page_down(ph->p_vaddr, page);
			if (bias_consistent(e, maps, path, b, page)) {
				*bias = (int64_t)b;
				return 0;
			}
			for (size_t k = 0; k < e->nload; k++)
				if (e->load[k].p_filesz > 0 &&
				    page_down(e->load[k].p_offset, page) == m->offset)
					same++;
			if (same == 1 && !have_unique) {
				unique = b;
				have_unique = true;
			}
			if (!have_any) {
				any = b;
				have_any = true;
			}
		}
	}
	if (have_unique) {
		*bias = (int64_t)unique;
		return 0;
	}
	if (have_any) {
		*bias = (int64_t)any;
		return 0;
	}
	return -TC_ENOENT;
}

/* Strings are the NUL-terminated runs of .rodata; a run cut off by the end of the section
 * is not a string. Returns FN's first non-zero value, 0, -TC_ENOENT (no .rodata) or -TC_EIO
 * (section data outside the file). */
int tc_elf_each_string(struct tc_elf *e, size_t minlen, size_t maxlen,
		       int (*fn)(const char *s, size_t len, void *arg), void *arg)
{
	GElf_Shdr sh;
	const char *p, *end;

	if (!e || !fn)
		return -TC_ENOENT;
	if (find_section(e, ".rodata", &sh) != 0)
		return -TC_ENOENT;
	if (sh.sh_type == SHT_NOBITS)
		return 0;
	if (!in_image(e, sh.sh_offset, sh.sh_size))
		return -TC_EIO;
	p = e->image + sh.sh_offset;
	end = p + sh.sh_size;
	while (p < end) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		size_t n;

		if (!nul)
			break;
		n = (size_t)(nul - p);
		if (n >= minlen && n <= maxlen) {
			int rc = fn(p, n, arg);

			if (rc)
				return rc;
		}
		p = nul + 1;
	}
	return 0;
}
