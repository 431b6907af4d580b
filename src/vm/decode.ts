// Pre-decoding: check every instruction once, the way the kernel refuses malformed encodings, and turn
// the program into a flat Int32Array the interpreter can run without re-parsing bytes.
import {
  BPF_ABS,
  BPF_ALU,
  BPF_ALU64,
  BPF_ATOMIC,
  BPF_CALL,
  BPF_CMPXCHG,
  BPF_DW,
  BPF_END,
  BPF_EXIT,
  BPF_FETCH,
  BPF_IND,
  BPF_INSN_SIZE,
  BPF_JA,
  BPF_JMP,
  BPF_JMP32,
  BPF_LD,
  BPF_LDX,
  BPF_LOAD_ACQ,
  BPF_MEM,
  BPF_MEMSX,
  BPF_MOV,
  BPF_NEG,
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_KFUNC_CALL,
  BPF_REG_FP,
  BPF_ST,
  BPF_STORE_REL,
  BPF_STX,
  BPF_W,
  BPF_X,
  BPF_XCHG,
} from '../isa/opcodes.js';
import { VmFault } from './errors.js';
import { formatAt, readInsn, type RawInsn } from './insn.js';
import { CODE_REGION } from './memory.js';

/** Int32 words per decoded instruction: [op | dst << 16 | src << 20, off or jump target, imm, imm high]. */
export const STRIDE = 4;

// Internal opcodes beyond the raw byte, for encodings that the raw opcode alone does not tell apart.
/** Signed div/mod (offset 1): raw opcode + SIGNED. */
export const SIGNED = 0x100;
/** movsx (BPF_MOV | BPF_X with offset 8/16/32): raw opcode + SIGNED. */
export const OP_CALL_LOCAL = 0x185;
export const OP_CALL_KFUNC = 0x285;
/** Second slot of a 64-bit immediate load: never executed (jumps into it are refused). */
export const OP_LDDW_TAIL = 0x300;
/** Sentinel after the last instruction: running into it is a fault. */
export const OP_FALL_THROUGH = 0x301;

/** A pseudo 64-bit immediate load (src_reg != 0) handed to the caller to resolve. */
export interface LdImm64Request {
  pc: number;
  src: number;
  imm: number;
  /** imm of the second slot. */
  nextImm: number;
}

export interface DecodeOptions {
  /** Value for ld_imm64 with src_reg 1-3, 5, 6 (maps, BTF ids); BPF_PSEUDO_FUNC is resolved here. */
  resolveLdImm64?: (req: LdImm64Request) => bigint;
}

export interface Program {
  /** The instructions as given. */
  readonly bytes: Uint8Array;
  /** Number of 8-byte slots. */
  readonly count: number;
  /** STRIDE words per slot, plus one sentinel slot. */
  readonly code: Int32Array;
}

function refuse(bytes: Uint8Array, pc: number, insn: RawInsn | undefined, why: string): VmFault {
  return new VmFault('invalid-insn', pc, insn, formatAt(bytes, pc), why);
}

