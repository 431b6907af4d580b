// The number of CPUs the kernel may bring up: per-CPU maps hold one value slot for each of them.
import { readFileSync } from 'node:fs';

let possible: number | undefined;

/** CPUs the kernel may bring up, from /sys/devices/system/cpu/possible ("0-3,6"); fixed at boot, so read once. */
export function possibleCpus(): number {
  if (possible !== undefined) return possible;
  const text = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
  possible = text.split(',').reduce((n, part) => {
    const [a, b] = part.split('-').map(Number);
    return n + (b === undefined ? 1 : b - a! + 1);
  }, 0);
  return possible;
}
