// What each loader makes of a program's ELF section name, and which names and commands work for
// the attach point a user most likely wants. Sources:
//  - libbpf: section-defs.ts (libbpf's section_defs[]); bpftool v7.1 on Debian 12 is built on libbpf 1.1.
//  - tc: iproute2's lib/bpf_legacy.c (bpf_prog_to_default_section: "classifier" for cls, "action"
//    for act, "prog" for xdp) and lib/bpf_libbpf.c, which picks the program whose section equals
//    `sec NAME` and sets its type itself, so the name never has to mean anything to libbpf.
//  - aya: aya-obj's ProgramSection::from_str (aya-rs/aya at 403a7546): the part before the first
//    `/` names the kind; an executable section it does not know fails the whole object.
import { matchSection, type AttachTypeName, type LibbpfVersion, type ProgTypeName } from './section-defs.js';

export type LoaderId = 'libbpf' | 'libbpf-1.1' | 'tc' | 'aya';

export const LOADERS: readonly LoaderId[] = ['libbpf', 'libbpf-1.1', 'tc', 'aya'];

export interface LoaderView {
  loader: LoaderId;
  /** The loader gives the program a type from this name alone. */
  accepted: boolean;
  progType?: ProgTypeName;
  expectedAttachType?: AttachTypeName;
  /** libbpf's `?` prefix: the program is opened but not loaded. */
  autoload?: boolean;
  /** What the loader prints when it refuses the name. */
  error?: string;
  note?: string;
}

function libbpfView(section: string, loader: 'libbpf' | 'libbpf-1.1', program: string): LoaderView {
  const version: LibbpfVersion = loader === 'libbpf' ? 'upstream' : '1.1';
  const m = matchSection(section, { libbpf: version });
  const bare = section.startsWith('?') ? section.slice(1) : section;
  if (!m) {
    const later = matchSection(section, { libbpf: 'upstream' });
    return {
      loader,
      accepted: false,
      error: loader === 'libbpf'
        ? `prog '${program}': missing BPF prog type, check ELF section name '${bare}'`
        // bpftool guesses types itself before loading and stops with libbpf's debug message.
        : `failed to guess program type from ELF section '${section}'`,
      ...(later ? { note: `libbpf ${later.def.since ? `${later.def.since} and later know` : 'versions after 1.1 know'} '${later.def.pattern}'` } : {}),
    };
  }
  const view: LoaderView = {
    loader,
    accepted: true,
    progType: m.def.progType,
    autoload: m.autoload,
    ...(m.def.expectedAttachType ? { expectedAttachType: m.def.expectedAttachType } : {}),
  };
  if (!m.autoload && loader === 'libbpf-1.1') {
    view.note = "bpftool v7.1 `prog loadall` fails on it: \"can't pin program that wasn't loaded\"";
  }
  return view;
}

function tcView(section: string): LoaderView {
  return {
    loader: 'tc',
    accepted: true,
    progType: 'BPF_PROG_TYPE_SCHED_CLS',
    note: section === 'classifier'
      ? 'tc picks this section when `sec` is not given'
      : `tc needs \`sec ${section}\`; without it tc looks for section 'classifier'`,
  };
}

type AyaKind = { progType: ProgTypeName; expectedAttachType?: AttachTypeName };

