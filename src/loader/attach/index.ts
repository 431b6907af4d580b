export { attachTc, detachTc, tcFilters, type TcAttachOptions, type TcAttachment, type TcDetachOptions, type TcDetachResult } from './tc.js';
export { attachTcx, detachTcx, listTcx, tcxPinDir, TCX_PIN_ROOT, type TcxAttachment } from './tcx.js';
export { attachXdp, detachXdp, queryXdp, type XdpAttachment, type XdpUserMode } from './xdp.js';
export { AttachError } from './errors.js';
export { checkDeviceName, netnsPath, listDevices, InvalidNameError, IFNAMSIZ } from './devices.js';
export {
  TracingLink, attachTracepoint, attachRawTracepoint, attachPerfEvent, attachBtfTracing, bindPerfEvent, detachPinnedLink,
  parseTracepoint, onlineCpus, trampolineHint, btfTracingKind, explainTracingLoadFailure, SOFTWARE_EVENTS,
  type TracingKind, type Binding, type BindOptions, type PerfEventOptions, type BtfTracingKind,
} from './tracing.js';
export { attachUprobe, resolveUprobe, resolveBinary, probePmu, type UprobeOptions, type UprobeTarget } from './uprobe.js';
export { attachKprobe, resolveKernelFunction, readKallsyms, kprobeAlternatives, type KprobeOptions, type KallsymsEntry, type ResolvedFunction } from './kprobe.js';
export { tracefsRoot, tracepointId, availableEvents, TRACEFS } from './tracefs.js';
export { TracingError, AmbiguousSymbolError, KprobesUnavailableError, TracingUnsupportedError } from './tracing-errors.js';
export { parseAttachSpec, attachFromSection, attachSpec, ATTACH_KINDS, type AttachKind, type AttachSpec } from './auto.js';
