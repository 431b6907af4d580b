import { BPF_MAP_TYPE_NAMES, bpf_attach_type, bpf_prog_type, enumName } from '../uapi/index.js';
import { matchSection, type SecFlag } from './section-defs.js';
import type { BpfObject } from './model.js';

/** `BPF_PROG_TYPE_SCHED_CLS` → `sched_cls`, the short names bpftool prints. */
function short(name: string | undefined, prefix: string): string | undefined {
  return name?.startsWith(prefix) ? name.slice(prefix.length).toLowerCase() : name;
}

export function mapTypeName(type: number): string {
  return short(BPF_MAP_TYPE_NAMES[type], 'BPF_MAP_TYPE_') ?? `unknown (${type})`;
}

/**
 * What libbpf (current upstream, and Debian 12's 1.1) makes of a program's section:
 * program type and expected attach type by bpftool's short names, or undefined when it has no entry.
 */
export function programTypeBySection(section: string, libbpf: 'upstream' | '1.1' = 'upstream'):
  { type: string; attachType: string | null } | undefined {
  const match = matchSection(section, { libbpf });
  if (!match) return undefined;
  const attach = match.expectedAttachType ? enumName(bpf_attach_type, match.expectedAttachType) : undefined;
  return {
    type: short(enumName(bpf_prog_type, match.progType), 'BPF_PROG_TYPE_') ?? String(match.progType),
    attachType: attach ? attach.replace(/^BPF_/, '').toLowerCase() : null,
  };
}

/** A JSON-ready description of an object: what `bpfts inspect --json` prints. */
export function summarizeObject(obj: BpfObject) {
  return {
    byteOrder: obj.littleEndian ? 'little' : 'big',
    license: obj.license ?? null,
    kernelVersion: obj.kernelVersion ?? null,
    programs: obj.programs.map((p) => {
      const libbpf = p.kind === 'entry' ? programTypeBySection(p.section) : undefined;
      return {
        section: p.section, name: p.name, kind: p.kind, insns: p.insnCount, global: p.global,
        type: libbpf?.type ?? (p.kind === 'entry' ? 'unknown' : null),
        attachType: libbpf?.attachType ?? null,
        funcInfo: p.funcInfo.length,
        lineInfo: p.lineInfo.length,
        coreRelocations: p.coreRelocations.map((r) => ({ insn: r.insn, kind: r.kind, type: r.typeName, access: r.accessStr })),
        relocations: p.relocations.map((r) => ({
          insn: r.insn, kind: r.kind, target: r.target,
          ...(r.targetSection !== undefined ? { section: r.targetSection } : {}),
          ...(r.dataOffset !== undefined ? { dataOffset: r.dataOffset } : {}),
        })),
      };
    }),
    maps: obj.maps.map((m) => ({
      name: m.name, definedBy: m.style, section: m.section, type: mapTypeName(m.type), keySize: m.keySize, valueSize: m.valueSize,
      maxEntries: m.maxEntries, flags: m.flags, pinning: m.pinning,
      keyType: m.keyTypeId !== undefined && obj.btf ? obj.btf.typeName(m.keyTypeId) : null,
      valueType: m.valueTypeId !== undefined && obj.btf ? obj.btf.typeName(m.valueTypeId) : null,
    })),
    globals: obj.globals.map((g) => ({
      section: g.section, size: g.size, readOnly: g.readOnly,
      variables: g.variables.map((v) => ({ name: v.name, offset: v.offset, size: v.size })),
    })),
    btf: obj.btfSection ? {
      size: obj.btfSection.size,
      types: obj.btf ? obj.btf.count : null,
      ext: obj.btfExtSection ? {
        size: obj.btfExtSection.size,
        funcInfo: obj.btfExt?.funcInfo.reduce((n, s) => n + s.records.length, 0) ?? null,
        lineInfo: obj.btfExt?.lineInfo.reduce((n, s) => n + s.records.length, 0) ?? null,
        coreRelos: obj.btfExt?.coreRelos.reduce((n, s) => n + s.records.length, 0) ?? null,
      } : null,
    } : null,
    diagnostics: obj.diagnostics,
  };
}

export type ObjectSummary = ReturnType<typeof summarizeObject>;

/**
 * A program type as users name it: anything bpftool's `type` accepts (a libbpf section name such as
 * `classifier`, `xdp`, `tracepoint`) or a bpf_prog_type name with or without its prefix.
 * Undefined when it names no type.
 */
export function progTypeByName(text: string): { type: number; expectedAttachType: number; flags?: readonly SecFlag[] } | undefined {
  const m = matchSection(text, { libbpf: 'upstream' });
  if (m) return { type: m.progType, expectedAttachType: m.expectedAttachType ?? 0, flags: m.flags };
  const type = (bpf_prog_type as Readonly<Record<string, number>>)[`BPF_PROG_TYPE_${text.toUpperCase().replace(/^BPF_PROG_TYPE_/, '')}`];
  return type === undefined || type === 0 ? undefined : { type, expectedAttachType: 0 };
}
