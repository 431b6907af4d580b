// perf_event_open(2), ioctl(2), mmap(2), epoll and eventfd through koffi, bound on first use like
// the bpf() wrapper in libc.ts. Descriptors come back as owned Fds; mappings as Mapping objects
// that unmap exactly once.
import { readSync, writeSync } from 'node:fs';
import { BpfError } from '../../errors.js';
import {
  EFD, EPOLL, EPOLL_EVENT, MMAP, PERF_ATTR_FLAG, PERF_EVENT_ATTR, PERF_EVENT_ATTR_FLAGS_OFFSET, SYS_perf_event_open,
} from '../abi/perf-event.js';
import { StructView } from '../abi/layout.js';
import { errnoName } from '../../uapi/index.js';
import { SyscallError } from './errors.js';
import { faults } from './faults.js';
import { Fd, type FdLike, fdNumber } from './fd.js';
import { ffi, lastErrno, libcLibrary, pinned } from './libc.js';

interface PerfLibc {
  syscall: (...args: unknown[]) => unknown;
  ioctl: (...args: unknown[]) => unknown;
  mmap: (addr: null, len: number, prot: number, flags: number, fd: number, off: number) => bigint;
  munmap: (addr: bigint, len: number) => number;
  getpagesize: () => number;
  epollCreate1: (flags: number) => number;
  epollCtl: (epfd: number, op: number, fd: number, ev: Uint8Array | null) => number;
  epollWait: ((epfd: number, events: bigint, max: number, timeout: number) => number) & {
    async: (epfd: number, events: bigint, max: number, timeout: number, cb: (err: unknown, n: number) => void) => void;
  };
  eventfd: (initval: number, flags: number) => number;
  mount: (source: string, target: string, fstype: string, flags: number, data: null) => number;
}

let bound: PerfLibc | undefined;

function perfLibc(): PerfLibc {
  if (bound) return bound;
  const lib = libcLibrary();
  bound = {
    syscall: lib.func('long syscall(long, ...)'),
    ioctl: lib.func('int ioctl(int, unsigned long, ...)'),
    mmap: lib.func('void *mmap(void *, size_t, int, int, int, int64_t)') as unknown as PerfLibc['mmap'],
    munmap: lib.func('int munmap(void *, size_t)') as unknown as PerfLibc['munmap'],
    getpagesize: lib.func('int getpagesize(void)') as unknown as PerfLibc['getpagesize'],
    epollCreate1: lib.func('int epoll_create1(int)') as unknown as PerfLibc['epollCreate1'],
    epollCtl: lib.func('int epoll_ctl(int, int, int, void *)') as unknown as PerfLibc['epollCtl'],
    epollWait: lib.func('int epoll_wait(int, void *, int, int)') as unknown as PerfLibc['epollWait'],
    eventfd: lib.func('int eventfd(unsigned int, int)') as unknown as PerfLibc['eventfd'],
    mount: lib.func('int mount(const char *, const char *, const char *, unsigned long, const void *)') as unknown as PerfLibc['mount'],
  };
  return bound;
}

function check(call: string, r: number, explain: (errno: number) => string): number {
  if (r >= 0) return r;
  const errno = lastErrno();
  throw new SyscallError(call, errno, explain(errno));
}

/**
 * Makes a call that creates or changes something in the kernel through the test fault hook
 * (faults.ts), which counts it as `kind` and may fail it: its result, or SyscallError.
 */
function hooked(kind: string, call: () => number, explain: (errno: number) => string): number {
  if (faults) {
    const injected = faults.enter(kind);
    if (injected) throw new SyscallError(kind, injected, explain(injected));
  }
  const r = call();
  const errno = r < 0 ? lastErrno() : 0;
  faults?.leave(r < 0 ? -errno : r);
  if (r < 0) throw new SyscallError(kind, errno, explain(errno));
  return r;
}

/** What a failed perf_event_open most likely means. */
export function explainPerfErrno(errno: number): string {
  switch (errnoName(errno)) {
    case 'EACCES':
    case 'EPERM':
      return 'the caller may not open this event: tracing needs root or CAP_PERFMON (and a low enough kernel.perf_event_paranoid)';
    case 'ENOENT':
      return 'no such event: the type or config is unknown to this kernel (a missing tracepoint, PMU or probe target)';
    case 'ENODEV':
      return 'the event cannot be opened on this CPU (offline) or the PMU does not support it';
    case 'EINVAL':
      return 'the kernel rejected the event attributes (an unknown field, bad config or offset, or a probe target it cannot place)';
    case 'EOPNOTSUPP':
      return 'the PMU does not support this kind of event or sampling';
    case 'EMFILE':
      return 'too many open files';
    case 'EBUSY':
      return 'the event is in exclusive use';
    default:
      return 'the kernel refused the event';
  }
}

