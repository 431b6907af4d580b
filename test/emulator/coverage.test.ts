// Coverage of C source against facts that do not come from bpfts: which lines a frame must reach
// follows from the C text (lines found by their statements here, at test time), which way a jump
// goes from llvm-objdump's disassembly, how many instructions ran from --trace, and the lcov output
// is read by genhtml and lcov themselves.
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haveCorpus, repoRoot, tool } from '../helpers/env.js';
import { label, wellFormedCorpusObjects } from '../helpers/objects.js';
import { cli, ensureBuilt } from '../cli/run-cli.js';
import { arbFrame, arbFrameOf, arbEthernet, arbIpv4, arbTcp, packet } from '../../src/testing/index.js';
import { Emulator, mergeCoverage, summarizeCoverage, toLcov, type CoverageReport, type FileCoverage } from '../../src/vm/index.js';
import { writeCoverage } from '../../src/testing/index.js';
import { Vm } from '../../src/vm/index.js';
import { readObject } from '../../src/object/index.js';
import { CoverageRecorder } from '../../src/vm/coverage.js';
import { clang, prog } from './progs.js';
import { encode, exit, lddw, mov64, movImm, type Insn } from '../vm/asm.js';
import { translate } from '../../src/vm/compile.js';
import { decodeProgram } from '../../src/vm/decode.js';

beforeAll(ensureBuilt);

const BPF = join(repoRoot, 'bpf');
const object = (name: string) => readFileSync(join(BPF, 'build', 'bpfel', name));
const objdump = tool('llvm-objdump-19');
const genhtml = tool('genhtml');
const lcov = tool('lcov');

/** 1-based number of the one line of `source` containing `text`. */
function lineOf(source: string, text: string, from = 1): number {
  const lines = source.split('\n');
  const hits = lines.map((l, i) => (i + 1 >= from && l.includes(text) ? i + 1 : 0)).filter((n) => n > 0);
  expect(hits, `lines containing ${JSON.stringify(text)}`).toHaveLength(1);
  return hits[0]!;
}

/** The `}` that closes the function whose signature is on line `start`. */
function closingBrace(source: string, start: number): number {
  const lines = source.split('\n');
  for (let i = start; i < lines.length; i++) if (lines[i] === '}') return i + 1;
  throw new Error(`no closing brace after line ${start}`);
}

/** llvm-objdump's instructions of a section: index → text (e.g. `if r3 > r1 goto +0x1e <...>`). */
function disassembly(path: string, section: string): Map<number, string> {
  const out = execFileSync(objdump!, ['-d', '--no-show-raw-insn', '-j', section, path], { encoding: 'utf8' });
  const insns = new Map<number, string>();
  for (const m of out.matchAll(/^\s*(\d+):\t(.*)$/gm)) insns.set(Number(m[1]), m[2]!.trim());
  return insns;
}

function jumpTarget(insns: Map<number, string>, at: number): number {
  const m = /^if .* goto ([+-]0x[0-9a-f]+|[+-]\d+)/.exec(insns.get(at) ?? '');
  expect(m, `instruction ${at} (${insns.get(at)}) is a conditional jump`).not.toBeNull();
  return at + 1 + Number(m![1]!.replace(/^([+-])0x/, '$10x').replace(/^\+/, ''));
}

function entryNames(bytes: Uint8Array): string[] {
  return readObject(bytes).programs.filter((p) => p.kind === 'entry').map((p) => p.name);
}

function fileOf(report: CoverageReport, name: string): FileCoverage {
  const f = report.files.find((x) => x.file === name || x.file.endsWith(`/${name}`));
  expect(f, `${name} in the report`).toBeDefined();
  return f!;
}

const arp = packet().eth().arp().build();
const tcp80 = packet().eth().ipv4().tcp({ dport: 80 }).build();
const udp = packet().eth().ipv4().udp({ dport: 53 }).build();
const tcp22 = packet().eth().ipv4().tcp({ dport: 22 }).build();

