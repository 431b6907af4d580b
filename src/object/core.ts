// CO-RE: patching the instructions clang marked with BTF.ext core_relo records so that field
// offsets, sizes, type ids, type and enumerator existence and enumerator values are the running
// kernel's rather than the ones in the program's own headers. The algorithm is libbpf's
// (tools/lib/bpf/relo_core.c): parse the local access string into a spec, find target types with
// the same essential name (the name without its `___flavor`), match the spec against each, compute
// the value from each match, insist that all matches agree, and patch the instruction; where
// nothing matches and the relocation needs a match, the instruction becomes a call of an invalid
// helper, so the verifier names it if it is reachable and drops it if it is not. Both the loader
// (against the running kernel's BTF) and the emulator (against the BTF of the kernel it emulates)
// apply it.
import type { Btf, BtfType } from '../btf/index.js';
import {
  BPF_CORE_ENUMVAL_EXISTS, BPF_CORE_ENUMVAL_VALUE, BPF_CORE_FIELD_BYTE_OFFSET, BPF_CORE_FIELD_BYTE_SIZE,
  BPF_CORE_FIELD_EXISTS, BPF_CORE_FIELD_LSHIFT_U64, BPF_CORE_FIELD_RSHIFT_U64, BPF_CORE_FIELD_SIGNED,
  BPF_CORE_TYPE_EXISTS, BPF_CORE_TYPE_ID_LOCAL, BPF_CORE_TYPE_ID_TARGET, BPF_CORE_TYPE_MATCHES, BPF_CORE_TYPE_SIZE,
  CORE_RELO_KIND_NAMES,
} from '../btf/index.js';
import {
  BPF_ALU, BPF_ALU64, BPF_B, BPF_CALL, BPF_DW, BPF_H, BPF_IMM, BPF_INSN_SIZE, BPF_JMP, BPF_K, BPF_LD, BPF_LDX,
  BPF_ST, BPF_STX, BPF_W,
} from '../isa/index.js';
import { CoreRelocationError } from './errors.js';
import type { BpfProgram, CoreRelocation } from './model.js';

/** tools/lib/bpf/relo_core.c: the helper id a poisoned instruction calls (0xbad2310). */
export const CORE_POISON_HELPER = 195896080;
/** tools/lib/bpf/relo_core.h: BPF_CORE_SPEC_MAX_LEN */
const SPEC_MAX_LEN = 64;
const MAX_DEPTH = 32;

interface Accessor {
  typeId: number;
  idx: number;
  name?: string;
}

interface Spec {
  btf: Btf;
  rootTypeId: number;
  kind: number;
  /** Named members, array indexes and the root; anonymous members only appear in `raw`. */
  acc: Accessor[];
  raw: number[];
  bitOffset: number;
}

/** What one relocation resolves to (libbpf's struct bpf_core_relo_res). */
export interface CoreResolution {
  insn: number;
  kind: string;
  /** The value clang put in the instruction (from the program's own types). */
  origVal: bigint;
  newVal: bigint;
  poison: boolean;
  /** How many kernel types were candidates, and how many matched. */
  candidates: number;
  matched: number;
}

const isFieldKind = (k: number) => k <= BPF_CORE_FIELD_RSHIFT_U64;
const isTypeKind = (k: number) => k === BPF_CORE_TYPE_ID_LOCAL || k === BPF_CORE_TYPE_ID_TARGET || k === BPF_CORE_TYPE_EXISTS || k === BPF_CORE_TYPE_SIZE || k === BPF_CORE_TYPE_MATCHES;
const isEnumvalKind = (k: number) => k === BPF_CORE_ENUMVAL_EXISTS || k === BPF_CORE_ENUMVAL_VALUE;
const isComposite = (t: BtfType) => t.kind === 'STRUCT' || t.kind === 'UNION';
const isAnyEnum = (t: BtfType) => t.kind === 'ENUM' || t.kind === 'ENUM64';

/** libbpf's bpf_core_essential_name_len: `name___flavor` → `name` (separator with non-`_` on both sides). */
export function essentialName(name: string): string {
  for (let i = name.length - 5; i >= 0; i--) {
    if (name[i] !== '_' && name[i + 1] === '_' && name[i + 2] === '_' && name[i + 3] === '_' && name[i + 4] !== '_') return name.slice(0, i + 1);
  }
  return name;
}

