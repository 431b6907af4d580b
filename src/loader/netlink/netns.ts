// Running a synchronous step inside another network namespace. setns(2) moves only the calling
// thread, and nothing else runs on Node's main thread until the step returns, so switching there
// and back is invisible to the rest of the process. Sockets and devices looked up inside stay
// bound to that namespace after the switch back.
import { closeSync, openSync } from 'node:fs';
import { BpfError } from '../../errors.js';
import { CLONE_NEWNET } from '../abi/netlink.js';
import { SyscallError } from '../sys/errors.js';
import { lastErrno, libc } from '../sys/libc.js';

function openNs(path: string): number {
  try {
    return openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new BpfError(`cannot open network namespace ${path}: ${code}`, {
      hint: 'named namespaces live at /var/run/netns/NAME (see `ip netns list`)',
      cause: e,
    });
  }
}

/** Runs `fn` with the current thread in the network namespace at `path`, then switches back. */
export function inNetns<T>(path: string, fn: () => T): T {
  const original = openNs('/proc/thread-self/ns/net');
  try {
    const target = openNs(path);
    try {
      if (libc().setns(target, CLONE_NEWNET) < 0) {
        const errno = lastErrno();
        throw new SyscallError('setns', errno, `cannot enter network namespace ${path}`, {
          hint: 'entering a network namespace needs CAP_SYS_ADMIN',
        });
      }
    } finally {
      closeSync(target);
    }
    try {
      return fn();
    } finally {
      if (libc().setns(original, CLONE_NEWNET) < 0) {
        // Continuing in the wrong namespace would silently act on the wrong devices.
        throw new SyscallError('setns', lastErrno(), 'cannot return to the original network namespace');
      }
    }
  } finally {
    closeSync(original);
  }
}
