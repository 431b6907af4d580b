// XDP attachment through the device (RTM_SETLINK with IFLA_XDP) and its query (RTM_GETLINK).
import { fdNumber, type FdLike } from '../sys/fd.js';
import { IFLA, IFLA_XDP, RTM, XDP_ATTACHED, XDP_FLAGS } from '../abi/netlink.js';
import { explainer } from './explain.js';
import { getLink, ifinfomsg, linkAttrs, linkIndex, type Device } from './link.js';
import { AttrWriter, attrU32, attrU8, parseAttrs } from './message.js';
import type { NetlinkSocket } from './socket.js';

export type XdpMode = 'skb' | 'drv' | 'hw';

const MODE_FLAG: Record<XdpMode, number> = {
  skb: XDP_FLAGS.XDP_FLAGS_SKB_MODE,
  drv: XDP_FLAGS.XDP_FLAGS_DRV_MODE,
  hw: XDP_FLAGS.XDP_FLAGS_HW_MODE,
};

export interface XdpAttachOptions {
  /** Generic ("skb"), native ("drv") or offloaded ("hw"); unset lets the kernel choose native when the driver has it. */
  mode?: XdpMode;
  /** Fail instead of replacing a program that is already attached (XDP_FLAGS_UPDATE_IF_NOEXIST). */
  noReplace?: boolean;
  /** Replace only if this program is the one attached (IFLA_XDP_EXPECTED_FD with XDP_FLAGS_REPLACE). */
  expectedProg?: FdLike;
}

function setXdp(nl: NetlinkSocket, dev: Device, fd: number, o: XdpAttachOptions, verb: string): void {
  const ifindex = linkIndex(nl, dev);
  let flags = o.mode ? MODE_FLAG[o.mode] : 0;
  if (o.noReplace) flags |= XDP_FLAGS.XDP_FLAGS_UPDATE_IF_NOEXIST;
  if (o.expectedProg !== undefined) flags |= XDP_FLAGS.XDP_FLAGS_REPLACE;
  const attrs = new AttrWriter()
    .nested(IFLA.IFLA_XDP, (w) => {
      w.s32(IFLA_XDP.IFLA_XDP_FD, fd);
      if (flags) w.u32(IFLA_XDP.IFLA_XDP_FLAGS, flags);
      if (o.expectedProg !== undefined) w.s32(IFLA_XDP.IFLA_XDP_EXPECTED_FD, fdNumber(o.expectedProg));
    })
    .finish();
  nl.request(
    `${verb} XDP program on ${dev}${o.mode ? ` (${o.mode} mode)` : ''}`,
    RTM.RTM_SETLINK,
    0,
    ifinfomsg(ifindex),
    attrs,
    explainer({
      EBUSY: 'an XDP program is already attached and replacing it was not allowed, or it is attached through a bpf link',
      EEXIST: 'an XDP program is attached in another mode; detach it first',
      EOPNOTSUPP: 'the driver has no native XDP support (use generic "skb" mode)',
      EINVAL: 'the kernel rejected the request: not an XDP program, conflicting mode flags, or an MTU too large for native XDP',
    }),
  );
}

/** Attaches an XDP program to a device. */
export function xdpAttach(nl: NetlinkSocket, dev: Device, prog: FdLike, o: XdpAttachOptions = {}): void {
  setXdp(nl, dev, fdNumber(prog), o, 'attach');
}

/** Detaches the XDP program of the given mode (or whichever the kernel picks when unset). */
export function xdpDetach(nl: NetlinkSocket, dev: Device, o: { mode?: XdpMode } = {}): void {
  setXdp(nl, dev, -1, o, 'detach');
}

export interface XdpState {
  /** "none", "drv", "skb", "hw" or "multi" (IFLA_XDP_ATTACHED). */
  attached: 'none' | 'drv' | 'skb' | 'hw' | 'multi';
  progId?: number;
  drvProgId?: number;
  skbProgId?: number;
  hwProgId?: number;
}

const ATTACHED_NAME: Record<number, XdpState['attached']> = {
  [XDP_ATTACHED.XDP_ATTACHED_NONE]: 'none',
  [XDP_ATTACHED.XDP_ATTACHED_DRV]: 'drv',
  [XDP_ATTACHED.XDP_ATTACHED_SKB]: 'skb',
  [XDP_ATTACHED.XDP_ATTACHED_HW]: 'hw',
  [XDP_ATTACHED.XDP_ATTACHED_MULTI]: 'multi',
};

/** Which XDP programs a device has. */
export function xdpQuery(nl: NetlinkSocket, dev: Device): XdpState {
  const xdp = linkAttrs(getLink(nl, dev)).get(IFLA.IFLA_XDP);
  if (!xdp) return { attached: 'none' };
  const a = parseAttrs(xdp);
  const mode = a.get(IFLA_XDP.IFLA_XDP_ATTACHED);
  const state: XdpState = { attached: ATTACHED_NAME[mode ? attrU8(mode, 'IFLA_XDP_ATTACHED') : 0] ?? 'none' };
  const id = (type: number, what: string) => {
    const v = a.get(type);
    return v ? attrU32(v, what) : undefined;
  };
  const progId = id(IFLA_XDP.IFLA_XDP_PROG_ID, 'IFLA_XDP_PROG_ID');
  const drvProgId = id(IFLA_XDP.IFLA_XDP_DRV_PROG_ID, 'IFLA_XDP_DRV_PROG_ID');
  const skbProgId = id(IFLA_XDP.IFLA_XDP_SKB_PROG_ID, 'IFLA_XDP_SKB_PROG_ID');
  const hwProgId = id(IFLA_XDP.IFLA_XDP_HW_PROG_ID, 'IFLA_XDP_HW_PROG_ID');
  if (progId !== undefined) state.progId = progId;
  if (drvProgId !== undefined) state.drvProgId = drvProgId;
  if (skbProgId !== undefined) state.skbProgId = skbProgId;
  if (hwProgId !== undefined) state.hwProgId = hwProgId;
  return state;
}
