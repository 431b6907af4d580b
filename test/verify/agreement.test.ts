// verify against the kernel, program by program: every entry program of the corpus (and of the
// project's own little-endian objects) is loaded on its own with bpfts's loader, as the type verify
// assumed (the section's type where libbpf knows the section, else the type verify inferred from
// the code, else xdp for xdp-looking sections and files and classifier otherwise, with verify told
// the same), and the kernel's verdict is set beside verify's. The kernel's rejections are split by
// the verifier log's reason into structural (what verify checks) and semantic (values, bounds).
// Requirements: verify never says ok for a structurally rejected program, and never reports a
// read of an unwritten register in a program the kernel accepts.
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readObject, matchSection, type BpfObject } from '../../src/object/index.js';
import { verify, type ProgramVerdict } from '../../src/doctor/index.js';
import { loadObject, LoadError, ProgramRejectedError, rejectionKind, rejectionReason, SyscallError } from '../../src/loader/index.js';
import { haveCorpus, haveRoot } from '../helpers/env.js';
import { corpusObjects, label, projectObjects } from '../helpers/objects.js';

const root = haveRoot();
const corpus = haveCorpus();
const scratch = `/sys/fs/bpf/bpfts-agreement-${process.pid}`;

type Kernel =
  | { verdict: 'loads' }
  | { verdict: 'rejects'; kind: 'structural' | 'semantic'; reason: string }
  | { verdict: 'not loadable'; reason: string };

function kernelLoad(obj: BpfObject, program: string, type: string | undefined): Kernel {
  mkdirSync(scratch, { recursive: true });
  try {
    loadObject(obj, { programs: [program], ...(type ? { type } : {}), objectName: 'agree', bpffsRoot: scratch }).close();
    return { verdict: 'loads' };
  } catch (e) {
    if (e instanceof ProgramRejectedError) {
      const reason = rejectionReason(e.log) ?? `no reason in the log (${e.message})`;
      return { verdict: 'rejects', kind: rejectionKind(reason), reason };
    }
    // Refused before the verifier ran: a map the kernel will not create, a missing attach target, ...
    if (e instanceof LoadError || e instanceof SyscallError) return { verdict: 'not loadable', reason: e.message.split('\n')[0]! };
    throw e;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

interface Row {
  object: string;
  program: string;
  type: string;
  verify: ProgramVerdict;
  kernel: Kernel;
}

/** The type to load a program as, and the verdict verify gives for that type. */
function programRows(path: string, obj: BpfObject): Row[] {
  const report = verify(obj);
  const byType = new Map<string, ProgramVerdict[]>();
  const forType = (type: string): ProgramVerdict[] => {
    if (!byType.has(type)) byType.set(type, verify(obj, { type }).programs);
    return byType.get(type)!;
  };
  return report.programs.map((v, index) => {
    let type: string | undefined;
    let verdict = v;
    if (v.section === '.text' || !matchSection(v.section, { libbpf: 'upstream' })) {
      type = v.progType ?? (/xdp/.test(v.section) || (!/^tc|classifier|action/.test(v.section) && /xdp/.test(label(path))) ? 'xdp' : 'classifier');
      if (!v.progType) verdict = forType(type)[index]!;
    }
    return { object: label(path), program: v.name, type: verdict.progType ?? type ?? 'section', verify: verdict, kernel: kernelLoad(obj, v.name, type) };
  });
}

const errorsOf = (v: ProgramVerdict) => v.findings.filter((f) => f.severity === 'error');

describe.skipIf(!root)('verify agrees with the kernel, per program (bpfts loader, BPF_PROG_LOAD)', () => {
  it('prints the agreement table; no verify ok for a structural rejection, no uninit read the kernel accepts', () => {
    const paths = [...(corpus ? corpusObjects().filter((p) => !p.includes('/invalid/')) : []), ...projectObjects().filter((p) => p.includes('/bpfel/'))];
    const rows: Row[] = [];
    for (const path of paths) {
      let obj: BpfObject;
      try {
        obj = readObject(readFileSync(path));
      } catch {
        continue;
      }
      if (!obj.littleEndian) continue;
      rows.push(...programRows(path, obj));
    }
    const v = (r: Row): 'ok' | 'error' => (errorsOf(r.verify).length > 0 ? 'error' : 'ok');
    const k = (r: Row): string => (r.kernel.verdict === 'rejects' ? `rejects ${r.kernel.kind}` : r.kernel.verdict);
    const columns = ['loads', 'rejects structural', 'rejects semantic', 'not loadable'];
    const count = (verdict: string, kernel: string): number => rows.filter((r) => v(r) === verdict && k(r) === kernel).length;
    const table = [
      `verify \\ kernel | ${columns.join(' | ')}`,
      ...['ok', 'error'].map((verdict) => `${verdict.padEnd(15)} | ${columns.map((c) => String(count(verdict, c)).padStart(c.length)).join(' | ')}`),
    ].join('\n');
    const line = (r: Row): string => {
      const e = errorsOf(r.verify)[0];
      const why = e ? ` (${e.function !== r.program ? `${e.function}: ` : ''}insn ${e.insn}: ${e.message})` : '';
      return `  ${r.object} ${r.program} [${r.type}]: verify ${v(r)}${why}; kernel ${k(r)}${'reason' in r.kernel ? `: ${r.kernel.reason}` : ''}`;
    };
    const disagree = rows.filter((r) => r.kernel.verdict !== 'not loadable' && (v(r) === 'ok') !== (r.kernel.verdict === 'loads'));
    const notLoadable = new Map<string, number>();
    for (const r of rows) {
      if (r.kernel.verdict === 'not loadable') {
        const key = r.kernel.reason.replace(/'[^']*'/g, "'…'").replace(/\(.*?\)/g, '(…)').slice(0, 110);
        notLoadable.set(key, (notLoadable.get(key) ?? 0) + 1);
      }
    }
    console.log(`\nverify vs kernel over ${rows.length} programs in ${new Set(rows.map((r) => r.object)).size} objects:\n${table}\n` +
      `verify ok, kernel rejects (kernel stricter):\n${disagree.map(line).join('\n')}\n` +
      `both reject:\n${rows.filter((r) => v(r) === 'error' && r.kernel.verdict === 'rejects').map(line).join('\n')}\n` +
      `not loadable, by reason:\n${[...notLoadable].map(([why, n]) => `  ${String(n).padStart(4)}  ${why}`).join('\n')}\n`);

    const falseOk = rows.filter((r) => v(r) === 'ok' && r.kernel.verdict === 'rejects' && r.kernel.kind === 'structural');
    expect(falseOk.map(line)).toEqual([]);
    const falseUninit = rows.filter((r) => r.kernel.verdict === 'loads' && r.verify.findings.some((f) => f.code === 'uninit-read'));
    expect(falseUninit.map(line)).toEqual([]);
    // The kernel accepts nothing verify calls an error.
    expect(rows.filter((r) => v(r) === 'error' && r.kernel.verdict === 'loads').map(line)).toEqual([]);
    // The log's reason is always found, never a trace or bookkeeping line.
    for (const r of rows) {
      if (r.kernel.verdict === 'rejects') expect(r.kernel.reason, line(r)).not.toMatch(/^(\d+: |from \d+ to \d+|no reason in the log|;)/);
    }
    expect(rows.length).toBeGreaterThan(corpus ? 500 : 10);
    expect(count('ok', 'loads')).toBeGreaterThan(0);
    expect(readdirSync('/sys/fs/bpf').filter((n) => n.startsWith('bpfts-agreement'))).toEqual([]);
  }, 180_000);
});
