export * from './bpf.js';
export * from './perf.js';
export { Fd, type FdLike, fdNumber } from './fd.js';
export { MapSizeError, NativeBindingError, SyscallError, VerifierError, explainBpfErrno } from './errors.js';
export { rejectionReason, rejectionKind, type RejectionKind } from './verifier-log.js';
export { possibleCpus } from './cpus.js';
