// Rewrite BTF for a kernel that lacks some BTF kinds, the way libbpf's bpf_object__sanitize_btf
// does before BPF_BTF_LOAD (tools/lib/bpf/libbpf.c), so that older kernels accept the object's BTF.
// The kernel versions are those of the kernel commits that taught kernel/bpf/btf.c each feature
// (libbpf probes the same features at run time in tools/lib/bpf/features.c).
import { BtfError } from './errors.js';
import { BtfStringTable, type BtfContent } from './encode.js';
import type { BtfType } from './types.js';
import { BTF_FUNC_STATIC } from './uapi.js';

/** A BTF feature a kernel may lack (libbpf's FEAT_BTF_* names, lower-cased). */
export type BtfFeature =
  /** BTF_KIND_FUNC and BTF_KIND_FUNC_PROTO. */
  | 'func'
  /** BTF_KIND_VAR and BTF_KIND_DATASEC. */
  | 'datasec'
  /** FUNC linkage other than static (vlen of BTF_KIND_FUNC). */
  | 'global-func'
  | 'float'
  | 'decl-tag'
  | 'type-tag'
  /** BTF_KIND_ENUM64 and signed (kind_flag) enums. */
  | 'enum64'
  /** DATASEC names with characters other than identifier characters and '.' (libbpf's `?` prefix). */
  | 'qmark-datasec';

export interface BtfFeatureInfo {
  feature: BtfFeature;
  /** First mainline kernel release whose BTF verifier accepts it. */
  since: string;
  what: string;
}

/** Which kernel release added each BTF feature (kernel/bpf/btf.c history). */
export const BTF_FEATURES: readonly BtfFeatureInfo[] = [
  { feature: 'func', since: '5.0', what: 'BTF_KIND_FUNC / BTF_KIND_FUNC_PROTO' },
  { feature: 'datasec', since: '5.2', what: 'BTF_KIND_VAR / BTF_KIND_DATASEC' },
  { feature: 'global-func', since: '5.6', what: 'global FUNC linkage' },
  { feature: 'float', since: '5.13', what: 'BTF_KIND_FLOAT' },
  { feature: 'decl-tag', since: '5.16', what: 'BTF_KIND_DECL_TAG' },
  { feature: 'type-tag', since: '5.17', what: 'BTF_KIND_TYPE_TAG' },
  { feature: 'enum64', since: '6.0', what: 'BTF_KIND_ENUM64 and signed enums' },
  { feature: 'qmark-datasec', since: '6.9', what: "any printable character in DATASEC names (libbpf's '?' sections)" },
];

/** The first kernel with BTF at all (BPF_BTF_LOAD). */
export const BTF_MIN_KERNEL = '4.18';

/** Parse "5.10", "6.1.0-13-amd64" or "v5.4" into [major, minor]; undefined when it is not a version. */
export function parseKernelVersion(text: string): [number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)/.exec(text.trim());
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

function atLeast(kernel: [number, number], since: string): boolean {
  const [maj, min] = parseKernelVersion(since)!;
  return kernel[0] > maj || (kernel[0] === maj && kernel[1] >= min);
}

/** The BTF features a kernel release supports. */
export function btfFeaturesOf(kernel: string): Set<BtfFeature> {
  const v = parseKernelVersion(kernel);
  if (!v) throw new BtfError(`'${kernel}' is not a kernel version (expected e.g. 5.10)`);
  return new Set(BTF_FEATURES.filter((f) => atLeast(v, f.since)).map((f) => f.feature));
}

/** True when `kernel` has BTF at all. */
export function kernelHasBtf(kernel: string): boolean {
  const v = parseKernelVersion(kernel);
  return v !== undefined && atLeast(v, BTF_MIN_KERNEL);
}

export interface SanitizeChange {
  typeId: number;
  from: string;
  to: string;
}

/** Characters a C identifier may hold: libbpf turns the others in DATASEC names into '_'. */
function identifierFrom(name: string): string {
  return name.replace(/[.?]/g, '_');
}

/**
 * Rewrite `content` in place for a kernel with only `features`, and return what changed. The type
 * ids stay as they are (ENUM64 rewriting may append one INT, as libbpf does), so .BTF.ext and map
 * definitions that name type ids remain valid.
 */
