/* SPDX-License-Identifier: MIT */
/* Minimal x86-64 decoder (see x86_decode.h). Table-free where the opcode map is regular
 * (the ALU block 00-3F), explicit cases elsewhere; unknown opcodes are refused. */
#include "reader/x86_decode.h"

#include <string.h>

/* immediate kinds */
enum { IMM_NONE, IMM_8, IMM_16, IMM_Z, IMM_V, IMM_REL8, IMM_REL32 };

struct opinfo {
	bool known;
	bool modrm;
	int imm;
	bool byte_op;    /* operates on 8-bit operands */
	bool reg_is_dst; /* ModRM.reg is the destination (else r/m is) */
	bool no_access;  /* lea, nop: the memory operand is not read */
	uint8_t mem_size_fixed; /* movzx/movsx and friends: size of the memory source */
};

static struct opinfo one_byte(uint8_t op)
{
	struct opinfo o = {0};

	if (op < 0x40) {
		unsigned lo = op & 7;

		if (lo >= 6 || op == 0x0f)
			return o; /* segment push/pop, prefixes, escape: handled elsewhere */
		o.known = true;
		o.byte_op = (lo & 1) == 0;
		if (lo < 4) {
			o.modrm = true;
			o.reg_is_dst = (lo & 2) != 0 && (op & 0x38) != 0x38; /* cmp writes nothing */
		} else {
			o.imm = lo == 4 ? IMM_8 : IMM_Z;
		}
		return o;
	}
	o.known = true;
	switch (op) {
	case 0x50 ... 0x5f: /* push/pop r64 */
	case 0x90 ... 0x99: /* xchg, nop, cbw/cwde/cdqe, cwd/cdq/cqo */
	case 0x9c: case 0x9d: case 0xc3: case 0xc9: case 0xcc: case 0xf4: case 0xfc: case 0xfd:
		return o;
	case 0x63: /* movsxd r, r/m32 */
		o.modrm = true;
		o.reg_is_dst = true;
		o.mem_size_fixed = 4;
		return o;
	case 0x68: o.imm = IMM_Z; return o;
	case 0x6a: o.imm = IMM_8; return o;
	case 0x69: o.modrm = true; o.reg_is_dst = true; o.imm = IMM_Z; return o;
	case 0x6b: o.modrm = true; o.reg_is_dst = true; o.imm = IMM_8; return o;
	case 0x70 ... 0x7f: o.imm = IMM_REL8; return o;
	case 0x80: o.modrm = true; o.byte_op = true; o.imm = IMM_8; return o;
	case 0x81: o.modrm = true; o.imm = IMM_Z; return o;
	case 0x83: o.modrm = true; o.imm = IMM_8; return o;
	case 0x84: case 0x86: o.modrm = true; o.byte_op = true; return o;
	case 0x85: case 0x87: o.modrm = true; return o;
	case 0x88: o.modrm = true; o.byte_op = true; return o;
	case 0x89: o.modrm = true; return o;
	case 0x8a: o.modrm = true; o.byte_op = true; o.reg_is_dst = true; return o;
	case 0x8b: o.modrm = true; o.reg_is_dst = true; return o;
	case 0x8d: o.modrm = true; o.reg_is_dst = true; o.no_access = true; return o;
	case 0x8f: o.modrm = true; return o;
	case 0xa8: o.imm = IMM_8; return o;
	case 0xa9: o.imm = IMM_Z; return o;
	case 0xb0 ... 0xb7: o.imm = IMM_8; return o;
	case 0xb8 ... 0xbf: o.imm = IMM_V; return o;
	case 0xc0: o.modrm = true; o.byte_op = true; o.imm = IMM_8; return o;
	case 0xc1: o.modrm = true; o.imm = IMM_8; return o;
	case 0xc2: o.imm = IMM_16; return o;
	case 0xc6: o.modrm = true; o.byte_op = true; o.imm = IMM_8; return o;
	case 0xc7: o.modrm = true; o.imm = IMM_Z; return o;
	case 0xd0: case 0xd2: o.modrm = true; o.byte_op = true; return o;
	case 0xd1: case 0xd3: o.modrm = true; return o;
	case 0xe8: case 0xe9: o.imm = IMM_REL32; return o;
	case 0xeb: o.imm = IMM_REL8; return o;
	case 0xf6: o.modrm = true; o.byte_op = true; return o; /* imm8 for /0 /1: see below */
	case 0xf7: o.modrm = true; return o;                   /* immz for /0 /1 */
	case 0xfe: o.modrm = true; o.byte_op = true; return o;
	case 0xff: o.modrm = true; return o;
	default:
		o.known = false;
		return o;
	}
}