describe('coverage of tc_drop_tcp80.c', () => {
  const source = readFileSync(join(BPF, 'tc_drop_tcp80.c'), 'utf8');
  const start = lineOf(source, 'int drop_tcp80(struct __sk_buff *skb)');
  const l = {
    data: lineOf(source, 'void *data = (void *)(long)skb->data;'),
    dataEnd: lineOf(source, 'void *data_end = (void *)(long)skb->data_end;'),
    ipBounds: lineOf(source, 'if ((void *)(ip + 1) > data_end)'),
    etherType: lineOf(source, 'if (eth->h_proto != bpf_htons(ETH_P_IP)'),
    ihl: lineOf(source, 'if (ip->ihl < 5)'),
    tcpAt: lineOf(source, 'tcp = (void *)ip + ip->ihl * 4;'),
    tcpBounds: lineOf(source, 'if ((void *)(tcp + 1) > data_end)'),
    totLen: lineOf(source, 'if (bpf_ntohs(ip->tot_len)'),
    port: lineOf(source, 'if (tcp->dest == bpf_htons(80))'),
    end: closingBrace(source, start),
  };

  it.each([false, true])('an ARP frame reaches exactly the lines up to the EtherType check (compile: %s)', (compile) => {
    const emu = Emulator.fromObject(object('tc_drop_tcp80.o'), { coverage: true, compile });
    expect(emu.run(arp).retval).toBe(0);
    const f = fileOf(emu.coverage(), 'tc_drop_tcp80.c');
    const hit = f.lines.filter((x) => x.hits > 0).map((x) => x.line);
    expect(hit).toEqual([start, l.data, l.dataEnd, l.ipBounds, l.etherType, l.end]);
    for (const never of [l.ihl, l.tcpAt, l.tcpBounds, l.totLen, l.port]) {
      expect(f.lines.find((x) => x.line === never), `line ${never} has instructions`).toMatchObject({ hits: 0 });
    }
    expect(f.functions).toEqual([{ name: 'drop_tcp80', line: start, hits: 1 }]);
  });

  it.skipIf(!objdump).each([false, true])('an ARP frame takes the jumps the C says it takes (compile: %s)', (compile) => {
    const emu = Emulator.fromObject(object('tc_drop_tcp80.o'), { coverage: true, compile });
    emu.run(arp);
    const f = fileOf(emu.coverage(), 'tc_drop_tcp80.c');
    // Which way each jump went: objdump says where it goes; the C says whether the frame returns there.
    const insns = disassembly(join(BPF, 'build', 'bpfel', 'tc_drop_tcp80.o'), 'tc');
    const exitAt = [...insns].find(([, t]) => t === 'exit')![0];
    const [bounds] = f.lines.find((x) => x.line === l.ipBounds)!.branches;
    expect(jumpTarget(insns, bounds!.offset / 8)).toBe(exitAt);
    // 42 bytes hold an IPv4 header's worth, so the frame does not return here.
    expect(bounds).toMatchObject({ taken: 0, notTaken: 1 });
    const [ethType, protocol] = f.lines.find((x) => x.line === l.etherType)!.branches;
    expect(jumpTarget(insns, ethType!.offset / 8)).toBe(exitAt);
    // EtherType 0x0806 is not IPv4: the return is taken and the protocol test never runs.
    expect(ethType).toMatchObject({ taken: 1, notTaken: 0 });
    expect(protocol).toMatchObject({ taken: 0, notTaken: 0 });
  });

  it('a TCP/80 segment reaches the port test and the drop', () => {
    const emu = Emulator.fromObject(object('tc_drop_tcp80.o'), { coverage: true });
    expect(emu.run(tcp80).retval).toBe(2);
    const f = fileOf(emu.coverage(), 'tc_drop_tcp80.c');
    for (const line of Object.values(l)) expect(f.lines.find((x) => x.line === line)?.hits, `line ${line}`).toBe(1);
    for (const x of f.lines) for (const b of x.branches) expect(b.taken + b.notTaken, `branch on line ${x.line}`).toBe(1);
  });

  it('sums its line executions to the instruction count --trace prints', () => {
    const frames = [arp, tcp80, udp, tcp22, packet().eth().ipv4().build().subarray(0, 20)];
    const args = frames.flatMap((f) => ['--packet', Buffer.from(f).toString('hex')]);
    const r = cli(['run', join(BPF, 'build', 'bpfel', 'tc_drop_tcp80.o'), ...args, '--trace']);
    expect(r.status, r.stderr).toBe(0);
    const traced = r.stderr.split('\n').filter((x) => /^\s*\d+: /.test(x)).length;
    expect(traced).toBeGreaterThan(frames.length);
    for (const compile of [false, true]) {
      const emu = Emulator.fromObject(object('tc_drop_tcp80.o'), { coverage: true, compile });
      for (const f of frames) emu.run(f);
      const report = emu.coverage();
      const lines = report.files.flatMap((x) => x.lines).reduce((s, x) => s + x.executed, 0);
      expect(lines).toBe(traced);
      expect(report.executed).toBe(traced);
      expect(report.unmapped).toBe(0);
    }
  });
});

