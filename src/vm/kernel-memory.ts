// Synthetic kernel memory for tracing programs: objects a user describes in JSON, laid out with a
// kernel's BTF, each in a region of its own, so that an `@name` pointer is a real address the
// program can follow with bpf_probe_read_kernel() or a BTF pointer load. Addresses outside every
// object read as the kernel's probe_read failure; nothing of the host is ever reachable.
//
//   {"skb": {"type": "struct sk_buff", "value": {"len": 84, "protocol": 8, "data": "@pkt"}},
//    "pkt": {"bytes": "45000054..."}, "comm": {"string": "ping"}, "buf": {"bytes": "00", "user": true}}
//
// Values follow `--map`'s forms (map-json.ts: numbers, hex byte strings, byte arrays, objects by
// member name), plus `"@name"` / `"@name+OFFSET"` for an object's address, members reached through
// anonymous structs and unions by their own name, bitfields, and text for char arrays.
import { BtfCodec, type Btf, type BtfType } from '../btf/index.js';
import { encode } from './map-json.js';
import type { Memory } from './memory.js';
import { EmulatorError } from './object.js';

export interface KernelObjectSpec {
  /** A BTF type of the target kernel: `struct sk_buff`, `union X`, `enum X`, `u32`, `char[16]`, `struct iphdr[2]`. */
  type?: string;
  /** The value, laid out as `type`; members left out are zero. */
  value?: unknown;
  /** Raw bytes (hex, or an array of byte values), for untyped memory such as packet data. */
  bytes?: string | number[];
  /** A NUL-terminated string. */
  string?: string;
  /** The object's size in bytes when it should be larger than its type or contents. */
  size?: number;
  /** A user-space object: bpf_probe_read_user() reads it, bpf_probe_read_kernel() does not. */
  user?: boolean;
}

interface Placed {
  pointer: bigint;
  bytes: Uint8Array;
  user: boolean;
}

const ADDRESS = /^@([^+\s]+)(?:\+(0x[0-9a-f]+|\d+))?$/i;
const INTEGER = /^-?(0x[0-9a-f]+|\d+)$/i;

function fail(where: string, why: string): EmulatorError {
  return new EmulatorError(`--memory: ${where}: ${why}`);
}

/** A member reached by name, looking through anonymous members as C does. */
interface MemberPath {
  bitOffset: number;
  type: number;
  bitfieldSize: number;
}

function findMember(btf: Btf, t: BtfType & { members: { name: string; type: number; bitOffset: number; bitfieldSize: number }[] }, name: string, depth = 0): MemberPath | undefined {
  for (const m of t.members) {
    if (m.name === name) return { bitOffset: m.bitOffset, type: m.type, bitfieldSize: m.bitfieldSize };
    if (m.name === '' && depth < 32) {
      const inner = btf.type(btf.skipModsAndTypedefs(m.type));
      if (inner.kind !== 'STRUCT' && inner.kind !== 'UNION') continue;
      const found = findMember(btf, inner, name, depth + 1);
      if (found) return { ...found, bitOffset: found.bitOffset + m.bitOffset };
    }
  }
  return undefined;
}

function isChar(btf: Btf, id: number): boolean {
  const t = btf.type(btf.skipModsAndTypedefs(id));
  return t.kind === 'INT' && t.size === 1;
}

/** The objects of one run, mapped into the emulator's address space. */
export class KernelMemory {
  private readonly objects = new Map<string, Placed>();
  private readonly userRegions = new Set<number>();

  constructor(
    private readonly memory: Memory,
    private readonly btf: Btf | undefined,
  ) {}

  /** Unmap the previous objects and map `specs`. */
  load(specs: Readonly<Record<string, KernelObjectSpec>> | undefined): void {
    this.clear();
    const entries = Object.entries(specs ?? {});
    const layouts = entries.map(([name, spec]) => [name, spec, this.sizeOf(name, spec)] as const);
    for (const [name, spec, size] of layouts) {
      const bytes = new Uint8Array(size);
      const pointer = this.memory.map(bytes, `kernel object '${name}'`, false);
      this.objects.set(name, { pointer, bytes, user: spec.user === true });
      if (spec.user) this.userRegions.add(Number(pointer >> 32n));
    }
    for (const [name, spec] of layouts) {
      const out = this.objects.get(name)!.bytes;
      if (spec.bytes !== undefined) out.set(this.rawBytes(spec.bytes, name));
      else if (spec.string !== undefined) out.set(new TextEncoder().encode(spec.string));
      else if (spec.value !== undefined) {
        const { typeId, count } = this.typeOf(name, spec.type!);
        const one = this.btf!.resolveSize(typeId);
        if (count === undefined) this.place(out, 0, typeId, spec.value, name);
        else {
          if (!Array.isArray(spec.value)) throw fail(name, `'${spec.type}' is an array; give a JSON array`);
          if (spec.value.length > count) throw fail(name, `${spec.value.length} elements given, '${spec.type}' has ${count}`);
          spec.value.forEach((v, i) => this.place(out, i * one, typeId, v, `${name}[${i}]`));
        }
      }
    }
  }