/** Type and its id after const/volatile/restrict/type_tag and typedefs. */
function skip(btf: Btf, id: number): { id: number; t: BtfType } {
  const r = btf.skipModsAndTypedefs(id);
  return { id: r, t: btf.type(r) };
}

function kindsCompat(a: BtfType, b: BtfType): boolean {
  return a.kind === b.kind || (isAnyEnum(a) && isAnyEnum(b));
}

function intOffsetZero(t: BtfType): boolean {
  return t.kind === 'INT' && t.bitsOffset === 0;
}

/** libbpf's __bpf_core_types_are_compat. */
function typesAreCompat(lb: Btf, lid: number, tb: Btf, tid: number, depth = MAX_DEPTH): boolean {
  if (depth < 0) throw new CoreSpecError('type chain too deep');
  const l = skip(lb, lid);
  const t = skip(tb, tid);
  if (!kindsCompat(l.t, t.t)) return false;
  switch (l.t.kind) {
    case 'VOID': case 'STRUCT': case 'UNION': case 'ENUM': case 'ENUM64': case 'FWD': return true;
    case 'INT': return intOffsetZero(l.t) && intOffsetZero(t.t);
    case 'PTR': return typesAreCompat(lb, l.t.type, tb, (t.t as { type: number }).type, depth - 1);
    case 'ARRAY': return typesAreCompat(lb, l.t.type, tb, (t.t as { type: number }).type, depth - 1);
    case 'FUNC_PROTO': {
      const tp = t.t as typeof l.t;
      if (l.t.params.length !== tp.params.length) return false;
      if (!l.t.params.every((p, i) => typesAreCompat(lb, p.type, tb, tp.params[i]!.type, depth - 1))) return false;
      return typesAreCompat(lb, l.t.returnType, tb, tp.returnType, depth - 1);
    }
    default: return false;
  }
}

/**
 * A simpler bpf_core_types_match: compatible kinds, same size and signedness for integers, every
 * local member (by name) or enumerator present in the target with a matching type, shallowly.
 */
function typesMatch(lb: Btf, lid: number, tb: Btf, tid: number, depth = MAX_DEPTH): boolean {
  if (depth < 0) return false;
  const l = skip(lb, lid);
  const t = skip(tb, tid);
  if (!kindsCompat(l.t, t.t)) return false;
  if (l.t.name && essentialName(l.t.name) !== essentialName(t.t.name)) return false;
  switch (l.t.kind) {
    case 'INT': {
      const ti = t.t as typeof l.t;
      return l.t.size === ti.size && (l.t.encoding & 1) === (ti.encoding & 1);
    }
    case 'ENUM': case 'ENUM64': {
      const names = new Set((t.t as { values: { name: string }[] }).values.map((v) => essentialName(v.name)));
      return l.t.values.every((v) => names.has(essentialName(v.name)));
    }
    case 'STRUCT': case 'UNION': {
      const tm = (t.t as typeof l.t).members;
      return l.t.members.every((m) => {
        const other = tm.find((x) => x.name === m.name);
        return other !== undefined && typesMatch(lb, m.type, tb, other.type, depth - 1);
      });
    }
    case 'PTR': case 'ARRAY': return typesMatch(lb, l.t.type, tb, (t.t as { type: number }).type, depth - 1);
    default: return typesAreCompat(lb, l.id, tb, t.id, depth);
  }
}

/** libbpf's bpf_core_fields_are_compat. */
function fieldsAreCompat(lb: Btf, lid: number, tb: Btf, tid: number, depth = MAX_DEPTH): boolean {
  if (depth < 0) throw new CoreSpecError('type chain too deep');
  const l = skip(lb, lid);
  const t = skip(tb, tid);
  if (isComposite(l.t) && isComposite(t.t)) return true;
  if (!kindsCompat(l.t, t.t)) return false;
  switch (l.t.kind) {
    case 'PTR': case 'FLOAT': return true;
    case 'FWD': case 'ENUM': case 'ENUM64': return essentialName(l.t.name) === essentialName(t.t.name);
    case 'INT': return intOffsetZero(l.t) && intOffsetZero(t.t);
    case 'ARRAY': return fieldsAreCompat(lb, l.t.type, tb, (t.t as { type: number }).type, depth - 1);
    default: return false;
  }
}

