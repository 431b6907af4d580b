// The few libc entry points the loader calls, bound through koffi on first use so that merely
// importing the loader works on machines without libc (or without koffi's native module): koffi
// itself is required lazily, and its absence becomes a typed error at the first call that needs it.
import { createRequire } from 'node:module';
import type { LibraryHandle } from 'koffi';
import { NativeBindingError } from './errors.js';

type Koffi = typeof import('koffi');

let koffiModule: Koffi | undefined;

/** koffi, required on first use. */
export function ffi(): Koffi {
  if (koffiModule) return koffiModule;
  try {
    koffiModule = createRequire(import.meta.url)('koffi') as Koffi;
  } catch (e) {
    // Node appends the require stack on further lines: the first says what is missing.
    const reason = (e as Error).message.split('\n')[0];
    throw new NativeBindingError(`cannot load koffi, the native binding the loader calls bpf() through: ${reason}`, {
      hint: 'the loader needs Linux and a working koffi install (npm install koffi); the offline commands do not',
      cause: e,
    });
  }
  return koffiModule;
}

/** musl names its libc after the architecture as its own build calls it, not as Node does. */
const MUSL_ARCH: Partial<Record<NodeJS.Architecture, string>> = {
  x64: 'x86_64', arm64: 'aarch64', arm: 'armhf', ia32: 'x86', riscv64: 'riscv64', s390x: 's390x', ppc64: 'ppc64le',
};

/** The C library's sonames to try: glibc's, then musl's (Alpine). */
const LIBC_NAMES = ['libc.so.6', `libc.musl-${MUSL_ARCH[process.arch] ?? process.arch}.so.1`];

export interface Libc {
  /** syscall(2) with the (int, void *, unsigned int) arguments of bpf(2). */
  bpf(nr: number, cmd: number, attr: Uint8Array, size: number): number;
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Uint8Array, len: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, len: number): number;
  sendto(fd: number, buf: Uint8Array, len: number, flags: number, addr: Uint8Array, addrLen: number): number;
  recv(fd: number, buf: Uint8Array, len: number, flags: number): number;
  setns(fd: number, nstype: number): number;
}

let bound: Libc | undefined;
let library: LibraryHandle | undefined;

/** The C library as koffi loaded it, for the modules that bind further entry points of their own. */
export function libcLibrary(): LibraryHandle {
  if (library) return library;
  const koffi = ffi();
  const failures: string[] = [];
  for (const name of LIBC_NAMES) {
    try {
      library = koffi.load(name);
      return library;
    } catch (e) {
      failures.push(`${name}: ${(e as Error).message}`);
    }
  }
  throw new NativeBindingError(`cannot load the C library through koffi (${failures.join('; ')})`, {
    hint: 'loading programs into the kernel needs Linux with glibc or musl',
  });
}

export function libc(): Libc {
  if (bound) return bound;
  const lib = libcLibrary();
  const syscall = lib.func('long syscall(long, ...)');
  const socket = lib.func('int socket(int, int, int)');
  const bind = lib.func('int bind(int, const void *, uint32_t)');
  const setsockopt = lib.func('int setsockopt(int, int, int, const void *, uint32_t)');
  const sendto = lib.func('intptr_t sendto(int, const void *, size_t, int, const void *, uint32_t)');
  const recv = lib.func('intptr_t recv(int, _Out_ void *, size_t, int)');
  const setns = lib.func('int setns(int, int)');
  bound = {
    bpf: (nr, cmd, attr, size) => Number(syscall(nr, 'int', cmd, 'void *', attr, 'unsigned int', size)),
    socket: (d, t, p) => socket(d, t, p) as number,
    bind: (fd, addr, len) => bind(fd, addr, len) as number,
    setsockopt: (fd, level, name, value, len) => setsockopt(fd, level, name, value, len) as number,
    sendto: (fd, buf, len, flags, addr, addrLen) => Number(sendto(fd, buf, len, flags, addr, addrLen)),
    recv: (fd, buf, len, flags) => Number(recv(fd, buf, len, flags)),
    setns: (fd, nstype) => setns(fd, nstype) as number,
  };
  return bound;
}

/** errno as left by the last libc call made through koffi on this thread. */
export function lastErrno(): number {
  return ffi().errno();
}

/**
 * A zeroed byte buffer whose address stays fixed, for pointers stored inside bpf_attr. ArrayBuffer
 * backing stores live outside the moving V8 heap, unlike the inline storage of small typed arrays.
 */
export function pinned(size: number): Uint8Array {
  return new Uint8Array(new ArrayBuffer(size));
}

/** A pinned copy of `src`. */
export function pinnedCopy(src: Uint8Array): Uint8Array {
  const out = pinned(src.byteLength);
  out.set(src);
  return out;
}

/** The address of a pinned buffer, as stored in a __u64 pointer field (0 for an empty buffer). */
export function addressOf(buf: Uint8Array | undefined): bigint {
  if (!buf || buf.byteLength === 0) return 0n;
  return BigInt(ffi().address(buf));
}
