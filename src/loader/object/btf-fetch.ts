// A kernel object's BTF by id, parsed so that map keys and values can be shown by their C types.
// Split BTF of a module gets vmlinux as its base.
import { parseBtf, type Btf } from '../../btf/index.js';
import { btfGetFdById, btfGetRaw } from '../sys/bpf.js';
import { vmlinuxBtf } from './kernel-btf.js';

/** The BTF with kernel id `id`, parsed (on top of vmlinux when it is split BTF). */
export function fetchBtf(id: number): Btf {
  const fd = btfGetFdById(id);
  try {
    const raw = btfGetRaw(fd);
    try {
      return parseBtf(raw);
    } catch {
      return parseBtf(raw, { base: vmlinuxBtf() });
    }
  } finally {
    fd.close();
  }
}
