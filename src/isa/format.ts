// Instruction text in LLVM's BPF assembly syntax, as llvm-objdump-19 prints it. The set of
// encodings that get text (rather than `<unknown>`) is LLVM 19's, which is looser than the ISA in
// places (it ignores fields its encodings leave unspecified, accepts r11) and stricter in others
// (without the alu32 feature, which llvm-objdump does not enable, 32-bit atomics other than add do
// not decode); the decoder in decode.ts, not this file, says what is valid BPF.
import { BPF_LD_IMM64, ldImm64Value, type Insn, type Slot } from './decode.js';
import {
  BPF_ABS, BPF_ADDR_SPACE_CAST, BPF_ALU, BPF_ALU64, BPF_ATOMIC, BPF_B, BPF_CALL, BPF_CMPXCHG,
  BPF_DIV, BPF_DW, BPF_END, BPF_EXIT, BPF_FETCH, BPF_H, BPF_IND, BPF_JA, BPF_JCOND, BPF_JMP,
  BPF_JMP32, BPF_LD, BPF_LDX, BPF_MEM, BPF_MEMSX, BPF_MOD, BPF_MOV, BPF_NEG, BPF_ST, BPF_W, BPF_X,
  BPF_XCHG,
} from './opcodes.js';

/** LLVM knows r0..r11 (r11 is its internal stack-adjust register). */
const LLVM_MAX_REG = 11;

const ALU_SYMBOL: Record<number, string> = {
  0x00: '+=', 0x10: '-=', 0x20: '*=', 0x30: '/=', 0x40: '|=', 0x50: '&=', 0x60: '<<=', 0x70: '>>=',
  0x90: '%=', 0xa0: '^=', 0xc0: 's>>=',
};

const JMP_SYMBOL: Record<number, string> = {
  0x10: '==', 0x20: '>', 0x30: '>=', 0x40: '&', 0x50: '!=', 0x60: 's>', 0x70: 's>=', 0xa0: '<',
  0xb0: '<=', 0xc0: 's<', 0xd0: 's<=',
};

const ATOMIC_OP: Record<number, [string, string]> = {
  0x00: ['+', 'add'], 0x40: ['|', 'or'], 0x50: ['&', 'and'], 0xa0: ['^', 'xor'],
};

const SIZE_NAME: Record<number, string> = { [BPF_W]: '32', [BPF_H]: '16', [BPF_B]: '8', [BPF_DW]: '64' };

/** LLVM's MCInstPrinter::formatHex for a signed value: `0x1f`, `-0x1f`. */
export function hex(value: number | bigint): string {
  return value < 0 ? `-0x${(-BigInt(value)).toString(16)}` : `0x${value.toString(16)}`;
}

function toInt64(value: bigint): bigint {
  return BigInt.asIntN(64, value);
}

function mem(base: number, off: number): string {
  return `r${base} ${off >= 0 ? '+' : '-'} ${hex(Math.abs(off))}`;
}

function branch(value: number): string {
  return `${value >= 0 ? '+' : ''}${hex(value)}`;
}

function aluText(s: Slot, alu64: boolean): string | undefined {
  const op = s.opcode & 0xf0;
  const x = (s.opcode & BPF_X) !== 0;
  const r = alu64 ? 'r' : 'w';
  if (s.dst > LLVM_MAX_REG) return undefined;
  const d = `${r}${s.dst}`;
  if (op === BPF_NEG) return x ? undefined : `${d} = -${d}`;
  if (op === BPF_END) {
    if (s.imm !== 16 && s.imm !== 32 && s.imm !== 64) return undefined;
    if (alu64) return x ? undefined : `r${s.dst} = bswap${s.imm} r${s.dst}`;
    return `r${s.dst} = ${x ? 'be' : 'le'}${s.imm} r${s.dst}`;
  }
  if (x && s.src > LLVM_MAX_REG) return undefined;
  const operand = x ? `${r}${s.src}` : hex(s.imm);
  if (op === BPF_MOV) {
    if (s.off === 0) return `${d} = ${operand}`;
    if (!x) return undefined;
    if (s.off === 8 || s.off === 16 || (alu64 && s.off === 32)) return `${d} = (s${s.off})${operand}`;
    if (alu64 && s.off === BPF_ADDR_SPACE_CAST) {
      return `${d} = addr_space_cast(${operand}, ${hex(s.imm >>> 16)}, ${hex(s.imm & 0xffff)})`;
    }
    return undefined;
  }
  const symbol = ALU_SYMBOL[op];
  if (symbol === undefined) return undefined;
  if (s.off === 0) return `${d} ${symbol} ${operand}`;
  if (s.off === 1 && (op === BPF_DIV || op === BPF_MOD)) return `${d} s${symbol} ${operand}`;
  return undefined;
}

