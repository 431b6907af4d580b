// Where each function of one entry program goes in the instruction stream BPF_PROG_LOAD takes: the
// entry function first, then every function it calls or takes the address of, appended in the
// order libbpf appends them (each function's instructions scanned in order, functions in the order
// they were placed). The loader links by this layout and the offline verifier counts instructions
// by it, so both name an instruction by the index the kernel gives it.
import { BPF_CALL, BPF_DW, BPF_IMM, BPF_INSN_SIZE, BPF_JMP, BPF_LD, BPF_PSEUDO_CALL } from '../isa/index.js';
import { SHN_UNDEF, STT_SECTION } from '../elf/index.js';
import { ObjectError } from './errors.js';
import type { BpfObject, BpfProgram } from './model.js';

const LD_IMM64 = BPF_LD | BPF_IMM | BPF_DW;
const CALL = BPF_JMP | BPF_CALL;

export interface LayoutUnit {
  fn: BpfProgram;
  /** First instruction of the function in the linked program. */
  start: number;
}

export interface ProgramLayout {
  units: LayoutUnit[];
  /** Instructions in all. */
  total: number;
  /** For a bpf-to-bpf call or a function address at instruction `insn` of `fn`: the instruction it targets in the linked program. */
  target(fn: BpfProgram, insn: number): number | undefined;
}

/** Lays out `entry` and what it reaches; ObjectError when a call or address leads into no function. */
export function layoutProgram(obj: BpfObject, entry: BpfProgram): ProgramLayout {
  const units: LayoutUnit[] = [{ fn: entry, start: 0 }];
  let total = entry.insnCount;
  const targets = new Map<BpfProgram, Map<number, number>>();
  const place = (sectionIndex: number, byteOff: number, from: BpfProgram, insn: number): number => {
    const fn = obj.programs.find((p) => p.sectionIndex === sectionIndex && byteOff >= p.offset && byteOff < p.offset + p.size);
    if (!fn || (byteOff - fn.offset) % BPF_INSN_SIZE !== 0) {
      throw new ObjectError(`program '${from.name}': instruction ${insn} refers to code at byte ${byteOff} of section ${obj.elf.sections[sectionIndex]?.name ?? sectionIndex}, which is in no function`);
    }
    let unit = units.find((u) => u.fn === fn);
    if (!unit) {
      unit = { fn, start: total };
      units.push(unit);
      total += fn.insnCount;
    }
    return unit.start + (byteOff - fn.offset) / BPF_INSN_SIZE;
  };
  for (let u = 0; u < units.length; u++) {
    const { fn } = units[u]!;
    const view = new DataView(fn.bytes.buffer, fn.bytes.byteOffset, fn.bytes.byteLength);
    const le = obj.littleEndian;
    const relocs = new Map(fn.relocations.map((r) => [r.insn, r]));
    const found = new Map<number, number>();
    for (let i = 0; i < fn.insnCount; i++) {
      const at = i * BPF_INSN_SIZE;
      const op = view.getUint8(at);
      const regs = view.getUint8(at + 1);
      const src = le ? regs >> 4 : regs & 0xf;
      const imm = view.getInt32(at + 4, le);
      const reloc = relocs.get(i);
      if (op === CALL) {
        if (reloc?.kind === 'call' || (!reloc && src === BPF_PSEUDO_CALL)) {
          const sym = reloc?.symbol;
          found.set(i, reloc && sym && sym.shndx !== SHN_UNDEF
            ? place(sym.shndx, (sym.type === STT_SECTION ? 0 : sym.value) + (imm + 1) * BPF_INSN_SIZE, fn, i)
            : place(fn.sectionIndex, fn.offset + (i + imm + 1) * BPF_INSN_SIZE, fn, i));
        }
        continue;
      }
      if (op !== LD_IMM64) continue;
      if (reloc?.kind === 'subprog-address') {
        const sym = reloc.symbol;
        found.set(i, place(sym.shndx, (sym.type === STT_SECTION ? 0 : sym.value) + imm, fn, i));
      }
      i++;
    }
    targets.set(fn, found);
  }
  return { units, total, target: (fn, insn) => targets.get(fn)?.get(insn) };
}