/** A malformed relocation (libbpf fails the load with -EINVAL for these). */
class CoreSpecError extends Error {}

function memberBitOffset(t: BtfType & { members: { bitOffset: number }[] }, i: number): number {
  return t.members[i]!.bitOffset;
}

function isFlexArray(btf: Btf, acc: Accessor | undefined, nelems: number): boolean {
  if (!acc?.name || nelems > 0) return false;
  const t = btf.type(acc.typeId);
  return isComposite(t) && acc.idx === (t as { members: unknown[] }).members.length - 1;
}

/** libbpf's bpf_core_parse_spec. */
function parseSpec(btf: Btf, typeId: number, accessStr: string, kind: number): Spec {
  if (accessStr === '' || accessStr.startsWith(':')) throw new CoreSpecError(`bad access string '${accessStr}'`);
  const spec: Spec = { btf, rootTypeId: typeId, kind, acc: [], raw: [], bitOffset: 0 };
  if (isTypeKind(kind)) {
    if (accessStr !== '0') throw new CoreSpecError(`a type relocation has access string '${accessStr}', not '0'`);
    return spec;
  }
  for (const part of accessStr.split(':')) {
    if (!/^\d+$/.test(part)) throw new CoreSpecError(`bad access string '${accessStr}'`);
    if (spec.raw.length === SPEC_MAX_LEN) throw new CoreSpecError('access string too long');
    spec.raw.push(Number(part));
  }
  let { id, t } = skip(btf, typeId);
  let idx = spec.raw[0]!;
  spec.acc.push({ typeId: id, idx });
  if (isEnumvalKind(kind)) {
    if (!isAnyEnum(t) || spec.raw.length > 1) throw new CoreSpecError(`enumerator relocation on ${btf.typeName(typeId)}`);
    const values = (t as { values: { name: string }[] }).values;
    if (idx >= values.length) throw new CoreSpecError(`enumerator ${idx} of ${btf.typeName(typeId)} does not exist`);
    spec.acc[0]!.name = values[idx]!.name;
    return spec;
  }
  if (!isFieldKind(kind)) throw new CoreSpecError(`unknown relocation kind ${kind}`);
  spec.bitOffset = idx * btf.resolveSize(id) * 8;
  for (let i = 1; i < spec.raw.length; i++) {
    ({ id, t } = skip(btf, id));
    idx = spec.raw[i]!;
    if (isComposite(t)) {
      const members = (t as { members: { name: string; type: number; bitOffset: number }[] }).members;
      if (idx >= members.length) throw new CoreSpecError(`member ${idx} of ${btf.typeName(id)} does not exist`);
      spec.bitOffset += memberBitOffset(t as never, idx);
      const m = members[idx]!;
      if (m.name) spec.acc.push({ typeId: id, idx, name: m.name });
      id = m.type;
    } else if (t.kind === 'ARRAY') {
      const elem = skip(btf, t.type);
      if (!isFlexArray(btf, spec.acc[spec.acc.length - 1], t.nelems) && idx >= t.nelems) throw new CoreSpecError(`index ${idx} is past the end of ${btf.typeName(id)}`);
      id = elem.id;
      spec.acc.push({ typeId: id, idx });
      spec.bitOffset += idx * btf.resolveSize(id) * 8;
    } else {
      throw new CoreSpecError(`access string '${accessStr}' goes into ${btf.typeName(id)}, which has neither members nor elements`);
    }
  }
  return spec;
}