function jmpText(s: Slot, jmp32: boolean): string | undefined {
  const op = s.opcode & 0xf0;
  const x = (s.opcode & BPF_X) !== 0;
  switch (op) {
    case BPF_JA:
      if (x) return undefined;
      return jmp32 ? `gotol ${branch(s.imm)}` : `goto ${branch(s.off)}`;
    case BPF_CALL:
      if (jmp32) return undefined;
      if (!x) return `call ${hex(s.imm)}`;
      return s.dst > LLVM_MAX_REG ? undefined : `callx r${s.dst}`;
    case BPF_EXIT:
      return !jmp32 && !x && s.imm === 0 ? 'exit' : undefined;
    case BPF_JCOND:
      return !jmp32 && !x ? `may_goto ${branch(s.off)}` : undefined;
  }
  const symbol = JMP_SYMBOL[op];
  if (symbol === undefined || s.dst > LLVM_MAX_REG || (x && s.src > LLVM_MAX_REG)) return undefined;
  const r = jmp32 ? 'w' : 'r';
  return `if ${r}${s.dst} ${symbol} ${x ? `${r}${s.src}` : hex(s.imm)} goto ${branch(s.off)}`;
}

function atomicText(s: Slot, size: number): string | undefined {
  const hi = s.imm & 0xf0;
  const fetch = (s.imm & 0x0f) === BPF_FETCH;
  const addr = mem(s.dst, s.off);
  if (size === BPF_W) return hi === 0 ? `lock *(u32 *)(${addr}) += r${s.src}` : undefined;
  if (size !== BPF_DW) return undefined;
  const alu = ATOMIC_OP[hi];
  if (alu) {
    return fetch
      ? `r${s.src} = atomic_fetch_${alu[1]}((u64 *)(${addr}), r${s.src})`
      : `lock *(u64 *)(${addr}) ${alu[0]}= r${s.src}`;
  }
  if ((s.imm & 0xff) === BPF_XCHG) return `r${s.src} = xchg_64(${addr}, r${s.src})`;
  if ((s.imm & 0xff) === BPF_CMPXCHG) return `r0 = cmpxchg_64(${addr}, r0, r${s.src})`;
  return undefined;
}

/**
 * The text llvm-objdump-19 prints for the instruction in slot `s`, or undefined where it prints
 * `<unknown>`. `hi` is the imm of the following slot, needed by ld_imm64 (undefined when the code
 * ends before it).
 */
export function llvmText(s: Slot, hi: number | undefined): string | undefined {
  const cls = s.opcode & 0x07;
  const size = s.opcode & 0x18;
  const mode = s.opcode & 0xe0;
  switch (cls) {
    case BPF_ALU:
    case BPF_ALU64:
      return aluText(s, cls === BPF_ALU64);
    case BPF_JMP:
    case BPF_JMP32:
      return jmpText(s, cls === BPF_JMP32);
    case BPF_LD:
      if (s.opcode === BPF_LD_IMM64) {
        if (hi === undefined || s.off !== 0 || s.dst > LLVM_MAX_REG) return undefined;
        if (s.src === 0) return `r${s.dst} = ${hex(toInt64(ldImm64Value(s.imm, hi)))} ll`;
        return `ld_pseudo\tr${s.dst}, ${hex(s.src)}, ${hex(s.imm >>> 0)}`;
      }
      if (size === BPF_DW) return undefined;
      if (mode === BPF_ABS) return `r0 = *(u${SIZE_NAME[size]} *)skb[${hex(s.imm)}]`;
      if (mode === BPF_IND) return s.src > LLVM_MAX_REG ? undefined : `r0 = *(u${SIZE_NAME[size]} *)skb[r${s.src}]`;
      return undefined;
    case BPF_LDX:
      if (s.dst > LLVM_MAX_REG || s.src > LLVM_MAX_REG) return undefined;
      if (mode === BPF_MEM) return `r${s.dst} = *(u${SIZE_NAME[size]} *)(${mem(s.src, s.off)})`;
      if (mode === BPF_MEMSX && size !== BPF_DW) return `r${s.dst} = *(s${SIZE_NAME[size]} *)(${mem(s.src, s.off)})`;
      return undefined;
    case BPF_ST:
      if (mode !== BPF_MEM || s.dst > LLVM_MAX_REG) return undefined;
      return `*(u${SIZE_NAME[size]} *)(${mem(s.dst, s.off)}) = ${hex(s.imm)}`;
    default:
      if (s.dst > LLVM_MAX_REG || s.src > LLVM_MAX_REG) return undefined;
      if (mode === BPF_MEM) return `*(u${SIZE_NAME[size]} *)(${mem(s.dst, s.off)}) = r${s.src}`;
      if (mode === BPF_ATOMIC) return atomicText(s, size);
      return undefined;
  }
}

/** The instruction in llvm-objdump-19's syntax; `<unknown>` where llvm-objdump cannot decode it. */
export function formatInsn(insn: Insn): string {
  return llvmText(insn, insn.next?.imm) ?? '<unknown>';
}

/**
 * The jump distance in slots, relative to the next slot, of an instruction llvm-objdump annotates
 * with its target (conditional jumps, goto, gotol, may_goto); undefined for everything else.
 */
export function branchDistance(s: Slot): number | undefined {
  const cls = s.opcode & 0x07;
  if (cls !== BPF_JMP && cls !== BPF_JMP32) return undefined;
  if (s.opcode === (BPF_JMP32 | BPF_JA)) return s.imm;
  const op = s.opcode & 0xf0;
  if (op === BPF_CALL || op === BPF_EXIT) return undefined;
  return s.off;
}
