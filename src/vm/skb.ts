// struct __sk_buff programs (SCHED_CLS/SCHED_ACT, SOCKET_FILTER, CGROUP_SKB): the context as
// BPF_PROG_TEST_RUN builds it (net/bpf/test_run.c bpf_prog_test_run_skb: the loopback device, the
// protocol and pkt_type from eth_type_trans), the per-type access rules of net/core/filter.c, and the
// packet helpers with their kernel error returns.
import {
  BPF_F_CTXLEN_MASK,
  BPF_F_HDR_FIELD_MASK,
  BPF_F_INGRESS,
  BPF_F_INVALIDATE_HASH,
  BPF_F_IPV6,
  BPF_F_MARK_ENFORCE,
  BPF_F_MARK_MANGLED_0,
  BPF_F_PSEUDO_HDR,
  BPF_F_RECOMPUTE_CSUM,
  BPF_FUNC_clone_redirect,
  BPF_FUNC_csum_diff,
  BPF_FUNC_get_hash_recalc,
  BPF_FUNC_l3_csum_replace,
  BPF_FUNC_l4_csum_replace,
  BPF_FUNC_perf_event_output,
  BPF_FUNC_redirect,
  BPF_FUNC_skb_change_head,
  BPF_FUNC_skb_change_tail,
  BPF_FUNC_skb_load_bytes,
  BPF_FUNC_skb_pull_data,
  BPF_FUNC_skb_store_bytes,
  BPF_FUNC_skb_vlan_pop,
  BPF_FUNC_skb_vlan_push,
  EFAULT,
  EINVAL,
  ENOMEM,
  TC_ACT_REDIRECT,
  TC_ACT_SHOT,
} from '../uapi/index.js';
import {
  CSUM_MANGLED_0,
  ETH_ALEN,
  ETH_HLEN,
  ETH_P_802_2,
  ETH_P_802_3,
  ETH_P_802_3_MIN,
  ETH_P_8021AD,
  ETH_P_8021Q,
  ETH_P_IP,
  ETH_P_IPV6,
  PACKET_BROADCAST,
  PACKET_HOST,
  PACKET_MULTICAST,
  PACKET_OTHERHOST,
  SK_BUFF,
  SK_BUFF_SIZE,
  SKB_HEADROOM,
  SKB_MAX_LEN,
  VLAN_HLEN,
  type SkBuffField,
} from './context-layout.js';
import { PerfEventArrayMap } from './maps/events.js';
import type { MapRegistry } from './maps/registry.js';
import type { Memory } from './memory.js';
import { EmulatorError } from './object.js';
import { csumFrom32to16, csumPartial, csumSub, csumReplace2, csumReplace4, csumReplaceByDiff, PacketBuffer } from './packet.js';
import type { VmFault } from './errors.js';
import type { ContextAccess, FastFields, HelperFn, Vm } from './vm.js';

/** SCHED_CLS/SCHED_ACT see the frame from its MAC header; socket filters and cgroup programs from L3. */
export type SkbKind = 'tc' | 'socket' | 'cgroup';

/** __sk_buff fields a caller may preset (numbers; tstamp and hwtstamp may be bigints; cb as 5 words). */
export type SkbOverrides = Partial<Record<Exclude<SkBuffField, 'data' | 'data_end' | 'data_meta' | 'flow_keys' | 'sk' | 'len' | 'cb'>, number | bigint>> & {
  cb?: readonly number[];
};

export interface Redirect {
  ifindex: number;
  ingress: boolean;
}

export interface ClonedPacket extends Redirect {
  packet: Uint8Array;
}

const AF_INET = 2;
const AF_INET6 = 10;

/** Fields addressed in units: cb[] and the IPv6 address arrays are arrays of u32. */
interface Field {
  name: SkBuffField;
  start: number;
  size: number;
  /** Bit (1 << KIND_BIT[kind]) set for the program kinds that may read / write the field. */
  readBy: number;
  writeBy: number;
}

const KIND_BIT: Record<SkbKind, number> = { tc: 1, socket: 2, cgroup: 4 };

/** Words of struct __sk_buff up to data (len .. tc_classid) that a run's snapshot keeps. */
const SNAPSHOT_WORDS = SK_BUFF.data[0] / 4;