/** libbpf's bpf_core_match_member: finds the local member by name, looking into anonymous members. */
function matchMember(lb: Btf, lacc: Accessor, tb: Btf, targId: number, spec: Spec, depth = 0): { found: boolean; next?: number } {
  if (depth > MAX_DEPTH) throw new CoreSpecError('anonymous members nest too deep');
  const local = lb.type(lacc.typeId) as BtfType & { members: { name: string; type: number }[] };
  const lm = local.members[lacc.idx]!;
  const { id, t } = skip(tb, targId);
  if (!isComposite(t)) return { found: false };
  const members = (t as { members: { name: string; type: number; bitOffset: number }[] }).members;
  for (let i = 0; i < members.length; i++) {
    const m = members[i]!;
    if (spec.raw.length === SPEC_MAX_LEN) throw new CoreSpecError('access string too long');
    spec.bitOffset += m.bitOffset;
    spec.raw.push(i);
    if (m.name === '') {
      const r = matchMember(lb, lacc, tb, m.type, spec, depth + 1);
      if (r.found) return r;
    } else if (m.name === lm.name) {
      const found = fieldsAreCompat(lb, lm.type, tb, m.type);
      if (found) spec.acc.push({ typeId: id, idx: i, name: m.name });
      return { found, next: m.type };
    }
    spec.bitOffset -= m.bitOffset;
    spec.raw.pop();
  }
  return { found: false };
}

/** libbpf's bpf_core_spec_match: the target spec when candidate `targId` fits the local spec. */
function specMatch(local: Spec, tb: Btf, targId: number): Spec | undefined {
  const targ: Spec = { btf: tb, rootTypeId: targId, kind: local.kind, acc: [], raw: [], bitOffset: 0 };
  if (isTypeKind(local.kind)) {
    const ok = local.kind === BPF_CORE_TYPE_MATCHES
      ? typesMatch(local.btf, local.rootTypeId, tb, targId)
      : typesAreCompat(local.btf, local.rootTypeId, tb, targId);
    return ok ? targ : undefined;
  }
  const lacc0 = local.acc[0]!;
  if (isEnumvalKind(local.kind)) {
    const { id, t } = skip(tb, targId);
    if (!isAnyEnum(t)) return undefined;
    const want = essentialName(lacc0.name!);
    const values = (t as { values: { name: string }[] }).values;
    const i = values.findIndex((v) => essentialName(v.name) === want);
    if (i < 0) return undefined;
    targ.acc.push({ typeId: id, idx: i, name: values[i]!.name });
    targ.raw.push(i);
    return targ;
  }
  let tid = targId;
  for (let i = 0; i < local.acc.length; i++) {
    const lacc = local.acc[i]!;
    if (lacc.name) {
      const r = matchMember(local.btf, lacc, tb, tid, targ);
      if (!r.found) return undefined;
      tid = r.next!;
      continue;
    }
    if (i > 0) {
      const { t } = skip(tb, tid);
      if (t.kind !== 'ARRAY') return undefined;
      if (!isFlexArray(tb, targ.acc[targ.acc.length - 1], t.nelems) && lacc.idx >= t.nelems) return undefined;
      tid = skip(tb, t.type).id;
    }
    if (targ.raw.length === SPEC_MAX_LEN) throw new CoreSpecError('access string too long');
    targ.acc.push({ typeId: tid, idx: lacc.idx });
    targ.raw.push(lacc.idx);
    targ.bitOffset += lacc.idx * tb.resolveSize(tid) * 8;
  }
  return targ;
}

/** libbpf asks for poisoning with -EUCLEAN. */
const POISON = Symbol('poison');

interface FieldValue { val: bigint; size: number; typeId: number; validate: boolean }