static struct opinfo two_byte(uint8_t op)
{
	struct opinfo o = {0};

	o.known = true;
	switch (op) {
	case 0x05: case 0x0b: case 0x31: case 0xa2:
		return o;
	case 0x1e: case 0x1f: /* endbr64 (F3 0F 1E FA), multi-byte nop */
		o.modrm = true;
		o.no_access = true;
		return o;
	case 0x10 ... 0x17: case 0x28 ... 0x2f: case 0x50 ... 0x6f: case 0x74 ... 0x76:
	case 0x7e: case 0x7f: case 0xd0 ... 0xfe:
		o.modrm = true; /* SSE: no integer register involved */
		return o;
	case 0x40 ... 0x4f: case 0xaf: case 0xbc: case 0xbd:
		o.modrm = true;
		o.reg_is_dst = true;
		return o;
	case 0x90 ... 0x9f: /* setcc r/m8 */
		o.modrm = true;
		o.byte_op = true;
		return o;
	case 0xa3: case 0xab: case 0xb3: case 0xbb: case 0xa5: case 0xad: case 0xb0: case 0xb1:
	case 0xc0: case 0xc1:
		o.modrm = true;
		return o;
	case 0x70 ... 0x73: case 0xa4: case 0xac: case 0xba: case 0xc2: case 0xc4 ... 0xc6:
		o.modrm = true;
		o.imm = IMM_8;
		return o;
	case 0x80 ... 0x8f:
		o.imm = IMM_REL32;
		return o;
	case 0xb6: case 0xbe:
		o.modrm = true;
		o.reg_is_dst = true;
		o.mem_size_fixed = 1;
		return o;
	case 0xb7: case 0xbf:
		o.modrm = true;
		o.reg_is_dst = true;
		o.mem_size_fixed = 2;
		return o;
	default:
		o.known = false;
		return o;
	}
}