const POINTERS = new Set<SkBuffField>(['data', 'data_end', 'data_meta']);
const UNSETTABLE = new Set<SkBuffField>([...POINTERS, 'len', 'flow_keys', 'sk']);
const SOCKET_INFO = new Set<SkBuffField>(['family', 'remote_ip4', 'local_ip4', 'remote_ip6', 'local_ip6', 'remote_port', 'local_port']);

/** Fields a program type may not read (sk_filter_is_valid_access, cg_skb_is_valid_access, tc_cls_act_is_valid_access). */
const NO_READ: Record<SkbKind, ReadonlySet<SkBuffField>> = {
  socket: new Set<SkBuffField>(['tc_classid', 'data', 'data_meta', 'data_end', ...SOCKET_INFO, 'tstamp', 'wire_len', 'hwtstamp', 'flow_keys']),
  cgroup: new Set<SkBuffField>(['tc_classid', 'data_meta', 'wire_len', 'flow_keys']),
  tc: new Set<SkBuffField>([...SOCKET_INFO, 'flow_keys']),
};
/** Fields a program type may write. */
const WRITABLE: Record<SkbKind, ReadonlySet<SkBuffField>> = {
  socket: new Set<SkBuffField>(['cb']),
  cgroup: new Set<SkBuffField>(['mark', 'priority', 'cb', 'tstamp']),
  tc: new Set<SkBuffField>(['mark', 'tc_index', 'priority', 'cb', 'tc_classid', 'tstamp', 'queue_mapping']),
};

const FIELD_AT: (Field | undefined)[] = new Array(SK_BUFF_SIZE);
/**
 * Per program kind and u32 word, whether an aligned 32-bit read of it is served from the context's
 * FastFields: the packet pointers and every plain u32 field the kind may read.
 */
const FAST_READABLE: Record<SkbKind, Uint8Array> = { tc: new Uint8Array(SK_BUFF_SIZE / 4), socket: new Uint8Array(SK_BUFF_SIZE / 4), cgroup: new Uint8Array(SK_BUFF_SIZE / 4) };
for (const [name, [off, size]] of Object.entries(SK_BUFF) as [SkBuffField, readonly [number, number]][]) {
  const unit = name === 'cb' || name === 'remote_ip6' || name === 'local_ip6' ? 4 : size;
  let readBy = 0;
  let writeBy = 0;
  for (const kind of Object.keys(KIND_BIT) as SkbKind[]) {
    if (!NO_READ[kind].has(name)) readBy |= KIND_BIT[kind];
    if (WRITABLE[kind].has(name)) writeBy |= KIND_BIT[kind];
  }
  for (let o = off; o < off + size; o += unit) {
    const f: Field = { name, start: o, size: unit, readBy, writeBy };
    for (let b = o; b < o + unit; b++) FIELD_AT[b] = f;
    if (unit !== 4) continue;
    for (const kind of Object.keys(KIND_BIT) as SkbKind[]) if (readBy & KIND_BIT[kind]) FAST_READABLE[kind][o / 4] = 1;
  }
}

const bswap16 = (v: number): number => ((v & 0xff) << 8) | ((v >> 8) & 0xff);

// u32 word indexes of the fields reset() fills on every packet.
const PROTOCOL_WORD = SK_BUFF.protocol[0] / 4;
const PKT_TYPE_WORD = SK_BUFF.pkt_type[0] / 4;
const IFINDEX_WORD = SK_BUFF.ifindex[0] / 4;
const LEN_WORD = SK_BUFF.len[0] / 4;
const DATA_WORD = SK_BUFF.data[0] / 4;
const DATA_END_WORD = SK_BUFF.data_end[0] / 4;
const DATA_META_WORD = SK_BUFF.data_meta[0] / 4;
const FAMILY_WORD = SK_BUFF.family[0] / 4;
const LOCAL_IP4_WORD = SK_BUFF.local_ip4[0] / 4;
const REMOTE_IP4_WORD = SK_BUFF.remote_ip4[0] / 4;
const LOCAL_IP6_WORD = SK_BUFF.local_ip6[0] / 4;
const REMOTE_IP6_WORD = SK_BUFF.remote_ip6[0] / 4;

