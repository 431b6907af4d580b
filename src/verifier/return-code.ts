// The values a program type may return (check_return_code in kernel/bpf/verifier.c): undefined
// where the kernel does not check r0 at the entry program's exit.
import { bpf_attach_type as A, bpf_prog_type as P } from '../uapi/index.js';

const ONE_ONLY = new Set<number>([
  A.BPF_CGROUP_UDP4_RECVMSG, A.BPF_CGROUP_UDP6_RECVMSG, A.BPF_CGROUP_UNIX_RECVMSG, A.BPF_CGROUP_INET4_GETPEERNAME,
  A.BPF_CGROUP_INET6_GETPEERNAME, A.BPF_CGROUP_UNIX_GETPEERNAME, A.BPF_CGROUP_INET4_GETSOCKNAME,
  A.BPF_CGROUP_INET6_GETSOCKNAME, A.BPF_CGROUP_UNIX_GETSOCKNAME,
]);

export function returnRange(progType: number, attachType: number): [number, number] | undefined {
  switch (progType) {
    case P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR:
      if (ONE_ONLY.has(attachType)) return [1, 1];
      if (attachType === A.BPF_CGROUP_INET4_BIND || attachType === A.BPF_CGROUP_INET6_BIND) return [0, 3];
      return [0, 1];
    case P.BPF_PROG_TYPE_CGROUP_SKB:
      return attachType === A.BPF_CGROUP_INET_EGRESS ? [0, 3] : [0, 1];
    case P.BPF_PROG_TYPE_CGROUP_SOCK:
    case P.BPF_PROG_TYPE_SOCK_OPS:
    case P.BPF_PROG_TYPE_CGROUP_DEVICE:
    case P.BPF_PROG_TYPE_CGROUP_SYSCTL:
    case P.BPF_PROG_TYPE_CGROUP_SOCKOPT:
    case P.BPF_PROG_TYPE_SK_LOOKUP:
    case P.BPF_PROG_TYPE_NETFILTER:
      return [0, 1];
    case P.BPF_PROG_TYPE_RAW_TRACEPOINT:
      return attachType ? [0, 0] : undefined;
    default:
      return undefined;
  }
}
