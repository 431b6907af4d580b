// `bpfts verify`: doctor's checks plus the structural part of the kernel verifier, statically:
// jumps inside the program and never into an ld_imm64, no fall-through past the end, no
// unreachable code, known opcodes, calls that resolve, helpers the program type may call, stack
// within 512 bytes (per frame and along call chains), no reads of uninitialised registers, no
// writes to r10, no division by a zero immediate. Messages use the kernel's words (verifier.c).
// Like the kernel, it walks the paths constants leave feasible (src/doctor/reg-init.ts), and checks
// the kernel makes as it walks (helpers, r10-relative stack, r10 writes, division) apply only on
// them. What it does not do: track pointers, bounds and memory; the kernel may still reject a
// program verify calls ok ("kernel stricter"), but never for the reasons above.
import {
  decodeProgram, formatInsn, branchDistance, BPF_ALU, BPF_ALU64, BPF_ATOMIC, BPF_CALL, BPF_CMPXCHG,
  BPF_DIV, BPF_EXIT, BPF_FETCH, BPF_INSN_SIZE, BPF_JA, BPF_JMP, BPF_JMP32, BPF_K, BPF_LD, BPF_LDX,
  BPF_MOD, BPF_MOV, BPF_PSEUDO_CALL, BPF_PSEUDO_KFUNC_CALL, BPF_REG_FP, BPF_ST, BPF_STX, BPF_X,
  MAX_BPF_STACK, MAX_CALL_FRAMES, BPF_ADD, BPF_SUB, type Insn,
} from '../isa/index.js';
import { matchSection, progTypeByName, type BpfObject, type BpfProgram } from '../object/index.js';
import { bpf_prog_type, BPF_FUNC_tail_call, enumName } from '../uapi/index.js';
import { UsageError } from '../errors.js';
import { doctor, type DoctorOptions, type Report } from './doctor.js';
import {
  GPL_COMPATIBLE_LICENSES, GPL_ONLY_HELPERS, helperAllowed, helperByID, HELPER_FUNC_MAX_ID, HELPERS_BY_PROG_TYPE, VOID_HELPERS,
} from './helpers.js';
import { linkProgram, verifyProgram, VerifierInputError, type LinkedProgram } from '../verifier/index.js';
import { uninitReads } from './reg-init.js';
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
  /** For the verifier's verdict: the registers and stack the failing instruction was reached with. */
  state?: string;
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
  /** In the order the kernel meets them: the first error is the kernel's verdict. */
  findings: VerifyFinding[];
  /** Instructions the walk processed (the kernel's "processed N insns"), when it ran. */
  processed?: number;
  /** With `log`: the walk's per-instruction states. */
  log?: string[];
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

const bit = (r: number): number => 1 << r;

/** Registers an instruction writes (bit i = ri), calls aside: those write r0 and clobber r1-r5. */
function writesOf(i: Insn): number {
  const op = i.opcode & 0xf0;
  switch (i.cls) {
    case BPF_ALU: case BPF_ALU64: case BPF_LDX:
      return bit(i.dst);
    case BPF_STX:
      if ((i.opcode & 0xe0) !== BPF_ATOMIC) return 0;
      if (i.imm === BPF_CMPXCHG) return bit(0);
      return (i.imm & BPF_FETCH) !== 0 ? bit(i.src) : 0;
    case BPF_LD:
      // Legacy packet loads write r0 and clobber r1-r5 like a call.
      return i.slots === 2 ? bit(i.dst) : bit(0) | bit(1) | bit(2) | bit(3) | bit(4) | bit(5);
    case BPF_JMP:
      return op === BPF_CALL ? bit(0) | bit(1) | bit(2) | bit(3) | bit(4) | bit(5) : 0;
    default:
      return 0;
  }
}

