// Programs that attach to a kernel function, tracepoint or LSM hook named by BTF (fentry/fexit/
// fmod_ret, tp_btf, lsm, iter): BPF_PROG_LOAD wants the BTF id of the target in attach_btf_id. The
// target is the text after the first `/` of the section name; where libbpf looks it up
// (libbpf.c find_attach_btf_id) depends on the attach type.
import type { Btf } from '../../btf/index.js';
import { bpf_attach_type } from '../../uapi/index.js';
import { LoadError } from './errors.js';

/** What the BTF type of each attach type is called, and its kind. */
function lookupRule(attachType: number): { prefix: string; kind: 'TYPEDEF' | 'FUNC' } {
  switch (attachType) {
    case bpf_attach_type.BPF_TRACE_RAW_TP: return { prefix: 'btf_trace_', kind: 'TYPEDEF' };
    case bpf_attach_type.BPF_LSM_MAC: case bpf_attach_type.BPF_LSM_CGROUP: return { prefix: 'bpf_lsm_', kind: 'FUNC' };
    case bpf_attach_type.BPF_TRACE_ITER: return { prefix: 'bpf_iter_', kind: 'FUNC' };
    default: return { prefix: '', kind: 'FUNC' };
  }
}

export interface AttachBtfTarget {
  /** The name as written after the section's prefix (`tcp_connect`). */
  name: string;
  /** The BTF type searched for (`btf_trace_sched_switch`, `bpf_lsm_file_open`). */
  btfName: string;
  btfId: number;
}

/** The vmlinux BTF id a BTF-attached program in `section` (or typed `typeText`) attaches to. */
export function findAttachBtfId(program: string, section: string, typeText: string | undefined, attachType: number, kernel: Btf): AttachBtfTarget {
  const from = [section, typeText].find((s) => s !== undefined && s.includes('/') && s.slice(s.indexOf('/') + 1) !== '');
  if (!from) {
    throw new LoadError(`program '${program}' attaches to a kernel function, but section '${section}' does not name one`, {
      program, section, hint: 'name the target in the section, e.g. SEC("fentry/tcp_connect"), or give --type fentry/tcp_connect',
    });
  }
  const name = from.slice(from.indexOf('/') + 1);
  const rule = lookupRule(attachType);
  const btfName = rule.prefix + name;
  const found = kernel.find(btfName, rule.kind)?.id;
  if (found === undefined) {
    throw new LoadError(`program '${program}': the kernel's BTF has no ${rule.kind} '${btfName}' to attach to`, {
      program, section, hint: 'check the name against `bpftool btf dump file /sys/kernel/btf/vmlinux`; functions of kernel modules are not searched',
    });
  }
  return { name, btfName, btfId: found };
}
