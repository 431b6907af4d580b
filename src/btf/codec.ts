// C values described by BTF, as plain JS values and back: the one codec the loader's maps and
// globals, the emulator's maps, `bpfts map dump`, `bpfts run --map` and generated types share.
//
//   integers      number up to 32 bits, bigint for 64 and 128 bits; _Bool as boolean
//   enums         the enumerator's name; a value no enumerator has as a number (bigint for 64-bit)
//   pointers      bigint
//   floats        number (other sizes as raw bytes)
//   char arrays   a string when the bytes are a C string (UTF-8 text, a NUL, zeros after it), else numbers
//   arrays        arrays
//   structs       objects by member name (anonymous struct/union members flattened); bitfields too
//   unions        every member on decode; on encode, the members given (later ones win where they overlap)
//   DATASEC       objects by variable name (a .data/.bss/.rodata section's globals)
//
// A Uint8Array of the type's size is accepted in place of any value. Encoding leaves out nothing
// silently: members not named are zero, unknown names and values that do not fit are errors.
import { BpfError } from '../errors.js';
import type { Btf } from './btf.js';
import type { BtfComposite, BtfType } from './types.js';
import { BTF_INT_BOOL, BTF_INT_CHAR, BTF_INT_SIGNED } from './uapi.js';

/** A C value as the codec decodes it (and accepts it for encoding). */
export type CValue = number | bigint | boolean | string | Uint8Array | readonly CValue[] | { readonly [name: string]: CValue };

/**
 * What encodes as a `T`: the same shape with members optional (left out: zero), integers as number
 * or bigint, and raw bytes in place of any part.
 */
export type Encodable<T> =
  T extends Uint8Array ? Uint8Array
    : T extends bigint ? bigint | number | Uint8Array
      : T extends number ? number | bigint | Uint8Array
        : T extends string | boolean ? T | Uint8Array
          : T extends readonly (infer E)[] ? readonly Encodable<E>[] | Uint8Array
            : T extends object ? { readonly [P in keyof T]?: Encodable<T[P]> } | Uint8Array
              : T | Uint8Array;

/** A JSON-safe rendering of a CValue: bigints beyond 2^53 as decimal strings, bytes as number arrays. */
export type JsonCValue = number | string | boolean | JsonCValue[] | { [name: string]: JsonCValue };

/** A value that does not fit its BTF type; `path` locates it ("key.addr[2]"). */
export class BtfValueError extends BpfError {
  constructor(
    readonly path: string,
    readonly detail: string,
    options?: { hint?: string },
  ) {
    super(`${path}: ${detail}`, options);
  }
}

export interface EncodeOptions {
  /** Where the value is, for messages ("value", "key 1"). Default "value". */
  path?: string;
  /**
   * Strings at positions that are not enums or char arrays are hex bytes of that position's size
   * ("0a000001", "0a:00:00:01"): the `bpfts run --map` form, where JSON cannot hold raw bytes.
   */
  hexStrings?: boolean;
}

/** Types nest at most this deep (C allows more, BTF from a compiler never comes close). */
const MAX_DEPTH = 64;
const decoder = new TextDecoder('utf-8', { fatal: true });

function fail(path: string, detail: string): never {
  throw new BtfValueError(path, detail);
}

/** The size in bytes of a value of type `id` (DATASEC and VAR included). */
export function btfValueSize(btf: Btf, id: number): number {
  const t = btf.type(btf.skipModsAndTypedefs(id));
  return t.kind === 'VAR' ? btfValueSize(btf, t.type) : btf.resolveSize(t.id);
}

/** A char-like element: one byte named char (clang's spelling) or marked BTF_INT_CHAR (pahole's). */
function isCharType(btf: Btf, id: number): boolean {
  const t = btf.type(btf.skipModsAndTypedefs(id));
  return t.kind === 'INT' && t.size === 1 && ((t.encoding & BTF_INT_CHAR) !== 0 || t.name === 'char');
}

