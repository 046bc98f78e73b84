/* SPDX-License-Identifier: MIT */
/* The 64-bit hash and mixing functions every table uses, in one place: a multiplicative
 * (Fibonacci) mix for keys that are already spread out, the murmur3 finaliser for keys that
 * are not, a combiner for keys of several words, and a hash of a byte string. Values are
 * only ever compared within one process: nothing stores or prints them. */
#ifndef TC_BASE_HASH_H
#define TC_BASE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define TC_HASH_GOLDEN 0x9E3779B97F4A7C15ull /* 2^64 / golden ratio, odd */
#define TC_HASH_FNV_PRIME 0x100000001B3ull

/* Multiplicative mix: the high bits depend on every bit of X. Take the top bits of the
 * result (tc_hash_top) for a table index, not the low ones. */
static inline uint64_t tc_hash_mul(uint64_t x)
{
	return x * TC_HASH_GOLDEN;
}

/* The top BITS bits of H (1 <= BITS <= 63): an index into a table of 2^BITS slots. */
static inline size_t tc_hash_top(uint64_t h, unsigned bits)
{
	return (size_t)(h >> (64 - bits));
}

/* Full avalanche of X (the murmur3 finaliser): every output bit depends on every input bit,
 * so any bits of the result may index a table. */
static inline uint64_t tc_hash_fmix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

/* Combine V into the running hash H (order matters: (a, b) and (b, a) differ). */
static inline uint64_t tc_hash_combine(uint64_t h, uint64_t v)
{
	return (h ^ (v + TC_HASH_GOLDEN + (h << 6) + (h >> 2))) * TC_HASH_FNV_PRIME;
}

/* Multiplicative mix of a key made of two words (A, B); B = 0 mixes like tc_hash_mul(A). */
static inline uint64_t tc_hash_pair(uint64_t a, uint64_t b)
{
	return (a ^ (b * 0xC2B2AE3D27D4EB4Full)) * TC_HASH_GOLDEN;
}

/* One byte into a running byte-string hash (FNV-1a with an extra shift, so that the high
 * bytes of the state reach the low ones). */
static inline uint64_t tc_hash_byte(uint64_t h, uint8_t c)
{
	h ^= c;
	h *= TC_HASH_FNV_PRIME;
	return h ^ (h >> 29);
}

/* Hash of LEN bytes at P (the length is part of it). */
static inline uint64_t tc_hash_bytes(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t h = TC_HASH_GOLDEN ^ len;
	for (size_t i = 0; i < len; i++)
		h = tc_hash_byte(h, b[i]);
	return h;
}

/* Hash of the NUL-terminated string S, in one pass (no strlen first). */
static inline uint64_t tc_hash_str(const char *s)
{
	uint64_t h = TC_HASH_GOLDEN;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		h = tc_hash_byte(h, *c);
	return h;
}

#endif
