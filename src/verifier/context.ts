// What a program may do with its context pointer (R1 at entry), as the Linux 6.18 verifier decides
// it: the per-type is_valid_access callbacks of net/core/filter.c, kernel/trace/bpf_trace.c,
// kernel/bpf/cgroup.c, kernel/bpf/syscall.c and net/netfilter/nf_bpf_link.c. The layouts are the uapi context structs of
// include/uapi/linux/bpf.h (x86_64 for struct pt_regs); test/verifier/context.test.ts sweeps every
// offset and size of every loadable type against the running kernel.
import { bpf_attach_type as A, bpf_prog_type as P, MAX_BPF_FUNC_ARGS, PERF_MAX_TRACE_SIZE, PT_REGS_X86_64 } from '../uapi/index.js';

/** What a ctx load leaves in the destination register (bpf_insn_access_aux.reg_type). */
export type CtxLoad =
  | { kind: 'scalar' }
  | { kind: 'pkt' }
  | { kind: 'pkt_meta' }
  | { kind: 'pkt_end' }
  | { kind: 'sock_common_or_null' }
  | { kind: 'sock_or_null' }
  | { kind: 'sock' }
  | { kind: 'flow_keys' }
  | { kind: 'tp_buffer' }
  /** PTR_TO_BTF_ID | PTR_TRUSTED of the named kernel struct (netfilter's state and skb). */
  | { kind: 'btf_id'; struct: string; trusted: true };

export type CtxAccessResult =
  /**
   * The access is valid. For a read narrower than its field, `fieldSize` is the field's size
   * (bpf_ctx_record_field_size): the kernel rewrites the load to the full field and masks it.
   */
  | { ok: true; load: CtxLoad; fieldSize?: number }
  /** Rejected by is_valid_access: check_ctx_access prints invalidCtxAccessMessage(). */
  | { ok: false }
  /** The context is the traced function's arguments as u64s, checked against BTF (btf_ctx_access). */
  | { ok: 'btf-args' };

// ---------------------------------------------------------------------------------------------
// Layouts

interface Field {
  off: number;
  size: number;
}
type Layout<N extends string> = Record<N, Field> & { readonly $size: number };

/** Lays fields out as C does: each at its natural alignment (min(size, 8), or the given one). */
function layout<N extends string>(fields: ReadonlyArray<readonly [N, number, number?]>): Layout<N> {
  const out = {} as Record<string, Field>;
  let off = 0;
  let maxAlign = 1;
  for (const [name, size, align = Math.min(size, 8)] of fields) {
    off = Math.ceil(off / align) * align;
    out[name] = { off, size };
    off += size;
    maxAlign = Math.max(maxAlign, align);
  }
  return Object.assign(out, { $size: Math.ceil(off / maxAlign) * maxAlign }) as Layout<N>;
}

