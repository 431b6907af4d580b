// bpftool as an oracle without side effects: libbpf pins LIBBPF_PIN_BY_NAME maps straight under
// /sys/fs/bpf whatever pin directory bpftool is given, so those pins are removed again here —
// only the ones this object names and that did not exist before, since other tests run alongside.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { objGet, type Fd } from '../../src/loader/raw.js';
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
 * `bpftool prog loadall OBJ PINDIR ...extra`, then `body` with its result while the pins exist;
 * afterwards PINDIR and any by-name map pins the run created are removed.
 */
export function withBpftoolLoadall<T>(bpftool: string, objectPath: string, pinDir: string, body: (r: SpawnSyncReturns<string>) => T,
  extra: string[] = [], timeout = 60_000): T {
  const created = byNamePins(objectPath).filter((p) => !existsSync(p));
  try {
    return body(spawnSync(bpftool, ['prog', 'loadall', objectPath, pinDir, ...extra], { encoding: 'utf8', timeout }));
  } finally {
    rmSync(pinDir, { recursive: true, force: true });
    for (const p of created) rmSync(p, { force: true });
  }
}

/** `bpftool prog loadall OBJ PINDIR ...extra`, with the names it pinned in PINDIR; the pins are gone on return. */
export function bpftoolLoadall(bpftool: string, objectPath: string, pinDir: string, extra: string[] = [], timeout = 60_000):
  SpawnSyncReturns<string> & { pinned: string[] } {
  return withBpftoolLoadall(bpftool, objectPath, pinDir, (r) => ({ ...r, pinned: existsSync(pinDir) ? readdirSync(pinDir) : [] }), extra, timeout);
}

/**
 * Loads an object with `bpftool prog loadall`, which must succeed, and opens the program pinned as
 * `name`: the fd keeps that program and its maps loaded once the pins are removed.
 */
export function bpftoolProgram(bpftool: string, objectPath: string, pinDir: string, name: string): Fd {
  return withBpftoolLoadall(bpftool, objectPath, pinDir, (r) => {
    if (r.status !== 0) throw new Error(`bpftool prog loadall ${objectPath} failed: ${r.stderr}`);
    return objGet(`${pinDir}/${name}`);
  });
}