/** perf_event_open(attr, pid, cpu, group_fd, flags) with the bytes of a struct perf_event_attr. */
export function perfEventOpen(attr: StructView<keyof typeof PERF_EVENT_ATTR.fields>, pid: number, cpu: number, groupFd: number, flags: number): Fd {
  const nr = SYS_perf_event_open[process.arch];
  if (nr === undefined) throw new BpfError(`the perf_event_open() syscall number is not known for architecture ${process.arch}`);
  const r = hooked('perf_event_open', () => Number(perfLibc().syscall(nr, 'void *', attr.bytes, 'int', pid, 'int', cpu, 'int', groupFd, 'unsigned long', flags)), explainPerfErrno);
  return new Fd(r, 'perf event');
}

/** A zeroed perf_event_attr with its size field set. */
export function perfEventAttr(): StructView<keyof typeof PERF_EVENT_ATTR.fields> {
  return new StructView(PERF_EVENT_ATTR, pinned(PERF_EVENT_ATTR.size)).set('size', PERF_EVENT_ATTR.size);
}

/** Sets bits of perf_event_attr's bitfield word (disabled, watermark, freq, ...). */
export function setAttrFlags(attr: StructView<keyof typeof PERF_EVENT_ATTR.fields>, ...flags: (keyof typeof PERF_ATTR_FLAG)[]): void {
  const dv = new DataView(attr.bytes.buffer, attr.bytes.byteOffset, attr.bytes.byteLength);
  let word = dv.getBigUint64(PERF_EVENT_ATTR_FLAGS_OFFSET, true);
  for (const f of flags) word |= 1n << BigInt(PERF_ATTR_FLAG[f]);
  dv.setBigUint64(PERF_EVENT_ATTR_FLAGS_OFFSET, word, true);
}

/** ioctl(fd, request, arg) with an integer argument; `what` (the request's name) is its fault hook kind. */
export function ioctl(fd: FdLike, request: number, arg: number, what: string, explain: (errno: number) => string): void {
  hooked(what, () => Number(perfLibc().ioctl(fdNumber(fd), request, 'unsigned long', arg)), explain);
}

/** mount(2) of a pseudo file system such as tracefs (no flags, no options). */
export function mountFs(fstype: string, target: string): void {
  hooked('mount', () => perfLibc().mount(fstype, target, fstype, 0, null), (errno) =>
    errnoName(errno) === 'EPERM' ? `mounting ${fstype} at ${target} needs root (CAP_SYS_ADMIN)` : `could not mount ${fstype} at ${target}`);
}

/** The system page size. */
export function pageSize(): number {
  return perfLibc().getpagesize();
}

const MAP_FAILED = 0xffffffffffffffffn;

/** A shared mapping of a descriptor, viewed in place through koffi. */
export class Mapping {
  #addr: bigint;
  /** The mapped bytes; reading after unmap() throws, since the memory is gone. */
  #bytes: Uint8Array;

  private constructor(addr: bigint, readonly length: number) {
    this.#addr = addr;
    this.#bytes = new Uint8Array(ffi().view(addr, length));
  }

  /** mmap(NULL, length, prot, MAP_SHARED, fd, offset). */
  static map(fd: FdLike, length: number, prot: number, offset: number, what: string): Mapping {
    const explain = (errno: number) => `could not map ${length} bytes of the ${what}${errnoName(errno) === 'EPERM' ? ' (the locked-memory limit of perf buffers, kernel.perf_event_mlock_kb, may be exhausted)' : ''}`;
    if (faults) {
      const injected = faults.enter('mmap');
      if (injected) throw new SyscallError('mmap', injected, explain(injected));
    }
    const addr = BigInt.asUintN(64, BigInt(perfLibc().mmap(null, length, prot, MMAP.MAP_SHARED, fdNumber(fd), offset)));
    const failed = addr === MAP_FAILED || addr === 0n;
    const errno = failed ? lastErrno() : 0;
    faults?.leave(failed ? -errno : 0);
    if (failed) throw new SyscallError('mmap', errno, explain(errno));
    return new Mapping(addr, length);
  }

