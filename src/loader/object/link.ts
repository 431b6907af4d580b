// Turning one entry program of an object into the instruction stream BPF_PROG_LOAD takes: the
// `.text` (or same-section) functions it calls or takes the address of are appended after it, as
// libbpf does, calls and function addresses are re-pointed at their new places, map and global
// data references get their descriptors, and func_info/line_info are rebased onto the new layout.
import {
  BPF_CALL, BPF_DW, BPF_IMM, BPF_INSN_SIZE, BPF_JMP, BPF_LD, BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC,
  BPF_PSEUDO_KFUNC_CALL, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE,
} from '../../isa/index.js';
import { layoutProgram, ObjectError, type BpfObject, type BpfProgram, type LayoutUnit, type ProgramLayout, type ProgramRelocation } from '../../object/index.js';
import { LoadError } from './errors.js';
import type { ExtInfo, RawBtfExt } from './ext-info.js';

const LD_IMM64 = BPF_LD | BPF_IMM | BPF_DW;
const CALL = BPF_JMP | BPF_CALL;


/** A source line of the linked program (from .BTF.ext line_info), for annotating verifier logs. */
export interface SourceLine {
  insn: number;
  file: string;
  line: string;
  lineNum: number;
}

export interface LinkedProgram {
  /** Instructions in little-endian (host) order. */
  insns: Uint8Array;
  layout: LayoutUnit[];
  funcInfo?: { recSize: number; data: Uint8Array };
  lineInfo?: { recSize: number; data: Uint8Array };
  lines: SourceLine[];
}

export interface LinkContext {
  obj: BpfObject;
  ext: RawBtfExt;
  /** The fd of the map a `map` relocation names; throws when there is none. */
  mapFd(reloc: ProgramRelocation, program: BpfProgram): number;
  /** The fd of the global data map of a section. */
  dataFd(section: string, reloc: ProgramRelocation, program: BpfProgram): number;
  /** Patches CO-RE relocations of one function's instructions (copied, little-endian). */
  core?(code: Uint8Array, fn: BpfProgram): void;
  /** What an ld_imm64 of an extern (`__kconfig`, `__ksym`) becomes. */
  externLoad?(reloc: ProgramRelocation, program: BpfProgram): { src: number; imm: number; nextImm: number };
  /** The BTF id (imm) and fd_array slot (off) of a called kfunc. */
  kfuncCall?(reloc: ProgramRelocation, program: BpfProgram): { imm: number; off: number };
}

function setSrc(code: Uint8Array, at: number, src: number): void {
  code[at + 1] = (code[at + 1]! & 0x0f) | (src << 4);
}

