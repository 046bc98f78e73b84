/* SPDX-License-Identifier: MIT */
/* Fuzz the pure decoders of layouts/: _Py_DebugOffsets (layouts/debug_offsets.c, the layout
 * a 3.13+ target describes about itself: the walker then trusts those offsets) and the
 * pymalloc/GC record decoders of layouts/alloc_layout.c, over arbitrary bytes.
 * Input: a selector byte (version for the allocator layout, Py_DEBUG bit), then the bytes.
 * Properties: an accepted _Py_DebugOffsets gives a layout the walker's buffers can hold (a
 * frame read within 256 bytes, a code object within 1024, non-negative object offsets,
 * the version it claims); the allocator decoders answer within their documented ranges. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "layouts/alloc_layout.h"
#include "layouts/debug_offsets.h"
#include "layouts/layout.h"
#include "layouts/version.h"

static void debug_offsets(const uint8_t *buf, size_t len, bool debug)
{
	struct tc_layout l;
	uint32_t hex;

	if (tc_debug_offsets_version(buf, len, &hex) != 0)
		return;
	if (tc_layout_from_debug_offsets(buf, len, debug, &l) != 0)
		return;
	FZ_REQUIRE(l.version_hex == hex && l.debug == debug);
	FZ_REQUIRE(l.frame_model == TC_FRAMES_INTERP && l.linetable == TC_LT_LOCATIONS);
	FZ_REQUIRE(l.iframe.size > 0 && l.iframe.size <= 256);
	FZ_REQUIRE(l.iframe.previous >= 0 && l.iframe.code >= 0 && l.iframe.instr >= 0 &&
		   l.iframe.owner >= 0);
	FZ_REQUIRE(l.code.size > 0 && l.code.size <= 1024 + 8);
	FZ_REQUIRE(l.code.name >= 0 && l.code.filename >= 0 && l.code.linetable >= 0 &&
		   l.code.firstlineno >= 0);
	FZ_REQUIRE(l.object.ob_type >= 0 && l.bytes.ob_size >= 0 && l.bytes.ob_sval > 0);
	FZ_REQUIRE(l.unicode.state >= 0 && l.unicode.length >= 0 && l.unicode.ascii_data > 0 &&
		   l.unicode.compact_data > 0 && l.unicode.kind_shift + 3 <= 32);
	FZ_REQUIRE(l.tstate.size > 0 && l.tstate.next >= 0 && l.tstate.current_frame >= 0);
	FZ_REQUIRE(l.gil.locked >= 0 && l.gil.last_holder >= 0);
}

static void alloc_records(unsigned minor, bool debug, const uint8_t *buf, size_t len)
{
	struct tc_alloc_layout l;

	if (tc_alloc_layout_get(TC_PY_HEX(3, minor, 1) | 0xf0, debug, false, &l) != 0)
		return;
	if (len >= TC_OM_USEDPOOLS * 8) {
		int e = tc_alloc_check_usedpools(&l, buf, len, 0x7f0000010000ull);
		FZ_REQUIRE(e == -TC_EINVAL || (e >= 0 && e <= TC_OM_NCLASSES));
	}
	if (len >= TC_OM_ARENA_OBJECT_SIZE) {
		struct tc_arena ar;
		int r = tc_alloc_decode_arena(&l, buf, &ar);
		FZ_REQUIRE(r == 1 || r == 0 || r == -TC_ECORRUPT);
		if (r == 1) {
			FZ_REQUIRE(ar.nfreepools <= ar.ntotalpools);
			FZ_REQUIRE(ar.npools <= l.arena_size / l.pool_size);
		}
	}
	if (len >= TC_OM_POOL_HEADER_SIZE) {
		uint32_t szidx, count;
		int r = tc_alloc_decode_pool(&l, buf, buf[0] % 4, &szidx, &count);
		FZ_REQUIRE(r == 1 || r == 0 || r == -TC_ECORRUPT);
		if (r == 1)
			FZ_REQUIRE(szidx < TC_OM_NCLASSES &&
				   count <= tc_alloc_blocks_per_pool(&l, szidx));
	}
	if (l.gc.size > 0 && len >= (size_t)l.gc.size) {
		struct tc_gc_gen_raw g;
		for (int i = 0; i < 3; i++)
			tc_alloc_gc_generation(&l, buf, i, &g);
		(void)tc_alloc_gc_plausible(&l, buf, 0x7f0000020000ull);
		if (l.gc_stats_model == TC_GCS_ARRAY)
			for (int i = 0; i < 3; i++) {
				struct tc_gc_rec r;
				int e = tc_alloc_gc_record(&l, buf, len, i, &r);
				FZ_REQUIRE(e == 0 || e == -TC_ECORRUPT);
			}
	}
	if (l.gc_stats_model == TC_GCS_RING && len >= (size_t)l.ring.size)
		for (int i = 0; i < 3; i++) {
			struct tc_gc_rec r;
			int e = tc_alloc_gc_record(&l, buf, len, i, &r);
			FZ_REQUIRE(e == 0 || e == -TC_ECORRUPT);
			if (e == 0)
				FZ_REQUIRE(r.collections >= 0 && r.collected >= 0 &&
					   r.uncollectable >= 0);
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = {data, size};
	uint8_t sel = fz_u8(&in);
	size_t len = in.n;
	uint8_t *buf = malloc(len ? len : 1);

	if (!buf)
		return 0;
	memcpy(buf, in.p, len);
	debug_offsets(buf, len, sel & 0x80);
	alloc_records(9 + (sel & 0x7f) % 7, sel & 0x80, buf, len);
	free(buf);
	return 0;
}
