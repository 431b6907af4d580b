// The helper functions the BPF conformance suite (Alan-Jowett/bpf_conformance) expects a runtime to
// provide as ids 0-5, with the semantics of the suite's reference plugin.
import type { HelperFn, Vm } from './vm.js';

/** Helper id whose zero result ends the program (the suite's "unwind" test helper). */
export const CONFORMANCE_UNWIND_HELPER = 5;

/** r0 = the low bytes of r1..r5 packed as r1:r2:r3:r4:r5, most significant first. */
function gatherBytes(vm: Vm): number {
  let v = 0;
  for (let i = 1; i <= 5; i++) v = v * 256 + (vm.argU32(i) & 0xff);
  return v;
}

/** XOR r2 bytes at r1 with 42, in place. */
function memfrob(vm: Vm): number {
  const bytes = vm.view(vm.arg(1), Number(vm.arg(2)), true);
  for (let i = 0; i < bytes.length; i++) bytes[i] = bytes[i]! ^ 42;
  return 0;
}

function noOp(): number {
  return 0;
}

/** Integer square root of r1, taken (as the reference does) through a double. */
function sqrti(vm: Vm): number {
  return Math.floor(Math.sqrt(Number(vm.arg(1))));
}

/** strcmp of the NUL-terminated strings at r1 and r2: difference of the first differing bytes, or 0. */
function strcmpExt(vm: Vm): number {
  const a = vm.cstring(vm.arg(1));
  const b = vm.cstring(vm.arg(2));
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length === b.length ? 0 : a.length < b.length ? -b[n]! : a[n]!;
}

/** r0 = r1; when that is 0 the program ends at once with r0 = 0. */
function unwind(vm: Vm): bigint {
  const v = vm.arg(1);
  if (v === 0n) vm.exit(0);
  return v;
}

export function conformanceHelpers(): Map<number, HelperFn> {
  return new Map<number, HelperFn>([
    [0, gatherBytes],
    [1, memfrob],
    [2, noOp],
    [3, sqrti],
    [4, strcmpExt],
    [CONFORMANCE_UNWIND_HELPER, unwind],
  ]);
}
