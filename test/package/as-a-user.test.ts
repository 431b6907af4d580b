// What a filter author writes in their own repository: bpfts and bpfts/testing imported by package
// name (resolved through package.json "exports" to dist/), fast-check driving the emulator.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
    expect(Object.keys(root)).not.toContain('Collection');
    const loader = await import('bpfts/loader');
    expect(typeof loader.Collection.load).toBe('function');
  });

  it('bpfts/loader exports the designed API only; the raw layer is bpfts/loader/raw', async () => {
    const loader = await import('bpfts/loader');
    expect(Object.keys(loader).sort()).toEqual([
      'AmbiguousSymbolError', 'BpfError', 'BpfMap', 'BtfValueError', 'Collection', 'Fd', 'Globals', 'InvalidNameError', 'KernelLink',
      'KprobesUnavailableError', 'Link', 'LoadError', 'Map', 'MapOperationError', 'MapReader', 'MapSizeError', 'NameNotFoundError',
      'NativeBindingError', 'Program', 'ProgramRejectedError', 'SyscallError', 'TcLink', 'TracePipeReader', 'TracingError', 'TracingLink',
      'TracingUnsupportedError', 'VerifierError', 'detachTcFilters', 'mapTypeName', 'onExit', 'possibleCpus',
    ]);
    expect(loader.Map).toBe(loader.BpfMap);
    const raw = await import('bpfts/loader/raw');
    for (const name of ['loadObject', 'mapLookupElem', 'mapCreate', 'progLoad', 'tcFilterAdd', 'MAP_ELEM_ATTR', 'attachTc', 'detachTc']) {
      expect(typeof (raw as Record<string, unknown>)[name], name).not.toBe('undefined');
    }
  });

  it('ships no source maps to unshipped sources, no @internal declarations, and no fast-check under bpfts/loader', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { files: string[]; peerDependenciesMeta?: Record<string, { optional?: boolean }> };
    expect(pkg.files).not.toContain('src');
    expect(pkg.peerDependenciesMeta?.['fast-check']?.optional).toBe(true);
    const all = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? all(join(dir, e.name)) : [join(dir, e.name)]));
    const dist = all(join(repoRoot, 'dist'));
    expect(dist.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(dist.filter((f) => f.endsWith('.js')).filter((f) => readFileSync(f, 'utf8').includes('sourceMappingURL'))).toEqual([]);
    expect(readFileSync(join(repoRoot, 'dist', 'loader', 'link.d.ts'), 'utf8')).not.toMatch(/createDeviceLink|onDetach/);
    // Every module bpfts/loader reaches through its static imports: none is fast-check.
    const seen = new Set<string>();
    const packages = new Set<string>();
    const walk = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const [, spec] of readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]/gm)) {
        if (spec!.startsWith('.')) walk(join(dirname(file), spec!));
        else packages.add(spec!);
      }
    };
    walk(join(repoRoot, 'dist', 'loader', 'index.js'));
    expect(seen.size).toBeGreaterThan(20);
    // bpfts itself appears in the text gen types writes out; third-party packages are the point.
    expect([...packages].filter((p) => !p.startsWith('node:') && p !== 'bpfts' && !p.startsWith('bpfts/')).sort()).toEqual(['elfy']);
  });
});
