// The clsact qdisc and cls_bpf filters on it (RTM_*QDISC, RTM_*TFILTER), as `tc` does them.
import { fdNumber, type FdLike } from '../sys/fd.js';
import {
  ETH_P_ALL,
  NLM_F,
  RTM,
  SOCKET,
  TCA,
  TCA_BPF,
  TCA_BPF_FLAG_ACT_DIRECT,
  TCMSG,
  TC_H,
  TC_H_MAKE,
} from '../abi/netlink.js';
import { StructView } from '../abi/layout.js';
import { explainer } from './explain.js';
import { linkIndex, type Device } from './link.js';
import { AttrWriter, attrStr, attrU32, parseAttrs } from './message.js';
import type { NetlinkSocket } from './socket.js';

export type Direction = 'ingress' | 'egress';

/** The clsact parent of a direction's filters: TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS/EGRESS). */
export function clsactParent(direction: Direction): number {
  return TC_H_MAKE(TC_H.TC_H_CLSACT, direction === 'ingress' ? TC_H.TC_H_MIN_INGRESS : TC_H.TC_H_MIN_EGRESS);
}

function htons(v: number): number {
  return ((v & 0xff) << 8) | ((v >> 8) & 0xff);
}

function tcmsg(ifindex: number, handle: number, parent: number, info: number): Uint8Array {
  return new StructView(TCMSG, new Uint8Array(TCMSG.size))
    .set('tcm_family', SOCKET.AF_UNSPEC)
    .set('tcm_ifindex', ifindex)
    .set('tcm_handle', handle)
    .set('tcm_parent', parent)
    .set('tcm_info', info).bytes;
}

function clsactMsg(ifindex: number): Uint8Array {
  return tcmsg(ifindex, TC_H_MAKE(TC_H.TC_H_CLSACT, 0), TC_H.TC_H_CLSACT, 0);
}

/** Adds the clsact qdisc to a device; EEXIST when it already has one. */
export function clsactAdd(nl: NetlinkSocket, dev: Device): void {
  const ifindex = linkIndex(nl, dev);
  nl.request(
    `add clsact qdisc on ${dev}`,
    RTM.RTM_NEWQDISC,
    NLM_F.NLM_F_CREATE | NLM_F.NLM_F_EXCL,
    clsactMsg(ifindex),
    new AttrWriter().str(TCA.TCA_KIND, 'clsact').finish(),
    explainer({ EEXIST: 'the device already has a clsact qdisc' }),
  );
}

/** Deletes the clsact qdisc of a device, and with it every tc filter attached to it. */
export function clsactDelete(nl: NetlinkSocket, dev: Device): void {
  const ifindex = linkIndex(nl, dev);
  nl.request(
    `delete clsact qdisc on ${dev}`,
    RTM.RTM_DELQDISC,
    0,
    clsactMsg(ifindex),
    new AttrWriter().str(TCA.TCA_KIND, 'clsact').finish(),
    explainer({ EINVAL: 'the device has no clsact qdisc', ENOENT: 'the device has no clsact qdisc' }),
  );
}

export interface TcFilterId {
  dev: Device;
  direction: Direction;
  /** The filter's preference ("pref"/"prio" in tc); 1 by default. */
  priority?: number;
  /** The filter's handle within its priority; 1 by default. */
  handle?: number;
}

export interface TcFilterOptions extends TcFilterId {
  prog: FdLike;
  /** Shown by `tc filter show` as the program's name; by convention "object.o:[section]". */
  name?: string;
  /** Direct action: the program's return value is the tc verdict. On by default. */
  directAction?: boolean;
}

function filterInfo(priority: number): number {
  return TC_H_MAKE(priority << 16, htons(ETH_P_ALL));
}

function filterRequest(nl: NetlinkSocket, o: TcFilterOptions, flags: number, verb: string): void {
  const ifindex = linkIndex(nl, o.dev);
  const priority = o.priority ?? 1;
  const handle = o.handle ?? 1;
  const attrs = new AttrWriter()
    .str(TCA.TCA_KIND, 'bpf')
    .nested(TCA.TCA_OPTIONS, (w) => {
      w.u32(TCA_BPF.TCA_BPF_FD, fdNumber(o.prog));
      if (o.name !== undefined) w.str(TCA_BPF.TCA_BPF_NAME, o.name);
      w.u32(TCA_BPF.TCA_BPF_FLAGS, o.directAction === false ? 0 : TCA_BPF_FLAG_ACT_DIRECT);
    })
    .finish();
  nl.request(
    `${verb} tc ${o.direction} filter pref ${priority} handle ${handle} on ${o.dev}`,
    RTM.RTM_NEWTFILTER,
    flags,
    tcmsg(ifindex, handle, clsactParent(o.direction), filterInfo(priority)),
    attrs,
    explainer({
      EEXIST: `a filter with pref ${priority} and handle ${handle} already exists on this hook (replace it instead)`,
      EINVAL: 'the kernel rejected the filter: the program is not a SCHED_CLS program, or the device has no clsact qdisc',
      ENOENT: 'the device has no clsact qdisc, or no such filter to replace',
    }),
  );
}

