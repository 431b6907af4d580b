// Comparing the instructions the kernel holds for two loads of the same object.
import { BPF_DW, BPF_IMM, BPF_LD, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE } from '../../src/isa/opcodes.js';

/** xlated instructions with the map ids of map loads zeroed: two loads create different maps. */
export function maskMapIds(insns: Uint8Array): Uint8Array {
  const out = insns.slice();
  for (let at = 0; at + 16 <= out.length; at += 8) {
    if (out[at] !== (BPF_LD | BPF_IMM | BPF_DW)) continue;
    const src = out[at + 1]! >> 4;
    if (src === BPF_PSEUDO_MAP_FD || src === BPF_PSEUDO_MAP_VALUE) out.fill(0, at + 4, at + 8);
    at += 8;
  }
  return out;
}
