// Coverage of the C source: instruction and jump counts (coverage.ts) mapped to files and lines
// through .BTF.ext line_info and to functions through func_info. Every instruction of every program
// of the object is in the report, run or not: lines with instructions that never ran are its point.
import { BPF_INSN_SIZE } from '../isa/opcodes.js';
import type { BpfObject, BpfProgram } from '../object/index.js';

/** One conditional jump: how often it went to its target and how often it fell through. */
export interface BranchCoverage {
  /** The function (BTF func_info) holding the jump. */
  function: string;
  /** Section and byte offset in it of the jump instruction. */
  section: string;
  offset: number;
  taken: number;
  notTaken: number;
}

export interface LineCoverage {
  line: number;
  /** The line's text as line_info records it. */
  text: string;
  /** Times the line ran: the count of its most executed instruction. */
  hits: number;
  /** Instruction executions on the line. */
  executed: number;
  /** Instructions the line compiled to. */
  instructions: number;
  /** Its conditional jumps, in instruction order. */
  branches: BranchCoverage[];
}

export interface FunctionCoverage {
  name: string;
  /** Line of the function's first instruction. */
  line: number;
  /** Times the function was entered: the count of its first instruction. */
  hits: number;
}

export interface FileCoverage {
  /** The path as line_info names it (relative to where the object was built, unless absolute). */
  file: string;
  /** Lines with instructions, ascending. */
  lines: LineCoverage[];
  /** Functions whose first instruction is in this file, by line. */
  functions: FunctionCoverage[];
}

export interface CoverageReport {
  /** Instruction executions in all. */
  executed: number;
  /** Of those, executions of instructions line_info gives no line to. */
  unmapped: number;
  /** Files by path. */
  files: FileCoverage[];
}

export interface CoverageCounts {
  found: number;
  hit: number;
}

/** Lines with instructions, conditional jump edges and functions: how many there are and how many ran. */
export interface CoverageSummary {
  lines: CoverageCounts;
  branches: CoverageCounts;
  functions: CoverageCounts;
}

/**
 * Counts of one run program against the object: `origin` maps a pc to the section and byte offset it
 * came from, `counts` and `taken` are per pc.
 */
export interface ProgramCounts {
  origin(pc: number): { section: string; offset: number };
  counts: Float64Array;
  taken: Float64Array;
}

function isConditionalJump(op: number): boolean {
  const cls = op & 7;
  if (cls !== 5 && cls !== 6) return false;
  const o = op & 0xf0;
  return o !== 0x00 && o !== 0x80 && o !== 0x90;
}

/** Drop a leading `./`, as clang writes paths relative to its working directory. */
function cleanPath(p: string): string {
  let s = p;
  while (s.startsWith('./')) s = s.slice(2);
  return s;
}

/** Per instruction of one program of the object: executions and jumps, summed over the runs. */
interface ProgramTotals {
  program: BpfProgram;
  counts: Float64Array;
  taken: Float64Array;
}

/** The program of `section` holding byte `offset`, by binary search over programs sorted by offset. */
function holder(programs: readonly ProgramTotals[], offset: number): ProgramTotals | undefined {
  let lo = 0;
  let hi = programs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const t = programs[mid]!;
    if (offset < t.program.offset) hi = mid - 1;
    else if (offset >= t.program.offset + t.program.insnCount * BPF_INSN_SIZE) lo = mid + 1;
    else return t;
  }
  return undefined;
}

