export * from './bpf.js';
export * from './perf.js';
export { Fd, type FdLike, fdNumber } from './fd.js';
export { MapSizeError, NativeBindingError, SyscallError, VerifierError, explainBpfErrno } from './errors.js';
export { rejectionReason, rejectionKind, type RejectionKind } from './verifier-log.js';
export { possibleCpus } from './cpus.js';
/** @internal Test-only: arms the fault hook from BPFTS_TEST_FAULTS (used by the CLI; not a supported API). */
export { faultsFromEnvironment } from './faults.js';
