// doctor against independent oracles: the kernel's BPF_BTF_LOAD for the BTF rules (also on mutated
// BTF), libbpf 1.1's bpf_object__open for objects libbpf refuses, and the user's problem as stated
// in the issue for provenance_egress.o.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { doctor, checkBtf } from '../../src/doctor/index.js';
import { doctor as doctorCommand } from '../../src/cli/commands/doctor.js';
import { parseCommandArgs } from '../../src/cli/command.js';
import { readObject, fixupBtf } from '../../src/object/index.js';
import { parseElf, sectionByName } from '../../src/elf/index.js';
import { parseBtf, encodeBtf, btfContent, type BtfContent } from '../../src/btf/index.js';
import { BpfError, UsageError } from '../../src/errors.js';
import { kernelBtfVerdict } from '../helpers/kernel-btf.js';
import { haveCorpus, haveRoot, repoRoot } from '../helpers/env.js';
import { corpusObjects, label, projectObjects } from '../helpers/objects.js';
import { libbpfOpener } from '../object/libbpf-open.js';

const corpus = haveCorpus();
const root = haveRoot();
const egress = join(repoRoot, 'bpf', 'build', 'bpfel', 'provenance_egress.o');

function readable(path: string) {
  try {
    return readObject(readFileSync(path));
  } catch {
    return undefined;
  }
}

type Readable = { path: string; obj: NonNullable<ReturnType<typeof readable>> };

const paths = [...(corpus ? corpusObjects() : []), ...projectObjects()];
// The objects readObject reads, read in beforeAll so that collecting this file reads none.
let objects: Readable[] = [];
beforeAll(() => {
  objects = paths.map((path) => ({ path, obj: readable(path) })).filter((o): o is Readable => o.obj !== undefined);
});

/** The line of each message the kernel would print last, without bpfts' explanations in parentheses. */
function lastLines(messages: { message: string }[]): string[] {
  return messages.map((p) => p.message.split('\n').pop()!.replace(/ \(.*\)$/, '').trim());
}

describe('doctor on provenance_egress.o (the issue)', () => {
  const report = doctor(readObject(readFileSync(egress)), { path: egress });
  const prog = report.programs[0]!;

  it('says what each loader makes of section egress, in the loaders\' words', () => {
    const byLoader = Object.fromEntries(prog.views.map((v) => [v.loader, v]));
    expect((byLoader.libbpf as { error?: string }).error).toBe("prog 'provenance': missing BPF prog type, check ELF section name 'egress'");
    expect((byLoader['libbpf-1.1'] as { error?: string }).error).toBe("failed to guess program type from ELF section 'egress'");
    expect(byLoader.tc!.accepted).toBe(true);
    expect(byLoader.aya!.accepted).toBe(false);
  });

  it('infers a tc egress classifier and offers names and commands that work', () => {
    expect(prog.intent).toBe('tc-egress');
    const tc = prog.suggestions.find((s) => s.loader === 'tc')!;
    expect(tc.commands.join('\n')).toContain(`tc filter add dev DEV egress bpf da obj ${egress} sec egress`);
    expect(prog.suggestions.find((s) => s.loader === 'libbpf-1.1')!.sections).toContain('classifier');
    expect(report.findings.filter((f) => f.code === 'section-name').every((f) => f.hint?.includes('--section egress=classifier'))).toBe(true);
  });

  it('fails overall and for libbpf, passes for tc', () => {
    expect(report.ok).toBe(false);
    expect(report.verdicts.tc).toBe(true);
    expect(report.verdicts['libbpf-1.1']).toBe(false);
    expect(doctor(readObject(readFileSync(egress)), { loader: 'tc' }).ok).toBe(true);
  });

  it('the command prints the text, explains "TC classifier not found", and returns 1 / 0 with --loader tc', async () => {
    let out = '';
    const io = { out: (t: string | Uint8Array) => { out += String(t); }, err: () => {} };
    expect(await doctorCommand.run(parseCommandArgs(doctorCommand, [egress]), io)).toBe(1);
    expect(out).toContain("missing BPF prog type, check ELF section name 'egress'");
    expect(out).toContain('TC classifier not found');
    expect(out).toContain('size == 0');
    out = '';
    expect(await doctorCommand.run(parseCommandArgs(doctorCommand, [egress, '--loader', 'tc', '--json']), io)).toBe(0);
    expect(JSON.parse(out).verdicts.tc).toBe(true);
    expect(() => doctorCommand.run(parseCommandArgs(doctorCommand, [egress, '--loader', 'nope']), io)).toThrow(UsageError);
    expect(() => doctorCommand.run(parseCommandArgs(doctorCommand, [egress, '--kernel', 'x']), io)).toThrow(UsageError);
  });
});

describe('doctor never crashes on real objects', () => {
  it.each(paths.map((p) => [label(p), p] as const))('%s', (_l, path) => {
    let obj;
    try {
      obj = readObject(readFileSync(path));
    } catch (e) {
      // The malformed objects of invalid/ stop at the reader, with a typed error.
      expect(e).toBeInstanceOf(BpfError);
      return;
    }
    const r = doctor(obj, { kernel: '5.4' });
    expect(typeof r.ok).toBe('boolean');
  });
});

