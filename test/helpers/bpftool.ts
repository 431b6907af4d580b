// bpftool as an oracle without side effects: libbpf pins LIBBPF_PIN_BY_NAME maps straight under
// /sys/fs/bpf whatever pin directory bpftool is given, so those pins are removed again here —
// only the ones this object names and that did not exist before, since other tests run alongside.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { readObject } from '../../src/object/index.js';

const LIBBPF_PIN_BY_NAME = 1;

function byNamePins(objectPath: string): string[] {
  try {
    return readObject(readFileSync(objectPath)).maps.filter((m) => m.style === 'btf' && m.pinning === LIBBPF_PIN_BY_NAME).map((m) => `/sys/fs/bpf/${m.name}`);
  } catch {
    return [];
  }
}

/**
 * `bpftool prog loadall OBJ PINDIR ...extra`, with the names it pinned in PINDIR; then PINDIR and
 * any by-name map pins it created are removed.
 */
export function bpftoolLoadall(bpftool: string, objectPath: string, pinDir: string, extra: string[] = [], timeout = 60_000):
  SpawnSyncReturns<string> & { pinned: string[] } {
  const created = byNamePins(objectPath).filter((p) => !existsSync(p));
  try {
    const r = spawnSync(bpftool, ['prog', 'loadall', objectPath, pinDir, ...extra], { encoding: 'utf8', timeout });
    return { ...r, pinned: existsSync(pinDir) ? readdirSync(pinDir) : [] };
  } finally {
    rmSync(pinDir, { recursive: true, force: true });
    for (const p of created) rmSync(p, { force: true });
  }
}