describe('interpreter and compiled code count alike', () => {
  const cases: [string, string | undefined][] = [
    ['tc_drop_tcp80.o', undefined], ['tc_drop_icmp.o', undefined], ['dnat.o', undefined], ['monitor.o', undefined],
    ['globals.o', undefined], ['proxy.o', undefined],
  ];
  it.each(cases)('%s on generated frames', (file) => {
    const bytes = object(file);
    const entries = entryNames(bytes);
    const frames = fc.sample(fc.oneof(arbFrame(), arbFrameOf(arbEthernet(), arbIpv4(), arbTcp({ dport: 80 }))), { numRuns: 300, seed: 11 });
    for (const name of entries) {
      // undefined: the first run interpreted, the others compiled.
      const reports = [false, true, undefined].map((compile) => {
        const emu = Emulator.fromObject(bytes, { program: name, coverage: true, ...(compile !== undefined ? { compile } : {}) });
        for (const f of frames) emu.run(f.bytes);
        return emu.coverage();
      });
      expect(reports[1]).toEqual(reports[0]);
      expect(reports[2]).toEqual(reports[0]);
      expect(reports[0]!.executed).toBeGreaterThan(0);
    }
  });

  it('counts the instructions a fault leaves unrun in a compiled block as not run', () => {
    // r0 = 0; r1 = *(u64 *)(r0 + 0) faults; r0 = 1; exit, all one block for the compiler.
    const code = encode([movImm(0, 0), { code: 0x79, dst: 1, src: 0 }, movImm(0, 1), ...lddw(2, 5n), exit]);
    const counts = [false, true].map((compile) => {
      const vm = new Vm(code, { compile });
      const cov = (vm.coverage = new CoverageRecorder());
      expect(() => vm.run()).toThrow(/invalid read/);
      return Array.from(cov.programs()[0]!.counts());
    });
    expect(counts[0]).toEqual([1, 1, 0, 0, 0, 0]);
    expect(counts[1]).toEqual(counts[0]);
  });

  it('counts from the first run after coverage is turned on, however many ran compiled before', () => {
    // r0 = 0; if r1 != 0 goto +1; r0 = 1; exit.
    const code = encode([movImm(0, 0), { code: 0x55, dst: 1, imm: 0, off: 1 }, movImm(0, 1), exit]);
    const vm = new Vm(code, { compile: true });
    for (let i = 0; i < 3; i++) vm.run();
    const cov = (vm.coverage = new CoverageRecorder());
    vm.run();
    vm.run([1n]);
    const c = cov.programs()[0]!;
    expect({ counts: Array.from(c.counts()), taken: Array.from(c.taken) }).toEqual({ counts: [2, 2, 1, 2], taken: [0, 1, 0, 0] });
  });

  describe('in a program split into regions', () => {
    // r1 = 0; loop: 150 stack stores and loads (A); if r1 & 1 skip the next 150 (B); r1 += 1;
    // while r1 < 5; then exit, or (faulting) read through a null pointer before the exit. A and B are
    // too long for one function, so the jumps go between regions.
    const PAIRS = 150;
    const pairs = (): Insn[] => Array.from({ length: PAIRS }, (_, i) => [
      { code: 0x7b, dst: 10, src: 1, off: -8 * (1 + (i % 60)) }, { code: 0x79, dst: 0, src: 10, off: -8 * (1 + ((i * 7) % 60)) },
    ]).flat();
    const A = 2;
    const jset = A + 2 * PAIRS;
    const B = jset + 1;
    const inc = B + 2 * PAIRS;
    const loop = inc + 1;
    const program = (fault: boolean): Insn[] => [
      movImm(1, 0), movImm(2, 0),
      ...pairs(),
      { code: 0x45, dst: 1, imm: 1, off: 2 * PAIRS },
      ...pairs(),
      { code: 0x07, dst: 1, imm: 1 },
      { code: 0xa5, dst: 1, imm: 5, off: A - loop - 1 },
      ...(fault ? [movImm(3, 0), { code: 0x79, dst: 4, src: 3 }] : []),
      mov64(0, 1), exit,
    ];
    // Five passes through A, jset taken for r1 = 1 and 3, so B three times; the loop jumps back four times.
    const expected = (fault: boolean) => {
      const n = program(fault).length;
      const counts = new Array<number>(n).fill(0);
      counts.fill(1, 0, A);
      counts.fill(5, A, B);
      counts.fill(3, B, inc);
      counts.fill(5, inc, loop + 1);
      // With the fault: its mov and load run, the mov and exit after them do not.
      counts.fill(1, loop + 1, fault ? loop + 3 : n);
      const taken = new Array<number>(n).fill(0);
      taken[jset] = 2;
      taken[loop] = 4;
      return { counts, taken };
    };

    it.each([false, true])('counts every region as the interpreter does (fault: %s)', (fault) => {
      const bytes = encode(program(fault));
      const decoded = decodeProgram(bytes);
      expect(translate(decoded, new CoverageRecorder().counters(decoded)).sources.length).toBeGreaterThan(2);
      for (const compile of [false, true]) {
        const vm = new Vm(bytes, { compile });
        const cov = (vm.coverage = new CoverageRecorder());
        if (fault) expect(() => vm.run()).toThrow(/invalid read/);
        else expect(vm.run()).toEqual({ r0: 5n, executed: expected(false).counts.reduce((a, b) => a + b, 0) });
        const c = cov.programs()[0]!;
        expect({ counts: Array.from(c.counts()), taken: Array.from(c.taken) }, `compile: ${compile}`).toEqual(expected(fault));
      }
    });
  });
});