/** struct __sk_buff. */
const SKB = layout([
  ['len', 4], ['pkt_type', 4], ['mark', 4], ['queue_mapping', 4], ['protocol', 4], ['vlan_present', 4],
  ['vlan_tci', 4], ['vlan_proto', 4], ['priority', 4], ['ingress_ifindex', 4], ['ifindex', 4],
  ['tc_index', 4], ['cb', 20, 4], ['hash', 4], ['tc_classid', 4], ['data', 4], ['data_end', 4],
  ['napi_id', 4], ['family', 4], ['remote_ip4', 4], ['local_ip4', 4], ['remote_ip6', 16, 4],
  ['local_ip6', 16, 4], ['remote_port', 4], ['local_port', 4], ['data_meta', 4], ['flow_keys', 8],
  ['tstamp', 8], ['wire_len', 4], ['gso_segs', 4], ['sk', 8], ['gso_size', 4], ['tstamp_type', 1],
  ['hwtstamp', 8],
]);
/** struct xdp_md. */
const XDP = layout([
  ['data', 4], ['data_end', 4], ['data_meta', 4], ['ingress_ifindex', 4], ['rx_queue_index', 4],
  ['egress_ifindex', 4],
]);
/** struct bpf_sock. */
const SOCK = layout([
  ['bound_dev_if', 4], ['family', 4], ['type', 4], ['protocol', 4], ['mark', 4], ['priority', 4],
  ['src_ip4', 4], ['src_ip6', 16, 4], ['src_port', 4], ['dst_port', 2], ['dst_ip4', 4],
  ['dst_ip6', 16, 4], ['state', 4], ['rx_queue_mapping', 4],
]);
/** struct bpf_sock_addr. */
const SOCK_ADDR = layout([
  ['user_family', 4], ['user_ip4', 4], ['user_ip6', 16, 4], ['user_port', 4], ['family', 4],
  ['type', 4], ['protocol', 4], ['msg_src_ip4', 4], ['msg_src_ip6', 16, 4], ['sk', 8],
]);
/** struct bpf_sock_ops. */
const SOCK_OPS = layout([
  ['op', 4], ['args', 16, 4], ['family', 4], ['remote_ip4', 4], ['local_ip4', 4], ['remote_ip6', 16, 4],
  ['local_ip6', 16, 4], ['remote_port', 4], ['local_port', 4], ['is_fullsock', 4], ['snd_cwnd', 4],
  ['srtt_us', 4], ['bpf_sock_ops_cb_flags', 4], ['state', 4], ['rtt_min', 4], ['snd_ssthresh', 4],
  ['rcv_nxt', 4], ['snd_nxt', 4], ['snd_una', 4], ['mss_cache', 4], ['ecn_flags', 4],
  ['rate_delivered', 4], ['rate_interval_us', 4], ['packets_out', 4], ['retrans_out', 4],
  ['total_retrans', 4], ['segs_in', 4], ['data_segs_in', 4], ['segs_out', 4], ['data_segs_out', 4],
  ['lost_out', 4], ['sacked_out', 4], ['sk_txhash', 4], ['bytes_received', 8], ['bytes_acked', 8],
  ['sk', 8], ['skb_data', 8], ['skb_data_end', 8], ['skb_len', 4], ['skb_tcp_flags', 4],
  ['skb_hwtstamp', 8],
]);
/** struct sk_msg_md. */
const SK_MSG = layout([
  ['data', 8], ['data_end', 8], ['family', 4], ['remote_ip4', 4], ['local_ip4', 4], ['remote_ip6', 16, 4],
  ['local_ip6', 16, 4], ['remote_port', 4], ['local_port', 4], ['size', 4], ['sk', 8],
]);
/** struct sk_reuseport_md. */
const REUSEPORT = layout([
  ['data', 8], ['data_end', 8], ['len', 4], ['eth_protocol', 4], ['ip_protocol', 4], ['bind_inany', 4],
  ['hash', 4], ['sk', 8], ['migrating_sk', 8],
]);
/** struct bpf_sk_lookup (sk shares its slot with cookie). */
const SK_LOOKUP = layout([
  ['sk', 8], ['family', 4], ['protocol', 4], ['remote_ip4', 4], ['remote_ip6', 16, 4], ['remote_port', 2],
  ['local_ip4', 4], ['local_ip6', 16, 4], ['local_port', 4], ['ingress_ifindex', 4],
]);
/** struct bpf_sysctl. */
const SYSCTL = layout([['write', 4], ['file_pos', 4]]);
/** struct bpf_sockopt. */
const SOCKOPT = layout([
  ['sk', 8], ['optval', 8], ['optval_end', 8], ['level', 4], ['optname', 4], ['optlen', 4], ['retval', 4],
]);
/** struct bpf_cgroup_dev_ctx. */
const DEV = layout([['access_type', 4], ['major', 4], ['minor', 4]]);
/** struct bpf_nf_ctx (include/net/netfilter/nf_bpf_link.h): pointers to kernel structs. */
const NF = layout([['state', 8], ['skb', 8]]);
/** struct pt_regs of x86_64. */
const PT_REGS_SIZE = PT_REGS_X86_64.size;
/** struct bpf_perf_event_data: regs, then sample_period and addr. */
const PERF_EVENT = layout([['regs', PT_REGS_SIZE, 8], ['sample_period', 8], ['addr', 8]]);

// ---------------------------------------------------------------------------------------------
// Range tests, as the kernel's switch cases spell them

/** bpf_ctx_range(): any offset inside the field. */
const within = (off: number, f: Field): boolean => off >= f.off && off < f.off + f.size;
/** bpf_ctx_range_till(): from the first field's start to the last one's end. */
const spans = (off: number, first: Field, last: Field): boolean => off >= first.off && off < last.off + last.size;
/** bpf_ctx_narrow_access_ok(): a power-of-two size no larger than the field. */
const narrowOk = (size: number, fieldSize: number): boolean => size <= fieldSize && (size & (size - 1)) === 0;
/** bpf_ctx_wide_access_ok(): an aligned u64 inside an array field (the ip6 addresses). */
const wideOk = (off: number, size: number, f: Field): boolean =>
  size === 8 && off >= f.off && off + 8 <= f.off + f.size && off % 8 === 0;

