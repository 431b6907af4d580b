// Network device lookup (RTM_GETLINK).
import { IFINFOMSG, IFLA, RTM, SOCKET } from '../abi/netlink.js';
import { StructView } from '../abi/layout.js';
import { explainer } from './explain.js';
import { AttrWriter, NetlinkParseError, parseAttrs, type NlMessage } from './message.js';
import type { NetlinkSocket } from './socket.js';

/** A device by name or ifindex. */
export type Device = string | number;

export function ifinfomsg(index: number): Uint8Array {
  return new StructView(IFINFOMSG, new Uint8Array(IFINFOMSG.size)).set('ifi_family', SOCKET.AF_UNSPEC).set('ifi_index', index).bytes;
}

/** The RTM_NEWLINK reply describing one device. */
export function getLink(nl: NetlinkSocket, dev: Device): NlMessage {
  const byName = typeof dev === 'string';
  const attrs = byName ? new AttrWriter().str(IFLA.IFLA_IFNAME, dev).finish() : undefined;
  const replies = nl.request(
    `RTM_GETLINK ${byName ? `"${dev}"` : `ifindex ${dev}`}`,
    RTM.RTM_GETLINK,
    0,
    ifinfomsg(byName ? 0 : dev),
    attrs,
    explainer({
      ENODEV: byName ? `no network device named "${dev}" in this network namespace` : `no network device with ifindex ${dev} in this network namespace`,
    }),
  );
  const link = replies.find((m) => m.type === RTM.RTM_NEWLINK);
  if (!link) throw new NetlinkParseError('RTM_GETLINK was acknowledged without a description of the device');
  return link;
}

/** The ifindex of a device; a number is returned as given, a name is resolved in the socket's namespace. */
export function linkIndex(nl: NetlinkSocket, dev: Device): number {
  if (typeof dev === 'number') return dev;
  return new StructView(IFINFOMSG, getLink(nl, dev).payload).num('ifi_index');
}

/** The attributes of a device (IFLA_*), after its ifinfomsg. */
export function linkAttrs(link: NlMessage): Map<number, Uint8Array> {
  return parseAttrs(link.payload.subarray(IFINFOMSG.size));
}
