// Map contents written as JSON, for `bpfts run --map NAME=JSON` and for tests that preset maps.
//
//   {"KEY": VALUE, ...}       KEY: a decimal integer, or hex bytes
//   [[KEY, VALUE], ...]       KEY/VALUE: any of the forms below
//
// A key or value is
//   - a number: a little-endian integer of the key/value size (1, 2, 4 or 8)
//   - a string of hex digits (optional 0x, spaces or colons between bytes): the bytes in order,
//     e.g. "0a000001" for the IPv4 address 10.0.0.1 in network byte order
//   - an array of numbers 0-255: the bytes in order
//   - an object: a struct by BTF member name (when the map has BTF), members given in any of these
//     forms (a nested array for a C array); members left out are zero.
import type { Btf } from '../btf/index.js';
import { EmulatorError } from './object.js';

export interface MapJsonSpec {
  name: string;
  keySize: number;
  valueSize: number;
  btf?: Btf | undefined;
  keyTypeId?: number | undefined;
  valueTypeId?: number | undefined;
}

function bad(spec: MapJsonSpec, why: string): EmulatorError {
  return new EmulatorError(`--map ${spec.name}: ${why}`, {
    hint: 'keys and values are integers, hex strings ("0a000001"), byte arrays, or objects by BTF member name',
  });
}

function integerBytes(v: bigint, size: number, where: () => string): Uint8Array {
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8) throw new Error(`${where()}: an integer needs a size of 1, 2, 4 or 8 bytes, not ${size}`);
  const bits = BigInt(size * 8);
  if (v >= 1n << bits || v < -(1n << (bits - 1n))) throw new Error(`${where()}: ${v} does not fit in ${size} bytes`);
  const out = new Uint8Array(size);
  let u = BigInt.asUintN(size * 8, v);
  for (let i = 0; i < size; i++, u >>= 8n) out[i] = Number(u & 0xffn);
  return out;
}

function hexBytes(text: string, where: () => string): Uint8Array {
  const digits = text.replace(/^0x/i, '').replace(/[\s:]/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(digits)) throw new Error(`${where()}: '${text}' is not hex bytes`);
  return Uint8Array.from(Buffer.from(digits, 'hex'));
}

/** One key or value in the forms above as `size` bytes (of BTF type `typeId` when given); errors name `where()`. */
export function encode(v: unknown, size: number, btf: Btf | undefined, typeId: number | undefined, where: () => string): Uint8Array {
  let out: Uint8Array;
  if (typeof v === 'number' || typeof v === 'bigint') {
    if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new Error(`${where()}: ${v} is not an integer JSON can hold exactly; give hex`);
    out = integerBytes(BigInt(v), size, where);
  } else if (typeof v === 'string') {
    out = hexBytes(v, where);
  } else if (Array.isArray(v) && v.every((b) => typeof b === 'number' && Number.isInteger(b) && b >= 0 && b <= 255)) {
    out = Uint8Array.from(v as number[]);
  } else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    if (btf === undefined || typeId === undefined) throw new Error(`${where()}: member names need BTF for the map`);
    out = encodeStruct(v as Record<string, unknown>, size, btf, typeId, where);
  } else if (Array.isArray(v) && btf !== undefined && typeId !== undefined) {
    out = encodeArray(v, size, btf, typeId, where);
  } else {
    throw new Error(`${where()}: cannot encode ${JSON.stringify(v)}`);
  }
  if (out.length !== size) throw new Error(`${where()}: ${out.length} bytes given, ${size} expected`);
  return out;
}

function encodeStruct(v: Record<string, unknown>, size: number, btf: Btf, typeId: number, where: () => string): Uint8Array {
  const t = btf.type(btf.skipModsAndTypedefs(typeId));
  if (t.kind !== 'STRUCT' && t.kind !== 'UNION') throw new Error(`${where()}: the type is ${t.kind}, not a struct`);
  const out = new Uint8Array(size);
  for (const [name, value] of Object.entries(v)) {
    const m = t.members.find((x) => x.name === name);
    if (m === undefined) throw new Error(`${where()}: ${btf.typeName(t.id)} has no member '${name}'`);
    if (m.bitfieldSize !== 0 || m.bitOffset % 8 !== 0) throw new Error(`${where()}: member '${name}' is a bitfield`);
    const msize = btf.resolveSize(m.type);
    out.set(encode(value, msize, btf, m.type, () => `${where()}.${name}`), m.bitOffset / 8);
  }
  return out;
}

function encodeArray(v: unknown[], size: number, btf: Btf, typeId: number, where: () => string): Uint8Array {
  const t = btf.type(btf.skipModsAndTypedefs(typeId));
  if (t.kind !== 'ARRAY') throw new Error(`${where()}: an array was given for a ${t.kind}`);
  const esize = btf.resolveSize(t.type);
  if (v.length > t.nelems) throw new Error(`${where()}: ${v.length} elements given, the array has ${t.nelems}`);
  const out = new Uint8Array(size);
  v.forEach((e, i) => out.set(encode(e, esize, btf, t.type, () => `${where()}[${i}]`), i * esize));
  return out;
}

/** The (key, value) pairs a JSON text describes for a map. */
export function parseMapJson(text: string, spec: MapJsonSpec): [Uint8Array, Uint8Array][] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw bad(spec, `not JSON: ${(e as Error).message}`);
  }
  const pairs: [unknown, unknown][] = Array.isArray(parsed)
    ? parsed.map((p) => {
      if (!Array.isArray(p) || p.length !== 2) throw bad(spec, 'an array form needs [key, value] pairs');
      return [p[0], p[1]] as [unknown, unknown];
    })
    : typeof parsed === 'object' && parsed !== null
      ? Object.entries(parsed).map(([k, v]) => [/^-?\d+$/.test(k) ? BigInt(k) : k, v])
      : (() => {
        throw bad(spec, 'give an object {"KEY": VALUE} or an array [[KEY, VALUE], ...]');
      })();
  try {
    return pairs.map(([k, v], i) => [
      encode(k, spec.keySize, spec.btf, spec.keyTypeId, () => `key ${i + 1}`),
      encode(v, spec.valueSize, spec.btf, spec.valueTypeId, () => `value ${i + 1}`),
    ]);
  } catch (e) {
    if (e instanceof EmulatorError) throw e;
    throw bad(spec, (e as Error).message);
  }
}
