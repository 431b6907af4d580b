// Where tests find material outside the repo, and whether a missing capability may skip.
// CI sets BPFTS_REQUIRE_CORPUS=1 and BPFTS_REQUIRE_ROOT=1 so that a skip there is a failure.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const corpusDir = process.env.BPFTS_CORPUS ?? resolve(repoRoot, '..', 'shared', 'corpus');
export const conformanceDir =
  process.env.BPFTS_CONFORMANCE ?? resolve(repoRoot, '..', 'shared', 'conformance');

function requireOrSkip(available: boolean, what: string, requireVar: string): boolean {
  if (available) return true;
  if (process.env[requireVar] === '1') {
    throw new Error(`${what} is not available but ${requireVar}=1 requires it`);
  }
  console.warn(`\n*** SKIPPING: ${what} is not available (set ${requireVar}=1 to make this a failure) ***\n`);
  return false;
}

/** True when the shared corpus is present; throws when CI requires it and it is missing. */
export function haveCorpus(): boolean {
  return requireOrSkip(existsSync(resolve(corpusDir, 'ebpf-samples')), `BPF corpus at ${corpusDir}`, 'BPFTS_REQUIRE_CORPUS');
}

export function haveConformance(): boolean {
  return requireOrSkip(existsSync(resolve(conformanceDir, 'assembled.json')), `conformance suite at ${conformanceDir}`, 'BPFTS_REQUIRE_CORPUS');
}

/** True when we are root on Linux with bpf() usable; throws when CI requires it. */
export function haveRoot(): boolean {
  const ok = process.platform === 'linux' && process.getuid?.() === 0 && existsSync('/sys/fs/bpf');
  return requireOrSkip(ok, 'root with bpf()', 'BPFTS_REQUIRE_ROOT');
}

/** Absolute path of an external tool, or undefined; CI requires the oracles via BPFTS_REQUIRE_TOOLS. */
export function tool(name: string): string | undefined {
  try {
    const path = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    if (path) return path;
  } catch {
    // not installed
  }
  requireOrSkip(false, `tool ${name}`, 'BPFTS_REQUIRE_TOOLS');
  return undefined;
}