interface FunctionResult {
  findings: Omit<VerifyFinding, 'function' | 'source'>[];
  /** Deepest r10 offset, as a positive byte count. */
  stack: number;
  /** Names of functions called through relocations or pc-relative calls. */
  callees: string[];
  /** The function calls bpf_tail_call. */
  tailCall: boolean;
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
  // Checks do_check makes as it walks: they apply only to instructions a feasible path reaches.
  const deferred: FunctionResult['findings'] = [];
  const addWalked = (i: Insn, code: string, message: string): void => {
    deferred.push({ severity: 'error', code, message, insn: i.index, disasm: formatInsn(i) });
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
        if (i.imm <= 0 || i.imm >= HELPER_FUNC_MAX_ID) {
          addWalked(i, 'unknown-helper', `invalid func unknown#${i.imm}`);
        } else if (progType && helperAllowed(progType, i.imm) === false) {
          addWalked(i, 'helper-not-allowed', `program of this type cannot use helper bpf_${helperByID(i.imm)}#${i.imm}`);
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
      addWalked(i, 'div-by-zero', 'div by zero');
    }
    const writes = writesOf(i);
    if ((writes & bit(BPF_REG_FP)) !== 0) addWalked(i, 'fp-write', 'frame pointer is read only');
    // Stack use: r10-relative accesses, and copies of r10 moved by constants.
    const base = i.cls === BPF_LDX ? i.src : i.cls === BPF_ST || i.cls === BPF_STX ? i.dst : -1;
    if (base === BPF_REG_FP) {
      stack = Math.max(stack, -i.off);
      if (-i.off > MAX_BPF_STACK || i.off >= 0) {
        const size = [4, 2, 1, 8][(i.opcode & 0x18) >> 3]!;
        addWalked(i, 'stack-out-of-range', `invalid ${i.cls === BPF_LDX ? 'read from' : 'write to'} stack R10 off=${i.off} size=${size}`);
      }
    }
    else if (base >= 0 && fpCopies.has(base)) stack = Math.max(stack, -(fpCopies.get(base)! + i.off));
    if (i.opcode === (BPF_ALU64 | BPF_MOV | BPF_X) && i.src === BPF_REG_FP) fpCopies.set(i.dst, 0);
    else if (i.cls === BPF_ALU64 && (op === BPF_ADD || op === BPF_SUB) && (i.opcode & BPF_X) === 0 && fpCopies.has(i.dst)) {
      const off = fpCopies.get(i.dst)! + (op === BPF_ADD ? i.imm : -i.imm);
      fpCopies.set(i.dst, off);
      stack = Math.max(stack, -off);
    } else if (writes !== 0) for (let r = 0; r <= 10; r++) if ((writes & bit(r)) !== 0) fpCopies.delete(r);
  }
  const last = insns[insns.length - 1];
  if (last && !(last.opcode === (BPF_JMP | BPF_EXIT) || isUncondJump(last))) {
    add(last, last.index, 'fall-through', 'last insn is not an exit or jmp');
  }
  if (stack > MAX_BPF_STACK && !findings.some((f) => f.code === 'stack-out-of-range') && !deferred.some((f) => f.code === 'stack-out-of-range')) {
    add(undefined, 0, 'stack-too-large', `invalid stack off=-${stack}: the frame uses ${stack} bytes, more than ${MAX_BPF_STACK}`);
  }

  // Reads of unwritten registers along the paths constants leave feasible; checks the kernel makes
  // only on instructions it walks count only there.
  const voidHelper = (id: number): boolean => VOID_HELPERS.has(helperByID(id) ?? '');
  let walk = uninitReads(insns, { entry, voidHelper });
  const incomplete = walk.incomplete;
  if (incomplete) walk = uninitReads(insns, { entry, voidHelper, constants: false });
  for (const r of walk.reads) {
    add(bySlot.get(r.insn), r.insn, 'uninit-read', `R${r.reg} !read_ok${r.always ? '' : ' (on some paths)'}`);
  }
  for (const d of deferred) if (incomplete || walk.reached.has(d.insn)) findings.push(d);
  // check_cfg's reachability: every instruction some edge leads to, whatever the values.
  const cfgReached = new Set<number>([0]);
  const queue = [0];
  while (queue.length > 0) {
    for (const t of succ.get(queue.pop()!) ?? []) {
      if (!cfgReached.has(t)) {
        cfgReached.add(t);
        queue.push(t);
      }
    }
  }
  for (const i of insns) {
    if (!cfgReached.has(i.index)) {
      add(i, i.index, 'unreachable', `unreachable insn ${i.index}`);
      break;
    }
  }
  findings.sort((a, b) => a.insn - b.insn);
  const tailCall = insns.some((i) => i.opcode === (BPF_JMP | BPF_CALL) && i.src === 0 && i.imm === BPF_FUNC_tail_call && !relocAt.has(i.index));
  return { findings, stack, callees: [...callees], tailCall };
}

