// Which loader doctor judges an object for when --loader is not given, and what that does to the
// verdict and the exit code: a libbpf object is not broken because aya names tc sections
// differently. Oracles: bpf/programs.json (bpftool v7.1's recorded verdict on each bpf/ object),
// libbpf 1.1's bpf_object__open, and, as root, bpftool prog loadall on the corpus.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doctor, type Report } from '../../src/doctor/index.js';
import { doctor as doctorCommand } from '../../src/cli/commands/doctor.js';
import { verify as verifyCommand } from '../../src/cli/commands/verify.js';
import { parseCommandArgs, type Command } from '../../src/cli/command.js';
import { matchSection, readObject, type BpfObject } from '../../src/object/index.js';
import { fixObject } from '../../src/fix/index.js';
import { haveCorpus, haveRoot, repoRoot, tool } from '../helpers/env.js';
import { corpusObjects, label, projectObjects } from '../helpers/objects.js';
import { withBpftoolLoadall } from '../helpers/bpftool.js';
import { libbpfOpener } from '../object/libbpf-open.js';

const bpfel = join(repoRoot, 'bpf', 'build', 'bpfel');
const tcDrop = join(bpfel, 'tc_drop_tcp80.o');
const egress = join(bpfel, 'provenance_egress.o');

async function run(command: Command, argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const io = { out: (t: string | Uint8Array) => { out += String(t); }, err: () => {} };
  const code = await command.run(parseCommandArgs(command, argv), io);
  return { code, out };
}

const read = (path: string): BpfObject => readObject(readFileSync(path));

