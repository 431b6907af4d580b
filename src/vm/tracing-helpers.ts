// Helpers of tracing programs (kernel/trace/bpf_trace.c, kernel/bpf/stackmap.c): reads of kernel and
// user memory through the synthetic kernel memory, the current task as configured, stacks for
// bpf_get_stackid()/bpf_get_stack(), the probed function's address and the attach cookie, and
// bpf_perf_event_output() with the tracing variant's flags.
import {
  BPF_F_FAST_STACK_CMP,
  BPF_F_INDEX_MASK,
  BPF_F_REUSE_STACKID,
  BPF_F_SKIP_FIELD_MASK,
  BPF_F_USER_BUILD_ID,
  BPF_F_USER_STACK,
  BPF_FUNC_get_attach_cookie,
  BPF_FUNC_get_current_cgroup_id,
  BPF_FUNC_get_current_comm,
  BPF_FUNC_get_current_pid_tgid,
  BPF_FUNC_get_current_task,
  BPF_FUNC_get_current_task_btf,
  BPF_FUNC_get_current_uid_gid,
  BPF_FUNC_get_func_ip,
  BPF_FUNC_get_stack,
  BPF_FUNC_get_stackid,
  BPF_FUNC_perf_event_output,
  BPF_FUNC_probe_read,
  BPF_FUNC_probe_read_kernel,
  BPF_FUNC_probe_read_kernel_str,
  BPF_FUNC_probe_read_str,
  BPF_FUNC_probe_read_user,
  BPF_FUNC_probe_read_user_str,
  EFAULT,
  EINVAL,
  TASK_COMM_LEN,
} from '../uapi/index.js';
import type { KernelMemory } from './kernel-memory.js';
import { PerfEventArrayMap } from './maps/events.js';
import type { MapRegistry } from './maps/registry.js';
import { StackTraceMap } from './maps/stack-trace.js';
import type { HelperFn, Vm } from './vm.js';

/** The task a tracing program runs in, as bpf_get_current_*() report it. */
export interface CurrentTask {
  pid?: number;
  tgid?: number;
  uid?: number;
  gid?: number;
  /** task->comm, at most 15 bytes (TASK_COMM_LEN 16 with the NUL). */
  comm?: string;
  /** What bpf_get_current_task() returns: typically `"@task"`, an object of the memory file. */
  task?: bigint | number | string;
  cgroupId?: bigint | number | string;
}

export interface TracingEnvOptions {
  current?: CurrentTask;
  /** Instruction pointers of the stacks bpf_get_stackid()/bpf_get_stack() see, innermost first. */
  stacks?: { kernel?: readonly (bigint | number | string)[]; user?: readonly (bigint | number | string)[] };
  /** What bpf_get_func_ip() returns: the probed function's address. */
  funcIp?: bigint | number | string;
  /** What bpf_get_attach_cookie() returns (the bpf_cookie of the attachment). */
  cookie?: bigint | number | string;
}

type Space = 'kernel' | 'user' | 'any';

/** The settings the tracing helpers read, changeable between runs. */
export class TracingEnv {
  options: TracingEnvOptions;

  constructor(
    private readonly kmem: KernelMemory,
    options: TracingEnvOptions = {},
  ) {
    this.options = options;
  }

  private value(v: bigint | number | string | undefined, where: string): bigint {
    return v === undefined ? 0n : this.kmem.resolve(v, where);
  }

