// Bytes of a map key or value shown by their BTF type, the way bpftool's "formatted" output does:
// structs as objects, arrays as lists, integers as numbers (64-bit ones beyond 2^53 as strings),
// enums by enumerator name, char arrays as strings.
import type { Btf } from './btf.js';

export type FormattedValue = number | string | boolean | null | FormattedValue[] | { [name: string]: FormattedValue };

const MAX_DEPTH = 32;

function readUint(bytes: Uint8Array, off: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[off + i] ?? 0);
  return v;
}

function num(v: bigint): number | string {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

function signed(v: bigint, bits: number): bigint {
  return BigInt.asIntN(bits, v);
}

/** Formats `bytes` (little-endian) as BTF type `typeId` of `btf`; bytes past the end read as 0. */
export function formatBtfValue(btf: Btf, typeId: number, bytes: Uint8Array, offset = 0, depth = 0): FormattedValue {
  if (depth > MAX_DEPTH) return null;
  const id = btf.skipModsAndTypedefs(typeId);
  const t = btf.type(id);
  switch (t.kind) {
    case 'INT': {
      const v = readUint(bytes, offset, t.size);
      if (t.encoding & 4) return v !== 0n;
      return num(t.encoding & 1 ? signed(v, t.size * 8) : v);
    }
    case 'ENUM': case 'ENUM64': {
      const raw = readUint(bytes, offset, t.size);
      const v = t.signed ? signed(raw, t.size * 8) : raw;
      const e = (t.values as { name: string; value: number | bigint }[]).find((x) => BigInt(x.value) === v);
      return e ? e.name : num(v);
    }
    case 'PTR':
      return num(readUint(bytes, offset, 8));
    case 'FLOAT': {
      const dv = new DataView(bytes.buffer, bytes.byteOffset + offset, t.size);
      return t.size === 4 ? dv.getFloat32(0, true) : t.size === 8 ? dv.getFloat64(0, true) : null;
    }
    case 'ARRAY': {
      const elem = btf.type(btf.skipModsAndTypedefs(t.type));
      const size = btf.resolveSize(t.type);
      if (elem.kind === 'INT' && elem.size === 1 && (elem.encoding & 2)) {
        const s = bytes.subarray(offset, offset + t.nelems);
        const nul = s.indexOf(0);
        return new TextDecoder().decode(nul < 0 ? s : s.subarray(0, nul));
      }
      return Array.from({ length: t.nelems }, (_, i) => formatBtfValue(btf, t.type, bytes, offset + i * size, depth + 1));
    }
    case 'STRUCT': case 'UNION': {
      const out: { [name: string]: FormattedValue } = {};
      for (const m of t.members) {
        if (m.bitfieldSize > 0) {
          const start = offset + Math.floor(m.bitOffset / 8);
          const shift = BigInt(m.bitOffset % 8);
          const raw = (readUint(bytes, start, 8) >> shift) & ((1n << BigInt(m.bitfieldSize)) - 1n);
          out[m.name] = num(raw);
          continue;
        }
        const v = formatBtfValue(btf, m.type, bytes, offset + m.bitOffset / 8, depth + 1);
        if (m.name === '' && v !== null && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, v);
        else out[m.name] = v;
      }
      return out;
    }
    case 'DATASEC': {
      const out: { [name: string]: FormattedValue } = {};
      for (const v of t.vars) out[btf.type(v.type).name] = formatBtfValue(btf, v.type, bytes, offset + v.offset, depth + 1);
      return out;
    }
    case 'VAR':
      return formatBtfValue(btf, t.type, bytes, offset, depth + 1);
    default:
      return null;
  }
}
