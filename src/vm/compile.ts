// The compiled path: a pre-decoded program translated once into a JavaScript function (new Function),
// so V8 optimizes each instruction with its registers, offsets and immediates as constants instead of
// dispatching on every opcode. Registers live in locals and go back to the Vm's lo/hi arrays before a
// helper, the interpreter, the caller or a fault can look at them, so all of those see exactly what
// the interpreter would show them.
//
// The function covers straight-line code, jumps, memory, atomics, legacy packet loads, helper calls,
// bpf-to-bpf calls and exits; a tail call returns to Vm.start, which runs the target compiled too.
// Whatever else (callx, kfuncs, running off the end) hands the run to the interpreter at that pc with
// the budget left, and the interpreter, the reference the compiled path is tested against, finishes it.
import { OP_CALL_KFUNC, OP_CALL_LOCAL, OP_FALL_THROUGH, OP_LDDW_TAIL, SIGNED, STRIDE, type Program } from './decode.js';
import { bswap16, bswap32, mul64, negate, out, sdiv64, smod64 } from './int64.js';
import { BPF_ADD, MAX_BPF_STACK } from '../isa/opcodes.js';
import type { ProgramCounters } from './coverage.js';
import { STACK_REGION_BASE } from './memory.js';
import type { Vm } from './vm.js';

/**
 * Runs the program from pc 0 (registers and stack as the Vm holds them) with `budget` instructions to
 * spend and returns what is left; sets vm.resumeAt to -1 when the program exited, to TAIL_CALL when
 * it tail-called vm.current, else to the pc the interpreter must continue from. `fresh` says that the
 * run starts a program: r1 as the arrays hold it, r10 the top of frame 0, every other register zero,
 * whatever stale values the arrays hold for registers this program writes (Vm.runWithPointer).
 */
export type CompiledProgram = (vm: Vm, budget: number, fresh: boolean) => number;

/** vm.resumeAt after a tail call: go on at pc 0 of vm.current, with the same frame. */
export const TAIL_CALL = -2;

/**
 * Largest generated source of one function. V8 never optimizes a function of more than 60 KiB of
 * bytecode (max_optimized_bytecode_size), and unoptimized the compiled code is several times slower
 * than the interpreter; the bytecode measures a little under the source length, so a program whose
 * source exceeds this is split into regions that each stay below it.
 */
export const MAX_COMPILED_SOURCE = 60_000;
/** Blocks are cut to at most about this much source, so that every one fits a region. */
const BLOCK_SOURCE = 8_000;
/**
 * Internal to a split program: a region function leaves with resumeAt = REGION_JUMP - pc when the
 * run goes on at a pc outside it.
 */
const REGION_JUMP = -3;

const RUNTIME = { bswap16, bswap32, mul64, negate, out, sdiv64, smod64 };

const cache = new WeakMap<Program, CompiledProgram>();

/** The program's compiled function (cached per program). */
export function compileProgram(program: Program): CompiledProgram {
  let fn = cache.get(program);
  if (fn === undefined) {
    fn = build(program);
    cache.set(program, fn);
  }
  return fn;
}

/**
 * The translation with coverage counters (coverage.ts): each block counts its entries into
 * counters.blocks and records its extent in counters.blockEnd, each conditional jump counts into
 * counters.taken when it jumps (and notes itself as the recorder's last jump), and a fault hands its
 * pc to counters.faultAt. Not cached here: the counters own it.
 */
export function compileInstrumented(program: Program, counters: ProgramCounters): CompiledProgram {
  return build(program, counters);
}