const AYA_KINDS: Readonly<Record<string, AyaKind>> = {
  kprobe: { progType: 'BPF_PROG_TYPE_KPROBE' },
  kretprobe: { progType: 'BPF_PROG_TYPE_KPROBE' },
  uprobe: { progType: 'BPF_PROG_TYPE_KPROBE' },
  'uprobe.s': { progType: 'BPF_PROG_TYPE_KPROBE' },
  uretprobe: { progType: 'BPF_PROG_TYPE_KPROBE' },
  'uretprobe.s': { progType: 'BPF_PROG_TYPE_KPROBE' },
  tp_btf: { progType: 'BPF_PROG_TYPE_TRACING', expectedAttachType: 'BPF_TRACE_RAW_TP' },
  tracepoint: { progType: 'BPF_PROG_TYPE_TRACEPOINT' },
  tp: { progType: 'BPF_PROG_TYPE_TRACEPOINT' },
  socket: { progType: 'BPF_PROG_TYPE_SOCKET_FILTER' },
  sk_msg: { progType: 'BPF_PROG_TYPE_SK_MSG', expectedAttachType: 'BPF_SK_MSG_VERDICT' },
  sockops: { progType: 'BPF_PROG_TYPE_SOCK_OPS', expectedAttachType: 'BPF_CGROUP_SOCK_OPS' },
  classifier: { progType: 'BPF_PROG_TYPE_SCHED_CLS' },
  lirc_mode2: { progType: 'BPF_PROG_TYPE_LIRC_MODE2', expectedAttachType: 'BPF_LIRC_MODE2' },
  perf_event: { progType: 'BPF_PROG_TYPE_PERF_EVENT' },
  raw_tp: { progType: 'BPF_PROG_TYPE_RAW_TRACEPOINT' },
  raw_tracepoint: { progType: 'BPF_PROG_TYPE_RAW_TRACEPOINT' },
  lsm: { progType: 'BPF_PROG_TYPE_LSM', expectedAttachType: 'BPF_LSM_MAC' },
  'lsm.s': { progType: 'BPF_PROG_TYPE_LSM', expectedAttachType: 'BPF_LSM_MAC' },
  fentry: { progType: 'BPF_PROG_TYPE_TRACING', expectedAttachType: 'BPF_TRACE_FENTRY' },
  'fentry.s': { progType: 'BPF_PROG_TYPE_TRACING', expectedAttachType: 'BPF_TRACE_FENTRY' },
  fexit: { progType: 'BPF_PROG_TYPE_TRACING', expectedAttachType: 'BPF_TRACE_FEXIT' },
  'fexit.s': { progType: 'BPF_PROG_TYPE_TRACING', expectedAttachType: 'BPF_TRACE_FEXIT' },
  freplace: { progType: 'BPF_PROG_TYPE_EXT' },
  sk_lookup: { progType: 'BPF_PROG_TYPE_SK_LOOKUP', expectedAttachType: 'BPF_SK_LOOKUP' },
};