/** One packet's skb as a program of `kind` sees it, plus the helpers that act on it. */
export class SkbContext implements ContextAccess {
  readonly region: number;
  readonly pointer: bigint;
  readonly packet: PacketBuffer;
  /** Field values other than len and the packet pointers, laid out as struct __sk_buff. */
  private readonly fieldBytes = new Uint8Array(SK_BUFF_SIZE);
  private readonly fields = new DataView(this.fieldBytes.buffer);
  private readonly words = new Uint32Array(this.fieldBytes.buffer);
  /** The words again, with the packet pointers (kept current by pointersMoved) and their region. */
  readonly fast: FastFields;
  redirect: Redirect | undefined;
  clones: ClonedPacket[] = [];
  /** ifindexes bpf_clone_redirect() can reach. */
  private readonly interfaces: ReadonlySet<number>;
  private readonly kindBit: number;
  /**
   * pkt_type | protocol << 8 while only reset() has written the fields (so they follow from the frame),
   * -1 once overrides, the program or a helper changed one.
   */
  private pristine = -1;
  private lastPristine: SkbSnapshot | undefined;
  /** Whether the IPv6 address words may be non-zero. */
  private ip6Set = true;

  constructor(
    readonly kind: SkbKind,
    memory: Memory,
    interfaces: readonly number[] = [1],
  ) {
    this.pointer = memory.map(new Uint8Array(0), 'ctx (struct __sk_buff)', false);
    this.region = Number(this.pointer >> 32n);
    this.packet = new PacketBuffer(memory, kind === 'tc');
    this.interfaces = new Set(interfaces);
    this.kindBit = KIND_BIT[kind];
    const hi = new Int32Array(SK_BUFF_SIZE / 4);
    hi[DATA_WORD] = hi[DATA_END_WORD] = hi[DATA_META_WORD] = this.packet.region;
    this.fast = { lo: new Int32Array(this.fieldBytes.buffer), hi, readable: FAST_READABLE[kind] };
    this.packet.moved = () => this.pointersMoved();
  }

  /** len and the packet pointers in the words, after the packet's window changed. */
  private pointersMoved(): void {
    const p = this.packet;
    const w = this.words;
    w[LEN_WORD] = p.end - p.data;
    w[DATA_WORD] = p.data - p.meta;
    w[DATA_END_WORD] = p.end - p.meta;
    w[DATA_META_WORD] = 0;
  }

  /**
   * Set up a run on `frame` (starting at the Ethernet header) as BPF_PROG_TEST_RUN does without ctx_in;
   * `overrides` then replace field values.
   */
  reset(frame: Uint8Array, overrides?: SkbOverrides): void {
    const w = this.words;
    // After a run that wrote no field, only the words taken from the frame below can differ from zero.
    if (this.pristine < 0) {
      w.fill(0);
      this.ip6Set = false;
    }
    this.redirect = undefined;
    if (this.clones.length) this.clones = [];
    const p = this.packet;
    p.load(frame, SKB_HEADROOM);
    if (this.kind !== 'tc') {
      p.data += ETH_HLEN;
      p.meta = p.data;
      p.sync();
    }
    // Read from the copy through a DataView: cheaper than byte by byte from the caller's array.
    const v = p.view;
    const protocol = ethProtocol(v, frame.length);
    const pktType = ethPktType(v);
    w[PROTOCOL_WORD] = bswap16(protocol);
    w[PKT_TYPE_WORD] = pktType;
    w[IFINDEX_WORD] = 1;
    this.pristine = pktType | (protocol << 8);
    const ipv4 = protocol === ETH_P_IP && frame.length >= ETH_HLEN + 20;
    const ipv6 = protocol === ETH_P_IPV6 && frame.length >= ETH_HLEN + 40;
    const l3 = SKB_HEADROOM + ETH_HLEN;
    w[FAMILY_WORD] = ipv4 ? AF_INET : ipv6 ? AF_INET6 : 0;
    // Little-endian reads: the addresses keep their network byte order in the u32 fields.
    w[LOCAL_IP4_WORD] = ipv4 ? v.getUint32(l3 + 12, true) : 0;
    w[REMOTE_IP4_WORD] = ipv4 ? v.getUint32(l3 + 16, true) : 0;
    if (ipv6 || this.ip6Set) {
      for (let i = 0; i < 4; i++) {
        w[LOCAL_IP6_WORD + i] = ipv6 ? v.getUint32(l3 + 8 + 4 * i, true) : 0;
        w[REMOTE_IP6_WORD + i] = ipv6 ? v.getUint32(l3 + 24 + 4 * i, true) : 0;
      }
      this.ip6Set = ipv6;
    }
    if (overrides !== undefined) this.applyOverrides(overrides);
  }

