/* SPDX-License-Identifier: MIT */
/* Growable arrays. See vec.h. */
#include "base/vec.h"

#include <stdint.h>
#include <stdlib.h>

#include "tc/common.h"

int tc_vec_next_cap(size_t cap, size_t need, size_t first, size_t elem, size_t *out)
{
	size_t ncap = cap ? cap : (first ? first : 1);

	if (elem == 0)
		return -TC_EINVAL;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return -TC_ENOMEM;
		ncap *= 2;
	}
	if (ncap > SIZE_MAX / elem)
		return -TC_ENOMEM;
	*out = ncap;
	return 0;
}

int tc_vec_reserve(void **arr, size_t *cap, size_t elem, size_t need)
{
	size_t ncap;
	void *na;

	if (need <= *cap)
		return 0;
	if (tc_vec_next_cap(*cap, need, TC_VEC_FIRST, elem, &ncap))
		return -TC_ENOMEM;
	na = realloc(*arr, ncap * elem);
	if (!na)
		return -TC_ENOMEM;
	*arr = na;
	*cap = ncap;
	return 0;
}