export function decodeProgram(bytes: Uint8Array, options: DecodeOptions = {}): Program {
  if (bytes.length % BPF_INSN_SIZE !== 0) {
    throw new VmFault(
      'invalid-insn',
      Math.floor(bytes.length / BPF_INSN_SIZE),
      undefined,
      '<truncated>',
      `program length ${bytes.length} is not a multiple of ${BPF_INSN_SIZE}`,
    );
  }
  const count = bytes.length / BPF_INSN_SIZE;
  if (count === 0) throw new VmFault('invalid-insn', 0, undefined, '<empty>', 'empty program');
  const code = new Int32Array((count + 1) * STRIDE);
  const isTail = new Uint8Array(count);
  const jumps: number[] = [];

  for (let pc = 0; pc < count; pc++) {
    const insn = readInsn(bytes, pc);
    const { code: opc, dst, src, off, imm } = insn;
    const bad = (why: string): VmFault => refuse(bytes, pc, insn, why);
    if (dst > BPF_REG_FP || src > BPF_REG_FP) throw bad('register number out of range');
    const cls = opc & 0x07;
    const op = opc & 0xf0;
    const x = (opc & BPF_X) !== 0;
    let internal = opc;
    let word1 = off;
    let word3 = 0;
    switch (cls) {
      case BPF_ALU:
      case BPF_ALU64: {
        if (dst === BPF_REG_FP) throw bad('frame pointer is read only');
        if (op === BPF_END) {
          if (cls === BPF_ALU64 && x) throw bad('unknown opcode');
          if (src !== 0 || off !== 0 || (imm !== 16 && imm !== 32 && imm !== 64)) throw bad('bad byte swap encoding');
          break;
        }
        if (op === BPF_NEG) {
          if (x || src !== 0 || off !== 0 || imm !== 0) throw bad('reserved fields of neg are set');
          break;
        }
        if (op > 0xc0) throw bad('unknown opcode');
        if (x ? imm !== 0 : src !== 0) throw bad('reserved fields are set');
        if (op === 0x30 || op === 0x90) {
          if (off === 1) internal += SIGNED;
          else if (off !== 0) throw bad('div/mod offset must be 0 or 1');
        } else if (op === BPF_MOV && off !== 0) {
          const ok = x && (off === 8 || off === 16 || (off === 32 && cls === BPF_ALU64));
          if (!ok) throw bad('bad movsx offset');
          internal += SIGNED;
        } else if (off !== 0) {
          throw bad('offset of an ALU instruction must be 0');
        }
        break;
      }
      case BPF_JMP:
      case BPF_JMP32: {
        if (op === BPF_JA) {
          if (x || src !== 0 || dst !== 0) throw bad('reserved fields of ja are set');
          const rel = cls === BPF_JMP32 ? imm : off;
          if (cls === BPF_JMP ? imm !== 0 : off !== 0) throw bad('reserved fields of ja are set');
          internal = 0x05;
          word1 = pc + 1 + rel;
          jumps.push(pc);
          break;
        }
        if (op === BPF_CALL) {
          if (cls === BPF_JMP32) throw bad('unknown opcode');
          if (x) {
            if (src !== 0 || off !== 0 || imm !== 0) throw bad('reserved fields of callx are set');
          } else {
            if (dst !== 0 || off !== 0) throw bad('reserved fields of call are set');
            if (src === BPF_PSEUDO_CALL) {
              internal = OP_CALL_LOCAL;
              word1 = pc + 1 + imm;
              jumps.push(pc);
            } else if (src === BPF_PSEUDO_KFUNC_CALL) {
              internal = OP_CALL_KFUNC;
            } else if (src !== 0) {
              throw bad('unknown call type');
            }
          }
          break;
        }
        if (op === BPF_EXIT) {
          if (cls === BPF_JMP32 || x || src !== 0 || dst !== 0 || off !== 0 || imm !== 0) throw bad('bad exit encoding');
          break;
        }
        if (op > 0xd0) throw bad('unknown opcode');
        if (x && imm !== 0) throw bad('reserved fields are set');
        if (!x && src !== 0) throw bad('reserved fields are set');
        word1 = pc + 1 + off;
        jumps.push(pc);
        break;
      }
      case BPF_LD: {
        const mode = opc & 0xe0;
        if (opc === 0x18) {
          if (pc + 1 >= count) throw bad('64-bit immediate load is missing its second slot');
          const next = readInsn(bytes, pc + 1);
          if (next.code !== 0 || next.dst !== 0 || next.src !== 0 || next.off !== 0) {
            throw bad('bad second slot of a 64-bit immediate load');
          }
          if (dst === BPF_REG_FP) throw bad('frame pointer is read only');
          if (off !== 0) throw bad('reserved fields are set');
          let lo = imm;
          let hi = next.imm;
          if (src === BPF_PSEUDO_FUNC) {
            const target = pc + 1 + imm;
            if (target < 0 || target >= count) throw bad('function address outside the program');
            lo = target * BPF_INSN_SIZE;
            hi = CODE_REGION;
            jumps.push(-(target + 1));
          } else if (src !== 0) {
            const resolve = options.resolveLdImm64;
            if (!resolve) throw bad(`64-bit immediate load with src ${src} needs a resolver`);
            const v = BigInt.asUintN(64, resolve({ pc, src, imm, nextImm: next.imm }));
            lo = Number(v & 0xffffffffn) | 0;
            hi = Number(v >> 32n) | 0;
          }
          word3 = hi;
          code[(pc + 1) * STRIDE] = OP_LDDW_TAIL;
          isTail[pc + 1] = 1;
          code[pc * STRIDE] = opc | (dst << 16) | (src << 20);
          code[pc * STRIDE + 1] = 0;
          code[pc * STRIDE + 2] = lo;
          code[pc * STRIDE + 3] = word3;
          pc++;
          continue;
        }
        if (mode === BPF_ABS || mode === BPF_IND) {
          if ((opc & 0x18) === BPF_DW) throw bad('unknown opcode');
          if (dst !== 0 || off !== 0 || (mode === BPF_ABS && src !== 0)) throw bad('reserved fields are set');
          break;
        }
        throw bad('unknown opcode');
      }
      case BPF_LDX: {
        const mode = opc & 0xe0;
        if (mode === BPF_MEMSX && (opc & 0x18) === BPF_DW) throw bad('unknown opcode');
        if (mode !== BPF_MEM && mode !== BPF_MEMSX) throw bad('unknown opcode');
        if (imm !== 0) throw bad('reserved fields are set');
        if (dst === BPF_REG_FP) throw bad('frame pointer is read only');
        break;
      }
      case BPF_ST: {
        if ((opc & 0xe0) !== BPF_MEM) throw bad('unknown opcode');
        if (src !== 0) throw bad('reserved fields are set');
        break;
      }
      case BPF_STX: {
        const mode = opc & 0xe0;
        if (mode === BPF_MEM) {
          if (imm !== 0) throw bad('reserved fields are set');
          break;
        }
        if (mode !== BPF_ATOMIC) throw bad('unknown opcode');
        const size = opc & 0x18;
        if (imm === BPF_LOAD_ACQ) {
          if (dst === BPF_REG_FP) throw bad('frame pointer is read only');
          break;
        }
        if (imm === BPF_STORE_REL) break;
        if (size !== BPF_W && size !== BPF_DW) throw bad('atomic operations need a 32 or 64-bit size');
        const aop = imm & ~BPF_FETCH;
        const known = aop === 0x00 || aop === 0x40 || aop === 0x50 || aop === 0xa0 || imm === BPF_XCHG || imm === BPF_CMPXCHG;
        if (!known) throw bad('unknown atomic operation');
        if ((imm & BPF_FETCH) && imm !== BPF_CMPXCHG && src === BPF_REG_FP) throw bad('frame pointer is read only');
        break;
      }
    }
    code[pc * STRIDE] = internal | (dst << 16) | (src << 20);
    code[pc * STRIDE + 1] = word1;
    code[pc * STRIDE + 2] = imm;
    code[pc * STRIDE + 3] = word3;
  }
  code[count * STRIDE] = OP_FALL_THROUGH;

  for (const from of jumps) {
    // Negative entries are function addresses taken by ld_imm64 (target encoded as -(target + 1)).
    const target = from < 0 ? -from - 1 : code[from * STRIDE + 1]!;
    const pc = from < 0 ? target : from;
    if (target < 0 || target >= count) throw refuse(bytes, pc, readInsn(bytes, pc), `jump target ${target} outside the program`);
    if (isTail[target]) throw refuse(bytes, pc, readInsn(bytes, pc), `jump into the middle of a 64-bit immediate load`);
  }
  return { bytes, count, code };
}
