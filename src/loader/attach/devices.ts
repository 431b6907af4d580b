// Device names and network namespaces as the user gives them, checked before anything is changed.
import { readFileSync } from 'node:fs';
import { BpfError } from '../../errors.js';
import { inNetns } from '../netlink/index.js';

/** include/uapi/linux/if.h: IFNAMSIZ, the NUL included. */
export const IFNAMSIZ = 16;

/** A device name or netns name the user typed that cannot be valid. */
export class InvalidNameError extends BpfError {}

/** The kernel's dev_valid_name: 1-15 bytes, not "." or "..", no '/', ':' or whitespace. */
export function checkDeviceName(name: string): string {
  const bytes = new TextEncoder().encode(name).length;
  if (bytes === 0 || bytes >= IFNAMSIZ || name === '.' || name === '..' || /[/:\s]/.test(name)) {
    throw new InvalidNameError(`'${name}' is not a valid network device name`, {
      hint: `device names are 1-${IFNAMSIZ - 1} characters without '/', ':' or spaces (see \`ip link\`)`,
    });
  }
  return name;
}

/** `ip netns` names live as files under /var/run/netns; the name must not escape that directory. */
export function netnsPath(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name === '.' || name === '..') {
    throw new InvalidNameError(`'${name}' is not a valid network namespace name`, { hint: 'give a name from `ip netns list`' });
  }
  return `/var/run/netns/${name}`;
}

/** The devices of the caller's namespace or of `netns`, from /proc/thread-self/net/dev (per-thread). */
export function listDevices(netns?: string): string[] {
  const read = () => readFileSync('/proc/thread-self/net/dev', 'utf8');
  const text = netns === undefined ? read() : inNetns(netns, read);
  return text.split('\n').slice(2).map((l) => l.split(':')[0]!.trim()).filter((n) => n.length > 0);
}
