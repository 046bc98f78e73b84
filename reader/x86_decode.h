/* SPDX-License-Identifier: MIT */
/* A minimal x86-64 instruction decoder: enough to walk the first instructions of a small
 * compiled function and find the global variables it reads through RIP-relative operands
 * (the only anchor to some static data of stripped binaries). Lengths, ModRM/SIB memory
 * operands, operand sizes and branch targets of the common integer instructions; anything
 * else is reported as unknown rather than guessed. Pure: decodes host bytes, no I/O. */
#ifndef TC_X86_DECODE_H
#define TC_X86_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tc/common.h"

#define TC_X86_NOREG (-1)
#define TC_X86_RIP (-2)

enum tc_x86_flow {
	TC_X86_NEXT = 0,   /* falls through */
	TC_X86_JCC = 1,    /* conditional branch (target set) */
	TC_X86_JMP = 2,    /* unconditional direct branch (target set) */
	TC_X86_CALL = 3,   /* direct call (target set) */
	TC_X86_RET = 4,    /* return */
	TC_X86_INDIRECT = 5 /* indirect jump or call */
};

struct tc_x86_insn {
	uint64_t pc;          /* address of the instruction (as given) */
	uint8_t len;          /* bytes */
	uint16_t opcode;      /* primary opcode; 0x0Fxx for two-byte opcodes */
	bool has_modrm;
	uint8_t mod, reg, rm; /* ModRM fields, reg and rm extended by REX.R / REX.B */
	bool mem;             /* has a memory operand */
	int base, index;      /* memory operand registers (0-15), TC_X86_NOREG, TC_X86_RIP */
	uint8_t scale;
	int64_t disp;
	uint64_t mem_target;  /* RIP-relative: absolute address (next pc + disp) */
	uint8_t mem_size;     /* bytes the memory operand accesses; 0 for lea */
	bool mem_is_dst;      /* the memory operand is written (e.g. mov r/m, r) */
	int dst_reg;          /* register written (0-15), TC_X86_NOREG */
	int src_reg;          /* register read as the other operand, TC_X86_NOREG */
	uint8_t opsize;       /* 1, 2, 4 or 8 */
	enum tc_x86_flow flow;
	uint64_t target;      /* branch target for JCC/JMP/CALL */
};

/* Decode one instruction at CODE (LEN bytes available) located at address PC. Returns 0
 * and fills OUT; -TC_EINVAL for an opcode this decoder does not know; -TC_ERANGE when the
 * instruction would run past LEN. */
int tc_x86_decode(const uint8_t *code, size_t len, uint64_t pc, struct tc_x86_insn *out);

/* A global read or written through a RIP-relative operand. */
struct tc_x86_ref {
	uint64_t pc;        /* instruction */
	uint64_t target;    /* absolute address referenced */
	uint8_t size;       /* access size (bytes); 0 for lea */
	bool load_to_reg;   /* the value is loaded into (or combined into) a register */
	bool dereferenced;  /* that register, or a copy of it, later served as a memory base */
};

/* Decode straight-line code from CODE (LEN bytes at PC), stopping at the first return,
 * backward or outside unconditional jump, an unknown opcode, or MAX_INSNS instructions, and
 * list its RIP-relative references (at most MAX; *N set). Forward unconditional jumps inside
 * the buffer are followed (a loop entered at its test); conditional branches are not. Register copies (mov r, r)
 * and in-register arithmetic keep track of which global a register was loaded from, so a
 * pointer global that is then dereferenced is flagged. Returns 0 (even when decoding stopped
 * at an unknown opcode after some instructions), or -TC_EINVAL when not even one
 * instruction decodes. */
int tc_x86_rip_refs(const uint8_t *code, size_t len, uint64_t pc, size_t max_insns,
		    struct tc_x86_ref *refs, size_t max, size_t *n);

#endif
