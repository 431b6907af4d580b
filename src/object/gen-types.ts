// `bpfts gen types`: TypeScript for an object's maps, programs and globals from its BTF (what
// bpf2go's -type and bpftool's `gen skeleton` give Go and C): an interface per C struct, union and
// enum the maps and globals use, in the BTF codec's conventions (src/btf/codec.ts), the map and
// program names as types, and codecs bound to the object's type ids.
import type { Btf, BtfComposite, BtfType } from '../btf/index.js';
import { memberNames } from '../btf/index.js';
import { BpfError } from '../errors.js';
import {
  BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH_OF_MAPS, BPF_MAP_TYPE_PROG_ARRAY, BPF_MAP_TYPE_QUEUE, BPF_MAP_TYPE_STACK, PERCPU_MAP_TYPES,
} from '../uapi/index.js';
import type { BpfObject } from './model.js';
import { dataVariables, laidOutBtf } from './variables.js';

/** Maps whose values user space reads as ids (prog arrays, maps of maps): numbers. */
const ID_VALUES = new Set([BPF_MAP_TYPE_PROG_ARRAY, BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH_OF_MAPS]);

export interface GenTypesOptions {
  /** Further types by C name (ring buffer and perf event records): struct, union, enum or typedef. */
  types?: readonly string[];
  /** The command line the header comment names. */
  command?: string;
}

const MAX_DEPTH = 32;

function pascal(name: string): string {
  const p = name.replace(/(^|_+)([a-zA-Z0-9])/g, (_, __, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, '');
  return /^[0-9]/.test(p) ? `T${p}` : p || 'Anon';
}

function quote(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name);
}

class Namer {
  readonly names = new Map<number, string>();
  readonly order: number[] = [];
  private readonly taken = new Set<string>(['Maps', 'MapName', 'ProgramName', 'Globals', 'TypedCollection', 'typed', 'typeIds', 'codecs', 'mapNames', 'programNames']);

  constructor(private readonly btf: Btf) {}

  /** The interface name of named struct/union/enum `id` (registering it to be emitted). */
  name(id: number, hint?: string): string {
    const existing = this.names.get(id);
    if (existing) return existing;
    const t = this.btf.type(id);
    let base = pascal(t.name || hint || 'Anon');
    if (t.kind === 'DATASEC') base = pascal(t.name.replace(/^\./, '')) || 'Section';
    let n = base;
    for (let i = 2; this.taken.has(n); i++) n = `${base}${i}`;
    this.taken.add(n);
    this.names.set(id, n);
    this.order.push(id);
    return n;
  }
}

/** The TypeScript type a value of BTF type `id` decodes to. */
function tsType(btf: Btf, namer: Namer, id: number, depth = 0): string {
  if (depth > MAX_DEPTH) return 'unknown';
  const t = btf.type(btf.skipModsAndTypedefs(id));
  switch (t.kind) {
    case 'INT':
      if (t.encoding & 4) return 'boolean';
      return t.size > 4 ? 'bigint' : 'number';
    case 'ENUM': case 'ENUM64':
      return t.name ? namer.name(t.id) : enumType(t);
    case 'PTR':
      return 'bigint';
    case 'FLOAT':
      return t.size === 4 || t.size === 8 ? 'number' : 'Uint8Array';
    case 'ARRAY': {
      const elem = btf.type(btf.skipModsAndTypedefs(t.type));
      if (elem.kind === 'INT' && elem.size === 1 && ((elem.encoding & 2) !== 0 || elem.name === 'char')) return 'string | number[]';
      const inner = tsType(btf, namer, t.type, depth + 1);
      return /^[A-Za-z0-9]+$/.test(inner) ? `${inner}[]` : `(${inner})[]`;
    }
    case 'STRUCT': case 'UNION':
      return t.name ? namer.name(t.id) : `{ ${members(btf, namer, t, depth + 1).join('; ')} }`;
    case 'DATASEC':
      return namer.name(t.id);
    case 'VAR':
      return tsType(btf, namer, t.type, depth + 1);
    default:
      return 'unknown';
  }
}

