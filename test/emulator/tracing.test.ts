// Tracing programs in the emulator, on the committed objects of progs/tracing (built from C by its
// Makefile): contexts against what libbpf's bpf_tracing.h and the kernel's BTF say of them, kernel
// memory laid out from /sys/kernel/btf/vmlinux against bpftool's view of the same BTF, the tracing
// helpers against their documented kernel semantics, and the ICMP tracer property-tested on
// generated packets in synthetic sk_buffs.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { arch } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { btfFromFile, type Btf } from '../../src/btf/index.js';
import { BpfError } from '../../src/errors.js';
import { arbFrame, type Frame } from '../../src/testing/index.js';
import { PT_REGS_X86_64 } from '../../src/uapi/index.js';
import { loadObject, ProgramRejectedError } from '../../src/loader/raw.js';
import { Emulator, parseTracepointFormat, StackTraceMap, VmFault, type TracingInput } from '../../src/vm/index.js';
import { haveKernelBtf, haveRoot, repoRoot, tool, VMLINUX } from '../helpers/env.js';

const build = join(repoRoot, 'test', 'emulator', 'progs', 'tracing', 'build');
const object = (name: string) => readFileSync(join(build, `${name}.o`));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const u64s = (b: Uint8Array) => Array.from({ length: b.length / 8 }, (_, i) => new DataView(b.buffer, b.byteOffset).getBigUint64(i * 8, true));

let vmlinux: Btf | undefined;
const kernelBtf = (): Btf => (vmlinux ??= btfFromFile(readFileSync(VMLINUX)));

/** netif_receive_skb's tracefs format on Linux 6.18 (events/net/netif_receive_skb/format), for runs without tracefs. */
const NETIF_RECEIVE_SKB_FORMAT = `name: netif_receive_skb
ID: 2303
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:void * skbaddr;\toffset:8;\tsize:8;\tsigned:0;
\tfield:unsigned int len;\toffset:16;\tsize:4;\tsigned:0;
\tfield:__data_loc char[] name;\toffset:20;\tsize:4;\tsigned:0;

print fmt: "dev=%s skbaddr=%p len=%u", __get_str(name), REC->skbaddr, REC->len
`;

describe('kprobe contexts: struct pt_regs', () => {
  it.each([
    ['x86_64', 'kprobe_x86', { di: 1, si: 2, dx: 3, cx: 4, r8: 5, ax: 6, sp: 7, bp: 8, ip: 9 }, [1, 2, 3, 4, 5, 6, 7, 8, 9]],
    ['arm64', 'kprobe_arm64', { x0: 1, x1: 2, x2: 3, x3: 4, x4: 5, sp: 7, x29: 8, pc: 9 }, [1, 2, 3, 4, 5, 1, 7, 8, 9]],
  ] as const)('%s: PT_REGS_PARM1..5, RC, SP, FP and IP of bpf_tracing.h read the registers named', (archName, file, regs, want) => {
    const emu = Emulator.fromObject(object(file));
    emu.runTracing({ ctx: { kind: 'pt_regs', arch: archName, regs } });
    expect(u64s(emu.maps.get('.bss').lookup(new Uint8Array(4))!)).toEqual(want.map(BigInt));
  });

  it('the bpf_tracing.h conventions name the same registers (parm1.., rc, sp, fp, ip; rdi-style aliases)', () => {
    const emu = Emulator.fromObject(object('kprobe_x86'));
    emu.runTracing({ ctx: { kind: 'pt_regs', arch: 'x86_64', regs: { parm1: 1, parm2: 2, rdx: 3, rcx: 4, parm5: 5, rc: 6, rsp: 7, fp: 8, rip: '0x9' } } });
    expect(u64s(emu.maps.get('.bss').lookup(new Uint8Array(4))!)).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n]);
  });

  it('an unknown register is an error that lists the names', () => {
    const emu = Emulator.fromObject(object('kprobe_x86'));
    expect(() => emu.runTracing({ ctx: { kind: 'pt_regs', arch: 'x86_64', regs: { x0: 1 } } })).toThrow(/has no register 'x0'/);
  });

  it('the x86_64 layout is the kernel BTF\'s struct pt_regs', (ctx) => {
    if (arch() !== 'x64') {
      console.warn(`\n*** SKIPPING: the x86_64 struct pt_regs needs an x86_64 kernel's BTF (this is ${arch()}) ***\n`);
      return ctx.skip();
    }
    if (!haveKernelBtf()) return ctx.skip();
    const btf = kernelBtf();
    const t = btf.find('pt_regs', 'STRUCT');
    if (t?.kind !== 'STRUCT') throw new Error('no struct pt_regs');
    expect(t.size).toBe(PT_REGS_X86_64.size);
    // Linux 6.x wraps cs and ss in unions (FRED); the slot offsets stay.
    const offsets = Object.fromEntries(t.members.map((m) => [m.name || (m.bitOffset === 136 * 8 ? 'cs' : 'ss'), m.bitOffset / 8]));
    expect(offsets).toEqual(PT_REGS_X86_64.regs);
  });

  it('a program of another type refuses a pt_regs context', () => {
    const emu = Emulator.fromObject(object('raw_tp_args'), { program: 'mix' });
    expect(() => emu.runTracing({ ctx: { kind: 'pt_regs', regs: {} } })).toThrow(/takes a "raw_tp" context/);
  });
});

