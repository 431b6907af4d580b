// bpfts/loader: an object loaded into the kernel as one handle. Maps with keys and values as plain
// JS values from their BTF types, programs and their attachments as links, typed errors. The raw
// syscalls, ABI layouts and netlink builders are in bpfts/loader/raw.
export { Collection, Globals, NameNotFoundError, onExit, type CollectionOptions } from './collection.js';
export { BpfMap, BpfMap as Map, MapOperationError, mapTypeName, type SetOptions, type UpdateMode } from './map.js';
export {
  Program, type KprobeAttachOptions, type PerfEventAttachOptions, type TracepointTarget, type UprobeAttachOptions,
} from './program.js';
export { Link, TcLink, KernelLink, detachTcFilters, type LinkKind, type Netns, type TcAttachOptions, type XdpMode } from './link.js';
export { TracingLink } from './tracing-links.js';
export type { Binding, TracingKind } from './attach/tracing.js';
export { AmbiguousSymbolError, KprobesUnavailableError, TracingError, TracingUnsupportedError } from './attach/tracing-errors.js';
export { MapReader, type LostRecords, type ReaderOptions, type TraceEvent, type TraceRecord } from './readers-typed.js';
export { TracePipeReader } from './readers/trace-pipe.js';
export type { Direction } from './netlink/index.js';
export type { TestRunOptions, TestRunResult } from './sys/bpf.js';
export { Fd } from './sys/fd.js';
export { possibleCpus } from './sys/cpus.js';
export { MapSizeError, NativeBindingError, SyscallError, VerifierError } from './sys/errors.js';
export { LoadError, ProgramRejectedError } from './object/errors.js';
export { InvalidNameError } from './attach/devices.js';
export { BtfValueError, type CValue, type Encodable } from '../btf/index.js';
export { BpfError } from '../errors.js';
