// Struct layouts as explicit offset/size tables, and a view that reads and writes them.
// Every kernel struct the loader touches is described once with the table below; the tables are
// checked against the C compiler's offsetof/sizeof in test/loader/abi-layout.test.ts.
//
// Multi-byte fields are in host byte order. The architectures the loader supports (SYS_bpf in
// bpf-cmd.ts) are all little-endian, so the views are little-endian.

export interface Field {
  readonly offset: number;
  readonly size: number;
}

export interface Layout<K extends string = string> {
  /** The C type, e.g. "union bpf_attr" or "struct nlmsghdr". */
  readonly cType: string;
  /** For a member struct of a union such as bpf_attr: its C designator ("test", "link_create"). */
  readonly cMember?: string;
  /** Bytes covered: the whole struct when `complete`, else up to the end of the last field used. */
  readonly size: number;
  /** True when `size` is sizeof(cType) itself (fixed structs such as nlmsghdr). */
  readonly complete: boolean;
  readonly fields: Readonly<Record<K, Field>>;
}

/** Builds a layout from [offset, size] pairs; `size` defaults to the end of the furthest field, rounded to 8. */
export function layout<const F extends Record<string, readonly [number, number]>>(
  cType: string,
  fields: F,
  opts: { cMember?: string; size?: number } = {},
): Layout<Extract<keyof F, string>> {
  const table = {} as Record<Extract<keyof F, string>, Field>;
  let end = 0;
  for (const [name, [offset, size]] of Object.entries(fields) as [Extract<keyof F, string>, readonly [number, number]][]) {
    table[name] = { offset, size };
    end = Math.max(end, offset + size);
  }
  const result: Layout<Extract<keyof F, string>> = {
    cType,
    size: opts.size ?? Math.ceil(end / 8) * 8,
    complete: opts.size !== undefined,
    fields: table,
  };
  return opts.cMember === undefined ? result : { ...result, cMember: opts.cMember };
}

export type FieldValue = number | bigint | Uint8Array | string;

/** A typed window onto one instance of a layout inside a byte buffer. */
export class StructView<K extends string> {
  private readonly dv: DataView;

  constructor(
    readonly layout: Layout<K>,
    readonly bytes: Uint8Array,
    readonly base = 0,
  ) {
    if (base < 0 || base + layout.size > bytes.byteLength) {
      throw new RangeError(`${layout.cType} needs ${layout.size} bytes at ${base}, buffer has ${bytes.byteLength}`);
    }
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Writes a number (1/2/4/8-byte fields; negative numbers in two's complement) or bytes/string (arrays, zero-padded). */
  set(name: K, value: FieldValue): this {
    const { offset, size } = this.layout.fields[name];
    const at = this.base + offset;
    if (typeof value === 'string' || value instanceof Uint8Array) {
      const src = typeof value === 'string' ? new TextEncoder().encode(value) : value;
      if (src.length > size) throw new RangeError(`${String(name)} holds ${size} bytes, got ${src.length}`);
      this.bytes.fill(0, at, at + size);
      this.bytes.set(src, at);
      return this;
    }
    switch (size) {
      case 1:
        this.dv.setUint8(at, Number(value) & 0xff);
        break;
      case 2:
        this.dv.setUint16(at, Number(value) & 0xffff, true);
        break;
      case 4:
        this.dv.setUint32(at, Number(value) >>> 0, true);
        break;
      case 8:
        this.dv.setBigUint64(at, BigInt.asUintN(64, BigInt(value)), true);
        break;
      default:
        throw new RangeError(`${String(name)} is a ${size}-byte array, not a number`);
    }
    return this;
  }

  /** Reads a 1/2/4-byte field as an unsigned number. */
  num(name: K): number {
    const { offset, size } = this.layout.fields[name];
    const at = this.base + offset;
    if (size === 1) return this.dv.getUint8(at);
    if (size === 2) return this.dv.getUint16(at, true);
    if (size === 4) return this.dv.getUint32(at, true);
    if (size === 8) return Number(this.dv.getBigUint64(at, true));
    throw new RangeError(`${String(name)} is a ${size}-byte array, not a number`);
  }

  /** Reads a 4-byte field as a signed number. */
  s32(name: K): number {
    return this.dv.getInt32(this.base + this.layout.fields[name].offset, true);
  }

  /** Reads an 8-byte field. */
  u64(name: K): bigint {
    return this.dv.getBigUint64(this.base + this.layout.fields[name].offset, true);
  }

  /** A copy of an array field. */
  raw(name: K): Uint8Array {
    const { offset, size } = this.layout.fields[name];
    return this.bytes.slice(this.base + offset, this.base + offset + size);
  }

  /** A NUL-terminated char array field as a string. */
  str(name: K): string {
    const raw = this.raw(name);
    const nul = raw.indexOf(0);
    return new TextDecoder().decode(nul < 0 ? raw : raw.subarray(0, nul));
  }
}
