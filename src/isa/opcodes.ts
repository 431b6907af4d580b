// Instruction encoding constants, named as in include/uapi/linux/bpf_common.h and
// include/uapi/linux/bpf.h (RFC 9669 gives the same values).

/** Instruction classes: opcode & 0x07 (bpf_common.h). */
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_JMP32 = 0x06;
export const BPF_ALU64 = 0x07;

/** Load/store size: opcode & 0x18 (bpf_common.h). */
export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;
export const BPF_DW = 0x18;

/** Load/store mode: opcode & 0xe0 (bpf_common.h, bpf.h). */
export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IND = 0x40;
export const BPF_MEM = 0x60;
export const BPF_MEMSX = 0x80;
export const BPF_ATOMIC = 0xc0;

/** Source operand: opcode & 0x08 (bpf_common.h). */
export const BPF_K = 0x00;
export const BPF_X = 0x08;
/** For BPF_END: convert to little endian (BPF_K) or big endian (BPF_X) (bpf.h). */
export const BPF_TO_LE = 0x00;
export const BPF_TO_BE = 0x08;

/** ALU operations: opcode & 0xf0 (bpf_common.h, bpf.h). */
export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
export const BPF_DIV = 0x30;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
export const BPF_MOD = 0x90;
export const BPF_XOR = 0xa0;
export const BPF_MOV = 0xb0;
export const BPF_ARSH = 0xc0;
export const BPF_END = 0xd0;

/** Jump operations: opcode & 0xf0 (bpf_common.h, bpf.h). */
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
export const BPF_JNE = 0x50;
export const BPF_JSGT = 0x60;
export const BPF_JSGE = 0x70;
export const BPF_CALL = 0x80;
export const BPF_EXIT = 0x90;
export const BPF_JLT = 0xa0;
export const BPF_JLE = 0xb0;
export const BPF_JSLT = 0xc0;
export const BPF_JSLE = 0xd0;
/** Conditional pseudo jumps such as may_goto (bpf.h, Linux 6.9). */
export const BPF_JCOND = 0xe0;

/** off of BPF_ALU64 | BPF_MOV | BPF_X that makes it an address-space cast (bpf.h, Linux 6.9). */
export const BPF_ADDR_SPACE_CAST = 1;

/** Atomic operations, in the imm field of BPF_ATOMIC instructions (bpf.h). */
export const BPF_FETCH = 0x01;
export const BPF_XCHG = 0xe0 | BPF_FETCH;
export const BPF_CMPXCHG = 0xf0 | BPF_FETCH;
/** Load-acquire / store-release (bpf.h, Linux 6.15). */
export const BPF_LOAD_ACQ = 0x100;
export const BPF_STORE_REL = 0x110;

/** src_reg values of BPF_LD | BPF_IMM | BPF_DW (bpf.h). */
export const BPF_PSEUDO_MAP_FD = 1;
export const BPF_PSEUDO_MAP_VALUE = 2;
export const BPF_PSEUDO_BTF_ID = 3;
export const BPF_PSEUDO_FUNC = 4;
export const BPF_PSEUDO_MAP_IDX = 5;
export const BPF_PSEUDO_MAP_IDX_VALUE = 6;

/** src_reg values of BPF_JMP | BPF_CALL (bpf.h). */
export const BPF_PSEUDO_CALL = 1;
export const BPF_PSEUDO_KFUNC_CALL = 2;

/** Bytes per instruction slot. */
export const BPF_INSN_SIZE = 8;
/** Registers r0..r10. */
export const MAX_BPF_REG = 11;
/** r10, the read-only frame pointer. */
export const BPF_REG_FP = 10;
/** Bytes of stack per frame the verifier allows (kernel/bpf/verifier.c MAX_BPF_STACK). */
export const MAX_BPF_STACK = 512;
/** Frames the kernel allows: the main program plus 7 nested bpf-to-bpf calls (include/linux/bpf_verifier.h MAX_CALL_FRAMES). */
export const MAX_CALL_FRAMES = 8;