const SCALAR: CtxLoad = { kind: 'scalar' };
const INVALID: CtxAccessResult = { ok: false };

/** The outcome of an is_valid_access callback: the kernel's boolean, the load type, the field size. */
interface Verdict {
  ok: boolean;
  load?: CtxLoad;
  fieldSize?: number;
}
const no: Verdict = { ok: false };
const yes = (load?: CtxLoad): Verdict => ({ ok: true, load });
/** A narrow-readable field: records the field size and allows power-of-two sizes up to it. */
const narrow = (size: number, fieldSize: number): Verdict =>
  narrowOk(size, fieldSize) ? { ok: true, fieldSize: size < fieldSize ? fieldSize : undefined } : no;

// ---------------------------------------------------------------------------------------------
// struct __sk_buff: bpf_skb_is_valid_access and the per-type wrappers around it

function skbBase(off: number, size: number, write: boolean, load?: CtxLoad): Verdict {
  if (off < 0 || off >= SKB.$size || off % size !== 0) return no;
  if (spans(off, SKB.cb, SKB.cb)) return off + size > SKB.cb.off + SKB.cb.size ? no : yes(load);
  if (within(off, SKB.remote_ip6) || within(off, SKB.local_ip6) || within(off, SKB.remote_ip4)
    || within(off, SKB.local_ip4) || within(off, SKB.data) || within(off, SKB.data_meta)
    || within(off, SKB.data_end)) return size === 4 ? yes(load) : no;
  if (within(off, SKB.flow_keys)) return no;
  if (within(off, SKB.hwtstamp)) return write || size !== 8 ? no : yes(load);
  if (within(off, SKB.tstamp)) return size === 8 ? yes(load) : no;
  if (within(off, SKB.sk)) return write || size !== 8 ? no : yes({ kind: 'sock_common_or_null' });
  // tstamp_type and the padding after it up to hwtstamp.
  if (off >= SKB.tstamp_type.off && off < SKB.hwtstamp.off) return no;
  // Only narrow reads: writes are whole u32s.
  if (write) return size === 4 ? yes(load) : no;
  return narrow(size, 4);
}

/** Fields of one __sk_buff type: readable-at-all exclusions, writable fields, packet pointers. */
interface SkbRules {
  denied: ReadonlyArray<Field>;
  writable: ReadonlyArray<Field>;
  /** Whether data_meta loads as pkt_meta (tc); data and data_end always load as pkt / pkt_end. */
  meta?: boolean;
  /** Whether data and data_end are packet pointers at all (not for socket filters). */
  packet: boolean;
}

const SOCKET_FIELDS = { first: SKB.family, last: SKB.local_port };

function skbAccess(r: SkbRules, off: number, size: number, write: boolean): Verdict {
  if (r.denied.some((f) => within(off, f))) return no;
  if (write && !r.writable.some((f) => within(off, f))) return no;
  let load: CtxLoad | undefined;
  if (r.packet && within(off, SKB.data)) load = { kind: 'pkt' };
  else if (r.packet && within(off, SKB.data_end)) load = { kind: 'pkt_end' };
  else if (r.meta && within(off, SKB.data_meta)) load = { kind: 'pkt_meta' };
  return skbBase(off, size, write, load);
}

const socketFields = (off: number): boolean => spans(off, SOCKET_FIELDS.first, SOCKET_FIELDS.last);

const SOCKET_FILTER: SkbRules = {
  denied: [SKB.tc_classid, SKB.data, SKB.data_meta, SKB.data_end, SKB.tstamp, SKB.wire_len, SKB.hwtstamp],
  writable: [SKB.cb],
  packet: false,
};
const CGROUP_SKB: SkbRules = {
  // data and data_end need bpf_capable(): bpfts models a privileged loader.
  denied: [SKB.tc_classid, SKB.data_meta, SKB.wire_len],
  writable: [SKB.mark, SKB.priority, SKB.cb, SKB.tstamp],
  packet: true,
};
const LWT: SkbRules = {
  denied: [SKB.tc_classid, SKB.data_meta, SKB.tstamp, SKB.wire_len, SKB.hwtstamp],
  writable: [SKB.mark, SKB.priority, SKB.cb],
  packet: true,
};
const TC: SkbRules = {
  denied: [],
  writable: [SKB.mark, SKB.tc_index, SKB.priority, SKB.tc_classid, SKB.cb, SKB.tstamp, SKB.queue_mapping],
  meta: true,
  packet: true,
};
const SK_SKB: SkbRules = {
  denied: [SKB.tc_classid, SKB.data_meta, SKB.tstamp, SKB.wire_len, SKB.hwtstamp, SKB.mark],
  writable: [SKB.tc_index, SKB.priority],
  packet: true,
};