describe('runMany', () => {
  it('counts every run of the batch, as run() does frame by frame', () => {
    const frames = fc.sample(fc.oneof(arbFrame(), arbFrameOf(arbEthernet(), arbIpv4(), arbTcp({ dport: 80 }))), { numRuns: 200, seed: 5 })
      .map((f) => f.bytes);
    for (const compile of [false, true, undefined]) {
      const options = { coverage: true, ...(compile !== undefined ? { compile } : {}) };
      const batch = Emulator.fromObject(object('tc_drop_tcp80.o'), options);
      const summary = batch.runMany(frames);
      const single = Emulator.fromObject(object('tc_drop_tcp80.o'), options);
      let executed = 0;
      for (const f of frames) executed += single.run(f).executed;
      expect(summary.executed).toBe(executed);
      expect(batch.coverage().executed).toBe(executed);
      expect(batch.coverage()).toEqual(single.coverage());
    }
  });

  it("gives each run's output() the exit and decision lines of that run", () => {
    const source = readFileSync(join(BPF, 'tc_drop_tcp80.c'), 'utf8');
    const emu = Emulator.fromObject(object('tc_drop_tcp80.o'), { coverage: true, compile: true });
    const lines: [string | undefined, string | undefined][] = [];
    emu.runMany([arp, arp, tcp80, tcp80], (r) => {
      const out = r.output();
      lines.push([out.exitLine, out.decisionLine]);
    });
    const single = [arp, arp, tcp80, tcp80].map((f) => {
      const out = emu.run(f);
      return [out.exitLine, out.decisionLine];
    });
    expect(lines).toEqual(single);
    // The ARP frame is decided by the EtherType test, the TCP/80 one by the port test (from the C).
    expect(lines[0]![1]).toContain(`:${lineOf(source, 'if (eth->h_proto != bpf_htons(ETH_P_IP)')}:`);
    expect(lines[2]![1]).toContain(`:${lineOf(source, 'if (tcp->dest == bpf_htons(80))')}:`);
  });
});