  private applyOverrides(overrides: SkbOverrides): void {
    const f = this.fields;
    for (const name in overrides) {
      const value = overrides[name as keyof SkbOverrides];
      if (value === undefined) continue;
      this.pristine = -1;
      if (name === 'cb') {
        (value as readonly number[]).slice(0, 5).forEach((w, i) => f.setUint32(SK_BUFF.cb[0] + 4 * i, w >>> 0, true));
        continue;
      }
      const field = name as Exclude<keyof SkbOverrides, 'cb'>;
      if (!Object.hasOwn(SK_BUFF, field) || UNSETTABLE.has(field)) throw new EmulatorError(`struct __sk_buff has no field '${name}' to set`, { hint: 'len and the packet and socket pointers follow from the packet' });
      const [off, size] = SK_BUFF[field];
      if (size === 8) f.setBigUint64(off, BigInt.asUintN(64, BigInt(value as number | bigint)), true);
      else this.set(field, Number(value));
    }
  }

  /** A copy of the fields after a run, decoded on demand. */
  snapshot(): SkbSnapshot {
    const len = this.packet.length;
    if (this.pristine >= 0) {
      // Nothing but reset() wrote the fields: they follow from the frame, so a shared snapshot will do.
      const last = this.lastPristine;
      if (last !== undefined && last.matches(this.pristine, len)) return last;
      return (this.lastPristine = new SkbSnapshot(undefined, len, this.pristine));
    }
    // A plain array of the reported words: far cheaper to allocate per packet than a typed array.
    const w = this.words;
    const words: number[] = [];
    for (let i = 0; i < SNAPSHOT_WORDS; i++) words.push(w[i]!);
    words.push(w[SK_BUFF.tstamp[0] / 4]!, w[SK_BUFF.tstamp[0] / 4 + 1]!, w[SK_BUFF.wire_len[0] / 4]!);
    return new SkbSnapshot(words, len, -1);
  }

  /** The packet after the run, as the test run returns it: from L2, with a zeroed MAC header for L3 programs. */
  output(): Uint8Array {
    const body = this.packet.bytes();
    if (this.kind === 'tc') return body;
    const out = new Uint8Array(ETH_HLEN + body.length);
    out.set(body, ETH_HLEN);
    return out;
  }

  private set(name: SkBuffField, v: number): void {
    this.pristine = -1;
    const [off, size] = SK_BUFF[name];
    if (size === 1) this.fields.setUint8(off, v);
    else this.fields.setUint32(off, v >>> 0, true);
  }

  // ---- ContextAccess ----

  load(vm: Vm, dst: number, offset: number, size: number): void {
    const field = offset < SK_BUFF_SIZE ? FIELD_AT[offset] : undefined;
    if (field === undefined) throw this.badLoad(vm, offset, size, 'no such field');
    const name = field.name;
    if (offset + size > field.start + field.size) throw this.badLoad(vm, offset, size, `crosses the end of ${name}`);
    if ((field.readBy & this.kindBit) === 0) throw this.badLoad(vm, offset, size, `${name} is not readable by this program type`);
    if (name === 'data' || name === 'data_end' || name === 'data_meta') {
      if (size !== 4) throw this.badLoad(vm, offset, size, `${name} must be read as a 32-bit word`);
      const p = this.packet;
      vm.hi[dst] = p.region;
      vm.lo[dst] = (name === 'data_end' ? p.end : p.data) - p.meta;
      return;
    }
    if (name === 'sk') throw vm.fault('helper', 'unsupported: __sk_buff->sk (the emulator has no sockets)');
    const f = this.fields;
    if (field.size === 8) {
      if (size !== 8) throw this.badLoad(vm, offset, size, `${name} must be read as a 64-bit word`);
      vm.lo[dst] = f.getInt32(offset, true);
      vm.hi[dst] = f.getInt32(offset + 4, true);
      return;
    }
    if (size === 8 || (offset - field.start) % size !== 0) throw this.badLoad(vm, offset, size, `misaligned or oversized access to ${name}`);
    vm.lo[dst] = size === 4 ? f.getInt32(offset, true) : size === 2 ? f.getUint16(offset, true) : f.getUint8(offset);
    vm.hi[dst] = 0;
  }

  private badLoad(vm: Vm, offset: number, size: number, why: string): VmFault {
    return vm.fault('memory', `invalid load of ${size} bytes from struct __sk_buff at offset ${offset}: ${why}`);
  }