function socketFilter(off: number, size: number, write: boolean): Verdict {
  return socketFields(off) ? no : skbAccess(SOCKET_FILTER, off, size, write);
}
function lwt(off: number, size: number, write: boolean): Verdict {
  return socketFields(off) ? no : skbAccess(LWT, off, size, write);
}
function tc(off: number, size: number, write: boolean): Verdict {
  if (write && !TC.writable.some((f) => within(off, f))) return no;
  if (socketFields(off)) return no;
  // Reading tstamp_type flips how tstamp is converted, so the kernel decides it before the base.
  if (off === SKB.tstamp_type.off) return size === 1 ? yes() : no;
  return skbAccess(TC, off, size, write);
}

function flowDissector(off: number, size: number, write: boolean): Verdict {
  if (off < 0 || off >= SKB.$size || off % size !== 0 || write) return no;
  if (within(off, SKB.data)) return size === 4 ? yes({ kind: 'pkt' }) : no;
  if (within(off, SKB.data_end)) return size === 4 ? yes({ kind: 'pkt_end' }) : no;
  if (within(off, SKB.flow_keys)) return size === 8 ? yes({ kind: 'flow_keys' }) : no;
  return no;
}

// ---------------------------------------------------------------------------------------------
// Other network contexts

function xdp(off: number, size: number, write: boolean, attach: number | undefined): Verdict {
  if (attach !== A.BPF_XDP_DEVMAP && off === XDP.egress_ifindex.off) return no;
  // Only offloaded programs may write rx_queue_index; bpfts loads for the host.
  if (write) return no;
  let load: CtxLoad | undefined;
  if (off === XDP.data.off) load = { kind: 'pkt' };
  else if (off === XDP.data_meta.off) load = { kind: 'pkt_meta' };
  else if (off === XDP.data_end.off) load = { kind: 'pkt_end' };
  return off < 0 || off >= XDP.$size || off % size !== 0 || size !== 4 ? no : yes(load);
}

function sockIsValid(off: number, size: number): Verdict {
  if (off < 0 || off >= SOCK.$size || off % size !== 0) return no;
  const S = SOCK;
  if ([S.state, S.family, S.type, S.protocol, S.src_port, S.rx_queue_mapping].some((f) => off === f.off)
    || within(off, S.src_ip4) || within(off, S.src_ip6) || within(off, S.dst_ip4) || within(off, S.dst_ip6)) {
    return narrow(size, 4);
  }
  if (within(off, S.dst_port)) return narrow(size, size === 4 ? 4 : 2);
  if (off >= S.dst_port.off + S.dst_port.size && off < S.dst_ip4.off) return no;
  return size === 4 ? yes() : no;
}

function cgroupSock(off: number, size: number, write: boolean, attach: number | undefined): Verdict {
  const v = sockIsValid(off, size);
  if (!v.ok) return v;
  // A program loaded without an attach type is fixed up to BPF_CGROUP_INET_SOCK_CREATE.
  const at = attach ?? A.BPF_CGROUP_INET_SOCK_CREATE;
  const S = SOCK;
  if (off === S.bound_dev_if.off || off === S.mark.off || off === S.priority.off) {
    return at === A.BPF_CGROUP_INET_SOCK_CREATE || at === A.BPF_CGROUP_INET_SOCK_RELEASE ? v : no;
  }
  let readable = true;
  if (within(off, S.src_ip4)) readable = at === A.BPF_CGROUP_INET4_POST_BIND;
  else if (within(off, S.src_ip6)) readable = at === A.BPF_CGROUP_INET6_POST_BIND;
  else if (within(off, S.src_port)) readable = at === A.BPF_CGROUP_INET4_POST_BIND || at === A.BPF_CGROUP_INET6_POST_BIND;
  return readable && !write ? v : no;
}

