// verify against the kernel: every corpus object (and the project's own) is loaded with
// `bpftool prog loadall` (libbpf 1.1) and the kernel's verdict is compared with verify's. Objects
// libbpf refuses before the kernel sees them are counted apart. Requirement: verify never says ok
// for a program the kernel rejects for a structural reason.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readObject, type BpfObject } from '../../src/object/index.js';
import { verify } from '../../src/doctor/index.js';
import { haveCorpus, haveRoot, tool } from '../helpers/env.js';
import { corpusObjects, label, projectObjects } from '../helpers/objects.js';

const root = haveRoot();
const corpus = haveCorpus();
const bpftool = tool('bpftool');

/** Kernel verifier messages for rejections verify claims to catch (kernel/bpf/verifier.c). */
const STRUCTURAL = /jump out of range|jump into the middle of ldimm64|unreachable insn|invalid BPF_LD_IMM|unknown opcode|invalid insn|R\d+ !read_ok|invalid (write to )?stack|combined stack size|last insn is not an exit or jmp|div by zero|frame pointer is read only|invalid func|cannot use helper|unknown func|call to invalid destination/;

/** bpftool's short type names for `loadall ... type X` when libbpf 1.1 cannot guess a section. */
const BPFTOOL_TYPE: Record<string, string> = {
  BPF_PROG_TYPE_SCHED_CLS: 'classifier', BPF_PROG_TYPE_XDP: 'xdp', BPF_PROG_TYPE_SOCKET_FILTER: 'socket',
  BPF_PROG_TYPE_CGROUP_SKB: 'cgroup/skb', BPF_PROG_TYPE_KPROBE: 'kprobe', BPF_PROG_TYPE_TRACEPOINT: 'tracepoint',
};

type Kernel = { verdict: 'ok' | 'rejected' | 'libbpf refused'; reason: string };

function loadall(path: string, type?: string): Kernel {
  const pin = `/sys/fs/bpf/bpfts-verify-${process.pid}`;
  try {
    const r = spawnSync(bpftool!, ['-d', 'prog', 'loadall', path, pin, ...(type ? ['type', type] : [])], { encoding: 'utf8', timeout: 120_000 });
    // libbpf 1.1 may find no program at all (a lone .text function): then the kernel saw nothing.
    if (r.status === 0) return existsSync(pin) && readdirSync(pin).length > 0 ? { verdict: 'ok', reason: '' } : { verdict: 'libbpf refused', reason: 'no program to load' };
    const log = r.stderr;
    const begin = log.indexOf('-- BEGIN PROG LOAD LOG --');
    if (begin >= 0) {
      const body = log.slice(begin, log.indexOf('-- END PROG LOAD LOG --', begin)).split('\n').map((l) => l.trim())
        .filter((l) => l && !/^(libbpf: |-- BEGIN|processed \d+ insns|verification time|stack depth|func#\d)/.test(l));
      return { verdict: 'rejected', reason: body.pop() ?? 'rejected' };
    }
    const err = log.split('\n').filter((l) => /^libbpf: .*(fail|not supported|unsupported|invalid|isn't|error|mismatch)/i.test(l) || l.startsWith('Error:'));
    return { verdict: 'libbpf refused', reason: err[0] ?? 'libbpf refused' };
  } finally {
    rmSync(pin, { recursive: true, force: true });
  }
}

function kernelVerdict(path: string, obj: BpfObject, types: (string | undefined)[]): Kernel {
  const first = loadall(path);
  if (first.verdict !== 'libbpf refused' || !/guess program type/.test(first.reason)) return first;
  const known = [...new Set(types.filter((t): t is string => t !== undefined && BPFTOOL_TYPE[t] !== undefined))];
  if (known.length !== 1 || obj.programs.filter((p) => p.kind === 'entry').length !== types.length) return first;
  return loadall(path, BPFTOOL_TYPE[known[0]!]);
}

describe.skipIf(!root || !bpftool)('verify agrees with the kernel (bpftool prog loadall, libbpf 1.1)', () => {
  it('prints the agreement table and has no false ok for structural rejections', () => {
    const paths = [...(corpus ? corpusObjects() : []), ...projectObjects().filter((p) => p.includes('/bpfel/'))];
    const rows: { object: string; verify: 'ok' | 'error'; kernel: Kernel; why: string }[] = [];
    for (const path of paths) {
      let obj: BpfObject;
      try {
        obj = readObject(readFileSync(path));
      } catch {
        continue;
      }
      if (!obj.littleEndian || obj.programs.every((p) => p.kind !== 'entry')) continue;
      const report = verify(obj);
      const errors = report.programs.flatMap((p) => p.findings.filter((f) => f.severity === 'error').map((f) => `${p.name}: ${f.message}`));
      const kernel = kernelVerdict(path, obj, report.programs.map((p) => p.progType));
      rows.push({ object: label(path), verify: errors.length ? 'error' : 'ok', kernel, why: errors[0] ?? '' });
    }
    const count = (v: string, k: string): number => rows.filter((r) => r.verify === v && r.kernel.verdict === k).length;
    const table = [
      'verify \\ kernel | loads | rejects | libbpf refused',
      `ok              | ${count('ok', 'ok')} | ${count('ok', 'rejected')} | ${count('ok', 'libbpf refused')}`,
      `error           | ${count('error', 'ok')} | ${count('error', 'rejected')} | ${count('error', 'libbpf refused')}`,
    ].join('\n');
    const detail = rows.filter((r) => r.kernel.verdict !== 'libbpf refused' && (r.verify === 'ok') !== (r.kernel.verdict === 'ok'))
      .map((r) => `  ${r.object}: verify ${r.verify}${r.why ? ` (${r.why})` : ''}; kernel ${r.kernel.verdict}: ${r.kernel.reason}`).join('\n');
    console.log(`\nverify vs kernel over ${rows.length} objects:\n${table}\ndisagreements:\n${detail}\n`);

    const falseOk = rows.filter((r) => r.verify === 'ok' && r.kernel.verdict === 'rejected' && STRUCTURAL.test(r.kernel.reason));
    expect(falseOk.map((r) => `${r.object}: ${r.kernel.reason}`)).toEqual([]);
    expect(rows.length).toBeGreaterThan(corpus ? 100 : 10);
    expect(count('ok', 'ok')).toBeGreaterThan(0);
  });
});