/** The coverage report of `obj` from the counts of the programs that ran. */
export function buildCoverageReport(obj: BpfObject, runs: readonly ProgramCounts[]): CoverageReport {
  const totals = obj.programs.map((program): ProgramTotals => ({
    program, counts: new Float64Array(program.insnCount), taken: new Float64Array(program.insnCount),
  }));
  const bySection = new Map<string, ProgramTotals[]>();
  for (const t of totals) {
    let list = bySection.get(t.program.section);
    if (list === undefined) bySection.set(t.program.section, (list = []));
    list.push(t);
  }
  for (const list of bySection.values()) list.sort((a, b) => a.program.offset - b.program.offset);
  let executed = 0;
  for (const run of runs) {
    // Only instructions that ran are looked up: most of a large object never runs in one test.
    for (let pc = 0; pc < run.counts.length; pc++) {
      const c = run.counts[pc]!;
      if (c === 0) continue;
      executed += c;
      const { section, offset } = run.origin(pc);
      const t = holder(bySection.get(section) ?? [], offset);
      if (t === undefined || (offset - t.program.offset) % BPF_INSN_SIZE !== 0) continue;
      const insn = (offset - t.program.offset) / BPF_INSN_SIZE;
      t.counts[insn]! += c;
      t.taken[insn]! += run.taken[pc]!;
    }
  }

  const files = new Map<string, Map<number, LineCoverage>>();
  const functions = new Map<string, FunctionCoverage[]>();
  let mapped = 0;
  for (const { program, counts, taken } of totals) {
    const bytes = program.bytes;
    const lineInfo = [...program.lineInfo].sort((a, b) => a.insn - b.insn);
    const funcInfo = [...program.funcInfo].sort((a, b) => a.insn - b.insn);
    let li = -1;
    let fi = -1;
    // The line and function of the instruction, looked up again only when a record starts.
    let line: LineCoverage | undefined;
    let fileName: string | undefined;
    let file = '';
    let lines: Map<number, LineCoverage> | undefined;
    let funcName = program.name;
    for (let insn = 0; insn < program.insnCount; insn++) {
      const op = bytes[insn * BPF_INSN_SIZE]!;
      const li0 = li;
      while (li + 1 < lineInfo.length && lineInfo[li + 1]!.insn <= insn) li++;
      if (li !== li0) {
        const rec = lineInfo[li]!;
        if (rec.fileName !== fileName || lines === undefined) {
          fileName = rec.fileName;
          file = cleanPath(fileName);
          lines = files.get(file);
          if (lines === undefined) files.set(file, (lines = new Map()));
        }
        line = lines.get(rec.lineNum);
        if (line === undefined) {
          line = { line: rec.lineNum, text: rec.line, hits: 0, executed: 0, instructions: 0, branches: [] };
          lines.set(rec.lineNum, line);
        }
      }
      const fi0 = fi;
      while (fi + 1 < funcInfo.length && funcInfo[fi + 1]!.insn <= insn) fi++;
      const func = funcInfo[fi];
      if (fi !== fi0 && func !== undefined) funcName = obj.btf?.types[func.typeId]?.name || program.name;
      if (line !== undefined) {
        const count = counts[insn]!;
        line.instructions++;
        line.executed += count;
        if (count > line.hits) line.hits = count;
        mapped += count;
        if (func !== undefined && func.insn === insn) {
          let list = functions.get(file);
          if (list === undefined) functions.set(file, (list = []));
          list.push({ name: funcName, line: line.line, hits: count });
        }
        if (isConditionalJump(op)) {
          line.branches.push({
            function: funcName, section: program.section, offset: program.offset + insn * BPF_INSN_SIZE,
            taken: taken[insn]!, notTaken: count - taken[insn]!,
          });
        }
      }
      // The second half of a 64-bit immediate load is no instruction of its own.
      if (op === 0x18) insn++;
    }
  }
  return {
    executed,
    unmapped: executed - mapped,
    files: [...files.keys()].sort().map((file) => ({
      file,
      lines: [...files.get(file)!.values()].sort((a, b) => a.line - b.line),
      functions: (functions.get(file) ?? []).sort((a, b) => a.line - b.line || a.name.localeCompare(b.name)),
    })),
  };
}

/** Several reports (emulators, runs, objects) as one: counts of the same file, line, jump and function add up. */
export function mergeCoverage(...reports: CoverageReport[]): CoverageReport {
  const files = new Map<string, { lines: Map<number, LineCoverage>; functions: Map<string, FunctionCoverage> }>();
  let executed = 0;
  let unmapped = 0;
  for (const r of reports) {
    executed += r.executed;
    unmapped += r.unmapped;
    for (const f of r.files) {
      let into = files.get(f.file);
      if (into === undefined) files.set(f.file, (into = { lines: new Map(), functions: new Map() }));
      for (const l of f.lines) {
        const have = into.lines.get(l.line);
        if (have === undefined) {
          into.lines.set(l.line, { ...l, branches: l.branches.map((b) => ({ ...b })) });
          continue;
        }
        have.hits += l.hits;
        have.executed += l.executed;
        have.instructions = Math.max(have.instructions, l.instructions);
        for (const b of l.branches) {
          const same = have.branches.find((x) => x.function === b.function && x.section === b.section && x.offset === b.offset);
          if (same === undefined) have.branches.push({ ...b });
          else {
            same.taken += b.taken;
            same.notTaken += b.notTaken;
          }
        }
      }
      for (const fn of f.functions) {
        const k = `${fn.line}\0${fn.name}`;
        const have = into.functions.get(k);
        if (have === undefined) into.functions.set(k, { ...fn });
        else have.hits += fn.hits;
      }
    }
  }
  return {
    executed,
    unmapped,
    files: [...files.keys()].sort().map((file) => ({
      file,
      lines: [...files.get(file)!.lines.values()].sort((a, b) => a.line - b.line),
      functions: [...files.get(file)!.functions.values()].sort((a, b) => a.line - b.line || a.name.localeCompare(b.name)),
    })),
  };
}

/** Found and hit counts of a file, or of a whole report. */
export function summarizeCoverage(of: FileCoverage | CoverageReport): CoverageSummary {
  const files = 'files' in of ? of.files : [of];
  const s: CoverageSummary = { lines: { found: 0, hit: 0 }, branches: { found: 0, hit: 0 }, functions: { found: 0, hit: 0 } };
  for (const f of files) {
    for (const l of f.lines) {
      s.lines.found++;
      if (l.hits > 0) s.lines.hit++;
      for (const b of l.branches) {
        s.branches.found += 2;
        if (b.taken > 0) s.branches.hit++;
        if (b.notTaken > 0) s.branches.hit++;
      }
    }
    for (const fn of f.functions) {
      s.functions.found++;
      if (fn.hits > 0) s.functions.hit++;
    }
  }
  return s;
}