describe('raw tracepoint and fentry/fexit contexts', () => {
  it('raw_tp args[] are u64 slots; reading past the arguments passed is a clear fault', () => {
    const emu = Emulator.fromObject(object('raw_tp_args'), { program: 'mix' });
    expect(() => emu.runTracing({ ctx: { kind: 'raw_tp', args: [1, 2] } })).toThrow(/reads args\[2\], but only 2 arguments are passed/);
    expect(emu.runTracing({ ctx: { kind: 'raw_tp', args: [1, 2, 3] } }).retval).toBeTypeOf('number');
  });

  it('narrow loads of an argument read its low bytes (little-endian)', () => {
    const emu = Emulator.fromObject(object('raw_tp_args'), { program: 'narrow' });
    const r = emu.runTracing({ ctx: { kind: 'raw_tp', args: ['0x1122334455667788', '0x99aabbccddeeff00'] } });
    // lo = byte 0 (0x88), half = bytes 10..11 (0xddee: args[1] is stored little-endian), word = bytes 4..7 (0x11223344).
    expect(r.retval).toBe((0x88 + 0xddee + 0x11223344) >>> 0);
    expect(u64s(emu.maps.get('results').lookup(Uint8Array.of(2, 0, 0, 0))!)).toEqual([(0x11223344n << 24n) | (0xddeen << 8n) | 0x88n]);
  });

  it('fentry: BPF_PROG reads the arguments with the C types of its parameters', () => {
    const emu = Emulator.fromObject(object('fentry_args'), { program: 'enter3' });
    emu.runTracing({ ctx: { kind: 'fentry', args: ['0x4142', '0xfffffffffffffffb', '0x123456789'] } });
    // char a: the low byte 0x42; int b: -5 widened to u64; u64 c as given.
    expect(u64s(emu.maps.get('.bss').lookup(new Uint8Array(4))!.subarray(0, 24))).toEqual([0x42n, 0xfffffffffffffffbn, 0x123456789n]);
  });

  it('fexit: the return value follows the arguments; past it is a fault', () => {
    const emu = Emulator.fromObject(object('fentry_args'), { program: 'leave2' });
    emu.runTracing({ ctx: { kind: 'fexit', args: [7, 9], ret: 16 } });
    expect(u64s(emu.maps.get('.bss').lookup(new Uint8Array(4))!.subarray(24, 48))).toEqual([7n, 9n, 16n]);
    expect(() => emu.runTracing({ ctx: { kind: 'fexit', args: [7], ret: 16 } })).toThrow(/the function has 1 arguments, so slot 2 is past its return value/);
  });

  it('fexit takes the argument count from the target BTF\'s bpf_fentry_test2', (ctx) => {
    if (!haveKernelBtf()) return ctx.skip();
    const emu = Emulator.fromObject(object('fentry_args'), { program: 'leave2', btf: kernelBtf() });
    // One argument given, the function has two: the return value still sits in slot 2.
    emu.runTracing({ ctx: { kind: 'fexit', args: [7], ret: 16 } });
    expect(u64s(emu.maps.get('.bss').lookup(new Uint8Array(4))!.subarray(24, 48))).toEqual([7n, 0n, 16n]);
  });
});

