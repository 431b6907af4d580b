// `bpfts verify`: doctor's checks plus the structural part of the kernel verifier, statically:
// jumps inside the program and never into an ld_imm64, no fall-through past the end, no
// unreachable code, known opcodes, calls that resolve, helpers the program type may call, stack
// within 512 bytes (per frame and along call chains), no reads of uninitialised registers, no
// writes to r10, no division by a zero immediate. Messages use the kernel's words (verifier.c).
// What it does not do: track values, pointers and bounds; the kernel may still reject a program
// verify calls ok ("kernel stricter"), but never for the reasons above.
import {
  decodeProgram, formatInsn, branchDistance, BPF_ALU, BPF_ALU64, BPF_ATOMIC, BPF_CALL, BPF_CMPXCHG,
  BPF_DIV, BPF_END, BPF_EXIT, BPF_FETCH, BPF_IND, BPF_INSN_SIZE, BPF_JA, BPF_JMP, BPF_JMP32, BPF_K,
  BPF_LD, BPF_LDX, BPF_MOD, BPF_MOV, BPF_NEG, BPF_PSEUDO_CALL, BPF_PSEUDO_KFUNC_CALL, BPF_REG_FP,
  BPF_ST, BPF_STX, BPF_X, MAX_BPF_STACK, BPF_JCOND, BPF_ADD, BPF_SUB, type Insn,
} from '../isa/index.js';
import { matchSection, type BpfObject, type BpfProgram } from '../object/index.js';
import { BPF_FUNC_NAMES, bpf_prog_type, enumName } from '../uapi/index.js';
import { doctor, type DoctorOptions, type Report } from './doctor.js';
import { helperAllowed, helperByID, HELPERS_BY_PROG_TYPE, VOID_HELPERS } from './helpers.js';
import { inferIntent } from './intent.js';

export interface SourceRef {
  file: string;
  line: number;
  text: string;
}

export interface VerifyFinding {
  severity: 'error' | 'warning';
  code: string;
  /** The kernel verifier's wording where it has one. */
  message: string;
  /** The function the instruction is in (the program itself or a sub-program it calls). */
  function: string;
  insn: number;
  disasm: string;
  source?: SourceRef;
}

export interface ProgramVerdict {
  name: string;
  section: string;
  /** The program type the checks assumed (from the section name, else from the inferred attach point). */
  progType?: string;
  /** Sub-programs reached through bpf-to-bpf calls, verified with it. */
  callees: string[];
  /** Deepest stack use of the deepest call chain, in bytes. */
  stackDepth: number;
  ok: boolean;
  findings: VerifyFinding[];
}

export interface VerifyReport {
  doctor: Report;
  programs: ProgramVerdict[];
  /** No doctor error and no program error. */
  ok: boolean;
}

const INTENT_TYPES: Record<string, string> = {
  'tc-ingress': 'BPF_PROG_TYPE_SCHED_CLS', 'tc-egress': 'BPF_PROG_TYPE_SCHED_CLS', 'tcx-ingress': 'BPF_PROG_TYPE_SCHED_CLS',
  'tcx-egress': 'BPF_PROG_TYPE_SCHED_CLS', xdp: 'BPF_PROG_TYPE_XDP', 'socket-filter': 'BPF_PROG_TYPE_SOCKET_FILTER',
  'cgroup-skb-ingress': 'BPF_PROG_TYPE_CGROUP_SKB', 'cgroup-skb-egress': 'BPF_PROG_TYPE_CGROUP_SKB',
};

/** Registers an instruction reads and writes (bit i = ri), and whether it is a call. */
interface Effect {
  reads: number;
  writes: number;
  call: 'none' | 'helper' | 'bpf' | 'kfunc';
}

const bit = (r: number): number => 1 << r;
const ARGS = bit(1) | bit(2) | bit(3) | bit(4) | bit(5);

