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
import { haveKernelBtf, haveRoot, repoRoot } from '../helpers/env.js';

const build = join(repoRoot, 'test', 'emulator', 'progs', 'tracing', 'build');
const tracer = join(build, 'icmp_tracer.o');
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

function write(content: unknown): string {
  const file = join(dir, `memory-${Math.random().toString(16).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(content));
  return file;
}

const packetRun = (packet: Uint8Array, ctx: unknown) => ({
  objects: {
    skb: { type: 'struct sk_buff', value: { protocol: 8, len: packet.length - 14, data: '@pkt' } },
    pkt: { bytes: hex(packet.subarray(14)) },
  },
  ctx,
});
const memory = (ctx: unknown) => write(packetRun(ping, ctx));

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
    if (!haveRoot()) return ctx.skip();
    const { code, out } = await bpfts([tracer, '--prog', 'icmp_tp', '--memory', memory({ kind: 'tracepoint', fields: { skbaddr: '@skb', len: 84, name: 'eth0' } })]);
    expect(code).toBe(0);
    expect(out).toMatch(/^retval 1, \d+ instructions, 1 record\n {2}perf events \(cpu 0\): \{"saddr":\d+,"daddr":\d+,"protocol":1\} [0-9a-f]{24}\n$/);
  });

  it('a file holding an array runs each in order, the maps kept between runs', async () => {
    const tcp = buildPacket([{ kind: 'eth' }, { kind: 'ipv4', src: '10.1.2.3', dst: '10.3.2.1' }, { kind: 'tcp', dport: 80 }]);
    const ctx = { kind: 'raw_tp', args: ['@skb'] };
    const { out } = await bpfts([tracer, '--prog', 'icmp_raw_tp', '--memory', write([packetRun(tcp, ctx), packetRun(ping, ctx)]), '--json']);
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.index, l.map ?? l.retval])).toEqual([[0, 0], [1, 'events'], [1, 1]]);
  });

  it('ring buffer records are printed without a cpu, decoded as the struct of their size', async () => {
    const file = write({
      objects: { kbuf: { bytes: '0102030405060708' }, ubuf: { bytes: '00', size: 8, user: true }, str: { string: 'x' } },
      ctx: { kind: 'pt_regs', arch: 'x86_64', regs: { di: '@kbuf', si: '@ubuf', dx: '@str' } },
      current: { pid: 7, tgid: 7, comm: 'bash' },
    });
    const { out } = await bpfts([join(build, 'tracing_helpers.o'), '--memory', file, '--json']);
    const [rec] = out.trim().split('\n').map((l) => JSON.parse(l) as { map: string; cpu?: number; record: Record<string, unknown> });
    expect(rec!.map).toBe('out');
    expect(rec!.cpu).toBeUndefined();
    // format-value shows char arrays as text only when BTF marks them BTF_INT_CHAR, which clang does not.
    expect(rec!.record).toMatchObject({ pid_tgid: 7 * 2 ** 32 + 7, comm: 'bash', kernel_bytes: [1, 2, 3, 4, 5, 6, 7, 8], read_str: 2 });
  });

  it('--map presets a map before the runs', async () => {
    // raw_tp_args' counted program adds to the hash map counts and returns how many entries it walked (times 16).
    const file = write({ ctx: { kind: 'raw_tp', args: [0, 0, 0] } });
    const { out } = await bpfts([join(build, 'raw_tp_args.o'), '--prog', 'counted', '--memory', file, '--map', 'counts={"5": 1, "6": 1}', '--json']);
    expect((JSON.parse(out.trim().split('\n').at(-1)!) as { retval: number }).retval >> 4).toBe(3);
  });

  it('--packet and --memory do not mix', async () => {
    await expect(bpfts([tracer, '--prog', 'icmp_raw_tp', '--memory', memory({ kind: 'raw_tp', args: [] }), '--packet', hex(ping)])).rejects.toThrow(UsageError);
  });
});
