// CO-RE relocations resolved against the running kernel's BTF, checked against libbpf: the same
// clang-built object loaded by bpfts and by bpftool v7.1 (libbpf 1.1) must give the kernel the same
// instructions (program tag, and the verifier's xlated instructions with map ids masked).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { btfFromFile } from '../../src/btf/index.js';
import {
  CORE_POISON_HELPER, LoadError, ProgramRejectedError, essentialName, loadObject, progGetInfo, progXlatedInsns,
} from '../../src/loader/raw.js';
import { bpftoolProgram } from '../helpers/bpftool.js';
import { haveRoot, repoRoot, tool } from '../helpers/env.js';
import { maskMapIds } from '../helpers/xlated.js';
import { buildTestObject } from './clang.js';

const root = haveRoot();
const bpftool = root ? tool('bpftool') : undefined;
const clang = tool('clang-19');
const objdump = tool('llvm-objdump-19');
const cli = join(repoRoot, 'dist', 'cli', 'main.js');

describe('essentialName (libbpf bpf_core_essential_name_len)', () => {
  it.each([
    ['task_struct___old', 'task_struct'],
    ['a___b___c', 'a___b'],
    ['task_struct', 'task_struct'],
    ['___x', '___x'],
    ['a____b', 'a____b'],
    ['a___', 'a___'],
  ])('%s → %s', (name, want) => expect(essentialName(name)).toBe(want));
});

describe.skipIf(!root || !bpftool || !clang)('CO-RE against the kernel, bpftool as the oracle', () => {
  let build: ReturnType<typeof buildTestObject>;
  let target: ReturnType<typeof buildTestObject>;
  const pinDir = `/sys/fs/bpf/bpfts-core-${process.pid}`;
  beforeAll(() => {
    build = buildTestObject(clang!, 'core');
    target = buildTestObject(clang!, 'core_target');
  });
  afterAll(() => {
    build?.cleanup();
    target?.cleanup();
  });

  it('gives the kernel the same instructions as libbpf for byte_off, byte_sz, bitfields, exists, sizes, enums and type ids', () => {
    const theirs = bpftoolProgram(bpftool!, build.path, pinDir, 'core_probe');
    const loaded = loadObject(readFileSync(build.path), { objectName: 'core' });
    try {
      const ours = loaded.programs[0]!;
      expect(ours.tag).toBe(progGetInfo(theirs).tag);
      expect(maskMapIds(progXlatedInsns(ours.fd))).toEqual(maskMapIds(progXlatedInsns(theirs)));
      const byInsn = new Map(ours.core.map((c) => [`${c.insn} ${c.kind}`, c]));
      // The flavor's extra member is not in the kernel: 0, not a failure.
      expect(ours.core.filter((c) => c.kind === 'field_exists').map((c) => c.newVal)).toEqual([0n]);
      // The guarded read of that member is poisoned, and the verifier drops it as dead code.
      expect(ours.core.filter((c) => c.poison).map((c) => c.kind)).toEqual(['byte_off']);
      expect(byInsn.size).toBe(ours.core.length);
    } finally {
      loaded.close();
      theirs.close();
    }
  });

  it('refuses a relocation two kernel types resolve differently (libbpf: field offset ambiguity)', () => {
    const kernelBtf = btfFromFile(readFileSync(target.path));
    let err: unknown;
    try {
      loadObject(readFileSync(build.path), { objectName: 'core', kernelBtf }).close();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LoadError);
    expect((err as LoadError).message).toMatch(/instruction 6: CO-RE relocation byte_off of struct task_struct \(access 0:0\): field offset ambiguity/);
  });

  it('poisons a needed field the kernel lacks, and the verifier names the instruction', () => {
    // A single task_struct flavor with pid but without tgid: the tgid read is poisoned and, being
    // reachable, the kernel refuses the call of helper 0xbad2310.
    const v2Only = buildTestObject(clang!, 'core_target', ['-DONLY_V2']);
    let err: unknown;
    try {
      loadObject(readFileSync(build.path), { objectName: 'core', kernelBtf: btfFromFile(readFileSync(v2Only.path)) }).close();
    } catch (e) {
      err = e;
    } finally {
      v2Only.cleanup();
    }
    expect(err).toBeInstanceOf(ProgramRejectedError);
    expect((err as ProgramRejectedError).log).toMatch(new RegExp(`invalid func unknown#${CORE_POISON_HELPER}`));
  });

  it.skipIf(!objdump)('bpfts load --json counts the CO-RE relocations llvm-objdump lists, and the poisoned one', () => {
    if (!existsSync(cli)) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: repoRoot, stdio: 'ignore' });
    const listed = execFileSync(objdump!, ['-d', '-r', build.path], { encoding: 'utf8' }).split('\n').filter((l) => /\bCO-RE </.test(l)).length;
    const out = JSON.parse(execFileSync(process.execPath, [cli, 'load', build.path, '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as {
      programs: { coreRelocations: number; corePoisoned: number }[];
    };
    expect(out.programs.map((p) => [p.coreRelocations, p.corePoisoned])).toEqual([[listed, 1]]);
  }, 60_000);
});