describe('context accesses the kernel refuses', () => {
  const cases = [
    ['write_ctx', { kind: 'raw_tp', args: [1] }, /invalid write of 8 bytes to raw_tp arguments \(1\) at offset 0: the context of tracing programs is read-only/],
    ['misaligned', { kind: 'raw_tp', args: [1] }, /invalid read of 4 bytes from raw_tp arguments \(1\) at offset 2: offset 2 is not a multiple of the access size/],
    ['past_args', { kind: 'raw_tp', args: Array(12).fill(1) }, /at offset 96: outside the 12 u64 argument slots/],
    ['common_fields', { kind: 'tracepoint', format: NETIF_RECEIVE_SKB_FORMAT }, /at offset 4: the common fields \(the first 8 bytes\) are not readable/],
  ] as const;

  it.each(cases)('%s faults in the emulator, naming the rule', (program, ctx, message) => {
    const emu = Emulator.fromObject(object('ctx_faults'), { program });
    let fault: unknown;
    try {
      emu.runTracing({ ctx });
    } catch (e) {
      fault = e;
    }
    expect(fault).toBeInstanceOf(VmFault);
    expect((fault as VmFault).kind).toBe('memory');
    expect((fault as VmFault).message).toMatch(message);
  });

  it.skipIf(!haveRoot()).each(cases)('%s is refused by the kernel\'s verifier', (program) => {
    let err: unknown;
    try {
      loadObject(object('ctx_faults'), { programs: [program], objectName: 'ctxfaults' }).close();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProgramRejectedError);
    expect((err as ProgramRejectedError).log).toMatch(/invalid bpf_context access/);
  });
});

describe('tp_btf and perf_event contexts', () => {
  it('tp_btf: loads through the BTF pointer argument read the object laid out from the target BTF', (ctx) => {
    if (!haveKernelBtf()) return ctx.skip();
    const emu = Emulator.fromObject(object('btf_reads'), { program: 'btf_skb', btf: kernelBtf() });
    // clang puts skb_seen after perf_seen in .bss.
    const seen = () => u64s(emu.maps.get('.bss').lookup(new Uint8Array(4))!.subarray(24, 56));
    const objects = { pkt: { bytes: '00'.repeat(64) }, dev: { type: 'struct net_device', value: { ifindex: 7 } } };
    emu.runTracing({
      objects: { ...objects, skb: { type: 'struct sk_buff', value: { len: 1500, protocol: [0x86, 0xdd], data: '@pkt+14', dev: '@dev' } } },
      ctx: { kind: 'tp_btf', args: ['@skb'] },
    });
    const [len, protocol, data, ifindex] = seen();
    expect([len, protocol, ifindex]).toEqual([1500n, 0xdd86n, 7n]);
    expect(data! & 0xffffffffn).toBe(14n);
  });

  it.skipIf(!haveKernelBtf()).each([['NULL', 0], ['an unmapped address', '0xffff888000001000']] as const)('tp_btf: a load through %s reads 0, as BPF_PROBE_MEM does', (_, dev) => {
    const emu = Emulator.fromObject(object('btf_reads'), { program: 'btf_skb', btf: kernelBtf() });
    emu.runTracing({ objects: { skb: { type: 'struct sk_buff', value: { len: 60, dev } } }, ctx: { kind: 'tp_btf', args: ['@skb'] } });
    expect(u64s(emu.maps.get('.bss').lookup(new Uint8Array(4))!.subarray(24, 56))).toEqual([60n, 0n, 0n, 0n]);
  });

  it('perf_event: sample_period, addr and the registers of struct bpf_perf_event_data', () => {
    const emu = Emulator.fromObject(object('btf_reads'), { program: 'sample' });
    emu.runTracing({ ctx: { kind: 'perf_event', arch: 'x86_64', regs: { ip: '0xffffffff81001234' }, sample_period: 4000, addr: '0x7fff0000' } });
    expect(u64s(emu.maps.get('.bss').lookup(new Uint8Array(4))!.subarray(0, 24))).toEqual([4000n, 0x7fff0000n, 0xffffffff81001234n]);
  });
});

