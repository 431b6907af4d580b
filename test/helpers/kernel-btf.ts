// The running kernel as the oracle for BTF: what BPF_BTF_LOAD makes of a blob.
import { btfLoad, VerifierError } from '../../src/loader/raw.js';

/** Loads BTF into the kernel: undefined when accepted, else the last line of the kernel's log. */
export function kernelBtfVerdict(bytes: Uint8Array): string | undefined {
  try {
    btfLoad(bytes, { logLevel: 1 }).fd.close();
    return undefined;
  } catch (e) {
    if (e instanceof VerifierError) return e.log.trim().split('\n').pop() ?? 'rejected';
    throw e;
  }
}