const INET4_ADDR = [A.BPF_CGROUP_INET4_BIND, A.BPF_CGROUP_INET4_CONNECT, A.BPF_CGROUP_INET4_GETPEERNAME,
  A.BPF_CGROUP_INET4_GETSOCKNAME, A.BPF_CGROUP_UDP4_SENDMSG, A.BPF_CGROUP_UDP4_RECVMSG] as readonly number[];
const INET6_ADDR = [A.BPF_CGROUP_INET6_BIND, A.BPF_CGROUP_INET6_CONNECT, A.BPF_CGROUP_INET6_GETPEERNAME,
  A.BPF_CGROUP_INET6_GETSOCKNAME, A.BPF_CGROUP_UDP6_SENDMSG, A.BPF_CGROUP_UDP6_RECVMSG] as readonly number[];

function sockAddr(off: number, size: number, write: boolean, attach: number | undefined): Verdict {
  const S = SOCK_ADDR;
  if (off < 0 || off >= S.$size || off % size !== 0) return no;
  const at = attach ?? -1;
  // IPv4 fields only for IPv4 hooks and vice versa; the sendmsg source only for sendmsg.
  if (within(off, S.user_ip4) && !INET4_ADDR.includes(at)) return no;
  if (within(off, S.user_ip6) && !INET6_ADDR.includes(at)) return no;
  if (within(off, S.msg_src_ip4) && at !== A.BPF_CGROUP_UDP4_SENDMSG) return no;
  if (within(off, S.msg_src_ip6) && at !== A.BPF_CGROUP_UDP6_SENDMSG) return no;
  if ([S.user_ip4, S.user_ip6, S.msg_src_ip4, S.msg_src_ip6, S.user_port].some((f) => within(off, f))) {
    if (wideOk(off, size, S.user_ip6) || wideOk(off, size, S.msg_src_ip6)) return yes();
    return write ? (size === 4 ? yes() : no) : narrow(size, 4);
  }
  if (within(off, S.sk)) return write || size !== 8 ? no : yes({ kind: 'sock' });
  // The padding between msg_src_ip6 and sk.
  if (off >= S.msg_src_ip6.off + S.msg_src_ip6.size) return no;
  return !write && size === 4 ? yes() : no;
}

function sockOps(off: number, size: number, write: boolean): Verdict {
  const S = SOCK_OPS;
  if (off < 0 || off >= S.$size || off % size !== 0) return no;
  if (write) return (off === S.args.off || off === S.sk_txhash.off) && size === 4 ? yes() : no;
  if (spans(off, S.bytes_received, S.bytes_acked)) return size === 8 ? yes() : no;
  if (within(off, S.sk)) return size === 8 ? yes({ kind: 'sock_or_null' }) : no;
  if (within(off, S.skb_data)) return size === 8 ? yes({ kind: 'pkt' }) : no;
  if (within(off, S.skb_data_end)) return size === 8 ? yes({ kind: 'pkt_end' }) : no;
  if (off === S.skb_tcp_flags.off) return narrow(size, 4);
  if (within(off, S.skb_hwtstamp)) return size === 8 ? yes() : no;
  return size === 4 ? yes() : no;
}

function skMsg(off: number, size: number, write: boolean): Verdict {
  const S = SK_MSG;
  if (write || off % size !== 0) return no;
  if (off === S.data.off) return size === 8 ? yes({ kind: 'pkt' }) : no;
  if (off === S.data_end.off) return size === 8 ? yes({ kind: 'pkt_end' }) : no;
  if (off === S.sk.off) return size === 8 ? yes({ kind: 'sock' }) : no;
  if ([S.family, S.remote_ip4, S.local_ip4, S.remote_ip6, S.local_ip6, S.remote_port, S.local_port, S.size]
    .some((f) => within(off, f))) return size === 4 ? yes() : no;
  return no;
}

function skReuseport(off: number, size: number, write: boolean): Verdict {
  const S = REUSEPORT;
  if (off < 0 || off >= S.$size || off % size !== 0 || write) return no;
  if (off === S.data.off) return size === 8 ? yes({ kind: 'pkt' }) : no;
  if (off === S.data_end.off) return size === 8 ? yes({ kind: 'pkt_end' }) : no;
  if (off === S.hash.off) return size === 4 ? yes() : no;
  if (off === S.sk.off) return size === 8 ? yes({ kind: 'sock' }) : no;
  if (off === S.migrating_sk.off) return size === 8 ? yes({ kind: 'sock_common_or_null' }) : no;
  // eth_protocol is skb->protocol, a u16: no byte loads.
  if (within(off, S.eth_protocol)) return size < 2 ? no : narrow(size, 4);
  if (within(off, S.ip_protocol) || within(off, S.bind_inany) || within(off, S.len)) return narrow(size, 4);
  return no;
}