describe('tracepoint contexts from the tracefs format', () => {
  it('parses a format file into fields', () => {
    const f = parseTracepointFormat(NETIF_RECEIVE_SKB_FORMAT);
    expect(f.name).toBe('netif_receive_skb');
    expect(f.fields.map((x) => [x.name, x.type, x.offset, x.size, x.signed])).toEqual([
      ['common_type', 'unsigned short', 0, 2, false], ['common_flags', 'unsigned char', 2, 1, false],
      ['common_preempt_count', 'unsigned char', 3, 1, false], ['common_pid', 'int', 4, 4, true],
      ['skbaddr', 'void *', 8, 8, false], ['len', 'unsigned int', 16, 4, false], ['name', '__data_loc char[]', 20, 4, false],
    ]);
  });

  it('the live format file agrees with the kernel BTF\'s record struct', (ctx) => {
    let text: string;
    try {
      text = readFileSync('/sys/kernel/tracing/events/net/netif_receive_skb/format', 'utf8');
    } catch {
      if (process.env.BPFTS_REQUIRE_ROOT === '1') throw new Error('tracefs is not readable but BPFTS_REQUIRE_ROOT=1 requires it');
      console.warn('\n*** SKIPPING: tracefs (/sys/kernel/tracing) is not readable ***\n');
      return ctx.skip();
    }
    if (!haveKernelBtf()) return ctx.skip();
    const t = kernelBtf().find('trace_event_raw_net_dev_template', 'STRUCT');
    if (t?.kind !== 'STRUCT') throw new Error('no struct trace_event_raw_net_dev_template');
    const btfOffsets = Object.fromEntries(t.members.map((m) => [m.name.replace(/^__data_loc_/, ''), m.bitOffset / 8]));
    for (const f of parseTracepointFormat(text).fields.filter((x) => !x.name.startsWith('common_'))) expect([f.name, f.offset]).toEqual([f.name, btfOffsets[f.name]]);
  });

  it('a read past the record the format describes is a clear fault', (ctx) => {
    if (!haveKernelBtf()) return ctx.skip();
    const emu = Emulator.fromObject(object('icmp_tracer'), { program: 'icmp_tp', btf: kernelBtf() });
    const format = [{ name: 'common_type', type: 'unsigned short', offset: 0, size: 2, signed: false }];
    expect(() => emu.runTracing({ ctx: { kind: 'tracepoint', format, fields: {} } })).toThrow(/invalid read of 8 bytes from the record of the tracepoint \(2 bytes\) at offset 8: past the end/);
  });

  it('__data_loc strings follow the fixed fields, located by (length << 16) | offset', (ctx) => {
    if (!haveKernelBtf()) return ctx.skip();
    const emu = Emulator.fromObject(object('icmp_tracer'), { program: 'icmp_tp', btf: kernelBtf() });
    // The program reads skbaddr only; a NULL skb makes every probe read fail, so it returns 0.
    const r = emu.runTracing({ ctx: { kind: 'tracepoint', format: NETIF_RECEIVE_SKB_FORMAT, fields: { skbaddr: 0, len: 60, name: 'veth0' } } });
    expect(r.retval).toBe(0);
    expect(() => emu.runTracing({ ctx: { kind: 'tracepoint', format: NETIF_RECEIVE_SKB_FORMAT, fields: { nope: 1 } } })).toThrow(/has no field 'nope'/);
  });
});

