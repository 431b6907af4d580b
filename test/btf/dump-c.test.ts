import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { btfFromFile, dumpC } from '../../src/btf/index.js';
import { haveCorpus, haveKernelBtf, tool, VMLINUX } from '../helpers/env.js';
import { wellFormedCorpusObjects } from '../helpers/objects.js';

describe.skipIf(!haveCorpus() || !tool('bpftool'))('C dump matches bpftool format c on the corpus', () => {
  it('identical text for every object bpftool dumps', () => {
    let compared = 0;
    const mismatched: string[] = [];
    for (const file of wellFormedCorpusObjects()) {
      const r = spawnSync('bpftool', ['btf', 'dump', 'file', file, 'format', 'c'], { encoding: 'utf8', maxBuffer: 1 << 28 });
      if (r.status !== 0) continue;
      compared++;
      if (dumpC(btfFromFile(new Uint8Array(readFileSync(file)))) !== r.stdout) mismatched.push(file);
    }
    console.log(`btf C dump: ${compared} compared, ${compared - mismatched.length} identical`);
    expect(mismatched).toEqual([]);
    expect(compared).toBeGreaterThan(50);
  });
});

describe.skipIf(!haveKernelBtf() || !tool('bpftool') || !tool('clang-19'))('C dump of vmlinux', () => {
  it('is identical to bpftool and compiles with clang', () => {
    const header = dumpC(btfFromFile(new Uint8Array(readFileSync(VMLINUX))));
    const expected = execFileSync('bpftool', ['btf', 'dump', 'file', VMLINUX, 'format', 'c'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    expect(header === expected).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'btf-c-'));
    try {
      writeFileSync(join(dir, 'vmlinux.h'), header);
      writeFileSync(join(dir, 'use.c'), '#include "vmlinux.h"\nint f(struct task_struct *t) { return t->pid; }\n');
      execFileSync('clang-19', ['-target', 'bpf', '-g', '-O2', '-c', join(dir, 'use.c'), '-o', join(dir, 'use.o')]);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