/** The text `bytes` hold, or undefined when they are not text that encodes back to the same bytes. */
function asText(bytes: Uint8Array): string | undefined {
  // Without its NUL it is not a C string (bpftool prints such an array as numbers too).
  const end = bytes.indexOf(0);
  if (end < 0) return undefined;
  for (let i = end; i < bytes.length; i++) if (bytes[i] !== 0) return undefined;
  let s: string;
  try {
    s = decoder.decode(bytes.subarray(0, end));
  } catch {
    return undefined;
  }
  // Control characters other than tab and newline mean binary data that happens to decode.
  return /[\u0000-\u0008\u000b-\u001f\u007f]/.test(s) ? undefined : s;
}

// ---------------------------------------------------------------------------------------------
// Integers

function readUint(bytes: Uint8Array, off: number, size: number, le: boolean): bigint {
  let v = 0n;
  if (le) for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[off + i] ?? 0);
  else for (let i = 0; i < size; i++) v = (v << 8n) | BigInt(bytes[off + i] ?? 0);
  return v;
}

function writeUint(out: Uint8Array, off: number, size: number, v: bigint, le: boolean): void {
  let u = BigInt.asUintN(size * 8, v);
  for (let i = 0; i < size; i++, u >>= 8n) out[le ? off + i : off + size - 1 - i] = Number(u & 0xffn);
}

/** The bits [bitOff, bitOff + bits) of the bytes from `off`, in the BTF's byte order. */
function readBits(bytes: Uint8Array, off: number, bitOff: number, bits: number, le: boolean): bigint {
  const first = off + Math.floor(bitOff / 8);
  const n = Math.ceil(((bitOff % 8) + bits) / 8);
  const word = readUint(bytes, first, n, le);
  const shift = le ? BigInt(bitOff % 8) : BigInt(n * 8 - (bitOff % 8) - bits);
  return (word >> shift) & ((1n << BigInt(bits)) - 1n);
}

function writeBits(out: Uint8Array, off: number, bitOff: number, bits: number, v: bigint, le: boolean): void {
  const first = off + Math.floor(bitOff / 8);
  const n = Math.ceil(((bitOff % 8) + bits) / 8);
  const shift = le ? BigInt(bitOff % 8) : BigInt(n * 8 - (bitOff % 8) - bits);
  const mask = ((1n << BigInt(bits)) - 1n) << shift;
  const word = readUint(out, first, n, le);
  writeUint(out, first, n, (word & ~mask) | ((BigInt.asUintN(bits, v) << shift) & mask), le);
}

/** How an integer-valued position decodes: its width in bits, signedness, and whether it is a bool. */
interface IntShape { bits: number; signed: boolean; bool: boolean; wide: boolean }

function intValue(raw: bigint, s: IntShape): number | bigint | boolean {
  if (s.bool) return raw !== 0n;
  const v = s.signed ? BigInt.asIntN(s.bits, raw) : raw;
  return s.wide ? v : Number(v);
}

function intRaw(v: CValue, s: IntShape, path: string): bigint {
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) fail(path, `${v} is not an integer a JS number holds exactly (give a bigint)`);
    v = BigInt(v);
  }
  if (typeof v !== 'bigint') fail(path, `expected an integer, got ${describe(v)}`);
  const lo = s.signed ? -(1n << BigInt(s.bits - 1)) : 0n;
  const hi = s.signed ? (1n << BigInt(s.bits - 1)) - 1n : (1n << BigInt(s.bits)) - 1n;
  if (v < lo || v > hi) fail(path, `${v} does not fit in ${s.signed ? 'a signed' : 'an unsigned'} ${s.bits}-bit integer (${lo}..${hi})`);
  return v;
}

