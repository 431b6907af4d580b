// Which program type to load a program as: `--type` first, then the attach point the user named,
// then the section name as libbpf reads it. Where libbpf would refuse the section but the attach
// point settles the type, bpfts loads it and says how to make the object portable.
import { matchSection, progTypeByName, suggestSections, type AttachIntent, type SecFlag } from '../../object/index.js';
import { bpf_attach_type, bpf_prog_type, enumName } from '../../uapi/index.js';
import { LoadError } from './errors.js';

export interface ProgTypeChoice {
  type: number;
  expectedAttachType: number;
  /** Why the section name was not used, with the fix. */
  warning?: string;
  /** libbpf's section flags (SEC_ATTACH_BTF, SEC_SLEEPABLE, ...) when the type came from a section name. */
  flags?: readonly SecFlag[];
}

/** The program type (and expected attach type) an attach point implies. */
export const ATTACH_PROG_TYPES: Record<AttachIntent, ProgTypeChoice> = {
  'tc-ingress': { type: bpf_prog_type.BPF_PROG_TYPE_SCHED_CLS, expectedAttachType: 0 },
  'tc-egress': { type: bpf_prog_type.BPF_PROG_TYPE_SCHED_CLS, expectedAttachType: 0 },
  'tcx-ingress': { type: bpf_prog_type.BPF_PROG_TYPE_SCHED_CLS, expectedAttachType: bpf_attach_type.BPF_TCX_INGRESS },
  'tcx-egress': { type: bpf_prog_type.BPF_PROG_TYPE_SCHED_CLS, expectedAttachType: bpf_attach_type.BPF_TCX_EGRESS },
  xdp: { type: bpf_prog_type.BPF_PROG_TYPE_XDP, expectedAttachType: bpf_attach_type.BPF_XDP },
  'socket-filter': { type: bpf_prog_type.BPF_PROG_TYPE_SOCKET_FILTER, expectedAttachType: 0 },
  'cgroup-skb-ingress': { type: bpf_prog_type.BPF_PROG_TYPE_CGROUP_SKB, expectedAttachType: bpf_attach_type.BPF_CGROUP_INET_INGRESS },
  'cgroup-skb-egress': { type: bpf_prog_type.BPF_PROG_TYPE_CGROUP_SKB, expectedAttachType: bpf_attach_type.BPF_CGROUP_INET_EGRESS },
};

/** bpftool's short name of a program type: `sched_cls`, `xdp`. */
export function progTypeName(type: number): string {
  return enumName(bpf_prog_type, type)?.replace(/^BPF_PROG_TYPE_/, '').toLowerCase() ?? `type ${type}`;
}

/**
 * A `--type` argument: anything bpftool's `type` accepts (a libbpf section name such as
 * `classifier`, `xdp`, `tracepoint`), or a bpf_prog_type name with or without its prefix.
 */
export function parseProgType(text: string): ProgTypeChoice {
  const choice = progTypeByName(text);
  if (!choice) {
    throw new LoadError(`unknown program type '${text}'`, {
      hint: 'use a libbpf section name (classifier, xdp, socket, tracepoint, ...) or a program type (sched_cls, cgroup_skb, ...)',
    });
  }
  return choice;
}

/** The type to load a program in `section` as, given what the user said. */
export function chooseProgType(section: string, program: string, o: { type?: string; attach?: AttachIntent; object?: string }): ProgTypeChoice {
  if (o.type !== undefined) return parseProgType(o.type);
  const m = section === '.text' ? undefined : matchSection(section, { libbpf: 'upstream' });
  if (o.attach) {
    const want = ATTACH_PROG_TYPES[o.attach];
    if (m && m.progType !== want.type) {
      throw new LoadError(`program '${program}' is in section '${section}', which makes it a ${progTypeName(m.progType)} program, but ${o.attach} needs ${progTypeName(want.type)}`, {
        program, section, hint: `give --type ${progTypeName(want.type)} to load it as such anyway, or attach it where ${progTypeName(m.progType)} programs go`,
      });
    }
    if (m) return { type: m.progType, expectedAttachType: want.expectedAttachType || (m.expectedAttachType ?? 0), flags: m.flags };
    const libbpf = suggestSections(o.attach, { section, ...(o.object ? { object: o.object } : {}) }).find((s) => s.loader === 'libbpf');
    const names = libbpf?.sections.map((s) => `SEC("${s}")`).join(' or ') ?? '';
    return {
      ...want,
      warning: `section '${section}' of program '${program}' names no program type libbpf knows; bpfts loads it as ${progTypeName(want.type)} because ${o.attach} needs that.` +
        (names ? ` For libbpf-based loaders, rename the section to ${names}.` : ''),
    };
  }
  if (m) return { type: m.progType, expectedAttachType: m.expectedAttachType ?? 0, flags: m.flags };
  throw new LoadError(`cannot tell the type of program '${program}': libbpf knows no section named '${section}'`, {
    program, section, hint: 'give --type TYPE (e.g. --type classifier), or an attach point (--tc, --tcx, --xdp)',
  });
}