function skLookup(off: number, size: number, write: boolean): Verdict {
  const S = SK_LOOKUP;
  if (off < 0 || off >= S.$size || off % size !== 0 || write) return no;
  if (off === S.sk.off) return size === 8 ? yes({ kind: 'sock_or_null' }) : no;
  if ([S.family, S.protocol, S.remote_ip4, S.local_ip4, S.remote_ip6, S.local_ip6, S.local_port, S.ingress_ifindex]
    .some((f) => within(off, f))) return narrow(size, 4);
  // remote_port is a __be16 read whole as a u32 for compatibility, and so is its padding.
  if (within(off, S.remote_port)) return size === 4 ? yes() : narrow(size, 2);
  if (off >= S.remote_port.off + 2 && off < S.local_ip4.off) return narrow(size, 2);
  return no;
}

function netfilter(off: number, size: number, write: boolean): Verdict {
  if (off < 0 || off >= NF.$size || off % size !== 0 || write) return no;
  if (within(off, NF.state)) return size === 8 ? yes({ kind: 'btf_id', struct: 'nf_hook_state', trusted: true }) : no;
  if (within(off, NF.skb)) return size === 8 ? yes({ kind: 'btf_id', struct: 'sk_buff', trusted: true }) : no;
  return no;
}

// ---------------------------------------------------------------------------------------------
// kernel/bpf/cgroup.c

function cgroupDevice(off: number, size: number, write: boolean): Verdict {
  if (write || off < 0 || off + size > DEV.$size || off % size !== 0) return no;
  if (within(off, DEV.access_type)) return narrow(size, 4);
  return size === 4 ? yes() : no;
}

function cgroupSysctl(off: number, size: number, write: boolean): Verdict {
  if (off < 0 || off + size > SYSCTL.$size || off % size !== 0) return no;
  if (within(off, SYSCTL.write)) return write ? no : narrow(size, 4);
  if (within(off, SYSCTL.file_pos)) return write ? (size === 4 ? yes() : no) : narrow(size, 4);
  return no;
}

function cgroupSockopt(off: number, size: number, write: boolean, attach: number | undefined): Verdict {
  const S = SOCKOPT;
  if (off < 0 || off >= S.$size || off % size !== 0) return no;
  const get = attach === A.BPF_CGROUP_GETSOCKOPT;
  const set = attach === A.BPF_CGROUP_SETSOCKOPT;
  if (write) {
    if (off === S.retval.off) return size === 4 && get ? yes() : no;
    if (off === S.optname.off || off === S.level.off) return size === 4 && set ? yes() : no;
    return off === S.optlen.off && size === 4 ? yes() : no;
  }
  if (within(off, S.sk)) return size === 8 ? yes({ kind: 'sock' }) : no;
  if (within(off, S.optval)) return size === 8 ? yes({ kind: 'pkt' }) : no;
  if (within(off, S.optval_end)) return size === 8 ? yes({ kind: 'pkt_end' }) : no;
  if (within(off, S.retval)) return size === 4 && get ? yes() : no;
  return size === 4 ? yes() : no;
}

// ---------------------------------------------------------------------------------------------
// kernel/trace/bpf_trace.c

function kprobe(off: number, size: number, write: boolean): Verdict {
  return off < 0 || off >= PT_REGS_SIZE || write || off % size !== 0 || off + size > PT_REGS_SIZE ? no : yes();
}

function tracepoint(off: number, size: number, write: boolean): Verdict {
  // The first 8 bytes are the trace entry's common fields, not the program's. The kernel compares
  // the int offset with sizeof(void *), as unsigned: negative offsets pass that test.
  return (off >= 0 && off < 8) || off >= PERF_MAX_TRACE_SIZE || write || off % size !== 0 ? no : yes();
}

function rawTracepoint(off: number, size: number, write: boolean): Verdict {
  return off < 0 || off >= 8 * MAX_BPF_FUNC_ARGS || write || off % size !== 0 ? no : yes();
}

function rawTracepointWritable(off: number, size: number, write: boolean): Verdict {
  if (off === 0) return size !== 8 || write ? no : yes({ kind: 'tp_buffer' });
  return rawTracepoint(off, size, write);
}

