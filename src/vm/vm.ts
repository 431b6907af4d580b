// The interpreter. Registers are (hi, lo) Int32 pairs in two typed arrays; the program is pre-decoded
// (decode.ts) and dispatched with one switch on a dense opcode, so the hot loop neither allocates nor
// touches BigInt.
import { BpfError } from '../errors.js';
import { BPF_CMPXCHG, BPF_FETCH, BPF_INSN_SIZE, BPF_LOAD_ACQ, BPF_STORE_REL, BPF_XCHG, MAX_BPF_STACK, MAX_CALL_FRAMES } from '../isa/opcodes.js';
import {
  decodeProgram,
  OP_CALL_KFUNC,
  OP_CALL_LOCAL,
  OP_FALL_THROUGH,
  OP_LDDW_TAIL,
  SIGNED,
  STRIDE,
  type DecodeOptions,
  type Program,
} from './decode.js';
import { VmFault, type VmFaultKind } from './errors.js';
import { formatAt, readInsn } from './insn.js';
import { bswap16, bswap32, mul64, negate, out, rem, scmp, sdiv64, smod64, toBigInt, ucmp, udivmod64 } from './int64.js';
import { compileProgram, TAIL_CALL, type CompiledProgram } from './compile.js';
import type { CoverageRecorder } from './coverage.js';
import { CODE_REGION, Memory, STACK_REGION_BASE } from './memory.js';
import { helperName, MAX_TAIL_CALL_CNT } from '../uapi/index.js';

/**
 * A helper function. It reads its arguments with `vm.arg(1..5)` and memory through `vm.read`/`vm.view`,
 * and returns r0 (a number is taken as a signed integer, a bigint modulo 2^64; nothing means 0). It
 * reads no other register and sets none itself: compiled programs keep r6..r10 to themselves across
 * the call.
 */
export type HelperFn = (vm: Vm) => bigint | number | void;

/**
 * Loads and stores through the program's context pointer (`struct __sk_buff`, `struct xdp_md`, ...):
 * the kernel rewrites them into accesses of its own structures, so they are served by code here
 * rather than by plain memory. Accesses to region `region` never reach Memory.
 */
export interface ContextAccess {
  /** A region mapped without bytes (Memory.map of an empty array): compiled code tells it by its size 0. */
  readonly region: number;
  /** Put the field at [offset, offset + size) in register `dst` (vm.setReg), or throw vm.fault(). */
  load(vm: Vm, dst: number, offset: number, size: number): void;
  /** Store the low `size` bytes of (hi, lo) at offset, or throw vm.fault(). */
  store(vm: Vm, offset: number, size: number, hi: number, lo: number): void;
  /**
   * Fields that an aligned 32-bit load reads without calling load(): the packet pointers and plain
   * words, which most programs read first thing on every packet. Optional.
   */
  readonly fast?: FastFields;
}

/**
 * Word i of a context (offset 4 * i) reads as (hi[i], lo[i]) when readable[i] is 1; the context keeps
 * the words current as the packet moves and fields change.
 */
export interface FastFields {
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  readonly readable: Uint8Array;
}

/** Called before each instruction when tracing; registers hold their values before it executes. */
export type Tracer = (vm: Vm, pc: number) => void;

export interface VmOptions extends DecodeOptions {
  /** Helper functions by id (BPF_CALL imm, or the value of the register of a callx). */
  helpers?: ReadonlyMap<number, HelperFn>;
  /** Most instructions one run may execute; default 1,000,000. */
  budget?: number;
  /**
   * Run the program as a compiled JavaScript function (compile.ts): true from the first run, false
   * never (the interpreter alone, the reference), by default from the second run on.
   */
  compile?: boolean;
  /** The address space; a fresh one by default. Share one to let several programs see the same maps. */
  memory?: Memory;
  context?: ContextAccess;
  /** Name of a kfunc call's target by its imm, for the fault such a call raises. */
  kfuncName?: (imm: number) => string | undefined;
}

export interface RunResult {
  /** r0 at exit, as an unsigned 64-bit value. */
  r0: bigint;
  /** Instructions executed (a 64-bit immediate load counts once). */
  executed: number;
}

export const DEFAULT_BUDGET = 1_000_000;

const TWO32 = 4294967296;

