// A tiny instruction builder for tests: raw encodings written from RFC 9669's layout, independent of src/.
export interface Insn {
  code: number;
  dst?: number;
  src?: number;
  off?: number;
  imm?: number;
}

export function encode(insns: readonly Insn[]): Uint8Array {
  const out = new Uint8Array(insns.length * 8);
  const v = new DataView(out.buffer);
  insns.forEach((i, n) => {
    out[n * 8] = i.code;
    out[n * 8 + 1] = ((i.src ?? 0) << 4) | (i.dst ?? 0);
    v.setInt16(n * 8 + 2, i.off ?? 0, true);
    v.setInt32(n * 8 + 4, i.imm ?? 0, true);
  });
  return out;
}

/** ld_imm64 dst = value (two slots). */
export function lddw(dst: number, value: bigint, src = 0): Insn[] {
  const u = BigInt.asUintN(64, value);
  return [
    { code: 0x18, dst, src, imm: Number(BigInt.asIntN(32, u & 0xffffffffn)) },
    { code: 0x00, imm: Number(BigInt.asIntN(32, u >> 32n)) },
  ];
}

export const exit: Insn = { code: 0x95 };
export const mov64 = (dst: number, src: number): Insn => ({ code: 0xbf, dst, src });
export const movImm = (dst: number, imm: number): Insn => ({ code: 0xb7, dst, imm });

export const M64 = (1n << 64n) - 1n;
export const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);
export const s64 = (x: bigint): bigint => BigInt.asIntN(64, x);
export const u32 = (x: bigint): bigint => BigInt.asUintN(32, x);
export const s32 = (x: bigint): bigint => BigInt.asIntN(32, x);
