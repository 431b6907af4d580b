export { NetlinkSocket, NetlinkError, openNetlink, withNetlink } from './socket.js';
export { inNetns } from './netns.js';
export { NetlinkParseError } from './message.js';
export { linkIndex, type Device } from './link.js';
export {
  clsactAdd,
  clsactDelete,
  clsactParent,
  tcFilterAdd,
  tcFilterDelete,
  tcFilterDump,
  tcFilterReplace,
  type Direction,
  type TcBpfFilter,
  type TcFilterId,
  type TcFilterOptions,
} from './tc.js';
export { xdpAttach, xdpDetach, xdpQuery, type XdpAttachOptions, type XdpMode, type XdpState } from './xdp.js';
