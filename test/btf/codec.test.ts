// The BTF codec on clang-built types: value → bytes → value and bytes → value → bytes round trips
// (fast-check), and as root the decoded values against bpftool's "formatted" dump of the same bytes
// in a kernel map (bpftool's btf_dumper is the oracle for layout, bitfields, enums and text).
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BtfCodec, BtfValueError, btfFromElf, cValueToJson, type Btf, type CValue } from '../../src/btf/index.js';
import { loadObject, mapGetInfo, mapUpdateElem, type LoadedObject } from '../../src/loader/raw.js';
import { haveLinuxHeaders, haveRoot, repoRoot, tool } from '../helpers/env.js';
import { buildTestObject } from '../loader/clang.js';
import { json } from '../loader/fixtures.js';
import { join } from 'node:path';

const clang = haveLinuxHeaders() ? tool('clang-19') : undefined;
const root = haveRoot();
const bpftool = root ? tool('bpftool') : undefined;

/** What the C source says a `struct value` is, written independently of the codec. */
const u = (bits: number) => fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n });
const uNum = (bits: number) => fc.integer({ min: 0, max: 2 ** bits - 1 });
const sNum = (bits: number) => fc.integer({ min: -(2 ** (bits - 1)), max: 2 ** (bits - 1) - 1 });
const text = (max: number) => fc.string({ unit: fc.constantFrom(...'abcxyz019 _-./'.split('')), maxLength: max });
const keyArb = fc.record({ addr: uNum(32), port: uNum(16), proto: uNum(8), delta: sNum(8) });
const valueArb = fc.record({
  big: u(64),
  neg: sNum(32),
  color: fc.constantFrom('RED', 'GREEN', 'BLUE'),
  name: text(11),
  low: uNum(3),
  mid: uNum(9),
  high: uNum(20),
  flag: uNum(8),
  on: fc.boolean(),
  pad16: uNum(16),
  pts: fc.array(fc.record({ x: sNum(16), tag: fc.array(uNum(8), { minLength: 2, maxLength: 2 }) }), { minLength: 2, maxLength: 2 }),
  word: uNum(32),
  sneg: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
  w: fc.constantFrom('W_SMALL', 'W_BIG'),
}).map((v) => {
  // The union's two members are one word: the bytes view follows from the integer.
  const bytes = [0, 8, 16, 24].map((s) => (v.word >>> s) & 0xff);
  return { ...v, bytes };
});

/**
 * bpftool's formatted value in the codec's conventions: an anonymous member's members are
 * members of the enclosing object (as in C), and bitfields are numbers rather than hex strings.
 */
function bpftoolAsCodec(v: unknown): unknown {
  if (typeof v === 'string' && /^0x[0-9a-f]+$/.test(v)) return Number(v);
  if (Array.isArray(v)) return v.map(bpftoolAsCodec);
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === '') Object.assign(out, bpftoolAsCodec(x));
    else out[k] = bpftoolAsCodec(x);
  }
  return out;
}