  store(vm: Vm, offset: number, size: number, hi: number, lo: number): void {
    const field = offset < SK_BUFF_SIZE ? FIELD_AT[offset] : undefined;
    const bad = (why: string) => vm.fault('memory', `invalid store of ${size} bytes to struct __sk_buff at offset ${offset}: ${why}`);
    if (field === undefined) throw bad('no such field');
    if ((field.writeBy & this.kindBit) === 0) throw bad(`${field.name} is not writable by this program type`);
    if (offset + size > field.start + field.size) throw bad(`crosses the end of ${field.name}`);
    this.pristine = -1;
    const f = this.fields;
    if (field.size === 8) {
      if (size !== 8) throw bad(`${field.name} must be written as a 64-bit word`);
      f.setInt32(offset, lo, true);
      f.setInt32(offset + 4, hi, true);
      return;
    }
    if (field.name === 'cb') {
      if (size === 8) throw bad('cb[] words are 32 bits');
      if (size === 4) f.setInt32(offset, lo, true);
      else if (size === 2) f.setUint16(offset, lo & 0xffff, true);
      else f.setUint8(offset, lo & 0xff);
      return;
    }
    if (size !== 4) throw bad(`${field.name} must be written as a 32-bit word`);
    switch (field.name) {
      // u16 in the kernel's sk_buff / qdisc_skb_cb
      case 'queue_mapping':
        if ((lo >>> 0) < 0xffff) f.setUint32(offset, lo & 0xffff, true);
        return;
      case 'tc_index':
      case 'tc_classid':
        f.setUint32(offset, lo & 0xffff, true);
        return;
      default:
        f.setInt32(offset, lo, true);
    }
  }

  // ---- helpers ----

  private checkCtx(vm: Vm): void {
    if (vm.arg(1) !== this.pointer) throw vm.fault('helper', 'r1 is not the program context');
  }

  /** Offset argument as the kernel's u32, -1 when above INT_MAX. */
  private static offsetArg(vm: Vm, reg: number): number {
    const v = vm.argU32(reg);
    return v > 0x7fffffff ? -1 : v;
  }

  private changed(): void {
    const p = this.packet;
    p.meta = p.data;
    p.sync();
  }

  /** Set skb->protocol from the ethertype now at offset 12 of the L2 header, as vlan_set_encap_proto does. */
  private setEncapProto(proto: number, afterTag: Uint8Array): void {
    let v = proto;
    if (proto < ETH_P_802_3_MIN) v = afterTag.length >= 2 && afterTag[0] === 0xff && afterTag[1] === 0xff ? ETH_P_802_3 : ETH_P_802_2;
    this.set('protocol', bswap16(v));
  }

  /** Take the 802.1Q tag at offset 12 out of the frame; false when the frame is too short. */
  private popInPacketTag(): { proto: number; tci: number } | undefined {
    const p = this.packet;
    if (p.length < ETH_HLEN + VLAN_HLEN) return undefined;
    const b = p.buf;
    const tci = (b[p.data + 14]! << 8) | b[p.data + 15]!;
    const outer = (b[p.data + 12]! << 8) | b[p.data + 13]!;
    b.copyWithin(p.data + VLAN_HLEN, p.data, p.data + 2 * ETH_ALEN);
    p.data += VLAN_HLEN;
    const inner = (b[p.data + 12]! << 8) | b[p.data + 13]!;
    this.setEncapProto(inner, b.subarray(p.data + ETH_HLEN, p.end));
    this.changed();
    return { proto: outer, tci };
  }

  private isVlanProto(beProto: number): boolean {
    const v = bswap16(beProto);
    return v === ETH_P_8021Q || v === ETH_P_8021AD;
  }

