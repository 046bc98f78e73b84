/* SPDX-License-Identifier: MIT */
/* Types and error codes shared by every layer. Header only: no implementation lives here.
 *
 * Convention (STYLE.md): functions return int, 0 on success, a negative TC_E* code on
 * failure. A function returning more than two states documents them in its header. */
#ifndef TC_COMMON_H
#define TC_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* An address in the target's address space. Never a host pointer: nothing may dereference
 * one by accident. */
typedef uint64_t tc_raddr;

enum {
	TC_OK = 0,
	TC_ENOMEM = 1,   /* host allocation failed */
	TC_ESRCH = 2,    /* target process does not exist (or exited): fatal */
	TC_EPERM = 3,    /* not allowed to read the target: fatal */
	TC_EFAULT = 4,   /* remote range not mapped / short read: transient, costs one sample */
	TC_ENOTPY = 5,   /* target is not a Python process (no runtime found) */
	TC_EVERSION = 6, /* Python found, but a version this build cannot read */
	TC_EINVAL = 7,   /* invalid argument, or target data failed validation (garbage) */
	TC_EIO = 8,      /* host I/O error (file, ELF parse) */
	TC_ENOENT = 9,   /* looked-up item (symbol, section, file) does not exist */
	TC_ERANGE = 10,  /* a bound was hit (too long, too deep, too many) */
	TC_ECORRUPT = 11 /* remote structure inconsistent (torn read, cycle): transient */
};

/* A short phrase for a TC_E* code, either sign ("no such process"); "unknown error" for a
 * value that is none of them. Static storage, never NULL. Implemented in reader/errors.c. */
const char *tc_strerror(int err);

#define TC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Read a little-endian scalar at BUF+OFF without alignment or aliasing assumptions.
 * The one accessor for fields of remote structures copied into host buffers. */
static inline uint64_t tc_get_u64(const void *buf, size_t off)
{
	uint64_t v;
	__builtin_memcpy(&v, (const char *)buf + off, sizeof v);
	return v;
}
static inline uint32_t tc_get_u32(const void *buf, size_t off)
{
	uint32_t v;
	__builtin_memcpy(&v, (const char *)buf + off, sizeof v);
	return v;
}
static inline uint16_t tc_get_u16(const void *buf, size_t off)
{
	uint16_t v;
	__builtin_memcpy(&v, (const char *)buf + off, sizeof v);
	return v;
}
static inline uint8_t tc_get_u8(const void *buf, size_t off)
{
	return ((const uint8_t *)buf)[off];
}

#endif