/** bpftool's JSON view of a struct: bit offset of each member, through anonymous members. */
function bpftoolOffsets(struct: string, names: string[]): Record<string, number> {
  const json = JSON.parse(execFileSync(tool('bpftool')!, ['btf', 'dump', 'file', VMLINUX, '-j'], { maxBuffer: 1 << 28, encoding: 'utf8' })) as {
    types: { id: number; kind: string; name: string; members?: { name: string; type_id: number; bits_offset: number }[] }[];
  };
  const byId = new Map(json.types.map((t) => [t.id, t]));
  const out: Record<string, number> = {};
  const walk = (id: number, base: number) => {
    for (const m of byId.get(id)?.members ?? []) {
      if (m.name === '(anon)') walk(m.type_id, base + m.bits_offset);
      else if (names.includes(m.name) && out[m.name] === undefined) out[m.name] = base + m.bits_offset;
    }
  };
  walk(json.types.find((t) => t.kind === 'STRUCT' && t.name === struct)!.id, 0);
  return out;
}

describe('synthetic kernel memory', () => {
  it('lays struct sk_buff out as bpftool reads the same BTF, through anonymous members', (ctx) => {
    if (!haveKernelBtf() || !tool('bpftool')) return ctx.skip();
    const emu = Emulator.fromObject(object('tracing_helpers'), { btf: kernelBtf() });
    const input: TracingInput = {
      objects: {
        skb: { type: 'struct sk_buff', value: { len: 0x11223344, protocol: [0x08, 0x00], data: '@pkt+2', mark: 0x55667788, dev: 0x1234, pkt_type: 5 } },
        pkt: { bytes: '4500' },
      },
      ctx: { kind: 'pt_regs', arch: 'x86_64', regs: { di: '@skb' } },
    };
    // The program copies 8 bytes at di (kernel_bytes of its record): read the object 8 bytes a run.
    const bits = bpftoolOffsets('sk_buff', ['len', 'protocol', 'data', 'mark', 'dev', 'pkt_type']);
    const where = Object.fromEntries(Object.entries(bits).map(([k, b]) => [k, Math.floor(b / 8)]));
    const size = kernelBtf().resolveSize(kernelBtf().find('sk_buff', 'STRUCT')!.id);
    const bytes = new Uint8Array(size);
    for (let off = 0; off < size; off += 8) {
      const r = emu.runTracing({ ...input, ctx: { kind: 'pt_regs', arch: 'x86_64', regs: { di: `@skb+${off}` } } });
      const rec = r.ringbuf.out![0]!;
      bytes.set(rec.subarray(128, 136).subarray(0, Math.min(8, size - off)), off);
    }
    const v = new DataView(bytes.buffer);
    expect(v.getUint32(where.len!, true)).toBe(0x11223344);
    expect(hex(bytes.subarray(where.protocol!, where.protocol! + 2))).toBe('0800');
    expect(v.getUint32(where.mark!, true)).toBe(0x55667788);
    expect(v.getBigUint64(where.dev!, true)).toBe(0x1234n);
    // pkt_type is a 3-bit field.
    expect((v.getUint16(where.pkt_type!, true) >> (bits.pkt_type! % 8)) & 7).toBe(5);
    // The data pointer points 2 bytes into pkt: the same region id as pkt, offset 2.
    const data = v.getBigUint64(where.data!, true);
    expect(data & 0xffffffffn).toBe(2n);
  });

  it('enumerators are given by name', (ctx) => {
    if (!haveKernelBtf()) return ctx.skip();
    const emu = Emulator.fromObject(object('tracing_helpers'), { btf: kernelBtf() });
    const r = emu.runTracing({
      objects: { kinds: { type: 'enum bpf_prog_type[2]', value: ['BPF_PROG_TYPE_KPROBE', 'BPF_PROG_TYPE_XDP'] } },
      ctx: { kind: 'pt_regs', arch: 'x86_64', regs: { di: '@kinds' } },
    });
    // include/uapi/linux/bpf.h: BPF_PROG_TYPE_KPROBE = 2, BPF_PROG_TYPE_XDP = 6.
    expect(hex(r.ringbuf.out![0]!.subarray(128, 136))).toBe('0200000006000000');
  });

  it('unknown members and types are errors naming them', (ctx) => {
    if (!haveKernelBtf()) return ctx.skip();
    const emu = Emulator.fromObject(object('tracing_helpers'), { btf: kernelBtf() });
    const run = (objects: TracingInput['objects']) => () => emu.runTracing({ objects, ctx: { kind: 'pt_regs', regs: {} } });
    expect(run({ s: { type: 'struct sk_buff', value: { nope: 1 } } })).toThrow(/struct sk_buff has no member 'nope'/);
    expect(run({ s: { type: 'struct no_such_struct' } })).toThrow(/no type 'struct no_such_struct'/);
    expect(run({ s: { type: 'struct sk_buff', value: { data: '@missing' } } })).toThrow(/no object named 'missing'/);
  });
});

