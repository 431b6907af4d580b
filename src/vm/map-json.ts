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
//   - an object: a struct by BTF member name (when the map has BTF), through the BTF codec
//     (src/btf/codec.ts): members as integers, hex strings, enum names, text for char arrays, nested
//     arrays for C arrays; members left out are zero.
import { BtfCodec, type Btf, type CValue } from '../btf/index.js';
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

/** One key or value: the raw forms (an integer of the whole size, hex, bytes), else through the BTF codec. */
export function encode(v: unknown, codec: BtfCodec, where: string): Uint8Array {
  const raw = new BtfCodec(undefined, 0, codec.size);
  if (typeof v === 'number' || typeof v === 'bigint') return (codec.typed && ![1, 2, 4, 8].includes(codec.size) ? codec : raw).encode(v, { path: where });
  if (Array.isArray(v) && v.length === codec.size && v.every((b) => typeof b === 'number' && Number.isInteger(b) && b >= 0 && b <= 255)) {
    return Uint8Array.from(v as number[]);
  }
  if (!codec.typed && typeof v === 'object' && v !== null && !Array.isArray(v)) throw new Error(`${where}: member names need BTF for the map`);
  return (codec.typed ? codec : raw).encode(v as CValue, { path: where, hexStrings: true });
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
    const keys = new BtfCodec(spec.btf, spec.keyTypeId ?? 0, spec.keySize);
    const values = new BtfCodec(spec.btf, spec.valueTypeId ?? 0, spec.valueSize);
    return pairs.map(([k, v], i) => [encode(k, keys, `key ${i + 1}`), encode(v, values, `value ${i + 1}`)]);
  } catch (e) {
    if (e instanceof EmulatorError) throw e;
    throw bad(spec, (e as Error).message);
  }
}
