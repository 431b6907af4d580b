// The kernel as the oracle for `bpfts verify`: one program of an object loaded alone with bpfts's
// own loader (privileged, as root), and what the verifier said about it, read from its log.
//
// The verdict line and the instruction are taken from the level-1 log, which traces every
// instruction the verifier walks (`N: (xx) ...`, N counted in the linked program as loaded) and
// prints the error right after the instruction it failed at. Errors found outside the walk have no
// instruction of their own: check_cfg's and check_subprogs' (before the walk; the log then has no
// trace at all), BTF and func_info checks (also before), the combined stack size check (after the
// walk: the last traced instruction is whatever path happened to finish last), and the complexity
// limit (which fires on the step after 1,000,000, at an instruction that depends on nothing but
// the exact order and pruning of the walk). For those `insn` is undefined.
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { matchSection, readObject, type BpfObject } from '../../src/object/index.js';
import { bpf_prog_type, enumName } from '../../src/uapi/index.js';
import { repoRoot } from '../helpers/env.js';
import { loadObject, LoadError, ProgramRejectedError, SyscallError } from '../../src/loader/raw.js';
import { ERRNO } from '../../src/uapi/index.js';

export type KernelVerdict = 'loads' | 'rejects' | 'not loadable';

export interface KernelResult {
  verdict: KernelVerdict;
  /**
   * For 'rejects': the verifier's error line (the first line after the last traced instruction
   * that is neither a state dump, a source annotation nor a statistic). For 'not loadable': why
   * the loader or the kernel refused before the verifier ran.
   */
  reason?: string;
  /** Every error line the kernel printed after that instruction (an error can take two lines). */
  reasonLines?: string[];
  /** The instruction the kernel's log last traced before the error, when the error is at one. */
  insn?: number;
  log?: string;
}

/** A traced instruction at log level 1: `12: (85) call bpf_map_lookup_elem#1`. */
const TRACE = /^(\d+): \([0-9a-f]{2}\)/;