  helpers(maps: MapRegistry): Map<number, HelperFn> {
    const m = new Map<number, HelperFn>();
    const p = this.packet;
    const tc = this.kind === 'tc';

    m.set(BPF_FUNC_skb_load_bytes, (vm) => {
      this.checkCtx(vm);
      const off = SkbContext.offsetArg(vm, 2);
      const len = vm.argU32(4);
      const to = vm.view(vm.arg(3), len, true);
      if (off < 0 || off + len > p.length) {
        to.fill(0);
        return -EFAULT;
      }
      to.set(p.buf.subarray(p.data + off, p.data + off + len));
      return 0;
    });

    // net/core/filter.c since Linux 6.13: sizes need not be multiples of 4 and the result is folded to 16 bits.
    m.set(BPF_FUNC_csum_diff, (vm) => {
      const fromSize = vm.argU32(2);
      const toSize = vm.argU32(4);
      const seed = vm.argU32(5);
      const from = fromSize ? vm.read(vm.arg(1), fromSize) : undefined;
      const to = toSize ? vm.read(vm.arg(3), toSize) : undefined;
      let ret = seed;
      if (from && to) ret = csumSub(csumPartial(to, seed), csumPartial(from, 0));
      else if (to) ret = csumPartial(to, seed);
      else if (from) ret = ~csumPartial(from, ~seed >>> 0) >>> 0;
      return csumFrom32to16(ret);
    });

    m.set(BPF_FUNC_perf_event_output, (vm) => {
      this.checkCtx(vm);
      const mp = maps.byHandle(vm.arg(2));
      if (!(mp instanceof PerfEventArrayMap)) return -EINVAL;
      const flags = vm.arg(3);
      const ctxLen = Number((flags & BPF_F_CTXLEN_MASK) >> 32n);
      const index = Number(flags & 0xffffffffn);
      if ((flags & ~(BPF_F_CTXLEN_MASK | 0xffffffffn)) !== 0n) return -EINVAL;
      if (ctxLen > p.length) return -EFAULT;
      const data = vm.read(vm.arg(4), Number(vm.arg(5)));
      const rec = new Uint8Array(data.length + ctxLen);
      rec.set(data);
      rec.set(p.buf.subarray(p.data, p.data + ctxLen), data.length);
      return mp.output(index, vm.cpu, rec);
    });

    if (!tc) return m;

    m.set(BPF_FUNC_skb_store_bytes, (vm) => {
      this.checkCtx(vm);
      const flags = vm.arg(5);
      if ((flags & ~BigInt(BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH)) !== 0n) return -EINVAL;
      const off = SkbContext.offsetArg(vm, 2);
      const len = vm.argU32(4);
      const from = vm.read(vm.arg(3), len);
      if (off < 0 || off + len > p.length) return -EFAULT;
      p.buf.set(from, p.data + off);
      if (flags & BigInt(BPF_F_INVALIDATE_HASH)) this.set('hash', 0);
      return 0;
    });

    const csumTarget = (vm: Vm): number => {
      const off = vm.arg(2);
      if (off > 0xffffn || (off & 1n) !== 0n) return -1;
      const o = Number(off);
      return o + 2 > p.length ? -1 : p.data + o;
    };
    const getCheck = (at: number): number => p.buf[at]! | (p.buf[at + 1]! << 8);
    const putCheck = (at: number, v: number): void => {
      p.buf[at] = v & 0xff;
      p.buf[at + 1] = v >> 8;
    };

    m.set(BPF_FUNC_l3_csum_replace, (vm) => {
      this.checkCtx(vm);
      const flags = vm.arg(5);
      if ((flags & ~BigInt(BPF_F_HDR_FIELD_MASK)) !== 0n) return -EINVAL;
      const at = csumTarget(vm);
      if (at < 0) return -EFAULT;
      const from = vm.arg(3);
      const to = vm.arg(4);
      switch (Number(flags)) {
        case 0:
          if (from !== 0n) return -EINVAL;
          putCheck(at, csumReplaceByDiff(getCheck(at), Number(to & 0xffffffffn)));
          return 0;
        case 2:
          putCheck(at, csumReplace2(getCheck(at), Number(from & 0xffffn), Number(to & 0xffffn)));
          return 0;
        case 4:
          putCheck(at, csumReplace4(getCheck(at), Number(from & 0xffffffffn), Number(to & 0xffffffffn)));
          return 0;
        default:
          return -EINVAL;
      }
    });

    m.set(BPF_FUNC_l4_csum_replace, (vm) => {
      this.checkCtx(vm);
      const flags = Number(vm.arg(5) & 0xffffffffn);
      const allowed = BPF_F_MARK_MANGLED_0 | BPF_F_MARK_ENFORCE | BPF_F_PSEUDO_HDR | BPF_F_HDR_FIELD_MASK | BPF_F_IPV6;
      if (vm.arg(5) > 0xffffffffn || (flags & ~allowed) !== 0) return -EINVAL;
      const at = csumTarget(vm);
      if (at < 0) return -EFAULT;
      const mangled0 = (flags & BPF_F_MARK_MANGLED_0) !== 0;
      if (mangled0 && (flags & BPF_F_MARK_ENFORCE) === 0 && getCheck(at) === 0) return 0;
      const from = vm.arg(3);
      const to = vm.arg(4);
      // The test run's skb is CHECKSUM_NONE: pseudo-header changes update the field like any other.
      switch (flags & BPF_F_HDR_FIELD_MASK) {
        case 0:
          if (from !== 0n) return -EINVAL;
          putCheck(at, csumReplaceByDiff(getCheck(at), Number(to & 0xffffffffn)));
          break;
        case 2:
          putCheck(at, csumReplace4(getCheck(at), Number(from & 0xffffn), Number(to & 0xffffn)));
          break;
        case 4:
          putCheck(at, csumReplace4(getCheck(at), Number(from & 0xffffffffn), Number(to & 0xffffffffn)));
          break;
        default:
          return -EINVAL;
      }
      if (mangled0 && getCheck(at) === 0) putCheck(at, CSUM_MANGLED_0);
      return 0;
    });

    m.set(BPF_FUNC_redirect, (vm) => {
      const flags = vm.arg(2);
      if ((flags & ~BigInt(BPF_F_INGRESS)) !== 0n) return TC_ACT_SHOT;
      this.redirect = { ifindex: vm.argU32(1), ingress: flags !== 0n };
      return TC_ACT_REDIRECT;
    });

    m.set(BPF_FUNC_clone_redirect, (vm) => {
      this.checkCtx(vm);
      const flags = vm.arg(3);
      if ((flags & ~BigInt(BPF_F_INGRESS)) !== 0n) return -EINVAL;
      const ifindex = vm.argU32(2);
      if (!this.interfaces.has(ifindex)) return -EINVAL;
      this.clones.push({ ifindex, ingress: flags !== 0n, packet: p.bytes() });
      return 0;
    });

    m.set(BPF_FUNC_skb_change_head, (vm) => {
      this.checkCtx(vm);
      const room = vm.argU32(2);
      if (vm.arg(3) !== 0n || room > 0x3fffffff || p.length + room > SKB_MAX_LEN) return -EINVAL;
      p.growHead(room);
      p.data -= room;
      p.buf.fill(0, p.data, p.data + room);
      this.changed();
      return 0;
    });

    m.set(BPF_FUNC_skb_change_tail, (vm) => {
      this.checkCtx(vm);
      const newLen = vm.argU32(2);
      if (vm.arg(3) !== 0n || newLen > SKB_MAX_LEN || newLen < ETH_HLEN) return -EINVAL;
      if (newLen > p.length) {
        p.growTail(p.data + newLen);
        p.buf.fill(0, p.end, p.data + newLen);
      }
      p.end = p.data + newLen;
      this.changed();
      return 0;
    });

    m.set(BPF_FUNC_skb_pull_data, (vm) => {
      this.checkCtx(vm);
      const len = vm.argU32(2);
      if (len > p.length) return -ENOMEM;
      this.changed();
      return 0;
    });

    m.set(BPF_FUNC_get_hash_recalc, (vm) => {
      this.checkCtx(vm);
      let h = this.fields.getUint32(SK_BUFF.hash[0], true);
      if (h === 0) {
        h = flowHash(p.buf.subarray(p.data, p.end));
        this.set('hash', h);
      }
      return h;
    });

    m.set(BPF_FUNC_skb_vlan_push, (vm) => {
      this.checkCtx(vm);
      let proto = vm.argU32(2) & 0xffff;
      if (!this.isVlanProto(proto)) proto = bswap16(ETH_P_8021Q);
      const tci = vm.argU32(3) & 0xffff;
      if (this.fields.getUint32(SK_BUFF.vlan_present[0], true)) {
        if (p.length < ETH_HLEN) return -EINVAL;
        const oldProto = this.fields.getUint32(SK_BUFF.vlan_proto[0], true);
        const oldTci = this.fields.getUint32(SK_BUFF.vlan_tci[0], true);
        p.growHead(VLAN_HLEN);
        p.data -= VLAN_HLEN;
        p.buf.copyWithin(p.data, p.data + VLAN_HLEN, p.data + VLAN_HLEN + 2 * ETH_ALEN);
        const b = p.buf;
        const at = p.data + 2 * ETH_ALEN;
        b[at] = oldProto & 0xff;
        b[at + 1] = oldProto >> 8;
        b[at + 2] = oldTci >> 8;
        b[at + 3] = oldTci & 0xff;
        this.set('protocol', oldProto);
        this.changed();
      }
      this.set('vlan_present', 1);
      this.set('vlan_proto', proto);
      this.set('vlan_tci', tci);
      return 0;
    });

    m.set(BPF_FUNC_skb_vlan_pop, (vm) => {
      this.checkCtx(vm);
      if (this.fields.getUint32(SK_BUFF.vlan_present[0], true)) {
        this.set('vlan_present', 0);
        this.set('vlan_proto', 0);
        this.set('vlan_tci', 0);
      } else {
        if (!this.isVlanProto(this.fields.getUint32(SK_BUFF.protocol[0], true))) return 0;
        if (this.popInPacketTag() === undefined) return -ENOMEM;
      }
      const proto = this.fields.getUint32(SK_BUFF.protocol[0], true);
      if (!this.isVlanProto(proto)) return 0;
      const tag = this.popInPacketTag();
      if (tag === undefined) return -ENOMEM;
      this.set('vlan_present', 1);
      this.set('vlan_proto', proto);
      this.set('vlan_tci', tag.tci);
      return 0;
    });
    return m;
  }
}