/** libbpf's bpf_core_calc_field_relo. */
function fieldValue(kind: number, spec: Spec | undefined): FieldValue | typeof POISON {
  if (kind === BPF_CORE_FIELD_EXISTS) return { val: spec ? 1n : 0n, size: 0, typeId: 0, validate: true };
  if (!spec) return POISON;
  const { btf } = spec;
  const acc = spec.acc[spec.acc.length - 1]!;
  if (!acc.name) {
    if (kind === BPF_CORE_FIELD_BYTE_OFFSET) return { val: BigInt(spec.bitOffset / 8), size: btf.resolveSize(acc.typeId), typeId: acc.typeId, validate: true };
    if (kind === BPF_CORE_FIELD_BYTE_SIZE) return { val: BigInt(btf.resolveSize(acc.typeId)), size: 0, typeId: 0, validate: true };
    throw new CoreSpecError(`${CORE_RELO_KIND_NAMES[kind]} of an array element or whole type`);
  }
  const t = btf.type(acc.typeId) as BtfType & { members: { type: number; bitfieldSize: number }[] };
  const m = t.members[acc.idx]!;
  const mt = skip(btf, m.type);
  const bitOff = spec.bitOffset;
  let bitSz = m.bitfieldSize;
  const bitfield = bitSz > 0;
  let byteSz: number;
  let byteOff: number;
  if (bitfield) {
    byteSz = (mt.t as { size: number }).size;
    byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    while (bitOff + bitSz - byteOff * 8 > byteSz * 8) {
      if (byteSz >= 8) throw new CoreSpecError('bitfield does not fit in 8 bytes');
      byteSz *= 2;
      byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    }
  } else {
    byteSz = btf.resolveSize(mt.id);
    byteOff = bitOff / 8;
    bitSz = byteSz * 8;
  }
  let validate = !bitfield;
  let val: number;
  let size = 0;
  let typeId = 0;
  switch (kind) {
    case BPF_CORE_FIELD_BYTE_OFFSET:
      val = byteOff;
      if (!bitfield) {
        size = byteSz;
        typeId = mt.id;
      }
      break;
    case BPF_CORE_FIELD_BYTE_SIZE: val = byteSz; break;
    case BPF_CORE_FIELD_SIGNED:
      val = (isAnyEnum(mt.t) && (mt.t as { signed: boolean }).signed) || (mt.t.kind === 'INT' && (mt.t.encoding & 1) !== 0) ? 1 : 0;
      validate = true;
      break;
    // Little-endian only: the loader refuses big-endian objects before getting here.
    case BPF_CORE_FIELD_LSHIFT_U64: val = 64 - (bitOff + bitSz - byteOff * 8); break;
    case BPF_CORE_FIELD_RSHIFT_U64: val = 64 - bitSz; validate = true; break;
    default: throw new CoreSpecError(`unknown field relocation kind ${kind}`);
  }
  return { val: BigInt(val), size, typeId, validate };
}

interface Calc {
  origVal: bigint;
  newVal: bigint;
  poison: boolean;
  validate: boolean;
  origSize: number;
  newSize: number;
  failMemSizeAdjust: boolean;
}

/** libbpf's bpf_core_calc_relo. */
function calcRelo(kind: number, local: Spec, targ: Spec | undefined): Calc {
  const res: Calc = { origVal: 0n, newVal: 0n, poison: false, validate: true, origSize: 0, newSize: 0, failMemSizeAdjust: false };
  if (isFieldKind(kind)) {
    const o = fieldValue(kind, local);
    const n = fieldValue(kind, targ);
    if (o === POISON || n === POISON) return { ...res, poison: true };
    Object.assign(res, { origVal: o.val, newVal: n.val, validate: o.validate, origSize: o.size, newSize: n.size });
    if (o.size !== n.size) {
      const ot = local.btf.type(o.typeId);
      const nt = targ!.btf.type(n.typeId);
      const unsignedInts = ot.kind === 'INT' && nt.kind === 'INT' && ot.encoding !== 1 && nt.encoding !== 1;
      // Narrowing a zero-extended load keeps pointers and unsigned integers right; nothing else.
      if (!(ot.kind === 'PTR' && nt.kind === 'PTR') && !unsignedInts) res.failMemSizeAdjust = true;
    }
    return res;
  }
  if (isTypeKind(kind)) {
    res.origVal = typeValue(kind, local);
    res.newVal = typeValue(kind, targ);
    if (kind === BPF_CORE_TYPE_ID_TARGET) res.validate = false;
    return res;
  }
  if (kind === BPF_CORE_ENUMVAL_EXISTS) return { ...res, origVal: 1n, newVal: targ ? 1n : 0n };
  if (!targ) return { ...res, poison: true };
  return { ...res, origVal: enumValue(local), newVal: enumValue(targ) };
}

function typeValue(kind: number, spec: Spec | undefined): bigint {
  if (!spec) return 0n;
  switch (kind) {
    case BPF_CORE_TYPE_ID_TARGET: return BigInt(spec.rootTypeId);
    case BPF_CORE_TYPE_EXISTS: case BPF_CORE_TYPE_MATCHES: return 1n;
    case BPF_CORE_TYPE_SIZE: return BigInt(spec.btf.resolveSize(spec.rootTypeId));
    default: throw new CoreSpecError(`unknown type relocation kind ${kind}`);
  }
}

