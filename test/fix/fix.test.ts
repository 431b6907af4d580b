// bpfts fix: the fixed objects are accepted by tc (in a netns and veth made here), by bpftool
// prog loadall (libbpf 1.1), and their .BTF, cut out with llvm-objcopy-19, by the kernel's
// BPF_BTF_LOAD, while the unfixed .BTF is rejected with the kernel's "size == 0".
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixObject, FixError } from '../../src/fix/index.js';
import { parseElf, sectionByName } from '../../src/elf/index.js';
import { parseBtf } from '../../src/btf/index.js';
import { readObject } from '../../src/object/index.js';
import { UsageError } from '../../src/errors.js';
import { fix as fixCommand } from '../../src/cli/commands/fix.js';
import { parseCommandArgs } from '../../src/cli/command.js';
import { bpftoolLoadall } from '../helpers/bpftool.js';
import { kernelBtfVerdict } from '../helpers/kernel-btf.js';
import { haveCorpus, haveRoot, repoRoot, tool } from '../helpers/env.js';
import { corpusObjects, label, projectObjects } from '../helpers/objects.js';
import { TestNetns } from '../loader/fixtures.js';

const root = haveRoot();
const corpus = haveCorpus();
const tc = tool('tc');
const bpftool = tool('bpftool');
const objcopy = tool('llvm-objcopy-19');
const objdump = tool('llvm-objdump-19');
const tmp = mkdtempSync(join(tmpdir(), 'bpfts-fix-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const egress = join(repoRoot, 'bpf', 'build', 'bpfel', 'provenance_egress.o');
let counter = 0;
function fixedFile(input: string, options: Parameters<typeof fixObject>[1] = {}): string {
  const out = join(tmp, `fixed-${counter++}.o`);
  writeFileSync(out, fixObject(readFileSync(input), options).bytes);
  return out;
}

/** The .BTF section on its own, cut out by llvm-objcopy (not by bpfts). */
function dumpBtf(obj: string): Uint8Array {
  const out = join(tmp, `btf-${counter++}.bin`);
  execFileSync(objcopy!, [`--dump-section=.BTF=${out}`, obj, join(tmp, 'discard.o')]);
  return readFileSync(out);
}

function loadall(obj: string): { status: number | null; stderr: string } {
  const r = bpftoolLoadall(bpftool!, obj, `/sys/fs/bpf/bpfts-fix-${process.pid}-${counter++}`);
  return { status: r.status, stderr: r.stderr };
}

describe('fixObject', () => {
  it('writes a section table that holds an SHT_NULL entry past index 0 (a fuzzing find), and llvm-readobj-19 reads it', () => {
    const bytes = Uint8Array.from(readFileSync(join(repoRoot, 'bpf/build/bpfel/tc_drop_icmp.o')));
    const elf = parseElf(bytes);
    const victim = sectionByName(elf, '.BTF.ext') ?? elf.sections[elf.sections.length - 2]!;
    // sh_type is the second word of the section header.
    const view = new DataView(bytes.buffer);
    view.setUint32(Number(view.getBigUint64(40, true)) + victim.index * 64 + 4, 0, true);
    const out = fixObject(bytes, { renames: [], fixupDatasecs: true }).bytes;
    const again = parseElf(out);
    expect(again.sections[victim.index]!.type).toBe(0);
    const readobj = tool('llvm-readobj-19');
    if (readobj) {
      const dir = mkdtempSync(join(tmpdir(), 'bpfts-null-'));
      try {
        writeFileSync(join(dir, 'o.o'), out);
        const r = spawnSync(readobj, ['--sections', join(dir, 'o.o')], { encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toContain('SHT_NULL');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  it('renames egress to classifier with .relegress and the .BTF.ext section names', () => {
    const result = fixObject(readFileSync(egress), { renames: [{ from: 'egress', to: 'classifier' }] });
    const elf = parseElf(result.bytes);
    const names = elf.sections.map((s) => s.name);
    expect(names).toContain('classifier');
    expect(names).toContain('.relclassifier');
    expect(names).not.toContain('egress');
    expect(names).not.toContain('.relegress');
    const obj = readObject(result.bytes);
    expect(obj.btfExt?.funcInfo.map((f) => f.section)).toContain('classifier');
    expect(obj.btfExt?.lineInfo.map((f) => f.section)).toEqual(['classifier']);
    expect(obj.programs.find((p) => p.kind === 'entry')?.section).toBe('classifier');
  });

  it.skipIf(!objdump)('changes no instruction or relocation (llvm-objdump-19 -dr agrees apart from the name)', () => {
    const out = fixedFile(egress, { renames: [{ from: 'egress', to: 'classifier' }] });
    const dis = (f: string): string => execFileSync(objdump!, ['-dr', f], { encoding: 'utf8' }).split('\n').slice(2).join('\n');
    expect(dis(out)).toBe(dis(egress).replaceAll('egress', 'classifier'));
  });

  it('is a byte-identical copy when there is nothing to fix', () => {
    const plain = projectObjects().find((p) => p.endsWith('tc_drop_icmp_nobtf.o'))!;
    const bytes = readFileSync(plain);
    const result = fixObject(bytes);
    expect(result.changed).toBe(false);
    expect(Buffer.from(result.bytes).equals(bytes)).toBe(true);
  });

  it('a second fix of a fixed object changes nothing', () => {
    const once = fixObject(readFileSync(egress)).bytes;
    const twice = fixObject(once);
    expect(twice.changed).toBe(false);
  });

  it('refuses bad renames without output', () => {
    const bytes = readFileSync(egress);
    expect(() => fixObject(bytes, { renames: [{ from: 'nope', to: 'x' }] })).toThrow(UsageError);
    expect(() => fixObject(bytes, { renames: [{ from: 'egress', to: 'license' }] })).toThrow(FixError);
  });

  it.skipIf(!corpus)('strips .eh_frame with its relocations', () => {
    const withEh = corpusObjects().find((p) => {
      try {
        return sectionByName(parseElf(readFileSync(p)), '.eh_frame') !== undefined;
      } catch {
        return false;
      }
    })!;
    const elf = parseElf(fixObject(readFileSync(withEh), { stripEhFrame: true }).bytes);
    expect(elf.sections.map((s) => s.name).filter((n) => n.includes('eh_frame'))).toEqual([]);
  });
});

describe('bpfts fix command', () => {
  const io = { out: () => {}, err: () => {} };
  const run = (argv: string[]) => fixCommand.run(parseCommandArgs(fixCommand, argv), io);

  it('refuses to write over its input', () => {
    expect(() => run([egress, '-o', egress])).toThrow(UsageError);
  });

  it('leaves no output when the fix fails', () => {
    const out = join(tmp, 'never.o');
    expect(() => run([egress, '-o', out, '--section', 'nope=x'])).toThrow(UsageError);
    expect(existsSync(out)).toBe(false);
    expect(() => run([egress, '-o', out, '--section', 'bad'])).toThrow(UsageError);
    expect(existsSync(out)).toBe(false);
  });

  it('writes the fixed object and exits 0', async () => {
    const out = join(tmp, 'cli.o');
    expect(await run([egress, '-o', out, '--section', 'egress=classifier'])).toBe(0);
    expect(parseElf(readFileSync(out)).sections.some((s) => s.name === 'classifier')).toBe(true);
  });
});

describe.skipIf(!root || !tc || !bpftool || !objcopy)('the kernel and the loaders accept the fixed objects', () => {
  it('provenance_egress.o: bpftool refuses it, tc needs `sec egress`; fixed, both accept it under `classifier`', () => {
    expect(loadall(egress).stderr).toMatch(/failed to guess program type from ELF section 'egress'/);
    const out = fixedFile(egress, { renames: [{ from: 'egress', to: 'classifier' }] });
    expect(loadall(out)).toEqual({ status: 0, stderr: expect.any(String) });
    const ns = new TestNetns(['bpfts-fx0', 'bpfts-fx1']);
    try {
      ns.exec(tc!, ['qdisc', 'add', 'dev', 'bpfts-fx0', 'clsact']);
      const bad = spawnSync('ip', ['netns', 'exec', ns.name, tc!, 'filter', 'add', 'dev', 'bpfts-fx0', 'egress', 'bpf', 'da', 'obj', egress, 'sec', 'classifier'], { encoding: 'utf8' });
      expect(bad.status).not.toBe(0);
      ns.exec(tc!, ['filter', 'add', 'dev', 'bpfts-fx0', 'egress', 'bpf', 'da', 'obj', out, 'sec', 'classifier']);
      expect(ns.exec(tc!, ['filter', 'show', 'dev', 'bpfts-fx0', 'egress'])).toMatch(/classifier.*direct-action/s);
      // Without `sec`, tc looks for 'classifier': the fixed object needs no option at all.
      ns.exec(tc!, ['filter', 'replace', 'dev', 'bpfts-fx0', 'egress', 'prio', '2', 'bpf', 'da', 'obj', out]);
    } finally {
      ns.destroy();
    }
  });

  it('provenance_egress.o: raw .BTF rejected with "size == 0", fixed .BTF accepted by BPF_BTF_LOAD', () => {
    expect(kernelBtfVerdict(dumpBtf(egress))).toMatch(/DATASEC .* size == 0$/);
    expect(kernelBtfVerdict(dumpBtf(fixedFile(egress, { renames: [{ from: 'egress', to: 'classifier' }] })))).toBeUndefined();
  });

  const bpfel = projectObjects().filter((p) => p.includes('/bpfel/') && sectionByName(parseElf(readFileSync(p)), '.BTF'));
  it.each(bpfel.map((p) => [label(p), p]))('%s: fixed .BTF accepted, loadall result unchanged', (_l, p) => {
    const before = loadall(p).status;
    const out = fixedFile(p);
    expect(kernelBtfVerdict(dumpBtf(out))).toBeUndefined();
    expect(loadall(out).status).toBe(before);
  });

  it.skipIf(!corpus)('corpus objects with DATASECs: raw .BTF rejected with "size == 0", fixed accepted', () => {
    const withDatasec = corpusObjects().filter((p) => {
      try {
        const elf = parseElf(readFileSync(p));
        const s = sectionByName(elf, '.BTF');
        return s !== undefined && elf.littleEndian && parseBtf(s.data).ownTypes().some((t) => t.kind === 'DATASEC');
      } catch {
        return false;
      }
    });
    expect(withDatasec.length).toBeGreaterThan(50);
    for (const p of withDatasec) {
      const raw = dumpBtf(p);
      const externFunc = parseBtf(raw).ownTypes().some((t) => t.kind === 'FUNC' && t.linkage === 2);
      expect(kernelBtfVerdict(raw), label(p)).toMatch(externFunc ? /Invalid func linkage|size == 0/ : /DATASEC .* size == 0$/);
      const fixed = kernelBtfVerdict(dumpBtf(fixedFile(p)));
      if (externFunc) expect(fixed, label(p)).toMatch(/Invalid func linkage$/);
      else expect(fixed, label(p)).toBeUndefined();
    }
  });
});