/** What a faulting BPF_PROBE_MEM load reads, at any offset. */
class ZeroView extends DataView<ArrayBuffer> {
  override getInt8(): number {
    return 0;
  }
  override getUint8(): number {
    return 0;
  }
  override getInt16(): number {
    return 0;
  }
  override getUint16(): number {
    return 0;
  }
  override getInt32(): number {
    return 0;
  }
  override getUint32(): number {
    return 0;
  }
}
const ZERO_VIEW: DataView = new ZeroView(new ArrayBuffer(8));
/** Bytes by an opcode's size bits (BPF_W, BPF_H, BPF_B, BPF_DW). */
const SIZE_OF = [4, 2, 1, 8] as const;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export class Vm {
  readonly program: Program;
  readonly memory: Memory;
  readonly helpers: ReadonlyMap<number, HelperFn>;
  budget: number;
  /** Register low halves r0..r10 (int32). */
  readonly lo = new Int32Array(16);
  /** Register high halves r0..r10 (int32). */
  readonly hi = new Int32Array(16);
  /** pc of the instruction being executed (valid inside helpers and faults), after a run the one that ended it. */
  pc = 0;
  /** The CPU the program runs on, as per-CPU maps and bpf_get_smp_processor_id() see it. */
  cpu = 0;
  /** The program executing now: the entry program, or the target of the last tail call. */
  current: Program;
  context: ContextAccess | undefined;
  /** When set, called before every instruction (slow: for --trace only). */
  tracer: Tracer | undefined;
  private recorder: CoverageRecorder | undefined;
  /**
   * Loads outside emulator memory read 0 instead of faulting, as the kernel's BPF_PROBE_MEM loads
   * through BTF pointers do (the exception table zeroes the destination): for fentry, fexit and
   * tp_btf programs, whose only loads the verifier lets through unchecked are those.
   */
  probeMem = false;
  private readonly kfuncName: ((imm: number) => string | undefined) | undefined;
  private traced = 0;

  /** @internal bpf-to-bpf call depth (0: the entry frame) */
  depth = 0;
  /** The depth whose exit ends exec(): 0, or the frame of the callback running now. */
  private stopDepth = 0;
  /** Instructions callbacks (bpf_loop, bpf_for_each_map_elem) executed in this run, budgeted apart. */
  private callbackExecuted = 0;
  /** Per frame: return pc, then r6..r9 as (hi, lo). */
  private readonly frames = new Int32Array(MAX_CALL_FRAMES * 9);
  /** @internal for compiled programs (compile.ts) */
  exitValue: bigint | undefined;
  private packetId = 0;
  private packetStart = 0;
  private packetLen = 0;
  private tailCalls = 0;
  /** @internal for compiled programs (compile.ts) */
  pendingTail: Program | undefined;
  /** @internal set by a compiled program: -1 once it exited, TAIL_CALL, else the pc the interpreter goes on from. */
  resumeAt = -1;
  private readonly compileMode: boolean | undefined;
  private runs = 0;
  /**
   * Whether the register arrays may hold values other than zero, r1, r10 and what the entry program's
   * compiled code writes (see CompiledProgram's fresh start): after the interpreter, a tail call or
   * run() with arguments. The next runWithPointer then clears them.
   */
  private foreign = true;
  /** compileProgram(this.program) once asked for. */
  private compiled: CompiledProgram | undefined;

  constructor(program: Uint8Array | Program, options: VmOptions = {}) {
    this.memory = options.memory ?? new Memory();
    this.program = program instanceof Uint8Array ? decodeProgram(program, options) : program;
    this.current = this.program;
    this.helpers = options.helpers ?? new Map();
    this.budget = options.budget ?? DEFAULT_BUDGET;
    this.context = options.context;
    this.kfuncName = options.kfuncName;
    this.compileMode = options.compile;
  }

  /**
   * When set, every instruction and jump edge is counted into it: the interpreter steps it like the
   * tracer, compiled code runs the instrumented translation.
   */
  get coverage(): CoverageRecorder | undefined {
    return this.recorder;
  }

  set coverage(recorder: CoverageRecorder | undefined) {
    this.recorder = recorder;
    // start()'s short path runs this.compiled without asking about coverage: it is compiled afresh.
    this.compiled = undefined;
  }

  /** Run from the first instruction with r1..r5 = args; the stack starts zeroed. */
  run(args: readonly bigint[] = []): RunResult {
    this.lo.fill(0);
    this.hi.fill(0);
    for (let i = 0; i < args.length && i < 5; i++) this.setReg(i + 1, args[i]!);
    // r2..r5 may hold arguments, which a fresh compiled start would take for zero.
    this.foreign = args.length > 1;
    const executed = this.start() + this.callbackExecuted;
    return { r0: toBigInt(this.hi[0]!, this.lo[0]!), executed };
  }

  /**
   * run() with r1 = the pointer (region, offset), allocating nothing: the per-packet path. Returns the
   * instructions executed; r0 is left in lo[0]/hi[0].
   */
  runWithPointer(region: number, offset: number): number {
    if (this.foreign) {
      // A loop: TypedArray.fill() costs more than these stores on a path taken once per packet.
      const L = this.lo;
      const H = this.hi;
      for (let r = 0; r < 11; r++) {
        L[r] = 0;
        H[r] = 0;
      }
      this.foreign = false;
    }
    this.hi[1] = region;
    this.lo[1] = offset;
    return this.start() + this.callbackExecuted;
  }

  private start(): number {
    // The per-packet case first, kept small so that V8 inlines it: the program compiled already,
    // no tracer.
    const compiled = this.compiled;
    if (compiled !== undefined && this.tracer === undefined) {
      this.reset();
      const budget = this.budget;
      const left = compiled(this, budget, !this.foreign);
      if (this.resumeAt === -1) return budget - left;
      return this.goOn(budget, left);
    }
    this.reset();
    const budget = this.budget;
    const cov = this.recorder;
    cov?.begin();
    if (this.tracer === undefined && (this.compileMode ?? ++this.runs > 1)) {
      // With coverage on, the instrumented translation, which this.compiled (the short path) never holds.
      const first = cov !== undefined ? cov.compiled(this.program) : (this.compiled = compileProgram(this.program));
      const left = first(this, budget, !this.foreign);
      if (this.resumeAt === -1) return budget - left;
      return this.goOn(budget, left);
    }
    this.foreign = true;
    return this.exec(0, budget);
  }

  /** The state every run starts from: stack frame 0 zeroed and current, no exit or tail call pending. */
  private reset(): void {
    const mem = this.memory;
    if (mem.stackDirty) mem.clearStack();
    this.depth = 0;
    this.stopDepth = 0;
    this.callbackExecuted = 0;
    this.enterFrame(0);
    this.exitValue = undefined;
    this.current = this.program;
    this.tailCalls = 0;
    this.pendingTail = undefined;
    this.traced = 0;
  }

  /**
   * After compiled code stopped short of the exit: a tail call (run the target compiled) or a pc left
   * to the interpreter. Returns the instructions executed over the whole run.
   */
  private goOn(budget: number, left: number): number {
    // The register arrays now hold what another program or the interpreter wrote.
    this.foreign = true;
    const cov = this.recorder;
    for (let at = this.resumeAt; ; at = this.resumeAt) {
      if (at === -1) return budget - left;
      if (at !== TAIL_CALL) {
        // What ran compiled, so that an interpreter stepping coverage counts on from there.
        this.traced = budget - left;
        return this.exec(at, left);
      }
      left = (cov !== undefined ? cov.compiled(this.current) : compileProgram(this.current))(this, left, false);
    }
  }

  /**
   * Let the legacy packet loads (BPF_LD | BPF_ABS / BPF_IND) read `length` bytes at `pointer`, as the
   * kernel lets them read the skb's data.
   */
  setLegacyPacket(pointer: bigint, length: number): void {
    this.setLegacyPacketAt(Number(pointer >> 32n), Number(pointer & 0xffffffffn), length);
  }

  /** setLegacyPacket() with the pointer as (region, offset). */
  setLegacyPacketAt(region: number, offset: number, length: number): void {
    this.packetId = region;
    this.packetStart = offset;
    this.packetLen = length;
  }

  // ---- for helpers ----

  /** Register `i` as an unsigned 64-bit value. */
  arg(i: number): bigint {
    return toBigInt(this.hi[i]!, this.lo[i]!);
  }

  /** Low 32 bits of register `i`, unsigned. */
  argU32(i: number): number {
    return this.lo[i]! >>> 0;
  }

  setReg(i: number, v: bigint | number): void {
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) v = BigInt(Math.trunc(v));
      else {
        const h = Math.floor(v / TWO32);
        this.hi[i] = h;
        this.lo[i] = v - h * TWO32;
        return;
      }
    }
    if (v >= 0n && v <= MAX_SAFE) {
      // Pointers (region << 32 | offset) mostly: exact as a double, so no bigint arithmetic is needed.
      this.setReg(i, Number(v));
      return;
    }
    const u = BigInt.asUintN(64, v);
    this.hi[i] = Number(u >> 32n);
    this.lo[i] = Number(u & 0xffffffffn);
  }

  /** A view of emulator memory (aliasing it) or a 'memory' fault. */
  view(pointer: bigint, len: number, write = false): Uint8Array {
    const p = BigInt.asUintN(64, pointer);
    const s = this.memory.slice(Number(p >> 32n), Number(p & 0xffffffffn), len, write);
    if (s === undefined) throw this.fault('memory', `invalid ${write ? 'write' : 'read'} of ${len} bytes at ${hex64(p)}`);
    return s;
  }

  /** view() of the pointer in register `i`, without going through a bigint. */
  argView(i: number, len: number, write = false): Uint8Array {
    const s = this.memory.slice(this.hi[i]!, this.lo[i]! >>> 0, len, write);
    if (s === undefined) throw this.fault('memory', `invalid ${write ? 'write' : 'read'} of ${len} bytes at ${hex64(toBigInt(this.hi[i]!, this.lo[i]!))}`);
    return s;
  }

  /** A copy of `len` bytes of emulator memory. */
  read(pointer: bigint, len: number): Uint8Array {
    return this.view(pointer, len).slice();
  }

  write(pointer: bigint, data: Uint8Array): void {
    this.view(pointer, data.length, true).set(data);
  }

  /** The bytes of a NUL-terminated string (without the NUL); faults if its region ends first. */
  cstring(pointer: bigint): Uint8Array {
    const p = BigInt.asUintN(64, pointer);
    const id = Number(p >> 32n);
    const off = Number(p & 0xffffffffn);
    const region = this.memory.region(id);
    const bytes = region?.bytes;
    if (bytes !== undefined && off < bytes.length) {
      const end = bytes.indexOf(0, off);
      if (end >= 0) return bytes.slice(off, end);
    }
    throw this.fault('memory', `unterminated or invalid string at ${hex64(p)}`);
  }

  /** End the program when the running helper returns, with r0 = value. */
  exit(value: bigint | number): void {
    this.exitValue = BigInt.asUintN(64, BigInt(value));
  }

  /**
   * bpf_tail_call(): continue in `program` (same frame, registers and stack) once the helper returns.
   * False when the chain already has MAX_TAIL_CALL_CNT calls, as the kernel then falls through.
   */
  tailCall(program: Program): boolean {
    if (this.tailCalls >= MAX_TAIL_CALL_CNT) return false;
    if (this.depth > 0) throw this.fault('helper', 'tail calls from a bpf-to-bpf subprogram are not emulated');
    this.tailCalls++;
    this.pendingTail = program;
    return true;
  }

  /**
   * Call the subprogram at instruction `target` of the running program for a helper (bpf_loop,
   * bpf_for_each_map_elem) with r1..r5 = args, in a call frame of its own, and give its r0. The
   * helper's caller finds its registers as it left them.
   */
  callback(target: number, args: readonly bigint[]): bigint {
    if (!Number.isInteger(target) || target < 0 || target >= this.current.count) {
      throw this.fault('helper', `callback at instruction ${target}, outside the program`);
    }
    const lo = this.lo.slice();
    const hi = this.hi.slice();
    const pc = this.pc;
    const stop = this.stopDepth;
    this.pushFrame(pc, target);
    for (let i = 0; i < 5; i++) this.setReg(i + 1, args[i] ?? 0n);
    this.stopDepth = this.depth;
    const left = this.budget - this.callbackExecuted;
    try {
      const done = this.exec(target, left);
      if (this.tracer === undefined) this.callbackExecuted += done - (this.budget - left);
      return toBigInt(this.hi[0]!, this.lo[0]!);
    } finally {
      this.popFrame();
      this.stopDepth = stop;
      this.pc = pc;
      this.lo.set(lo);
      this.hi.set(hi);
    }
  }

  /** A fault at the current pc, for helpers to throw. */
  fault(kind: VmFaultKind, detail: string): VmFault {
    const bytes = this.current.bytes;
    const pc = this.pc;
    const insn = pc >= 0 && pc < this.current.count ? readInsn(bytes, pc) : undefined;
    return new VmFault(kind, pc, insn, formatAt(bytes, pc), detail);
  }

  // ---- interpreter ----

  private enterFrame(depth: number): void {
    this.lo[10] = MAX_BPF_STACK;
    this.hi[10] = STACK_REGION_BASE + depth;
  }

  /** @internal for compiled programs (compile.ts) */
  memFault(h: number, a: number, size: number, write: boolean, pc: number): VmFault {
    this.pc = pc;
    const addr = toBigInt(h, a | 0);
    const region = this.memory.region(h);
    const where = region === undefined ? 'no region' : `region '${region.name}' of ${region.bytes.length} bytes`;
    const what = write && region !== undefined && a + size <= region.bytes.length ? 'read-only ' : '';
    return this.fault('memory', `invalid ${write ? 'write' : 'read'} of ${size} bytes at ${hex64(addr)} (${what}${where})`);
  }

  /** Effective address of (register base + off): offset returned, region id left in eaId. */
  private eaId = 0;
  private ea(base: number, off: number): number {
    let a = (this.lo[base]! >>> 0) + off;
    let h = this.hi[base]!;
    if (a < 0) {
      a += TWO32;
      h = (h - 1) | 0;
    } else if (a >= TWO32) {
      a -= TWO32;
      h = (h + 1) | 0;
    }
    this.eaId = h;
    return a;
  }

  /**
   * The region's view if [a, a + size) lies inside region h (writable when storing), else a fault;
   * with probeMem a load outside memory reads zeros instead.
   */
  private access(h: number, a: number, size: number, write: boolean, pc: number): DataView {
    const mem = this.memory;
    if (h > 0 && h < mem.views.length && a + size <= mem.sizes[h]! && (!write || mem.writable[h])) {
      if (write && h === STACK_REGION_BASE) mem.stackDirty = true;
      return mem.views[h]!;
    }
    if (this.probeMem && !write) return ZERO_VIEW;
    throw this.memFault(h, a, size, write, pc);
  }

  /** Instructions executed, from what is left of the budget (or the step count when tracing or counting coverage). */
  private executedCount(startBudget: number, budget: number): number {
    return this.tracer === undefined && this.recorder === undefined ? startBudget - budget : this.traced;
  }

  private ctxLoad(ctx: ContextAccess, d: number, a: number, size: number, pc: number): void {
    const fast = ctx.fast;
    if (fast !== undefined && size === 4 && (a & 3) === 0 && fast.readable[a >>> 2] === 1) {
      this.lo[d] = fast.lo[a >>> 2]!;
      this.hi[d] = fast.hi[a >>> 2]!;
      return;
    }
    this.pc = pc;
    ctx.load(this, d, a, size);
  }

  private ctxStore(ctx: ContextAccess, a: number, size: number, hi: number, lo: number, pc: number): void {
    this.pc = pc;
    ctx.store(this, a, size, hi, lo);
  }

  /**
   * @internal for compiled programs (compile.ts): a load of (h, a), the base register plus offset not
   * yet wrapped into 64 bits, that their inline bounds check refused: a context field, an address
   * that wraps into a neighbouring region, or a fault. Puts the value in register d.
   */
  slowLoad(h: number, a: number, size: number, signed: boolean, d: number, pc: number): void {
    if (a < 0) {
      a += TWO32;
      h = (h - 1) | 0;
    } else if (a >= TWO32) {
      a -= TWO32;
      h = (h + 1) | 0;
    }
    const ctx = this.context;
    if (ctx !== undefined && h === ctx.region) {
      if (signed) throw this.memFault(h, a, size, false, pc);
      this.ctxLoad(ctx, d, a, size, pc);
      return;
    }
    const v = this.access(h, a, size, false, pc);
    let lo: number;
    let hi = 0;
    if (size === 1) lo = signed ? v.getInt8(a) : v.getUint8(a);
    else if (size === 2) lo = signed ? v.getInt16(a, true) : v.getUint16(a, true);
    else {
      lo = v.getInt32(a, true);
      if (size === 8) hi = v.getInt32(a + 4, true);
    }
    this.lo[d] = lo;
    this.hi[d] = signed ? lo >> 31 : hi;
  }

  /** @internal slowLoad() for stores of the low `size` bytes of (hi, lo). */
  slowStore(h: number, a: number, size: number, hi: number, lo: number, pc: number): void {
    if (a < 0) {
      a += TWO32;
      h = (h - 1) | 0;
    } else if (a >= TWO32) {
      a -= TWO32;
      h = (h + 1) | 0;
    }
    const ctx = this.context;
    if (ctx !== undefined && h === ctx.region) {
      this.ctxStore(ctx, a, size, hi, lo, pc);
      return;
    }
    const v = this.access(h, a, size, true, pc);
    if (size === 1) v.setInt8(a, lo);
    else if (size === 2) v.setInt16(a, lo, true);
    else {
      v.setInt32(a, lo, true);
      if (size === 8) v.setInt32(a + 4, hi, true);
    }
  }

  /** Interpret from `pc` of the current program with `budgetLeft` of this.budget still to spend. */
  private exec(pc: number, budgetLeft: number): number {
    const L = this.lo;
    const H = this.hi;
    const startBudget = this.budget;
    const tracer = this.tracer;
    const cov = this.recorder;
    const stepped = tracer !== undefined || cov !== undefined;
    // Tracing and coverage keep the budget at zero so that every instruction takes the slow branch below.
    let budget = stepped ? 0 : budgetLeft;
    const ctx = this.context;
    // NaN equals no region id, so without a context no address is taken for one (-1 would be: r = -1 + off).
    const ctxId = ctx === undefined ? NaN : ctx.region;
    // The outer loop only turns when a tail call switches programs; `code` stays constant inside.
    program: for (;;) {
      const code = this.current.code;
      for (;;) {
        if (--budget < 0) {
          this.pc = pc;
          if (!stepped || this.traced >= startBudget) {
            throw this.fault('budget', `instruction budget of ${startBudget} exhausted`);
          }
          this.traced++;
          if (cov !== undefined) cov.step(this.current, pc);
          if (tracer !== undefined) tracer(this, pc);
          budget = 0;
        }
        const p = pc * STRIDE;
        const w = code[p]!;
        const d = (w >>> 16) & 15;
        switch (w & 0xffff) {
          // ---- ALU64, immediate ----
          case 0x07: {
            const imm = code[p + 2]!;
            const a = L[d]!;
            const r = (a + imm) | 0;
            H[d] = (H[d]! + (imm >> 31) + ((r >>> 0) < (a >>> 0) ? 1 : 0)) | 0;
            L[d] = r;
            pc++;
            break;
          }
          case 0x17: {
            const imm = code[p + 2]!;
            const a = L[d]!;
            H[d] = (H[d]! - (imm >> 31) - ((a >>> 0) < (imm >>> 0) ? 1 : 0)) | 0;
            L[d] = (a - imm) | 0;
            pc++;
            break;
          }
          case 0x27: {
            const imm = code[p + 2]!;
            mul64(H[d]!, L[d]!, imm >> 31, imm);
            H[d] = out[0]!;
            L[d] = out[1]!;
            pc++;
            break;
          }
          case 0x37: {
            const imm = code[p + 2]!;
            this.udiv64(d, imm >> 31, imm, false);
            pc++;
            break;
          }
          case 0x47: {
            const imm = code[p + 2]!;
            L[d] = L[d]! | imm;
            H[d] = H[d]! | (imm >> 31);
            pc++;
            break;
          }
          case 0x57: {
            const imm = code[p + 2]!;
            L[d] = L[d]! & imm;
            H[d] = H[d]! & (imm >> 31);
            pc++;
            break;
          }
          case 0x67:
            this.lsh64(d, code[p + 2]! & 63);
            pc++;
            break;
          case 0x77:
            this.rsh64(d, code[p + 2]! & 63);
            pc++;
            break;
          case 0x87:
            negate(H[d]!, L[d]!);
            H[d] = out[0]!;
            L[d] = out[1]!;
            pc++;
            break;
          case 0x97: {
            const imm = code[p + 2]!;
            this.udiv64(d, imm >> 31, imm, true);
            pc++;
            break;
          }
          case 0xa7: {
            const imm = code[p + 2]!;
            L[d] = L[d]! ^ imm;
            H[d] = H[d]! ^ (imm >> 31);
            pc++;
            break;
          }
          case 0xb7: {
            const imm = code[p + 2]!;
            L[d] = imm;
            H[d] = imm >> 31;
            pc++;
            break;
          }
          case 0xc7:
            this.arsh64(d, code[p + 2]! & 63);
            pc++;
            break;
          case 0xd7:
            this.swap(d, code[p + 2]!);
            pc++;
            break;

          // ---- ALU64, register ----
          case 0x0f: {
            const s = w >>> 20;
            const a = L[d]!;
            const r = (a + L[s]!) | 0;
            H[d] = (H[d]! + H[s]! + ((r >>> 0) < (a >>> 0) ? 1 : 0)) | 0;
            L[d] = r;
            pc++;
            break;
          }
          case 0x1f: {
            const s = w >>> 20;
            const a = L[d]!;
            const b = L[s]!;
            H[d] = (H[d]! - H[s]! - ((a >>> 0) < (b >>> 0) ? 1 : 0)) | 0;
            L[d] = (a - b) | 0;
            pc++;
            break;
          }
          case 0x2f: {
            const s = w >>> 20;
            mul64(H[d]!, L[d]!, H[s]!, L[s]!);
            H[d] = out[0]!;
            L[d] = out[1]!;
            pc++;
            break;
          }
          case 0x3f: {
            const s = w >>> 20;
            this.udiv64(d, H[s]!, L[s]!, false);
            pc++;
            break;
          }
          case 0x4f: {
            const s = w >>> 20;
            L[d] = L[d]! | L[s]!;
            H[d] = H[d]! | H[s]!;
            pc++;
            break;
          }
          case 0x5f: {
            const s = w >>> 20;
            L[d] = L[d]! & L[s]!;
            H[d] = H[d]! & H[s]!;
            pc++;
            break;
          }
          case 0x6f:
            this.lsh64(d, L[w >>> 20]! & 63);
            pc++;
            break;
          case 0x7f:
            this.rsh64(d, L[w >>> 20]! & 63);
            pc++;
            break;
          case 0x9f: {
            const s = w >>> 20;
            this.udiv64(d, H[s]!, L[s]!, true);
            pc++;
            break;
          }
          case 0xaf: {
            const s = w >>> 20;
            L[d] = L[d]! ^ L[s]!;
            H[d] = H[d]! ^ H[s]!;
            pc++;
            break;
          }
          case 0xbf: {
            const s = w >>> 20;
            L[d] = L[s]!;
            H[d] = H[s]!;
            pc++;
            break;
          }
          case 0xcf:
            this.arsh64(d, L[w >>> 20]! & 63);
            pc++;
            break;

          // ---- ALU32, immediate (results zero-extended) ----
          case 0x04:
            L[d] = (L[d]! + code[p + 2]!) | 0;
            H[d] = 0;
            pc++;
            break;
          case 0x14:
            L[d] = (L[d]! - code[p + 2]!) | 0;
            H[d] = 0;
            pc++;
            break;
          case 0x24:
            L[d] = Math.imul(L[d]!, code[p + 2]!);
            H[d] = 0;
            pc++;
            break;
          case 0x34: {
            const b = code[p + 2]! >>> 0;
            L[d] = b === 0 ? 0 : ((L[d]! >>> 0) / b) >>> 0;
            H[d] = 0;
            pc++;
            break;
          }
          case 0x44:
            L[d] = L[d]! | code[p + 2]!;
            H[d] = 0;
            pc++;
            break;
          case 0x54:
            L[d] = L[d]! & code[p + 2]!;
            H[d] = 0;
            pc++;
            break;
          case 0x64:
            L[d] = L[d]! << (code[p + 2]! & 31);
            H[d] = 0;
            pc++;
            break;
          case 0x74:
            L[d] = L[d]! >>> (code[p + 2]! & 31);
            H[d] = 0;
            pc++;
            break;
          case 0x84:
            L[d] = -L[d]! | 0;
            H[d] = 0;
            pc++;
            break;
          case 0x94: {
            const b = code[p + 2]! >>> 0;
            if (b !== 0) L[d] = (L[d]! >>> 0) % b;
            H[d] = 0;
            pc++;
            break;
          }
          case 0xa4:
            L[d] = L[d]! ^ code[p + 2]!;
            H[d] = 0;
            pc++;
            break;
          case 0xb4:
            L[d] = code[p + 2]!;
            H[d] = 0;
            pc++;
            break;
          case 0xc4:
            L[d] = L[d]! >> (code[p + 2]! & 31);
            H[d] = 0;
            pc++;
            break;
          case 0xd4: {
            const bits = code[p + 2]!;
            if (bits === 16) L[d] = L[d]! & 0xffff;
            if (bits !== 64) H[d] = 0;
            pc++;
            break;
          }
          case 0xdc:
            this.swap(d, code[p + 2]!);
            pc++;
            break;

          // ---- ALU32, register ----
          case 0x0c:
            L[d] = (L[d]! + L[w >>> 20]!) | 0;
            H[d] = 0;
            pc++;
            break;
          case 0x1c:
            L[d] = (L[d]! - L[w >>> 20]!) | 0;
            H[d] = 0;
            pc++;
            break;
          case 0x2c:
            L[d] = Math.imul(L[d]!, L[w >>> 20]!);
            H[d] = 0;
            pc++;
            break;
          case 0x3c: {
            const b = L[w >>> 20]! >>> 0;
            L[d] = b === 0 ? 0 : ((L[d]! >>> 0) / b) >>> 0;
            H[d] = 0;
            pc++;
            break;
          }
          case 0x4c:
            L[d] = L[d]! | L[w >>> 20]!;
            H[d] = 0;
            pc++;
            break;
          case 0x5c:
            L[d] = L[d]! & L[w >>> 20]!;
            H[d] = 0;
            pc++;
            break;
          case 0x6c:
            L[d] = L[d]! << (L[w >>> 20]! & 31);
            H[d] = 0;
            pc++;
            break;
          case 0x7c:
            L[d] = L[d]! >>> (L[w >>> 20]! & 31);
            H[d] = 0;
            pc++;
            break;
          case 0x9c: {
            const b = L[w >>> 20]! >>> 0;
            if (b !== 0) L[d] = (L[d]! >>> 0) % b;
            H[d] = 0;
            pc++;
            break;
          }
          case 0xac:
            L[d] = L[d]! ^ L[w >>> 20]!;
            H[d] = 0;
            pc++;
            break;
          case 0xbc:
            L[d] = L[w >>> 20]!;
            H[d] = 0;
            pc++;
            break;
          case 0xcc:
            L[d] = L[d]! >> (L[w >>> 20]! & 31);
            H[d] = 0;
            pc++;
            break;

          // ---- 64-bit immediate load ----
          case 0x18:
            L[d] = code[p + 2]!;
            H[d] = code[p + 3]!;
            pc += 2;
            break;

          // ---- loads ----
          case 0x61: {
            const a = this.ea(w >>> 20, code[p + 1]!);
            if (this.eaId === ctxId) {
              this.ctxLoad(ctx!, d, a, 4, pc);
              pc++;
              break;
            }
            L[d] = this.access(this.eaId, a, 4, false, pc).getInt32(a, true);
            H[d] = 0;
            pc++;
            break;
          }
          case 0x69: {
            const a = this.ea(w >>> 20, code[p + 1]!);
            if (this.eaId === ctxId) {
              this.ctxLoad(ctx!, d, a, 2, pc);
              pc++;
              break;
            }
            L[d] = this.access(this.eaId, a, 2, false, pc).getUint16(a, true);
            H[d] = 0;
            pc++;
            break;
          }
          case 0x71: {
            const a = this.ea(w >>> 20, code[p + 1]!);
            if (this.eaId === ctxId) {
              this.ctxLoad(ctx!, d, a, 1, pc);
              pc++;
              break;
            }
            L[d] = this.access(this.eaId, a, 1, false, pc).getUint8(a);
            H[d] = 0;
            pc++;
            break;
          }
          case 0x79: {
            const a = this.ea(w >>> 20, code[p + 1]!);
            if (this.eaId === ctxId) {
              this.ctxLoad(ctx!, d, a, 8, pc);
              pc++;
              break;
            }
            const v = this.access(this.eaId, a, 8, false, pc);
            L[d] = v.getInt32(a, true);
            H[d] = v.getInt32(a + 4, true);
            pc++;
            break;
          }
          case 0x81: {
            const a = this.ea(w >>> 20, code[p + 1]!);
            if (this.eaId === ctxId) throw this.memFault(ctxId, a, 4, false, pc);
            const v = this.access(this.eaId, a, 4, false, pc).getInt32(a, true);
            L[d] = v;
            H[d] = v >> 31;
            pc++;
            break;
          }
          case 0x89: {
            const a = this.ea(w >>> 20, code[p + 1]!);
            if (this.eaId === ctxId) throw this.memFault(ctxId, a, 2, false, pc);
            const v = this.access(this.eaId, a, 2, false, pc).getInt16(a, true);
            L[d] = v;
            H[d] = v >> 31;
            pc++;
            break;
          }
          case 0x91: {
            const a = this.ea(w >>> 20, code[p + 1]!);
            if (this.eaId === ctxId) throw this.memFault(ctxId, a, 1, false, pc);
            const v = this.access(this.eaId, a, 1, false, pc).getInt8(a);
            L[d] = v;
            H[d] = v >> 31;
            pc++;
            break;
          }

          // ---- stores of an immediate ----
          case 0x62: {
            const a = this.ea(d, code[p + 1]!);
            if (this.eaId === ctxId) {
              const imm = code[p + 2]!;
              this.ctxStore(ctx!, a, 4, imm >> 31, imm, pc);
              pc++;
              break;
            }
            this.access(this.eaId, a, 4, true, pc).setInt32(a, code[p + 2]!, true);
            pc++;
            break;
          }
          case 0x6a: {
            const a = this.ea(d, code[p + 1]!);
            if (this.eaId === ctxId) {
              const imm = code[p + 2]!;
              this.ctxStore(ctx!, a, 2, imm >> 31, imm, pc);
              pc++;
              break;
            }
            this.access(this.eaId, a, 2, true, pc).setInt16(a, code[p + 2]!, true);
            pc++;
            break;
          }
          case 0x72: {
            const a = this.ea(d, code[p + 1]!);
            if (this.eaId === ctxId) {
              const imm = code[p + 2]!;
              this.ctxStore(ctx!, a, 1, imm >> 31, imm, pc);
              pc++;
              break;
            }
            this.access(this.eaId, a, 1, true, pc).setInt8(a, code[p + 2]!);
            pc++;
            break;
          }
          case 0x7a: {
            const a = this.ea(d, code[p + 1]!);
            if (this.eaId === ctxId) {
              const imm = code[p + 2]!;
              this.ctxStore(ctx!, a, 8, imm >> 31, imm, pc);
              pc++;
              break;
            }
            const v = this.access(this.eaId, a, 8, true, pc);
            const imm = code[p + 2]!;
            v.setInt32(a, imm, true);
            v.setInt32(a + 4, imm >> 31, true);
            pc++;
            break;
          }

          // ---- stores of a register ----
          case 0x63: {
            const a = this.ea(d, code[p + 1]!);
            if (this.eaId === ctxId) {
              this.ctxStore(ctx!, a, 4, H[w >>> 20]!, L[w >>> 20]!, pc);
              pc++;
              break;
            }
            this.access(this.eaId, a, 4, true, pc).setInt32(a, L[w >>> 20]!, true);
            pc++;
            break;
          }
          case 0x6b: {
            const a = this.ea(d, code[p + 1]!);
            if (this.eaId === ctxId) {
              this.ctxStore(ctx!, a, 2, H[w >>> 20]!, L[w >>> 20]!, pc);
              pc++;
              break;
            }
            this.access(this.eaId, a, 2, true, pc).setInt16(a, L[w >>> 20]!, true);
            pc++;
            break;
          }
          case 0x73: {
            const a = this.ea(d, code[p + 1]!);
            if (this.eaId === ctxId) {
              this.ctxStore(ctx!, a, 1, H[w >>> 20]!, L[w >>> 20]!, pc);
              pc++;
              break;
            }
            this.access(this.eaId, a, 1, true, pc).setInt8(a, L[w >>> 20]!);
            pc++;
            break;
          }
          case 0x7b: {
            const a = this.ea(d, code[p + 1]!);
            if (this.eaId === ctxId) {
              this.ctxStore(ctx!, a, 8, H[w >>> 20]!, L[w >>> 20]!, pc);
              pc++;
              break;
            }
            const v = this.access(this.eaId, a, 8, true, pc);
            const s = w >>> 20;
            v.setInt32(a, L[s]!, true);
            v.setInt32(a + 4, H[s]!, true);
            pc++;
            break;
          }

          // ---- atomics ----
          case 0xc3:
          case 0xcb:
          case 0xd3:
          case 0xdb:
            this.atomic(w, code[p + 1]!, code[p + 2]!, pc);
            pc++;
            break;

          // ---- legacy packet loads ----
          case 0x20:
          case 0x28:
          case 0x30:
          case 0x40:
          case 0x48:
          case 0x50:
            if (!this.legacyLoad(w, code[p + 2]!, pc)) return this.executedCount(startBudget, budget);
            pc++;
            break;

          // ---- jumps ----
          case 0x05:
            pc = code[p + 1]!;
            break;

          case 0x15: {
            const imm = code[p + 2]!;
            pc = L[d] === imm && H[d] === imm >> 31 ? code[p + 1]! : pc + 1;
            break;
          }
          case 0x1d: {
            const s = w >>> 20;
            pc = L[d] === L[s] && H[d] === H[s] ? code[p + 1]! : pc + 1;
            break;
          }
          case 0x55: {
            const imm = code[p + 2]!;
            pc = L[d] !== imm || H[d] !== imm >> 31 ? code[p + 1]! : pc + 1;
            break;
          }
          case 0x5d: {
            const s = w >>> 20;
            pc = L[d] !== L[s] || H[d] !== H[s] ? code[p + 1]! : pc + 1;
            break;
          }
          case 0x45: {
            const imm = code[p + 2]!;
            pc = (L[d]! & imm) !== 0 || (H[d]! & (imm >> 31)) !== 0 ? code[p + 1]! : pc + 1;
            break;
          }
          case 0x4d: {
            const s = w >>> 20;
            pc = (L[d]! & L[s]!) !== 0 || (H[d]! & H[s]!) !== 0 ? code[p + 1]! : pc + 1;
            break;
          }
          case 0x25: {
            const imm = code[p + 2]!;
            pc = ucmp(H[d]!, L[d]!, imm >> 31, imm) > 0 ? code[p + 1]! : pc + 1;
            break;
          }
          case 0x2d: {
            const s = w >>> 20;
            pc = ucmp(H[d]!, L[d]!, H[s]!, L[s]!) > 0 ? code[p + 1]! : pc + 1;
            break;
          }
          case 0x35: {
            const imm = code[p + 2]!;
            pc = ucmp(H[d]!, L[d]!, imm >> 31, imm) >= 0 ? code[p + 1]! : pc + 1;
            break;
          }
          case 0x3d: {
            const s = w >>> 20;
            pc = ucmp(H[d]!, L[d]!, H[s]!, L[s]!) >= 0 ? code[p + 1]! : pc + 1;
            break;
          }
          case 0xa5: {
            const imm = code[p + 2]!;
            pc = ucmp(H[d]!, L[d]!, imm >> 31, imm) < 0 ? code[p + 1]! : pc + 1;
            break;
          }
          case 0xad: {
            const s = w >>> 20;
            pc = ucmp(H[d]!, L[d]!, H[s]!, L[s]!) < 0 ? code[p + 1]! : pc + 1;
            break;
          }
          case 0xb5: {
            const imm = code[p + 2]!;
            pc = ucmp(H[d]!, L[d]!, imm >> 31, imm) <= 0 ? code[p + 1]! : pc + 1;
            break;
          }
          case 0xbd: {
            const s = w >>> 20;
            pc = ucmp(H[d]!, L[d]!, H[s]!, L[s]!) <= 0 ? code[p + 1]! : pc + 1;
            break;
          }
          case 0x65: {
            const imm = code[p + 2]!;
            pc = scmp(H[d]!, L[d]!, imm >> 31, imm) > 0 ? code[p + 1]! : pc + 1;
            break;
          }
          case 0x6d: {
            const s = w >>> 20;
            pc = scmp(H[d]!, L[d]!, H[s]!, L[s]!) > 0 ? code[p + 1]! : pc + 1;
            break;
          }
          case 0x75: {
            const imm = code[p + 2]!;
            pc = scmp(H[d]!, L[d]!, imm >> 31, imm) >= 0 ? code[p + 1]! : pc + 1;
            break;
          }
          case 0x7d: {
            const s = w >>> 20;
            pc = scmp(H[d]!, L[d]!, H[s]!, L[s]!) >= 0 ? code[p + 1]! : pc + 1;
            break;
          }
          case 0xc5: {
            const imm = code[p + 2]!;
            pc = scmp(H[d]!, L[d]!, imm >> 31, imm) < 0 ? code[p + 1]! : pc + 1;
            break;
          }
          case 0xcd: {
            const s = w >>> 20;
            pc = scmp(H[d]!, L[d]!, H[s]!, L[s]!) < 0 ? code[p + 1]! : pc + 1;
            break;
          }
          case 0xd5: {
            const imm = code[p + 2]!;
            pc = scmp(H[d]!, L[d]!, imm >> 31, imm) <= 0 ? code[p + 1]! : pc + 1;
            break;
          }
          case 0xdd: {
            const s = w >>> 20;
            pc = scmp(H[d]!, L[d]!, H[s]!, L[s]!) <= 0 ? code[p + 1]! : pc + 1;
            break;
          }

          // ---- 32-bit jumps: compare the low halves ----
          case 0x16:
            pc = L[d] === code[p + 2] ? code[p + 1]! : pc + 1;
            break;
          case 0x1e:
            pc = L[d] === L[w >>> 20] ? code[p + 1]! : pc + 1;
            break;
          case 0x56:
            pc = L[d] !== code[p + 2] ? code[p + 1]! : pc + 1;
            break;
          case 0x5e:
            pc = L[d] !== L[w >>> 20] ? code[p + 1]! : pc + 1;
            break;
          case 0x46:
            pc = (L[d]! & code[p + 2]!) !== 0 ? code[p + 1]! : pc + 1;
            break;
          case 0x4e:
            pc = (L[d]! & L[w >>> 20]!) !== 0 ? code[p + 1]! : pc + 1;
            break;
          case 0x26:
            pc = L[d]! >>> 0 > code[p + 2]! >>> 0 ? code[p + 1]! : pc + 1;
            break;
          case 0x2e:
            pc = L[d]! >>> 0 > L[w >>> 20]! >>> 0 ? code[p + 1]! : pc + 1;
            break;
          case 0x36:
            pc = L[d]! >>> 0 >= code[p + 2]! >>> 0 ? code[p + 1]! : pc + 1;
            break;
          case 0x3e:
            pc = L[d]! >>> 0 >= L[w >>> 20]! >>> 0 ? code[p + 1]! : pc + 1;
            break;
          case 0xa6:
            pc = L[d]! >>> 0 < code[p + 2]! >>> 0 ? code[p + 1]! : pc + 1;
            break;
          case 0xae:
            pc = L[d]! >>> 0 < L[w >>> 20]! >>> 0 ? code[p + 1]! : pc + 1;
            break;
          case 0xb6:
            pc = L[d]! >>> 0 <= code[p + 2]! >>> 0 ? code[p + 1]! : pc + 1;
            break;
          case 0xbe:
            pc = L[d]! >>> 0 <= L[w >>> 20]! >>> 0 ? code[p + 1]! : pc + 1;
            break;
          case 0x66:
            pc = L[d]! > code[p + 2]! ? code[p + 1]! : pc + 1;
            break;
          case 0x6e:
            pc = L[d]! > L[w >>> 20]! ? code[p + 1]! : pc + 1;
            break;
          case 0x76:
            pc = L[d]! >= code[p + 2]! ? code[p + 1]! : pc + 1;
            break;
          case 0x7e:
            pc = L[d]! >= L[w >>> 20]! ? code[p + 1]! : pc + 1;
            break;
          case 0xc6:
            pc = L[d]! < code[p + 2]! ? code[p + 1]! : pc + 1;
            break;
          case 0xce:
            pc = L[d]! < L[w >>> 20]! ? code[p + 1]! : pc + 1;
            break;
          case 0xd6:
            pc = L[d]! <= code[p + 2]! ? code[p + 1]! : pc + 1;
            break;
          case 0xde:
            pc = L[d]! <= L[w >>> 20]! ? code[p + 1]! : pc + 1;
            break;

          // ---- calls and exit ----
          case 0x85:
            this.pc = pc;
            this.callHelper(code[p + 2]!);
            if (this.exitValue !== undefined) {
              this.setReg(0, this.exitValue);
              return this.executedCount(startBudget, budget);
            }
            if (this.pendingTail !== undefined) {
              this.current = this.pendingTail;
              this.pendingTail = undefined;
              pc = 0;
              continue program;
            }
            pc++;
            break;
          case 0x8d: {
            this.pc = pc;
            const h = H[d]!;
            const l = L[d]!;
            if (h === CODE_REGION) {
              const target = l / BPF_INSN_SIZE;
              const ok = Number.isInteger(target) && target >= 0 && target < this.current.count;
              if (!ok || (code[target * STRIDE]! & 0xffff) === OP_LDDW_TAIL) {
                throw this.fault('helper', `callx to ${hex64(toBigInt(h, l))}, which is not an instruction`);
              }
              this.pushFrame(pc, target);
              pc = target;
              break;
            }
            if (h !== 0) throw this.fault('helper', `callx to ${hex64(toBigInt(h, l))}, which is not a function`);
            this.callHelper(l);
            if (this.exitValue !== undefined) {
              this.setReg(0, this.exitValue);
              return this.executedCount(startBudget, budget);
            }
            pc++;
            break;
          }
          case 0x95:
            if (this.depth === 0) {
              // Where the run ended, for the C line of the exit (RunOutput.exitLine).
              this.pc = pc;
              return this.executedCount(startBudget, budget);
            }
            if (this.depth === this.stopDepth) return this.executedCount(startBudget, budget);
            pc = this.popFrame();
            break;

          // The internal opcodes above 0xff (decode.ts) in a switch of their own: the one above then
          // spans the raw opcodes only, which V8 dispatches through a jump table.
          default:
            switch (w & 0xffff) {
              case 0x37 + SIGNED: {
                const imm = code[p + 2]!;
                sdiv64(H[d]!, L[d]!, imm >> 31, imm);
                H[d] = out[0]!;
                L[d] = out[1]!;
                pc++;
                break;
              }
              case 0x97 + SIGNED: {
                const imm = code[p + 2]!;
                smod64(H[d]!, L[d]!, imm >> 31, imm);
                H[d] = out[0]!;
                L[d] = out[1]!;
                pc++;
                break;
              }
              case 0x3f + SIGNED: {
                const s = w >>> 20;
                sdiv64(H[d]!, L[d]!, H[s]!, L[s]!);
                H[d] = out[0]!;
                L[d] = out[1]!;
                pc++;
                break;
              }
              case 0x9f + SIGNED: {
                const s = w >>> 20;
                smod64(H[d]!, L[d]!, H[s]!, L[s]!);
                H[d] = out[0]!;
                L[d] = out[1]!;
                pc++;
                break;
              }
              case 0xbf + SIGNED: {
                const s = w >>> 20;
                const bits = code[p + 1]!;
                const v = bits === 8 ? (L[s]! << 24) >> 24 : bits === 16 ? (L[s]! << 16) >> 16 : L[s]!;
                L[d] = v;
                H[d] = v >> 31;
                pc++;
                break;
              }
              case 0x34 + SIGNED: {
                const b = code[p + 2]!;
                // Truncating division; INT32_MIN / -1 = 2^31 wraps to INT32_MIN as the kernel defines.
                L[d] = b === 0 ? 0 : (L[d]! / b) | 0;
                H[d] = 0;
                pc++;
                break;
              }
              case 0x94 + SIGNED: {
                const b = code[p + 2]!;
                if (b !== 0) L[d] = (L[d]! % b) | 0;
                H[d] = 0;
                pc++;
                break;
              }
              case 0x3c + SIGNED: {
                const b = L[w >>> 20]!;
                L[d] = b === 0 ? 0 : (L[d]! / b) | 0;
                H[d] = 0;
                pc++;
                break;
              }
              case 0x9c + SIGNED: {
                const b = L[w >>> 20]!;
                if (b !== 0) L[d] = (L[d]! % b) | 0;
                H[d] = 0;
                pc++;
                break;
              }
              case 0xbc + SIGNED: {
                const v = L[w >>> 20]!;
                L[d] = code[p + 1]! === 8 ? (v << 24) >> 24 : (v << 16) >> 16;
                H[d] = 0;
                pc++;
                break;
              }
              case OP_CALL_LOCAL:
                this.pushFrame(pc, code[p + 1]!);
                pc = code[p + 1]!;
                break;
              case OP_CALL_KFUNC:
                this.pc = pc;
                throw this.fault('helper', `unsupported: kfunc ${this.kfuncName?.(code[p + 2]!) ?? `with btf id ${code[p + 2]!}`}`);
              case OP_FALL_THROUGH:
                this.pc = pc;
                throw this.fault('fall-through', 'execution ran past the last instruction');
              default:
                this.pc = pc;
                throw this.fault('invalid-insn', `unexpected opcode 0x${(w & 0xffff).toString(16)}`);
            }
            break;
        }
      }
    }
  }

  /** @internal for compiled programs (compile.ts) */
  pushFrame(pc: number, target: number): void {
    const depth = this.depth;
    if (depth + 1 >= MAX_CALL_FRAMES) {
      this.pc = pc;
      throw this.fault('call-depth', `call to pc ${target} exceeds the ${MAX_CALL_FRAMES} call frames the kernel allows`);
    }
    const f = depth * 9;
    const frames = this.frames;
    frames[f] = pc;
    for (let r = 0; r < 4; r++) {
      frames[f + 1 + 2 * r] = this.hi[6 + r]!;
      frames[f + 2 + 2 * r] = this.lo[6 + r]!;
    }
    this.depth = depth + 1;
    this.memory.stackFrame(depth + 1).fill(0);
    this.enterFrame(depth + 1);
  }

  /**
   * @internal for compiled programs (compile.ts). Return from a bpf-to-bpf call: r6..r9 and r10 as
   * the caller left them; gives the pc to continue at.
   */
  popFrame(): number {
    const depth = this.depth;
    const f = (depth - 1) * 9;
    const frames = this.frames;
    for (let r = 0; r < 4; r++) {
      this.hi[6 + r] = frames[f + 1 + 2 * r]!;
      this.lo[6 + r] = frames[f + 2 + 2 * r]!;
    }
    this.depth = depth - 1;
    this.enterFrame(depth - 1);
    return frames[f]! + 1;
  }

  /** @internal for compiled programs (compile.ts) */
  callHelper(id: number): void {
    const fn = this.helpers.get(id);
    if (fn === undefined) throw this.fault('helper', `call to ${helperName(id)} (#${id}), which the emulator does not provide`);
    let result: bigint | number | void;
    try {
      result = fn(this);
    } catch (e) {
      if (e instanceof BpfError) throw e;
      throw this.fault('helper', `helper #${id} (${fn.name || 'anonymous'}) failed: ${String(e)}`);
    }
    this.setReg(0, result ?? 0);
  }

  /** @internal for compiled programs (compile.ts) */
  udiv64(d: number, bh: number, bl: number, mod: boolean): void {
    const L = this.lo;
    const H = this.hi;
    if (bh === 0 && bl === 0) {
      if (!mod) {
        L[d] = 0;
        H[d] = 0;
      }
      return;
    }
    if (bh === 0 && H[d] === 0) {
      const a = L[d]! >>> 0;
      const b = bl >>> 0;
      L[d] = mod ? a % b : (a / b) >>> 0;
      return;
    }
    udivmod64(H[d]!, L[d]!, bh, bl);
    const r = mod ? rem : out;
    H[d] = r[0]!;
    L[d] = r[1]!;
  }

  /** @internal for compiled programs (compile.ts) */
  lsh64(d: number, n: number): void {
    if (n === 0) return;
    const L = this.lo;
    const H = this.hi;
    if (n < 32) {
      H[d] = (H[d]! << n) | (L[d]! >>> (32 - n));
      L[d] = L[d]! << n;
    } else {
      H[d] = L[d]! << (n - 32);
      L[d] = 0;
    }
  }

  /** @internal for compiled programs (compile.ts) */
  rsh64(d: number, n: number): void {
    if (n === 0) return;
    const L = this.lo;
    const H = this.hi;
    if (n < 32) {
      L[d] = (L[d]! >>> n) | (H[d]! << (32 - n));
      H[d] = H[d]! >>> n;
    } else {
      L[d] = H[d]! >>> (n - 32);
      H[d] = 0;
    }
  }

  /** @internal for compiled programs (compile.ts) */
  arsh64(d: number, n: number): void {
    if (n === 0) return;
    const L = this.lo;
    const H = this.hi;
    if (n < 32) {
      L[d] = (L[d]! >>> n) | (H[d]! << (32 - n));
      H[d] = H[d]! >> n;
    } else {
      L[d] = H[d]! >> (n - 32);
      H[d] = H[d]! >> 31;
    }
  }

  /** Byte swap of the low `bits` bits, zero-extended (the host byte order is little-endian). */
  /** @internal for compiled programs (compile.ts) */
  swap(d: number, bits: number): void {
    const L = this.lo;
    const H = this.hi;
    if (bits === 16) {
      L[d] = bswap16(L[d]!);
      H[d] = 0;
    } else if (bits === 32) {
      L[d] = bswap32(L[d]!);
      H[d] = 0;
    } else {
      const l = L[d]!;
      L[d] = bswap32(H[d]!);
      H[d] = bswap32(l);
    }
  }

  /** @internal for compiled programs (compile.ts) */
  atomic(w: number, off: number, imm: number, pc: number): void {
    const L = this.lo;
    const H = this.hi;
    const d = (w >>> 16) & 15;
    const s = w >>> 20;
    const size = SIZE_OF[((w & 0xff) >> 3) & 3]!;
    if (imm === BPF_LOAD_ACQ) {
      const a = this.ea(s, off);
      const v = this.access(this.eaId, a, size, false, pc);
      L[d] = size === 8 || size === 4 ? v.getInt32(a, true) : size === 2 ? v.getUint16(a, true) : v.getUint8(a);
      H[d] = size === 8 ? v.getInt32(a + 4, true) : 0;
      return;
    }
    const a = this.ea(d, off);
    const v = this.access(this.eaId, a, size, true, pc);
    if (imm === BPF_STORE_REL) {
      if (size === 8) {
        v.setInt32(a, L[s]!, true);
        v.setInt32(a + 4, H[s]!, true);
      } else if (size === 4) v.setInt32(a, L[s]!, true);
      else if (size === 2) v.setInt16(a, L[s]!, true);
      else v.setInt8(a, L[s]!);
      return;
    }
    const wide = size === 8;
    const oldL = v.getInt32(a, true);
    const oldH = wide ? v.getInt32(a + 4, true) : 0;
    const srcL = L[s]!;
    const srcH = wide ? H[s]! : 0;
    let newL: number;
    let newH: number;
    switch (imm & ~BPF_FETCH) {
      case 0x00: {
        newL = (oldL + srcL) | 0;
        newH = (oldH + srcH + ((newL >>> 0) < (oldL >>> 0) ? 1 : 0)) | 0;
        break;
      }
      case 0x40:
        newL = oldL | srcL;
        newH = oldH | srcH;
        break;
      case 0x50:
        newL = oldL & srcL;
        newH = oldH & srcH;
        break;
      case 0xa0:
        newL = oldL ^ srcL;
        newH = oldH ^ srcH;
        break;
      case BPF_XCHG & ~BPF_FETCH:
        newL = srcL;
        newH = srcH;
        break;
      default: {
        // BPF_CMPXCHG: compare with r0, write src if equal, r0 gets the old value.
        const eq = wide ? oldL === L[0] && oldH === H[0] : oldL === L[0];
        newL = eq ? srcL : oldL;
        newH = eq ? srcH : oldH;
        break;
      }
    }
    v.setInt32(a, newL, true);
    if (wide) v.setInt32(a + 4, newH, true);
    if (imm === BPF_CMPXCHG) {
      L[0] = oldL;
      H[0] = oldH;
    } else if (imm & BPF_FETCH) {
      L[s] = oldL;
      H[s] = oldH;
    }
  }

  /**
   * BPF_LD | BPF_ABS / BPF_IND: big-endian load from the packet into r0; like the kernel, an out-of-range
   * offset ends the program with r0 = 0 (returns false then).
   */
  /** @internal for compiled programs (compile.ts) */
  legacyLoad(w: number, imm: number, pc: number): boolean {
    if (this.packetId === 0) {
      this.pc = pc;
      throw this.fault('invalid-insn', 'legacy packet load without a packet (setLegacyPacket)');
    }
    const L = this.lo;
    const H = this.hi;
    const size = SIZE_OF[((w & 0xff) >> 3) & 3]!;
    const ind = (w & 0xe0) === 0x40;
    const off = ind ? (L[w >>> 20]! + imm) | 0 : imm;
    if (off < 0 || off + size > this.packetLen) {
      L[0] = 0;
      H[0] = 0;
      return false;
    }
    const v = this.access(this.packetId, this.packetStart + off, size, false, pc);
    const at = this.packetStart + off;
    L[0] = size === 4 ? v.getInt32(at, false) : size === 2 ? v.getUint16(at, false) : v.getUint8(at);
    H[0] = 0;
    return true;
  }
}

function hex64(v: bigint): string {
  return `0x${v.toString(16)}`;
}
