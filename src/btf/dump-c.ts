import type { Btf } from './btf.js';
import { BtfError } from './errors.js';
import type { BtfComposite, BtfEnum, BtfEnum64, BtfType } from './types.js';

// `bpftool btf dump file FILE format c` (bpftool v7.1 over libbpf 1.1's btf_dump): types ordered so
// each is defined before it is embedded, forward declarations where a pointer suffices, anonymous
// types inlined, explicit bit padding, and packed structs detected from their layout.

const POINTER_SIZE = 8;
/**
 * Bounds for corrupt BTF: chains of references far deeper than any C code has, and padding lines,
 * which a member at a huge bit offset or a struct of 4 GiB would have the dump write by the hundred
 * million (a string longer than V8 allows, after a minute of work).
 */
const MAX_TYPE_DEPTH = 2000;
const MAX_PADDING_LINES = 1 << 20;
const MAX_ORDER_STEPS = 50_000_000;

const enum Order { None, Ordering, Ordered }
const enum Emit { None, Emitting, Emitted }

const HEADER = '#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n#endif\n\n';
const FOOTER = '#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n';

function isMod(t: BtfType): boolean {
  return t.kind === 'VOLATILE' || t.kind === 'CONST' || t.kind === 'RESTRICT' || t.kind === 'TYPE_TAG';
}

function pfx(lvl: number): string {
  return '\t'.repeat(lvl);
}

class CDumper {
  private readonly out: string[] = [];
  private readonly order: Uint8Array;
  private readonly emit: Uint8Array;
  private readonly fwdEmitted: Uint8Array;
  private readonly referenced: Uint8Array;
  private readonly names: (string | undefined)[] = [];
  private readonly typeNames = new Map<string, number>();
  private readonly identNames = new Map<string, number>();
  private queue: number[] = [];
  private paddingLines = 0;
  private orderSteps = 0;

  constructor(private readonly btf: Btf, private readonly types: BtfType[] = btf.types) {
    const n = types.length;
    this.order = new Uint8Array(n);
    this.emit = new Uint8Array(n);
    this.fwdEmitted = new Uint8Array(n);
    this.referenced = new Uint8Array(n);
    for (const t of types) for (const ref of refsOf(t)) this.referenced[ref] = 1;
  }

  private p(s: string): void {
    this.out.push(s);
  }

  dumpAll(): string {
    this.p(HEADER);
    for (let id = 1; id < this.types.length; id++) {
      this.queue = [];
      this.orderType(id, false);
      for (const q of this.queue) this.emitType(q, 0);
    }
    this.p(FOOTER);
    return this.out.join('');
  }

  /**
   * Returns whether the type is a "strong" (must be defined first) dependency. Only corrupt BTF has
   * a loop that no named struct behind a pointer breaks: the walk would recurse without end, so its
   * depth is bounded, and so is its total work, which a web of function prototypes makes exponential.
   */
  private orderType(id: number, throughPtr: boolean, depth = 0): boolean {
    const state = this.order[id];
    if (state === Order.Ordered) return true;
    const t = this.types[id]!;
    if (state === Order.Ordering) {
      if ((t.kind === 'STRUCT' || t.kind === 'UNION') && throughPtr && t.name) return false;
      throw new BtfError('unsatisfiable type cycle', undefined, id);
    }
    if (depth > MAX_TYPE_DEPTH) throw new BtfError(`type chain deeper than ${MAX_TYPE_DEPTH} types (or a loop)`, undefined, id);
    if (++this.orderSteps > MAX_ORDER_STEPS) throw new BtfError(`ordering the types took more than ${MAX_ORDER_STEPS} steps`, undefined, id);
    const next = depth + 1;
    switch (t.kind) {
      case 'INT': case 'FLOAT':
        this.order[id] = Order.Ordered;
        return false;
      case 'PTR': {
        const strong = this.orderType(t.type, true, next);
        this.order[id] = Order.Ordered;
        return strong;
      }
      case 'ARRAY':
        return this.orderType(t.type, false, next);
      case 'STRUCT': case 'UNION':
        if (throughPtr && t.name) return false;
        this.order[id] = Order.Ordering;
        for (const m of t.members) this.orderType(m.type, false, next);
        if (t.name) this.queue.push(id);
        this.order[id] = Order.Ordered;
        return true;
      case 'ENUM': case 'ENUM64': case 'FWD':
        // Named or never-referenced ones are top-level declarations.
        if (t.name || !this.referenced[id]) this.queue.push(id);
        this.order[id] = Order.Ordered;
        return true;
      case 'TYPEDEF': {
        const strong = this.orderType(t.type, throughPtr, next);
        if (throughPtr && !strong) return false;
        this.queue.push(id);
        this.order[id] = Order.Ordered;
        return true;
      }
      case 'VOLATILE': case 'CONST': case 'RESTRICT': case 'TYPE_TAG':
        return this.orderType(t.type, throughPtr, next);
      case 'FUNC_PROTO': {
        const strong = this.orderType(t.returnType, throughPtr, next);
        for (const p of t.params) this.orderType(p.type, throughPtr, next);
        return strong;
      }
      default:
        this.order[id] = Order.Ordered;
        return false;
    }
  }

