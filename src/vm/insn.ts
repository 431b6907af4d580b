// Raw instruction fields and a small text form for fault messages.
import {
  BPF_ALU,
  BPF_ALU64,
  BPF_ATOMIC,
  BPF_CALL,
  BPF_END,
  BPF_EXIT,
  BPF_FETCH,
  BPF_INSN_SIZE,
  BPF_JA,
  BPF_JMP,
  BPF_JMP32,
  BPF_LD,
  BPF_LDX,
  BPF_MEMSX,
  BPF_NEG,
  BPF_ST,
  BPF_STX,
  BPF_X,
} from '../isa/opcodes.js';

/** The fields of one 8-byte instruction slot, as encoded (little-endian). */
export interface RawInsn {
  code: number;
  dst: number;
  src: number;
  /** Signed 16-bit offset. */
  off: number;
  /** Signed 32-bit immediate. */
  imm: number;
}

export function readInsn(bytes: Uint8Array, index: number): RawInsn {
  const p = index * BPF_INSN_SIZE;
  const regs = bytes[p + 1]!;
  return {
    code: bytes[p]!,
    dst: regs & 0x0f,
    src: regs >> 4,
    off: ((bytes[p + 2]! | (bytes[p + 3]! << 8)) << 16) >> 16,
    imm: bytes[p + 4]! | (bytes[p + 5]! << 8) | (bytes[p + 6]! << 16) | (bytes[p + 7]! << 24),
  };
}

const ALU_NAMES: Record<number, string> = {
  0x00: '+=', 0x10: '-=', 0x20: '*=', 0x30: '/=', 0x40: '|=', 0x50: '&=', 0x60: '<<=', 0x70: '>>=',
  0x90: '%=', 0xa0: '^=', 0xb0: '=', 0xc0: 's>>=',
};
const JMP_NAMES: Record<number, string> = {
  0x10: '==', 0x20: '>', 0x30: '>=', 0x40: '&', 0x50: '!=', 0x60: 's>', 0x70: 's>=', 0xa0: '<', 0xb0: '<=',
  0xc0: 's<', 0xd0: 's<=',
};
const SIZE_NAMES = ['u32', 'u16', 'u8', 'u64'];
const SIGNED_SIZE_NAMES = ['s32', 's16', 's8', 's64'];

function hex(v: number): string {
  return v < 0 ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

function offStr(off: number): string {
  return off < 0 ? `-${-off}` : `+${off}`;
}

/**
 * A one-line text form in the kernel verifier's notation (`r0 += r1`, `if r1 != 0x0 goto +2`).
 * `next` is the following slot, needed for the second half of a 64-bit immediate load.
 */
export function formatInsn(insn: RawInsn, next?: RawInsn): string {
  const { code, dst, src, off, imm } = insn;
  const cls = code & 0x07;
  const op = code & 0xf0;
  const x = (code & BPF_X) !== 0;
  switch (cls) {
    case BPF_ALU:
    case BPF_ALU64: {
      const r = cls === BPF_ALU64 ? 'r' : 'w';
      if (op === BPF_NEG) return `${r}${dst} = -${r}${dst}`;
      if (op === BPF_END) {
        if (cls === BPF_ALU64) return `r${dst} = bswap${imm} r${dst}`;
        return `r${dst} = ${x ? 'be' : 'le'}${imm} r${dst}`;
      }
      const name = ALU_NAMES[op];
      if (name === undefined) return `invalid alu 0x${code.toString(16)}`;
      if ((op === 0x30 || op === 0x90) && off === 1) return `${r}${dst} s${name} ${x ? `${r}${src}` : hex(imm)}`;
      if (op === 0xb0 && off !== 0 && x) return `${r}${dst} = (s${off})${r}${src}`;
      return `${r}${dst} ${name} ${x ? `${r}${src}` : hex(imm)}`;
    }
    case BPF_JMP:
    case BPF_JMP32: {
      if (op === BPF_JA) return cls === BPF_JMP32 ? `gotol ${offStr(imm)}` : `goto ${offStr(off)}`;
      if (cls === BPF_JMP && op === BPF_CALL) {
        if (x) return `callx r${dst}`;
        if (src === 1) return `call pc${offStr(imm)}`;
        if (src === 2) return `call kfunc#${imm}`;
        return `call #${imm}`;
      }
      if (cls === BPF_JMP && op === BPF_EXIT) return 'exit';
      const name = JMP_NAMES[op];
      if (name === undefined) return `invalid jmp 0x${code.toString(16)}`;
      const r = cls === BPF_JMP ? 'r' : 'w';
      return `if ${r}${dst} ${name} ${x ? `${r}${src}` : hex(imm)} goto ${offStr(off)}`;
    }
    case BPF_LD: {
      if (code === 0x18) {
        const hi = next?.imm ?? 0;
        const v = (BigInt(hi >>> 0) << 32n) | BigInt(imm >>> 0);
        return `r${dst} = 0x${v.toString(16)} ll${src ? ` (pseudo ${src})` : ''}`;
      }
      const size = SIZE_NAMES[(code >> 3) & 3];
      const mode = code & 0xe0;
      return mode === 0x40 ? `r0 = *(${size} *)skb[r${src} + ${imm}]` : `r0 = *(${size} *)skb[${imm}]`;
    }
    case BPF_LDX: {
      const sized = (code & 0xe0) === BPF_MEMSX ? SIGNED_SIZE_NAMES : SIZE_NAMES;
      return `r${dst} = *(${sized[(code >> 3) & 3]} *)(r${src} ${offStr(off)})`;
    }
    case BPF_ST:
      return `*(${SIZE_NAMES[(code >> 3) & 3]} *)(r${dst} ${offStr(off)}) = ${hex(imm)}`;
    case BPF_STX: {
      const size = SIZE_NAMES[(code >> 3) & 3];
      if ((code & 0xe0) !== BPF_ATOMIC) return `*(${size} *)(r${dst} ${offStr(off)}) = r${src}`;
      const mem = `(${size} *)(r${dst} ${offStr(off)})`;
      switch (imm) {
        case 0xe1: return `r${src} = xchg_${size}(${mem}, r${src})`;
        case 0xf1: return `r0 = cmpxchg_${size}(${mem}, r0, r${src})`;
        case 0x100: return `r${dst} = load_acquire(${mem.replace(`r${dst}`, `r${src}`)})`;
        case 0x110: return `store_release(${mem}, r${src})`;
        default: {
          const name = ALU_NAMES[imm & 0xf0] ?? '?=';
          return imm & BPF_FETCH
            ? `r${src} = atomic_fetch_${name}(*${mem}, r${src})`
            : `lock *${mem} ${name} r${src}`;
        }
      }
    }
  }
  return `invalid 0x${code.toString(16)}`;
}

/** Text form of the instruction at `index` of a program, or a note when out of range. */
export function formatAt(bytes: Uint8Array, index: number): string {
  const count = Math.floor(bytes.length / BPF_INSN_SIZE);
  if (index < 0 || index >= count) return `<pc ${index} outside the program>`;
  return formatInsn(readInsn(bytes, index), index + 1 < count ? readInsn(bytes, index + 1) : undefined);
}