/** Lines that are neither the error nor a trace of one, wherever they occur. */
const NOISE: readonly RegExp[] = [
  /^;/, // source line from line_info, printed by the kernel and by bpfts's annotation
  /^\d+: /, // traced instruction or a state line (`12: R1=ctx() R10=fp0`)
  /^from \d+ to \d+: /,
  /^(processed \d+ insns|verification time |stack depth |max_states_per_insn)/,
  /^func#\d+ @\d+/,
  /^Validating \S+ func#\d+/,
  /^(caller|callee):$/,
  /^ ?frame\d+: /,
  /^returning from callee:$/,
  /^to caller at \d+:$/,
  /^mark_precise: /,
  /^(last_idx|regs=|parent (didn't have|already had)) /,
  // A state dump: registers and stack slots (`R0=map_value(...) R10=fp0 fp-8=mmmmmmmm`).
  /^(R\d+(_[rwD]+)?=\S.*?|fp-\d+(_[rwD]+)?=\S.*?)$/,
];

/** Errors not found at an instruction (see the header). */
const NOT_AT_AN_INSN: readonly RegExp[] = [
  /^BPF program is too large\. Processed \d+ insn/,
  /^combined stack size of \d+ calls is \d+\. Too large/,
  /^back-edge from insn \d+ to \d+/,
  /^unreachable insn \d+/,
  /^jump out of range from insn \d+ to -?\d+/,
  /^jump into the middle of ldimm64 insn \d+/,
  /^last insn is not an exit or jmp/,
  /^infinite loop detected at insn \d+/,
  /^call to invalid destination/,
  // check_max_stack_depth's (with " !"); check_func_call's, at the call, has no " !".
  /^the call stack of \d+ frames is too deep !/,
  /^tail_calls are not allowed when call stack of previous frames is \d+ bytes/,
];

export interface LogReading {
  reason?: string;
  reasonLines: string[];
  insn?: number;
}

/** The error line(s) and the instruction they belong to, from a level-1 verifier log. */
export function readVerifierLog(log: string): LogReading {
  // Some messages lack their newline, so the statistics can follow on the same line.
  const lines = log.split('\n').map((l) => l.replace(/processed \d+ insns \(limit.*$/, '').trimEnd()).filter((l) => l.trim().length > 0);
  let last = -1;
  lines.forEach((l, i) => {
    if (TRACE.test(l)) last = i;
  });
  const after = lines.slice(last + 1).filter((l) => !NOISE.some((re) => re.test(l.trim()))).map((l) => l.trim());
  let reasonLines = after;
  if (reasonLines.length === 0 && last >= 0) {
    // Nothing after the last trace: a log cut short, or an error line printed before the trace
    // of a second pass; take the last meaningful line anywhere.
    const meaningful = lines.filter((l) => !NOISE.some((re) => re.test(l.trim()))).map((l) => l.trim());
    reasonLines = meaningful.slice(-1);
  }
  const reason = reasonLines[0];
  const atInsn = last >= 0 && reason !== undefined && !NOT_AT_AN_INSN.some((re) => re.test(reason));
  return {
    ...(reason !== undefined ? { reason } : {}),
    reasonLines,
    ...(atInsn ? { insn: Number(TRACE.exec(lines[last]!)![1]) } : {}),
  };
}

let runs = 0;

/**
 * Loads `program` of `obj` alone, as `type` (a libbpf section name or a bpf_prog_type name; the
 * section's own type when undefined), and says what the kernel made of it. Maps the object
 * defines are created for the load and closed after it; pins go to a scratch directory on bpffs
 * that is removed whatever happens.
 */
export function kernelVerdict(obj: BpfObject, program: string, type: string | undefined): KernelResult {
  const scratch = `/sys/fs/bpf/bpfts-oracle-${process.pid}-${runs++}`;
  mkdirSync(scratch, { recursive: true });
  const load = (logLevel?: number): void => {
    loadObject(obj, {
      programs: [program], ...(type ? { type } : {}), objectName: 'oracle', bpffsRoot: scratch,
      ...(logLevel ? { logLevel } : {}),
    }).close();
  };
  try {
    try {
      load();
    } catch (e) {
      // The loader asks for a log only after a failure, and not after E2BIG (which also means
      // "too many instructions" before the verifier runs): the complexity limit is E2BIG too. The
      // loader reports the failed syscall as a LoadError naming the step, the SyscallError its cause.
      const sys = e instanceof SyscallError ? e : e instanceof LoadError && e.cause instanceof SyscallError ? e.cause : undefined;
      if (sys === undefined || e instanceof ProgramRejectedError || sys.errno !== ERRNO.E2BIG) throw e;
      load(1);
    }
    return { verdict: 'loads' };
  } catch (e) {
    if (e instanceof ProgramRejectedError) {
      const r = readVerifierLog(e.log);
      return {
        verdict: 'rejects', reason: r.reason ?? `no reason in the log (${e.message})`, reasonLines: r.reasonLines,
        ...(r.insn !== undefined ? { insn: r.insn } : {}), log: e.log,
      };
    }
    // Refused before the verifier ran: a map the kernel will not create, a missing attach target, ...
    if (e instanceof LoadError || e instanceof SyscallError) return { verdict: 'not loadable', reason: e.message.split('\n')[0]! };
    throw e;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Agreement between verify and the kernel, program by program, shared by the suite and corpus tests.

/** verify's verdict on one program, reduced to what is compared with the kernel. */
export interface VerifyResult {
  ok: boolean;
  /** verify's first error: the kernel's words, where it has them. */
  message?: string;
  /** Its finding code (uninit-read, stack-too-large, ...). */
  code?: string;
  insn?: number;
  function?: string;
  disasm?: string;
  /** verify itself failed (a crash is never a verdict). */
  threw?: boolean;
}

export interface Row {
  object: string;
  program: string;
  section: string;
  /** The type both were asked to assume (the section's own where libbpf knows the section). */
  type: string;
  kernel: KernelResult;
  verify: VerifyResult;
}

/**
 * verify runs in a child process, one entry program at a time, so that a program it never finishes
 * (a bug: verification must end in bounded time) costs VERIFY_TIMEOUT_MS and a row saying so, not
 * the whole run. The child imports bpfts compiled from src/ by tsc into a scratch directory (the
 * same code the tests would import, without vitest's transform).
 */
const VERIFY_TIMEOUT_MS = Number(process.env.BPFTS_VERIFY_TIMEOUT_MS ?? 30_000);

// The child: reads one request per line ({ path, programs }), answers one line per event.
// For each entry program it verifies an object holding only that entry program (and every
// sub-program), as the section's type; sections libbpf does not know (and .text) are verified as
// the type verify inferred from the code, else as xdp for xdp-looking sections and files and as
// classifier otherwise, with verify told that type.
const RUNNER = String.raw`
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
const dist = process.argv[2];
const { readObject, matchSection } = await import(dist + '/object/index.js');
const { verify } = await import(dist + '/doctor/index.js');
const say = (m) => process.stdout.write(JSON.stringify(m) + '\n');
const first = (v) => {
  const e = v.findings.find((f) => f.severity === 'error');
  return e ? { ok: false, message: e.message, code: e.code, insn: e.insn, function: e.function, disasm: e.disasm || undefined } : { ok: true };
};
for await (const line of createInterface({ input: process.stdin })) {
  const { path, object, programs } = JSON.parse(line);
  const obj = readObject(readFileSync(path));
  for (const name of programs) {
    say({ start: name });
    const p = obj.programs.find((x) => x.name === name);
    const one = { ...obj, programs: obj.programs.filter((x) => x.kind !== 'entry' || x === p) };
    let type, verdict;
    try {
      let v = verify(one).programs[0];
      if (p.section === '.text' || !matchSection(p.section, { libbpf: 'upstream' })) {
        type = v.progType ?? (/xdp/.test(p.section) || (!/^tc|classifier|action/.test(p.section) && /xdp/.test(object)) ? 'xdp' : 'classifier');
        if (!v.progType) v = verify(one, { type }).programs[0];
      }
      verdict = { progType: v.progType, result: first(v) };
    } catch (e) {
      verdict = { result: { ok: false, threw: true, message: 'verify threw: ' + String(e && e.message || e).split('\n')[0] } };
    }
    say({ done: name, section: p.section, type, ...verdict });
  }
  say({ finished: path });
}
`;

interface VerifyAnswer {
  done: string;
  section: string;
  /** The type chosen for a section libbpf does not know. */
  type?: string;
  progType?: string;
  result: VerifyResult;
}

export class VerifyRunner {
  private readonly dir = mkdtempSync(join(tmpdir(), 'bpfts-verify-runner-'));
  private child: ChildProcessWithoutNullStreams | undefined;
  private lines: string[] = [];
  private wake: (() => void) | undefined;

  constructor() {
    const tsc = join(repoRoot, 'node_modules', '.bin', 'tsc');
    execFileSync(tsc, ['-p', join(repoRoot, 'tsconfig.build.json'), '--outDir', join(this.dir, 'dist'), '--sourceMap', 'false', '--declaration', 'false'], { stdio: 'pipe' });
    writeFileSync(join(this.dir, 'runner.mjs'), RUNNER);
    // The compiled modules are ES modules that import the project's dependencies.
    writeFileSync(join(this.dir, 'package.json'), '{ "type": "module" }\n');
    symlinkSync(join(repoRoot, 'node_modules'), join(this.dir, 'node_modules'));
  }

  private start(): ChildProcessWithoutNullStreams {
    const child = spawn(process.execPath, [join(this.dir, 'runner.mjs'), join(this.dir, 'dist')], { stdio: 'pipe' });
    let buffered = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      this.lines.push(...parts);
      this.wake?.();
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => process.stderr.write(chunk));
    child.on('exit', () => {
      if (this.child === child) this.child = undefined;
      this.wake?.();
    });
    this.lines = [];
    return child;
  }

  /** The next line from the child, or undefined when it said nothing for `ms` (or died). */
  private async next(ms: number): Promise<string | undefined> {
    const deadline = Date.now() + ms;
    while (this.lines.length === 0) {
      if (!this.child || Date.now() >= deadline) return undefined;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
    return this.lines.shift();
  }

  /** verify's verdict on each of `programs` of the object at `path`. */
  async verify(path: string, object: string, programs: readonly string[]): Promise<Map<string, VerifyAnswer>> {
    const answers = new Map<string, VerifyAnswer>();
    let todo = [...programs];
    while (todo.length > 0) {
      this.child ??= this.start();
      const child = this.child;
      child.stdin.write(`${JSON.stringify({ path, object, programs: todo })}\n`);
      let current: string | undefined;
      for (;;) {
        const line = await this.next(VERIFY_TIMEOUT_MS);
        if (line === undefined) {
          // Silent too long (or gone): the program it was on is verify's failure; go on without it.
          const stuck = current ?? todo[0]!;
          const alive = this.child === child;
          child.kill('SIGKILL');
          this.child = undefined;
          answers.set(stuck, {
            done: stuck, section: '', result: {
              ok: false, threw: true,
              message: alive ? `verify did not finish in ${VERIFY_TIMEOUT_MS / 1000} s` : 'verify crashed the process',
            },
          });
          todo = todo.filter((n) => !answers.has(n));
          break;
        }
        const m = JSON.parse(line) as { start?: string; finished?: string } & Partial<VerifyAnswer>;
        if (m.start !== undefined) current = m.start;
        else if (m.done !== undefined) answers.set(m.done, m as VerifyAnswer);
        else if (m.finished !== undefined) {
          todo = [];
          break;
        }
      }
    }
    return answers;
  }

  close(): void {
    this.child?.kill('SIGKILL');
    this.child = undefined;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Every entry program of the object at `path`, each loaded alone into the kernel and verified by
 * verify (in `runner`) for the same type: the section's own where libbpf knows the section, else
 * the one the runner chose, which the kernel is given too.
 */
function fallbackType(section: string, object: string): string {
  return /xdp/.test(section) || (!/^tc|classifier|action/.test(section) && /xdp/.test(object)) ? 'xdp' : 'classifier';
}

export async function agreementRows(runner: VerifyRunner, path: string, object: string): Promise<Row[]> {
  let obj: BpfObject;
  try {
    obj = readObject(readFileSync(path));
  } catch {
    return [];
  }
  if (!obj.littleEndian) return [];
  const entries = obj.programs.filter((p) => p.kind === 'entry');
  const answers = await runner.verify(path, object, entries.map((p) => p.name));
  return entries.map((p) => {
    const a = answers.get(p.name)!;
    const known = p.section === '.text' ? undefined : matchSection(p.section, { libbpf: 'upstream' });
    // Where verify gave no answer, the same rule as the runner's without an inferred type.
    const type = a.type ?? (known ? undefined : fallbackType(p.section, object));
    return {
      object, program: p.name, section: p.section,
      type: a.progType ?? (known ? enumName(bpf_prog_type, known.progType) : type) ?? p.section,
      kernel: kernelVerdict(obj, p.name, type), verify: a.result,
    };
  });
}

/** Objects to compare, narrowed by BPFTS_AGREEMENT_FILTER (a regular expression on the object's path). */
export function filtered(paths: readonly string[]): string[] {
  const f = process.env.BPFTS_AGREEMENT_FILTER;
  if (!f) return [...paths];
  const re = new RegExp(f);
  return paths.filter((p) => re.test(p));
}

/**
 * Whether verify's first error says what the kernel said: its message equals the kernel's whole
 * reason (every error line, joined by "; ", as `rejectionReason` gives it to users) or its first
 * line alone (the line that names the error; a second line, where the kernel prints one, only
 * explains it).
 */
export function sameMessage(r: Row): boolean {
  const lines = r.kernel.reasonLines ?? [];
  return r.verify.message !== undefined && lines.length > 0 && (r.verify.message === lines.join('; ') || r.verify.message === lines[0]);
}

export interface Summary {
  programs: number;
  bothOk: Row[];
  bothReject: Row[];
  /** verify ok, the kernel rejects. */
  misses: Row[];
  /** verify rejects, the kernel loads. */
  falseAlarms: Row[];
  notLoadable: Row[];
  verifyThrew: Row[];
  kernelLoads: number;
  /** Both reject and verify's message is the kernel's. */
  sameMessage: Row[];
  /** Both reject at an instruction the kernel names, and verify names the same one. */
  sameInsn: Row[];
  /** Both reject and the kernel names an instruction. */
  insnComparable: Row[];
  verdictAgreement: number;
  falseAlarmRate: number;
  messageIdentical: number;
  insnIdentical: number;
}

const ratio = (n: number, d: number): number => (d === 0 ? 1 : n / d);

export function summarize(rows: readonly Row[]): Summary {
  const loaded = rows.filter((r) => r.kernel.verdict !== 'not loadable');
  // verify failing (a crash, a walk that never ends) is no verdict: never an agreement, and a
  // false alarm where the kernel loads the program (the user's CI fails all the same).
  const answered = loaded.filter((r) => !r.verify.threw);
  const bothOk = answered.filter((r) => r.verify.ok && r.kernel.verdict === 'loads');
  const bothReject = answered.filter((r) => !r.verify.ok && r.kernel.verdict === 'rejects');
  const misses = answered.filter((r) => r.verify.ok && r.kernel.verdict === 'rejects');
  const falseAlarms = loaded.filter((r) => !r.verify.ok && r.kernel.verdict === 'loads');
  const kernelLoads = loaded.filter((r) => r.kernel.verdict === 'loads').length;
  const insnComparable = bothReject.filter((r) => r.kernel.insn !== undefined);
  const same = bothReject.filter(sameMessage);
  const sameInsn = insnComparable.filter((r) => r.verify.insn === r.kernel.insn);
  return {
    programs: rows.length, bothOk, bothReject, misses, falseAlarms, kernelLoads,
    notLoadable: rows.filter((r) => r.kernel.verdict === 'not loadable'),
    verifyThrew: rows.filter((r) => r.verify.threw),
    sameMessage: same, sameInsn, insnComparable,
    verdictAgreement: ratio(bothOk.length + bothReject.length, loaded.length),
    falseAlarmRate: ratio(falseAlarms.length, kernelLoads),
    messageIdentical: ratio(same.length, bothReject.length),
    insnIdentical: ratio(sameInsn.length, insnComparable.length),
  };
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

function verifySays(r: Row): string {
  const v = r.verify;
  if (v.ok) return 'ok';
  const where = v.insn !== undefined ? `insn ${v.insn}${v.function && v.function !== r.program ? ` in ${v.function}` : ''}${v.disasm ? ` (${v.disasm})` : ''}: ` : '';
  return `${where}${v.message}`;
}

function kernelSays(r: Row): string {
  const k = r.kernel;
  if (k.verdict === 'loads') return 'loads';
  const where = k.insn !== undefined ? `insn ${k.insn}: ` : k.verdict === 'rejects' ? 'no insn: ' : '';
  return `${where}${(k.reasonLines ?? []).join(' / ') || k.reason}`;
}

function listing(rows: readonly Row[]): string {
  if (rows.length === 0) return '    (none)';
  return rows.map((r) => `    ${r.object} ${r.program} [${r.type}]\n        verify: ${verifySays(r)}\n        kernel: ${kernelSays(r)}`).join('\n');
}

/** The agreement table, the figures, and every disagreement, for the log. */
export function formatAgreement(title: string, rows: readonly Row[]): string {
  const s = summarize(rows);
  const objects = new Set(rows.map((r) => r.object)).size;
  const differentMessage = s.bothReject.filter((r) => !sameMessage(r));
  const differentInsn = s.insnComparable.filter((r) => r.verify.insn !== r.kernel.insn);
  const notLoadable = new Map<string, Row[]>();
  for (const r of s.notLoadable) {
    const key = (r.kernel.reason ?? '').replace(/'[^']*'/g, "'…'").replace(/\(.*?\)/g, '(…)').slice(0, 110);
    notLoadable.set(key, [...(notLoadable.get(key) ?? []), r]);
  }
  return [
    '',
    `=== ${title}: verify vs the kernel over ${rows.length} programs in ${objects} objects ===`,
    `  both ok:                          ${s.bothOk.length}`,
    `  both reject:                      ${s.bothReject.length}`,
    `  verify ok, kernel rejects (miss): ${s.misses.length}`,
    `  verify rejects, kernel loads:     ${s.falseAlarms.length} (false alarms)`,
    `  not loadable:                     ${s.notLoadable.length}`,
    `  verify failed (no verdict):       ${s.verifyThrew.length}`,
    `  verdict agreement:   ${pct(s.verdictAgreement)} of ${rows.length - s.notLoadable.length} loadable (target >= 98%)`,
    `  false alarms:        ${pct(s.falseAlarmRate)} of ${s.kernelLoads} the kernel loads (target <= 1%)`,
    `  same message:        ${s.sameMessage.length}/${s.bothReject.length} = ${pct(s.messageIdentical)} of both-reject (target >= 85%)`,
    `  same instruction:    ${s.sameInsn.length}/${s.insnComparable.length} = ${pct(s.insnIdentical)} of both-reject at an instruction (target >= 90%;` +
      ` ${s.bothReject.length - s.insnComparable.length} kernel errors name none)`,
    '',
    `--- verify failed (crashed or did not finish): ${s.verifyThrew.length}`, listing(s.verifyThrew),
    `--- misses (verify ok, kernel rejects): ${s.misses.length}`, listing(s.misses),
    `--- false alarms (verify rejects, kernel loads): ${s.falseAlarms.length}`, listing(s.falseAlarms),
    `--- both reject, different message: ${differentMessage.length}`, listing(differentMessage),
    `--- both reject, different instruction: ${differentInsn.length}`, listing(differentInsn),
    `--- not loadable, by reason: ${s.notLoadable.length}`,
    ...(notLoadable.size === 0 ? ['    (none)'] : [...notLoadable].map(([why, rs]) => `    ${String(rs.length).padStart(4)}  ${why}\n          ${rs.slice(0, 4).map((r) => `${r.object} ${r.program}`).join(', ')}${rs.length > 4 ? ', ...' : ''}`)),
    '',
  ].join('\n');
}

/**
 * With BPFTS_AGREEMENT_OUT=FILE, writes the rows under `part` ("suite", "corpus") into FILE (a JSON
 * object with one key per part, so both tests can share one file; the other parts are kept).
 */
export function writeAgreement(part: string, rows: readonly Row[]): void {
  const out = process.env.BPFTS_AGREEMENT_OUT;
  if (!out) return;
  const lock = `${out}.lock`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || Date.now() > deadline) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
  try {
    let all: Record<string, unknown> = {};
    if (existsSync(out)) {
      try {
        all = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
      } catch {
        all = {};
      }
    }
    all[part] = rows.map((r) => ({
      object: r.object, program: r.program, section: r.section, type: r.type,
      kernel: { verdict: r.kernel.verdict, reason: r.kernel.reason, reasonLines: r.kernel.reasonLines, insn: r.kernel.insn },
      verify: {
        ok: r.verify.ok, message: r.verify.message, code: r.verify.code, insn: r.verify.insn, function: r.verify.function,
        ...(r.verify.threw ? { threw: true } : {}),
      },
    }));
    writeFileSync(out, `${JSON.stringify(all, null, 1)}\n`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
