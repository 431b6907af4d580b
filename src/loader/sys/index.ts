export * from './bpf.js';
export { Fd, type FdLike, fdNumber } from './fd.js';
export { NativeBindingError, SyscallError, VerifierError, explainBpfErrno } from './errors.js';
export { rejectionReason, rejectionKind, type RejectionKind } from './verifier-log.js';
/** @internal Test-only: arms the fault hook from BPFTS_TEST_FAULTS (used by the CLI; not a supported API). */
export { faultsFromEnvironment } from './faults.js';
