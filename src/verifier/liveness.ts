// Which registers each instruction may still read before writing them, by a backward data-flow pass
// over each function. State pruning compares only these (the kernel learns the same thing during
// its walk, as REG_LIVE_READ marks); a register dead at an instruction cannot make two states differ.
import {
  BPF_ALU, BPF_ALU64, BPF_ATOMIC, BPF_CALL, BPF_CMPXCHG, BPF_END, BPF_EXIT, BPF_FETCH, BPF_JA, BPF_JMP,
  BPF_JMP32, BPF_LD, BPF_LDX, BPF_MOV, BPF_NEG, BPF_ST, BPF_STX, BPF_X, branchDistance,
} from '../isa/index.js';
import type { LinkedInsn, LinkedProgram } from './program.js';

const R0_5 = 0b111111;
const ARGS = 0b111110;

interface UseDef {
  use: number;
  def: number;
}

function useDef(i: LinkedInsn): UseDef {
  const bit = (r: number): number => 1 << r;
  const op = i.opcode & 0xf0;
  const x = (i.opcode & BPF_X) !== 0;
  switch (i.cls) {
    case BPF_ALU:
    case BPF_ALU64:
      if (op === BPF_MOV) return { use: x ? bit(i.src) : 0, def: bit(i.dst) };
      if (op === BPF_NEG || op === BPF_END) return { use: bit(i.dst), def: bit(i.dst) };
      return { use: bit(i.dst) | (x ? bit(i.src) : 0), def: bit(i.dst) };
    case BPF_LDX:
      return { use: bit(i.src), def: bit(i.dst) };
    case BPF_ST:
      return { use: bit(i.dst), def: 0 };
    case BPF_STX:
      if ((i.opcode & 0xe0) === BPF_ATOMIC) {
        if (i.imm === BPF_CMPXCHG) return { use: bit(i.dst) | bit(i.src) | 1, def: 1 };
        return { use: bit(i.dst) | bit(i.src), def: (i.imm & BPF_FETCH) !== 0 ? bit(i.src) : 0 };
      }
      return { use: bit(i.dst) | bit(i.src), def: 0 };
    case BPF_LD:
      if (i.slots === 2) return { use: 0, def: bit(i.dst) };
      return { use: bit(6) | ((i.opcode & 0xe0) === 0x40 ? bit(i.src) : 0), def: R0_5 };
    case BPF_JMP:
    case BPF_JMP32:
      if (i.cls === BPF_JMP && op === BPF_CALL) return { use: ARGS, def: R0_5 };
      if (i.cls === BPF_JMP && op === BPF_EXIT) return { use: 1, def: 0 };
      if (op === BPF_JA) return { use: 0, def: 0 };
      return { use: bit(i.dst) | (x ? bit(i.src) : 0), def: 0 };
    default:
      return { use: 0, def: 0 };
  }
}

function successors(p: LinkedProgram, i: LinkedInsn, end: number): number[] {
  const op = i.opcode & 0xf0;
  const next = i.index + i.slots;
  if (i.cls === BPF_JMP && op === BPF_EXIT) return [];
  if ((i.cls === BPF_JMP || i.cls === BPF_JMP32) && op !== BPF_CALL) {
    const d = branchDistance(i);
    if (d === undefined) return next < end ? [next] : [];
    const to = i.index + 1 + d;
    const uncond = op === BPF_JA;
    return (uncond ? [to] : [to, next]).filter((t) => t < end && p.insns[t] !== undefined);
  }
  return next < end ? [next] : [];
}

/** live[insn]: bit r set when register r may be read before it is written, from insn on. */
export function computeLiveness(p: LinkedProgram): Uint16Array {
  const live = new Uint16Array(p.slotCount);
  for (const f of p.functions) {
    const order: LinkedInsn[] = [];
    for (let s = f.start; s < f.end; s++) {
      const i = p.insns[s];
      if (i) order.push(i);
    }
    const ud = order.map(useDef);
    const succ = order.map((i) => successors(p, i, f.end));
    let changed = true;
    while (changed) {
      changed = false;
      for (let k = order.length - 1; k >= 0; k--) {
        let out = 0;
        for (const t of succ[k]!) out |= live[t]!;
        const value = (ud[k]!.use | (out & ~ud[k]!.def)) & 0x7ff;
        if (value !== live[order[k]!.index]) {
          live[order[k]!.index] = value;
          changed = true;
        }
      }
    }
  }
  return live;
}
