import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/env.js';
import { commands } from '../../src/cli/commands/index.js';
import { cli, ensureBuilt } from './run-cli.js';

beforeAll(ensureBuilt);

// The README's CLI reference is written by hand; keep it true to the commands' own --help.
describe('README CLI reference', () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const documented = [...readme.matchAll(/`(bpfts [^`]+)`/g)].map((m) => m[1]!);

  it.each(commands.map((c) => [c.path.join(' ')]))('documents bpfts %s with its real usage line', (name) => {
    const usage = cli([...name.split(' '), '--help']).stdout.split('\n')[0]!.replace(/^Usage: /, '');
    expect(documented).toContain(usage);
  });

  it('shows only commands that exist', () => {
    const known = commands.map((c) => c.path.join(' '));
    for (const line of documented) {
      const words = line.split(' ').slice(1);
      expect(known.some((k) => words.join(' ').startsWith(k)), line).toBe(true);
    }
  });
});