function effect(i: Insn): Effect {
  const op = i.opcode & 0xf0;
  const x = (i.opcode & BPF_X) !== 0;
  const none: Effect = { reads: 0, writes: 0, call: 'none' };
  switch (i.cls) {
    case BPF_ALU: case BPF_ALU64:
      if (op === BPF_MOV) return { reads: x ? bit(i.src) : 0, writes: bit(i.dst), call: 'none' };
      if (op === BPF_NEG || op === BPF_END) return { reads: bit(i.dst), writes: bit(i.dst), call: 'none' };
      return { reads: bit(i.dst) | (x ? bit(i.src) : 0), writes: bit(i.dst), call: 'none' };
    case BPF_LDX:
      return { reads: bit(i.src), writes: bit(i.dst), call: 'none' };
    case BPF_ST:
      return { reads: bit(i.dst), writes: 0, call: 'none' };
    case BPF_STX:
      if ((i.opcode & 0xe0) === BPF_ATOMIC) {
        if (i.imm === BPF_CMPXCHG) return { reads: bit(i.dst) | bit(i.src) | bit(0), writes: bit(0), call: 'none' };
        return { reads: bit(i.dst) | bit(i.src), writes: (i.imm & BPF_FETCH) !== 0 ? bit(i.src) : 0, call: 'none' };
      }
      return { reads: bit(i.dst) | bit(i.src), writes: 0, call: 'none' };
    case BPF_LD:
      if (i.slots === 2) return { reads: 0, writes: bit(i.dst), call: 'none' };
      // Legacy packet loads read the context from r6 and clobber r1-r5 like a call.
      return { reads: bit(6) | ((i.opcode & 0xe0) === BPF_IND ? bit(i.src) : 0), writes: bit(0), call: 'none' };
    case BPF_JMP: case BPF_JMP32:
      if (op === BPF_JA || op === BPF_JCOND) return none;
      if (op === BPF_EXIT) return { reads: bit(0), writes: 0, call: 'none' };
      if (op === BPF_CALL) {
        const call = i.src === BPF_PSEUDO_CALL ? 'bpf' : i.src === BPF_PSEUDO_KFUNC_CALL ? 'kfunc' : 'helper';
        const voidHelper = call === 'helper' && VOID_HELPERS.has(helperByID(i.imm) ?? '');
        return { reads: 0, writes: voidHelper ? 0 : bit(0), call };
      }
      return { reads: bit(i.dst) | (x ? bit(i.src) : 0), writes: 0, call: 'none' };
    default:
      return none;
  }
}

interface FunctionResult {
  findings: Omit<VerifyFinding, 'function' | 'source'>[];
  /** Deepest r10 offset, as a positive byte count. */
  stack: number;
  /** Names of functions called through relocations or pc-relative calls. */
  callees: string[];
}

function isUncondJump(i: Insn): boolean {
  return (i.cls === BPF_JMP && (i.opcode & 0xf0) === BPF_JA) || i.opcode === (BPF_JMP32 | BPF_JA);
}