describe('malformed memory files', () => {
  const scalar = fc.oneof(fc.integer(), fc.constantFrom('@a', '@b+4', '@nope', '0x10', 'zz', '-1', 1e300), fc.jsonValue());
  const objectSpec = fc.oneof(
    fc.uint8Array({ maxLength: 16 }).map((b) => ({ bytes: hex(b) })),
    fc.record({ type: fc.constantFrom('struct sk_buff', 'u32', 'char[4]', 'struct nope', 'int[2]', 'enum bpf_prog_type'), value: fc.jsonValue() }, { requiredKeys: ['type'] }),
    fc.record({ string: fc.string(), size: fc.integer({ min: -2, max: 40 }) }, { requiredKeys: ['string'] }),
    fc.jsonValue(),
  );
  const input = fc.record({
    objects: fc.dictionary(fc.constantFrom('a', 'b', 'c'), objectSpec),
    ctx: fc.oneof(
      fc.record({ kind: fc.constant('pt_regs'), arch: fc.constantFrom('x86_64', 'arm64', 'mips'), regs: fc.dictionary(fc.constantFrom('di', 'si', 'dx', 'x0', 'parm1', 'nope'), scalar) }),
      fc.record({ kind: fc.constantFrom('raw_tp', 'fexit', 'tracepoint'), args: fc.array(scalar, { maxLength: 14 }), fields: fc.jsonValue() }, { requiredKeys: ['kind'] }),
      fc.jsonValue(),
    ),
    current: fc.jsonValue(),
    stacks: fc.jsonValue(),
  }, { requiredKeys: ['ctx'] });

  it('either run or fail with a BpfError, never a crash', (ctx) => {
    if (!haveKernelBtf()) return ctx.skip();
    const emu = Emulator.fromObject(object('tracing_helpers'), { btf: kernelBtf() });
    fc.assert(fc.property(input, (v) => {
      try {
        emu.runTracing(v as unknown as TracingInput);
      } catch (e) {
        if (!(e instanceof BpfError)) throw e;
      }
    }), { numRuns: 500 });
  });
});

