// struct xdp_md programs: the buffer BPF_PROG_TEST_RUN builds (net/bpf/test_run.c
// bpf_prog_test_run_xdp: a page with XDP_PACKET_HEADROOM before the frame, the loopback device's rx
// queue 0) and the head/tail/meta adjustment helpers with the bounds of net/core/filter.c.
import {
  BPF_FUNC_redirect,
  BPF_FUNC_xdp_adjust_head,
  BPF_FUNC_xdp_adjust_meta,
  BPF_FUNC_xdp_adjust_tail,
  EACCES,
  EINVAL,
  XDP_ABORTED,
  XDP_PACKET_HEADROOM,
  XDP_REDIRECT,
} from '../uapi/index.js';
import {
  ETH_HLEN,
  XDP_FRAME_BYTES,
  XDP_FRAME_SIZE,
  XDP_MD,
  XDP_MD_SIZE,
  XDP_META_MAX,
  XDP_TAILROOM,
  type XdpMdField,
} from './context-layout.js';
import type { Memory } from './memory.js';
import { EmulatorError } from './object.js';
import { PacketBuffer } from './packet.js';
import type { Redirect } from './skb.js';
import type { ContextAccess, FastFields, HelperFn, Vm } from './vm.js';

export type XdpOverrides = Partial<Record<'ingress_ifindex' | 'rx_queue_index', number>>;

const HARD_END = XDP_FRAME_BYTES - XDP_TAILROOM;
const DATA_WORD = XDP_MD.data[0] / 4;
const DATA_END_WORD = XDP_MD.data_end[0] / 4;
const DATA_META_WORD = XDP_MD.data_meta[0] / 4;

/** The xdp_md field covering each byte offset. */
const FIELD_AT: (readonly [XdpMdField, number])[] = [];
for (const [name, [off, size]] of Object.entries(XDP_MD) as [XdpMdField, readonly [number, number]][]) {
  for (let b = off; b < off + size; b++) FIELD_AT[b] = [name, off];
}

export class XdpContext implements ContextAccess {
  readonly region: number;
  readonly pointer: bigint;
  readonly packet: PacketBuffer;
  redirect: Redirect | undefined;
  private ingressIfindex = 1;
  private rxQueueIndex = 0;
  /** Every field of struct xdp_md, as words. */
  readonly fast: FastFields;

  constructor(memory: Memory) {
    this.pointer = memory.map(new Uint8Array(0), 'ctx (struct xdp_md)', false);
    this.region = Number(this.pointer >> 32n);
    this.packet = new PacketBuffer(memory, true);
    const hi = new Int32Array(XDP_MD_SIZE / 4);
    hi[DATA_WORD] = hi[DATA_END_WORD] = hi[DATA_META_WORD] = this.packet.region;
    this.fast = { lo: new Int32Array(XDP_MD_SIZE / 4), hi, readable: new Uint8Array(XDP_MD_SIZE / 4).fill(1) };
    this.packet.moved = () => {
      const p = this.packet;
      const lo = this.fast.lo;
      lo[DATA_WORD] = p.data - p.meta;
      lo[DATA_END_WORD] = p.end - p.meta;
      lo[DATA_META_WORD] = 0;
    };
  }

  reset(frame: Uint8Array, overrides?: XdpOverrides): void {
    this.packet.load(frame, XDP_PACKET_HEADROOM, HARD_END);
    this.redirect = undefined;
    for (const name in overrides) {
      if (name !== 'ingress_ifindex' && name !== 'rx_queue_index') {
        throw new EmulatorError(`struct xdp_md has no field '${name}' to set`, { hint: 'ingress_ifindex and rx_queue_index can be set' });
      }
    }
    this.ingressIfindex = overrides?.ingress_ifindex ?? 1;
    this.rxQueueIndex = overrides?.rx_queue_index ?? 0;
    this.fast.lo[XDP_MD.ingress_ifindex[0] / 4] = this.ingressIfindex;
    this.fast.lo[XDP_MD.rx_queue_index[0] / 4] = this.rxQueueIndex;
  }