describe.skipIf(!clang)('BTF codec', () => {
  let build: ReturnType<typeof buildTestObject>;
  let btf: Btf;
  let keyId: number;
  let valueId: number;
  beforeAll(() => {
    build = buildTestObject(clang!, 'codec_types', [], join(repoRoot, 'test', 'btf', 'src'));
    btf = btfFromElf(readFileSync(build.path)).btf;
    keyId = btf.find('packed_key', 'STRUCT')!.id;
    valueId = btf.find('value', 'STRUCT')!.id;
  });
  afterAll(() => build?.cleanup());

  it('value → bytes → value gives the value back', () => {
    const keys = new BtfCodec(btf, keyId);
    const values = new BtfCodec(btf, valueId);
    expect([keys.size, values.size]).toEqual([8, 64]);
    fc.assert(fc.property(keyArb, valueArb, (k, v) => {
      expect(keys.decode(keys.encode(k))).toEqual(k);
      expect(values.decode(values.encode(v))).toEqual(v);
    }));
  });

  it('bytes → value → bytes gives the bytes back (a type with no padding; _Bool as 0 or 1)', () => {
    const values = new BtfCodec(btf, valueId);
    fc.assert(fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.boolean(), (raw, on) => {
      raw[33] = on ? 1 : 0;
      expect(values.encode(values.decode(raw))).toEqual(raw);
    }));
  });

  it('places members where the C compiler put them', () => {
    const values = new BtfCodec(btf, valueId);
    const bytes = values.encode({ big: 0x0102030405060708n, low: 5, mid: 0x1ff, high: 1, name: 'eth0', color: 'BLUE', w: 'W_BIG', word: 0xaabbccdd });
    const dv = new DataView(bytes.buffer);
    expect(dv.getBigUint64(0, true)).toBe(0x0102030405060708n);
    expect(new TextDecoder().decode(bytes.subarray(16, 20))).toBe('eth0');
    expect(dv.getUint32(12, true)).toBe(7);
    // low:3 at bit 224, mid:9 after it, high:20 after that, little-endian.
    expect(dv.getUint32(28, true)).toBe(5 | (0x1ff << 3) | (1 << 12));
    expect(dv.getUint32(44, true)).toBe(0xaabbccdd);
    expect(dv.getBigUint64(56, true)).toBe(0x100000000n);
  });

  it('decodes what is not text or not an enumerator as numbers, and accepts raw bytes anywhere', () => {
    const values = new BtfCodec(btf, valueId);
    const raw = new Uint8Array(64);
    raw[16] = 0xff;
    raw[12] = 3;
    const v = values.decode(raw) as Record<string, CValue>;
    expect(v.name).toEqual([-1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(v.color).toBe(3);
    expect(values.encode(v)).toEqual(raw);
    expect(values.encode(raw)).toEqual(raw);
    expect(values.encode({ name: Uint8Array.of(104, 105, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0) }).subarray(16, 18)).toEqual(Uint8Array.of(104, 105));
  });

  it('refuses values that do not fit, naming where they are', () => {
    const values = new BtfCodec(btf, valueId);
    const err = (v: CValue) => {
      try {
        values.encode(v);
      } catch (e) {
        expect(e).toBeInstanceOf(BtfValueError);
        return (e as Error).message;
      }
      throw new Error('expected an error');
    };
    expect(err({ neg: 2 ** 31 })).toMatch(/^value\.neg: 2147483648 does not fit in a signed 32-bit integer/);
    expect(err({ low: 8 })).toMatch(/^value\.low: 8 does not fit in an unsigned 3-bit integer/);
    expect(err({ color: 'PURPLE' })).toMatch(/enum color has no enumerator 'PURPLE' \(it has RED, GREEN, BLUE\)/);
    expect(err({ name: 'a much too long name' })).toMatch(/value\.name: .* holds 11 and the NUL/);
    expect(err({ name: 'twelve chars' })).toMatch(/holds 11 and the NUL/);
    expect(err({ nope: 1 })).toMatch(/struct value has no member 'nope' \(members: big, neg, color, name, low, mid, high, flag, on, pad16, pts, word, bytes, sneg, w\)/);
    expect(err({ big: 1.5 })).toMatch(/value\.big: 1\.5 is not an integer/);
    expect(err({ pts: [{}, {}, {}] })).toMatch(/value\.pts: 3 elements given/);
    expect(err(new Uint8Array(3))).toMatch(/3 bytes given for struct value, which is 64/);
  });

  describe.skipIf(!root || !bpftool)('against bpftool map dump (root)', () => {
    let loaded: LoadedObject;
    beforeAll(() => {
      loaded = loadObject(readFileSync(build.path), { objectName: 'codec' });
    });
    afterAll(() => loaded?.close());

    it("decodes kernel map entries as bpftool's formatted dump shows them", () => {
      const m = loaded.maps.find((x) => x.spec.objectName === 'typed')!;
      const id = mapGetInfo(m.fd).id;
      const keys = new BtfCodec(btf, keyId);
      const values = new BtfCodec(btf, valueId);
      // bpftool prints 64-bit integers as JSON numbers, exact only up to 2^53.
      const safe = valueArb.map((v) => ({ ...v, big: v.big >> 12n, sneg: v.sneg >> 12n }));
      fc.assert(fc.property(keyArb, safe, (k, v) => {
        const kb = keys.encode(k);
        mapUpdateElem(m.fd, kb, values.encode(v));
        const rows = json<{ key: string[]; formatted: { key: unknown; value: unknown } }[]>(bpftool!, ['map', 'dump', 'id', String(id), '-j']);
        const row = rows.find((r) => r.key.map(Number).every((b, i) => b === kb[i]))!;
        expect(row.formatted.key).toEqual(cValueToJson(k));
        expect(cValueToJson(values.decode(values.encode(v)))).toEqual(bpftoolAsCodec(row.formatted.value));
      }), { numRuns: 40 });
    });
  });
});
