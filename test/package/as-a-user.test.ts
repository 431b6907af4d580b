// What a filter author writes in their own repository: bpfts and bpfts/testing imported by package
// name (resolved through package.json "exports" to dist/), fast-check driving the emulator.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/env.js';
import { ensureBuilt } from '../cli/run-cli.js';

beforeAll(ensureBuilt);

/** The code block of the README's "Testing your own filters", as the user copies it. */
function readmeExample(): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Testing your own filters'));
  return /```ts\n([\s\S]*?)```/.exec(section)![1]!;
}

describe('the published API', () => {
  it('runs the README\'s property test of the TCP/80 filter, as it stands, as a test file of its own', () => {
    // Under the repository (its tmp/ is ignored), so that `bpfts` resolves to this package as it
    // resolves to the dependency in a user's project.
    mkdirSync(join(repoRoot, 'tmp'), { recursive: true });
    const dir = mkdtempSync(join(repoRoot, 'tmp', 'readme-'));
    try {
      copyFileSync(join(repoRoot, 'bpf', 'build', 'bpfel', 'tc_drop_tcp80.o'), join(dir, 'tc_drop_tcp80.o'));
      writeFileSync(join(dir, 'filter.test.ts'), readmeExample());
      // A config of its own, as in a user's project: vitest would otherwise find this repository's.
      writeFileSync(join(dir, 'vitest.config.mjs'), 'export default {};\n');
      const vitest = join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs');
      const r = spawnSync(process.execPath, [vitest, 'run', '--root', dir, '--reporter=json'], { cwd: dir, encoding: 'utf8' });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ numTotalTests: 1, numPassedTests: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exposes the loader as bpfts/loader without loading it at the root', async () => {
    const root = await import('bpfts');
    expect(Object.keys(root)).not.toContain('loadObject');
    const loader = await import('bpfts/loader');
    expect(typeof loader.loadObject).toBe('function');
  });
});
