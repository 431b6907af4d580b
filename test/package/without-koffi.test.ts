// A user whose install has no koffi (a platform without its prebuilt binary, or an install that
// skipped it): the package and its offline commands must work, and the first call into the kernel
// must fail with the typed NativeBindingError instead of an import-time crash or a stack trace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/env.js';
import { ensureBuilt } from '../cli/run-cli.js';

const object = join(repoRoot, 'bpf', 'build', 'bpfel', 'tc_drop_tcp80.o');
let project: string;

beforeAll(() => {
  ensureBuilt();
  // Outside the repository, so that Node's upward search for node_modules cannot reach the
  // repository's own koffi.
  project = mkdtempSync(join(tmpdir(), 'bpfts-nokoffi-'));
  const pkg = join(project, 'node_modules', 'bpfts');
  mkdirSync(pkg, { recursive: true });
  cpSync(join(repoRoot, 'dist'), join(pkg, 'dist'), { recursive: true });
  cpSync(join(repoRoot, 'package.json'), join(pkg, 'package.json'));
  // The dependencies other than koffi, as npm would have installed them.
  for (const dep of ['elfy', 'endian-reader']) symlinkSync(join(repoRoot, 'node_modules', dep), join(project, 'node_modules', dep));
});

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

function node(args: string[]) {
  return spawnSync(process.execPath, args, { cwd: project, encoding: 'utf8' });
}

describe('an install without koffi', () => {
  it('is really without koffi', () => {
    const r = node(['-e', "require.resolve('koffi', { paths: [require('path').join(process.cwd(), 'node_modules', 'bpfts', 'dist')] })"]);
    expect(r.status, r.stderr).not.toBe(0);
    expect(r.stderr).toContain("Cannot find module 'koffi'");
  });

  it('imports bpfts/loader and fails at the first kernel call with NativeBindingError', () => {
    writeFileSync(join(project, 'probe.mjs'), [
      "import { readFileSync } from 'node:fs';",
      "const loader = await import('bpfts/loader');",
      'try {',
      '  loader.Collection.load(readFileSync(process.argv[2]));',
      "  console.log(JSON.stringify({ loaded: true }));",
      '} catch (e) {',
      '  console.log(JSON.stringify({ name: e.constructor.name, typed: e instanceof loader.NativeBindingError, message: e.message }));',
      '}',
    ].join('\n'));
    const r = node(['probe.mjs', object]);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { name: string; typed: boolean; message: string };
    expect(out).toMatchObject({ name: 'NativeBindingError', typed: true });
    expect(out.message).toContain("Cannot find module 'koffi'");
  });

  it('runs offline commands and reports a load as a typed error, without a stack trace', () => {
    const cli = join(project, 'node_modules', 'bpfts', 'dist', 'cli', 'main.js');
    const inspect = node([cli, 'inspect', object]);
    expect(inspect.status, inspect.stderr).toBe(0);
    expect(inspect.stdout).toContain('BPF object');

    const load = node([cli, 'load', object]);
    expect(load.status).toBe(1);
    if (process.getuid?.() === 0) {
      expect(load.stderr).toMatch(/^bpfts load: error: cannot load koffi.*Cannot find module 'koffi'$/m);
      expect(load.stderr).toMatch(/^hint: .*npm install koffi/m);
    } else {
      // An ordinary user is told about root first, before any kernel call needs koffi.
      expect(load.stderr).toMatch(/^bpfts load: error: bpfts load needs root/m);
    }
    expect(load.stderr).not.toMatch(/Require stack|^\s+at /m);
  });
});