/** Links `entry` (an entry program of `ctx.obj`). */
export function linkProgram(entry: BpfProgram, ctx: LinkContext): LinkedProgram {
  const { obj } = ctx;
  let plan: ProgramLayout;
  try {
    plan = layoutProgram(obj, entry);
  } catch (e) {
    if (e instanceof ObjectError) throw new LoadError(e.message, { program: entry.name, section: entry.section });
    throw e;
  }
  const layout: LayoutUnit[] = plan.units;
  const total = plan.total;
  const codes: Uint8Array[] = [];
  const placed = (fn: BpfProgram, insn: number): number => plan.target(fn, insn)!;

  for (let u = 0; u < layout.length; u++) {
    const { fn, start } = layout[u]!;
    const code = new Uint8Array(fn.bytes);
    ctx.core?.(code, fn);
    const view = new DataView(code.buffer);
    const relocs = new Map(fn.relocations.map((r) => [r.insn, r]));
    for (let i = 0; i < fn.insnCount; i++) {
      const at = i * BPF_INSN_SIZE;
      const op = code[at]!;
      const src = code[at + 1]! >> 4;
      const reloc = relocs.get(i);
      const unsupported = (what: string, hint?: string): never => {
        throw new LoadError(`program '${fn.name}' (section ${fn.section}), instruction ${i}: ${what}`, {
          program: entry.name, section: fn.section, ...(hint ? { hint } : {}),
        });
      };
      if (op === CALL) {
        if (reloc?.kind === 'extern-call') {
          unsupported(`calls '${reloc.target}', which is defined nowhere: neither in the object nor, by BTF, as a kernel function`, 'declare kernel functions with __ksym (extern ... __ksym;) and build with -g');
        }
        if (reloc?.kind === 'kfunc') {
          if (!ctx.kfuncCall) unsupported(`calls the kernel function '${reloc.target}' (a kfunc), which this link cannot resolve`);
          const k = ctx.kfuncCall!(reloc, fn);
          setSrc(code, at, BPF_PSEUDO_KFUNC_CALL);
          view.setInt16(at + 2, k.off, true);
          view.setInt32(at + 4, k.imm, true);
          continue;
        }
        if (reloc?.kind === 'call' || (!reloc && src === BPF_PSEUDO_CALL)) {
          const target = placed(fn, i);
          setSrc(code, at, BPF_PSEUDO_CALL);
          view.setInt32(at + 4, target - (start + i) - 1, true);
        }
        continue;
      }
      if (op !== LD_IMM64) continue;
      if (reloc) {
        switch (reloc.kind) {
          case 'map':
            setSrc(code, at, BPF_PSEUDO_MAP_FD);
            view.setInt32(at + 4, ctx.mapFd(reloc, fn), true);
            view.setInt32(at + 12, 0, true);
            break;
          case 'global-data':
            setSrc(code, at, BPF_PSEUDO_MAP_VALUE);
            view.setInt32(at + 4, ctx.dataFd(reloc.targetSection ?? reloc.target, reloc, fn), true);
            view.setInt32(at + 12, reloc.dataOffset ?? 0, true);
            break;
          case 'subprog-address': {
            const target = placed(fn, i);
            setSrc(code, at, BPF_PSEUDO_FUNC);
            view.setInt32(at + 4, target - (start + i) - 1, true);
            break;
          }
          case 'extern': {
            if (!ctx.externLoad) unsupported(`refers to the extern '${reloc.target}' (__kconfig/__ksym), which this link cannot resolve`);
            const e = ctx.externLoad!(reloc, fn);
            setSrc(code, at, e.src);
            view.setInt32(at + 4, e.imm, true);
            view.setInt32(at + 12, e.nextImm, true);
            break;
          }
          default:
            unsupported(`has a relocation against '${reloc.target}' that bpfts does not understand`);
        }
      }
      i++;
    }
    codes.push(code);
  }

  const insns = new Uint8Array(total * BPF_INSN_SIZE);
  layout.forEach((u, i) => insns.set(codes[i]!, u.start * BPF_INSN_SIZE));
  const linked: LinkedProgram = { insns, layout, lines: sourceLines(obj, layout) };
  const funcInfo = rebase(ctx.ext.funcInfo, layout);
  const lineInfo = rebase(ctx.ext.lineInfo, layout);
  if (funcInfo) linked.funcInfo = funcInfo;
  if (lineInfo) linked.lineInfo = lineInfo;
  return linked;
}

/** The records of each unit's function, with insn_off turned into an instruction index in the linked program. */
function rebase(info: ExtInfo | undefined, layout: readonly LayoutUnit[]): { recSize: number; data: Uint8Array } | undefined {
  if (!info) return undefined;
  const out: Uint8Array[] = [];
  for (const { fn, start } of layout) {
    for (const r of info.sections.get(fn.section) ?? []) {
      if (r.insnOff < fn.offset || r.insnOff >= fn.offset + fn.size) continue;
      const rec = new Uint8Array(r.bytes);
      new DataView(rec.buffer).setUint32(0, start + (r.insnOff - fn.offset) / BPF_INSN_SIZE, true);
      out.push(rec);
    }
  }
  if (out.length === 0) return undefined;
  const data = new Uint8Array(out.length * info.recSize);
  out.forEach((r, i) => data.set(r, i * info.recSize));
  return { recSize: info.recSize, data };
}

function sourceLines(obj: BpfObject, layout: readonly LayoutUnit[]): SourceLine[] {
  const lines: SourceLine[] = [];
  for (const { fn, start } of layout) {
    for (const s of obj.btfExt?.lineInfo ?? []) {
      if (s.section !== fn.section) continue;
      for (const r of s.records) {
        if (r.insnOff < fn.offset || r.insnOff >= fn.offset + fn.size) continue;
        lines.push({ insn: start + (r.insnOff - fn.offset) / BPF_INSN_SIZE, file: r.fileName, line: r.line, lineNum: r.lineNum });
      }
    }
  }
  return lines.sort((a, b) => a.insn - b.insn);
}
