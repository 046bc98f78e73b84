/* SPDX-License-Identifier: MIT */
/* Fuzz reader/maps.c: the text of /proc/PID/maps (paths are chosen by the target: a file
 * name may hold spaces or " (deleted)"). Properties: a parse that succeeds yields mappings
 * sorted by start, each with a NUL-terminated path; when they do not overlap (the kernel
 * never prints overlapping ones; the parser need not refuse them), tc_maps_find finds each
 * at its first and last byte, and nothing below the first. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "reader/maps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1);
	struct tc_maps m = {0};

	if (!text)
		return 0;
	memcpy(text, data, size);
	if (tc_maps_parse(text, size, &m) == 0) {
		bool overlap = false;
		for (size_t i = 1; i < m.n; i++)
			overlap |= m.v[i].start < m.v[i - 1].end;
		for (size_t i = 0; i < m.n; i++) {
			const struct tc_map *x = &m.v[i];
			FZ_REQUIRE(x->path != NULL);
			(void)strlen(x->path);
			if (i)
				FZ_REQUIRE(m.v[i - 1].start <= x->start);
			if (!overlap && x->start < x->end) {
				const struct tc_map *f = tc_maps_find(&m, x->start);
				FZ_REQUIRE(f && f->start <= x->start && x->start < f->end);
				f = tc_maps_find(&m, x->end - 1);
				FZ_REQUIRE(f && f->start <= x->end - 1 && x->end - 1 < f->end);
			}
		}
		if (m.n && m.v[0].start > 0)
			FZ_REQUIRE(tc_maps_find(&m, m.v[0].start - 1) == NULL);
		(void)tc_maps_find(&m, 0);
		(void)tc_maps_find(&m, UINT64_MAX);
		tc_maps_free(&m);
	}
	free(text);
	return 0;
}