  get bytes(): Uint8Array {
    if (this.#addr === 0n) throw new BpfError('mapping used after unmap()');
    return this.#bytes;
  }

  get mapped(): boolean {
    return this.#addr !== 0n;
  }

  unmap(): void {
    if (this.#addr === 0n) return;
    const addr = this.#addr;
    this.#addr = 0n;
    this.#bytes = new Uint8Array(0);
    check('munmap', perfLibc().munmap(addr, this.length), () => 'the kernel refused to unmap the ring');
  }
}

/**
 * An epoll set whose waits run on one of koffi's worker threads (epoll_wait's `async` form), so the
 * Node event loop never blocks and nothing polls on a timer. An eventfd in the set wakes a pending
 * wait when the set is closed, and every open set is woken when the process exits, because Node
 * waits for koffi's worker threads before it ends.
 */
export class EpollSet {
  readonly #epfd: Fd;
  readonly #wake: Fd;
  readonly #events: bigint;
  readonly #max: number;
  #waiting = false;
  #closing = false;

  /** The `data` value reported for the set's own wake-up descriptor. */
  static readonly WAKE = 0xffffffffn;

  constructor(maxEvents = 64) {
    const libc = perfLibc();
    this.#epfd = new Fd(check('epoll_create1', libc.epollCreate1(EPOLL.EPOLL_CLOEXEC), () => 'could not create an epoll set'), 'epoll');
    let wake: Fd | undefined;
    try {
      wake = new Fd(check('eventfd', libc.eventfd(0, EFD.EFD_CLOEXEC | EFD.EFD_NONBLOCK), () => 'could not create an eventfd'), 'eventfd');
      this.add(wake, EpollSet.WAKE);
    } catch (e) {
      this.#epfd.close();
      wake?.close();
      throw e;
    }
    this.#wake = wake;
    this.#max = maxEvents;
    this.#events = ffi().alloc('uint8_t', EPOLL_EVENT.size * maxEvents) as bigint;
    live.add(this);
    ensureExitHook();
  }

  /** Watches `fd` for readability; `data` comes back from wait() when it is ready. */
  add(fd: FdLike, data: bigint, events: number = EPOLL.EPOLLIN): void {
    const ev = new StructView(EPOLL_EVENT, pinned(EPOLL_EVENT.size)).set('events', events).set('data', data);
    check('epoll_ctl', perfLibc().epollCtl(this.#epfd.value, EPOLL.EPOLL_CTL_ADD, fdNumber(fd), ev.bytes), () => 'could not watch the descriptor');
  }

  /** Resolves with the `data` of each ready descriptor (without WAKE) once one is ready or the set is closing. */
  wait(): Promise<bigint[]> {
    if (this.#closing) return Promise.resolve([]);
    if (this.#waiting) return Promise.reject(new BpfError('an epoll set takes one wait at a time'));
    this.#waiting = true;
    return new Promise((resolve, reject) => {
      perfLibc().epollWait.async(this.#epfd.value, this.#events, this.#max, -1, (err, n) => {
        this.#waiting = false;
        if (err) return reject(err instanceof Error ? err : new BpfError(String(err)));
        if (this.#closing) {
          this.#release();
          return resolve([]);
        }
        // The worker thread's errno is not this thread's: a failure is repeated without waiting to learn it.
        if (n < 0) {
          const again = perfLibc().epollWait(this.#epfd.value, this.#events, this.#max, 0);
          if (again < 0 && errnoName(lastErrno()) !== 'EINTR') {
            const errno = lastErrno();
            return reject(new SyscallError('epoll_wait', errno, 'waiting for the rings failed'));
          }
          n = Math.max(again, 0);
        }
        resolve(this.#ready(n));
      });
    });
  }

  #ready(n: number): bigint[] {
    const raw = new Uint8Array(ffi().view(this.#events, EPOLL_EVENT.size * this.#max));
    const out: bigint[] = [];
    for (let i = 0; i < n; i++) {
      const data = new StructView(EPOLL_EVENT, raw, i * EPOLL_EVENT.size).u64('data');
      if (data === EpollSet.WAKE) drainEventfd(this.#wake);
      else out.push(data);
    }
    return out;
  }

  /** Wakes the pending wait (it resolves with nothing) and frees the set once no wait runs. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    live.delete(this);
    if (this.#waiting) signalEventfd(this.#wake);
    else this.#release();
  }

  #release(): void {
    if (this.#epfd.closed) return;
    this.#epfd.close();
    this.#wake.close();
    ffi().free(this.#events);
  }

  /** Wakes a pending wait without closing, from the exit hook. */
  wake(): void {
    if (this.#waiting) signalEventfd(this.#wake);
  }
}

const ONE = new Uint8Array(new BigUint64Array([1n]).buffer);

function signalEventfd(fd: Fd): void {
  if (!fd.closed) writeSync(fd.value, ONE);
}

function drainEventfd(fd: Fd): void {
  try {
    readSync(fd.value, new Uint8Array(8));
  } catch {
    // EAGAIN: already drained by an earlier wake-up.
  }
}

const live = new Set<EpollSet>();
let exitHooked = false;

function ensureExitHook(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const set of live) set.wake();
  });
}