function perfEvent(off: number, size: number, write: boolean): Verdict {
  const S = PERF_EVENT;
  if (off < 0 || off >= S.$size || write || off % size !== 0) return no;
  if (within(off, S.sample_period) || within(off, S.addr)) return narrow(size, 8);
  return size === 8 ? yes() : no;
}

// ---------------------------------------------------------------------------------------------
// kernel/bpf/syscall.c

/** A syscall program's context is the caller's buffer of up to U16_MAX bytes. */
const SYSCALL_CTX_MAX = 0xffff;

function syscall(off: number, size: number): Verdict {
  return off < 0 || off >= SYSCALL_CTX_MAX || off % size !== 0 ? no : yes();
}

// ---------------------------------------------------------------------------------------------
// The API

type Check = (off: number, size: number, write: boolean, attach: number | undefined) => Verdict;

const CHECKS: Readonly<Partial<Record<number, Check>>> = {
  [P.BPF_PROG_TYPE_SOCKET_FILTER]: socketFilter,
  [P.BPF_PROG_TYPE_SCHED_CLS]: tc,
  [P.BPF_PROG_TYPE_SCHED_ACT]: tc,
  [P.BPF_PROG_TYPE_XDP]: xdp,
  [P.BPF_PROG_TYPE_CGROUP_SKB]: (off, size, write) => skbAccess(CGROUP_SKB, off, size, write),
  [P.BPF_PROG_TYPE_LWT_IN]: lwt,
  [P.BPF_PROG_TYPE_LWT_OUT]: lwt,
  [P.BPF_PROG_TYPE_LWT_XMIT]: lwt,
  [P.BPF_PROG_TYPE_LWT_SEG6LOCAL]: lwt,
  [P.BPF_PROG_TYPE_SK_SKB]: (off, size, write) => skbAccess(SK_SKB, off, size, write),
  [P.BPF_PROG_TYPE_SK_MSG]: skMsg,
  [P.BPF_PROG_TYPE_SOCK_OPS]: sockOps,
  [P.BPF_PROG_TYPE_FLOW_DISSECTOR]: flowDissector,
  [P.BPF_PROG_TYPE_CGROUP_SOCK]: cgroupSock,
  [P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR]: sockAddr,
  [P.BPF_PROG_TYPE_CGROUP_SYSCTL]: cgroupSysctl,
  [P.BPF_PROG_TYPE_CGROUP_DEVICE]: cgroupDevice,
  [P.BPF_PROG_TYPE_CGROUP_SOCKOPT]: cgroupSockopt,
  [P.BPF_PROG_TYPE_SK_REUSEPORT]: skReuseport,
  [P.BPF_PROG_TYPE_SK_LOOKUP]: skLookup,
  [P.BPF_PROG_TYPE_NETFILTER]: netfilter,
  [P.BPF_PROG_TYPE_KPROBE]: kprobe,
  [P.BPF_PROG_TYPE_TRACEPOINT]: tracepoint,
  [P.BPF_PROG_TYPE_RAW_TRACEPOINT]: rawTracepoint,
  [P.BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE]: rawTracepointWritable,
  [P.BPF_PROG_TYPE_PERF_EVENT]: perfEvent,
  [P.BPF_PROG_TYPE_SYSCALL]: syscall,
};

const BTF_ARGS: ReadonlySet<number> = new Set([
  P.BPF_PROG_TYPE_TRACING, P.BPF_PROG_TYPE_LSM, P.BPF_PROG_TYPE_EXT, P.BPF_PROG_TYPE_STRUCT_OPS,
]);

