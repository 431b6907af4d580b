// Spawn the built CLI the way a user runs it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/env.js';

export const cliPath = join(repoRoot, 'dist', 'cli', 'main.js');

export function ensureBuilt(): void {
  if (!existsSync(cliPath)) {
    const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: repoRoot, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('build failed');
  }
}

export interface CliResult { status: number; stdout: string; stderr: string; stdoutBytes: Buffer }

export function cli(args: string[], options: { input?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [cliPath, ...args], { cwd: repoRoot, input: options.input ?? '', maxBuffer: 1 << 28 });
  return { status: r.status ?? -1, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8'), stdoutBytes: r.stdout };
}