function enumType(t: Extract<BtfType, { kind: 'ENUM' | 'ENUM64' }>): string {
  const names = (t.values as { name: string }[]).map((v) => JSON.stringify(v.name));
  return [...names, t.size > 4 ? 'bigint' : 'number'].join(' | ');
}

/** `name: type` for each member, anonymous struct/union members flattened as the codec does. */
function members(btf: Btf, namer: Namer, t: BtfComposite, depth: number): string[] {
  return t.members.flatMap((m) => {
    const inner = btf.type(btf.skipModsAndTypedefs(m.type));
    if (m.name === '' && (inner.kind === 'STRUCT' || inner.kind === 'UNION')) return members(btf, namer, inner, depth + 1);
    const type = m.bitfieldSize > 0 && (inner.kind === 'INT') ? (inner.size > 4 ? 'bigint' : 'number') : tsType(btf, namer, m.type, depth);
    return [`${quote(m.name)}: ${type}`];
  });
}

function declaration(btf: Btf, namer: Namer, id: number): string {
  const t = btf.type(id);
  const name = namer.names.get(id)!;
  const c = t.kind === 'DATASEC' ? `section ${t.name}` : `${t.kind.toLowerCase().replace('64', '')} ${t.name}`;
  if (t.kind === 'ENUM' || t.kind === 'ENUM64') return `/** ${c}: the enumerator's name, or the number when no enumerator has it. */\nexport type ${name} = ${enumType(t)};\n`;
  if (t.kind === 'DATASEC') {
    const vars = t.vars.map((v) => `  ${quote(btf.type(v.type).name)}: ${tsType(btf, namer, v.type)};`);
    return `/** ${c}. */\nexport interface ${name} {\n${vars.join('\n')}\n}\n`;
  }
  if (t.kind !== 'STRUCT' && t.kind !== 'UNION') return '';
  const body = members(btf, namer, t, 0).map((m) => `  ${m};`);
  // Checked here so that a member the codec would not produce never reaches the interface.
  if (memberNames(btf, t).length !== body.length) throw new BpfError(`${c}: members do not match the codec's`);
  return `/** ${c}${t.kind === 'UNION' ? ' (every member decoded; on encode, give the ones to set)' : ''}. */\nexport interface ${name} {\n${body.join('\n')}\n}\n`;
}

