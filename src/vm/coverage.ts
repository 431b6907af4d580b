// Execution counters for coverage: per instruction, how often it ran, and per conditional jump, how
// often it jumped. The interpreter counts instruction by instruction (step); compiled code runs an
// instrumented translation (compile.ts) that counts each block once per entry and each jump taken,
// and the two are folded into per-instruction counts when asked. A jump's fall-through count is its
// executions minus its jumps, so neither path needs a third counter.
import { compileInstrumented, type CompiledProgram } from './compile.js';
import { OP_LDDW_TAIL, STRIDE, type Program } from './decode.js';

function isConditionalJump(op: number): boolean {
  const cls = op & 7;
  if (op > 0xff || (cls !== 5 && cls !== 6)) return false;
  const o = op & 0xf0;
  return o !== 0x00 && o !== 0x80 && o !== 0x90;
}

/** The counters of one decoded program (an entry program with its sub-programs, or a tail-call target). */
export class ProgramCounters {
  /** Interpreter: executions per instruction; also the corrections of a fault inside a compiled block. */
  readonly steps: Float64Array;
  /** Per conditional jump: times it went to its target (a jump whose target is the next instruction never counts). */
  readonly taken: Float64Array;
  /** Compiled code: entries of the block that starts at each pc. */
  readonly blocks: Float64Array;
  /** Set by the instrumented translation: end (exclusive) of the block starting at each pc, 0 elsewhere. */
  readonly blockEnd: Int32Array;
  /** 1 where the instruction is a conditional jump. */
  readonly conditional: Uint8Array;
  /** The instrumented translation, once asked for. */
  compiled: CompiledProgram | undefined;

  constructor(
    readonly program: Program,
    /** @internal for the instrumented translation, which notes its conditional jumps there */
    readonly recorder: CoverageRecorder,
    /** @internal this program's index in the recorder, what a noted jump names it by */
    readonly id: number,
  ) {
    const n = program.count;
    this.steps = new Float64Array(n);
    this.taken = new Float64Array(n);
    this.blocks = new Float64Array(n + 1);
    this.blockEnd = new Int32Array(n + 1);
    this.conditional = new Uint8Array(n);
    for (let pc = 0; pc < n; pc++) this.conditional[pc] = isConditionalJump(program.code[pc * STRIDE]! & 0xffff) ? 1 : 0;
  }

  /**
   * Called by compiled code when a fault leaves the block around `pc`: the block was counted whole on
   * entry, so the instructions after the faulting one are taken back.
   */
  faultAt(pc: number): void {
    let start = pc;
    while (start > 0 && this.blockEnd[start] === 0) start--;
    const end = this.blockEnd[start]!;
    for (let i = pc + 1; i < end; i++) this.steps[i]!--;
  }

  /** Executions per instruction, interpreted and compiled together (0 for the second slot of ld_imm64). */
  counts(): Float64Array {
    const n = this.program.count;
    const code = this.program.code;
    const out = Float64Array.from(this.steps);
    for (let start = 0; start < n; start++) {
      const end = this.blockEnd[start]!;
      const c = this.blocks[start]!;
      if (end === 0 || c === 0) continue;
      for (let i = start; i < end && i < n; i++) out[i]! += c;
    }
    for (let i = 0; i < n; i++) if ((code[i * STRIDE]! & 0xffff) === OP_LDDW_TAIL) out[i] = 0;
    return out;
  }

  reset(): void {
    this.steps.fill(0);
    this.taken.fill(0);
    this.blocks.fill(0);
  }
}

/** What a Vm with coverage on counts into, for every program it runs. */
export class CoverageRecorder {
  private readonly byProgram = new Map<Program, ProgramCounters>();
  private readonly list: ProgramCounters[] = [];
  private current: ProgramCounters | undefined;
  /** The last compiled() answer: a run asks for its entry program's translation every time. */
  private lastCompiled: ProgramCounters | undefined;
  /** pc of the conditional jump the interpreter just ran, whose edge the next step tells; -1 if none. */
  private pendingJump = -1;
  /**
   * The last conditional jump of the run, which decided where it went (for messages): the id of its
   * program's counters and its pc, numbers so that compiled code notes them without a write barrier.
   */
  jumpId = -1;
  jumpPc = -1;

  counters(program: Program): ProgramCounters {
    let c = this.byProgram.get(program);
    if (c === undefined) {
      c = new ProgramCounters(program, this, this.list.length);
      this.byProgram.set(program, c);
      this.list.push(c);
    }
    return c;
  }

  /** Every program that ran (or was compiled) with its counters. */
  programs(): ProgramCounters[] {
    return [...this.list];
  }

  /** The program of the run's last conditional jump, if it had one. */
  get jumpProgram(): Program | undefined {
    return this.list[this.jumpId]?.program;
  }

  /** Start of a run: a jump left pending by a run the budget cut short says nothing about this one. */
  begin(): void {
    this.pendingJump = -1;
    this.jumpId = -1;
    this.jumpPc = -1;
  }

  /** The interpreter is about to run instruction `pc` of `program`. */
  step(program: Program, pc: number): void {
    let c = this.current;
    if (c === undefined || c.program !== program) c = this.current = this.counters(program);
    const j = this.pendingJump;
    if (j >= 0) {
      // A jump is always followed by an instruction of the same program and frame.
      if (pc !== j + 1) c.taken[j]!++;
      this.pendingJump = -1;
    }
    c.steps[pc]!++;
    if (c.conditional[pc] === 1) {
      this.pendingJump = pc;
      this.jumpId = c.id;
      this.jumpPc = pc;
    }
  }

  /** The instrumented translation of `program`, compiled once. */
  compiled(program: Program): CompiledProgram {
    let c = this.lastCompiled;
    if (c === undefined || c.program !== program) c = this.lastCompiled = this.counters(program);
    return (c.compiled ??= compileInstrumented(program, c));
  }

  reset(): void {
    for (const c of this.byProgram.values()) c.reset();
    this.pendingJump = -1;
  }
}