describe('tracing helpers', () => {
  const kbuf = '0102030405060708';
  const ubuf = '1112131415161718';
  const input: TracingInput = {
    objects: {
      kbuf: { bytes: kbuf },
      ubuf: { bytes: ubuf, user: true },
      str: { string: 'hello world' },
      task: { bytes: '00'.repeat(64) },
    },
    ctx: { kind: 'pt_regs', arch: 'x86_64', regs: { di: '@kbuf', si: '@ubuf', dx: '@str' } },
    current: { pid: 4242, tgid: 4200, uid: 1000, gid: 100, comm: 'a-very-long-command-name', task: '@task' },
    stacks: { kernel: ['0xffffffff81000010', '0xffffffff81000020', '0xffffffff81000030'], user: [0x401000, 0x401100] },
    funcIp: '0xffffffff81234560',
    cookie: 77,
  };

  it('read memory, the current task, stacks, the function address and the cookie as the kernel documents', () => {
    const emu = Emulator.fromObject(object('tracing_helpers'));
    const r = emu.runTracing(input);
    expect(r.retval).toBe(0);
    const rec = r.ringbuf.out![0]!;
    const v = new DataView(rec.buffer, rec.byteOffset);
    const u = (i: number) => v.getBigUint64(i * 8, true);
    const s = (i: number) => v.getBigInt64(i * 8, true);
    expect(u(0)).toBe((4200n << 32n) | 4242n);
    expect(u(1)).toBe((100n << 32n) | 1000n);
    // The task pointer is the start of object 'task': a mapped region's first byte.
    expect(u(2) >> 32n).not.toBe(0n);
    expect(u(2) & 0xffffffffn).toBe(0n);
    expect(u(3)).toBe(0xffffffff81234560n);
    expect(u(4)).toBe(77n);
    expect(s(5)).toBe(0n); // probe_read_kernel of a kernel object
    expect(s(6)).toBe(0n); // probe_read_user of a user object
    expect(s(7)).toBe(-14n); // probe_read_kernel of a user address: -EFAULT
    expect(s(8)).toBe(12n); // "hello world" and its NUL
    expect(s(9)).toBe(4n); // cut to the 4-byte buffer: 3 bytes and the NUL
    expect(s(10)).toBe(-14n); // an unmapped address
    const stackid = Number(s(11));
    expect(stackid).toBeGreaterThanOrEqual(0);
    expect(s(12)).toBeGreaterThanOrEqual(0n);
    expect(s(13)).toBe(24n); // three u64 instruction pointers
    const text = (a: number, n: number) => Buffer.from(rec.subarray(a, a + n)).toString('latin1');
    expect(text(112, 16)).toBe('a-very-long-com\0'); // TASK_COMM_LEN 16
    expect(hex(rec.subarray(128, 136))).toBe(kbuf);
    expect(hex(rec.subarray(136, 144))).toBe(ubuf);
    expect(hex(rec.subarray(144, 152))).toBe('00'.repeat(8)); // zeroed on failure
    expect(text(152, 16)).toBe('hello world\0\0\0\0\0');
    expect(text(168, 4)).toBe('hel\0');
    expect(u64s(rec.subarray(176, 200))).toEqual([0xffffffff81000010n, 0xffffffff81000020n, 0xffffffff81000030n]);
    // bpf_get_stackid(ctx, map, 1) skipped the innermost frame; the map holds the rest, zero-filled.
    const stacks = emu.maps.get('stacks');
    expect(stacks.raw).toBeInstanceOf(StackTraceMap);
    expect(u64s(stacks.lookup(Uint8Array.of(stackid, stackid >> 8, 0, 0))!)).toEqual([0xffffffff81000020n, 0xffffffff81000030n, 0n, 0n]);
  });

  it('without stacks bpf_get_stackid() and bpf_get_stack() fail with -EFAULT', () => {
    const emu = Emulator.fromObject(object('tracing_helpers'));
    const rec = emu.runTracing({ ...input, stacks: { kernel: [], user: [] } }).ringbuf.out![0]!;
    const v = new DataView(rec.buffer, rec.byteOffset);
    expect([v.getBigInt64(88, true), v.getBigInt64(96, true), v.getBigInt64(104, true)]).toEqual([-14n, -14n, -14n]);
  });
});