/** The last line_info record at or before each instruction, per section. */
function sourceLookup(obj: BpfObject): (section: string, byteOffset: number) => SourceRef | undefined {
  const bySection = new Map<string, { insnOff: number; fileName: string; lineNum: number; line: string }[]>();
  for (const s of obj.btfExt?.lineInfo ?? []) bySection.set(s.section, [...s.records].sort((a, b) => a.insnOff - b.insnOff));
  return (section, off) => {
    const recs = bySection.get(section);
    if (!recs) return undefined;
    let lo = 0;
    let hi = recs.length - 1;
    let found;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (recs[mid]!.insnOff <= off) {
        found = recs[mid];
        lo = mid + 1;
      } else hi = mid - 1;
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

export interface VerifyOptions extends DoctorOptions {
  /** Check every program as this type, as `bpfts load --type` loads it: a libbpf section name or a bpf_prog_type name. */
  type?: string;
  /** Keep each program's per-instruction state log. */
  log?: boolean;
  /** Processed-instruction limit per program (default the kernel's BPF_COMPLEXITY_LIMIT_INSNS, 1,000,000). */
  limit?: number;
}

function forcedType(text: string): string {
  const choice = progTypeByName(text);
  if (!choice) {
    throw new UsageError(`unknown program type '${text}'`, {
      hint: 'use a libbpf section name (classifier, xdp, socket, tracepoint, ...) or a program type (sched_cls, cgroup_skb, ...)',
    });
  }
  return enumName(bpf_prog_type, choice.type)!;
}

/** Findings the kernel makes while it walks: the value walk finds them itself, in the kernel's order. */
const WALK_CODES = new Set(['unknown-helper', 'helper-not-allowed', 'div-by-zero', 'fp-write', 'stack-out-of-range', 'uninit-read']);
/** Found after the walk (check_max_stack_depth). */
const AFTER_WALK_CODES = new Set(['stack-too-large', 'call-depth', 'tail-call-stack']);

/** The kernel's words for a helper call it refuses before looking at the arguments (check_helper_call). */
export function helperCheck(obj: BpfObject, progType: string | undefined): (id: number) => string | undefined {
  const gpl = GPL_COMPATIBLE_LICENSES.has(obj.license ?? '');
  return (id) => {
    if (id <= 0 || id >= HELPER_FUNC_MAX_ID) return `invalid func unknown#${id}`;
    const name = helperByID(id);
    if (progType && helperAllowed(progType, id) === false) return `program of this type cannot use helper bpf_${name}#${id}`;
    if (!gpl && name && GPL_ONLY_HELPERS.has(name)) return 'cannot call GPL-restricted function from non-GPL compatible program';
    return undefined;
  };
}

/** Doctor's report plus verification of every entry program and the sub-programs it calls. */
export function verify(obj: BpfObject, options: VerifyOptions = {}): VerifyReport {
  const forced = options.type === undefined ? undefined : forcedType(options.type);
  const report = doctor(obj, options);
  const source = sourceLookup(obj);
  const cache = new Map<BpfProgram, FunctionResult>();
  const byName = new Map(obj.programs.map((p) => [p.name, p]));
  const programs: ProgramVerdict[] = [];
  for (const p of obj.programs.filter((x) => x.kind === 'entry')) {
    const progType = forced ?? progTypeOf(obj, p);
    let linked: LinkedProgram | undefined;
    let linkError: string | undefined;
    try {
      linked = linkProgram(obj, p);
    } catch (e) {
      if (!(e instanceof VerifierInputError)) throw e;
      linkError = e.message;
    }
    const startOf = (fn: BpfProgram): number => linked?.functions.find((f) => f.program === fn)?.start ?? 0;
    const structural: VerifyFinding[] = [];
    const seen = new Set<BpfProgram>();
    const callees: string[] = [];
    // Depth-first over the call graph, as check_max_stack_depth walks it: stack adds up along each
    // chain, each frame rounded up to 16 bytes as the JIT lays it out.
    let tooDeep = false;
    let tooLarge: { calls: number; size: number } | undefined;
    let tailCallStack: number | undefined;
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
          structural.push({ ...f, insn: startOf(fn) + f.insn, function: fn.name, ...(src ? { source: src } : {}) });
        }
      }
      if (depth > 0 && result.tailCall && chain >= 256 && tailCallStack === undefined) tailCallStack = chain;
      const frame = Math.ceil(result.stack / 16) * 16;
      let deepest = chain + frame;
      if (deepest > MAX_BPF_STACK && !tooLarge) tooLarge = { calls: depth + 1, size: deepest };
      for (const name of result.callees) {
        const callee = byName.get(name);
        if (!callee) continue;
        if (depth + 1 >= MAX_CALL_FRAMES) {
          tooDeep = true;
          continue;
        }
        deepest = Math.max(deepest, visit(callee, depth + 1, chain + frame));
      }
      return deepest;
    };
    const stackDepth = visit(p, 0, 0);
    if (tooDeep) {
      structural.push({ severity: 'error', code: 'call-depth', function: p.name, insn: 0, disasm: '', message: `the call stack of ${MAX_CALL_FRAMES} frames is too deep !` });
    } else if (tooLarge && tooLarge.calls > 1) {
      structural.push({ severity: 'error', code: 'stack-too-large', function: p.name, insn: 0, disasm: '', message: `combined stack size of ${tooLarge.calls} calls is ${tooLarge.size}. Too large` });
    } else if (tailCallStack !== undefined) {
      structural.push({ severity: 'error', code: 'tail-call-stack', function: p.name, insn: 0, disasm: '', message: `tail_calls are not allowed when call stack of previous frames is ${tailCallStack} bytes. Too large` });
    }
    const cfgErrors = structural.filter((f) => f.severity === 'error' && !WALK_CODES.has(f.code) && !AFTER_WALK_CODES.has(f.code));
    const findings: VerifyFinding[] = [];
    let processed: number | undefined;
    let log: string[] | undefined;
    if (linkError) findings.push({ severity: 'error', code: 'link', function: p.name, insn: 0, disasm: '', message: linkError });
    if (cfgErrors.length > 0 || !linked) {
      // The kernel stops at check_cfg's first complaint; the walk never starts.
      findings.push(...structural.sort((a, b) => a.insn - b.insn));
    } else {
      const typeNumber = progType ? (bpf_prog_type as Record<string, number>)[progType] : undefined;
      const result = verifyProgram(obj, linked, {
        progType: typeNumber ?? bpf_prog_type.BPF_PROG_TYPE_SCHED_CLS,
        expectedAttachType: forced ? 0 : matchSection(p.section, { libbpf: 'upstream' })?.expectedAttachType ?? 0,
        helperCheck: helperCheck(obj, progType),
        ...(options.log ? { log: true } : {}),
        ...(options.limit !== undefined ? { limit: options.limit } : {}),
      });
      processed = result.processed;
      if (result.error) {
        const e = result.error;
        findings.push({
          severity: 'error', code: 'verifier', message: e.message, function: e.function, insn: e.insn, disasm: e.disasm,
          state: e.state, ...(e.source ? { source: e.source } : {}),
        });
      } else {
        findings.push(...structural.filter((f) => AFTER_WALK_CODES.has(f.code)));
      }
      findings.push(...structural.filter((f) => f.severity !== 'error'));
      log = result.log;
    }
    if (progType && !HELPERS_BY_PROG_TYPE[progType]) {
      findings.push({ severity: 'warning', code: 'helpers-unchecked', function: p.name, insn: 0, disasm: '', message: `bpfts has no helper table for ${progType}: helper calls were not checked against it` });
    }
    // Doctor's errors in this program's code that stop every loader (calls to undefined functions,
    // unknown relocations) make the kernel refuse it too.
    for (const fn of [p, ...callees.map((n) => byName.get(n)!)]) {
      let decoded: Map<number, Insn> | undefined;
      for (const f of report.findings) {
        if (f.severity !== 'error' || f.loaders.length > 0 || f.program !== fn.name || f.insn === undefined) continue;
        if (findings.some((x) => x.message === f.message)) continue;
        decoded ??= new Map(decodeProgram(fn.bytes, obj.littleEndian, fn.section).insns.map((i) => [i.index, i]));
        const insn = decoded.get(f.insn);
        const src = source(fn.section, fn.offset + f.insn * BPF_INSN_SIZE);
        findings.push({ severity: 'error', code: f.code, message: f.message, function: fn.name, insn: startOf(fn) + f.insn, disasm: insn ? formatInsn(insn) : '', ...(src ? { source: src } : {}) });
      }
    }
    const ok = !findings.some((f) => f.severity === 'error');
    programs.push({
      name: p.name, section: p.section, ...(progType ? { progType } : {}), callees, stackDepth, ok, findings,
      ...(processed !== undefined ? { processed } : {}), ...(log ? { log } : {}),
    });
  }
  return { doctor: report, programs, ok: report.ok && programs.every((p) => p.ok) };
}