function enumValue(spec: Spec): bigint {
  const acc = spec.acc[0]!;
  const t = spec.btf.type(acc.typeId) as BtfType & { values: { value: number | bigint }[] };
  return BigInt(t.values[acc.idx]!.value);
}

/** Target types by essential name, built once per target BTF. */
const candidateIndexes = new WeakMap<Btf, Map<string, BtfType[]>>();

function candidates(target: Btf, local: BtfType): BtfType[] {
  let index = candidateIndexes.get(target);
  if (!index) {
    index = new Map();
    for (const t of target.types) {
      if (!t.name) continue;
      const key = essentialName(t.name);
      const list = index.get(key);
      if (list) list.push(t);
      else index.set(key, [t]);
    }
    candidateIndexes.set(target, index);
  }
  return (index.get(essentialName(local.name)) ?? []).filter((t) => kindsCompat(t, local));
}

/** Resolves one relocation against `target` (libbpf's bpf_core_calc_relo_insn). */
function resolve(local: Btf, target: Btf, r: { typeId: number; accessStr: string; kind: number }): Calc & { candidates: number; matched: number } {
  const lspec = parseSpec(local, r.typeId, r.accessStr, r.kind);
  if (r.kind === BPF_CORE_TYPE_ID_LOCAL) {
    const id = BigInt(r.typeId);
    return { origVal: id, newVal: id, poison: false, validate: false, origSize: 0, newSize: 0, failMemSizeAdjust: false, candidates: 0, matched: 0 };
  }
  const localType = local.type(r.typeId);
  if (!localType.name) throw new CoreSpecError(`relocations against anonymous types (${local.typeName(r.typeId)}) are not supported`);
  const cands = candidates(target, localType);
  let chosen: (Calc & { bitOffset: number }) | undefined;
  let matched = 0;
  for (const c of cands) {
    const tspec = specMatch(lspec, target, c.id);
    if (!tspec) continue;
    const res = calcRelo(r.kind, lspec, tspec);
    if (!chosen) {
      chosen = { ...res, bitOffset: tspec.bitOffset };
    } else if (tspec.bitOffset !== chosen.bitOffset) {
      throw new CoreSpecError(`field offset ambiguity: kernel types give bit offsets ${chosen.bitOffset} and ${tspec.bitOffset}`);
    } else if (res.poison !== chosen.poison || res.newVal !== chosen.newVal) {
      throw new CoreSpecError(`relocation decision ambiguity: kernel types give ${chosen.newVal} and ${res.newVal}`);
    }
    matched++;
  }
  const res = chosen ?? calcRelo(r.kind, lspec, undefined);
  return { ...res, candidates: cands.length, matched };
}

function bytesOfSize(code: number): number {
  switch (code & 0x18) {
    case BPF_B: return 1;
    case BPF_H: return 2;
    case BPF_W: return 4;
    default: return 8;
  }
}

function sizeCode(bytes: number): number | undefined {
  return ({ 1: BPF_B, 2: BPF_H, 4: BPF_W, 8: BPF_DW } as Record<number, number>)[bytes];
}

function poisonInsn(view: DataView, at: number): void {
  view.setUint8(at, BPF_JMP | BPF_CALL);
  view.setUint8(at + 1, 0);
  view.setInt16(at + 2, 0, true);
  view.setInt32(at + 4, CORE_POISON_HELPER, true);
}