/** Jumps: condition on (dst, operand) by the opcode's operation bits, for 64-bit and 32-bit compares. */
function condition(op: number, jmp32: boolean, d: number, reg: boolean, s: number, imm: number): string {
  const ld = `l${d}`;
  const hd = `h${d}`;
  const lb = reg ? `l${s}` : `${imm}`;
  const hb = reg ? `h${s}` : `${imm >> 31}`;
  // 64-bit compares as the high words, or the low words when those are equal (no call to ucmp/scmp).
  const uh = reg ? `(${hb} >>> 0)` : `${(imm >> 31) >>> 0}`;
  const ul = reg ? `(${lb} >>> 0)` : `${imm >>> 0}`;
  if (jmp32) {
    const ub = reg ? `(${lb} >>> 0)` : `${imm >>> 0}`;
    switch (op) {
      case 0x10: return `${ld} === ${lb}`;
      case 0x50: return `${ld} !== ${lb}`;
      case 0x40: return `(${ld} & ${lb}) !== 0`;
      case 0x20: return `(${ld} >>> 0) > ${ub}`;
      case 0x30: return `(${ld} >>> 0) >= ${ub}`;
      case 0xa0: return `(${ld} >>> 0) < ${ub}`;
      case 0xb0: return `(${ld} >>> 0) <= ${ub}`;
      case 0x60: return `${ld} > ${lb}`;
      case 0x70: return `${ld} >= ${lb}`;
      case 0xc0: return `${ld} < ${lb}`;
      case 0xd0: return `${ld} <= ${lb}`;
    }
  } else {
    switch (op) {
      case 0x10: return `${ld} === ${lb} && ${hd} === ${hb}`;
      case 0x50: return `${ld} !== ${lb} || ${hd} !== ${hb}`;
      case 0x40: return `(${ld} & ${lb}) !== 0 || (${hd} & ${hb}) !== 0`;
      case 0x20: return `(${hd} !== ${hb} ? (${hd} >>> 0) > ${uh} : (${ld} >>> 0) > ${ul})`;
      case 0x30: return `(${hd} !== ${hb} ? (${hd} >>> 0) > ${uh} : (${ld} >>> 0) >= ${ul})`;
      case 0xa0: return `(${hd} !== ${hb} ? (${hd} >>> 0) < ${uh} : (${ld} >>> 0) < ${ul})`;
      case 0xb0: return `(${hd} !== ${hb} ? (${hd} >>> 0) < ${uh} : (${ld} >>> 0) <= ${ul})`;
      case 0x60: return `(${hd} !== ${hb} ? ${hd} > ${hb} : (${ld} >>> 0) > ${ul})`;
      case 0x70: return `(${hd} !== ${hb} ? ${hd} > ${hb} : (${ld} >>> 0) >= ${ul})`;
      case 0xc0: return `(${hd} !== ${hb} ? ${hd} < ${hb} : (${ld} >>> 0) < ${ul})`;
      case 0xd0: return `(${hd} !== ${hb} ? ${hd} < ${hb} : (${ld} >>> 0) <= ${ul})`;
    }
  }
  throw new Error(`no condition for jump op 0x${op.toString(16)}`);
}

function isCondJump(op: number): boolean {
  const cls = op & 7;
  if (op > 0xff || (cls !== 5 && cls !== 6)) return false;
  const o = op & 0xf0;
  return o !== 0x00 && o !== 0x80 && o !== 0x90;
}

/**
 * The inline test that (h, a) = base register + off, before any wrap into 64 bits, lies inside an
 * ordinary region (writable for stores); everything else goes to Vm.slowLoad / slowStore, which wrap,
 * serve the context or fault exactly as the interpreter does. The size alone rules out region 0, the
 * context, the code region and unmapped ids: Memory gives them all size 0 (or none, out of range).
 */
function inBounds(off: number, size: number, write: boolean): string {
  return `${off < 0 ? 'a >= 0 && ' : ''}a + ${size} <= S[h]${write ? ' && W[h]' : ''}`;
}

const LOADS: Record<number, [number, string, boolean]> = {
  0x61: [4, 'getInt32(a, true)', false],
  0x69: [2, 'getUint16(a, true)', false],
  0x71: [1, 'getUint8(a)', false],
  0x81: [4, 'getInt32(a, true)', true],
  0x89: [2, 'getInt16(a, true)', true],
  0x91: [1, 'getInt8(a)', true],
};
/** Stores by the opcode's size bits (BPF_W, BPF_H, BPF_B, BPF_DW). */
const STORES: Record<number, [number, string]> = { 0x00: [4, 'setInt32'], 0x08: [2, 'setInt16'], 0x10: [1, 'setInt8'], 0x18: [8, ''] };

/**
 * Source for one instruction that simply continues at pc + 1 (or pc + 2 for ld_imm64), or undefined.
 * Registers are the locals l0..l10 / h0..h10; every value assigned to one is an int32 (`| 0`), as the
 * interpreter's Int32Array would make it.
 */
