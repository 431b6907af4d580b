// The offline verifier: predicts what the kernel's verifier (Linux 6.18, privileged loader) says
// of one entry program of an object: accepted, or rejected with which message at which
// instruction (counted as the kernel counts them, in the program as loaded). Structural checks
// (check_cfg and friends) are src/doctor/verify.ts's; this layer is the walk over values.
import { formatInsn } from '../isa/index.js';
import { legacyInnerMap, type BpfObject, type BpfProgram, type GlobalDataSection, type MapDefinition } from '../object/index.js';
import { BPF_F_RDONLY_PROG, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH_OF_MAPS, bpf_prog_type } from '../uapi/index.js';
import { newId, type Env } from './env.js';
import { linkProgram, type LinkedProgram, type SourceLine } from './program.js';
import { ptrReg, scalarReg, type Reg, type VMap } from './state.js';
import { walk, COMPLEXITY_LIMIT } from './walk.js';

export { linkProgram, type LinkedProgram, type SourceLine } from './program.js';
export { VerifierInputError } from './errors.js';
export { COMPLEXITY_LIMIT } from './walk.js';

export interface VerifierOptions {
  /** enum bpf_prog_type value. */
  progType: number;
  /** expected_attach_type, where the program type's rules depend on it. */
  expectedAttachType?: number;
  /** Keep a per-instruction state log (like the kernel's log level 2). */
  log?: boolean;
  /** Processed-instruction limit (the kernel's is 1,000,000). */
  limit?: number;
  /**
   * What the kernel says of a call of helper `id` before it looks at the arguments (unknown id,
   * not allowed for the program type, GPL-only), or undefined when the call may go on.
   */
  helperCheck?: (id: number) => string | undefined;
}

export interface VerifierError {
  /** The kernel's message; two-line messages are joined by "; ". */
  message: string;
  /** Instruction index in the program as loaded. */
  insn: number;
  /** The function it is in. */
  function: string;
  disasm: string;
  source?: SourceLine;
  /** The register and stack state the instruction was reached with. */
  state: string;
}

export interface VerifierResult {
  ok: boolean;
  error?: VerifierError;
  /** Instructions walked, over all paths (the kernel's "processed N insns"). */
  processed: number;
  log?: string[];
  program: LinkedProgram;
}

