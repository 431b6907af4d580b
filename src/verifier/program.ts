// One entry program as BPF_PROG_LOAD receives it, for the offline verifier, laid out as the loader
// lays it out (src/object/layout.ts), so that instruction indexes are the kernel's. Relocated
// ld_imm64s say what they load (a map, a place in global data, a function); calls say where they
// go. Nothing is patched: the verifier reads these annotations instead of fds.
import {
  BPF_CALL, BPF_INSN_SIZE, BPF_JMP, BPF_LD_IMM64, BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC, BPF_PSEUDO_KFUNC_CALL,
  BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_IDX, BPF_PSEUDO_MAP_IDX_VALUE, BPF_PSEUDO_MAP_VALUE, decodeProgram, type Insn,
} from '../isa/index.js';
import { BTF_FUNC_GLOBAL } from '../btf/index.js';
import {
  layoutProgram, ObjectError, type BpfObject, type BpfProgram, type GlobalDataSection, type MapDefinition, type ProgramLayout,
  type ProgramRelocation,
} from '../object/index.js';
import { VerifierInputError } from './errors.js';

/** What a relocated (or pseudo) ld_imm64 loads. */
export type LdTarget =
  | { kind: 'map'; map: MapDefinition }
  | { kind: 'map-value'; data: GlobalDataSection; off: number }
  | { kind: 'func'; target: number }
  /** An extern (`__kconfig`, `__ksym`) or a map the object does not define: the kernel's value is unknown here. */
  | { kind: 'unknown'; what: string };

export interface LinkedInsn extends Insn {
  /** Index of the function (in `LinkedProgram.functions`) the instruction belongs to. */
  fn: number;
  ld?: LdTarget;
  /** bpf-to-bpf call: the first instruction of the callee. */
  callTarget?: number;
  /** Call of a kernel function (kfunc) or of something no loader resolves: its name. */
  kfunc?: string;
}

export interface LinkedFunction {
  program: BpfProgram;
  start: number;
  end: number;
  /** Global (BTF_FUNC_GLOBAL) functions are verified on their own, against their BTF prototype. */
  global: boolean;
}

export interface SourceLine {
  file: string;
  line: number;
  text: string;
}

export interface LinkedProgram {
  entry: BpfProgram;
  /** Instructions by slot index; the second slot of an ld_imm64 is undefined. */
  insns: (LinkedInsn | undefined)[];
  slotCount: number;
  functions: LinkedFunction[];
  /** Sub-program starts (the kernel's subprog_info), sorted, 0 first. */
  subprogStarts: number[];
  /** The C source line of each slot, from line_info (the last record at or before it). */
  source(insn: number): SourceLine | undefined;
  /** The function an instruction belongs to. */
  functionAt(insn: number): LinkedFunction;
}

function isGlobalFunc(obj: BpfObject, fn: BpfProgram): boolean {
  const info = fn.funcInfo.find((f) => f.insn === 0);
  if (!info || !obj.btf) return false;
  try {
    const t = obj.btf.type(info.typeId);
    return t.kind === 'FUNC' && t.linkage === BTF_FUNC_GLOBAL && fn.kind === 'subprog';
  } catch {
    return false;
  }
}

function mapFor(obj: BpfObject, reloc: ProgramRelocation): MapDefinition | undefined {
  const defs = obj.maps.filter((m) => m.section === reloc.targetSection);
  return defs.find((m) => m.name === reloc.target) ?? defs.find((m) => m.style !== 'btf' && m.offset === reloc.symbol.value);
}

const decoded = new WeakMap<BpfProgram, Insn[]>();

/** A function's instructions, decoded once however many entry programs call it. */
function decodeFunction(obj: BpfObject, fn: BpfProgram): Insn[] {
  let insns = decoded.get(fn);
  if (!insns) {
    insns = decodeProgram(fn.bytes, obj.littleEndian, fn.section).insns;
    decoded.set(fn, insns);
  }
  return insns;
}