const AYA_SUBKINDS: Readonly<Record<string, Readonly<Record<string, AyaKind>>>> = {
  sk_skb: {
    stream_parser: { progType: 'BPF_PROG_TYPE_SK_SKB', expectedAttachType: 'BPF_SK_SKB_STREAM_PARSER' },
    stream_verdict: { progType: 'BPF_PROG_TYPE_SK_SKB', expectedAttachType: 'BPF_SK_SKB_STREAM_VERDICT' },
  },
  cgroup_skb: {
    ingress: { progType: 'BPF_PROG_TYPE_CGROUP_SKB', expectedAttachType: 'BPF_CGROUP_INET_INGRESS' },
    egress: { progType: 'BPF_PROG_TYPE_CGROUP_SKB', expectedAttachType: 'BPF_CGROUP_INET_EGRESS' },
  },
  cgroup: {
    skb: { progType: 'BPF_PROG_TYPE_CGROUP_SKB' },
    sysctl: { progType: 'BPF_PROG_TYPE_CGROUP_SYSCTL', expectedAttachType: 'BPF_CGROUP_SYSCTL' },
    dev: { progType: 'BPF_PROG_TYPE_CGROUP_DEVICE', expectedAttachType: 'BPF_CGROUP_DEVICE' },
    getsockopt: { progType: 'BPF_PROG_TYPE_CGROUP_SOCKOPT', expectedAttachType: 'BPF_CGROUP_GETSOCKOPT' },
    setsockopt: { progType: 'BPF_PROG_TYPE_CGROUP_SOCKOPT', expectedAttachType: 'BPF_CGROUP_SETSOCKOPT' },
    sock: { progType: 'BPF_PROG_TYPE_CGROUP_SOCK', expectedAttachType: 'BPF_CGROUP_INET_SOCK_CREATE' },
    sock_create: { progType: 'BPF_PROG_TYPE_CGROUP_SOCK', expectedAttachType: 'BPF_CGROUP_INET_SOCK_CREATE' },
    sock_release: { progType: 'BPF_PROG_TYPE_CGROUP_SOCK', expectedAttachType: 'BPF_CGROUP_INET_SOCK_RELEASE' },
    post_bind4: { progType: 'BPF_PROG_TYPE_CGROUP_SOCK', expectedAttachType: 'BPF_CGROUP_INET4_POST_BIND' },
    post_bind6: { progType: 'BPF_PROG_TYPE_CGROUP_SOCK', expectedAttachType: 'BPF_CGROUP_INET6_POST_BIND' },
    bind4: { progType: 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', expectedAttachType: 'BPF_CGROUP_INET4_BIND' },
    bind6: { progType: 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', expectedAttachType: 'BPF_CGROUP_INET6_BIND' },
    connect4: { progType: 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', expectedAttachType: 'BPF_CGROUP_INET4_CONNECT' },
    connect6: { progType: 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', expectedAttachType: 'BPF_CGROUP_INET6_CONNECT' },
    getpeername4: { progType: 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', expectedAttachType: 'BPF_CGROUP_INET4_GETPEERNAME' },
    getpeername6: { progType: 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', expectedAttachType: 'BPF_CGROUP_INET6_GETPEERNAME' },
    getsockname4: { progType: 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', expectedAttachType: 'BPF_CGROUP_INET4_GETSOCKNAME' },
    getsockname6: { progType: 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', expectedAttachType: 'BPF_CGROUP_INET6_GETSOCKNAME' },
    sendmsg4: { progType: 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', expectedAttachType: 'BPF_CGROUP_UDP4_SENDMSG' },
    sendmsg6: { progType: 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', expectedAttachType: 'BPF_CGROUP_UDP6_SENDMSG' },
    recvmsg4: { progType: 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', expectedAttachType: 'BPF_CGROUP_UDP4_RECVMSG' },
    recvmsg6: { progType: 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', expectedAttachType: 'BPF_CGROUP_UDP6_RECVMSG' },
  },
};

function ayaKind(section: string): AyaKind | undefined {
  const [kind = '', second] = section.split('/');
  if (kind === 'xdp' || kind === 'xdp.frags') {
    // aya reads only the piece after the first '/' here; anything after a second '/' is ignored.
    const attach: AttachTypeName | undefined = second === undefined ? 'BPF_XDP'
      : second === 'cpumap' ? 'BPF_XDP_CPUMAP'
      : second === 'devmap' ? 'BPF_XDP_DEVMAP'
      : undefined;
    return attach ? { progType: 'BPF_PROG_TYPE_XDP', expectedAttachType: attach } : undefined;
  }
  const sub = Object.hasOwn(AYA_SUBKINDS, kind) ? AYA_SUBKINDS[kind] : undefined;
  if (sub) return second !== undefined && Object.hasOwn(sub, second) ? sub[second] : undefined;
  return Object.hasOwn(AYA_KINDS, kind) ? AYA_KINDS[kind] : undefined;
}

function ayaView(section: string): LoaderView {
  const kind = ayaKind(section);
  if (!kind) {
    return {
      loader: 'aya',
      accepted: false,
      error: `invalid program section \`${section}\``,
      ...(section === 'tc' || section.startsWith('tc/') || section.startsWith('tcx/')
        ? { note: "aya's #[classifier] programs use section 'classifier'; the tc/tcx choice is made when attaching" }
        : {}),
    };
  }
  return { loader: 'aya', accepted: true, progType: kind.progType, ...(kind.expectedAttachType ? { expectedAttachType: kind.expectedAttachType } : {}) };
}

/** What `loader` makes of a program in section `section` (`program` names it in libbpf's message). */
export function loaderView(section: string, loader: LoaderId, program = 'prog'): LoaderView {
  switch (loader) {
    case 'libbpf':
    case 'libbpf-1.1':
      return libbpfView(section, loader, program);
    case 'tc':
      return tcView(section);
    case 'aya':
      return ayaView(section);
  }
}

export function loaderViews(section: string, program = 'prog'): LoaderView[] {
  return LOADERS.map((l) => loaderView(section, l, program));
}

/** The attach point a user most likely wants for a program. */
export type AttachIntent =
  | 'tc-ingress' | 'tc-egress' | 'tcx-ingress' | 'tcx-egress' | 'xdp' | 'socket-filter'
  | 'cgroup-skb-ingress' | 'cgroup-skb-egress';

export interface Suggestion {
  loader: LoaderId | 'bpftool-7.1' | 'bpfts';
  /** Section names that work, best first; empty when any name works. */
  sections: string[];
  /** Commands that load (and where the tool can, attach) the object. */
  commands: string[];
  note?: string;
}

export interface SuggestContext {
  object?: string;
  dev?: string;
  /** The section the program is in now; tc can use it as it is. */
  section?: string;
}

/** Section names and commands that would work for `intent` with each loader. */
export function suggestSections(intent: AttachIntent, ctx: SuggestContext = {}): Suggestion[] {
  const obj = ctx.object ?? 'OBJ';
  const dev = ctx.dev ?? 'DEV';
  const pin = '/sys/fs/bpf/x';
  switch (intent) {
    case 'tc-ingress':
    case 'tc-egress':
    case 'tcx-ingress':
    case 'tcx-egress': {
      const dir = intent.endsWith('ingress') ? 'ingress' : 'egress';
      const tcx = intent.startsWith('tcx');
      const sec = ctx.section ?? 'classifier';
      return [
        {
          loader: 'libbpf',
          sections: tcx ? [`tcx/${dir}`, `tc/${dir}`] : ['tc', 'classifier'],
          commands: [],
          note: tcx
            ? `bpf_program__attach_tcx() attaches it; libbpf 1.3+ knows tcx/${dir}`
            : 'attach with bpf_tc_hook_create() and bpf_tc_attach()',
        },
        {
          loader: 'libbpf-1.1',
          sections: ['tc', 'classifier'],
          commands: [],
          ...(tcx ? { note: 'libbpf 1.1 has no tcx sections: load it as tc and attach it with tc or a tcx link' } : {}),
        },
        {
          loader: 'bpftool-7.1',
          sections: [],
          commands: [`bpftool prog loadall ${obj} ${pin} type classifier`],
          note: '`type classifier` overrides the section name for every program; bpftool v7.1 cannot attach to tc',
        },
        {
          loader: 'tc',
          sections: [],
          commands: [`tc qdisc add dev ${dev} clsact`, `tc filter add dev ${dev} ${dir} bpf da obj ${obj} sec ${sec}`],
          note: 'tc accepts any section given with `sec`',
        },
        { loader: 'aya', sections: ['classifier'], commands: [], note: `SchedClassifier::attach(iface, TcAttachType::${dir === 'ingress' ? 'Ingress' : 'Egress'})` },
        { loader: 'bpfts', sections: [], commands: [`bpfts load ${obj} --tc ${dir} ${dev}`] },
      ];
    }
    case 'xdp':
      return [
        { loader: 'libbpf', sections: ['xdp', 'xdp.frags'], commands: [] },
        { loader: 'libbpf-1.1', sections: ['xdp', 'xdp.frags'], commands: [] },
        { loader: 'bpftool-7.1', sections: [], commands: [`bpftool prog loadall ${obj} ${pin} type xdp`, `bpftool net attach xdp pinned ${pin}/PROG dev ${dev}`] },
        { loader: 'tc', sections: ['prog'], commands: [`ip link set dev ${dev} xdp obj ${obj} sec ${ctx.section ?? 'prog'}`], note: "iproute2's `ip` (not tc) attaches XDP; its default section is 'prog'" },
        { loader: 'aya', sections: ['xdp', 'xdp.frags'], commands: [] },
      ];
    case 'socket-filter':
      return [
        { loader: 'libbpf', sections: ['socket'], commands: [] },
        { loader: 'libbpf-1.1', sections: ['socket'], commands: [] },
        { loader: 'bpftool-7.1', sections: [], commands: [`bpftool prog loadall ${obj} ${pin} type socket`] },
        { loader: 'aya', sections: ['socket'], commands: [] },
      ];
    case 'cgroup-skb-ingress':
    case 'cgroup-skb-egress': {
      const dir = intent.endsWith('ingress') ? 'ingress' : 'egress';
      return [
        { loader: 'libbpf', sections: [`cgroup_skb/${dir}`], commands: [] },
        { loader: 'libbpf-1.1', sections: [`cgroup_skb/${dir}`], commands: [] },
        {
          loader: 'bpftool-7.1',
          sections: [`cgroup_skb/${dir}`],
          commands: [`bpftool prog loadall ${obj} ${pin}`, `bpftool cgroup attach CGROUP ${dir} pinned ${pin}/PROG`],
        },
        { loader: 'aya', sections: [`cgroup_skb/${dir}`], commands: [] },
      ];
    }
  }
}