/** The TypeScript module `bpfts gen types` writes for `obj`. */
export function generateTypes(obj: BpfObject, options: GenTypesOptions = {}): string {
  const btf = laidOutBtf(obj);
  if (!btf) throw new BpfError('the object has no usable BTF: there are no types to generate', { hint: 'build it with clang -g' });
  const namer = new Namer(btf);
  const codecIds = new Map<string, number>();
  const named = (id: number | undefined, hint: string): string => {
    if (!id) return 'Uint8Array';
    const t = btf.type(btf.skipModsAndTypedefs(id));
    const ts = tsType(btf, namer, id);
    if ((t.kind === 'STRUCT' || t.kind === 'UNION' || t.kind === 'ENUM' || t.kind === 'ENUM64') && t.name) codecIds.set(namer.name(t.id), id);
    else codecIds.set(pascal(hint), id);
    return ts;
  };
  for (const name of options.types ?? []) {
    const t = btf.byName(name).find((x) => ['STRUCT', 'UNION', 'ENUM', 'ENUM64', 'TYPEDEF'].includes(x.kind));
    if (!t) throw new BpfError(`the object's BTF has no struct, union, enum or typedef named '${name}'`);
    const resolved = btf.type(btf.skipModsAndTypedefs(t.id));
    const ts = tsType(btf, namer, t.id);
    if (!resolved.name || t.kind === 'TYPEDEF') {
      codecIds.set(pascal(name), t.id);
      if (!namer.names.has(resolved.id)) namer.names.set(t.id, pascal(name));
    } else codecIds.set(ts, t.id);
  }
  const mapLines: string[] = [];
  const mapNames: string[] = [];
  for (const m of obj.maps) {
    mapNames.push(m.name);
    const key = m.type === BPF_MAP_TYPE_QUEUE || m.type === BPF_MAP_TYPE_STACK ? 'Uint8Array' : named(m.keyTypeId, `${m.name}_key`);
    let value = ID_VALUES.has(m.type) ? 'number' : named(m.valueTypeId, `${m.name}_value`);
    if (PERCPU_MAP_TYPES.has(m.type)) value = /^[A-Za-z0-9]+$/.test(value) ? `${value}[]` : `(${value})[]`;
    mapLines.push(`  ${quote(m.name)}: BpfMap<${key}, ${value}>;`);
  }
  const vars = dataVariables(obj, btf);
  for (const g of obj.globals) {
    const sec = btf.find(g.section, 'DATASEC');
    if (!sec || !vars.some((v) => v.section === g.section)) continue;
    mapNames.push(g.section);
    mapLines.push(`  ${quote(g.section)}: BpfMap<number, ${tsType(btf, namer, sec.id)}>;`);
  }
  const programs = obj.programs.filter((p) => p.kind === 'entry').map((p) => p.name);
  const decls: string[] = [];
  for (let i = 0; i < namer.order.length; i++) decls.push(declaration(btf, namer, namer.order[i]!));
  for (const [name, id] of codecIds) {
    if (![...namer.names.values()].includes(name)) decls.push(`export type ${name} = ${tsType(btf, namer, id)};\n`);
  }
  const globals = vars.map((v) => `  ${quote(v.name)}: ${tsType(btf, namer, v.typeId)};`);
  return `// Generated by \`${options.command ?? 'bpfts gen types'}\`: do not edit.
import { BtfCodec, btfFromElf, type CValue } from 'bpfts';
import type { BpfMap, Collection, Program } from 'bpfts/loader';

${decls.filter((d) => d).join('\n')}
/** The object's maps (and global data sections) with their key and value types. */
export interface Maps {
${mapLines.join('\n')}
}

export type MapName = keyof Maps;
export const mapNames = [${mapNames.map((n) => JSON.stringify(n)).join(', ')}] as const;
export const programNames = [${programs.map((p) => JSON.stringify(p)).join(', ')}] as const;
export type ProgramName = (typeof programNames)[number];

/** The global variables of .data, .bss and .rodata. */
export interface Globals {
${globals.join('\n')}
}

/** A Collection of this object, typed: \`typed(Collection.load('obj.o')).map('flows').get(key)\`. */
export interface TypedCollection {
  map<N extends MapName>(name: N): Maps[N];
  program(name: ProgramName): Program;
  readonly globals: {
    get<N extends keyof Globals>(name: N): Globals[N];
    set<N extends keyof Globals>(name: N, value: Globals[N]): void;
  };
  close(): void;
  closeOnExit(): TypedCollection;
  [Symbol.dispose](): void;
}

export function typed(coll: Collection): TypedCollection {
  return coll as unknown as TypedCollection;
}

/** BTF type ids of the generated types in this object. */
export const typeIds = {
${[...codecIds].map(([n, id]) => `  ${n}: ${id},`).join('\n')}
} as const;

export interface Codec<T> {
  readonly size: number;
  encode(value: T | Uint8Array): Uint8Array;
  decode(bytes: Uint8Array): T;
}

export interface Codecs {
${[...codecIds.keys()].map((n) => `  ${n}: Codec<${n}>;`).join('\n')}
}

/** A codec for each generated type, over the BTF of this object's bytes (the bpfts runtime codec). */
export function codecs(object: Uint8Array): Codecs {
  const { btf } = btfFromElf(object);
  const out: Record<string, Codec<unknown>> = {};
  for (const [name, id] of Object.entries(typeIds)) {
    const codec = new BtfCodec(btf, id);
    out[name] = { size: codec.size, encode: (v) => codec.encode(v as CValue), decode: (b) => codec.decode(b) };
  }
  return out as unknown as Codecs;
}
`;
}