describe.skipIf(!haveCorpus())('interpreter and compiled code count alike on the corpus', () => {
  const frames = [arp, tcp80, new Uint8Array(200).fill(0xff)];
  it.each(wellFormedCorpusObjects().map((p) => [label(p), p]))('%s', (_, path) => {
    const obj = readObject(readFileSync(path));
    // Four programs an object: the translation differs by program, the counting code does not.
    for (const p of obj.programs.filter((x) => x.kind === 'entry').slice(0, 4)) {
      // Programs that cannot run on packets run as tc classifiers: their faults exercise the counts too.
      const make = (compile: boolean) => {
        for (const type of [undefined, 'sched_cls']) {
          try {
            return Emulator.fromObject(obj, { program: p.name, coverage: true, compile, budget: 20_000, ...(type ? { type } : {}) });
          } catch {
            // not runnable this way
          }
        }
        return undefined;
      };
      const runs = [false, true].map((compile) => {
        const emu = make(compile);
        if (emu === undefined) return undefined;
        let executed = 0;
        let faulted = false;
        for (const f of frames) {
          try {
            executed += emu.run(f).executed;
          } catch {
            faulted = true;
          }
        }
        return { report: emu.coverage(), executed, faulted };
      });
      if (runs[0] === undefined) continue;
      expect(runs[1]!.report, p.name).toEqual(runs[0].report);
      if (!runs[0].faulted) expect(runs[0].report.executed, p.name).toBe(runs[0].executed);
    }
  });
});

describe.skipIf(!clang)('sub-programs and tail calls', () => {
  it('counts the tail-call target and the sub-program both link, function by function', () => {
    const c = readFileSync(join(repoRoot, 'test', 'emulator', 'progs', 'coverage.c'), 'utf8');
    const bytes = prog('coverage');
    const lens = [42, 200, 80];
    for (const compile of [false, true]) {
      const emu = Emulator.fromObject(bytes, { program: 'all_frames', coverage: true, compile });
      emu.setTailCall('jumps', 0, 'short_frames');
      const retvals = lens.map((n) => emu.run(new Uint8Array(n)).retval);
      // From the C: short frames go through short_frames (+10), the others straight to classify.
      expect(retvals).toEqual([42 * 5 + 1 + 10, Math.floor(200 / 3), 80 * 5 + 1]);
      const f = fileOf(emu.coverage(), 'coverage.c');
      const at = (text: string) => f.lines.find((x) => x.line === lineOf(c, text));
      expect(f.functions.map((x) => [x.name, x.hits])).toEqual([['classify', 3], ['short_frames', 1], ['all_frames', 3]]);
      // A function's line is that of its first instruction: the signature when clang gives the
      // prologue a line of its own, else the first statement.
      const spans = [
        ['static __noinline int classify(__u32 len)', 'if (len > 100)'],
        ['int short_frames(struct __sk_buff *skb)', 'return classify(skb->len) + 10;'],
        ['int all_frames(struct __sk_buff *skb)', 'if (skb->len < 60)'],
      ];
      f.functions.forEach((x, i) => {
        expect(x.line).toBeGreaterThanOrEqual(lineOf(c, spans[i]![0]!));
        expect(x.line).toBeLessThanOrEqual(lineOf(c, spans[i]![1]!));
      });
      expect(at('bpf_tail_call(skb, &jumps, 0);')?.hits).toBe(1);
      expect(at('return classify(skb->len) + 10;')?.hits).toBe(1);
      expect(at('return len / 3;')?.hits).toBe(1);
      expect(at('return len * 5 + 1;')?.hits).toBe(2);
      for (const text of ['if (len > 100)', 'if (skb->len < 60)']) {
        const [b] = at(text)!.branches;
        expect([b!.taken, b!.notTaken].sort(), text).toEqual([1, 2]);
      }
    }
  });
});

