/* SPDX-License-Identifier: MIT */
/* ELF files of the target (executable, shared libraries), read with libelf on the host.
 * Symbols, sections, program headers and the load bias of a mapped image. */
#ifndef TC_ELF_H
#define TC_ELF_H

#include <stdbool.h>
#include <stddef.h>

#include "reader/maps.h"
#include "tc/common.h"

struct tc_elf;

/* Open the ELF file at PATH (a host path, e.g. "/proc/PID/root/usr/bin/python3").
 * Returns 0 and *OUT (caller frees), -TC_ENOENT (no such file), -TC_EPERM, -TC_EIO (not
 * ELF / unreadable), -TC_ENOMEM. */
int tc_elf_open(const char *path, struct tc_elf **out);
void tc_elf_free(struct tc_elf *e); /* accepts NULL */

/* True for ET_DYN (PIE executable or shared object), false for ET_EXEC. */
bool tc_elf_is_dyn(const struct tc_elf *e);

/* Look up a defined symbol by NAME: .dynsym first, then .symtab. Undefined references
 * (SHN_UNDEF) are skipped. *VALUE is the link-time address (st_value), *SIZE st_size
 * (either may be NULL). Returns 0, or -TC_ENOENT when no defined symbol has that name. */
int tc_elf_symbol(struct tc_elf *e, const char *name, uint64_t *value, uint64_t *size);

/* Section NAME's link-time address and size. Returns 0 or -TC_ENOENT. */
int tc_elf_section(struct tc_elf *e, const char *name, uint64_t *addr, uint64_t *size);

/* Copy LEN bytes of file contents that the PT_LOAD segments map at link-time address VADDR
 * (bytes beyond p_filesz, i.e. .bss, read as zero). Returns 0, or -TC_ENOENT when VADDR is
 * outside every PT_LOAD segment. */
int tc_elf_read_vaddr(struct tc_elf *e, uint64_t vaddr, void *buf, size_t len);

/* Load bias of this file as mapped in the target: runtime address = link-time address +
 * bias. MAPS are the target's mappings; PATH selects the ones of this file (compare with
 * tc_map.path). Works for ET_EXEC (bias 0 when mapped at its link address) and ET_DYN.
 * Returns 0, or -TC_ENOENT when no mapping of PATH matches a PT_LOAD segment. */
int tc_elf_bias(struct tc_elf *e, const struct tc_maps *maps, const char *path, int64_t *bias);

/* Call FN for every NUL-terminated string in the file's read-only data (.rodata) whose
 * length is in [MINLEN, MAXLEN]; stop early when FN returns non-zero and return that value.
 * Returns 0 when FN never stopped, -TC_ENOENT when there is no .rodata. */
int tc_elf_each_string(struct tc_elf *e, size_t minlen, size_t maxlen,
		       int (*fn)(const char *s, size_t len, void *arg), void *arg);

#endif
