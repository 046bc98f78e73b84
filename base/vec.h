/* SPDX-License-Identifier: MIT */
/* Growable arrays: one rule for how capacity grows (doubling from a first size), with the
 * overflow checks done once. The array itself stays the caller's (a pointer and a
 * capacity in its own struct). */
#ifndef TC_BASE_VEC_H
#define TC_BASE_VEC_H

#include <stddef.h>

#define TC_VEC_FIRST 16 /* first capacity of an empty array */

/* Capacity for NEED elements of ELEM bytes grown from CAP: CAP when it is enough, else CAP
 * (or FIRST when CAP is 0) doubled until it is. Returns 0 and *OUT, -TC_ENOMEM when that
 * many bytes do not fit in a size_t, -TC_EINVAL when ELEM is 0. */
int tc_vec_next_cap(size_t cap, size_t need, size_t first, size_t elem, size_t *out);

/* Grow *ARR (*CAP elements of ELEM bytes) so it holds at least NEED, keeping its contents
 * (new elements are not initialised). Returns 0 or -TC_ENOMEM (*ARR and *CAP unchanged). */
int tc_vec_reserve(void **arr, size_t *cap, size_t elem, size_t need);

#endif
