// The kernel's BTF verifier (kernel/bpf/btf.c: btf_parse_hdr, btf_check_sec_info,
// btf_parse_str_sec, the *_check_meta and *_resolve functions), as checks that report every problem
// rather than the first. Messages use the kernel's words and its `[id] KIND name ...` prefix, so a
// user who saw the verifier log finds the same text here.
import {
  parseBtf, btfFeaturesOf, parseKernelVersion, BTF_FEATURES, type Btf, type BtfFeature, type BtfType,
} from '../btf/index.js';
import { BpfError } from '../errors.js';

export interface BtfProblem {
  /** Stable id for scripts, e.g. `btf-datasec-size-zero`. */
  code: string;
  /** The kernel's wording, with its `[id] KIND name` prefix for type problems. */
  message: string;
  typeId?: number;
  /** Byte offset in the BTF blob, for header and section problems. */
  offset?: number;
  /** A kind or feature the named kernel lacks (libbpf sanitises these away; raw loaders do not). */
  feature?: BtfFeature;
}

export interface BtfCheckOptions {
  /** Kernel release whose BTF verifier to follow ("5.10"); the newest rules when absent. */
  kernel?: string;
}

const BTF_MAGIC = 0xeb9f;
const HEADER_SIZE = 24;
/** include/linux/kallsyms.h: KSYM_NAME_LEN (512 since 6.1, 128 before). */
function ksymNameLen(features: ReadonlySet<BtfFeature> | undefined, kernel?: string): number {
  if (!kernel) return 512;
  return features?.has('enum64') && !/^6\.0\b/.test(kernel) ? 512 : 128;
}

/**
 * kernel/bpf/btf.c __btf_name_char_ok: C identifiers, plus '.' anywhere since the kernel dropped
 * its dot_ok distinction (mid-2023; bpfts assumes 6.5 — older kernels allowed '.' only in VAR and
 * DATASEC names).
 */
function isIdentifier(s: string, max: number, dots = true): boolean {
  return s.length > 0 && s.length < max && (dots ? /^[A-Za-z_.][A-Za-z0-9_.]*$/ : /^[A-Za-z_][A-Za-z0-9_]*$/).test(s);
}

const DOTS_SINCE: [number, number] = [6, 5];

/** DATASEC names: any printable character on new kernels, identifier characters and '.' before. */
function isSectionName(s: string, max: number, printable: boolean): boolean {
  if (s.length === 0 || s.length >= max) return false;
  return printable ? /^[\x20-\x7e]+$/.test(s) : /^[A-Za-z_.][A-Za-z0-9_.]*$/.test(s);
}

/** Which feature a kind needs, for kinds newer than BTF itself. */
function featureOfKind(t: BtfType): BtfFeature | undefined {
  switch (t.kind) {
    case 'FUNC': case 'FUNC_PROTO': return 'func';
    case 'VAR': case 'DATASEC': return 'datasec';
    case 'FLOAT': return 'float';
    case 'DECL_TAG': return 'decl-tag';
    case 'TYPE_TAG': return 'type-tag';
    case 'ENUM64': return 'enum64';
    default: return undefined;
  }
}

/** kernel/bpf/btf.c: btf_int_encoding_str */
const INT_ENCODING_NAMES: Record<number, string> = { 0: '(none)', 1: 'SIGNED', 2: 'CHAR', 4: 'BOOL' };

const KIND_NUMBER: Record<string, number> = {
  INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10, RESTRICT: 11,
  FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19,
};

