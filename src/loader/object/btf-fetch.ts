// A kernel object's BTF by id (BPF_BTF_GET_FD_BY_ID, then BPF_OBJ_GET_INFO_BY_FD with a buffer for
// the raw blob), parsed so that map keys and values can be shown by their C types. Split BTF of a
// module gets vmlinux as its base.
import { readFileSync } from 'node:fs';
import { parseBtf, type Btf } from '../../btf/index.js';
import { BPF_BTF_INFO, GET_ID_ATTR, INFO_ATTR, StructView, bpf_cmd } from '../abi/index.js';
import { SyscallError, explainBpfErrno } from '../sys/errors.js';
import { Fd } from '../sys/fd.js';
import { addressOf, lastErrno, libc, pinned } from '../sys/libc.js';
import { SYS_bpf } from '../abi/index.js';

function sysBpf(cmd: number, a: StructView<string>, name: string): number {
  const r = libc().bpf(SYS_bpf[process.arch]!, cmd, a.bytes, a.layout.size);
  if (r < 0) {
    const errno = lastErrno();
    throw new SyscallError(name, errno, explainBpfErrno(cmd, errno));
  }
  return r;
}

export function btfGetFdById(id: number): Fd {
  const a = new StructView(GET_ID_ATTR, pinned(GET_ID_ATTR.size)).set('btf_id', id);
  return new Fd(sysBpf(bpf_cmd.BPF_BTF_GET_FD_BY_ID, a, 'BPF_BTF_GET_FD_BY_ID'), 'btf');
}

function info(fd: Fd, buf: Uint8Array | undefined): StructView<string> {
  const i = new StructView(BPF_BTF_INFO, pinned(BPF_BTF_INFO.size));
  if (buf) i.set('btf', addressOf(buf)).set('btf_size', buf.byteLength);
  const a = new StructView(INFO_ATTR, pinned(INFO_ATTR.size)).set('bpf_fd', fd.value).set('info_len', BPF_BTF_INFO.size).set('info', addressOf(i.bytes));
  sysBpf(bpf_cmd.BPF_OBJ_GET_INFO_BY_FD, a, 'BPF_OBJ_GET_INFO_BY_FD');
  return i;
}

let vmlinux: Btf | undefined;

/** The BTF with kernel id `id`, parsed (on top of vmlinux when it is split BTF). */
export function fetchBtf(id: number): Btf {
  const fd = btfGetFdById(id);
  try {
    const size = info(fd, undefined).num('btf_size');
    const buf = pinned(size);
    info(fd, buf);
    const raw = new Uint8Array(buf);
    try {
      return parseBtf(raw);
    } catch {
      vmlinux ??= parseBtf(readFileSync('/sys/kernel/btf/vmlinux'));
      return parseBtf(raw, { base: vmlinux });
    }
  } finally {
    fd.close();
  }
}