  helpers(maps: MapRegistry): Map<number, HelperFn> {
    const m = new Map<number, HelperFn>();
    const kmem = this.kmem;
    // bpf_probe_read_*_common(): the destination is zeroed when the read faults.
    const read = (space: Space): HelperFn => (vm) => {
      const size = vm.argU32(2);
      if (size === 0) return 0;
      const dst = vm.view(vm.arg(1), size, true);
      const src = kmem.read(vm.arg(3), size, space);
      if (src === undefined) {
        dst.fill(0);
        return -EFAULT;
      }
      dst.set(src);
      return 0;
    };
    // bpf_probe_read_*_str_common(): the length with the NUL, the string cut at size - 1 bytes.
    const readStr = (space: Space): HelperFn => (vm) => {
      const size = vm.argU32(2);
      if (size === 0) return 0;
      const dst = vm.view(vm.arg(1), size, true);
      const s = kmem.readString(vm.arg(3), size, space);
      if (s === undefined) {
        dst.fill(0);
        return -EFAULT;
      }
      dst.set(s);
      dst[s.length] = 0;
      return s.length + 1;
    };
    m.set(BPF_FUNC_probe_read_kernel, read('kernel'));
    m.set(BPF_FUNC_probe_read_user, read('user'));
    m.set(BPF_FUNC_probe_read, read('any'));
    m.set(BPF_FUNC_probe_read_kernel_str, readStr('kernel'));
    m.set(BPF_FUNC_probe_read_user_str, readStr('user'));
    m.set(BPF_FUNC_probe_read_str, readStr('any'));

    const cur = () => this.options.current ?? {};
    const u32 = (n: number | undefined) => BigInt((n ?? 0) >>> 0);
    m.set(BPF_FUNC_get_current_pid_tgid, () => (u32(cur().tgid ?? cur().pid) << 32n) | u32(cur().pid));
    m.set(BPF_FUNC_get_current_uid_gid, () => (u32(cur().gid) << 32n) | u32(cur().uid));
    m.set(BPF_FUNC_get_current_comm, (vm) => {
      const size = vm.argU32(2);
      const dst = vm.view(vm.arg(1), size, true);
      // strscpy_pad(): at most size - 1 bytes and the NUL, the rest zero.
      const comm = new TextEncoder().encode(cur().comm ?? '').subarray(0, TASK_COMM_LEN - 1);
      dst.fill(0);
      if (size > 0) dst.set(comm.subarray(0, size - 1));
      return 0;
    });
    const task: HelperFn = () => this.value(cur().task, 'current.task');
    m.set(BPF_FUNC_get_current_task, task);
    m.set(BPF_FUNC_get_current_task_btf, task);
    m.set(BPF_FUNC_get_current_cgroup_id, () => this.value(cur().cgroupId, 'current.cgroupId'));
    m.set(BPF_FUNC_get_func_ip, () => this.value(this.options.funcIp, 'funcIp'));
    m.set(BPF_FUNC_get_attach_cookie, () => this.value(this.options.cookie, 'cookie'));

    const stack = (flags: bigint): bigint[] => {
      const s = (flags & BigInt(BPF_F_USER_STACK)) !== 0n ? this.options.stacks?.user : this.options.stacks?.kernel;
      return (s ?? []).map((ip, i) => this.kmem.resolve(ip, `stacks[${i}]`)).slice(Number(flags & BigInt(BPF_F_SKIP_FIELD_MASK)));
    };
    m.set(BPF_FUNC_get_stackid, (vm) => {
      const mp = maps.byHandleAt(vm.hi[2]!, vm.lo[2]!);
      if (!(mp instanceof StackTraceMap)) throw vm.fault('helper', 'bpf_get_stackid() needs a BPF_MAP_TYPE_STACK_TRACE');
      const flags = vm.arg(3);
      const known = BigInt(BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK | BPF_F_FAST_STACK_CMP | BPF_F_REUSE_STACKID);
      if ((flags & ~known) !== 0n) return -EINVAL;
      const ips = stack(flags);
      if (ips.length === 0) return -EFAULT;
      return mp.store(ips, (flags & BigInt(BPF_F_REUSE_STACKID)) !== 0n);
    });
    m.set(BPF_FUNC_get_stack, (vm) => {
      const size = vm.argU32(3);
      const dst = vm.view(vm.arg(2), size, true);
      const flags = vm.arg(4);
      const known = BigInt(BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK | BPF_F_USER_BUILD_ID);
      // __bpf_get_stack(): build ids are not emulated; a size that is not whole u64s is refused.
      if ((flags & ~known) !== 0n || (flags & BigInt(BPF_F_USER_BUILD_ID)) !== 0n || size % 8 !== 0) {
        dst.fill(0);
        return -EINVAL;
      }
      const ips = stack(flags).slice(0, size / 8);
      dst.fill(0);
      if (ips.length === 0) return -EFAULT;
      const v = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
      ips.forEach((ip, i) => v.setBigUint64(i * 8, ip, true));
      return ips.length * 8;
    });

    // bpf_perf_event_output() of kprobe, tracepoint and raw tracepoint programs: only the index bits.
    m.set(BPF_FUNC_perf_event_output, (vm: Vm) => {
      const mp = maps.byHandleAt(vm.hi[2]!, vm.lo[2]!);
      if (!(mp instanceof PerfEventArrayMap)) return -EINVAL;
      if ((vm.arg(3) & ~BigInt(BPF_F_INDEX_MASK)) !== 0n) return -EINVAL;
      return mp.output(vm.argU32(3), vm.cpu, vm.read(vm.arg(4), Number(vm.arg(5))));
    });
    return m;
  }
}