  private emitType(id: number, contId: number): void {
    const topLevel = contId === 0;
    if (this.emit[id] === Emit.Emitted) return;
    const t = this.types[id]!;
    if (this.emit[id] === Emit.Emitting) {
      if (this.fwdEmitted[id]) return;
      if (t.kind === 'STRUCT' || t.kind === 'UNION') {
        if (id === contId) return;
        if (!t.name) throw new BtfError('anonymous struct/union loop', undefined, id);
        this.p(`${this.structFwd(t)};\n\n`);
        this.fwdEmitted[id] = 1;
      } else if (t.kind === 'TYPEDEF') {
        if (!this.blacklisted(t)) this.p(`${this.typedefDef(t)};\n\n`);
        this.fwdEmitted[id] = 1;
      }
      return;
    }
    switch (t.kind) {
      case 'INT': case 'FLOAT': case 'VOID':
        this.emit[id] = Emit.Emitted;
        break;
      case 'ENUM': case 'ENUM64':
        if (topLevel) this.p(`${this.enumDef(t, 0)};\n\n`);
        this.emit[id] = Emit.Emitted;
        break;
      case 'PTR': case 'VOLATILE': case 'CONST': case 'RESTRICT': case 'TYPE_TAG': case 'ARRAY':
        this.emitType(t.type, contId);
        break;
      case 'FWD':
        this.p(`${t.union ? 'union' : 'struct'} ${this.typeName(id)};\n\n`);
        this.emit[id] = Emit.Emitted;
        break;
      case 'TYPEDEF':
        this.emit[id] = Emit.Emitting;
        this.emitType(t.type, id);
        if (!this.fwdEmitted[id] && !this.blacklisted(t)) this.p(`${this.typedefDef(t)};\n\n`);
        this.emit[id] = Emit.Emitted;
        break;
      case 'STRUCT': case 'UNION':
        this.emit[id] = Emit.Emitting;
        if (topLevel || !t.name) {
          const next = t.name ? id : contId;
          for (const m of t.members) this.emitType(m.type, next);
        } else if (!this.fwdEmitted[id] && id !== contId) {
          this.p(`${this.structFwd(t)};\n\n`);
          this.fwdEmitted[id] = 1;
        }
        if (topLevel) {
          this.p(`${this.structDef(t, 0)};\n\n`);
          this.emit[id] = Emit.Emitted;
        } else {
          this.emit[id] = Emit.None;
        }
        break;
      case 'FUNC_PROTO':
        this.emitType(t.returnType, contId);
        for (const p of t.params) this.emitType(p.type, contId);
        break;
      default:
        break;
    }
  }

  private blacklisted(t: BtfType): boolean {
    return t.name === '__builtin_va_list';
  }

  private resolveName(id: number, map: Map<string, number>): string {
    const cached = this.names[id];
    if (cached !== undefined) return cached;
    const t = this.types[id]!;
    if (!t.name) return '';
    const dups = (map.get(t.name) ?? 0) + 1;
    map.set(t.name, dups);
    const name = dups > 1 ? `${t.name}___${dups}` : t.name;
    this.names[id] = name;
    return name;
  }

  private typeName(id: number): string {
    return this.resolveName(id, this.typeNames);
  }

  private identName(id: number): string {
    return this.resolveName(id, this.identNames);
  }

  private structFwd(t: BtfComposite): string {
    return `${t.kind === 'STRUCT' ? 'struct' : 'union'} ${this.typeName(t.id)}`;
  }

  private typedefDef(t: BtfType & { type: number }): string {
    const name = this.identName(t.id);
    if (t.type === 0 && name === '__gnuc_va_list') return 'typedef __builtin_va_list __gnuc_va_list';
    return `typedef ${this.typeDecl(t.type, name, 0)}`;
  }

  private enumDef(t: BtfEnum | BtfEnum64, lvl: number): string {
    let s = `enum${t.name ? ' ' : ''}${this.typeName(t.id)}`;
    if (t.values.length === 0) return s;
    s += ' {';
    for (const v of t.values) {
      const dups = (this.identNames.get(v.name) ?? 0) + 1;
      this.identNames.set(v.name, dups);
      const name = dups > 1 ? `${v.name}___${dups}` : v.name;
      const suffix = t.kind === 'ENUM64' ? (t.signed ? 'LL' : 'ULL') : '';
      s += `\n${pfx(lvl + 1)}${name} = ${v.value}${suffix},`;
    }
    return `${s}\n${pfx(lvl)}}`;
  }

