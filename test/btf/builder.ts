// Assembles BTF blobs byte by byte from include/uapi/linux/btf.h's layout, independently of the
// parser under test.

export class BtfBuilder {
  private strs: number[] = [0];
  private strIndex = new Map<string, number>([['', 0]]);
  private words: number[] = [];
  private nextId: number;

  /** `strBase`/`firstId`: where a split BTF's string offsets and ids start. */
  constructor(private readonly strBase = 0, firstId = 1, private readonly split = false) {
    this.nextId = firstId;
    if (split) this.strs = [];
  }

  str(s: string): number {
    if (s === '' && !this.split) return 0;
    const known = this.strIndex.get(s);
    if (known !== undefined && (s !== '' || !this.split)) return known;
    const off = this.strBase + this.strs.length;
    for (const b of Buffer.from(s, 'utf8')) this.strs.push(b);
    this.strs.push(0);
    this.strIndex.set(s, off);
    return off;
  }

  /** One btf_type record plus its trailing u32 words; returns the new type id. */
  type(name: string, kind: number, vlen: number, kflag: boolean, sizeOrType: number, ...extra: number[]): number {
    const info = ((kflag ? 1 : 0) << 31) | (kind << 24) | vlen;
    this.words.push(name ? this.str(name) : 0, info >>> 0, sizeOrType >>> 0, ...extra.map((x) => x >>> 0));
    return this.nextId++;
  }

  /** struct btf_header + type section + string section, in the given byte order. */
  build(littleEndian = true, opts: { hdrLen?: number } = {}): Uint8Array {
    const hdrLen = opts.hdrLen ?? 24;
    const typeLen = this.words.length * 4;
    const out = new Uint8Array(hdrLen + typeLen + this.strs.length);
    const v = new DataView(out.buffer);
    v.setUint16(0, 0xeb9f, littleEndian);
    out[2] = 1;
    out[3] = 0;
    v.setUint32(4, hdrLen, littleEndian);
    v.setUint32(8, 0, littleEndian);
    v.setUint32(12, typeLen, littleEndian);
    v.setUint32(16, typeLen, littleEndian);
    v.setUint32(20, this.strs.length, littleEndian);
    this.words.forEach((w, i) => v.setUint32(hdrLen + i * 4, w, littleEndian));
    out.set(this.strs, hdrLen + typeLen);
    return out;
  }
}

export const KIND = {
  INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10,
  RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19,
} as const;
