// The running kernel's BTF, read once per process: CO-RE, BTF-attached programs, kfuncs and
// typed ksyms are all resolved against it, and value formatting needs it as the base of modules'
// split BTF.
import { readFileSync } from 'node:fs';
import { btfFromFile, type Btf } from '../../btf/index.js';
import { LoadError } from './errors.js';

export const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';

let vmlinux: Btf | undefined;

/** vmlinux BTF from /sys/kernel/btf/vmlinux; a LoadError when the kernel has none. */
export function vmlinuxBtf(): Btf {
  if (vmlinux) return vmlinux;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(VMLINUX_BTF);
  } catch (e) {
    throw new LoadError(`cannot read the kernel's BTF (${VMLINUX_BTF}): ${(e as Error).message}`, {
      cause: e, hint: 'CO-RE, fentry/fexit/tp_btf/lsm programs and kfuncs need a kernel built with CONFIG_DEBUG_INFO_BTF=y',
    });
  }
  vmlinux = btfFromFile(bytes);
  return vmlinux;
}