/** The header and section layout checks btf_parse_hdr / btf_check_sec_info / btf_parse_str_sec make. */
function checkLayout(bytes: Uint8Array): BtfProblem[] {
  const out: BtfProblem[] = [];
  const p = (code: string, message: string, offset?: number): void => { out.push({ code, message, ...(offset !== undefined ? { offset } : {}) }); };
  if (bytes.length < 8) {
    p('btf-header', 'hdr_len not found', 0);
    return out;
  }
  const le = bytes[0] === 0x9f && bytes[1] === 0xeb;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = v.getUint16(0, le);
  const hdrLen = v.getUint32(4, le);
  if (hdrLen > bytes.length) {
    p('btf-header', 'btf_header not found', 4);
    return out;
  }
  if (magic !== BTF_MAGIC) {
    p('btf-magic', 'Invalid magic', 0);
    return out;
  }
  if (hdrLen < HEADER_SIZE) {
    p('btf-header', `hdr_len ${hdrLen} is shorter than struct btf_header`, 4);
    return out;
  }
  for (let i = HEADER_SIZE; i < hdrLen; i++) {
    if (bytes[i] !== 0) {
      p('btf-header', 'Unsupported btf_header', i);
      break;
    }
  }
  if (bytes[2] !== 1) p('btf-version', 'Unsupported version', 2);
  if (bytes[3] !== 0) p('btf-flags', 'Unsupported flags', 3);
  const typeOff = v.getUint32(8, le);
  const typeLen = v.getUint32(12, le);
  const strOff = v.getUint32(16, le);
  const strLen = v.getUint32(20, le);
  if (typeLen === 0) p('btf-no-types', 'No type found', 12);
  if (typeOff % 4 !== 0) p('btf-type-off', 'Unaligned type_off', 8);
  const total = bytes.length - hdrLen;
  const secs = [{ off: typeOff, len: typeLen, at: 8 }, { off: strOff, len: strLen, at: 16 }].sort((a, b) => a.off - b.off);
  let end = 0;
  for (const s of secs) {
    if (total < s.off) p('btf-sections', 'Invalid section offset', s.at);
    else if (end < s.off) p('btf-sections', 'Unsupported section found', s.at);
    else if (end > s.off) p('btf-sections', 'Section overlap found', s.at);
    else if (total - end < s.len) p('btf-sections', 'Total section length too long', s.at + 4);
    end = s.off + s.len;
  }
  if (end !== total && out.every((x) => x.code !== 'btf-sections')) p('btf-sections', 'Unsupported section found', 16);
  const strStart = hdrLen + strOff;
  if (strStart + strLen !== bytes.length) p('btf-strings', 'String section is not at the end', 16);
  if (strLen === 0 || strStart + strLen > bytes.length || bytes[strStart] !== 0 || bytes[strStart + strLen - 1] !== 0) {
    p('btf-strings', 'Invalid string section', 20);
  }
  return out;
}

/**
 * Check BTF bytes the way BPF_BTF_LOAD would. An empty list means the kernel (of `kernel`'s
 * release, or the newest) accepts them. `btf-unparsable` carries bpfts' own parser error when the
 * records cannot even be walked.
 */
export function checkBtf(bytes: Uint8Array, options: BtfCheckOptions = {}): BtfProblem[] {
  const problems = checkLayout(bytes);
  if (problems.some((p) => ['btf-header', 'btf-magic', 'btf-sections'].includes(p.code))) return problems;
  let btf: Btf;
  try {
    btf = parseBtf(bytes);
  } catch (e) {
    if (!(e instanceof BpfError)) throw e;
    problems.push({ code: 'btf-unparsable', message: e.message });
    return problems;
  }
  problems.push(...checkTypes(btf, options));
  return problems;
}