function describe(v: unknown): string {
  if (v instanceof Uint8Array) return `${v.byteLength} bytes`;
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

function hexBytes(text: string, size: number, path: string): Uint8Array {
  const digits = text.replace(/^0x/i, '').replace(/[\s:]/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(digits)) fail(path, `'${text}' is not hex bytes`);
  const bytes = Uint8Array.from(digits.match(/../g) ?? [], (h) => parseInt(h, 16));
  if (bytes.length !== size) fail(path, `${bytes.length} bytes given, ${size} expected`);
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** Decodes the value of BTF type `typeId` at `offset` in `bytes` (bytes past the end read as zero). */
export function btfDecode(btf: Btf, typeId: number, bytes: Uint8Array, offset = 0): CValue {
  return decode(btf, typeId, bytes, offset, 0);
}

function decode(btf: Btf, typeId: number, bytes: Uint8Array, off: number, depth: number): CValue {
  if (depth > MAX_DEPTH) fail('value', `types nest deeper than ${MAX_DEPTH}`);
  const t = btf.type(btf.skipModsAndTypedefs(typeId));
  const le = btf.littleEndian;
  switch (t.kind) {
    case 'INT': {
      const s = intShape(t);
      const raw = t.bits === t.size * 8 && t.bitsOffset === 0 ? readUint(bytes, off, t.size, le) : readBits(bytes, off, t.bitsOffset, t.bits, le);
      return intValue(raw, s);
    }
    case 'ENUM': case 'ENUM64':
      return enumValue(t, readUint(bytes, off, t.size, le));
    case 'PTR':
      return readUint(bytes, off, 8, le);
    case 'FLOAT': {
      if (t.size !== 4 && t.size !== 8) return bytes.slice(off, off + t.size);
      const dv = new DataView(Uint8Array.from(bytes.subarray(off, off + t.size)).buffer);
      return t.size === 4 ? dv.getFloat32(0, le) : dv.getFloat64(0, le);
    }
    case 'ARRAY': {
      const size = btf.resolveSize(t.type);
      if (isCharType(btf, t.type)) {
        const text = asText(padded(bytes, off, t.nelems));
        if (text !== undefined) return text;
      }
      return Array.from({ length: t.nelems }, (_, i) => decode(btf, t.type, bytes, off + i * size, depth + 1));
    }
    case 'STRUCT': case 'UNION': {
      const out: Record<string, CValue> = {};
      decodeMembers(btf, t, bytes, off, depth, out);
      return out;
    }
    case 'DATASEC': {
      const out: Record<string, CValue> = {};
      for (const v of t.vars) out[btf.type(v.type).name] = decode(btf, v.type, bytes, off + v.offset, depth + 1);
      return out;
    }
    case 'VAR':
      return decode(btf, t.type, bytes, off, depth + 1);
    default:
      return fail('value', `${btf.typeName(t.id)} (${t.kind}) has no value`);
  }
}

function padded(bytes: Uint8Array, off: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  out.set(bytes.subarray(off, off + n));
  return out;
}

function intShape(t: Extract<BtfType, { kind: 'INT' }>): IntShape {
  return { bits: t.bits, signed: (t.encoding & BTF_INT_SIGNED) !== 0, bool: (t.encoding & BTF_INT_BOOL) !== 0, wide: t.size > 4 };
}

function enumValue(t: Extract<BtfType, { kind: 'ENUM' | 'ENUM64' }>, raw: bigint): CValue {
  const v = t.signed ? BigInt.asIntN(t.size * 8, raw) : raw;
  const named = (t.values as { name: string; value: number | bigint }[]).find((e) => BigInt(e.value) === v);
  if (named) return named.name;
  return t.size > 4 ? v : Number(v);
}

/** A member's bitfield position, for kind_flag bitfields and for old-style ones (an INT of fewer bits). */
function bitfield(btf: Btf, m: BtfComposite['members'][number]): { bitOff: number; bits: number; type: BtfType } | undefined {
  const type = btf.type(btf.skipModsAndTypedefs(m.type));
  if (m.bitfieldSize > 0) return { bitOff: m.bitOffset, bits: m.bitfieldSize, type };
  if (type.kind === 'INT' && (type.bits !== type.size * 8 || type.bitsOffset !== 0)) return { bitOff: m.bitOffset + type.bitsOffset, bits: type.bits, type };
  if (m.bitOffset % 8 !== 0) return { bitOff: m.bitOffset, bits: btf.resolveSize(m.type) * 8, type };
  return undefined;
}

function bitfieldShape(type: BtfType, bits: number): IntShape {
  if (type.kind === 'INT') return { ...intShape(type), bits };
  const signed = (type.kind === 'ENUM' || type.kind === 'ENUM64') && type.signed;
  return { bits, signed, bool: false, wide: 'size' in type && type.size > 4 };
}

function decodeMembers(btf: Btf, t: BtfComposite, bytes: Uint8Array, off: number, depth: number, out: Record<string, CValue>): void {
  for (const m of t.members) {
    const bf = bitfield(btf, m);
    if (bf) {
      const raw = readBits(bytes, off, bf.bitOff, bf.bits, btf.littleEndian);
      const shape = bitfieldShape(bf.type, bf.bits);
      out[m.name] = bf.type.kind === 'ENUM' || bf.type.kind === 'ENUM64'
        ? enumValue(bf.type, shape.signed ? BigInt.asUintN(bf.type.size * 8, BigInt.asIntN(bf.bits, raw)) : raw)
        : intValue(raw, shape);
      continue;
    }
    const inner = btf.type(btf.skipModsAndTypedefs(m.type));
    if (m.name === '' && (inner.kind === 'STRUCT' || inner.kind === 'UNION')) {
      decodeMembers(btf, inner, bytes, off + m.bitOffset / 8, depth + 1, out);
      continue;
    }
    out[m.name] = decode(btf, m.type, bytes, off + m.bitOffset / 8, depth + 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** Encodes `value` as BTF type `typeId`: a new buffer of the type's size, zero where nothing was given. */
export function btfEncode(btf: Btf, typeId: number, value: CValue, options: EncodeOptions = {}): Uint8Array {
  const out = new Uint8Array(btfValueSize(btf, typeId));
  btfEncodeInto(btf, typeId, value, out, 0, options);
  return out;
}

/**
 * Encodes `value` into `out` at `offset`, writing only the bytes of what it names: the members of
 * a struct left out, and padding, keep what `out` holds (a partial update of a global section).
 */
export function btfEncodeInto(btf: Btf, typeId: number, value: CValue, out: Uint8Array, offset: number, options: EncodeOptions = {}): void {
  encode(btf, typeId, value, out, offset, options.path ?? 'value', options.hexStrings ?? false, 0);
}

function encode(btf: Btf, typeId: number, v: CValue, out: Uint8Array, off: number, path: string, hex: boolean, depth: number): void {
  if (depth > MAX_DEPTH) fail(path, `types nest deeper than ${MAX_DEPTH}`);
  const t = btf.type(btf.skipModsAndTypedefs(typeId));
  if (t.kind === 'VAR') return encode(btf, t.type, v, out, off, path, hex, depth + 1);
  const size = btfValueSize(btf, t.id);
  if (v instanceof Uint8Array) {
    if (v.byteLength !== size) fail(path, `${v.byteLength} bytes given for ${btf.typeName(t.id)}, which is ${size}`);
    out.set(v, off);
    return;
  }
  if (typeof v === 'string' && hex && !(t.kind === 'ENUM' || t.kind === 'ENUM64' || (t.kind === 'ARRAY' && isCharType(btf, t.type)))) {
    out.set(hexBytes(v, size, path), off);
    return;
  }
  const le = btf.littleEndian;
  switch (t.kind) {
    case 'INT': {
      const raw = intRaw(v, intShape(t), path);
      if (t.bits === t.size * 8 && t.bitsOffset === 0) writeUint(out, off, t.size, raw, le);
      else writeBits(out, off, t.bitsOffset, t.bits, raw, le);
      return;
    }
    case 'ENUM': case 'ENUM64':
      writeUint(out, off, t.size, enumRaw(t, v, t.size * 8, path), le);
      return;
    case 'PTR':
      writeUint(out, off, 8, intRaw(v, { bits: 64, signed: false, bool: false, wide: true }, path), le);
      return;
    case 'FLOAT': {
      if (typeof v !== 'number' || (t.size !== 4 && t.size !== 8)) fail(path, `expected ${t.size === 4 || t.size === 8 ? 'a number' : `${t.size} bytes`}, got ${describe(v)}`);
      const dv = new DataView(out.buffer, out.byteOffset + off, t.size);
      if (t.size === 4) dv.setFloat32(0, v, le);
      else dv.setFloat64(0, v, le);
      return;
    }
    case 'ARRAY': {
      const esize = btf.resolveSize(t.type);
      if (typeof v === 'string' && isCharType(btf, t.type)) {
        const text = new TextEncoder().encode(v);
        if (text.length >= t.nelems) fail(path, `${JSON.stringify(v)} is ${text.length} bytes, ${btf.typeName(t.id)} holds ${t.nelems - 1} and the NUL`);
        if (text.includes(0)) fail(path, `${JSON.stringify(v)} contains a NUL`);
        out.fill(0, off, off + t.nelems);
        out.set(text, off);
        return;
      }
      if (!Array.isArray(v)) fail(path, `expected an array of ${t.nelems}${isCharType(btf, t.type) ? ' or a string' : ''}, got ${describe(v)}`);
      const list = v as readonly CValue[];
      if (list.length > t.nelems) fail(path, `${list.length} elements given, ${btf.typeName(t.id)} has ${t.nelems}`);
      list.forEach((e, i) => encode(btf, t.type, e, out, off + i * esize, `${path}[${i}]`, hex, depth + 1));
      return;
    }
    case 'STRUCT': case 'UNION': {
      const obj = record(v, btf, t, path);
      const used = new Set<string>();
      encodeMembers(btf, t, obj, out, off, path, hex, depth, used);
      const unknown = Object.keys(obj).filter((k) => !used.has(k));
      if (unknown.length > 0) {
        fail(path, `${btf.typeName(t.id)} has no member ${unknown.map((k) => `'${k}'`).join(', ')} (members: ${memberNames(btf, t).join(', ')})`);
      }
      return;
    }
    case 'DATASEC': {
      const obj = record(v, btf, t, path);
      for (const [name, value] of Object.entries(obj)) {
        const s = t.vars.find((x) => btf.type(x.type).name === name);
        if (!s) fail(path, `${t.name} has no variable '${name}' (variables: ${t.vars.map((x) => btf.type(x.type).name).join(', ')})`);
        encode(btf, s.type, value, out, off + s.offset, `${path}.${name}`, hex, depth + 1);
      }
      return;
    }
    default:
      fail(path, `${btf.typeName(t.id)} (${t.kind}) has no value`);
  }
}

function record(v: CValue, btf: Btf, t: BtfType, path: string): { readonly [name: string]: CValue } {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) {
    fail(path, `expected an object for ${btf.typeName(t.id)}, got ${describe(v)}`);
  }
  return v as { readonly [name: string]: CValue };
}

/** Every member name an object for `t` may use (anonymous members' names included). */
export function memberNames(btf: Btf, t: BtfComposite): string[] {
  return t.members.flatMap((m) => {
    const inner = btf.type(btf.skipModsAndTypedefs(m.type));
    return m.name === '' && (inner.kind === 'STRUCT' || inner.kind === 'UNION') ? memberNames(btf, inner) : [m.name];
  });
}

function enumRaw(t: Extract<BtfType, { kind: 'ENUM' | 'ENUM64' }>, v: CValue, bits: number, path: string): bigint {
  const values = t.values as { name: string; value: number | bigint }[];
  if (typeof v === 'string') {
    const e = values.find((x) => x.name === v);
    if (!e) fail(path, `enum ${t.name || '(anon)'} has no enumerator '${v}' (it has ${values.map((x) => x.name).join(', ')})`);
    return BigInt(e.value);
  }
  return intRaw(v, { bits, signed: t.signed, bool: false, wide: bits > 32 }, path);
}

function encodeMembers(
  btf: Btf, t: BtfComposite, obj: { readonly [name: string]: CValue }, out: Uint8Array, off: number, path: string, hex: boolean,
  depth: number, used: Set<string>,
): void {
  for (const m of t.members) {
    const inner = btf.type(btf.skipModsAndTypedefs(m.type));
    if (m.name === '' && (inner.kind === 'STRUCT' || inner.kind === 'UNION')) {
      encodeMembers(btf, inner, obj, out, off + m.bitOffset / 8, path, hex, depth + 1, used);
      continue;
    }
    if (!Object.hasOwn(obj, m.name)) continue;
    used.add(m.name);
    const value = obj[m.name]!;
    const where = `${path}.${m.name}`;
    const bf = bitfield(btf, m);
    if (!bf) {
      encode(btf, m.type, value, out, off + m.bitOffset / 8, where, hex, depth + 1);
      continue;
    }
    const raw = bf.type.kind === 'ENUM' || bf.type.kind === 'ENUM64'
      ? enumRaw(bf.type, value, bf.bits, where)
      : intRaw(value, bitfieldShape(bf.type, bf.bits), where);
    writeBits(out, off, bf.bitOff, bf.bits, raw, btf.littleEndian);
  }
}

// ---------------------------------------------------------------------------------------------

/** `v` for JSON output: integers beyond 2^53 as decimal strings, bytes as number arrays. */
export function cValueToJson(v: CValue): JsonCValue {
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (v instanceof Uint8Array) return Array.from(v);
  if (Array.isArray(v)) return v.map(cValueToJson);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, cValueToJson(x as CValue)]));
  return v as number | string | boolean;
}

/** Encoding and decoding for one BTF type; without BTF (type id 0), raw bytes of a fixed size. */
export class BtfCodec {
  readonly size: number;

  constructor(
    readonly btf: Btf | undefined,
    readonly typeId: number,
    size?: number,
  ) {
    this.size = btf && typeId ? btfValueSize(btf, typeId) : size ?? 0;
    if (size !== undefined && size !== this.size) {
      throw new BtfValueError('value', `${btf!.typeName(typeId)} is ${this.size} bytes, the map's size is ${size}`);
    }
  }

  /** Whether values decode to more than raw bytes. */
  get typed(): boolean {
    return this.btf !== undefined && this.typeId !== 0;
  }

  decode(bytes: Uint8Array, offset = 0): CValue {
    if (!this.typed) return bytes.slice(offset, offset + this.size);
    return btfDecode(this.btf!, this.typeId, bytes, offset);
  }

  encode(value: CValue, options: EncodeOptions = {}): Uint8Array {
    if (this.typed) return btfEncode(this.btf!, this.typeId, value, options);
    const path = options.path ?? 'value';
    if (value instanceof Uint8Array) {
      if (value.byteLength !== this.size) fail(path, `${value.byteLength} bytes given, ${this.size} expected`);
      return Uint8Array.from(value);
    }
    if (typeof value === 'string' && options.hexStrings) return hexBytes(value, this.size, path);
    // Without BTF an integer of the whole size is the one other form that means something.
    if ((typeof value === 'number' || typeof value === 'bigint') && [1, 2, 4, 8].includes(this.size)) {
      const raw = BigInt(value);
      const bits = this.size * 8;
      if (typeof value === 'number' && !Number.isSafeInteger(value)) fail(path, `${value} is not an integer a JS number holds exactly (give a bigint)`);
      if (raw >= 1n << BigInt(bits) || raw < -(1n << BigInt(bits - 1))) fail(path, `${raw} does not fit in ${this.size} bytes`);
      const out = new Uint8Array(this.size);
      writeUint(out, 0, this.size, raw, true);
      return out;
    }
    return fail(path, `without BTF for this map, give ${this.size} bytes${[1, 2, 4, 8].includes(this.size) ? ' or an integer' : ''}, not ${describe(value)}`);
  }
}