int tc_x86_decode(const uint8_t *code, size_t len, uint64_t pc, struct tc_x86_insn *out)
{
	struct tc_x86_insn in;
	struct opinfo o;
	size_t p = 0;
	uint8_t rex = 0;
	bool opsize16 = false;
	uint8_t op;

	if (!code || !out)
		return -TC_EINVAL;
	memset(&in, 0, sizeof in);
	in.pc = pc;
	in.base = in.index = in.dst_reg = in.src_reg = TC_X86_NOREG;
	/* legacy prefixes, then at most one REX right before the opcode */
	for (;;) {
		if (p >= len)
			return -TC_ERANGE;
		op = code[p];
		if (op == 0x66) {
			opsize16 = true;
		} else if (op == 0xf2 || op == 0xf3 || op == 0xf0 || op == 0x2e || op == 0x3e ||
			   op == 0x26 || op == 0x36 || op == 0x64 || op == 0x65) {
			/* rep/lock/segment: no effect on length here */
		} else {
			break;
		}
		if (++p > 14)
			return -TC_EINVAL;
	}
	if ((op & 0xf0) == 0x40) {
		rex = op;
		if (++p >= len)
			return -TC_ERANGE;
		op = code[p];
	}
	p++;
	if (op == 0x0f) {
		if (p >= len)
			return -TC_ERANGE;
		op = code[p++];
		o = two_byte(op);
		in.opcode = (uint16_t)(0x0f00 | op);
	} else {
		o = one_byte(op);
		in.opcode = op;
	}
	if (!o.known)
		return -TC_EINVAL;
	in.opsize = o.byte_op ? 1 : (rex & 8) ? 8 : opsize16 ? 2 : 4;

	if (o.modrm) {
		uint8_t m;

		if (p >= len)
			return -TC_ERANGE;
		m = code[p++];
		in.has_modrm = true;
		in.mod = m >> 6;
		in.reg = (uint8_t)(((m >> 3) & 7) | ((rex & 4) ? 8 : 0));
		in.rm = (uint8_t)((m & 7) | ((rex & 1) ? 8 : 0));
		if (in.mod != 3) {
			unsigned rm3 = m & 7;
			int dispsz = in.mod == 1 ? 1 : in.mod == 2 ? 4 : 0;

			in.mem = true;
			if (rm3 == 4) {
				uint8_t sib;
				unsigned b, x;

				if (p >= len)
					return -TC_ERANGE;
				sib = code[p++];
				in.scale = (uint8_t)(1u << (sib >> 6));
				x = ((sib >> 3) & 7) | ((rex & 2) ? 8 : 0);
				b = (sib & 7) | ((rex & 1) ? 8 : 0);
				in.index = x == 4 ? TC_X86_NOREG : (int)x;
				if ((sib & 7) == 5 && in.mod == 0) {
					in.base = TC_X86_NOREG;
					dispsz = 4;
				} else {
					in.base = (int)b;
				}
			} else if (rm3 == 5 && in.mod == 0) {
				in.base = TC_X86_RIP;
				dispsz = 4;
			} else {
				in.base = in.rm;
			}
			if (p + (size_t)dispsz > len)
				return -TC_ERANGE;
			if (dispsz == 1)
				in.disp = (int8_t)code[p];
			else if (dispsz == 4)
				in.disp = (int32_t)tc_get_u32(code, p);
			p += (size_t)dispsz;
			in.mem_size = o.no_access ? 0 : o.mem_size_fixed ? o.mem_size_fixed : in.opsize;
		}
		/* F6/F7 /0 and /1 (test) carry an immediate */
		if ((op == 0xf6 || op == 0xf7) && in.opcode < 0x100 && (in.reg & 7) < 2)
			o.imm = op == 0xf6 ? IMM_8 : IMM_Z;
		if (o.reg_is_dst) {
			in.dst_reg = in.reg;
			if (in.mod == 3)
				in.src_reg = in.rm;
		} else {
			in.src_reg = in.reg;
			if (in.mod == 3)
				in.dst_reg = in.rm;
			else
				in.mem_is_dst = !o.no_access;
		}
	} else if (in.opcode >= 0xb0 && in.opcode <= 0xbf) {
		in.dst_reg = (op & 7) | ((rex & 1) ? 8 : 0);
	}

	int immsz = 0;

	switch (o.imm) {
	case IMM_8: case IMM_REL8: immsz = 1; break;
	case IMM_16: immsz = 2; break;
	case IMM_Z: immsz = opsize16 ? 2 : 4; break;
	case IMM_V: immsz = (rex & 8) ? 8 : opsize16 ? 2 : 4; break;
	case IMM_REL32: immsz = 4; break;
	default: break;
	}
	if (p + (size_t)immsz > len)
		return -TC_ERANGE;
	if (o.imm == IMM_REL8 || o.imm == IMM_REL32) {
		int64_t rel = immsz == 1 ? (int8_t)code[p] : (int32_t)tc_get_u32(code, p);

		in.target = pc + p + (size_t)immsz + (uint64_t)rel;
		if (in.opcode == 0xe8)
			in.flow = TC_X86_CALL;
		else if (in.opcode == 0xe9 || in.opcode == 0xeb)
			in.flow = TC_X86_JMP;
		else
			in.flow = TC_X86_JCC;
	}
	p += (size_t)immsz;
	if (in.opcode == 0xc3 || in.opcode == 0xc2)
		in.flow = TC_X86_RET;
	if (in.opcode == 0xff && ((in.reg & 7) == 2 || (in.reg & 7) == 4))
		in.flow = TC_X86_INDIRECT;
	/* The architecture's limit: a longer instruction (prefixes before a long encoding)
	 * faults on the CPU, so these bytes are not code this decoder should describe. */
	if (p > 15)
		return -TC_EINVAL;
	in.len = (uint8_t)p;
	if (in.base == TC_X86_RIP)
		in.mem_target = pc + p + (uint64_t)in.disp;
	*out = in;
	return 0;
}

