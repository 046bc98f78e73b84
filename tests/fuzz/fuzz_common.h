/* SPDX-License-Identifier: MIT */
/* Helpers shared by the libFuzzer harnesses: a cursor over the fuzz input that reads fixed
 * fields (zero past the end, so every input means something) and an abort that names the
 * broken property (libFuzzer records any abort as a crash with its input). */
#ifndef TC_FUZZ_COMMON_H
#define TC_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz_in {
	const uint8_t *p;
	size_t n;
};

/* Copy the next N bytes into OUT, zero-filling what the input lacks. */
static inline void fz_take(struct fz_in *in, void *out, size_t n)
{
	size_t k = in->n < n ? in->n : n;

	if (k)
		memcpy(out, in->p, k);
	if (k < n)
		memset((uint8_t *)out + k, 0, n - k);
	in->p += k;
	in->n -= k;
}

static inline uint8_t fz_u8(struct fz_in *in)
{
	uint8_t v;
	fz_take(in, &v, 1);
	return v;
}

static inline uint16_t fz_u16(struct fz_in *in)
{
	uint16_t v;
	fz_take(in, &v, 2);
	return v;
}

static inline uint32_t fz_u32(struct fz_in *in)
{
	uint32_t v;
	fz_take(in, &v, 4);
	return v;
}

static inline uint64_t fz_u64(struct fz_in *in)
{
	uint64_t v;
	fz_take(in, &v, 8);
	return v;
}

#define FZ_REQUIRE(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "%s:%d: property broken: %s\n", __FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

#endif
