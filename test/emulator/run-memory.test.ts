// `bpfts run OBJ --memory FILE`: tracing programs run through the CLI on a memory file, driven
// in-process through the run Command.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommandArgs, type Io } from '../../src/cli/command.js';
import { run } from '../../src/cli/commands/run.js';
import { UsageError } from '../../src/errors.js';
import { buildPacket } from '../../src/testing/index.js';
import { haveKernelBtf, repoRoot } from '../helpers/env.js';

const tracer = join(repoRoot, 'test', 'emulator', 'progs', 'tracing', 'build', 'icmp_tracer.o');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

async function bpfts(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const io: Io = { out: (t) => (out += typeof t === 'string' ? t : Buffer.from(t).toString()), err: () => {} };
  const code = await run.run(parseCommandArgs(run, argv), io);
  return { code, out };
}

const ping = buildPacket([{ kind: 'eth' }, { kind: 'ipv4', src: '10.1.2.3', dst: '192.168.7.9' }, { kind: 'icmp', type: 8 }]);
/** A __be32 address as the record's u32 reads it on a little-endian machine. */
const be32 = (a: string) => Buffer.from(a.split('.').map(Number)).readUInt32LE(0);

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bpfts-run-memory-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function memory(ctx: unknown): string {
  const file = join(dir, `memory-${Math.random().toString(16).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({
    objects: {
      skb: { type: 'struct sk_buff', value: { protocol: 8, len: ping.length - 14, data: '@pkt' } },
      pkt: { bytes: hex(ping.subarray(14)) },
    },
    ctx,
  }));
  return file;
}

describe.skipIf(!haveKernelBtf())('bpfts run --memory', () => {
  it('--json prints each perf record decoded as the object\'s event struct, then the return value', async () => {
    const { code, out } = await bpfts([tracer, '--prog', 'icmp_raw_tp', '--memory', memory({ kind: 'raw_tp', args: ['@skb'] }), '--json']);
    expect(code).toBe(0);
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toEqual({
      cpu: 0, map: 'events', record: { saddr: be32('10.1.2.3'), daddr: be32('192.168.7.9'), protocol: 1 },
      hex: `${hex(ping.subarray(14 + 12, 14 + 20))}01000000`,
    });
    expect(lines[1]).toMatchObject({ retval: 1 });
  });

  it('a tracepoint program gets its format from tracefs when the file gives none (root)', async (ctx) => {
    if (process.getuid?.() !== 0) return ctx.skip();
    const { code, out } = await bpfts([tracer, '--prog', 'icmp_tp', '--memory', memory({ kind: 'tracepoint', fields: { skbaddr: '@skb', len: 84, name: 'eth0' } })]);
    expect(code).toBe(0);
    expect(out).toMatch(/^retval 1, \d+ instructions, 1 record\n {2}perf events \(cpu 0\): \{"saddr":\d+,"daddr":\d+,"protocol":1\} [0-9a-f]{24}\n$/);
  });

  it('--packet and --memory do not mix', async () => {
    await expect(bpfts([tracer, '--prog', 'icmp_raw_tp', '--memory', memory({ kind: 'raw_tp', args: [] }), '--packet', hex(ping)])).rejects.toThrow(UsageError);
  });
});