function straight(code: Int32Array, pc: number): string | undefined {
  const p = pc * STRIDE;
  const w = code[p]!;
  const op = w & 0xffff;
  const d = (w >>> 16) & 15;
  const s = w >>> 20;
  const off = code[p + 1]!;
  const imm = code[p + 2]!;
  const immU = imm >>> 0;
  const ih = imm >> 31;
  const D = `l${d}`;
  const DH = `h${d}`;
  const S_ = `l${s}`;
  const SH = `h${s}`;
  const zx = `${DH} = 0;`;
  /** Through a Vm method working on the register arrays: dst goes there and comes back. */
  const viaVm = (call: string) => `L[${d}] = ${D}; H[${d}] = ${DH}; ${call}; ${D} = L[${d}]; ${DH} = H[${d}];`;
  const viaOut = (call: string) => `${call}; ${DH} = out[0]; ${D} = out[1];`;
  switch (op) {
    // ---- ALU64 ----
    case 0x07: return `{ const x = ${D}; const r = (x + ${imm}) | 0; ${DH} = (${DH} + ${ih} + ((r >>> 0) < (x >>> 0) ? 1 : 0)) | 0; ${D} = r; }`;
    case 0x0f: return `{ const x = ${D}; const r = (x + ${S_}) | 0; ${DH} = (${DH} + ${SH} + ((r >>> 0) < (x >>> 0) ? 1 : 0)) | 0; ${D} = r; }`;
    case 0x17: return `{ const x = ${D}; ${DH} = (${DH} - ${ih} - ((x >>> 0) < ${immU} ? 1 : 0)) | 0; ${D} = (x - ${imm}) | 0; }`;
    case 0x1f: return `{ const x = ${D}; const y = ${S_}; ${DH} = (${DH} - ${SH} - ((x >>> 0) < (y >>> 0) ? 1 : 0)) | 0; ${D} = (x - y) | 0; }`;
    case 0x27: return viaOut(`mul64(${DH}, ${D}, ${ih}, ${imm})`);
    case 0x2f: return viaOut(`mul64(${DH}, ${D}, ${SH}, ${S_})`);
    case 0x37: return viaVm(`vm.udiv64(${d}, ${ih}, ${imm}, false)`);
    case 0x3f: return viaVm(`vm.udiv64(${d}, ${SH}, ${S_}, false)`);
    case 0x97: return viaVm(`vm.udiv64(${d}, ${ih}, ${imm}, true)`);
    case 0x9f: return viaVm(`vm.udiv64(${d}, ${SH}, ${S_}, true)`);
    case 0x37 + SIGNED: return viaOut(`sdiv64(${DH}, ${D}, ${ih}, ${imm})`);
    case 0x3f + SIGNED: return viaOut(`sdiv64(${DH}, ${D}, ${SH}, ${S_})`);
    case 0x97 + SIGNED: return viaOut(`smod64(${DH}, ${D}, ${ih}, ${imm})`);
    case 0x9f + SIGNED: return viaOut(`smod64(${DH}, ${D}, ${SH}, ${S_})`);
    case 0x47: return `${D} |= ${imm}; ${DH} |= ${ih};`;
    case 0x4f: return `${D} |= ${S_}; ${DH} |= ${SH};`;
    case 0x57: return `${D} &= ${imm}; ${DH} &= ${ih};`;
    case 0x5f: return `${D} &= ${S_}; ${DH} &= ${SH};`;
    case 0xa7: return `${D} ^= ${imm}; ${DH} ^= ${ih};`;
    case 0xaf: return `${D} ^= ${S_}; ${DH} ^= ${SH};`;
    case 0xb7: return `${D} = ${imm}; ${DH} = ${ih};`;
    case 0xbf: return `${D} = ${S_}; ${DH} = ${SH};`;
    case 0xbf + SIGNED: {
      const v = off === 8 ? `(${S_} << 24) >> 24` : off === 16 ? `(${S_} << 16) >> 16` : S_;
      return `{ const v = ${v}; ${D} = v; ${DH} = v >> 31; }`;
    }
    case 0x67: return shift64('lsh', D, DH, imm & 63);
    case 0x77: return shift64('rsh', D, DH, imm & 63);
    case 0xc7: return shift64('arsh', D, DH, imm & 63);
    case 0x6f: return viaVm(`vm.lsh64(${d}, ${S_} & 63)`);
    case 0x7f: return viaVm(`vm.rsh64(${d}, ${S_} & 63)`);
    case 0xcf: return viaVm(`vm.arsh64(${d}, ${S_} & 63)`);
    case 0x87: return viaOut(`negate(${DH}, ${D})`);
    case 0xd7:
    case 0xdc:
      if (imm === 16) return `${D} = bswap16(${D}); ${zx}`;
      if (imm === 32) return `${D} = bswap32(${D}); ${zx}`;
      return `{ const x = ${D}; ${D} = bswap32(${DH}); ${DH} = bswap32(x); }`;
    case 0xd4: return imm === 64 ? '' : `${imm === 16 ? `${D} &= 0xffff; ` : ''}${zx}`;

    // ---- ALU32 (zero-extended) ----
    case 0x04: return `${D} = (${D} + ${imm}) | 0; ${zx}`;
    case 0x0c: return `${D} = (${D} + ${S_}) | 0; ${zx}`;
    case 0x14: return `${D} = (${D} - ${imm}) | 0; ${zx}`;
    case 0x1c: return `${D} = (${D} - ${S_}) | 0; ${zx}`;
    case 0x24: return `${D} = Math.imul(${D}, ${imm}); ${zx}`;
    case 0x2c: return `${D} = Math.imul(${D}, ${S_}); ${zx}`;
    case 0x34: return `${D} = ${immU === 0 ? '0' : `(((${D} >>> 0) / ${immU}) >>> 0) | 0`}; ${zx}`;
    case 0x3c: return `{ const b = ${S_} >>> 0; ${D} = b === 0 ? 0 : (((${D} >>> 0) / b) >>> 0) | 0; } ${zx}`;
    case 0x34 + SIGNED: return `${D} = ${imm === 0 ? '0' : `(${D} / ${imm}) | 0`}; ${zx}`;
    case 0x3c + SIGNED: return `{ const b = ${S_}; ${D} = b === 0 ? 0 : (${D} / b) | 0; } ${zx}`;
    case 0x94: return `${immU === 0 ? '' : `${D} = ((${D} >>> 0) % ${immU}) | 0; `}${zx}`;
    case 0x9c: return `{ const b = ${S_} >>> 0; if (b !== 0) ${D} = ((${D} >>> 0) % b) | 0; } ${zx}`;
    case 0x94 + SIGNED: return `${imm === 0 ? '' : `${D} = (${D} % ${imm}) | 0; `}${zx}`;
    case 0x9c + SIGNED: return `{ const b = ${S_}; if (b !== 0) ${D} = (${D} % b) | 0; } ${zx}`;
    case 0x44: return `${D} |= ${imm}; ${zx}`;
    case 0x4c: return `${D} |= ${S_}; ${zx}`;
    case 0x54: return `${D} &= ${imm}; ${zx}`;
    case 0x5c: return `${D} &= ${S_}; ${zx}`;
    case 0xa4: return `${D} ^= ${imm}; ${zx}`;
    case 0xac: return `${D} ^= ${S_}; ${zx}`;
    case 0xb4: return `${D} = ${imm}; ${zx}`;
    case 0xbc: return `${D} = ${S_}; ${zx}`;
    case 0xbc + SIGNED: return `${D} = ${off === 8 ? `(${S_} << 24) >> 24` : `(${S_} << 16) >> 16`}; ${zx}`;
    case 0x64: return `${D} <<= ${imm & 31}; ${zx}`;
    case 0x6c: return `${D} <<= ${S_} & 31; ${zx}`;
    case 0x74: return `${D} = (${D} >>> ${imm & 31}) | 0; ${zx}`;
    case 0x7c: return `${D} = (${D} >>> (${S_} & 31)) | 0; ${zx}`;
    case 0xc4: return `${D} >>= ${imm & 31}; ${zx}`;
    case 0xcc: return `${D} >>= ${S_} & 31; ${zx}`;
    case 0x84: return `${D} = -${D} | 0; ${zx}`;

    case 0x18: return `${D} = ${imm}; ${DH} = ${code[p + 3]!};`;
  }
  const load = LOADS[op];
  if (load !== undefined || op === 0x79) {
    const [size, get, signed] = load ?? [8, '', false];
    const value = size === 8
      ? `const v = V[h]; ${D} = v.getInt32(a, true); ${DH} = v.getInt32(a + 4, true);`
      : signed ? `${D} = V[h].${get}; ${DH} = ${D} >> 31;` : `${D} = V[h].${get}; ${DH} = 0;`;
    // A context word (ContextAccess.fast) is read inline: packet pointers and plain u32 fields.
    const field = op === 0x61 ? `else if (h === C && (a & 3) === 0 && FR[a >>> 2] === 1) { ${D} = FL[a >>> 2]; ${DH} = FH[a >>> 2]; } ` : '';
    return `h = h${s}; a = (l${s} >>> 0) + ${off}; if (${inBounds(off, size, false)}) { ${value} } ${field}else { vm.slowLoad(h, a, ${size}, ${signed}, ${d}, ${pc}); ${D} = L[${d}]; ${DH} = H[${d}]; }`;
  }
  const cls = op & 7;
  if ((cls === 2 || cls === 3) && (op & 0xe0) === 0x60) {
    const [size, set] = STORES[op & 0x18]!;
    const [lo, hi] = cls === 2 ? [`${imm}`, `${ih}`] : [S_, SH];
    const mem = size === 8
      ? `const v = V[h]; v.setInt32(a, ${lo}, true); v.setInt32(a + 4, ${hi}, true);`
      : `V[h].${set}(a, ${lo}${size === 1 ? '' : ', true'});`;
    return `h = h${d}; a = (l${d} >>> 0) + ${off}; if (${inBounds(off, size, true)}) { ${mem} if (h === ${STACK_REGION_BASE}) mem.stackDirty = true; } else vm.slowStore(h, a, ${size}, ${hi}, ${lo}, ${pc});`;
  }
  return undefined;
}

