import { IsaError } from './errors.js';
import {
  BPF_ABS, BPF_ADD, BPF_ALU, BPF_ALU64, BPF_AND, BPF_ARSH, BPF_ATOMIC, BPF_CALL, BPF_CMPXCHG,
  BPF_DIV, BPF_DW, BPF_END, BPF_EXIT, BPF_FETCH, BPF_IMM, BPF_IND, BPF_INSN_SIZE, BPF_JA, BPF_JMP,
  BPF_JMP32, BPF_LD, BPF_LDX, BPF_LOAD_ACQ, BPF_LSH, BPF_MEM, BPF_MEMSX, BPF_MOD, BPF_MOV, BPF_MUL,
  BPF_NEG, BPF_OR, BPF_PSEUDO_MAP_IDX_VALUE, BPF_RSH, BPF_ST, BPF_STORE_REL, BPF_SUB, BPF_W, BPF_X,
  BPF_XCHG, BPF_XOR, BPF_JCOND, BPF_ADDR_SPACE_CAST, MAX_BPF_REG,
} from './opcodes.js';

/** The five fields of one 8-byte slot, as stored (off and imm sign-extended). */
export interface Slot {
  opcode: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

/** One instruction: one slot, or two for ld_imm64. */
export interface Insn extends Slot {
  /** Slot index of the first slot. */
  index: number;
  /** Byte offset of the first slot. */
  offset: number;
  /** opcode & 0x07 */
  cls: number;
  /** 1, or 2 for ld_imm64. */
  slots: 1 | 2;
  /** ld_imm64: the second slot, whose imm holds the upper 32 bits. */
  next?: Slot;
  /** ld_imm64: the 64-bit constant (second imm << 32 | first imm), unsigned. */
  imm64?: bigint;
}

export interface DecodedProgram {
  /** Every instruction, the undecodable ones included (as single-slot instructions). */
  insns: Insn[];
  /** One entry per undecodable instruction, plus trailing bytes; empty when the code is well formed. */
  errors: IsaError[];
}

export const BPF_LD_IMM64 = BPF_LD | BPF_IMM | BPF_DW;

/**
 * Read the slot at `offset`. In a big-endian object the register byte carries dst in its high
 * nibble (LLVM's BPF big-endian encoding, which the kernel's struct bpf_insn bitfields match).
 */
export function readSlot(view: DataView, offset: number, littleEndian: boolean): Slot {
  const regs = view.getUint8(offset + 1);
  return {
    opcode: view.getUint8(offset),
    dst: littleEndian ? regs & 0xf : regs >> 4,
    src: littleEndian ? regs >> 4 : regs & 0xf,
    off: view.getInt16(offset + 2, littleEndian),
    imm: view.getInt32(offset + 4, littleEndian),
  };
}

export function ldImm64Value(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

const ALU_OPS = new Set([BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH, BPF_RSH, BPF_NEG, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH, BPF_END]);
const ATOMIC_ALU = new Set([BPF_ADD, BPF_OR, BPF_AND, BPF_XOR]);

type Problem = { code: 'unknown-opcode' | 'bad-register' | 'bad-field'; message: string };

const bad = (message: string): Problem => ({ code: 'bad-field', message });
const unknown = (opcode: number): Problem => ({ code: 'unknown-opcode', message: `unknown opcode 0x${opcode.toString(16).padStart(2, '0')}` });

function regs(s: Slot, useDst: boolean, useSrc: boolean): Problem | undefined {
  if (useDst && s.dst >= MAX_BPF_REG) return { code: 'bad-register', message: `dst register r${s.dst} does not exist` };
  if (useSrc && s.src >= MAX_BPF_REG) return { code: 'bad-register', message: `src register r${s.src} does not exist` };
  return undefined;
}

function checkAlu(s: Slot, alu64: boolean): Problem | undefined {
  const op = s.opcode & 0xf0;
  const x = (s.opcode & BPF_X) === BPF_X;
  if (!ALU_OPS.has(op)) return unknown(s.opcode);
  if (op === BPF_NEG) return x ? unknown(s.opcode) : regs(s, true, false);
  if (op === BPF_END) {
    if (alu64 && x) return unknown(s.opcode);
    if (s.imm !== 16 && s.imm !== 32 && s.imm !== 64) return bad(`byte swap width ${s.imm} is not 16, 32 or 64`);
    return regs(s, true, false);
  }
  if (op === BPF_DIV || op === BPF_MOD) {
    if (s.off !== 0 && s.off !== 1) return bad(`offset ${s.off} of a division is neither 0 (unsigned) nor 1 (signed)`);
  } else if (op === BPF_MOV && x) {
    const allowed = alu64 ? [0, 8, 16, 32, BPF_ADDR_SPACE_CAST] : [0, 8, 16];
    if (!allowed.includes(s.off)) return bad(`offset ${s.off} of a register move is not a sign-extension width (${allowed.join(', ')})`);
  } else if (s.off !== 0) {
    return bad(`offset ${s.off} of an ALU instruction is not 0`);
  }
  return regs(s, true, x);
}

function checkJmp(s: Slot, jmp32: boolean): Problem | undefined {
  const op = s.opcode & 0xf0;
  const x = (s.opcode & BPF_X) === BPF_X;
  switch (op) {
    case BPF_JA:
      return x ? unknown(s.opcode) : undefined;
    case BPF_CALL:
      if (jmp32) return unknown(s.opcode);
      return x ? regs(s, true, false) : undefined;
    case BPF_EXIT:
      return jmp32 || x ? unknown(s.opcode) : undefined;
    case BPF_JCOND:
      return jmp32 || x ? unknown(s.opcode) : undefined;
    case 0xf0:
      return unknown(s.opcode);
    default:
      return regs(s, true, x);
  }
}

function checkAtomic(s: Slot): Problem | undefined {
  const size = s.opcode & 0x18;
  const imm = s.imm;
  if (imm === BPF_LOAD_ACQ || imm === BPF_STORE_REL) return regs(s, true, true);
  if (size !== BPF_W && size !== BPF_DW) return bad(`atomic operation 0x${(imm >>> 0).toString(16)} needs a 32- or 64-bit access`);
  const valid = (ATOMIC_ALU.has(imm & ~BPF_FETCH) && (imm & ~0xf1) === 0) || imm === BPF_XCHG || imm === BPF_CMPXCHG;
  if (!valid) return bad(`unknown atomic operation 0x${(imm >>> 0).toString(16)}`);
  return regs(s, true, true);
}

/** Why a single slot (other than ld_imm64, handled by the caller) is not a valid instruction. */
function checkSlot(s: Slot): Problem | undefined {
  const cls = s.opcode & 0x07;
  const size = s.opcode & 0x18;
  const mode = s.opcode & 0xe0;
  switch (cls) {
    case BPF_ALU:
    case BPF_ALU64:
      return checkAlu(s, cls === BPF_ALU64);
    case BPF_JMP:
    case BPF_JMP32:
      return checkJmp(s, cls === BPF_JMP32);
    case BPF_LD:
      // Legacy packet loads: the kernel accepts W/H/B only.
      if ((mode === BPF_ABS || mode === BPF_IND) && size !== BPF_DW) return regs(s, false, mode === BPF_IND);
      return unknown(s.opcode);
    case BPF_LDX:
      if (mode === BPF_MEM || (mode === BPF_MEMSX && size !== BPF_DW)) return regs(s, true, true);
      return unknown(s.opcode);
    case BPF_ST:
      return mode === BPF_MEM ? regs(s, true, false) : unknown(s.opcode);
    default: // BPF_STX
      if (mode === BPF_MEM) return regs(s, true, true);
      if (mode === BPF_ATOMIC) return checkAtomic(s);
      return unknown(s.opcode);
  }
}

/**
 * Decode a BPF program (a code section's bytes) in the object's byte order. Never throws on
 * malformed code: each bad instruction is kept as a one-slot Insn and reported in `errors`.
 */
export function decodeProgram(bytes: Uint8Array, littleEndian: boolean, section?: string): DecodedProgram {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = Math.floor(bytes.length / BPF_INSN_SIZE);
  const insns: Insn[] = [];
  const errors: IsaError[] = [];
  for (let index = 0; index < count; ) {
    const offset = index * BPF_INSN_SIZE;
    const s = readSlot(view, offset, littleEndian);
    const insn: Insn = { ...s, index, offset, cls: s.opcode & 0x07, slots: 1 };
    if (s.opcode === BPF_LD_IMM64) {
      if (index + 1 >= count) {
        errors.push(new IsaError('truncated-ld-imm64', 'ld_imm64 has no second slot', index, offset, section));
      } else {
        const next = readSlot(view, offset + BPF_INSN_SIZE, littleEndian);
        const problem =
          regs(s, true, false) ??
          (s.src > BPF_PSEUDO_MAP_IDX_VALUE ? bad(`ld_imm64 pseudo source ${s.src} is unknown`) : undefined) ??
          (s.off !== 0 ? bad(`ld_imm64 offset ${s.off} is not 0`) : undefined);
        if (next.opcode !== 0 || next.dst !== 0 || next.src !== 0 || next.off !== 0) {
          errors.push(new IsaError('bad-ld-imm64-second-slot', 'the second slot of ld_imm64 must have opcode, registers and offset 0', index + 1, offset + BPF_INSN_SIZE, section));
        } else if (problem) {
          errors.push(new IsaError(problem.code, problem.message, index, offset, section));
        }
        insn.slots = 2;
        insn.next = next;
        insn.imm64 = ldImm64Value(s.imm, next.imm);
      }
    } else {
      const problem = checkSlot(s);
      if (problem) errors.push(new IsaError(problem.code, problem.message, index, offset, section));
    }
    insns.push(insn);
    index += insn.slots;
  }
  if (bytes.length % BPF_INSN_SIZE !== 0) {
    errors.push(new IsaError('trailing-bytes', `${bytes.length % BPF_INSN_SIZE} bytes after the last whole instruction`, count, count * BPF_INSN_SIZE, section));
  }
  return { insns, errors };
}