/** Lays out `entry` with its callees and decodes the result. */
export function linkProgram(obj: BpfObject, entry: BpfProgram): LinkedProgram {
  let plan: ProgramLayout;
  try {
    plan = layoutProgram(obj, entry);
  } catch (e) {
    if (e instanceof ObjectError) throw new VerifierInputError(e.message);
    throw e;
  }
  const units = plan.units;
  const total = plan.total;

  const insns: (LinkedInsn | undefined)[] = [];
  const functions: LinkedFunction[] = [];
  const starts = new Set<number>([0]);
  for (let u = 0; u < units.length; u++) {
    const { fn, start } = units[u]!;
    functions.push({ program: fn, start, end: start + fn.insnCount, global: u > 0 && isGlobalFunc(obj, fn) });
    if (u > 0) starts.add(start);
    const relocs = new Map(fn.relocations.map((r) => [r.insn, r]));
    for (const i of decodeFunction(obj, fn)) {
      const at = start + i.index;
      const li: LinkedInsn = { ...i, index: at, offset: at * BPF_INSN_SIZE, fn: u };
      const reloc = relocs.get(i.index);
      if (i.opcode === (BPF_JMP | BPF_CALL)) {
        if (reloc?.kind === 'kfunc' || reloc?.kind === 'extern-call' || i.src === BPF_PSEUDO_KFUNC_CALL) {
          li.kfunc = reloc?.target ?? `kfunc#${i.imm}`;
        } else if (reloc?.kind === 'call' || (!reloc && i.src === BPF_PSEUDO_CALL)) {
          li.callTarget = plan.target(fn, i.index)!;
          li.src = BPF_PSEUDO_CALL;
          starts.add(li.callTarget);
        }
      } else if (i.opcode === BPF_LD_IMM64) {
        if (reloc) {
          switch (reloc.kind) {
            case 'map': {
              const map = mapFor(obj, reloc);
              li.ld = map ? { kind: 'map', map } : { kind: 'unknown', what: `map '${reloc.target}'` };
              li.src = BPF_PSEUDO_MAP_FD;
              break;
            }
            case 'global-data': {
              const data = obj.globals.find((g) => g.section === (reloc.targetSection ?? reloc.target));
              li.ld = data ? { kind: 'map-value', data, off: reloc.dataOffset ?? 0 } : { kind: 'unknown', what: reloc.target };
              li.src = BPF_PSEUDO_MAP_VALUE;
              break;
            }
            case 'subprog-address': {
              const target = plan.target(fn, i.index)!;
              li.ld = { kind: 'func', target };
              li.src = BPF_PSEUDO_FUNC;
              starts.add(target);
              break;
            }
            default:
              li.ld = { kind: 'unknown', what: reloc.target };
          }
        } else if (i.src === BPF_PSEUDO_MAP_FD || i.src === BPF_PSEUDO_MAP_VALUE || i.src === BPF_PSEUDO_MAP_IDX || i.src === BPF_PSEUDO_MAP_IDX_VALUE) {
          li.ld = { kind: 'unknown', what: `map fd ${i.imm}` };
        } else if (i.src === BPF_PSEUDO_FUNC) {
          const target = at + i.imm + 1;
          li.ld = { kind: 'func', target };
          starts.add(target);
        }
      }
      insns[at] = li;
    }
  }

  const lineBySlot: (SourceLine | undefined)[] = new Array(total);
  for (const { fn, start } of units) {
    const recs = obj.btfExt?.lineInfo.find((s) => s.section === fn.section)?.records ?? [];
    for (const r of recs) {
      if (r.insnOff < fn.offset || r.insnOff >= fn.offset + fn.size) continue;
      lineBySlot[start + (r.insnOff - fn.offset) / BPF_INSN_SIZE] = { file: r.fileName, line: r.lineNum, text: r.line.trim() };
    }
  }
  let last: SourceLine | undefined;
  let lastFn = -1;
  for (let s = 0; s < total; s++) {
    const f = functions.findIndex((x) => s >= x.start && s < x.end);
    if (f !== lastFn) {
      last = undefined;
      lastFn = f;
    }
    if (lineBySlot[s]) last = lineBySlot[s];
    else lineBySlot[s] = last;
  }
  const fnOf = new Int32Array(total);
  functions.forEach((f, n) => fnOf.fill(n, f.start, f.end));
  return {
    entry, insns, slotCount: total, functions,
    subprogStarts: [...starts].filter((s) => s >= 0 && s < total).sort((a, b) => a - b),
    source: (insn) => lineBySlot[insn],
    functionAt: (insn) => functions[fnOf[insn] ?? 0]!,
  };
}
