// libbpf's table of ELF section names (`section_defs[]` in libbpf's src/libbpf.c) and the way libbpf
// matches a program's section against it (`sec_def_matches`, `find_sec_def`, and the `?` prefix
// handling in `bpf_object__init_prog`). Facts taken from libbpf master (libbpf/libbpf at 0f9c5a8d,
// the 1.8 development cycle) and checked against Debian 12's libbpf 1.1.2 (libbpf.so.1), which the
// tests use as an oracle.
import { bpf_attach_type, bpf_prog_type } from '../uapi/index.js';

/**
 * libbpf's `enum sec_def_flags`. SEC_ATTACHABLE_OPT in libbpf.c is SEC_ATTACHABLE plus
 * SEC_EXP_ATTACH_OPT and is written out as both here.
 */
export type SecFlag =
  /** The kernel may reject expected_attach_type; libbpf then retries the load without it. */
  | 'SEC_EXP_ATTACH_OPT'
  /** The program can be attached with BPF_PROG_ATTACH / `bpftool prog attach`. */
  | 'SEC_ATTACHABLE'
  /** The text after the prefix names a BTF function the program attaches to (fentry/foo). */
  | 'SEC_ATTACH_BTF'
  /** libbpf loads the program with BPF_F_SLEEPABLE. */
  | 'SEC_SLEEPABLE'
  /** libbpf loads the program with BPF_F_XDP_HAS_FRAGS. */
  | 'SEC_XDP_FRAGS'
  /** A USDT probe; libbpf may switch it to uprobe-multi at load time. */
  | 'SEC_USDT';

export type ProgTypeName = keyof typeof bpf_prog_type;

/**
 * Attach type names of enum bpf_attach_type (include/uapi/linux/bpf.h). The four after the union are
 * used by libbpf master but are newer than src/uapi's table, so they have no number yet.
 */
export type AttachTypeName =
  | keyof typeof bpf_attach_type
  | 'BPF_TRACE_FSESSION'
  | 'BPF_TRACE_FENTRY_MULTI'
  | 'BPF_TRACE_FEXIT_MULTI'
  | 'BPF_TRACE_FSESSION_MULTI';

export type LibbpfVersion = 'upstream' | '1.1';

export interface SectionDef {
  /** The pattern as libbpf writes it: `tc` matches exactly, `kprobe+` matches `kprobe` and `kprobe/...`. */
  readonly pattern: string;
  readonly progType: ProgTypeName;
  /** libbpf's expected_attach_type; absent where libbpf passes 0 (no attach type). */
  readonly expectedAttachType?: AttachTypeName;
  readonly flags: readonly SecFlag[];
  /** Whether Debian 12's libbpf 1.1 (and so its bpftool v7.1) knows the entry. */
  readonly inLibbpf11: boolean;
  /** libbpf 1.1's flags where they differ from master's. */
  readonly flags11?: readonly SecFlag[];
  /** The libbpf release that first has the entry, where it is certain and later than 1.1. */
  readonly since?: string;
}

const ATTACHABLE_OPT: readonly SecFlag[] = ['SEC_ATTACHABLE', 'SEC_EXP_ATTACH_OPT'];
const ATTACHABLE: readonly SecFlag[] = ['SEC_ATTACHABLE'];
const BTF: readonly SecFlag[] = ['SEC_ATTACH_BTF'];
const BTF_SLEEPABLE: readonly SecFlag[] = ['SEC_ATTACH_BTF', 'SEC_SLEEPABLE'];
const SLEEPABLE: readonly SecFlag[] = ['SEC_SLEEPABLE'];
const NONE: readonly SecFlag[] = [];

function def(
  pattern: string, progType: ProgTypeName, expectedAttachType: AttachTypeName | undefined,
  flags: readonly SecFlag[], inLibbpf11: boolean, extra: { since?: string; flags11?: readonly SecFlag[] } = {},
): SectionDef {
  return { pattern, progType, ...(expectedAttachType ? { expectedAttachType } : {}), flags, inLibbpf11, ...extra };
}