function shift64(kind: 'lsh' | 'rsh' | 'arsh', D: string, DH: string, n: number): string {
  if (n === 0) return '';
  if (kind === 'lsh') return n < 32 ? `${DH} = (${DH} << ${n}) | (${D} >>> ${32 - n}); ${D} <<= ${n};` : `${DH} = ${D} << ${n - 32}; ${D} = 0;`;
  if (kind === 'rsh') return n < 32 ? `${D} = (${D} >>> ${n}) | (${DH} << ${32 - n}); ${DH} = (${DH} >>> ${n}) | 0;` : `${D} = (${DH} >>> ${n - 32}) | 0; ${DH} = 0;`;
  return n < 32 ? `${D} = (${D} >>> ${n}) | (${DH} << ${32 - n}); ${DH} >>= ${n};` : `${D} = ${DH} >> ${n - 32}; ${DH} >>= 31;`;
}

const ATOMICS = new Set([0xc3, 0xcb, 0xd3, 0xdb]);
/** BPF_LD | BPF_ABS / BPF_IND: they may end the program, so they end their block. */
const LEGACY_LOADS = new Set([0x20, 0x28, 0x30, 0x40, 0x48, 0x50]);

/** Registers an instruction may write (its dst, r0 for calls), which must go back to the arrays. */
function written(code: Int32Array, pc: number): number {
  const w = code[pc * STRIDE]!;
  const op = w & 0xffff;
  const cls = op & 7;
  if (op === 0x85 || LEGACY_LOADS.has(op)) return 1;
  if (ATOMICS.has(op)) return 1 | (1 << ((w >>> 16) & 15)) | (1 << (w >>> 20));
  if (cls === 4 || cls === 7 || cls === 1 || op === 0x18) return 1 << ((w >>> 16) & 15);
  return 0;
}