/* Opcodes that combine a register with its memory operand into that register
 * (op reg, r/m): the register then derives from the global. */
static bool loads_into_reg(const struct tc_x86_insn *in)
{
	return in->mem && in->mem_size && !in->mem_is_dst && in->dst_reg >= 0;
}

int tc_x86_rip_refs(const uint8_t *code, size_t len, uint64_t pc, size_t max_insns,
		    struct tc_x86_ref *refs, size_t max, size_t *n)
{
	/* which ref index each register holds (a pointer loaded from a global), -1 none */
	int holds[16];
	size_t off = 0, count = 0, decoded = 0;

	if (!code || !n)
		return -TC_EINVAL;
	*n = 0;
	for (int r = 0; r < 16; r++)
		holds[r] = -1;
	while (off < len && decoded < max_insns) {
		struct tc_x86_insn in;

		if (tc_x86_decode(code + off, len - off, pc + off, &in) != 0)
			break;
		decoded++;
		/* a register used as a memory base: whatever global it came from is a pointer */
		if (in.mem && in.base >= 0 && holds[in.base] >= 0)
			refs[holds[in.base]].dereferenced = true;
		if (in.mem && in.index >= 0 && holds[in.index] >= 0)
			refs[holds[in.index]].dereferenced = true;
		if (in.base == TC_X86_RIP && count < max) {
			struct tc_x86_ref *r = &refs[count];

			memset(r, 0, sizeof *r);
			r->pc = in.pc;
			r->target = in.mem_target;
			r->size = in.mem_size;
			r->load_to_reg = loads_into_reg(&in);
			if (r->load_to_reg && in.opsize == 8)
				holds[in.dst_reg] = (int)count;
			else if (in.dst_reg >= 0)
				holds[in.dst_reg] = -1;
			count++;
		} else if (in.dst_reg >= 0) {
			if (in.opcode == 0x89 || in.opcode == 0x8b) {
				/* mov r, r copies; a load from memory replaces */
				holds[in.dst_reg] = in.mod == 3 && in.src_reg >= 0 && in.opsize == 8 ?
						    holds[in.src_reg] : -1;
			} else if (in.opcode == 0x8d && in.base >= 0 && in.base == in.dst_reg) {
				/* lea r, [r + disp]: still derived from the same pointer */
			} else if (in.opcode == 0x8d && in.base >= 0 && holds[in.base] >= 0 &&
				   in.index < 0) {
				holds[in.dst_reg] = holds[in.base];
			} else if (in.opcode == 0x8d || in.opcode == 0x0fb6 || in.opcode == 0x0fb7 ||
				   in.opcode == 0x63 || in.opcode == 0x0fbe || in.opcode == 0x0fbf ||
				   (in.opcode >= 0xb0 && in.opcode <= 0xbf)) {
				holds[in.dst_reg] = -1;
			} else if (in.mem && in.opsize == 8 && !in.mem_is_dst) {
				/* add r, [mem]: r keeps what it held */
			} else if (in.opcode < 0x40 && (in.opcode & 0x38) == 0x30 && in.mod == 3 &&
				   in.src_reg == in.dst_reg) {
				holds[in.dst_reg] = -1; /* xor r, r */
			} else if (in.opsize != 8) {
				holds[in.dst_reg] = -1; /* 32-bit writes zero-extend: a new value */
			}
			/* other 64-bit arithmetic (add/and/shl r, imm) keeps the derivation */
		}
		if (in.opcode == 0xe8) /* a call clobbers the caller-saved registers */
			for (int r = 0; r < 16; r++)
				if (r <= 2 || r == 6 || r == 7 || (r >= 8 && r <= 11))
					holds[r] = -1;
		off += in.len;
		if (in.flow == TC_X86_JMP && in.target >= pc && in.target - pc < len &&
		    in.target - pc > off - in.len) {
			/* a forward jump inside the code we hold (a loop entered at its test) */
			off = (size_t)(in.target - pc);
			continue;
		}
		if (in.flow == TC_X86_RET || in.flow == TC_X86_JMP || in.flow == TC_X86_INDIRECT)
			break;
	}
	if (decoded == 0)
		return -TC_EINVAL;
	*n = count;
	return 0;
}