  /** The bytes between data and data_end. */
  output(): Uint8Array {
    return this.packet.bytes();
  }

  /** A copy of the metadata bytes between data_meta and data; undefined when there are none. */
  meta(): Uint8Array | undefined {
    const p = this.packet;
    return p.meta === p.data ? undefined : p.buf.slice(p.meta, p.data);
  }

  load(vm: Vm, dst: number, offset: number, size: number): void {
    const entry = offset < XDP_MD_SIZE ? FIELD_AT[offset] : undefined;
    const bad = (why: string) => vm.fault('memory', `invalid load of ${size} bytes from struct xdp_md at offset ${offset}: ${why}`);
    if (entry === undefined) throw bad('no such field');
    const [name, start] = entry;
    if (offset + size > start + 4 || (offset - start) % size !== 0) throw bad(`misaligned or oversized access to ${name}`);
    const p = this.packet;
    if (name === 'data' || name === 'data_end' || name === 'data_meta') {
      if (size !== 4) throw bad(`${name} must be read as a 32-bit word`);
      vm.hi[dst] = p.region;
      vm.lo[dst] = (name === 'data' ? p.data : name === 'data_end' ? p.end : p.meta) - p.meta;
      return;
    }
    const v = name === 'ingress_ifindex' ? this.ingressIfindex : name === 'rx_queue_index' ? this.rxQueueIndex : 0;
    const shift = (offset - start) * 8;
    vm.lo[dst] = size === 4 ? v : (v >>> shift) & (size === 2 ? 0xffff : 0xff);
    vm.hi[dst] = 0;
  }

  store(vm: Vm, offset: number, size: number): void {
    throw vm.fault('memory', `invalid store of ${size} bytes to struct xdp_md at offset ${offset}: XDP programs cannot write their context`);
  }

  helpers(): Map<number, HelperFn> {
    const m = new Map<number, HelperFn>();
    const p = this.packet;
    const checkCtx = (vm: Vm) => {
      if (vm.arg(1) !== this.pointer) throw vm.fault('helper', 'r1 is not the program context');
    };
    const delta = (vm: Vm) => vm.lo[2]!;

    m.set(BPF_FUNC_xdp_adjust_head, (vm) => {
      checkCtx(vm);
      const data = p.data + delta(vm);
      if (data < XDP_FRAME_SIZE || data > p.end - ETH_HLEN) return -EINVAL;
      const metaLen = p.data - p.meta;
      if (metaLen > 0) p.buf.copyWithin(p.meta + (data - p.data), p.meta, p.data);
      p.meta += data - p.data;
      p.data = data;
      p.sync();
      return 0;
    });

    m.set(BPF_FUNC_xdp_adjust_meta, (vm) => {
      checkCtx(vm);
      const meta = p.meta + delta(vm);
      const metaLen = p.data - meta;
      if (meta < XDP_FRAME_SIZE || meta > p.data) return -EINVAL;
      if ((metaLen & 3) !== 0 || metaLen > XDP_META_MAX) return -EACCES;
      p.meta = meta;
      p.sync();
      return 0;
    });

    m.set(BPF_FUNC_xdp_adjust_tail, (vm) => {
      checkCtx(vm);
      const d = delta(vm);
      const end = p.end + d;
      if (end > HARD_END || end < p.data + ETH_HLEN) return -EINVAL;
      if (d > 0) p.buf.fill(0, p.end, end);
      p.end = end;
      p.sync();
      return 0;
    });

    m.set(BPF_FUNC_redirect, (vm) => {
      if (vm.arg(2) !== 0n) return XDP_ABORTED;
      this.redirect = { ifindex: vm.argU32(1), ingress: false };
      return XDP_REDIRECT;
    });
    return m;
  }
}