/** Adds a cls_bpf filter; EEXIST when one with the same priority and handle is there. */
export function tcFilterAdd(nl: NetlinkSocket, o: TcFilterOptions): void {
  filterRequest(nl, o, NLM_F.NLM_F_CREATE | NLM_F.NLM_F_EXCL, 'add');
}

/** Adds a cls_bpf filter or replaces the program of the one with the same priority and handle. */
export function tcFilterReplace(nl: NetlinkSocket, o: TcFilterOptions): void {
  filterRequest(nl, o, NLM_F.NLM_F_CREATE | NLM_F.NLM_F_REPLACE, 'replace');
}

/** Deletes one cls_bpf filter. */
export function tcFilterDelete(nl: NetlinkSocket, o: TcFilterId): void {
  const ifindex = linkIndex(nl, o.dev);
  const priority = o.priority ?? 1;
  const handle = o.handle ?? 1;
  nl.request(
    `delete tc ${o.direction} filter pref ${priority} handle ${handle} on ${o.dev}`,
    RTM.RTM_DELTFILTER,
    0,
    tcmsg(ifindex, handle, clsactParent(o.direction), filterInfo(priority)),
    new AttrWriter().str(TCA.TCA_KIND, 'bpf').finish(),
    explainer({ ENOENT: `no filter with pref ${priority} and handle ${handle} on this hook` }),
  );
}

export interface TcBpfFilter {
  priority: number;
  handle: number;
  /** The EtherType the filter matches (ETH_P_ALL for every protocol). */
  protocol: number;
  kind: string;
  progId?: number;
  name?: string;
  /** The program tag as 16 hex digits, as tc and bpftool print it. */
  tag?: string;
  directAction: boolean;
}

/** The filters on a device's ingress or egress hook, in the kernel's order. */
export function tcFilterDump(nl: NetlinkSocket, dev: Device, direction: Direction): TcBpfFilter[] {
  const ifindex = linkIndex(nl, dev);
  const replies = nl.request(
    `list tc ${direction} filters on ${dev}`,
    RTM.RTM_GETTFILTER,
    NLM_F.NLM_F_DUMP,
    tcmsg(ifindex, 0, clsactParent(direction), 0),
    undefined,
    explainer({ EINVAL: 'the device has no clsact qdisc', ENOENT: 'the device has no clsact qdisc' }),
  );
  const filters: TcBpfFilter[] = [];
  for (const m of replies) {
    if (m.type !== RTM.RTM_NEWTFILTER) continue;
    const t = new StructView(TCMSG, m.payload);
    const attrs = parseAttrs(m.payload.subarray(TCMSG.size));
    const options = attrs.get(TCA.TCA_OPTIONS);
    // Each priority is also reported once as a bare classifier without options.
    if (!options) continue;
    const kind = attrs.get(TCA.TCA_KIND);
    const info = t.num('tcm_info');
    const f: TcBpfFilter = {
      priority: info >>> 16,
      handle: t.num('tcm_handle'),
      protocol: htons(info & 0xffff),
      kind: kind ? attrStr(kind) : '',
      directAction: false,
    };
    const o = parseAttrs(options);
    const id = o.get(TCA_BPF.TCA_BPF_ID);
    if (id) f.progId = attrU32(id, 'TCA_BPF_ID');
    const name = o.get(TCA_BPF.TCA_BPF_NAME);
    if (name) f.name = attrStr(name);
    const tag = o.get(TCA_BPF.TCA_BPF_TAG);
    if (tag) f.tag = Array.from(tag, (b) => b.toString(16).padStart(2, '0')).join('');
    const flags = o.get(TCA_BPF.TCA_BPF_FLAGS);
    f.directAction = flags ? (attrU32(flags, 'TCA_BPF_FLAGS') & TCA_BPF_FLAG_ACT_DIRECT) !== 0 : false;
    filters.push(f);
  }
  return filters;
}