/** eth_type_trans() on the loopback device (all-zero address): skb->pkt_type, from the frame at SKB_HEADROOM of v. */
function ethPktType(v: DataView): number {
  const hi = v.getUint32(SKB_HEADROOM);
  const lo = v.getUint16(SKB_HEADROOM + 4);
  if ((hi | lo) === 0) return PACKET_HOST;
  if ((hi & 0x01000000) === 0) return PACKET_OTHERHOST;
  return hi === 0xffffffff && lo === 0xffff ? PACKET_BROADCAST : PACKET_MULTICAST;
}

/** eth_type_trans(): skb->protocol in host byte order, from the frame of `length` bytes at SKB_HEADROOM of v. */
function ethProtocol(v: DataView, length: number): number {
  const proto = v.getUint16(SKB_HEADROOM + 12);
  if (proto >= ETH_P_802_3_MIN) return proto;
  const raw = length >= ETH_HLEN + 2 && v.getUint16(SKB_HEADROOM + ETH_HLEN) === 0xffff;
  return raw ? ETH_P_802_3 : ETH_P_802_2;
}

/** __sk_buff fields as a program left them (len and the packet pointers aside). */
export class SkbSnapshot {
  constructor(
    /**
     * u32 words 0..SNAPSHOT_WORDS-1 of struct __sk_buff, then tstamp (lo, hi) and wire_len; undefined
     * when only reset() wrote the fields, which `pristine` then sums up.
     */
    private readonly words: readonly number[] | undefined,
    private readonly len: number,
    /** pkt_type | protocol << 8 (host order) for a snapshot without words. */
    private readonly pristine: number,
  ) {}