const SIZES: Readonly<Partial<Record<number, number>>> = {
  [P.BPF_PROG_TYPE_SOCKET_FILTER]: SKB.$size,
  [P.BPF_PROG_TYPE_SCHED_CLS]: SKB.$size,
  [P.BPF_PROG_TYPE_SCHED_ACT]: SKB.$size,
  [P.BPF_PROG_TYPE_XDP]: XDP.$size,
  [P.BPF_PROG_TYPE_CGROUP_SKB]: SKB.$size,
  [P.BPF_PROG_TYPE_LWT_IN]: SKB.$size,
  [P.BPF_PROG_TYPE_LWT_OUT]: SKB.$size,
  [P.BPF_PROG_TYPE_LWT_XMIT]: SKB.$size,
  [P.BPF_PROG_TYPE_LWT_SEG6LOCAL]: SKB.$size,
  [P.BPF_PROG_TYPE_SK_SKB]: SKB.$size,
  [P.BPF_PROG_TYPE_SK_MSG]: SK_MSG.$size,
  [P.BPF_PROG_TYPE_SOCK_OPS]: SOCK_OPS.$size,
  [P.BPF_PROG_TYPE_FLOW_DISSECTOR]: SKB.$size,
  [P.BPF_PROG_TYPE_CGROUP_SOCK]: SOCK.$size,
  [P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR]: SOCK_ADDR.$size,
  [P.BPF_PROG_TYPE_CGROUP_SYSCTL]: SYSCTL.$size,
  [P.BPF_PROG_TYPE_CGROUP_DEVICE]: DEV.$size,
  [P.BPF_PROG_TYPE_CGROUP_SOCKOPT]: SOCKOPT.$size,
  [P.BPF_PROG_TYPE_SK_REUSEPORT]: REUSEPORT.$size,
  [P.BPF_PROG_TYPE_SK_LOOKUP]: SK_LOOKUP.$size,
  [P.BPF_PROG_TYPE_NETFILTER]: NF.$size,
  [P.BPF_PROG_TYPE_KPROBE]: PT_REGS_SIZE,
  [P.BPF_PROG_TYPE_TRACEPOINT]: PERF_MAX_TRACE_SIZE,
  [P.BPF_PROG_TYPE_RAW_TRACEPOINT]: 8 * MAX_BPF_FUNC_ARGS,
  [P.BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE]: 8 * MAX_BPF_FUNC_ARGS,
  [P.BPF_PROG_TYPE_PERF_EVENT]: PERF_EVENT.$size,
  [P.BPF_PROG_TYPE_SYSCALL]: SYSCALL_CTX_MAX,
};

/**
 * The verifier's verdict on a load (write=false) or store (write=true: STX, ST, and what an atomic
 * would be before check_atomic refuses it) of `size` bytes at fixed offset `off` of the context.
 * `expectedAttachType` is the program's expected_attach_type (undefined: none given). Types
 * ctxKind() does not know (LIRC_MODE2, which this kernel does not load) get no access at all.
 */
export function ctxAccess(progType: number, expectedAttachType: number | undefined, off: number, size: number, write: boolean): CtxAccessResult {
  if (BTF_ARGS.has(progType)) return { ok: 'btf-args' };
  const check = CHECKS[progType];
  if (!check) return INVALID;
  const v = check(off, size, write, expectedAttachType);
  if (!v.ok) return INVALID;
  return v.fieldSize === undefined ? { ok: true, load: v.load ?? SCALAR } : { ok: true, load: v.load ?? SCALAR, fieldSize: v.fieldSize };
}

/** Bytes of the context struct (the bound is_valid_access checks against), or undefined. */
export function ctxSize(progType: number): number | undefined {
  return SIZES[progType];
}

/** How a type's context is checked: a fixed struct, or BTF-described function arguments. */
export function ctxKind(progType: number): 'struct' | 'btf-args' | undefined {
  if (BTF_ARGS.has(progType)) return 'btf-args';
  return CHECKS[progType] ? 'struct' : undefined;
}

// ---------------------------------------------------------------------------------------------
// The kernel's wording (kernel/bpf/verifier.c), so that the walk prints what the kernel prints

/** check_ctx_access, for an access is_valid_access refuses. */
export function invalidCtxAccessMessage(off: number, size: number): string {
  return `invalid bpf_context access off=${off} size=${size}`;
}

/** __check_ptr_off_reg: the ctx pointer was moved by a constant before the access. */
export function modifiedCtxPtrMessage(regno: number, regOff: number): string {
  return `dereference of modified ctx ptr R${regno} off=${regOff} disallowed`;
}

/** __check_ptr_off_reg: moved to a negative constant offset. */
export function negativeCtxPtrMessage(regno: number, regOff: number): string {
  return `negative offset ctx ptr R${regno} off=${regOff} disallowed`;
}

/** __check_ptr_off_reg: moved by a variable amount; `varOff` is the tnum as tnum_strn prints it. */
export function variableCtxAccessMessage(varOff: string): string {
  return `variable ctx access var_off=${varOff} disallowed`;
}

/** check_atomic: atomics never operate on the context. */
export function atomicCtxMessage(regno: number): string {
  return `BPF_ATOMIC stores into R${regno} ctx is not allowed`;
}