  private alignOf(id: number): number {
    const t = this.types[id]!;
    switch (t.kind) {
      case 'INT': case 'ENUM': case 'ENUM64': case 'FLOAT':
        return Math.min(POINTER_SIZE, t.size);
      case 'PTR':
        return POINTER_SIZE;
      case 'TYPEDEF': case 'VOLATILE': case 'CONST': case 'RESTRICT': case 'TYPE_TAG': case 'ARRAY':
        return this.alignOf(t.type);
      case 'STRUCT': case 'UNION': {
        let max = 1;
        for (const m of t.members) {
          const a = this.alignOf(m.type);
          if (a <= 0) return a;
          max = Math.max(max, a);
          if (m.bitfieldSize === 0 && m.bitOffset % (8 * a) !== 0) return 1;
        }
        return t.size % max !== 0 ? 1 : max;
      }
      default:
        return 0;
    }
  }

  private isPacked(t: BtfComposite): boolean {
    let max = 1;
    for (const m of t.members) {
      const a = this.alignOf(m.type);
      if (a && m.bitfieldSize === 0 && m.bitOffset % (8 * a) !== 0) return true;
      max = Math.max(max, a);
    }
    return t.size % max !== 0;
  }

  private sizeOf(id: number): number {
    try {
      return Math.max(0, this.btf.resolveSize(id));
    } catch {
      return 0;
    }
  }

  private bitPadding(id: number, curOff: number, nextOff: number, nextAlign: number, inBitfield: boolean, lvl: number): string {
    if (curOff >= nextOff) return '';
    this.paddingLines += Math.ceil((nextOff - curOff) / (POINTER_SIZE * 8));
    if (this.paddingLines > MAX_PADDING_LINES) {
      throw new BtfError(`${nextOff - curOff} bits of padding: the C dump stops at ${MAX_PADDING_LINES} padding lines`, undefined, id);
    }
    const pads: [string, number][] = [['long', POINTER_SIZE * 8], ['int', 32], ['short', 16], ['char', 8]];
    let s = '';
    let padType = 'char';
    let padBits = 8;
    let newOff = curOff;
    for (const [name, bits] of pads) {
      padType = name;
      padBits = bits;
      newOff = Math.ceil(curOff / bits) * bits;
      if (newOff <= nextOff) break;
    }
    if (newOff > curOff && newOff <= nextOff) {
      if (inBitfield || (newOff === nextOff && Math.ceil(curOff / (nextAlign * 8)) * nextAlign * 8 !== newOff) || (newOff !== nextOff && nextOff - newOff <= newOff - curOff)) {
        s += `\n${pfx(lvl)}${padType}: ${inBitfield ? newOff - curOff : 0};`;
      }
      curOff = newOff;
    }
    while (curOff !== nextOff) {
      const bits = Math.min(nextOff - curOff, padBits);
      if (bits === padBits) {
        s += `\n${pfx(lvl)}${padType}: ${padBits};`;
        curOff += bits;
        continue;
      }
      for (let i = pads.length - 1; i >= 0; i--) {
        const [name, pb] = pads[i]!;
        if (pb < bits) continue;
        s += `\n${pfx(lvl)}${name}: ${bits};`;
        curOff += bits;
        break;
      }
    }
    return s;
  }

  private structDef(t: BtfComposite, lvl: number): string {
    const isStruct = t.kind === 'STRUCT';
    const align = this.alignOf(t.id);
    const packed = isStruct ? this.isPacked(t) : false;
    let s = `${isStruct ? 'struct' : 'union'}${t.name ? ' ' : ''}${this.typeName(t.id)} {`;
    let off = 0;
    let prevBitfield = false;
    for (const m of t.members) {
      const mAlign = packed ? 1 : this.alignOf(m.type);
      const inBitfield = prevBitfield && m.bitfieldSize !== 0;
      s += this.bitPadding(t.id, off, m.bitOffset, mAlign, inBitfield, lvl + 1);
      s += `\n${pfx(lvl + 1)}${this.typeDecl(m.type, m.name, lvl + 1)}`;
      if (m.bitfieldSize) {
        s += `: ${m.bitfieldSize}`;
        off = m.bitOffset + m.bitfieldSize;
        prevBitfield = true;
      } else {
        off = m.bitOffset + this.sizeOf(m.type) * 8;
        prevBitfield = false;
      }
      s += ';';
    }
    if (isStruct) s += this.bitPadding(t.id, off, t.size * 8, align, false, lvl + 1);
    s += t.members.length || t.size ? `\n${pfx(lvl)}}` : '}';
    if (packed) s += ' __attribute__((packed))';
    return s;
  }