const OLD = true;
const NEW = false;

/** libbpf master's section_defs[], in libbpf's order (the first match wins). */
export const SECTION_DEFS: readonly SectionDef[] = [
  def('socket', 'BPF_PROG_TYPE_SOCKET_FILTER', undefined, NONE, OLD),
  def('sk_reuseport/migrate', 'BPF_PROG_TYPE_SK_REUSEPORT', 'BPF_SK_REUSEPORT_SELECT_OR_MIGRATE', ATTACHABLE, OLD),
  def('sk_reuseport', 'BPF_PROG_TYPE_SK_REUSEPORT', 'BPF_SK_REUSEPORT_SELECT', ATTACHABLE, OLD),
  def('kprobe+', 'BPF_PROG_TYPE_KPROBE', undefined, NONE, OLD),
  def('uprobe+', 'BPF_PROG_TYPE_KPROBE', undefined, NONE, OLD),
  def('uprobe.s+', 'BPF_PROG_TYPE_KPROBE', undefined, SLEEPABLE, OLD),
  def('kretprobe+', 'BPF_PROG_TYPE_KPROBE', undefined, NONE, OLD),
  def('uretprobe+', 'BPF_PROG_TYPE_KPROBE', undefined, NONE, OLD),
  def('uretprobe.s+', 'BPF_PROG_TYPE_KPROBE', undefined, SLEEPABLE, OLD),
  def('kprobe.multi+', 'BPF_PROG_TYPE_KPROBE', 'BPF_TRACE_KPROBE_MULTI', NONE, OLD),
  def('kretprobe.multi+', 'BPF_PROG_TYPE_KPROBE', 'BPF_TRACE_KPROBE_MULTI', NONE, OLD),
  def('kprobe.session+', 'BPF_PROG_TYPE_KPROBE', 'BPF_TRACE_KPROBE_SESSION', NONE, NEW),
  def('uprobe.multi+', 'BPF_PROG_TYPE_KPROBE', 'BPF_TRACE_UPROBE_MULTI', NONE, NEW, { since: '1.3' }),
  def('uretprobe.multi+', 'BPF_PROG_TYPE_KPROBE', 'BPF_TRACE_UPROBE_MULTI', NONE, NEW, { since: '1.3' }),
  def('uprobe.session+', 'BPF_PROG_TYPE_KPROBE', 'BPF_TRACE_UPROBE_SESSION', NONE, NEW),
  def('uprobe.multi.s+', 'BPF_PROG_TYPE_KPROBE', 'BPF_TRACE_UPROBE_MULTI', SLEEPABLE, NEW, { since: '1.3' }),
  def('uretprobe.multi.s+', 'BPF_PROG_TYPE_KPROBE', 'BPF_TRACE_UPROBE_MULTI', SLEEPABLE, NEW, { since: '1.3' }),
  def('uprobe.session.s+', 'BPF_PROG_TYPE_KPROBE', 'BPF_TRACE_UPROBE_SESSION', SLEEPABLE, NEW),
  def('ksyscall+', 'BPF_PROG_TYPE_KPROBE', undefined, NONE, OLD),
  def('kretsyscall+', 'BPF_PROG_TYPE_KPROBE', undefined, NONE, OLD),
  def('usdt+', 'BPF_PROG_TYPE_KPROBE', undefined, ['SEC_USDT'], OLD, { flags11: NONE }),
  def('usdt.s+', 'BPF_PROG_TYPE_KPROBE', undefined, ['SEC_USDT', 'SEC_SLEEPABLE'], NEW, { since: '1.3' }),
  // libbpf marks tc/ingress and tc/egress as aliases of the tcx sections.
  def('tc/ingress', 'BPF_PROG_TYPE_SCHED_CLS', 'BPF_TCX_INGRESS', NONE, NEW, { since: '1.3' }),
  def('tc/egress', 'BPF_PROG_TYPE_SCHED_CLS', 'BPF_TCX_EGRESS', NONE, NEW, { since: '1.3' }),
  def('tcx/ingress', 'BPF_PROG_TYPE_SCHED_CLS', 'BPF_TCX_INGRESS', NONE, NEW, { since: '1.3' }),
  def('tcx/egress', 'BPF_PROG_TYPE_SCHED_CLS', 'BPF_TCX_EGRESS', NONE, NEW, { since: '1.3' }),
  def('tc', 'BPF_PROG_TYPE_SCHED_CLS', undefined, NONE, OLD),
  def('classifier', 'BPF_PROG_TYPE_SCHED_CLS', undefined, NONE, OLD),
  def('action', 'BPF_PROG_TYPE_SCHED_ACT', undefined, NONE, OLD),
  def('netkit/primary', 'BPF_PROG_TYPE_SCHED_CLS', 'BPF_NETKIT_PRIMARY', NONE, NEW, { since: '1.3' }),
  def('netkit/peer', 'BPF_PROG_TYPE_SCHED_CLS', 'BPF_NETKIT_PEER', NONE, NEW, { since: '1.3' }),
  def('tracepoint+', 'BPF_PROG_TYPE_TRACEPOINT', undefined, NONE, OLD),
  def('tp+', 'BPF_PROG_TYPE_TRACEPOINT', undefined, NONE, OLD),
  def('tracepoint.s+', 'BPF_PROG_TYPE_TRACEPOINT', undefined, SLEEPABLE, NEW),
  def('tp.s+', 'BPF_PROG_TYPE_TRACEPOINT', undefined, SLEEPABLE, NEW),
  def('raw_tracepoint+', 'BPF_PROG_TYPE_RAW_TRACEPOINT', undefined, NONE, OLD),
  def('raw_tp+', 'BPF_PROG_TYPE_RAW_TRACEPOINT', undefined, NONE, OLD),
  def('raw_tracepoint.s+', 'BPF_PROG_TYPE_RAW_TRACEPOINT', undefined, SLEEPABLE, NEW),
  def('raw_tp.s+', 'BPF_PROG_TYPE_RAW_TRACEPOINT', undefined, SLEEPABLE, NEW),
  def('raw_tracepoint.w+', 'BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE', undefined, NONE, OLD),
  def('raw_tp.w+', 'BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE', undefined, NONE, OLD),
  def('tp_btf+', 'BPF_PROG_TYPE_TRACING', 'BPF_TRACE_RAW_TP', BTF, OLD),
  def('tp_btf.s+', 'BPF_PROG_TYPE_TRACING', 'BPF_TRACE_RAW_TP', BTF_SLEEPABLE, NEW),
  def('fentry+', 'BPF_PROG_TYPE_TRACING', 'BPF_TRACE_FENTRY', BTF, OLD),
  def('fmod_ret+', 'BPF_PROG_TYPE_TRACING', 'BPF_MODIFY_RETURN', BTF, OLD),
  def('fexit+', 'BPF_PROG_TYPE_TRACING', 'BPF_TRACE_FEXIT', BTF, OLD),
  def('fentry.s+', 'BPF_PROG_TYPE_TRACING', 'BPF_TRACE_FENTRY', BTF_SLEEPABLE, OLD),
  def('fmod_ret.s+', 'BPF_PROG_TYPE_TRACING', 'BPF_MODIFY_RETURN', BTF_SLEEPABLE, OLD),
  def('fexit.s+', 'BPF_PROG_TYPE_TRACING', 'BPF_TRACE_FEXIT', BTF_SLEEPABLE, OLD),
  def('fsession+', 'BPF_PROG_TYPE_TRACING', 'BPF_TRACE_FSESSION', BTF, NEW),
  def('fsession.s+', 'BPF_PROG_TYPE_TRACING', 'BPF_TRACE_FSESSION', BTF_SLEEPABLE, NEW),
  // libbpf resolves the .multi targets itself at attach time, so these carry no SEC_ATTACH_BTF.
  def('fsession.multi+', 'BPF_PROG_TYPE_TRACING', 'BPF_TRACE_FSESSION_MULTI', NONE, NEW),
  def('fsession.multi.s+', 'BPF_PROG_TYPE_TRACING', 'BPF_TRACE_FSESSION_MULTI', SLEEPABLE, NEW),
  def('fentry.multi+', 'BPF_PROG_TYPE_TRACING', 'BPF_TRACE_FENTRY_MULTI', NONE, NEW),
  def('fexit.multi+', 'BPF_PROG_TYPE_TRACING', 'BPF_TRACE_FEXIT_MULTI', NONE, NEW),
  def('fentry.multi.s+', 'BPF_PROG_TYPE_TRACING', 'BPF_TRACE_FENTRY_MULTI', SLEEPABLE, NEW),
  def('fexit.multi.s+', 'BPF_PROG_TYPE_TRACING', 'BPF_TRACE_FEXIT_MULTI', SLEEPABLE, NEW),
  def('freplace+', 'BPF_PROG_TYPE_EXT', undefined, BTF, OLD),
  def('lsm+', 'BPF_PROG_TYPE_LSM', 'BPF_LSM_MAC', BTF, OLD),
  def('lsm.s+', 'BPF_PROG_TYPE_LSM', 'BPF_LSM_MAC', BTF_SLEEPABLE, OLD),
  def('lsm_cgroup+', 'BPF_PROG_TYPE_LSM', 'BPF_LSM_CGROUP', BTF, OLD),
  def('iter+', 'BPF_PROG_TYPE_TRACING', 'BPF_TRACE_ITER', BTF, OLD),
  def('iter.s+', 'BPF_PROG_TYPE_TRACING', 'BPF_TRACE_ITER', BTF_SLEEPABLE, OLD),
  def('syscall', 'BPF_PROG_TYPE_SYSCALL', undefined, SLEEPABLE, OLD),
  def('xdp.frags/devmap', 'BPF_PROG_TYPE_XDP', 'BPF_XDP_DEVMAP', ['SEC_XDP_FRAGS'], OLD),
  def('xdp/devmap', 'BPF_PROG_TYPE_XDP', 'BPF_XDP_DEVMAP', ATTACHABLE, OLD),
  def('xdp.frags/cpumap', 'BPF_PROG_TYPE_XDP', 'BPF_XDP_CPUMAP', ['SEC_XDP_FRAGS'], OLD),
  def('xdp/cpumap', 'BPF_PROG_TYPE_XDP', 'BPF_XDP_CPUMAP', ATTACHABLE, OLD),
  def('xdp.frags', 'BPF_PROG_TYPE_XDP', 'BPF_XDP', ['SEC_XDP_FRAGS'], OLD),
  def('xdp', 'BPF_PROG_TYPE_XDP', 'BPF_XDP', ATTACHABLE_OPT, OLD),
  def('perf_event', 'BPF_PROG_TYPE_PERF_EVENT', undefined, NONE, OLD),
  def('lwt_in', 'BPF_PROG_TYPE_LWT_IN', undefined, NONE, OLD),
  def('lwt_out', 'BPF_PROG_TYPE_LWT_OUT', undefined, NONE, OLD),
  def('lwt_xmit', 'BPF_PROG_TYPE_LWT_XMIT', undefined, NONE, OLD),
  def('lwt_seg6local', 'BPF_PROG_TYPE_LWT_SEG6LOCAL', undefined, NONE, OLD),
  def('sockops', 'BPF_PROG_TYPE_SOCK_OPS', 'BPF_CGROUP_SOCK_OPS', ATTACHABLE_OPT, OLD),
  def('sk_skb/stream_parser', 'BPF_PROG_TYPE_SK_SKB', 'BPF_SK_SKB_STREAM_PARSER', ATTACHABLE_OPT, OLD),
  def('sk_skb/stream_verdict', 'BPF_PROG_TYPE_SK_SKB', 'BPF_SK_SKB_STREAM_VERDICT', ATTACHABLE_OPT, OLD),
  def('sk_skb/verdict', 'BPF_PROG_TYPE_SK_SKB', 'BPF_SK_SKB_VERDICT', ATTACHABLE_OPT, NEW),
  def('sk_skb', 'BPF_PROG_TYPE_SK_SKB', undefined, NONE, OLD),
  def('sk_msg', 'BPF_PROG_TYPE_SK_MSG', 'BPF_SK_MSG_VERDICT', ATTACHABLE_OPT, OLD),
  def('lirc_mode2', 'BPF_PROG_TYPE_LIRC_MODE2', 'BPF_LIRC_MODE2', ATTACHABLE_OPT, OLD),
  def('flow_dissector', 'BPF_PROG_TYPE_FLOW_DISSECTOR', 'BPF_FLOW_DISSECTOR', ATTACHABLE_OPT, OLD),
  def('cgroup_skb/ingress', 'BPF_PROG_TYPE_CGROUP_SKB', 'BPF_CGROUP_INET_INGRESS', ATTACHABLE_OPT, OLD),
  def('cgroup_skb/egress', 'BPF_PROG_TYPE_CGROUP_SKB', 'BPF_CGROUP_INET_EGRESS', ATTACHABLE_OPT, OLD),
  def('cgroup/skb', 'BPF_PROG_TYPE_CGROUP_SKB', undefined, NONE, OLD),
  def('cgroup/sock_create', 'BPF_PROG_TYPE_CGROUP_SOCK', 'BPF_CGROUP_INET_SOCK_CREATE', ATTACHABLE, OLD),
  def('cgroup/sock_release', 'BPF_PROG_TYPE_CGROUP_SOCK', 'BPF_CGROUP_INET_SOCK_RELEASE', ATTACHABLE, OLD),
  def('cgroup/sock', 'BPF_PROG_TYPE_CGROUP_SOCK', 'BPF_CGROUP_INET_SOCK_CREATE', ATTACHABLE_OPT, OLD),
  def('cgroup/post_bind4', 'BPF_PROG_TYPE_CGROUP_SOCK', 'BPF_CGROUP_INET4_POST_BIND', ATTACHABLE, OLD),
  def('cgroup/post_bind6', 'BPF_PROG_TYPE_CGROUP_SOCK', 'BPF_CGROUP_INET6_POST_BIND', ATTACHABLE, OLD),
  def('cgroup/bind4', 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET4_BIND', ATTACHABLE, OLD),
  def('cgroup/bind6', 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET6_BIND', ATTACHABLE, OLD),
  def('cgroup/connect4', 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET4_CONNECT', ATTACHABLE, OLD),
  def('cgroup/connect6', 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET6_CONNECT', ATTACHABLE, OLD),
  def('cgroup/connect_unix', 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', 'BPF_CGROUP_UNIX_CONNECT', ATTACHABLE, NEW, { since: '1.3' }),
  def('cgroup/sendmsg4', 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', 'BPF_CGROUP_UDP4_SENDMSG', ATTACHABLE, OLD),
  def('cgroup/sendmsg6', 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', 'BPF_CGROUP_UDP6_SENDMSG', ATTACHABLE, OLD),
  def('cgroup/sendmsg_unix', 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', 'BPF_CGROUP_UNIX_SENDMSG', ATTACHABLE, NEW, { since: '1.3' }),
  def('cgroup/recvmsg4', 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', 'BPF_CGROUP_UDP4_RECVMSG', ATTACHABLE, OLD),
  def('cgroup/recvmsg6', 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', 'BPF_CGROUP_UDP6_RECVMSG', ATTACHABLE, OLD),
  def('cgroup/recvmsg_unix', 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', 'BPF_CGROUP_UNIX_RECVMSG', ATTACHABLE, NEW, { since: '1.3' }),
  def('cgroup/getpeername4', 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET4_GETPEERNAME', ATTACHABLE, OLD),
  def('cgroup/getpeername6', 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET6_GETPEERNAME', ATTACHABLE, OLD),
  def('cgroup/getpeername_unix', 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', 'BPF_CGROUP_UNIX_GETPEERNAME', ATTACHABLE, NEW, { since: '1.3' }),
  def('cgroup/getsockname4', 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET4_GETSOCKNAME', ATTACHABLE, OLD),
  def('cgroup/getsockname6', 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET6_GETSOCKNAME', ATTACHABLE, OLD),
  def('cgroup/getsockname_unix', 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', 'BPF_CGROUP_UNIX_GETSOCKNAME', ATTACHABLE, NEW, { since: '1.3' }),
  def('cgroup/sysctl', 'BPF_PROG_TYPE_CGROUP_SYSCTL', 'BPF_CGROUP_SYSCTL', ATTACHABLE, OLD),
  def('cgroup/getsockopt', 'BPF_PROG_TYPE_CGROUP_SOCKOPT', 'BPF_CGROUP_GETSOCKOPT', ATTACHABLE, OLD),
  def('cgroup/setsockopt', 'BPF_PROG_TYPE_CGROUP_SOCKOPT', 'BPF_CGROUP_SETSOCKOPT', ATTACHABLE, OLD),
  def('cgroup/dev', 'BPF_PROG_TYPE_CGROUP_DEVICE', 'BPF_CGROUP_DEVICE', ATTACHABLE_OPT, OLD),
  def('struct_ops+', 'BPF_PROG_TYPE_STRUCT_OPS', undefined, NONE, OLD),
  def('struct_ops.s+', 'BPF_PROG_TYPE_STRUCT_OPS', undefined, SLEEPABLE, NEW),
  def('sk_lookup', 'BPF_PROG_TYPE_SK_LOOKUP', 'BPF_SK_LOOKUP', ATTACHABLE, OLD),
  def('netfilter', 'BPF_PROG_TYPE_NETFILTER', 'BPF_NETFILTER', NONE, NEW),
];

/** sec_def_matches: exact match, or for a `+` pattern the prefix alone or followed by `/`. */
export function patternMatches(pattern: string, name: string): boolean {
  if (!pattern.endsWith('+')) return name === pattern;
  const prefix = pattern.slice(0, -1);
  return name.startsWith(prefix) && (name.length === prefix.length || name[prefix.length] === '/');
}

export interface SectionMatch {
  def: SectionDef;
  /** enum bpf_prog_type value. */
  progType: number;
  /**
   * expected_attach_type as libbpf passes it: 0 when the entry has none, undefined for an attach type
   * newer than bpfts's uapi table.
   */
  expectedAttachType: number | undefined;
  /** False for `?name`: libbpf opens the program but does not load it unless told to. */
  autoload: boolean;
  /** The flags this libbpf version applies. */
  flags: readonly SecFlag[];
}

/** The numeric value of an attach type name, when src/uapi knows it. */
export function attachTypeNumber(name: AttachTypeName): number | undefined {
  return (bpf_attach_type as Readonly<Record<string, number>>)[name];
}

/**
 * What program type libbpf gives a program in section `name`, as bpf_object__open does: a leading
 * `?` only turns autoload off and is dropped before matching. Undefined when libbpf finds no entry,
 * which at load time is libbpf's "missing BPF prog type, check ELF section name" error.
 */
export function matchSection(name: string, opts: { libbpf: LibbpfVersion }): SectionMatch | undefined {
  const autoload = !name.startsWith('?');
  const bare = autoload ? name : name.slice(1);
  const old = opts.libbpf === '1.1';
  const found = SECTION_DEFS.find((d) => (!old || d.inLibbpf11) && patternMatches(d.pattern, bare));
  if (!found) return undefined;
  return {
    def: found,
    progType: bpf_prog_type[found.progType],
    expectedAttachType: found.expectedAttachType ? attachTypeNumber(found.expectedAttachType) : 0,
    autoload,
    flags: old && found.flags11 ? found.flags11 : found.flags,
  };
}

/** The table as a given libbpf version has it. */
export function sectionDefs(libbpf: LibbpfVersion): readonly SectionDef[] {
  return libbpf === '1.1' ? SECTION_DEFS.filter((d) => d.inLibbpf11) : SECTION_DEFS;
}
