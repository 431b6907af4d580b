// Lists of real BPF objects the tests run over: the shared corpus and the project's own bpf/ build.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { corpusDir, repoRoot } from './env.js';

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : name.endsWith('.o') ? [path] : [];
  });
}

export function corpusObjects(): string[] {
  return walk(join(corpusDir, 'ebpf-samples')).sort();
}

/** The corpus without invalid/, whose objects are malformed on purpose. */
export function wellFormedCorpusObjects(): string[] {
  const invalid = join(corpusDir, 'ebpf-samples', 'invalid') + sep;
  return corpusObjects().filter((p) => !p.startsWith(invalid));
}

export function projectObjects(): string[] {
  return walk(join(repoRoot, 'bpf', 'build')).sort();
}

/** A short stable name for test titles. */
export function label(path: string): string {
  return path.startsWith(corpusDir) ? relative(join(corpusDir, 'ebpf-samples'), path) : relative(repoRoot, path);
}
