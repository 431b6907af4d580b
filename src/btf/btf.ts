import { decodeType } from './decode.js';
import { BtfError } from './errors.js';
import type { BtfStrings } from './strings.js';
import type { BtfKindName, BtfType } from './types.js';

/** The fields of struct btf_header as read (offsets relative to the header's end). */
export interface BtfHeader {
  magic: number;
  version: number;
  flags: number;
  hdrLen: number;
  typeOff: number;
  typeLen: number;
  strOff: number;
  strLen: number;
}

export interface BtfRecords {
  bytes: Uint8Array;
  view: DataView;
  offsets: Uint32Array;
  /** The type section as u32s in host byte order: the record at byte offset `o` is at `words[(o - typeStart) / 4]`. */
  words: Uint32Array;
  /** Byte offset of the type section in `bytes`. */
  typeStart: number;
}

/** libbpf's resolve depth limit: deeper chains are loops or nonsense. */
const MAX_RESOLVE_DEPTH = 32;
/** BPF is a 64-bit target. */
const POINTER_SIZE = 8;

const MODIFIERS = new Set<BtfKindName>(['VOLATILE', 'CONST', 'RESTRICT', 'TYPE_TAG']);

/**
 * Parsed BTF. `types[id]` is the type with that id (0 is void); for split BTF the base's types come
 * first and this BTF's own types start at `startId`.
 */
export class Btf {
  private nameIndex?: Map<string, BtfType[]>;
  private model?: BtfType[];

  constructor(
    /** The validated type records: `offsets[i]` is where type `startId + i` starts in `bytes`. */
    readonly records: BtfRecords,
    readonly strings: BtfStrings,
    readonly header: BtfHeader,
    readonly littleEndian: boolean,
    /** The first id of this BTF's own types: 1, or the base's count for split BTF. */
    readonly startId: number,
    readonly base?: Btf,
  ) {}

  /** Number of type ids, void included (btf__type_cnt). */
  get count(): number {
    return this.startId + this.records.offsets.length;
  }

  /**
   * Every type, index = type id, 0 = void. Built on first use: tools that only print the raw
   * records (the raw dump of vmlinux) never pay for 100k+ objects.
   */
  get types(): BtfType[] {
    if (!this.model) {
      const model: BtfType[] = this.base ? this.base.types.slice() : [{ kind: 'VOID', id: 0, name: '', nameOff: 0, info: 0, offset: 0 }];
      const { view, offsets } = this.records;
      for (let i = 0; i < offsets.length; i++) model.push(decodeType(view, this.littleEndian, this.strings, this.startId + i, offsets[i]!));
      this.model = model;
    }
    return this.model;
  }

  /** This BTF's own types, without the base's. */
  ownTypes(): BtfType[] {
    return this.types.slice(this.startId);
  }

  /** The BTF (this one or a base) that holds type `id`'s record, or undefined for void or an unknown id. */
  holderOf(id: number): Btf | undefined {
    if (id >= this.count || id === 0) return undefined;
    if (id >= this.startId) return this;
    return this.base?.holderOf(id);
  }

  type(id: number): BtfType {
    const t = this.types[id];
    if (t === undefined) throw new BtfError(`type id ${id} does not exist (the BTF has ${this.types.length - 1} types)`, undefined, id);
    return t;
  }

  /** All types named `name`, optionally of one kind, in id order. */
  byName(name: string, kind?: BtfKindName): BtfType[] {
    if (!this.nameIndex) {
      const index = new Map<string, BtfType[]>();
      for (const t of this.types) {
        if (!t.name) continue;
        const list = index.get(t.name);
        if (list) list.push(t);
        else index.set(t.name, [t]);
      }
      this.nameIndex = index;
    }
    const found = this.nameIndex.get(name) ?? [];
    return kind ? found.filter((t) => t.kind === kind) : found;
  }

  /** The first type named `name` (of `kind` when given). */
  find(name: string, kind?: BtfKindName): BtfType | undefined {
    return this.byName(name, kind)[0];
  }

  /** Follow const/volatile/restrict/type_tag to the type they qualify. */
  skipModifiers(id: number): number {
    return this.follow(id, (t) => MODIFIERS.has(t.kind));
  }

  /** Follow modifiers and typedefs to the underlying type. */
  skipModsAndTypedefs(id: number): number {
    return this.follow(id, (t) => MODIFIERS.has(t.kind) || t.kind === 'TYPEDEF');
  }

  private follow(id: number, skip: (t: BtfType) => boolean): number {
    for (let depth = 0; depth < MAX_RESOLVE_DEPTH; depth++) {
      const t = this.type(id);
      if (!skip(t)) return id;
      id = (t as { type: number }).type;
    }
    throw new BtfError(`type chain is deeper than ${MAX_RESOLVE_DEPTH} (a loop?)`, undefined, id);
  }

  /** Size in bytes of a value of type `id`, as libbpf's btf__resolve_size computes it. */
  resolveSize(id: number): number {
    let nelems = 1;
    let cur = id;
    for (let depth = 0; depth < MAX_RESOLVE_DEPTH; depth++) {
      const t = this.type(cur);
      switch (t.kind) {
        case 'INT': case 'ENUM': case 'ENUM64': case 'STRUCT': case 'UNION': case 'DATASEC': case 'FLOAT':
          return nelems * t.size;
        case 'PTR':
          return nelems * POINTER_SIZE;
        case 'TYPEDEF': case 'VOLATILE': case 'CONST': case 'RESTRICT': case 'TYPE_TAG': case 'VAR': case 'DECL_TAG':
          cur = t.type;
          break;
        case 'ARRAY':
          nelems *= t.nelems;
          if (nelems > 0xffffffff) throw new BtfError('array size overflows 32 bits', undefined, id);
          cur = t.type;
          break;
        default:
          throw new BtfError(`type [${cur}] (${t.kind}) has no size`, undefined, id);
      }
    }
    throw new BtfError(`type chain is deeper than ${MAX_RESOLVE_DEPTH} (a loop?)`, undefined, id);
  }

  /** A short C-like spelling of a type for messages: `struct foo`, `u32 *`, `char [16]`. */
  typeName(id: number): string {
    return this.spell(id, 0);
  }

  private spell(id: number, depth: number): string {
    if (depth > MAX_RESOLVE_DEPTH) return '...';
    const t = this.types[id];
    if (t === undefined) return `<bad type ${id}>`;
    const name = t.name || '(anon)';
    switch (t.kind) {
      case 'VOID': return 'void';
      case 'STRUCT': return `struct ${name}`;
      case 'UNION': return `union ${name}`;
      case 'ENUM': case 'ENUM64': return `enum ${name}`;
      case 'FWD': return `${t.union ? 'union' : 'struct'} ${name}`;
      case 'PTR': return `${this.spell(t.type, depth + 1)} *`;
      case 'CONST': return `const ${this.spell(t.type, depth + 1)}`;
      case 'VOLATILE': return `volatile ${this.spell(t.type, depth + 1)}`;
      case 'RESTRICT': return `${this.spell(t.type, depth + 1)} restrict`;
      case 'TYPE_TAG': return `${this.spell(t.type, depth + 1)} __attribute__((btf_type_tag("${t.name}")))`;
      case 'ARRAY': return `${this.spell(t.type, depth + 1)}[${t.nelems}]`;
      case 'FUNC_PROTO': return `${this.spell(t.returnType, depth + 1)} (${t.params.map((p) => (p.type === 0 ? '...' : this.spell(p.type, depth + 1))).join(', ')})`;
      default: return name;
    }
  }
}