describe.skipIf(!genhtml || !lcov)('lcov output', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), `bpfts-cov-${process.pid}-`));
    return () => rmSync(dir, { recursive: true, force: true });
  });

  function report(): CoverageReport {
    const runs = [['tc_drop_tcp80.o', [arp, tcp80, udp]], ['dnat.o', [tcp80, udp]], ['monitor.o', [tcp22, arp]]] as const;
    return mergeCoverage(...runs.flatMap(([file, frames]) => {
      const bytes = object(file);
      const entries = entryNames(bytes);
      return entries.map((name) => {
        const emu = Emulator.fromObject(bytes, { program: name, coverage: true });
        for (const f of frames) emu.run(f);
        return emu.coverage();
      });
    }));
  }

  it('is read by genhtml without a warning', () => {
    const r = report();
    const { lcov: path } = writeCoverage(join(dir, 'out'), r, { sourceRoot: BPF });
    const g = spawnSync(genhtml!, ['--branch-coverage', '--function-coverage', '-o', join(dir, 'html'), path], { encoding: 'utf8' });
    expect(g.status, g.stdout + g.stderr).toBe(0);
    expect(g.stdout + g.stderr).not.toMatch(/WARNING/i);
    // lcov's own reading of the file gives the counts the report has.
    const s = spawnSync(lcov!, ['--summary', path, '--rc', 'lcov_branch_coverage=1'], { encoding: 'utf8' });
    expect(s.status, s.stderr).toBe(0);
    const text = s.stdout + s.stderr;
    const sum = summarizeCoverage(r);
    expect(text).toContain(`(${sum.lines.hit} of ${sum.lines.found} lines)`);
    expect(text).toContain(`(${sum.functions.hit} of ${sum.functions.found} functions)`);
    expect(text).toContain(`(${sum.branches.hit} of ${sum.branches.found} branches)`);
    expect(sum.lines.hit).toBeGreaterThan(0);
    expect(sum.lines.hit).toBeLessThan(sum.lines.found);
  });

  it('merges runs as lcov -a adds their tracefiles', () => {
    const emus = [[arp], [tcp80, udp]].map((frames) => {
      const emu = Emulator.fromObject(object('tc_drop_tcp80.o'), { coverage: true });
      for (const f of frames) emu.run(f);
      return emu.coverage();
    });
    const paths = emus.map((r, i) => {
      const p = join(dir, `part${i}.info`);
      execFileSync('sh', ['-c', 'cat > "$1"', 'sh', p], { input: toLcov(r) });
      return p;
    });
    const added = join(dir, 'added.info');
    execFileSync(lcov!, ['-q', '--rc', 'lcov_branch_coverage=1', '-a', paths[0]!, '-a', paths[1]!, '-o', added]);
    const records = (text: string) => text.split('\n').filter((x) => /^(DA|BRDA|FNDA):/.test(x)).sort();
    expect(records(toLcov(mergeCoverage(...emus)))).toEqual(records(readFileSync(added, 'utf8')));
  });
});