/** Structural checks of one function's code. */
function checkFunction(obj: BpfObject, fn: BpfProgram, progType: string | undefined, entry: boolean): FunctionResult {
  const { insns, errors } = decodeProgram(fn.bytes, obj.littleEndian, fn.section);
  const findings: FunctionResult['findings'] = [];
  const bySlot = new Map<number, Insn>(insns.map((i) => [i.index, i]));
  const slotCount = fn.insnCount;
  const add = (i: Insn | undefined, index: number, code: string, message: string, severity: 'error' | 'warning' = 'error'): void => {
    findings.push({ severity, code, message, insn: index, disasm: i ? formatInsn(i) : '' });
  };
  for (const e of errors) {
    const i = bySlot.get(e.index);
    const detail = e.message.replace(/^.*?\(offset 0x[0-9a-f]+\): /, '');
    const code = e.code === 'unknown-opcode' ? 'unknown-opcode' : e.code.includes('ld-imm64') ? 'bad-ld-imm64' : 'bad-insn';
    // The kernel's words: "unknown opcode %02x", "invalid bpf_ld_imm64 insn".
    const msg = e.code === 'unknown-opcode' ? `unknown opcode ${(i?.opcode ?? 0).toString(16).padStart(2, '0')}`
      : e.code.includes('ld-imm64') ? `invalid bpf_ld_imm64 insn (${detail})` : `invalid insn: ${detail}`;
    add(i, e.index, code, msg);
  }
  const callees = new Set<string>();
  const relocAt = new Map(fn.relocations.map((r) => [r.insn, r]));
  let stack = 0;
  const fpCopies = new Map<number, number>();

  // Successors, jumps, calls, division, r10 writes, stack offsets.
  const succ = new Map<number, number[]>();
  for (const i of insns) {
    const next = i.index + i.slots;
    const op = i.opcode & 0xf0;
    const isJmp = i.cls === BPF_JMP || i.cls === BPF_JMP32;
    let targets: number[] = [];
    if (isJmp && op === BPF_EXIT && i.cls === BPF_JMP) targets = [];
    else if (isJmp && op === BPF_CALL && i.cls === BPF_JMP) {
      targets = [next];
      const reloc = relocAt.get(i.index);
      if (i.src === BPF_PSEUDO_CALL) {
        if (reloc) callees.add(reloc.target);
        else {
          // A pc-relative call: the kernel starts a sub-program wherever it lands inside the section.
          const at = fn.offset + (i.index + i.imm + 1) * BPF_INSN_SIZE;
          const section = obj.elf.sections[fn.sectionIndex];
          if (at < 0 || !section || at >= section.size) add(i, i.index, 'bad-call', `call to invalid destination (insn ${i.index} calls insn ${i.index + i.imm + 1})`);
          const callee = obj.programs.find((p) => p.sectionIndex === fn.sectionIndex && p.offset === at);
          if (callee) callees.add(callee.name);
        }
      } else if (i.src === BPF_PSEUDO_KFUNC_CALL) {
        if (!reloc) add(i, i.index, 'bad-call', 'kernel function call without a relocation to a __ksym declaration');
      } else if (i.src === 0 && !reloc) {
        // A relocated call names a kfunc or an undefined function (doctor's findings), not a helper id.
        if (i.imm <= 0 || i.imm >= BPF_FUNC_NAMES.length) {
          add(i, i.index, 'unknown-helper', `invalid func unknown#${i.imm}`);
        } else if (progType && helperAllowed(progType, i.imm) === false) {
          add(i, i.index, 'helper-not-allowed', `program of this type cannot use helper bpf_${helperByID(i.imm)}#${i.imm}`);
        }
      } else if (i.src !== 0) {
        add(i, i.index, 'bad-call', `unknown call src_reg ${i.src}`);
      }
    } else if (isJmp && op !== BPF_CALL && op !== BPF_EXIT) {
      const dist = branchDistance(i);
      if (dist !== undefined) {
        const to = i.index + 1 + dist;
        if (to < 0 || to >= slotCount) add(i, i.index, 'jump-out-of-range', `jump out of range from insn ${i.index} to ${to}`);
        else if (!bySlot.has(to)) add(i, i.index, 'jump-into-ld-imm64', `jump into the middle of ldimm64 insn ${to - 1}`);
        else targets = isUncondJump(i) ? [to] : [to, next];
        if (targets.length === 0 && !isUncondJump(i)) targets = [next];
      }
    } else targets = [next];
    succ.set(i.index, targets.filter((t) => t < slotCount));
    if ((i.cls === BPF_ALU || i.cls === BPF_ALU64) && (op === BPF_DIV || op === BPF_MOD) && (i.opcode & BPF_X) === BPF_K && i.imm === 0) {
      add(i, i.index, 'div-by-zero', 'div by zero');
    }
    const eff = effect(i);
    if ((eff.writes & bit(BPF_REG_FP)) !== 0 && eff.call === 'none' && i.cls !== BPF_LD) add(i, i.index, 'fp-write', 'frame pointer is read only');
    // Stack use: r10-relative accesses, and copies of r10 moved by constants.
    const base = i.cls === BPF_LDX ? i.src : i.cls === BPF_ST || i.cls === BPF_STX ? i.dst : -1;
    if (base === BPF_REG_FP) {
      stack = Math.max(stack, -i.off);
      if (-i.off > MAX_BPF_STACK || i.off >= 0) {
        const size = [4, 2, 1, 8][(i.opcode & 0x18) >> 3]!;
        add(i, i.index, 'stack-out-of-range', `invalid ${i.cls === BPF_LDX ? 'read from' : 'write to'} stack R10 off=${i.off} size=${size}`);
      }
    }
    else if (base >= 0 && fpCopies.has(base)) stack = Math.max(stack, -(fpCopies.get(base)! + i.off));
    if (i.opcode === (BPF_ALU64 | BPF_MOV | BPF_X) && i.src === BPF_REG_FP) fpCopies.set(i.dst, 0);
    else if (i.cls === BPF_ALU64 && (op === BPF_ADD || op === BPF_SUB) && (i.opcode & BPF_X) === 0 && fpCopies.has(i.dst)) {
      const off = fpCopies.get(i.dst)! + (op === BPF_ADD ? i.imm : -i.imm);
      fpCopies.set(i.dst, off);
      stack = Math.max(stack, -off);
    } else if (eff.writes !== 0) for (let r = 0; r <= 10; r++) if ((eff.writes & bit(r)) !== 0) fpCopies.delete(r);
  }
  const last = insns[insns.length - 1];
  if (last && !(last.opcode === (BPF_JMP | BPF_EXIT) || isUncondJump(last))) {
    add(last, last.index, 'fall-through', 'last insn is not an exit or jmp');
  }
  if (stack > MAX_BPF_STACK && !findings.some((f) => f.code === 'stack-out-of-range')) {
    add(undefined, 0, 'stack-too-large', `invalid stack off=-${stack}: the frame uses ${stack} bytes, more than ${MAX_BPF_STACK}`);
  }

  // Must-initialised registers: a forward dataflow over the CFG; merge is intersection.
  const init = new Map<number, number>();
  const start = bit(1) | bit(BPF_REG_FP) | (entry ? 0 : ARGS);
  init.set(0, start);
  const work = [0];
  const reported = new Set<number>();
  while (work.length > 0) {
    const at = work.pop()!;
    const i = bySlot.get(at);
    if (!i) continue;
    const state = init.get(at)!;
    const eff = effect(i);
    const missing = eff.reads & ~state;
    if (missing !== 0 && !reported.has(at)) {
      reported.add(at);
      const r = Math.log2(missing & -missing);
      add(i, at, 'uninit-read', `R${r} !read_ok`);
    }
    // Calls and legacy packet loads leave r1-r5 undefined (the call's r0, when it has one, is in writes).
    const clobbers = eff.call !== 'none' || (i.cls === BPF_LD && i.slots === 1);
    const after = clobbers ? (state & ~ARGS & ~bit(0)) | eff.writes : state | eff.writes;
    for (const t of succ.get(at) ?? []) {
      const prev = init.get(t);
      const merged = prev === undefined ? after : prev & after;
      if (merged !== prev) {
        init.set(t, merged);
        work.push(t);
      }
    }
  }
  for (const i of insns) {
    if (!init.has(i.index)) {
      add(i, i.index, 'unreachable', `unreachable insn ${i.index}`);
      break;
    }
  }
  return { findings, stack, callees: [...callees] };
}

