// `bpfts gen types`: the generated module compiles under `tsc --strict` together with code that
// uses it (and rejects code that misuses it), and its interfaces and codecs agree with the runtime
// codec on the same objects.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BtfCodec, btfFromElf } from '../../src/btf/index.js';
import { haveLinuxHeaders, repoRoot, tool } from '../helpers/env.js';
import { buildTestObject } from '../loader/clang.js';
import { cli, ensureBuilt } from './run-cli.js';

describe('bpfts gen types', () => {
  // The committed objects always; the test C sources' richer types when clang builds them.
  const clang = haveLinuxHeaders() ? tool('clang-19') : undefined;
  let dir: string;
  const builds: ReturnType<typeof buildTestObject>[] = [];
  const objects: Record<string, string> = {};
  beforeAll(() => {
    ensureBuilt();
    // Under the repository (tmp/ is ignored), so that 'bpfts' resolves to this package.
    mkdirSync(join(repoRoot, 'tmp'), { recursive: true });
    dir = mkdtempSync(join(repoRoot, 'tmp', 'gen-'));
    objects.monitor = join(repoRoot, 'bpf', 'build', 'bpfel', 'monitor.o');
    objects.dnat = join(repoRoot, 'bpf', 'build', 'bpfel', 'dnat.o');
    if (clang) {
      const lib = buildTestObject(clang, 'library');
      const types = buildTestObject(clang, 'codec_types', [], join(repoRoot, 'test', 'btf', 'src'));
      builds.push(lib, types);
      objects.library = lib.path;
      objects.codec_types = types.path;
    }
    for (const [name, path] of Object.entries(objects)) {
      const r = cli(['gen', 'types', path, '-o', join(dir, `${name}.gen.ts`), ...(name === 'codec_types' ? ['--type', 'inner', '--type', 'color'] : [])]);
      expect(r.status, r.stderr).toBe(0);
    }
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    for (const b of builds) b.cleanup();
  });

  it('compiles under tsc --strict with code that uses it, and refuses code that misuses it', () => {
    writeFileSync(join(dir, 'use.ts'), `
import { Collection } from 'bpfts/loader';
import { typed, codecs, mapNames, type Counters, type FlowKey } from './monitor.gen.js';

export function monitor(coll: Collection, bytes: Uint8Array): bigint {
  const t = typed(coll);
  const key: FlowKey = { saddr: 1, daddr: 2, sport: 3, dport: 4, proto: 6, direction: 0, pad: [0, 0] };
  const c: Counters | undefined = t.map('flows').get(key);
  t.map('pkt_count').set(0, { packets: 1n, bytes: 2n });
  const names: readonly ('pkt_count' | 'flows')[] = mapNames;
  t.program('monitor_ingress').attachTc({ dev: 'eth0', direction: 'ingress' });
  // @ts-expect-error: the object has no map named nope
  t.map('nope');
  // @ts-expect-error: no such program
  t.program('monitor');
  // @ts-expect-error: packets is a 64-bit integer, a bigint
  const n: number = c!.packets;
  const k: FlowKey = codecs(bytes).FlowKey.decode(new Uint8Array(16));
  return (c?.bytes ?? 0n) + BigInt(n + names.length + k.sport);
}
`);
    if (clang) {
      writeFileSync(join(dir, 'use-built.ts'), `
import { Collection } from 'bpfts/loader';
import { typed as typedLib, type FlowVal } from './library.gen.js';
import { codecs as valueCodecs, type Value, type Color } from './codec_types.gen.js';

export function library(coll: Collection): number {
  const t = typedLib(coll);
  const perCpu: { a: number; b: number }[] | undefined = t.map('pcpu').get(0);
  const v: FlowVal | undefined = t.map('flows').get({ saddr: 1, daddr: 2, sport: 3, dport: 4, proto: 6, pad: [0, 0, 0] });
  const seen: bigint = t.globals.get('seen');
  t.globals.set('seed', 3);
  // @ts-expect-error: seed is a u32, a number
  t.globals.set('seed', 3n);
  t.map('q').push(5);
  return (perCpu?.length ?? 0) + Number(seen) + (typeof v?.comm === 'string' ? 1 : 0);
}

export function values(bytes: Uint8Array): Color {
  const v: Value = valueCodecs(bytes).Value.decode(new Uint8Array(64));
  const w: 'W_SMALL' | 'W_BIG' | bigint = v.w;
  return typeof w === 'bigint' ? 'RED' : v.color;
}
`);
    }
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'], skipLibCheck: false, noUnusedLocals: false },
      include: ['*.ts'],
    }));
    const r = spawnSync(join(repoRoot, 'node_modules', '.bin', 'tsc'), ['-p', join(dir, 'tsconfig.json')], { cwd: dir, encoding: 'utf8' });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  });

  it('its interfaces name exactly what the runtime codec decodes, and its codecs round-trip', async () => {
    for (const name of Object.keys(objects)) {
      const text = readFileSync(join(dir, `${name}.gen.ts`), 'utf8');
      const gen = await import(join(dir, `${name}.gen.ts`)) as {
        typeIds: Record<string, number>;
        codecs(b: Uint8Array): Record<string, { size: number; encode(v: unknown): Uint8Array; decode(b: Uint8Array): unknown }>;
      };
      const bytes = readFileSync(objects[name]!);
      const { btf } = btfFromElf(bytes);
      const codecs = gen.codecs(bytes);
      for (const [type, id] of Object.entries(gen.typeIds)) {
        const runtime = new BtfCodec(btf, id);
        const generated = codecs[type]!;
        expect(generated.size).toBe(runtime.size);
        const body = new RegExp(`export interface ${type} \\{\\n([\\s\\S]*?)\\n\\}`).exec(text)?.[1];
        fc.assert(fc.property(fc.uint8Array({ minLength: runtime.size, maxLength: runtime.size }), (raw) => {
          const v = generated.decode(raw);
          expect(v).toEqual(runtime.decode(raw));
          expect(generated.decode(generated.encode(v))).toEqual(v);
          if (body !== undefined) {
            const members = body.split('\n').map((l) => l.trim().split(':')[0]!.replace(/"/g, ''));
            expect(Object.keys(v as object)).toEqual(members);
          }
        }), { numRuns: 20 });
      }
    }
  });

  it("examples/*.gen.ts are what gen types writes for the examples' objects today", () => {
    for (const name of ['monitor', 'proxy', 'dnat', 'xdp_monitor']) {
      const out = join(dir, `${name}.now.ts`);
      expect(cli(['gen', 'types', `bpf/build/bpfel/${name}.o`, '-o', out]).status).toBe(0);
      expect(readFileSync(out, 'utf8'), `regenerate examples/${name}.gen.ts`).toBe(readFileSync(join(repoRoot, 'examples', `${name}.gen.ts`), 'utf8'));
    }
  });

  it('needs -o and BTF', () => {
    expect(cli(['gen', 'types', objects.monitor!]).stderr).toMatch(/-o FILE\.ts is required/);
    const r = cli(['gen', 'types', join(repoRoot, 'bpf', 'build', 'bpfel', 'tc_drop_icmp_nobtf.o'), '-o', join(dir, 'x.ts')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/no usable BTF/);
  });
});