  clear(): void {
    for (const o of this.objects.values()) this.memory.unmap(o.pointer);
    this.objects.clear();
    this.userRegions.clear();
  }

  /** The address of object `name`. */
  address(name: string): bigint {
    const o = this.objects.get(name);
    if (o === undefined) throw new EmulatorError(`--memory: no object named '${name}'`, { hint: `objects: ${[...this.objects.keys()].join(', ') || '(none)'}` });
    return o.pointer;
  }

  /** A number, `"@name[+OFFSET]"`, or a decimal or 0x-hex string, as 64 bits. */
  readonly resolve = (v: unknown, where: string): bigint => {
    if (typeof v === 'bigint') return BigInt.asUintN(64, v);
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw fail(where, `${v} is not an integer JSON holds exactly; give it as a "0x..." string`);
      return BigInt.asUintN(64, BigInt(v));
    }
    if (typeof v === 'string') {
      const a = ADDRESS.exec(v);
      if (a) return this.address(a[1]!) + BigInt(a[2] ?? 0);
      if (INTEGER.test(v)) return BigInt.asUintN(64, v.startsWith('-') ? -BigInt(v.slice(1)) : BigInt(v));
    }
    throw fail(where, `${JSON.stringify(v)} is not a number, "0x..." or "@object"`);
  };

  /**
   * What bpf_probe_read_*() reads at `p`: a copy of `len` bytes of one mapped region, or undefined
   * (the kernel's -EFAULT) when they are not all there or belong to the other address space.
   */
  read(p: bigint, len: number, space: 'kernel' | 'user' | 'any'): Uint8Array | undefined {
    const id = Number(BigInt.asUintN(64, p) >> 32n);
    if (!this.inSpace(id, space)) return undefined;
    return this.memory.slice(id, Number(p & 0xffffffffn), len, false)?.slice();
  }

  /**
   * What strncpy_from_*_nofault() reads at `p` for a buffer of `size` bytes: the string without its
   * NUL, at most size - 1 bytes; undefined when memory ends before the NUL or that many bytes.
   */
  readString(p: bigint, size: number, space: 'kernel' | 'user' | 'any'): Uint8Array | undefined {
    const id = Number(BigInt.asUintN(64, p) >> 32n);
    const off = Number(p & 0xffffffffn);
    const bytes = this.inSpace(id, space) ? this.memory.region(id)?.bytes : undefined;
    if (bytes === undefined || off >= bytes.length) return undefined;
    const limit = Math.min(bytes.length, off + size - 1);
    const nul = bytes.subarray(off, limit).indexOf(0);
    if (nul >= 0) return bytes.slice(off, off + nul);
    return off + size - 1 <= bytes.length ? bytes.slice(off, off + size - 1) : undefined;
  }

  private inSpace(id: number, space: 'kernel' | 'user' | 'any'): boolean {
    if (space === 'any') return true;
    return this.userRegions.has(id) === (space === 'user');
  }

  private rawBytes(b: string | number[], where: string): Uint8Array {
    try {
      return encode(b, new BtfCodec(undefined, 0, Array.isArray(b) ? b.length : b.replace(/^0x/i, '').replace(/[\s:]/g, '').length / 2), where);
    } catch (e) {
      throw fail(where, (e as Error).message);
    }
  }

  private sizeOf(name: string, spec: KernelObjectSpec): number {
    const given = [spec.bytes !== undefined, spec.string !== undefined, spec.type !== undefined].filter(Boolean).length;
    if (given !== 1) throw fail(name, 'give one of "type" (with "value"), "bytes" and "string"');
    if (spec.value !== undefined && spec.type === undefined) throw fail(name, '"value" needs a "type"');
    let size: number;
    if (spec.bytes !== undefined) size = this.rawBytes(spec.bytes, name).length;
    else if (spec.string !== undefined) size = new TextEncoder().encode(spec.string).length + 1;
    else {
      const { typeId, count } = this.typeOf(name, spec.type!);
      size = this.btf!.resolveSize(typeId) * (count ?? 1);
    }
    if (spec.size !== undefined) {
      if (!Number.isInteger(spec.size) || spec.size < size) throw fail(name, `"size" ${spec.size} is smaller than its contents (${size} bytes)`);
      size = spec.size;
    }
    return size;
  }

  /** The BTF type a `"type"` names, and its element count for `TYPE[N]`. */
  private typeOf(where: string, spelled: string): { typeId: number; count: number | undefined } {
    const btf = this.btf;
    if (btf === undefined) throw fail(where, `"type": "${spelled}" needs the target kernel's BTF`);
    const m = /^\s*(?:(struct|union|enum)\s+)?([A-Za-z_]\w*)\s*(?:\[(\d+)\])?\s*$/.exec(spelled);
    if (m === null) throw fail(where, `cannot read the type '${spelled}'`);
    const [, tag, name, n] = m as unknown as [string, string | undefined, string, string | undefined];
    const kinds = tag === 'struct' ? ['STRUCT'] : tag === 'union' ? ['UNION'] : tag === 'enum' ? ['ENUM', 'ENUM64'] : ['INT', 'TYPEDEF', 'FLOAT'];
    const found = btf.byName(name).find((t) => kinds.includes(t.kind));
    if (found === undefined) throw fail(where, `the target BTF has no type '${spelled.replace(/\[\d+\]/, '').trim()}'`);
    return { typeId: found.id, count: n === undefined ? undefined : Number(n) };
  }

  /** Write `v` as BTF type `typeId` at byte `offset` of `out`. */
  private place(out: Uint8Array, offset: number, typeId: number, v: unknown, where: string): void {
    const btf = this.btf!;
    const id = btf.skipModsAndTypedefs(typeId);
    const t = btf.type(id);
    const size = btf.resolveSize(id);
    if (offset + size > out.length) throw fail(where, 'does not fit in the object');
    if ((t.kind === 'STRUCT' || t.kind === 'UNION') && typeof v === 'object' && v !== null && !Array.isArray(v)) {
      for (const [name, mv] of Object.entries(v)) {
        const m = findMember(btf, t, name);
        if (m === undefined) throw fail(where, `${btf.typeName(id)} has no member '${name}'`);
        if (m.bitfieldSize > 0) this.placeBits(out, offset, m, mv, `${where}.${name}`);
        else this.place(out, offset + m.bitOffset / 8, m.type, mv, `${where}.${name}`);
      }
      return;
    }
    if (t.kind === 'ARRAY' && typeof v === 'string' && isChar(btf, t.type)) {
      const text = new TextEncoder().encode(v);
      if (text.length > size) throw fail(where, `'${v}' is longer than the ${size} bytes of ${btf.typeName(id)}`);
      out.set(text, offset);
      return;
    }
    if (t.kind === 'ARRAY' && Array.isArray(v) && !v.every((e) => typeof e === 'number')) {
      const esize = btf.resolveSize(t.type);
      if (v.length > t.nelems) throw fail(where, `${v.length} elements given, ${btf.typeName(id)} has ${t.nelems}`);
      v.forEach((e, i) => this.place(out, offset + i * esize, t.type, e, `${where}[${i}]`));
      return;
    }
    const scalar = t.kind === 'INT' || t.kind === 'PTR' || t.kind === 'ENUM' || t.kind === 'ENUM64';
    let value = scalar && typeof v === 'string' && ADDRESS.test(v) ? this.resolve(v, where) : v;
    if ((t.kind === 'ENUM' || t.kind === 'ENUM64') && typeof v === 'string' && /^[A-Za-z_]\w*$/.test(v)) {
      const e = (t.values as { name: string; value: number | bigint }[]).find((x) => x.name === v);
      if (e === undefined) throw fail(where, `${btf.typeName(id)} has no enumerator ${v}`);
      value = BigInt(e.value);
    }
    try {
      out.set(encode(value, new BtfCodec(btf, id, size), where), offset);
    } catch (e) {
      if (e instanceof EmulatorError) throw e;
      throw fail(where, (e as Error).message.replace(`${where}: `, ''));
    }
  }

  private placeBits(out: Uint8Array, offset: number, m: MemberPath, v: unknown, where: string): void {
    const value = this.resolve(v, where);
    const width = BigInt(m.bitfieldSize);
    if (value >= 1n << width) throw fail(where, `${value} does not fit in a ${m.bitfieldSize}-bit field`);
    const first = offset + Math.floor(m.bitOffset / 8);
    const shift = BigInt(m.bitOffset % 8);
    const span = Math.ceil((Number(shift) + m.bitfieldSize) / 8);
    let word = 0n;
    for (let i = span - 1; i >= 0; i--) word = (word << 8n) | BigInt(out[first + i]!);
    const mask = ((1n << width) - 1n) << shift;
    word = (word & ~mask) | (value << shift);
    for (let i = 0; i < span; i++, word >>= 8n) out[first + i] = Number(word & 0xffn);
  }
}