/** The last line_info record at or before each instruction, per section. */
function sourceLookup(obj: BpfObject): (section: string, byteOffset: number) => SourceRef | undefined {
  const bySection = new Map<string, { insnOff: number; fileName: string; lineNum: number; line: string }[]>();
  for (const s of obj.btfExt?.lineInfo ?? []) bySection.set(s.section, [...s.records].sort((a, b) => a.insnOff - b.insnOff));
  return (section, off) => {
    const recs = bySection.get(section);
    if (!recs) return undefined;
    let found;
    for (const r of recs) {
      if (r.insnOff > off) break;
      found = r;
    }
    return found ? { file: found.fileName, line: found.lineNum, text: found.line.trim() } : undefined;
  };
}

function progTypeOf(obj: BpfObject, p: BpfProgram): string | undefined {
  const m = matchSection(p.section, { libbpf: 'upstream' });
  if (m) return enumName(bpf_prog_type, m.progType);
  const intent = inferIntent(p, obj.littleEndian);
  return intent ? INTENT_TYPES[intent.intent] : undefined;
}

/** Doctor's report plus static verification of every entry program and the sub-programs it calls. */
export function verify(obj: BpfObject, options: DoctorOptions = {}): VerifyReport {
  const report = doctor(obj, options);
  const source = sourceLookup(obj);
  const cache = new Map<BpfProgram, FunctionResult>();
  const byName = new Map(obj.programs.map((p) => [p.name, p]));
  const programs: ProgramVerdict[] = [];
  for (const p of obj.programs.filter((x) => x.kind === 'entry')) {
    const progType = progTypeOf(obj, p);
    const findings: VerifyFinding[] = [];
    const seen = new Set<BpfProgram>();
    const callees: string[] = [];
    // Depth-first over the call graph: stack adds up along each chain.
    const visit = (fn: BpfProgram, depth: number, chain: number): number => {
      let result = cache.get(fn);
      if (!result || fn === p) {
        result = checkFunction(obj, fn, progType, fn === p);
        cache.set(fn, result);
      }
      if (!seen.has(fn)) {
        seen.add(fn);
        if (fn !== p) callees.push(fn.name);
        for (const f of result.findings) {
          const src = source(fn.section, fn.offset + f.insn * BPF_INSN_SIZE);
          findings.push({ ...f, function: fn.name, ...(src ? { source: src } : {}) });
        }
      }
      const frame = Math.ceil(result.stack / 8) * 8;
      let deepest = chain + frame;
      if (depth > 8) return deepest;
      for (const name of result.callees) {
        const callee = byName.get(name);
        if (callee && callee !== fn) deepest = Math.max(deepest, visit(callee, depth + 1, chain + frame));
      }
      return deepest;
    };
    const stackDepth = visit(p, 0, 0);
    if (stackDepth > MAX_BPF_STACK && callees.length > 0) {
      findings.push({ severity: 'error', code: 'stack-too-large', function: p.name, insn: 0, disasm: '', message: `combined stack size of ${callees.length + 1} calls is ${stackDepth}. Too large` });
    }
    if (progType && !HELPERS_BY_PROG_TYPE[progType]) {
      findings.push({ severity: 'warning', code: 'helpers-unchecked', function: p.name, insn: 0, disasm: '', message: `bpfts has no helper table for ${progType}: helper calls were not checked against it` });
    }
    const ok = !findings.some((f) => f.severity === 'error');
    programs.push({ name: p.name, section: p.section, ...(progType ? { progType } : {}), callees, stackDepth, ok, findings });
  }
  return { doctor: report, programs, ok: report.ok && programs.every((p) => p.ok) };
}
