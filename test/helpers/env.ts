// Where tests find material outside the repo, and whether a missing capability may skip.
// CI sets BPFTS_REQUIRE_CORPUS=1, BPFTS_REQUIRE_ROOT=1 and BPFTS_REQUIRE_TOOLS=1 so that a skip
// there is a failure.
//
// vitest runs a file's top level and every describe body while it collects the tests, also the
// body of a describe that skipIf skips. So there a test only asks what is present (these
// functions) and lists what it will run over (corpusObjects(), conformanceNames()); reading what a
// need provides and running tools happen inside tests or beforeAll, where a skip stops them.
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const corpusDir = process.env.BPFTS_CORPUS ?? resolve(repoRoot, '..', 'shared', 'corpus');
export const conformanceDir =
  process.env.BPFTS_CONFORMANCE ?? resolve(repoRoot, '..', 'shared', 'conformance');

export const VMLINUX = '/sys/kernel/btf/vmlinux';

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

export interface ConformanceTest {
  program: string;
  memory: string;
  result: string;
}

/** The suite's test names (one NAME.data file each), listed without reading them; none when it is absent. */
export function conformanceNames(): string[] {
  if (!existsSync(conformanceDir)) return [];
  return readdirSync(conformanceDir).filter((f) => f.endsWith('.data')).map((f) => f.slice(0, -'.data'.length)).sort();
}

let assembled: Record<string, ConformanceTest> | undefined;

/** The suite's tests as assembled.json has them, by name. */
export function conformanceTests(): Record<string, ConformanceTest> {
  assembled ??= JSON.parse(readFileSync(resolve(conformanceDir, 'assembled.json'), 'utf8')) as Record<string, ConformanceTest>;
  return assembled;
}

/** True when we are root on Linux with bpf() usable; throws when CI requires it. */
export function haveRoot(): boolean {
  const ok = process.platform === 'linux' && process.getuid?.() === 0 && existsSync('/sys/fs/bpf');
  return requireOrSkip(ok, 'root with bpf()', 'BPFTS_REQUIRE_ROOT');
}

/** True when the running kernel publishes its BTF, which any user may read; BPFTS_REQUIRE_ROOT requires it too. */
export function haveKernelBtf(): boolean {
  return requireOrSkip(existsSync(VMLINUX), `the running kernel's BTF (${VMLINUX})`, 'BPFTS_REQUIRE_ROOT');
}

/** True when the C compiler finds Linux's uapi headers (Debian's linux-libc-dev, which libc6-dev pulls in). */
export function haveLinuxHeaders(): boolean {
  return requireOrSkip(existsSync('/usr/include/linux/bpf.h'), 'Linux uapi headers (/usr/include/linux/bpf.h)', 'BPFTS_REQUIRE_TOOLS');
}

/**
 * Absolute path of an external tool on PATH, or undefined; CI requires the oracles via
 * BPFTS_REQUIRE_TOOLS. PATH is searched here rather than by a shell, so that asking runs nothing.
 */
export function tool(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      if (statSync(path).isFile()) return path;
    } catch {
      // not in this directory
    }
  }
  requireOrSkip(false, `tool ${name}`, 'BPFTS_REQUIRE_TOOLS');
  return undefined;
}