export function sanitizeBtf(content: BtfContent, features: ReadonlySet<BtfFeature>, startId = 1): SanitizeChange[] {
  const has = (f: BtfFeature): boolean => features.has(f);
  const strings = new BtfStringTable(content.strings);
  const changes: SanitizeChange[] = [];
  const types = content.types;
  const byId = (id: number): BtfType | undefined => types[id - startId];
  let enum64Placeholder = 0;
  const note = (t: BtfType, to: string): void => { changes.push({ typeId: t.id, from: t.kind, to }); };

  for (let i = 0; i < types.length; i++) {
    const t = types[i]!;
    const base = { id: t.id, offset: t.offset };
    if ((!has('datasec') && t.kind === 'VAR') || (!has('decl-tag') && t.kind === 'DECL_TAG')) {
      // One byte is the safe size: a bigger INT could outgrow the variable it stands for.
      note(t, 'INT');
      types[i] = { ...base, kind: 'INT', name: t.name, nameOff: t.nameOff, info: 0, size: 1, encoding: 0, bitsOffset: 0, bits: 8 };
    } else if (!has('datasec') && t.kind === 'DATASEC') {
      const name = identifierFrom(t.name);
      note(t, 'STRUCT');
      types[i] = {
        ...base, kind: 'STRUCT', name, nameOff: name === t.name ? t.nameOff : strings.add(name), info: 0, size: t.size, kflag: false,
        members: t.vars.map((v) => {
          const vt = byId(v.type);
          return { name: vt?.name ?? '', nameOff: vt?.nameOff ?? 0, type: v.type, bitOffset: v.offset * 8, bitfieldSize: 0 };
        }),
      };
    } else if (!has('qmark-datasec') && t.kind === 'DATASEC' && t.name.startsWith('?')) {
      const name = `_${t.name.slice(1)}`;
      note(t, `DATASEC ${name}`);
      types[i] = { ...t, name, nameOff: strings.add(name) };
    } else if (!has('func') && t.kind === 'FUNC_PROTO') {
      // An ENUM of the same vlen keeps the record size; parameter names become enumerator names.
      // The kernel wants every enumerator named, and prototypes of function pointers name no
      // parameters (libbpf leaves them empty and such BTF is rejected with "Invalid name").
      note(t, 'ENUM');
      const unnamed = (): number => strings.add('__unnamed_param');
      types[i] = {
        ...base, kind: 'ENUM', name: t.name, nameOff: t.nameOff, info: 0, size: 4, signed: false,
        values: t.params.map((p) => (p.nameOff === 0
          ? { name: '__unnamed_param', nameOff: unnamed(), value: p.type }
          : { name: p.name, nameOff: p.nameOff, value: p.type })),
      };
    } else if (!has('func') && t.kind === 'FUNC') {
      note(t, 'TYPEDEF');
      types[i] = { ...base, kind: 'TYPEDEF', name: t.name, nameOff: t.nameOff, info: 0, type: t.type };
    } else if (!has('global-func') && t.kind === 'FUNC' && t.linkage !== BTF_FUNC_STATIC) {
      note(t, 'FUNC static');
      types[i] = { ...t, linkage: BTF_FUNC_STATIC };
    } else if (!has('float') && t.kind === 'FLOAT') {
      // C has no struct named "float", so the stand-in is anonymous.
      note(t, 'STRUCT');
      types[i] = { ...base, kind: 'STRUCT', name: '', nameOff: 0, info: 0, size: t.size, kflag: false, members: [] };
    } else if (!has('type-tag') && t.kind === 'TYPE_TAG') {
      note(t, 'CONST');
      types[i] = { ...base, kind: 'CONST', name: '', nameOff: 0, info: 0, type: t.type };
    } else if (!has('enum64') && t.kind === 'ENUM' && t.signed) {
      note(t, 'ENUM unsigned');
      types[i] = { ...t, signed: false, values: t.values.map((v) => ({ ...v, value: v.value >>> 0 })) };
    } else if (!has('enum64') && t.kind === 'ENUM64') {
      if (enum64Placeholder === 0) {
        enum64Placeholder = startId + types.length;
        const nameOff = strings.add('enum64_placeholder');
        types.push({ id: enum64Placeholder, offset: 0, kind: 'INT', name: 'enum64_placeholder', nameOff, info: 0, size: 1, encoding: 0, bitsOffset: 0, bits: 8 });
      }
      note(t, 'UNION');
      types[i] = {
        ...base, kind: 'UNION', name: t.name, nameOff: t.nameOff, info: 0, size: t.size, kflag: false,
        members: t.values.map((v) => ({ name: v.name, nameOff: v.nameOff, type: enum64Placeholder, bitOffset: 0, bitfieldSize: 0 })),
      };
    }
  }
  content.strings = strings.data;
  return changes;
}
