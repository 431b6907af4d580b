// Map slots the object initialises (`__array(values, ...)` with `.rel.maps` relocations): the outer
// map-of-maps must hold the same inner maps at the same keys as after bpftool v7.1 (libbpf 1.1)
// loads the object, and a statically filled prog_array must make the kernel take the tail call.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadObject, mapGetFdById, mapGetInfo, mapLookupElem, progGetInfo, progTestRun, type FdLike,
} from '../../src/loader/raw.js';
import { bpftoolProgram } from '../helpers/bpftool.js';
import { haveRoot, tool } from '../helpers/env.js';
import { buildTestObject } from './clang.js';

const root = haveRoot();
const bpftool = root ? tool('bpftool') : undefined;
const clang = tool('clang-19');

/** Key → name of the inner map, for each occupied slot of a map-of-maps. */
function innerNames(outer: FdLike, slots: number): Record<number, string> {
  const out: Record<number, string> = {};
  for (let k = 0; k < slots; k++) {
    const key = new Uint8Array(4);
    new DataView(key.buffer).setUint32(0, k, true);
    const v = mapLookupElem(outer, key, 4);
    if (!v) continue;
    const fd = mapGetFdById(new DataView(v.buffer, v.byteOffset).getUint32(0, true));
    try {
      out[k] = mapGetInfo(fd).name;
    } finally {
      fd.close();
    }
  }
  return out;
}

describe.skipIf(!root || !bpftool || !clang)('initialised map slots in the kernel', () => {
  const pinDir = `/sys/fs/bpf/bpfts-mapinit-${process.pid}`;
  let plain: ReturnType<typeof buildTestObject>;
  let withProgs: ReturnType<typeof buildTestObject>;
  beforeAll(() => {
    plain = buildTestObject(clang!, 'map_init');
    withProgs = buildTestObject(clang!, 'map_init', ['-DPROG_ARRAY']);
  });
  afterAll(() => {
    plain?.cleanup();
    withProgs?.cleanup();
  });

  it('the outer map holds the same inner maps at the same keys as with libbpf', () => {
    const theirProg = bpftoolProgram(bpftool!, plain.path, pinDir, 'entry');
    const loaded = loadObject(readFileSync(plain.path), { objectName: 'map_init' });
    try {
      const theirOuter = progGetInfo(theirProg).mapIds.map((id) => mapGetFdById(id)).find((fd) => {
        if (mapGetInfo(fd).name === 'outer') return true;
        fd.close();
        return false;
      })!;
      try {
        const ours = innerNames(loaded.maps.find((m) => m.spec.objectName === 'outer')!.fd, 4);
        expect(ours).toEqual(innerNames(theirOuter, 4));
        expect(Object.keys(ours)).toHaveLength(2);
      } finally {
        theirOuter.close();
      }
      // The program finds an inner map at key 0, so it returns 2 rather than 1.
      expect(progTestRun(loaded.programs.find((p) => p.name === 'entry')!.fd, { dataIn: new Uint8Array(64) }).retval).toBe(2);
    } finally {
      loaded.close();
      theirProg.close();
    }
  });

  it('a prog_array slot filled in the object makes the kernel take the tail call', () => {
    const loaded = loadObject(readFileSync(withProgs.path), { objectName: 'map_init' });
    try {
      const entry = loaded.programs.find((p) => p.name === 'entry')!;
      expect(progTestRun(entry.fd, { dataIn: new Uint8Array(64) }).retval).toBe(7);
    } finally {
      loaded.close();
    }
    // No bpftool comparison here: the kernel empties a prog_array when the last user-space
    // reference to it goes, which happens as soon as `bpftool prog loadall` exits.
  });

  it('loading only the entry program leaves the slot empty, with a warning', () => {
    const warnings: string[] = [];
    const loaded = loadObject(readFileSync(withProgs.path), { objectName: 'map_init', programs: ['entry'], warn: (m) => warnings.push(m) });
    try {
      expect(warnings).toContain("map 'jumps' slot 1 stays empty: program 'tail' is not loaded");
      expect(progTestRun(loaded.programs[0]!.fd, { dataIn: new Uint8Array(64) }).retval).toBe(2);
    } finally {
      loaded.close();
    }
  });
});
