// `--source`: the BTF line_info comments. Removing them must leave llvm-objdump-19's listing, and
// each comment must be the text of the C line its record names, read from the source file itself.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { btfFromElf } from '../../src/btf/index.js';
import { parseElf } from '../../src/elf/index.js';
import { disassemble, lineInfoLookup } from '../../src/isa/index.js';
import { repoRoot, tool } from '../helpers/env.js';

const objdump = tool('llvm-objdump-19');
const bpfDir = resolve(repoRoot, 'bpf');
const objects = ['bpfel', 'bpfeb'].flatMap((order) => {
  const dir = resolve(bpfDir, 'build', order);
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.o')).map((f) => resolve(dir, f)) : [];
});

describe.skipIf(!objdump || objects.length === 0)('disassembly with BTF line_info source lines', () => {
  it.each(objects)('%s', (path) => {
    const bytes = readFileSync(path);
    const elf = parseElf(bytes);
    if (!elf.sections.some((s) => s.name === '.BTF.ext')) return;
    const ext = btfFromElf(bytes).ext!;
    const listing = disassemble(elf, { lineInfo: lineInfoLookup(ext.lineInfo) });

    const llvm = execFileSync(objdump!, ['-d', '--no-show-raw-insn', path], { encoding: 'latin1' });
    const plain = listing.split('\n').filter((l) => !l.startsWith('; ')).join('\n');
    expect(plain).toBe(llvm.slice(llvm.indexOf('\n', llvm.indexOf('file format')) + 1));

    const comments = listing.split('\n').filter((l) => l.startsWith('; '));
    const records = ext.lineInfo.flatMap((s) => s.records);
    expect(comments.length).toBeGreaterThan(0);
    // The comments, in order, are the first record at each offset; check their text against the file.
    // The listing follows the ELF section order, .BTF.ext need not.
    const expected = elf.sections.flatMap((section) => {
      const rs = ext.lineInfo.find((l) => l.section === section.name)?.records ?? [];
      const seen = new Set<number>();
      return rs.filter((r) => !seen.has(r.insnOff) && seen.add(r.insnOff));
    });
    expect(comments.length).toBe(expected.length);
    for (const r of records) {
      const source = readFileSync(resolve(bpfDir, r.fileName), 'latin1').split('\n');
      expect(r.line).toBe(source[r.lineNum - 1]);
    }
    expected.forEach((r, i) => expect(comments[i]).toBe(`; ${r.line.trimStart()}`));
  });
});