describe('bpfts run --coverage', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), `bpfts-covcli-${process.pid}-`));
    return () => rmSync(dir, { recursive: true, force: true });
  });
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

  it('writes lcov.info and index.html with the sources found under --source-root', () => {
    const out = join(dir, 'found');
    const r = cli(['run', join(BPF, 'build', 'bpfel', 'tc_drop_tcp80.o'), '--packet', hex(arp), '--coverage', out, '--source-root', BPF]);
    expect(r.status, r.stderr).toBe(0);
    const info = readFileSync(join(out, 'lcov.info'), 'utf8');
    expect(info).toContain(`SF:${join(BPF, 'tc_drop_tcp80.c')}\n`);
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    // The whole file, comments and all, is on the page.
    expect(html).toContain('Every header is bounds-checked against data_end before it is read');
    expect(html).not.toContain('Source not found');
    // Self-contained: nothing to fetch.
    expect(html).not.toMatch(/<(script|link|img)\b|url\(|src=/i);
    const source = readFileSync(join(BPF, 'tc_drop_tcp80.c'), 'utf8');
    const row = (text: string) => new RegExp(`<tr class="(\\w*)" id="f0-${lineOf(source, text)}">(.*)</tr>`).exec(html);
    // Never reached; reached with one edge of its jump never taken; reached with both.
    expect(row('if (ip->ihl < 5)')?.[1]).toBe('miss');
    expect(row('if (eth->h_proto != bpf_htons(ETH_P_IP)')?.[1]).toBe('part');
    expect(row('if (eth->h_proto != bpf_htons(ETH_P_IP)')?.[2]).toContain('fall-through never taken');
    expect(row('void *data_end = (void *)(long)skb->data_end;')?.[1]).toBe('hit');
    expect(row('#include <linux/bpf.h>')?.[1]).toBe('');
  });

  it('reports a missing source by line number, with the text line_info has', () => {
    const out = join(dir, 'missing');
    const r = cli(['run', join(BPF, 'build', 'bpfel', 'tc_drop_tcp80.o'), '--packet', hex(arp), '--coverage', out, '--source-root', join(dir, 'nowhere')]);
    expect(r.status, r.stderr).toBe(0);
    const info = readFileSync(join(out, 'lcov.info'), 'utf8');
    const source = readFileSync(join(BPF, 'tc_drop_tcp80.c'), 'utf8');
    expect(info).toContain('SF:tc_drop_tcp80.c\n');
    expect(info).toContain(`DA:${lineOf(source, 'if (ip->ihl < 5)')},0\n`);
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect(html).toContain('Source not found');
    expect(html).toContain('if (ip-&gt;ihl &lt; 5)');
  });

  it('warns when the object has no line_info to map to', () => {
    const out = join(dir, 'nobtf');
    const r = cli(['run', join(BPF, 'build', 'bpfel', 'tc_drop_icmp_nobtf.o'), '--packet', hex(arp), '--coverage', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('the object has no BTF line_info');
    expect(readFileSync(join(out, 'lcov.info'), 'utf8')).toBe('');
  });

  it('is refused with --kernel and --source-root alone', () => {
    expect(cli(['run', join(BPF, 'build', 'bpfel', 'tc_drop_tcp80.o'), '--packet', hex(arp), '--source-root', BPF]).stderr).toMatch(/--source-root is for --coverage/);
    expect(cli(['run', join(BPF, 'build', 'bpfel', 'tc_drop_tcp80.o'), '--packet', hex(arp), '--coverage', dir, '--kernel']).stderr).toMatch(/--coverage is for the emulator/);
  });
});