/** A program's translation. */
export interface Translation {
  /** Function sources: one for the whole program, or one per region. */
  sources: string[];
  /** For a split program, the region (index in sources) of every pc. */
  regionOf: Int32Array | undefined;
}

/**
 * @internal the JavaScript a program compiles to (for compileProgram, the bench and tests); with
 * `cov`, the instrumented translation, which fills in cov.blockEnd
 */
export function translate(program: Program, cov?: ProgramCounters): Translation {
  const { code, count } = program;
  const op = (pc: number) => code[pc * STRIDE]! & 0xffff;
  // Block leaders: the entry, jump targets, and whatever follows a jump, a call, an exit or an
  // instruction left to the interpreter.
  const leader = new Uint8Array(count + 1);
  leader[0] = 1;
  leader[count] = 1;
  for (let pc = 0; pc < count; pc++) {
    const o = op(pc);
    const p = pc * STRIDE;
    if (o === 0x05 || isCondJump(o)) {
      leader[code[p + 1]!] = 1;
      leader[pc + 1] = 1;
    } else if (o === 0x18) {
      pc++;
    } else if (o === 0x85 || o === 0x95 || LEGACY_LOADS.has(o)) {
      leader[pc + 1] = 1;
    } else if (o === OP_CALL_LOCAL) {
      // The return lands on pc + 1 through the dispatch switch.
      leader[code[p + 1]!] = 1;
      leader[pc + 1] = 1;
    } else if (!ATOMICS.has(o) && straight(code, pc) === undefined) {
      leader[pc] = 1;
      leader[pc + 1] = 1;
    }
  }

  // Locals go back to the arrays before anything else may look at them: a helper (its arguments), the
  // interpreter taking over, the caller after exit, or a fault (the catch below, unless a Vm method
  // that works on the arrays was running).
  let dirty = 1;
  for (let i = 0; i < count; i++) dirty |= written(code, i);
  const regs = Array.from({ length: 11 }, (_, r) => r);
  const store = (r: number) => `L[${r}] = l${r}; H[${r}] = h${r};`;
  const sync = regs.filter((r) => dirty & (1 << r)).map(store).join(' ');
  const syncArgs = regs.filter((r) => r >= 1 && r <= 5 && dirty & (1 << r)).map(store).join(' ');
  // Registers the program names at all: the others it neither reads nor writes, so it needs no local.
  let named = 1 << 10;
  for (let i = 0; i < count; i++) {
    const w = code[i * STRIDE]!;
    named |= (1 << ((w >>> 16) & 15)) | (1 << (w >>> 20));
  }
  named |= dirty;
  const used = regs.filter((r) => named & (1 << r));
  const loadUsed = used.map((r) => `l${r} = L[${r}]; h${r} = H[${r}];`).join(' ');
  const reload = loadUsed;
  // Every way out joins one exit after the loop, so the sync is written once.
  const bail = (at: number) => `stop = ${at}; break run;`;

  /** Source of instruction i inside a block. */
  const insnSource = (i: number): string => {
    const o2 = op(i);
    const p = i * STRIDE;
    if (o2 === OP_LDDW_TAIL) return '';
    if (o2 === 0x95) {
      // From a subprogram: back to the caller (Vm.popFrame restores r6..r10 in the arrays).
      return `if (vm.depth === 0) { vm.pc = ${i}; ${bail(-1)} } ${sync} pc = vm.popFrame(); ${reload} continue;`;
    }
    if (o2 === OP_CALL_LOCAL) {
      // Vm.pushFrame saves r6..r9 from the arrays, may fault on depth, and points r10 at the new frame.
      const target = code[p + 1]!;
      return `${sync} live = false; vm.pushFrame(${i}, ${target}); l10 = L[10]; h10 = H[10]; live = true; pc = ${target}; continue;`;
    }
    if (o2 === 0x85) {
      // Helpers read r1..r5 and change only r0 (HelperFn), so only those cross the call.
      return `${syncArgs} vm.pc = ${i}; vm.callHelper(${code[p + 2]!}); if (vm.exitValue !== undefined) vm.setReg(0, vm.exitValue); l0 = L[0]; h0 = H[0];\n` +
        `if (vm.exitValue !== undefined) { ${bail(-1)} }\n` +
        `if (vm.pendingTail !== undefined) { vm.current = vm.pendingTail; vm.pendingTail = undefined; ${bail(TAIL_CALL)} }`;
    }
    if (ATOMICS.has(o2)) {
      // Vm.atomic() reads and writes the register arrays.
      const slow = `${sync} live = false; vm.atomic(${code[p]!}, ${code[p + 1]!}, ${code[p + 2]!}, ${i}); ${reload} live = true;`;
      const w = code[p]!;
      const size = o2 === 0xdb ? 8 : o2 === 0xc3 ? 4 : 0;
      if (code[p + 2] !== BPF_ADD || size === 0) return slow;
      // A plain atomic add (no fetch), what counters compile to, inline; anything else through the Vm.
      const d = (w >>> 16) & 15;
      const s = w >>> 20;
      const off = code[p + 1]!;
      const add = size === 8
        ? `const ol = v.getInt32(a, true); const nl = (ol + l${s}) | 0; v.setInt32(a + 4, (v.getInt32(a + 4, true) + h${s} + ((nl >>> 0) < (ol >>> 0) ? 1 : 0)) | 0, true); v.setInt32(a, nl, true);`
        : `v.setInt32(a, (v.getInt32(a, true) + l${s}) | 0, true);`;
      return `h = h${d}; a = (l${d} >>> 0) + ${off}; if (${inBounds(off, size, true)}) { const v = V[h]; ${add} if (h === ${STACK_REGION_BASE}) mem.stackDirty = true; } else { ${slow} }`;
    }
    if (LEGACY_LOADS.has(o2)) {
      // An offset outside the packet ends the program with r0 = 0 (legacyLoad returns false).
      return `${sync} live = false; { const ok = vm.legacyLoad(${code[p]!}, ${code[p + 2]!}, ${i}); l0 = L[0]; h0 = H[0]; live = true; if (!ok) { ${bail(-1)} } }`;
    }
    if (o2 === 0x05) return `pc = ${code[p + 1]!}; continue;`;
    if (isCondJump(o2)) {
      const w = code[p]!;
      const cond = condition(o2 & 0xf0, (o2 & 7) === 6, (w >>> 16) & 15, (o2 & 8) !== 0, w >>> 20, code[p + 2]!);
      const target = code[p + 1]!;
      if (cov === undefined) return `if (${cond}) { pc = ${target}; continue; }`;
      // A jump to the next instruction has one edge only, as the interpreter's count sees it.
      const count = target !== i + 1 ? `T[${i}]++; ` : '';
      return `R.jumpId = ${cov.id}; R.jumpPc = ${i}; if (${cond}) { ${count}pc = ${target}; continue; }`;
    }
    return straight(code, i)!;
  };

  /** Each block's source, from its leader to the next; its first pc and the pc after it. */
  const blocks: { pc: number; end: number; source: string }[] = [];
  let pc = 0;
  while (pc <= count) {
    let end = pc + 1;
    while (end <= count && !leader[end]) end++;
    const o = pc < count ? op(pc) : OP_FALL_THROUGH;
    const handed = o === OP_FALL_THROUGH || o === OP_LDDW_TAIL || o === OP_CALL_KFUNC ||
      (o !== 0x85 && o !== 0x95 && o !== 0x05 && o !== OP_CALL_LOCAL && !isCondJump(o) && !ATOMICS.has(o) && !LEGACY_LOADS.has(o) &&
        straight(code, pc) === undefined);
    if (handed) {
      blocks.push({ pc, end, source: `case ${pc}:\n${bail(pc)}` });
      pc = end;
      continue;
    }
    // A long straight run is cut into blocks of at most BLOCK_SOURCE characters, so that any block
    // fits a region (the cut costs one more budget check).
    const body: string[] = [];
    let length = 0;
    for (let i = pc; i < end; i++) {
      if (i > pc && length > BLOCK_SOURCE && op(i) !== OP_LDDW_TAIL) {
        leader[i] = 1;
        end = i;
        break;
      }
      const line = insnSource(i);
      if (line !== '') body.push(line);
      length += line.length;
    }
    let n = 0;
    for (let i = pc; i < end; i++) if (op(i) !== OP_LDDW_TAIL) n++;
    let counted = '';
    if (cov !== undefined) {
      cov.blockEnd[pc] = end;
      counted = `B[${pc}]++;\n`;
    }
    // Falling out of a block continues into the next case label, which is the next leader.
    blocks.push({ pc, end, source: `case ${pc}:\nif (budget < ${n}) { ${bail(pc)} } budget -= ${n};\n${counted}${body.join('\n')}` });
    pc = end;
  }

  const fresh = used.map((r) => (r === 1 ? 'l1 = L[1]; h1 = H[1];' : r === 10 ? `l10 = ${MAX_BPF_STACK}; h10 = ${STACK_REGION_BASE};` : '')).join(' ');
  /** One function over the blocks given: from pc 0 for the whole program, else from `start`. */
  const wrap = (cases: string, whole: boolean) => `"use strict";
const { bswap16, bswap32, mul64, negate, out, sdiv64, smod64 } = rt;
const NONE = new Int32Array(0);
const NO_WORDS = new Uint8Array(0);
return function compiledBpf(vm, budget, fresh${whole ? '' : ', start'}) {
  const L = vm.lo;
  const H = vm.hi;
  const mem = vm.memory;
  const V = mem.views;
  const S = mem.sizes;
  const W = mem.writable;
  const ctx = vm.context;
  const C = ctx === undefined ? NaN : ctx.region;
  const F = ctx === undefined ? undefined : ctx.fast;
  const FR = F === undefined ? NO_WORDS : F.readable;
  const FL = F === undefined ? NONE : F.lo;
  const FH = F === undefined ? NONE : F.hi;
  let ${used.map((r) => `l${r} = 0, h${r} = 0`).join(', ')};
  if (fresh) { ${fresh} }
  else { ${loadUsed} }
  let pc = ${whole ? '0' : 'start'};
  let a = 0;
  let h = 0;
  let live = true;
  let stop = -1;${cov !== undefined ? '\n  const B = cov.blocks; const T = cov.taken; const R = cov.recorder;' : ''}
  try {
    run: for (;;) {
      switch (pc) {
${cases}
      }
    }
    ${sync}
    vm.resumeAt = stop;
    return budget;
  } catch (e) {
    if (live) { ${sync} }${cov !== undefined ? '\n    cov.faultAt(vm.pc);' : ''}
    throw e;
  }
};`;

  const all = blocks.map((b) => b.source).join('\n');
  const whole = wrap(all, true);
  if (whole.length <= MAX_COMPILED_SOURCE) return { sources: [whole], regionOf: undefined };

  // Too long for V8 to optimize as one function: consecutive blocks go into regions of their own,
  // each a function that leaves (registers back in the arrays) for any pc outside it, through the
  // switch's default, with resumeAt = REGION_JUMP - pc; compileProgram's dispatcher then calls the
  // region that owns that pc. Jumps between regions cost a sync and a reload; within one, nothing
  // changes.
  const room = MAX_COMPILED_SOURCE - wrap('', false).length;
  const sources: string[] = [];
  const regionOf = new Int32Array(count + 1);
  let cases: string[] = [];
  let length = 0;
  const close = (next: number) => {
    cases.push(`pc = ${next}; continue;`, `default: stop = ${REGION_JUMP} - pc; break run;`);
    sources.push(wrap(cases.join('\n'), false));
    cases = [];
    length = 0;
  };
  for (const b of blocks) {
    if (cases.length > 0 && length + b.source.length + 100 > room) close(b.pc);
    cases.push(b.source);
    length += b.source.length + 1;
    regionOf.fill(sources.length, b.pc, b.end);
  }
  close(count + 1);
  return { sources, regionOf };
}

type RegionFn = (vm: Vm, budget: number, fresh: boolean, start: number) => number;

function build(program: Program, cov?: ProgramCounters): CompiledProgram {
  const { sources, regionOf } = translate(program, cov);
  if (regionOf === undefined) return new Function('rt', 'cov', sources[0]!)(RUNTIME, cov) as CompiledProgram;
  const fns = sources.map((src) => new Function('rt', 'cov', src)(RUNTIME, cov) as RegionFn);
  return (vm, budget, fresh) => {
    let at = 0;
    let left = budget;
    let first = fresh;
    for (;;) {
      left = fns[regionOf[at]!]!(vm, left, first, at);
      const r = vm.resumeAt;
      if (r > REGION_JUMP) return left;
      first = false;
      at = REGION_JUMP - r;
    }
  };
}