/** What the tracer must report for a frame, read from the frame's own bytes. */
function expectedEvent(f: Frame): string | undefined {
  const b = f.bytes;
  if (b.length < 14 + 20 || b[12] !== 0x08 || b[13] !== 0x00) return undefined;
  const ip = b.subarray(14);
  if (ip[0]! >> 4 !== 4 || ip[9] !== 1) return undefined;
  return hex(Uint8Array.from([...ip.subarray(12, 20), 1, 0, 0, 0]));
}

/**
 * The skb of a received frame: the Ethernet header pulled (data at the IP header, as at
 * netif_receive_skb), the network header set (head + network_header, as ip_rcv_core leaves it).
 */
function skbInput(f: Frame, program: 'icmp_raw_tp' | 'icmp_tp' | 'icmp_kretprobe'): TracingInput {
  const objects = {
    skb: {
      type: 'struct sk_buff',
      value: { len: f.bytes.length - 14, protocol: [f.bytes[12]!, f.bytes[13]!], head: '@frame', data: '@frame+14', network_header: 14 },
    },
    frame: { bytes: hex(f.bytes) },
  };
  switch (program) {
    case 'icmp_raw_tp':
      return { objects, ctx: { kind: 'raw_tp', args: ['@skb'] } };
    case 'icmp_tp':
      return { objects, ctx: { kind: 'tracepoint', format: NETIF_RECEIVE_SKB_FORMAT, fields: { skbaddr: '@skb', len: f.bytes.length - 14, name: 'eth0' } } };
    case 'icmp_kretprobe':
      return { objects, ctx: { kind: 'pt_regs', arch: 'x86_64', regs: { ax: '@skb' } } };
  }
}

describe('the ICMP tracer on synthetic sk_buffs', () => {
  const frames = fc.oneof(arbFrame(), arbFrame({ l3: 'ipv4', l4: 'icmp' }), arbFrame({ l3: 'ipv4' }));

  it.skipIf(!haveKernelBtf()).each(['icmp_raw_tp', 'icmp_tp', 'icmp_kretprobe'] as const)('%s: exactly the ICMP packets give one event, with their addresses', (program) => {
    const emu = Emulator.fromObject(object('icmp_tracer'), { program, btf: kernelBtf() });
    const seen = { icmp: 0, other: 0 };
    fc.assert(fc.property(frames, (f) => {
      const r = emu.runTracing(skbInput(f, program));
      const want = expectedEvent(f);
      seen[want === undefined ? 'other' : 'icmp']++;
      const events = r.perf.events!;
      expect(events.map((e) => hex(e.data.subarray(0, 9)) + '000000')).toEqual(want === undefined ? [] : [want]);
      expect(r.retval).toBe(want === undefined ? 0 : 1);
    }), { numRuns: 300 });
    expect(seen.icmp).toBeGreaterThan(30);
    expect(seen.other).toBeGreaterThan(30);
  });

  it('the kretprobe ignores a dropped packet (ip_rcv_core returned NULL)', (ctx) => {
    if (!haveKernelBtf()) return ctx.skip();
    const emu = Emulator.fromObject(object('icmp_tracer'), { program: 'icmp_kretprobe', btf: kernelBtf() });
    const r = emu.runTracing({ ctx: { kind: 'pt_regs', arch: 'x86_64', regs: { ax: 0 } } });
    expect([r.retval, r.perf.events]).toEqual([0, []]);
  });

  it('a program with CO-RE relocations needs the target BTF', () => {
    expect(() => Emulator.fromObject(object('icmp_tracer'), { program: 'icmp_raw_tp' })).toThrow(/has CO-RE relocations; the emulator needs the target kernel's BTF/);
  });
});
