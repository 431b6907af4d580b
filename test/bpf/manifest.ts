// Typed access to bpf/programs.json, the description of the project's own BPF objects.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { repoRoot } from '../helpers/env.js';

export type BpfTarget = 'bpfel' | 'bpfeb';
export type AttachPoint = 'tc' | 'tc-ingress' | 'tc-egress' | 'xdp' | 'socket' | 'tracepoint' | 'raw_tp' | 'kretprobe' | 'uprobe' | 'uretprobe' | 'perf_event';

export interface ManifestProgram {
  section: string;
  function: string;
  progType: string;
  attach: AttachPoint;
}

export interface ManifestMap {
  name: string;
  type: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  section: string;
}

export interface ManifestObject {
  file: string;
  source: string;
  defines?: string[];
  description: string;
  btf: boolean;
  cpu: 'generic' | 'v4';
  programs: ManifestProgram[];
  subprograms?: { section: string; function: string }[];
  maps: ManifestMap[];
  globals: Record<string, string[]>;
  /** "ok", or the message bpftool prog loadall fails with. */
  expectLoad: string;
}

export interface Manifest {
  targets: BpfTarget[];
  objects: ManifestObject[];
}

export const bpfDir = resolve(repoRoot, 'bpf');

export function loadManifest(): Manifest {
  return JSON.parse(readFileSync(resolve(bpfDir, 'programs.json'), 'utf8')) as Manifest;
}

export function objectPath(target: BpfTarget, file: string, buildDir = resolve(bpfDir, 'build')): string {
  return resolve(buildDir, target, file);
}