/** The offset of a top-level struct bpf_spin_lock in a map's BTF value type (btf_parse_fields). */
function spinLockOffset(obj: BpfObject, typeId: number | undefined): number | undefined {
  const btf = obj.btf;
  if (!btf || typeId === undefined) return undefined;
  try {
    const t = btf.type(btf.skipModsAndTypedefs(typeId));
    if (t.kind !== 'STRUCT') return undefined;
    for (const m of t.members) {
      const mt = btf.type(btf.skipModsAndTypedefs(m.type));
      if (mt.kind === 'STRUCT' && mt.name === 'bpf_spin_lock') return m.bitOffset / 8;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** is_tracing_prog_type: program types that may not use maps holding a spin lock. */
const TRACING_TYPES = new Set<number>([
  bpf_prog_type.BPF_PROG_TYPE_KPROBE, bpf_prog_type.BPF_PROG_TYPE_TRACEPOINT, bpf_prog_type.BPF_PROG_TYPE_PERF_EVENT,
  bpf_prog_type.BPF_PROG_TYPE_RAW_TRACEPOINT, bpf_prog_type.BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE,
]);

/** check_map_prog_compatibility, for the maps the program refers to (before the walk). */
function mapProgCompatibility(program: LinkedProgram, maps: (key: object) => VMap, progType: number): string | undefined {
  for (const i of program.insns) {
    if (i?.ld?.kind !== 'map') continue;
    const m = maps(i.ld.map);
    if (m.spinLockOff === undefined) continue;
    if (progType === bpf_prog_type.BPF_PROG_TYPE_SOCKET_FILTER) return 'socket filter progs cannot use bpf_spin_lock yet';
    if (TRACING_TYPES.has(progType)) return 'tracing progs cannot use bpf_spin_lock yet';
  }
  return undefined;
}

/** The maps a program refers to, as the verifier sees them. */
function mapTable(obj: BpfObject): (key: object) => VMap {
  const cache = new Map<object, VMap>();
  const fromDef = (def: MapDefinition): VMap => {
    let m = cache.get(def);
    if (m) return m;
    m = { name: def.name, type: def.type, keySize: def.keySize, valueSize: def.valueSize, maxEntries: def.maxEntries, flags: def.flags, readOnly: (def.flags & BPF_F_RDONLY_PROG) !== 0 };
    const lock = spinLockOffset(obj, def.valueTypeId);
    if (lock !== undefined) m.spinLockOff = lock;
    cache.set(def, m);
    if (def.type === BPF_MAP_TYPE_ARRAY_OF_MAPS || def.type === BPF_MAP_TYPE_HASH_OF_MAPS) {
      const inner = def.inner ?? legacyInnerMap(obj.maps, def);
      if (inner) m.inner = fromDef(inner);
    }
    return m;
  };
  const fromData = (g: GlobalDataSection): VMap => {
    let m = cache.get(g);
    if (m) return m;
    m = {
      name: g.section, type: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: g.size, maxEntries: 1,
      flags: g.readOnly ? BPF_F_RDONLY_PROG : 0, readOnly: g.readOnly, ...(g.readOnly ? { initial: g.bytes } : {}),
    };
    cache.set(g, m);
    return m;
  };
  return (key) => ('style' in key ? fromDef(key as MapDefinition) : fromData(key as GlobalDataSection));
}

/** Context struct names per program type, for a global function's `struct X *ctx` argument. */
const CTX_STRUCTS = new Set(['__sk_buff', 'xdp_md', 'pt_regs', 'bpf_sock_ops', 'bpf_sock', 'bpf_sock_addr', 'sk_msg_md', 'sk_reuseport_md', 'bpf_sk_lookup', 'bpf_sysctl', 'bpf_sockopt', 'bpf_cgroup_dev_ctx', 'bpf_perf_event_data', 'bpf_raw_tracepoint_args', 'bpf_nf_ctx']);

export type ParamKind = { kind: 'scalar' } | { kind: 'ctx' } | { kind: 'mem'; size: number } | { kind: 'any' };

/** A global function's parameters from its BTF prototype (btf_prepare_func_args). */
function globalParams(obj: BpfObject, fn: BpfProgram): ParamKind[] {
  const info = fn.funcInfo.find((f) => f.insn === 0);
  const btf = obj.btf;
  if (!info || !btf) return [];
  const func = btf.type(info.typeId);
  if (func.kind !== 'FUNC') return [];
  const proto = btf.type(func.type);
  if (proto.kind !== 'FUNC_PROTO') return [];
  return proto.params.map((p): ParamKind => {
    const t = btf.type(btf.skipModsAndTypedefs(p.type));
    if (t.kind !== 'PTR') return { kind: 'scalar' };
    const target = btf.type(btf.skipModsAndTypedefs(t.type));
    if ((target.kind === 'STRUCT' || target.kind === 'UNION') && CTX_STRUCTS.has(target.name)) return { kind: 'ctx' };
    try {
      return { kind: 'mem', size: btf.resolveSize(target.id) };
    } catch {
      return { kind: 'any' };
    }
  });
}

function globalArgs(params: ParamKind[]): (env: Env) => Reg[] {
  return (env) => params.map((p) => {
    switch (p.kind) {
      case 'scalar': return scalarReg();
      case 'ctx': return ptrReg('ctx');
      case 'mem': return ptrReg('mem', { nullable: true, aux: p.size, id: newId(env) });
      default: return ptrReg('any');
    }
  });
}

/** The log keeps its last LOG_LINES lines: the failing path is at its end. */
const LOG_LINES = 200_000;

function append(log: string[], lines: readonly string[]): void {
  for (const l of lines) log.push(l);
  if (log.length > LOG_LINES) log.splice(0, log.length - LOG_LINES);
}

/**
 * Walks `entry` (an entry program of `obj`, or one already linked by linkProgram) and the global
 * functions it calls, as the kernel would.
 */
export function verifyProgram(obj: BpfObject, entry: BpfProgram | LinkedProgram, options: VerifierOptions): VerifierResult {
  const program = 'slotCount' in entry ? entry : linkProgram(obj, entry);
  const maps = mapTable(obj);
  const common = { progType: options.progType, expectedAttachType: options.expectedAttachType ?? 0, maps, limit: options.limit ?? COMPLEXITY_LIMIT, ...(options.helperCheck ? { helperCheck: options.helperCheck } : {}), ...(options.log ? { log: true } : {}) };
  const toError = (e: { message: string; insn: number; state: string }): VerifierError => {
    const i = program.insns[e.insn];
    const src = program.source(e.insn);
    return { message: e.message, insn: e.insn, function: program.functionAt(e.insn).program.name, disasm: i ? formatInsn(i) : '', state: e.state, ...(src ? { source: src } : {}) };
  };
  let processed = 0;
  const log: string[] = [];
  const incompatible = mapProgCompatibility(program, maps, options.progType);
  if (incompatible) return { ok: false, error: { message: incompatible, insn: 0, function: program.entry.name, disasm: '', state: '' }, processed, program };
  const paramsAt = (start: number): ParamKind[] => globalParams(obj, program.functionAt(start).program);
  const main = walk(program, 0, { ...common, globalParams: paramsAt });
  processed += main.processed;
  if (main.log) append(log, main.log);
  if (main.error) return { ok: false, error: toError(main.error), processed, ...(options.log ? { log } : {}), program };
  const done = new Set<number>();
  let pending = [...main.globalsCalled];
  while (pending.length > 0) {
    const next: number[] = [];
    for (const start of pending.sort((a, b) => a - b)) {
      if (done.has(start)) continue;
      done.add(start);
      const fn = program.functionAt(start);
      const r = walk(program, start, { ...common, globalParams: paramsAt, entryArgs: globalArgs(globalParams(obj, fn.program)) });
      processed += r.processed;
      if (r.log) {
        log.push(`Validating ${fn.program.name}() func#${program.functions.indexOf(fn)}...`);
        append(log, r.log);
      }
      if (r.error) return { ok: false, error: toError(r.error), processed, ...(options.log ? { log } : {}), program };
      next.push(...r.globalsCalled);
    }
    pending = next;
  }
  return { ok: true, processed, ...(options.log ? { log } : {}), program };
}
