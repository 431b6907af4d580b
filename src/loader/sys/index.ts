export * from './bpf.js';
export { Fd, type FdLike, fdNumber } from './fd.js';
export { SyscallError, VerifierError, explainBpfErrno, verifierReason } from './errors.js';
