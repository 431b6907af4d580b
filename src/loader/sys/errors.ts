// Errors of the bpf() syscall, with the likely cause spelled out for the errno at hand.
import { BpfError } from '../../errors.js';
import { rejectionReason } from './verifier-log.js';
import { bpf_cmd, enumName } from '../abi/bpf-cmd.js';
import { errnoName } from '../../uapi/index.js';

/** koffi's native module or the C library could not be loaded (unsupported platform, broken install). */
export class NativeBindingError extends BpfError {}

/**
 * A key or value buffer whose size differs from what the kernel reads or writes for this map
 * (checked before the call, since a short buffer would let the kernel read or write past it).
 */
export class MapSizeError extends BpfError {
  constructor(
    /** The map's name as the kernel reports it. */
    readonly map: string,
    readonly what: 'key' | 'value',
    /** The size the kernel reads or writes: key_size, value_size, or for per-CPU maps roundup(value_size, 8) * possible CPUs. */
    readonly expected: number,
    readonly given: number,
    options?: { hint?: string },
  ) {
    super(`map ${map ? `'${map}'` : '(unnamed)'}: the ${what} is ${given} bytes, the kernel ${what === 'key' ? 'reads' : 'reads and writes'} ${expected}`, options);
  }
}

/** A failed system call: errno, its name, the command, and what most likely went wrong. */
export class SyscallError extends BpfError {
  readonly errnoName: string;

  constructor(
    /** The bpf command name ("BPF_PROG_LOAD") or libc call ("socket", "setns"). */
    readonly command: string,
    readonly errno: number,
    /** Why this errno usually happens for this command. */
    readonly explanation: string,
    options?: { hint?: string; detail?: string },
  ) {
    const name = errnoName(errno);
    super(`${command} failed with ${name}: ${explanation}${options?.detail ? `\n${options.detail}` : ''}`, options);
    this.errnoName = name;
  }
}

/** BPF_PROG_LOAD or BPF_BTF_LOAD rejected by the kernel's verifier; `log` is its whole log. */
export class VerifierError extends SyscallError {
  constructor(
    command: string,
    errno: number,
    explanation: string,
    readonly log: string,
  ) {
    const reason = rejectionReason(log);
    super(command, errno, explanation, {
      detail: reason ? `verifier: ${reason}` : undefined,
      hint: 'the full verifier log is in the error\'s log property (bpfts prints it with --verbose)',
    });
  }
}

const PRIVILEGE =
  'the caller lacks privilege: bpf() needs root or CAP_BPF (plus CAP_NET_ADMIN for networking programs and ' +
  'CAP_PERFMON for tracing), and kernels before 5.11 also need a high enough RLIMIT_MEMLOCK';

/** A short explanation of `errno` for the bpf() command `cmd`. */
export function explainBpfErrno(cmd: number, errno: number): string {
  const c = enumName(bpf_cmd, cmd);
  const isLoad = c === 'BPF_PROG_LOAD' || c === 'BPF_BTF_LOAD';
  switch (errnoName(errno)) {
    case 'EPERM':
      if (c === 'BPF_MAP_UPDATE_ELEM' || c === 'BPF_MAP_DELETE_ELEM') {
        return `the map is frozen or read-only for user space (BPF_MAP_FREEZE, BPF_F_RDONLY), or ${PRIVILEGE}`;
      }
      return isLoad
        ? `${PRIVILEGE}; for a privileged caller, the verifier refused an operation (see the log)`
        : PRIVILEGE;
    case 'EACCES':
      return isLoad ? 'the verifier rejected the program (see the log)' : 'access denied: the object is read-only or the caller lacks permission';
    case 'E2BIG':
      return isLoad
        ? 'too big: the program exceeds the instruction limit, or the attribute sets a field this kernel does not know'
        : 'too big: a size exceeds what this kernel accepts, or the attribute sets a field this kernel does not know';
    case 'EINVAL':
      return isLoad
        ? 'the kernel rejected the program or its attributes (see the verifier log)'
        : 'the kernel rejected an argument: unsupported type or flags for this kernel, wrong key/value size, or a file descriptor of the wrong kind';
    case 'ENOENT':
      switch (c) {
        case 'BPF_MAP_LOOKUP_ELEM':
        case 'BPF_MAP_DELETE_ELEM':
          return 'no element with this key';
        case 'BPF_MAP_GET_NEXT_KEY':
          return 'no key after this one';
        case 'BPF_OBJ_GET':
          return 'nothing is pinned at this path';
        case 'BPF_PROG_GET_NEXT_ID':
        case 'BPF_MAP_GET_NEXT_ID':
          return 'no object with a higher id';
        case 'BPF_PROG_GET_FD_BY_ID':
        case 'BPF_MAP_GET_FD_BY_ID':
          return 'no object with this id (it was unloaded)';
        default:
          return 'a referenced object (device, pin path, id or BTF type) does not exist';
      }
    case 'EEXIST':
      return c === 'BPF_OBJ_PIN'
        ? 'something is already pinned at this path'
        : c === 'BPF_LINK_CREATE'
          ? 'a program is already attached there'
          : 'the element already exists (BPF_NOEXIST was given)';
    case 'ENOSPC':
      return isLoad ? 'the log buffer is too small' : 'the map is full';
    case 'EBADF':
      return 'a file descriptor argument is not open';
    case 'ENODEV':
      return 'no such network device';
    case 'ENOMEM':
      return 'the kernel could not allocate memory (or, before Linux 5.11, RLIMIT_MEMLOCK is too low)';
    case 'EOPNOTSUPP':
    case 'ENOTSUPP':
      return 'this kernel does not support the operation for this object type';
    case 'EFAULT':
      return 'the kernel could not read or write a buffer passed to it';
    case 'EBUSY':
      return 'the object is in use (e.g. a map frozen or mmap-ed for writing, or an attachment point taken)';
    default:
      return 'the kernel refused the request';
  }
}