/** libbpf's bpf_core_patch_insn; `code` is the function's instructions, little-endian. */
function patch(view: DataView, insn: number, res: Calc): void {
  const at = insn * BPF_INSN_SIZE;
  if (at + BPF_INSN_SIZE > view.byteLength) throw new CoreSpecError(`instruction ${insn} is past the end of the function`);
  const code = view.getUint8(at);
  const isLdImm64 = code === (BPF_LD | BPF_IMM | BPF_DW);
  if (res.poison) {
    if (isLdImm64 && at + 2 * BPF_INSN_SIZE <= view.byteLength) poisonInsn(view, at + BPF_INSN_SIZE);
    poisonInsn(view, at);
    return;
  }
  const cls = code & 0x07;
  switch (cls) {
    case BPF_ALU: case BPF_ALU64: {
      if ((code & 0x08) !== BPF_K) throw new CoreSpecError(`instruction ${insn} is an ALU instruction with a register operand`);
      const imm = view.getInt32(at + 4, true);
      if (res.validate && BigInt(imm >>> 0) !== res.origVal && BigInt(imm) !== res.origVal) throw new CoreSpecError(`instruction ${insn} holds ${imm}, not the expected ${res.origVal}`);
      view.setInt32(at + 4, Number(BigInt.asIntN(32, res.newVal)), true);
      return;
    }
    case BPF_LDX: case BPF_ST: case BPF_STX: {
      const off = view.getInt16(at + 2, true);
      if (res.validate && BigInt(off) !== res.origVal) throw new CoreSpecError(`instruction ${insn} has offset ${off}, not the expected ${res.origVal}`);
      if (res.newVal > 0x7fffn) throw new CoreSpecError(`instruction ${insn}: offset ${res.newVal} does not fit in 16 bits`);
      if (res.failMemSizeAdjust) {
        poisonInsn(view, at);
        return;
      }
      view.setInt16(at + 2, Number(res.newVal), true);
      if (res.newSize !== res.origSize) {
        if (bytesOfSize(code) !== res.origSize) throw new CoreSpecError(`instruction ${insn} accesses ${bytesOfSize(code)} bytes, not the expected ${res.origSize}`);
        const sz = sizeCode(res.newSize);
        if (sz === undefined) throw new CoreSpecError(`instruction ${insn}: the kernel's field is ${res.newSize} bytes, which no load can read`);
        view.setUint8(at, (code & ~0x18) | sz);
      }
      return;
    }
    case BPF_LD: {
      if (!isLdImm64 || at + 2 * BPF_INSN_SIZE > view.byteLength || view.getUint8(at + 1) >> 4 !== 0 || view.getInt16(at + 2, true) !== 0 ||
        view.getUint8(at + 8) !== 0 || view.getUint8(at + 9) !== 0 || view.getInt16(at + 10, true) !== 0) {
        throw new CoreSpecError(`instruction ${insn} is not a plain ld_imm64`);
      }
      const imm = (BigInt(view.getUint32(at + 4, true))) | (BigInt(view.getUint32(at + 12, true)) << 32n);
      if (res.validate && imm !== BigInt.asUintN(64, res.origVal)) throw new CoreSpecError(`instruction ${insn} holds ${imm}, not the expected ${res.origVal}`);
      const v = BigInt.asUintN(64, res.newVal);
      view.setUint32(at + 4, Number(v & 0xffffffffn), true);
      view.setUint32(at + 12, Number(v >> 32n), true);
      return;
    }
    default:
      throw new CoreSpecError(`instruction ${insn} (opcode 0x${code.toString(16)}) cannot carry a CO-RE value`);
  }
}

const KIND_NUMBERS = new Map<string, number>(CORE_RELO_KIND_NAMES.map((n, i) => [n, i]));

/**
 * Applies `fn`'s CO-RE relocations to `code` (a little-endian copy of its instructions) against
 * the kernel's BTF `target`; `local` is the object's BTF. A relocation that cannot be resolved
 * throws CoreRelocationError.
 */
export function applyCoreRelocations(code: Uint8Array, fn: BpfProgram, local: Btf, target: Btf): CoreResolution[] {
  const view = new DataView(code.buffer, code.byteOffset, code.byteLength);
  return fn.coreRelocations.map((r: CoreRelocation) => {
    const kind = KIND_NUMBERS.get(r.kind);
    try {
      if (kind === undefined) throw new CoreSpecError(`unknown relocation kind '${r.kind}'`);
      const res = resolve(local, target, { typeId: r.typeId, accessStr: r.accessStr, kind });
      patch(view, r.insn, res);
      return { insn: r.insn, kind: r.kind, origVal: res.origVal, newVal: res.newVal, poison: res.poison, candidates: res.candidates, matched: res.matched };
    } catch (e) {
      if (!(e instanceof CoreSpecError) && !(e instanceof Error && e.name === 'BtfError')) throw e;
      throw new CoreRelocationError(`program '${fn.name}' (section ${fn.section}), instruction ${r.insn}: CO-RE relocation ${r.kind} of ${r.typeName} (access ${r.accessStr}): ${e.message}`, {
        program: fn.name, section: fn.section, insn: r.insn, cause: e,
      });
    }
  });
}
