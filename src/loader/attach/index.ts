export { attachTc, detachTc, tcFilters, type TcAttachOptions, type TcAttachment, type TcDetachOptions, type TcDetachResult } from './tc.js';
export { attachTcx, detachTcx, listTcx, tcxPinDir, TCX_PIN_ROOT, type TcxAttachment } from './tcx.js';
export { attachXdp, detachXdp, queryXdp, type XdpAttachment, type XdpUserMode } from './xdp.js';
export { AttachError } from './errors.js';
export { checkDeviceName, netnsPath, listDevices, InvalidNameError, IFNAMSIZ } from './devices.js';