describe('a libbpf object with SEC("tc") (tc_drop_tcp80.o)', () => {
  it('is judged for libbpf, passes, and aya\'s refusal of the section is a note', () => {
    const r = doctor(read(tcDrop));
    expect(r).toMatchObject({ assumedLoader: 'libbpf', assumedBecause: 'libbpf section names', ok: true });
    expect(r.verdicts.aya).toBe(false);
    const aya = r.findings.filter((f) => f.loaders.includes('aya'));
    expect(aya.map((f) => [f.code, f.severity])).toEqual([['section-name', 'info']]);
    expect(r.findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  it('doctor and verify exit 0 and say libbpf was assumed', async () => {
    const d = await run(doctorCommand, [tcDrop]);
    expect(d.code).toBe(0);
    expect(d.out).toContain('loader: libbpf, assumed from libbpf section names');
    expect(d.out).toContain('note [aya]: ');
    expect(d.out).toContain(`${tcDrop}: ok with libbpf (`);
    const v = await run(verifyCommand, [tcDrop]);
    expect(v.code).toBe(0);
    expect(v.out).toContain('loader: libbpf, assumed from libbpf section names');
    expect(v.out.trimEnd().split('\n').pop()).toBe(`${tcDrop}: ok with libbpf`);
    const json = JSON.parse((await run(doctorCommand, [tcDrop, '--json'])).out) as Report;
    expect(json).toMatchObject({ assumedLoader: 'libbpf', assumedBecause: 'libbpf section names', ok: true, verdicts: { aya: false } });
  });

  it('with --loader aya both exit 1 and aya\'s refusal is an error again', async () => {
    const r = doctor(read(tcDrop), { loader: 'aya' });
    expect(r).toMatchObject({ loader: 'aya', assumedLoader: 'aya', assumedBecause: '--loader', ok: false });
    expect(r.findings.find((f) => f.loaders.includes('aya'))!.severity).toBe('error');
    const d = await run(doctorCommand, [tcDrop, '--loader', 'aya']);
    expect(d.code).toBe(1);
    expect(d.out).toContain('loader: aya (--loader)');
    expect(d.out).toContain('error [aya]: ');
    expect((await run(verifyCommand, [tcDrop, '--loader', 'aya'])).code).toBe(1);
  });
});

describe('the README demo (provenance_egress.o)', () => {
  it('exits 1 for libbpf (BTF .maps), which refuses section egress; the renamed object exits 0', async () => {
    const d = await run(doctorCommand, [egress]);
    expect(d.code).toBe(1);
    expect(d.out).toContain('loader: libbpf, assumed from BTF-defined .maps');
    expect(d.out).toContain("error [libbpf]: libbpf: prog 'provenance': missing BPF prog type, check ELF section name 'egress'");
    const dir = mkdtempSync(join(tmpdir(), 'bpfts-assumed-'));
    try {
      const fixed = join(dir, 'provenance.o');
      writeFileSync(fixed, fixObject(readFileSync(egress), { renames: [{ from: 'egress', to: 'classifier' }] }).bytes);
      const after = await run(doctorCommand, [fixed]);
      expect(after.code).toBe(0);
      expect(after.out).toContain('loader: libbpf, assumed from BTF-defined .maps and libbpf section names');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('bpf/legacy_maps.o (struct bpf_map_def in maps, SEC("socket"))', () => {
  // Not an iproute2 object: its 28-byte definitions are libbpf 0.x's, its section libbpf's.
  it('is judged for libbpf and fails on the legacy maps, as bpftool v7.1 does', () => {
    const r = doctor(read(join(bpfel, 'legacy_maps.o')));
    expect(r).toMatchObject({ assumedLoader: 'libbpf', assumedBecause: 'libbpf section names', ok: false });
    expect(r.findings.find((f) => f.code === 'legacy-maps')!.severity).toBe('error');
    expect(doctor(read(join(bpfel, 'legacy_maps.o')), { loader: 'aya' }).ok).toBe(true);
  });
});

const clang = tool('clang-19');

// One object per rule of assumeLoader that bpf/ has no object for.
const RULES: { name: string; source: string; loader: string | undefined; because: RegExp; ok: boolean }[] = [
  {
    name: 'iproute2 bpf_elf_map',
    source: `struct bpf_elf_map { unsigned type, size_key, size_value, max_elem, flags, id, pinning, inner_id, inner_idx; };
struct bpf_elf_map __attribute__((section("maps"), used)) counts = { 2, 4, 8, 1 };
__attribute__((section("classifier"), used)) int cls(void *ctx) { return 0; }`,
    loader: 'tc', because: /bpf_elf_map/, ok: true,
  },
  {
    name: 'aya section name',
    source: '__attribute__((section("classifier/drop"), used)) int cls(void *ctx) { return 0; }',
    loader: 'aya', because: /'classifier\/drop' is aya's/, ok: true,
  },
  {
    name: 'tc program in a free-form section with legacy maps',
    source: `struct bpf_map_def { unsigned type, key_size, value_size, max_entries, map_flags, inner_map_idx, numa_node; };
struct bpf_map_def __attribute__((section("maps"), used)) counts = { 2, 4, 8, 1 };
__attribute__((section("my_ingress"), used)) int cls(void *ctx) { return 0; }`,
    loader: 'tc', because: /sections only iproute2 takes/, ok: true,
  },
  {
    name: 'samples/bpf socket1 with legacy maps',
    source: `struct bpf_map_def { unsigned type, key_size, value_size, max_entries, map_flags, inner_map_idx, numa_node; };
struct bpf_map_def __attribute__((section("maps"), used)) counts = { 2, 4, 8, 1 };
__attribute__((section("socket1"), used)) int sock(void *ctx) { return 0; }`,
    loader: undefined, because: /nothing in the object names its loader/, ok: false,
  },
];

describe.skipIf(!clang)('the assumption rules on small objects', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bpfts-assumed-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(RULES)('$name', async ({ name, source, loader, because, ok }) => {
    const path = join(dir, `${name.replace(/\W+/g, '_')}.o`);
    writeFileSync(`${path}.c`, `${source}\nchar _license[] __attribute__((section("license"), used)) = "GPL";\n`);
    execFileSync(clang!, ['-O2', '-target', 'bpfel', '-c', `${path}.c`, '-o', path]);
    const r = doctor(read(path));
    expect(r.assumedLoader).toBe(loader);
    expect(r.assumedBecause).toMatch(because);
    expect(r.ok).toBe(ok);
    if (!loader) {
      // No loader loads it: every loader's reasons stay errors.
      expect(r.findings.filter((f) => f.loaders.length > 0).every((f) => f.severity === 'error')).toBe(true);
      expect((await run(doctorCommand, [path])).out).toContain('loader: none assumed');
    }
    expect((await run(doctorCommand, [path])).code).toBe(ok ? 0 : 1);
  });
});

interface Assumed {
  path: string;
  obj: BpfObject;
  report: Report;
}

function assumedAll(paths: string[]): Assumed[] {
  return paths.flatMap((path) => {
    let obj: BpfObject;
    try {
      obj = read(path);
    } catch {
      return [];
    }
    return [{ path, obj, report: doctor(obj) }];
  });
}

const entries = (obj: BpfObject) => obj.programs.filter((p) => p.kind === 'entry');
const corpus = haveCorpus();

describe('the assumed loader across real objects', () => {
  it('bpf/: every little-endian object is libbpf\'s, and doctor\'s verdict is bpftool v7.1\'s recorded one', () => {
    const expected = JSON.parse(readFileSync(join(repoRoot, 'bpf', 'programs.json'), 'utf8')) as { objects: { file: string; expectLoad: string }[] };
    for (const { file, expectLoad } of expected.objects) {
      const r = doctor(read(join(bpfel, file)));
      expect(r.assumedLoader, file).toBe('libbpf');
      // legacy_maps.o and provenance_egress.o fail for libbpf 1.1 as for upstream.
      expect(r.ok, `${file}: ${expectLoad}`).toBe(expectLoad === 'ok');
    }
  });

  it.skipIf(!corpus)('corpus and bpf/: counts per assumed loader; the rules hold for each object', () => {
    const all = assumedAll([...corpusObjects(), ...projectObjects()]);
    const counts = new Map<string, { objects: number; ok: number }>();
    for (const { path, obj, report } of all) {
      const key = report.assumedLoader ?? 'none';
      const c = counts.get(key) ?? { objects: 0, ok: 0 };
      c.objects++;
      if (report.ok) c.ok++;
      counts.set(key, c);
      const programs = entries(obj);
      const libbpfNames = programs.length > 0 && programs.every((p) => matchSection(p.section, { libbpf: 'upstream' }));
      switch (report.assumedLoader) {
        case 'libbpf':
          // The verdict may only pass when libbpf knows every section; else its refusal is the error.
          if (report.ok) expect(libbpfNames, label(path)).toBe(true);
          if (!libbpfNames) expect(report.findings.some((f) => f.severity === 'error' && f.code === 'section-name' && f.loaders.includes('libbpf')) || programs.length === 0, label(path)).toBe(true);
          break;
        case 'aya':
          expect(libbpfNames, label(path)).toBe(false);
          break;
        case 'tc':
          expect(obj.maps.some((m) => m.style === 'btf'), label(path)).toBe(false);
          break;
        default:
          expect(report.ok, label(path)).toBe(report.verdicts.libbpf && report.verdicts.tc && report.verdicts.aya && report.verdicts.bpfts && report.verdicts['libbpf-1.1']);
      }
      // A verdict's loader's problems are never demoted; other loaders' are only when something loads it.
      const own = report.assumedLoader;
      for (const f of report.findings) {
        if (f.severity === 'info' && f.loaders.length > 0 && own) expect(f.loaders.includes(own), `${label(path)}: ${f.message}`).toBe(false);
      }
      if (!Object.values(report.verdicts).some(Boolean)) expect(report.ok, label(path)).toBe(false);
    }
    const line = [...counts].sort((a, b) => b[1].objects - a[1].objects).map(([l, c]) => `${l} ${c.objects} (ok ${c.ok})`).join(', ');
    console.log(`assumed loader over ${all.length} objects: ${line}`);
    expect(counts.get('libbpf')!.objects).toBeGreaterThan(50);
    expect(counts.get('tc')!.objects).toBeGreaterThan(10);
  });

  const open = libbpfOpener();
  it.skipIf(!open)('libbpf 1.1 opens every object doctor passes for libbpf 1.1 among those it judges for libbpf', () => {
    const paths = corpus ? [...corpusObjects(), ...projectObjects()] : projectObjects();
    const judged = assumedAll(paths).filter((a) => a.report.assumedLoader === 'libbpf' && a.report.verdicts['libbpf-1.1']);
    for (const a of judged) expect(open!(a.path), label(a.path)).toBeDefined();
    console.log(`libbpf 1.1 bpf_object__open: ${judged.length} objects doctor passes for libbpf and libbpf 1.1, all opened`);
    // bpf/ alone has 12.
    expect(judged.length).toBeGreaterThan(corpus ? 20 : 10);
  });

  const bpftool = tool('bpftool');
  it.skipIf(!corpus || !bpftool || !haveRoot())('bpftool v7.1 prog loadall never fails for a reason doctor checks on objects it passes for libbpf', () => {
    const judged = assumedAll(corpusObjects()).filter((a) => a.report.assumedLoader === 'libbpf' && a.report.ok && a.report.verdicts['libbpf-1.1']);
    // libbpf's own refusals before anything reaches the kernel: section names and map definitions.
    const doctorReasons = /failed to guess program type|missing BPF prog type|legacy map definitions|isn't a valid program reference|endianness mismatch/;
    let loaded = 0;
    for (const a of judged) {
      const pins = mkdtempSync('/sys/fs/bpf/bpfts-assumed-');
      withBpftoolLoadall(bpftool!, a.path, pins, (r) => {
        if (r.status === 0) loaded++;
        else expect(r.stderr, label(a.path)).not.toMatch(doctorReasons);
      });
    }
    console.log(`bpftool prog loadall on ${judged.length} corpus objects doctor passes for libbpf: ${loaded} load, ${judged.length - loaded} fail in the kernel (verifier, map creation or attach target)`);
    expect(judged.length).toBeGreaterThan(20);
  });
});
