// Types of campaign.mjs for the TypeScript tests that run a short campaign (test/fuzz).
export const LAYERS: readonly string[];

export interface Seed {
  path: string;
  bytes: Uint8Array;
}

export interface Failure {
  seed: number;
  iteration: number;
  input: string;
  layer: string;
  error: string;
}

export interface Stats {
  iterations: number;
  reached: Record<string, number>;
  passed: Record<string, number>;
  objectInputs: number;
  failures: Failure[];
  slowest: { ms: number; iteration: number; input?: string };
}

export interface Seeds {
  objects: (Seed & { layout: unknown })[];
  slow: { path: string; ms: number }[];
  captures: Uint8Array[];
}

export function findObjects(dirs: readonly string[], maxSize: number): Seed[];
export function prepareSeeds(objects: readonly Seed[], calibrateMs?: number): Seeds;
export function emptyStats(): Stats;
export function runIteration(stats: Stats, seeds: Seeds, seed: number, i: number, options?: { want?: string; timeLimitMs?: number }): Failure | undefined;
export function formatStats(stats: Stats, seconds: number): string[];
