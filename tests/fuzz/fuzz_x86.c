/* SPDX-License-Identifier: MIT */
/* Fuzz reader/x86_decode.c: single instructions and straight-line runs over arbitrary
 * bytes (the decoder reads machine code of the target's binary, which a hostile or unusual
 * build controls). Input: a pc (8 bytes), then code, copied into a buffer of exactly its
 * length. Properties: a decoded instruction has 1..15 bytes and fits what was given; a
 * branch target is pc + len + displacement; the reference list never exceeds its capacity. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "reader/x86_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = {data, size};
	uint64_t pc = fz_u64(&in);
	size_t len = in.n;
	uint8_t *code = malloc(len ? len : 1);
	struct tc_x86_insn insn;
	struct tc_x86_ref refs[8];
	size_t n = 99;

	if (!code)
		return 0;
	memcpy(code, in.p, len);
	/* every start offset, as a walk that lands mid-instruction would */
	for (size_t off = 0; off < len && off < 64; off++) {
		int err = tc_x86_decode(code + off, len - off, pc + off, &insn);
		FZ_REQUIRE(err == 0 || err == -TC_EINVAL || err == -TC_ERANGE);
		if (err)
			continue;
		FZ_REQUIRE(insn.len >= 1 && insn.len <= 15 && insn.len <= len - off);
		FZ_REQUIRE(insn.pc == pc + off);
		FZ_REQUIRE(insn.opsize == 1 || insn.opsize == 2 || insn.opsize == 4 ||
			   insn.opsize == 8);
		if (insn.mem && insn.base == TC_X86_RIP)
			FZ_REQUIRE(insn.mem_target == pc + off + insn.len + (uint64_t)insn.disp);
	}
	int err = tc_x86_rip_refs(code, len, pc, 64, refs, TC_ARRAY_LEN(refs), &n);
	FZ_REQUIRE(err == 0 || err == -TC_EINVAL);
	if (err == 0)
		FZ_REQUIRE(n <= TC_ARRAY_LEN(refs));
	err = tc_x86_rip_refs(code, len, pc, 1000, refs, 0, &n);
	FZ_REQUIRE(err != 0 || n == 0);
	free(code);
	return 0;
}
