// The committed objects in bpf/build must be exactly what bpf/Makefile builds from the
// sources today, and must have the sections, symbols and instructions that
// bpf/programs.json promises, as llvm-objdump-19 sees them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tool } from '../helpers/env.js';
import { bpfDir, loadManifest, objectPath, type BpfTarget } from './manifest.js';
import { disassemble, sectionNames, symbols } from './objdump.js';

const manifest = loadManifest();
const targets: BpfTarget[] = ['bpfel', 'bpfeb'];
const clang = tool('clang-19');
const make = tool('make');
const objdump = tool('llvm-objdump-19');

describe('bpf/programs.json', () => {
  it('describes both byte orders', () => {
    expect([...manifest.targets].sort()).toEqual([...targets].sort());
  });

  it.each(targets)('lists exactly the objects committed under build/%s', (target) => {
    const committed = readdirSync(join(bpfDir, 'build', target)).sort();
    expect(manifest.objects.map((o) => o.file).sort()).toEqual(committed);
  });
});

describe.skipIf(!clang || !make)('committed objects are up to date', () => {
  it('rebuilding from source gives byte-identical objects', () => {
    const out = mkdtempSync(join(tmpdir(), 'bpfts-bpf-build-'));
    try {
      execFileSync(make!, ['-s', '-C', bpfDir, `CLANG=${clang}`, `BUILD=${out}`, 'all'], { stdio: 'pipe' });
      const stale: string[] = [];
      for (const target of targets) {
        for (const { file } of manifest.objects) {
          const fresh = readFileSync(objectPath(target, file, out));
          if (!fresh.equals(readFileSync(objectPath(target, file)))) stale.push(`${target}/${file}`);
        }
      }
      expect(stale, 'rebuild with `make -C bpf` and commit bpf/build').toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!objdump)('objects match the manifest (llvm-objdump-19)', () => {
  const cases = targets.flatMap((target) => manifest.objects.map((obj) => ({ target, obj })));

  it.each(cases)('$target/$obj.file', ({ target, obj }) => {
    const file = objectPath(target, obj.file);
    const sections = sectionNames(objdump!, file);
    const syms = symbols(objdump!, file);

    expect(sections.includes('.BTF')).toBe(obj.btf);
    expect(sections.includes('.BTF.ext')).toBe(obj.btf);

    for (const prog of [...obj.programs, ...(obj.subprograms ?? [])]) {
      expect(syms).toContainEqual(
        expect.objectContaining({ name: prog.function, section: prog.section, kind: 'F' }),
      );
    }
    const progSections = new Set(obj.programs.map((p) => p.section));
    const functions = syms.filter((s) => s.kind === 'F' && s.global).map((s) => s.name);
    expect(functions.sort()).toEqual(obj.programs.map((p) => p.function).sort());
    for (const s of progSections) expect(sections).toContain(s);

    for (const map of obj.maps) {
      expect(syms).toContainEqual(expect.objectContaining({ name: map.name, section: map.section, kind: 'O' }));
    }
    for (const mapSection of new Set(obj.maps.map((m) => m.section))) {
      const declared = syms.filter((s) => s.section === mapSection && s.kind === 'O').map((s) => s.name);
      expect(declared.sort()).toEqual(obj.maps.filter((m) => m.section === mapSection).map((m) => m.name).sort());
    }
    for (const dataSection of ['.rodata', '.data', '.bss']) {
      const declared = syms.filter((s) => s.section === dataSection && s.kind === 'O').map((s) => s.name);
      expect(declared.sort(), dataSection).toEqual([...(obj.globals[dataSection] ?? [])].sort());
    }

    const text = disassemble(objdump!, file);
    for (const prog of obj.programs) expect(text).toContain(`<${prog.function}>:`);
  });

  it('the little-endian -mcpu=v4 object contains a v4-only instruction', () => {
    const v4 = manifest.objects.filter((o) => o.cpu === 'v4');
    expect(v4.length).toBeGreaterThan(0);
    for (const obj of v4) {
      expect(disassemble(objdump!, objectPath('bpfel', obj.file))).toMatch(/= bswap(16|32|64) /);
    }
    for (const obj of manifest.objects.filter((o) => o.cpu !== 'v4')) {
      expect(disassemble(objdump!, objectPath('bpfel', obj.file))).not.toMatch(/bswap|gotol|\(s(8|16|32)( \*)?\)|\bs[/%]=/);
    }
  });
});