/** The per-type rules (check_meta and resolve) on parsed BTF. */
export function checkTypes(btf: Btf, options: BtfCheckOptions = {}): BtfProblem[] {
  const features = options.kernel ? btfFeaturesOf(options.kernel) : undefined;
  const has = (f: BtfFeature): boolean => !features || features.has(f);
  const maxName = ksymNameLen(features, options.kernel);
  const version = options.kernel ? parseKernelVersion(options.kernel) : undefined;
  const dots = !version || version[0] > DOTS_SINCE[0] || (version[0] === DOTS_SINCE[0] && version[1] >= DOTS_SINCE[1]);
  const ident = (s: string): boolean => isIdentifier(s, maxName, dots);
  const problems: BtfProblem[] = [];
  const types = btf.types;

  const describe = (t: BtfType): string => {
    // The kernel prints "(anon)" only for offset 0; a name offset at an empty string prints as ''.
    const name = t.nameOff === 0 ? '(anon)' : t.name;
    switch (t.kind) {
      case 'DATASEC': return `[${t.id}] DATASEC ${name} size=${t.size} vlen=${t.vars.length}`;
      case 'STRUCT': case 'UNION': return `[${t.id}] ${t.kind} ${name} size=${t.size} vlen=${t.members.length}`;
      case 'ENUM': case 'ENUM64': return `[${t.id}] ${t.kind} ${name} size=${t.size} vlen=${t.values.length}`;
      case 'INT': return `[${t.id}] INT ${name} size=${t.size} bits_offset=${t.bitsOffset} nr_bits=${t.bits} encoding=${INT_ENCODING_NAMES[t.encoding] ?? 'UNKN'}`;
      case 'FLOAT': return `[${t.id}] FLOAT ${name} size=${t.size}`;
      case 'FWD': return `[${t.id}] FWD ${name} ${t.union ? 'union' : 'struct'}`;
      case 'VAR': return `[${t.id}] VAR ${name} type_id=${t.type} linkage=${t.linkage}`;
      case 'FUNC': return `[${t.id}] FUNC ${name} type_id=${t.type}`;
      case 'FUNC_PROTO': return `[${t.id}] FUNC_PROTO ${name} return=${t.returnType} args=(${t.params.length})`;
      case 'ARRAY': return `[${t.id}] ARRAY ${name} type_id=${t.type} index_type_id=${t.indexType} nr_elems=${t.nelems}`;
      case 'DECL_TAG': return `[${t.id}] DECL_TAG ${name} type_id=${t.type} component_idx=${t.componentIdx}`;
      case 'VOID': return '[0] VOID';
      default: return `[${t.id}] ${t.kind} ${name} type_id=${(t as { type: number }).type}`;
    }
  };
  const bad = (t: BtfType, code: string, msg: string, feature?: BtfFeature): void => {
    problems.push({ code, message: `${describe(t)} ${msg}`, typeId: t.id, ...(feature ? { feature } : {}) });
  };
  // Member and variable problems: the kernel logs the type, then the item on its own line.
  const badMember = (t: BtfType & { kflag: boolean }, m: { name: string; nameOff: number; type: number; bitOffset: number; bitfieldSize: number }, code: string, msg: string): void => {
    const item = `\t${m.nameOff === 0 ? '(anon)' : m.name} type_id=${m.type} bits_offset=${m.bitOffset}${t.kflag ? ` bitfield_size=${m.bitfieldSize}` : ''}`;
    problems.push({ code, message: `${describe(t)}\n${item} ${msg}`, typeId: t.id });
  };
  const badVar = (t: BtfType, v: { type: number; offset: number; size: number }, code: string, msg: string): void => {
    problems.push({ code, message: `${describe(t)}\n\t type_id=${v.type} offset=${v.offset} size=${v.size} ${msg}`, typeId: t.id });
  };
  const regularInt = (id: number): boolean => {
    const t = types[id];
    if (t?.kind !== 'INT') return false;
    const bytes = Math.ceil(t.bits / 8);
    return t.bits % 8 === 0 && t.bitsOffset === 0 && [1, 2, 4, 8].includes(bytes);
  };
  const kflag = (t: BtfType): boolean => t.info >>> 31 === 1;
  const vlen = (t: BtfType): number => t.info & 0xffff;
  const sizeOf = (id: number): number | undefined => {
    try {
      return btf.resolveSize(id);
    } catch {
      return undefined;
    }
  };

  for (const t of btf.ownTypes()) {
    const f = featureOfKind(t);
    if (f && !has(f)) {
      // The kernel rejects a kind it does not know before it can name it: no KIND in the prefix.
      problems.push({ code: 'btf-kind-unsupported', message: `[${t.id}] Invalid kind:${KIND_NUMBER[t.kind]}`, typeId: t.id, feature: f });
      continue;
    }
    switch (t.kind) {
      case 'INT': {
        if (vlen(t) !== 0) bad(t, 'btf-vlen', 'vlen != 0');
        if (kflag(t)) bad(t, 'btf-kflag', 'Invalid btf_info kind_flag');
        const nrBits = t.bits + t.bitsOffset;
        if (nrBits > 128) bad(t, 'btf-int', 'nr_bits exceeds 128');
        else if (Math.ceil(nrBits / 8) > t.size) bad(t, 'btf-int', 'nr_bits exceeds type_size');
        if (![0, 1, 2, 4].includes(t.encoding)) bad(t, 'btf-int', 'Unsupported encoding');
        break;
      }
      case 'PTR': case 'VOLATILE': case 'CONST': case 'RESTRICT':
        if (vlen(t) !== 0) bad(t, 'btf-vlen', 'vlen != 0');
        if (t.nameOff !== 0) bad(t, 'btf-name', 'Invalid name');
        break;
      case 'TYPEDEF':
        if (vlen(t) !== 0) bad(t, 'btf-vlen', 'vlen != 0');
        if (!ident(t.name)) bad(t, 'btf-name', 'Invalid name');
        break;
      case 'TYPE_TAG':
        if (vlen(t) !== 0) bad(t, 'btf-vlen', 'vlen != 0');
        if (t.name === '') bad(t, 'btf-name', 'Invalid name');
        break;
      case 'ARRAY': {
        if (t.nameOff !== 0) bad(t, 'btf-name', 'Invalid name');
        if (vlen(t) !== 0) bad(t, 'btf-vlen', 'vlen != 0');
        const elemId = t.type === 0 ? 0 : btf.skipModsAndTypedefs(t.type);
        if (t.type === 0) bad(t, 'btf-array', 'Invalid elem');
        else if (types[elemId]?.kind === 'INT' && !regularInt(elemId)) bad(t, 'btf-array', 'Invalid array of int');
        const indexId = btf.skipModsAndTypedefs(t.indexType);
        if (t.indexType === 0 || !regularInt(indexId)) bad(t, 'btf-array', 'Invalid index');
        break;
      }
      case 'STRUCT': case 'UNION': {
        if (t.nameOff !== 0 && !ident(t.name)) bad(t, 'btf-name', 'Invalid name');
        let last = 0;
        for (const m of t.members) {
          if (m.nameOff !== 0 && !ident(m.name)) badMember(t, m, 'btf-name', 'Invalid name');
          if (m.type === 0) badMember(t, m, 'btf-member', 'Invalid type_id');
          if (t.kind === 'UNION' && m.bitOffset !== 0) badMember(t, m, 'btf-member', 'Invalid member bits_offset');
          else if (m.bitOffset < last) badMember(t, m, 'btf-member', 'Invalid member bits_offset');
          last = m.bitOffset;
          if (Math.ceil(m.bitOffset / 8) > t.size) badMember(t, m, 'btf-member', 'Member bits_offset exceeds its struct size');
          else if (m.bitfieldSize === 0) {
            const size = sizeOf(m.type);
            const member = types[btf.skipModsAndTypedefs(m.type)];
            if (member?.kind === 'INT' || member?.kind === 'ENUM' || member?.kind === 'ENUM64') {
              if (member.kind === 'INT' && !regularInt(member.id) && member.bits > 0) continue;
              if (size !== undefined && Math.ceil((m.bitOffset + (member.kind === 'INT' ? member.bits : size * 8)) / 8) > t.size) badMember(t, m, 'btf-member', 'Member exceeds struct_size');
            } else if (m.bitOffset % 8 !== 0) {
              badMember(t, m, 'btf-member', 'Member is not byte aligned');
            } else if (size !== undefined && m.bitOffset / 8 + size > t.size) {
              badMember(t, m, 'btf-member', 'Member exceeds struct_size');
            }
          }
        }
        break;
      }
      case 'ENUM':
        if (![1, 2, 4, 8].includes(t.size)) bad(t, 'btf-enum', 'Unexpected size');
        if (t.signed && !has('enum64')) bad(t, 'btf-kflag', 'Invalid btf_info kind_flag', 'enum64');
        if (t.nameOff !== 0 && !ident(t.name)) bad(t, 'btf-name', 'Invalid name');
        for (const e of t.values) if (!ident(e.name)) bad(t, 'btf-name', `Invalid name (enumerator '${e.name}')`);
        break;
      case 'ENUM64':
        if (![1, 2, 4, 8].includes(t.size)) bad(t, 'btf-enum', 'Unexpected size');
        if (t.nameOff !== 0 && !ident(t.name)) bad(t, 'btf-name', 'Invalid name');
        for (const e of t.values) if (!ident(e.name)) bad(t, 'btf-name', `Invalid name (enumerator '${e.name}')`);
        break;
      case 'FWD':
        if (vlen(t) !== 0) bad(t, 'btf-vlen', 'vlen != 0');
        if (!ident(t.name)) bad(t, 'btf-name', 'Invalid name');
        break;
      case 'FUNC': {
        if (!ident(t.name)) bad(t, 'btf-name', 'Invalid name');
        if (t.linkage > 1 || (t.linkage === 1 && !has('global-func'))) bad(t, 'btf-func-linkage', 'Invalid func linkage', t.linkage === 1 ? 'global-func' : undefined);
        const proto = types[t.type];
        if (proto?.kind !== 'FUNC_PROTO') {
          bad(t, 'btf-func', 'Invalid type_id');
          break;
        }
        proto.params.forEach((prm, i) => {
          const vararg = i === proto.params.length - 1 && prm.type === 0 && prm.nameOff === 0;
          if (!vararg && !ident(prm.name)) bad(t, 'btf-func-arg', `Invalid arg#${i + 1}`);
        });
        break;
      }
      case 'FUNC_PROTO':
        if (t.nameOff !== 0) bad(t, 'btf-name', 'Invalid name');
        t.params.forEach((prm, i) => {
          const vararg = i === t.params.length - 1 && prm.type === 0 && prm.nameOff === 0;
          if (prm.type === 0 && !vararg) bad(t, 'btf-func-proto', `Invalid arg#${i + 1}`);
          if (prm.name && !ident(prm.name)) bad(t, 'btf-name', `Invalid arg#${i + 1}`);
        });
        break;
      case 'VAR':
        if (vlen(t) !== 0) bad(t, 'btf-vlen', 'vlen != 0');
        if (!isIdentifier(t.name, maxName, true)) bad(t, 'btf-name', 'Invalid name');
        if (t.type === 0) bad(t, 'btf-var', 'Invalid type_id');
        if (t.linkage !== 0 && t.linkage !== 1) bad(t, 'btf-var-linkage', 'Linkage not supported');
        break;
      case 'DATASEC': {
        if (t.size === 0) bad(t, 'btf-datasec-size-zero', 'size == 0');
        if (!isSectionName(t.name, maxName, has('qmark-datasec'))) bad(t, 'btf-name', 'Invalid name', has('qmark-datasec') ? undefined : 'qmark-datasec');
        if (t.size === 0) break;
        let lastEnd = 0;
        for (const v of t.vars) {
          const vt = types[v.type];
          if (v.type === 0) badVar(t, v, 'btf-datasec-var', 'Invalid type_id');
          else if (v.offset < lastEnd || v.offset >= t.size) badVar(t, v, v.offset < lastEnd ? 'btf-datasec-var-order' : 'btf-datasec-var-offset', 'Invalid offset');
          else if (v.size === 0 || v.size > t.size) badVar(t, v, 'btf-datasec-var-size', 'Invalid size');
          else if (v.offset + v.size > t.size) badVar(t, v, 'btf-datasec-var-offset', 'Invalid offset+size');
          lastEnd = v.offset + v.size;
          if (vt && vt.kind !== 'VAR') badVar(t, v, 'btf-datasec-var', 'Not a VAR kind member');
          else if (vt) {
            const size = sizeOf(vt.type);
            if (size !== undefined && size > v.size) badVar(t, v, 'btf-datasec-var-size', 'Invalid size');
          }
        }
        break;
      }
      case 'FLOAT':
        if (vlen(t) !== 0) bad(t, 'btf-vlen', 'vlen != 0');
        if (![2, 4, 8, 12, 16].includes(t.size)) bad(t, 'btf-float', 'Invalid type_size');
        if (!ident(t.name)) bad(t, 'btf-name', 'Invalid name');
        break;
      case 'DECL_TAG':
        if (vlen(t) !== 0) bad(t, 'btf-vlen', 'vlen != 0');
        if (t.name === '') bad(t, 'btf-decl-tag', 'Invalid value');
        if (t.componentIdx < -1) bad(t, 'btf-decl-tag', 'Invalid component_idx');
        break;
      case 'VOID':
        break;
    }
  }
  return problems;
}

/** Codes of problems every libbpf-based loader repairs by itself from the ELF (btf_fixup_datasec). */
export const LOADER_FIXED_CODES: ReadonlySet<string> = new Set([
  'btf-datasec-size-zero', 'btf-datasec-var-order', 'btf-datasec-var-offset',
]);

/** The release that added `feature`, for messages. */
export function featureSince(feature: BtfFeature): string {
  return BTF_FEATURES.find((f) => f.feature === feature)?.since ?? '?';
}