  /** A declaration of `name` with type `id`, e.g. `int (*name)[4]`. */
  typeDecl(id: number, name: string, lvl: number): string {
    const stack: number[] = [];
    for (let depth = 0; ; depth++) {
      if (depth > 1000) throw new BtfError('declaration chain too deep', undefined, id);
      stack.push(id);
      const t = this.types[id]!;
      if (t.kind === 'PTR' || isMod(t) || t.kind === 'FUNC_PROTO') id = t.kind === 'FUNC_PROTO' ? t.returnType : (t as { type: number }).type;
      else if (t.kind === 'ARRAY') id = t.type;
      else break;
    }
    return this.typeChain(stack, name, lvl);
  }

  private mods(stack: number[]): string {
    let s = '';
    while (stack.length) {
      const t = this.types[stack[stack.length - 1]!]!;
      if (t.kind === 'VOLATILE') s += 'volatile ';
      else if (t.kind === 'CONST') s += 'const ';
      else if (t.kind === 'RESTRICT') s += 'restrict ';
      else break;
      stack.pop();
    }
    return s;
  }

  private dropMods(stack: number[]): void {
    while (stack.length && isMod(this.types[stack[stack.length - 1]!]!)) stack.pop();
  }

  private typeChain(stack: number[], fname: string, lvl: number): string {
    let s = '';
    let lastWasPtr = true;
    const emitName = (): string => (fname && !lastWasPtr ? ' ' : '') + fname;
    while (stack.length) {
      const id = stack.pop()!;
      const t = this.types[id]!;
      switch (t.kind) {
        case 'VOID':
          s += `${this.mods(stack)}void`;
          break;
        case 'INT': case 'FLOAT':
          s += this.mods(stack) + t.name;
          break;
        case 'STRUCT': case 'UNION':
          s += this.mods(stack) + (t.name ? this.structFwd(t) : this.structDef(t, lvl));
          break;
        case 'ENUM': case 'ENUM64':
          s += this.mods(stack) + (t.name ? `enum ${this.typeName(id)}` : this.enumDef(t, lvl));
          break;
        case 'FWD':
          s += `${this.mods(stack)}${t.union ? 'union' : 'struct'} ${this.typeName(id)}`;
          break;
        case 'TYPEDEF':
          s += this.mods(stack) + this.identName(id);
          break;
        case 'PTR':
          s += lastWasPtr ? '*' : ' *';
          break;
        case 'VOLATILE':
          s += ' volatile';
          break;
        case 'CONST':
          s += ' const';
          break;
        case 'RESTRICT':
          s += ' restrict';
          break;
        case 'TYPE_TAG':
          s += ` __attribute__((btf_type_tag("${t.name}")))`;
          break;
        case 'ARRAY': {
          this.dropMods(stack);
          if (stack.length === 0) return `${s}${emitName()}[${t.nelems}]`;
          const multidim = this.types[stack[stack.length - 1]!]!.kind === 'ARRAY';
          if (fname && !lastWasPtr) s += ' ';
          const inner = this.typeChain(stack, fname, lvl);
          return multidim ? `${s}${inner}[${t.nelems}]` : `${s}(${inner})[${t.nelems}]`;
        }
        case 'FUNC_PROTO': {
          this.dropMods(stack);
          s += stack.length ? ` (${this.typeChain(stack, fname, lvl)})` : emitName();
          const params = t.params;
          if (params.length === 0 || (params.length === 1 && params[0]!.type === 0)) return `${s}(void)`;
          const parts: string[] = [];
          for (let i = 0; i < params.length; i++) {
            const p = params[i]!;
            if (i === params.length - 1 && p.type === 0) {
              parts.push('...');
              break;
            }
            parts.push(this.typeDecl(p.type, p.name, lvl));
          }
          return `${s}(${parts.join(', ')})`;
        }
        default:
          break;
      }
      lastWasPtr = t.kind === 'PTR';
    }
    return s + emitName();
  }
}

function refsOf(t: BtfType): number[] {
  switch (t.kind) {
    case 'PTR': case 'TYPEDEF': case 'VOLATILE': case 'CONST': case 'RESTRICT': case 'TYPE_TAG': case 'FUNC': case 'VAR': case 'DECL_TAG':
      return [t.type];
    case 'ARRAY':
      return [t.type, t.indexType];
    case 'STRUCT': case 'UNION':
      return t.members.map((m) => m.type);
    case 'FUNC_PROTO':
      return [t.returnType, ...t.params.map((p) => p.type)];
    case 'DATASEC':
      return t.vars.map((v) => v.type);
    default:
      return [];
  }
}

/** The C header `bpftool btf dump file FILE format c` prints (the vmlinux.h style). */
export function dumpC(btf: Btf): string {
  return new CDumper(btf).dumpAll();
}
