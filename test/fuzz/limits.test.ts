// Resource limits on untrusted objects: the emulator's map memory and per-run instruction budget,
// each a typed error naming the limit and its value. (The C dump's bounds on pathological BTF are in
// regressions.test.ts; the offline verifier's 1,000,000 processed instructions, with the kernel's
// message, are checked against the kernel in test/verifier and test/verify.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readObject, type BpfObject } from '../../src/object/index.js';
import {
  BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_RINGBUF,
} from '../../src/uapi/index.js';
import { DEFAULT_MAP_MEMORY, Emulator, LimitError, VmFault } from '../../src/vm/index.js';
import { cli, ensureBuilt } from '../cli/run-cli.js';
import { haveCorpus, repoRoot } from '../helpers/env.js';
import { label, wellFormedCorpusObjects } from '../helpers/objects.js';

const dnat = join(repoRoot, 'bpf/build/bpfel/dnat.o');
const frame = new Uint8Array(64);

/** What the README says the maps of an object may hold, worked out from its definitions here. */
function declaredBytes(obj: BpfObject, cpus = 1): number {
  let sum = 0;
  for (const m of obj.maps) {
    const percpu = m.type === BPF_MAP_TYPE_PERCPU_ARRAY || m.type === BPF_MAP_TYPE_PERCPU_HASH ? cpus : 1;
    if (m.type === BPF_MAP_TYPE_ARRAY || m.type === BPF_MAP_TYPE_PERCPU_ARRAY) sum += m.maxEntries * m.valueSize * percpu;
    else if (m.type === BPF_MAP_TYPE_RINGBUF) sum += m.maxEntries;
    else sum += m.maxEntries * (m.keySize + m.valueSize * percpu);
  }
  // A global data section is a one-element array of its size.
  for (const g of obj.globals) sum += g.size;
  return sum;
}

function limitOf(fn: () => unknown): LimitError {
  try {
    fn();
  } catch (e) {
    if (e instanceof LimitError) return e;
    throw e;
  }
  throw new Error('no LimitError');
}

describe('map memory', () => {
  it('an object whose maps pass the limit fails at set-up with a LimitError naming mapMemory and its value', () => {
    const obj = readObject(readFileSync(dnat));
    const total = declaredBytes(obj);
    expect(total).toBeGreaterThan(0);
    // At the limit it runs; one byte under, it does not.
    expect(Emulator.fromObject(obj, { program: 'dnat_ingress', mapMemory: total }).run(frame).retval).toBeTypeOf('number');
    const e = limitOf(() => Emulator.fromObject(obj, { program: 'dnat_ingress', mapMemory: total - 1 }));
    expect(e).toMatchObject({ limit: 'mapMemory', value: total - 1 });
    expect(e.message).toContain(`over the map memory limit of ${total - 1} bytes`);
    expect(e.hint).toContain('--map-memory');
  });

  it('per-CPU values count once per CPU', () => {
    const emu = Emulator.fromObject(readObject(readFileSync(dnat)), { program: 'dnat_ingress', cpus: 4, mapMemory: 8 * 1024 * 1024 });
    const def = { type: BPF_MAP_TYPE_PERCPU_HASH, keySize: 4, valueSize: 256, maxEntries: 2048, flags: 0 };
    // 2048 x (4 + 4 x 256) bytes = 2,105,344 each: three fit beside dnat's maps, a fourth does not.
    emu.maps.create('a', def);
    emu.maps.create('b', def);
    emu.maps.create('c', def);
    expect(limitOf(() => emu.maps.create('d', def)).value).toBe(8 * 1024 * 1024);
  });

  it('by default 512 MiB: a 1 GiB hash map made at run time is refused, a 256 MiB one is not', () => {
    expect(DEFAULT_MAP_MEMORY).toBe(512 * 1024 * 1024);
    const emu = Emulator.fromObject(readObject(readFileSync(dnat)), { program: 'dnat_ingress' });
    const e = limitOf(() => emu.maps.create('huge', { type: BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 1 << 20, maxEntries: 1024, flags: 0 }));
    expect(e).toMatchObject({ limit: 'mapMemory', value: DEFAULT_MAP_MEMORY });
    expect(emu.maps.create('big', { type: BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 1 << 18, maxEntries: 1024, flags: 0 }).type).toBe('BPF_MAP_TYPE_HASH');
  });

  it.skipIf(!haveCorpus())('every well-formed corpus object fits the default', () => {
    const over: string[] = [];
    let checked = 0;
    for (const path of wellFormedCorpusObjects()) {
      const obj = readObject(readFileSync(path));
      const entry = obj.programs.find((p) => p.kind === 'entry');
      if (!entry || !obj.littleEndian) continue;
      checked++;
      try {
        Emulator.fromObject(obj, { program: entry.name, type: 'sched_cls' });
      } catch (e) {
        if (e instanceof LimitError) over.push(`${label(path)}: ${e.message}`);
      }
    }
    expect(over).toEqual([]);
    expect(checked).toBeGreaterThan(100);
  });

  it('bpfts run --map-memory: exit 1 with the limit in the message', () => {
    ensureBuilt();
    const r = cli(['run', dnat, '--prog', 'dnat_ingress', '--packet', '00'.repeat(64), '--map-memory', '100']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('over the map memory limit of 100 bytes');
    expect(cli(['run', dnat, '--prog', 'dnat_ingress', '--packet', '00'.repeat(64), '--map-memory', 'lots']).status).toBe(2);
  });
});

describe('instructions per run', () => {
  it('the budget option stops a run with a VmFault naming the budget, and a hint to raise it', () => {
    const emu = Emulator.fromObject(readObject(readFileSync(dnat)), { program: 'dnat_ingress', budget: 5 });
    let fault: unknown;
    try {
      emu.run(frame);
    } catch (e) {
      fault = e;
    }
    expect(fault).toBeInstanceOf(VmFault);
    expect(fault).toMatchObject({ kind: 'budget', pc: 5 });
    expect((fault as VmFault).message).toMatch(/^instruction budget of 5 exhausted at pc 5/);
    expect((fault as VmFault).hint).toContain('--budget');
    // The same program runs to its end with room to spare: dnat_ingress drops a zero frame in 6 instructions or more.
    expect(Emulator.fromObject(readObject(readFileSync(dnat)), { program: 'dnat_ingress' }).run(frame).executed).toBeGreaterThan(5);
  });

  it('bpfts run --budget N: exit 1 with the budget in the message; the kernel run refuses the flag', () => {
    ensureBuilt();
    const r = cli(['run', dnat, '--prog', 'dnat_ingress', '--packet', '00'.repeat(64), '--budget', '5']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('instruction budget of 5 exhausted');
    const ok = cli(['run', dnat, '--prog', 'dnat_ingress', '--packet', '00'.repeat(64), '--budget', '1000', '--json']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).executed).toBeLessThanOrEqual(1000);
    const kernel = cli(['run', dnat, '--prog', 'dnat_ingress', '--packet', '00'.repeat(64), '--budget', '5', '--kernel']);
    expect(kernel.status).toBe(2);
    expect(kernel.stderr).toContain('--budget is for the emulator only');
  });
});