  matches(pristine: number, len: number): boolean {
    return this.words === undefined && this.pristine === pristine && this.len === len;
  }

  toRecord(): Record<string, number | bigint | number[]> {
    const w = this.words ?? this.pristineWords();
    const out: Record<string, number | bigint | number[]> = {};
    for (const name of ['pkt_type', 'mark', 'queue_mapping', 'protocol', 'vlan_present', 'vlan_tci', 'vlan_proto',
      'priority', 'ingress_ifindex', 'ifindex', 'tc_index', 'hash', 'tc_classid'] as const) {
      out[name] = w[SK_BUFF[name][0] / 4]!;
    }
    out.len = this.len;
    out.cb = w.slice(SK_BUFF.cb[0] / 4, SK_BUFF.cb[0] / 4 + 5);
    out.tstamp = (BigInt(w[SNAPSHOT_WORDS + 1]!) << 32n) | BigInt(w[SNAPSHOT_WORDS]!);
    out.wire_len = w[SNAPSHOT_WORDS + 2]!;
    return out;
  }

  private pristineWords(): number[] {
    const w = new Array<number>(SNAPSHOT_WORDS + 3).fill(0);
    w[PKT_TYPE_WORD] = this.pristine & 0xff;
    w[PROTOCOL_WORD] = bswap16(this.pristine >>> 8);
    w[IFINDEX_WORD] = 1;
    return w;
  }
}

/**
 * A stand-in for skb_get_hash(): the kernel's flow hash is keyed by a random boot-time seed, so no
 * emulator can reproduce it; this one is a deterministic, never-zero FNV-1a over the L3/L4 headers.
 */
function flowHash(frame: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = ETH_HLEN; i < Math.min(frame.length, ETH_HLEN + 40); i++) h = Math.imul(h ^ frame[i]!, 0x01000193);
  return (h >>> 0) || 1;
}