const open = libbpfOpener();
describe.skipIf(!open)('doctor agrees with libbpf 1.1 bpf_object__open', () => {
  it('every object libbpf 1.1 refuses to open gets a libbpf-1.1 error from doctor; legacy maps are always refused', () => {
    let refused = 0;
    for (const o of objects) {
      const view = open!(o.path);
      const r = doctor(o.obj);
      if (!view) {
        refused++;
        expect(r.verdicts['libbpf-1.1'], label(o.path)).toBe(false);
      }
      if (r.findings.some((f) => f.code === 'legacy-maps')) expect(view, label(o.path)).toBeUndefined();
    }
    expect(refused).toBeGreaterThan(0);
  });
});

describe.skipIf(!root)('checkBtf follows the kernel\'s BTF verifier', () => {
  const withBtf = () => objects.filter((o) => o.obj.btf && o.obj.littleEndian);

  it('raw and fixed-up BTF of every object get the kernel\'s verdict and words', () => {
    for (const o of withBtf()) {
      const raw = o.obj.btfSection!.data;
      for (const bytes of [raw, encodeBtf(fixupBtf(o.obj.elf, o.obj.btf!).content)]) {
        const kernel = kernelBtfVerdict(bytes);
        const ours = lastLines(checkBtf(bytes));
        if (kernel === undefined) expect(ours, label(o.path)).toEqual([]);
        else expect(ours, label(o.path)).toContain(kernel.trim());
      }
    }
  });

  // Mutations of a known-good BTF: one field at a time, the kernel decides.
  const globals = join(repoRoot, 'bpf', 'build', 'bpfel', 'globals.o');
  const base = readObject(readFileSync(globals));
  const good = fixupBtf(base.elf, base.btf!).content;
  type Mutation = (c: BtfContent, pick: number, value: number) => void;
  const mutations: Record<string, Mutation> = {
    'DATASEC size': (c, pick, value) => { const ds = c.types.filter((t) => t.kind === 'DATASEC'); const t = ds[pick % ds.length]!; if (t.kind === 'DATASEC') t.size = value % 64; },
    'DATASEC var offset': (c, pick, value) => { const ds = c.types.filter((t) => t.kind === 'DATASEC' && t.vars.length); const t = ds[pick % ds.length]!; if (t.kind === 'DATASEC') t.vars[value % t.vars.length]!.offset = value % 256; },
    'DATASEC var size': (c, pick, value) => { const ds = c.types.filter((t) => t.kind === 'DATASEC' && t.vars.length); const t = ds[pick % ds.length]!; if (t.kind === 'DATASEC') t.vars[0]!.size = value % 16; },
    'INT encoding/bits': (c, pick, value) => { const ints = c.types.filter((t) => t.kind === 'INT'); const t = ints[pick % ints.length]!; if (t.kind === 'INT') { t.encoding = value % 8; t.bits = (value >> 3) % 80; } },
    'name offset of a typedef/struct/var': (c, pick, value) => { const named = c.types.filter((t) => t.nameOff !== 0); const t = named[pick % named.length]!; t.nameOff = value % c.strings.length; },
    'name of a pointer': (c, pick, value) => { const ptrs = c.types.filter((t) => t.kind === 'PTR' || t.kind === 'CONST' || t.kind === 'ARRAY'); const t = ptrs[pick % ptrs.length]; if (t) t.nameOff = value % c.strings.length; },
    'VAR linkage': (c, pick, value) => { const vars = c.types.filter((t) => t.kind === 'VAR'); const t = vars[pick % vars.length]!; if (t.kind === 'VAR') t.linkage = value % 4; },
    'FUNC linkage': (c, pick, value) => { const f = c.types.filter((t) => t.kind === 'FUNC'); const t = f[pick % f.length]!; if (t.kind === 'FUNC') t.linkage = value % 4; },
    'struct member offset': (c, pick, value) => { const s = c.types.filter((t) => (t.kind === 'STRUCT' || t.kind === 'UNION') && t.members.length); const t = s[pick % s.length]; if (t && (t.kind === 'STRUCT' || t.kind === 'UNION')) t.members[value % t.members.length]!.bitOffset = (value * 8) % 512; },
    'ENUM size': (c, pick, value) => { const e = c.types.filter((t) => t.kind === 'ENUM'); const t = e[pick % e.length]; if (t && t.kind === 'ENUM') t.size = value % 10; },
  };

  it.each(Object.keys(mutations))('mutated %s: same accept/reject as the kernel, with the kernel\'s words', (name) => {
    fc.assert(fc.property(fc.nat(1000), fc.nat(100000), (pick, value) => {
      const c = structuredClone(good);
      mutations[name]!(c, pick, value);
      const bytes = encodeBtf(c);
      const kernel = kernelBtfVerdict(bytes);
      const ours = lastLines(checkBtf(bytes));
      if (kernel === undefined) expect(ours).toEqual([]);
      else expect(ours).toContain(kernel.trim());
    }), { numRuns: 60 });
  });

  it('the corpus had BTF to compare', () => {
    expect(withBtf().length).toBeGreaterThan(corpus ? 50 : 10);
    expect(parseBtf(encodeBtf(btfContent(base.btf!))).count).toBe(base.btf!.count);
    expect(sectionByName(parseElf(readFileSync(globals)), '.BTF')).toBeDefined();
  });
});
