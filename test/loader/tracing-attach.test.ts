// Tracing attachments against the running kernel: the kernel's own counters (the programs count
// their runs in maps) say whether a program ran exactly when attached, bpftool's link list and
// /proc/self/fd whether anything is left after detach or after a failed attach. This kernel has
// no kprobes and refuses fentry/fexit with EPERM: those paths must say so.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AmbiguousSymbolError, KprobesUnavailableError, attachFromSection, parseAttachSpec, LoadError, TracingError, TracingUnsupportedError, attachBtfTracing,
  attachKprobe, attachPerfEvent, attachRawTracepoint, attachTracepoint, attachUprobe, detachPinnedLink,
  explainTracingLoadFailure, loadObject, mapLookupElem, readKallsyms, resolveKernelFunction, resolveUprobe,
  type LoadedObject,
} from '../../src/loader/raw.js';
import { haveRoot, repoRoot, tool } from '../helpers/env.js';
import { buildTestObject } from './clang.js';
import { COUNTER, buildSharedSumBinary, buildSumBinary, configure, counter, getppid, linksOf, loadTracing, mapFd, perfFds, uniqueName } from './tracing-fixtures.js';

const root = haveRoot();
const bpftool = tool('bpftool');
const cc = tool('cc');
const clang = tool('clang-19');

describe.skipIf(!root || !bpftool)('tracepoints', () => {
  let obj: LoadedObject;
  beforeAll(() => {
    obj = loadTracing('trace_events.o', ['emit_perf']);
    configure(obj, { perHit: 1, size: 16 });
  });
  afterAll(() => obj?.close());
  const prog = () => obj.programs[0]!;

  for (const binding of ['link', 'ioctl'] as const) {
    it(`runs the program on each getppid() while attached (${binding} binding), and leaves no link or perf event after detach`, () => {
      const fdsBefore = perfFds();
      const start = counter(obj, COUNTER.PERF_SEQ);
      const link = attachTracepoint(prog().fd, 'syscalls:sys_enter_getppid', { binding });
      try {
        expect(link.binding).toBe(binding);
        expect(link.target).toBe('syscalls:sys_enter_getppid');
        expect(linksOf([prog().id]).map((l) => l.type)).toEqual(binding === 'link' ? ['perf_event'] : []);
        expect(perfFds()).toBe(fdsBefore + 1);
        getppid(25);
        expect(counter(obj, COUNTER.PERF_SEQ) - start).toBe(25);
      } finally {
        link.detach();
      }
      getppid(10);
      expect(counter(obj, COUNTER.PERF_SEQ) - start).toBe(25);
      expect(linksOf([prog().id])).toEqual([]);
      expect(perfFds()).toBe(fdsBefore);
    });
  }

  it('is disposable: a using block detaches', () => {
    const start = counter(obj, COUNTER.PERF_SEQ);
    {
      using link = attachTracepoint(prog().fd, 'syscalls:sys_enter_getppid');
      getppid(3);
      expect(link.detached).toBe(false);
    }
    getppid(3);
    expect(counter(obj, COUNTER.PERF_SEQ) - start).toBe(3);
    expect(linksOf([prog().id])).toEqual([]);
  });

  it('a pinned link keeps the program attached after close(), until detachPinnedLink removes it', async () => {
    const pin = `/sys/fs/bpf/${uniqueName('bpfts_tp')}`;
    const fdsBefore = perfFds();
    const start = counter(obj, COUNTER.PERF_SEQ);
    const link = attachTracepoint(prog().fd, 'syscalls:sys_enter_getppid');
    try {
      link.pin(pin);
      link.close();
      expect(perfFds()).toBe(fdsBefore);
      getppid(5);
      expect(counter(obj, COUNTER.PERF_SEQ) - start).toBe(5);
      expect(linksOf([prog().id]).length).toBe(1);
      detachPinnedLink(pin);
      expect(linksOf([prog().id])).toEqual([]);
    } finally {
      if (existsSync(pin)) execFileSync('rm', ['-f', pin]);
    }
    // The kernel releases the perf link from a workqueue item just after the id goes, which on a
    // busy machine can take a while: the program stops running then, and for good.
    let settled = -1;
    for (let i = 0; i < 500 && settled !== counter(obj, COUNTER.PERF_SEQ); i++) {
      settled = counter(obj, COUNTER.PERF_SEQ);
      await new Promise((r) => setTimeout(r, 10));
      getppid(5);
    }
    expect(counter(obj, COUNTER.PERF_SEQ)).toBe(settled);
    getppid(5);
    expect(counter(obj, COUNTER.PERF_SEQ)).toBe(settled);
    expect(existsSync(pin)).toBe(false);
    expect(linksOf([prog().id])).toEqual([]);
  });

  it.skipIf(!tool('unshare'))('mounts tracefs at /sys/kernel/tracing when it is not mounted (in a mount namespace of its own)', () => {
    const loader = join(repoRoot, 'dist', 'loader', 'raw.js');
    const script = `while umount /sys/kernel/tracing 2>/dev/null; do :; done; grep -c ' /sys/kernel/tracing tracefs ' /proc/self/mounts; ` +
      `node -e 'import("${loader}").then((m) => console.log(m.tracefsRoot(), m.tracepointId("syscalls", "sys_enter_getppid")))'; ` +
      `grep -c ' /sys/kernel/tracing tracefs ' /proc/self/mounts`;
    const out = execFileSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8' }).trim().split('\n');
    const id = readFileSync('/sys/kernel/tracing/events/syscalls/sys_enter_getppid/id', 'utf8').trim();
    expect(out).toEqual(['0', `/sys/kernel/tracing ${id}`, '1']);
  });

  it('names a tracepoint the kernel lacks, with similar ones', () => {
    expect(() => attachTracepoint(prog().fd, 'syscalls:sys_enter_no_such_call')).toThrow(TracingError);
    expect(() => attachTracepoint(prog().fd, 'syscalls:sys_enter_no_such_call')).toThrow(/no tracepoint syscalls:sys_enter_no_such_call/);
    expect(() => attachTracepoint(prog().fd, 'not a tracepoint')).toThrow(expect.objectContaining({ hint: expect.stringMatching(/CATEGORY:NAME/) }));
  });

  it('takes back the perf event when binding fails (a raw_tp program on a tracepoint)', () => {
    const icmp = loadTracing('icmp_trace.o', ['icmp_netif_rx']);
    try {
      const fdsBefore = perfFds();
      expect(() => attachTracepoint(icmp.programs[0]!.fd, 'net:netif_receive_skb')).toThrow(/EINVAL/);
      expect(perfFds()).toBe(fdsBefore);
      expect(linksOf([icmp.programs[0]!.id])).toEqual([]);
    } finally {
      icmp.close();
    }
  });
});

describe.skipIf(!root || !bpftool)('raw tracepoints', () => {
  it('attaches with BPF_RAW_TRACEPOINT_OPEN, bpftool sees the link on netif_receive_skb, and detach removes it', () => {
    const icmp = loadTracing('icmp_trace.o', ['icmp_netif_rx']);
    try {
      const p = icmp.programs[0]!;
      const link = attachRawTracepoint(p.fd, 'netif_receive_skb');
      try {
        const links = JSON.parse(execFileSync(bpftool!, ['-j', 'link', 'list'], { encoding: 'utf8' })) as { prog_id: number; type: string; tp_name?: string }[];
        expect(links.filter((l) => l.prog_id === p.id).map((l) => [l.type, l.tp_name])).toEqual([['raw_tracepoint', 'netif_receive_skb']]);
      } finally {
        link.detach();
      }
      expect(linksOf([p.id])).toEqual([]);
      expect(() => attachRawTracepoint(p.fd, 'no_such_tracepoint_here')).toThrow(/no raw tracepoint 'no_such_tracepoint_here'/);
    } finally {
      icmp.close();
    }
  });
});

describe.skipIf(!root || !bpftool || !cc)('uprobes', () => {
  let sum: ReturnType<typeof buildSumBinary>;
  let obj: LoadedObject;
  beforeAll(() => {
    sum = buildSumBinary();
    obj = loadTracing('trace_probes.o', ['sum_enter', 'sum_exit']);
  });
  afterAll(() => {
    obj?.close();
    sum?.cleanup();
  });
  const totals = () => {
    const v = mapLookupElem(mapFd(obj, 'totals'), new Uint8Array(4), 40)!;
    const dv = new DataView(v.buffer, v.byteOffset);
    return { enter: dv.getBigUint64(0, true), exit: dv.getBigUint64(8, true), args: dv.getBigUint64(16, true), results: dv.getBigUint64(24, true) };
  };

  it('a uprobe and a uretprobe on BINARY:h_sum see every call, its arguments and its result', () => {
    const before = totals();
    const fdsBefore = perfFds();
    const enter = attachUprobe(obj.programs.find((p) => p.name === 'sum_enter')!.fd, `${sum.path}:h_sum`);
    const exit = attachUprobe(obj.programs.find((p) => p.name === 'sum_exit')!.fd, `${sum.path}:h_sum`, { retprobe: true });
    let printed: bigint;
    try {
      expect([enter.kind, exit.kind]).toEqual(['uprobe', 'uretprobe']);
      printed = BigInt(execFileSync(sum.path, ['100'], { encoding: 'utf8' }).trim());
    } finally {
      enter.detach();
      exit.detach();
    }
    const after = totals();
    expect(after.enter - before.enter).toBe(100n);
    expect(after.exit - before.exit).toBe(100n);
    // The program's own total is the sum of h_sum's results, and of its arguments.
    expect(after.results - before.results).toBe(printed);
    expect(after.args - before.args).toBe(printed);
    execFileSync(sum.path, ['50']);
    expect(totals().enter).toBe(after.enter);
    expect(perfFds()).toBe(fdsBefore);
  });

  it('probes a function of a shared library, whose file offset differs from its address', () => {
    const shared = buildSharedSumBinary();
    try {
      const t = resolveUprobe(`${shared.library}:h_sum`);
      const sym = execFileSync('readelf', ['-Ws', shared.library], { encoding: 'utf8' }).split('\n').find((l) => / h_sum$/.test(l))!;
      expect(t.fileOffset).not.toBe(Number(`0x${sym.trim().split(/\s+/)[1]}`));
      const before = totals();
      const enter = attachUprobe(obj.programs.find((p) => p.name === 'sum_enter')!.fd, `${shared.library}:h_sum`);
      let printed: bigint;
      try {
        printed = BigInt(execFileSync(shared.path, ['40'], { encoding: 'utf8' }).trim());
      } finally {
        enter.detach();
      }
      const after = totals();
      expect(after.enter - before.enter).toBe(40n);
      expect(after.args - before.args).toBe(printed);
    } finally {
      shared.cleanup();
    }
  });

  it('resolves SYMBOL+OFFSET and library names; an unknown symbol names similar ones', () => {
    const t = resolveUprobe(`${sum.path}:h_sum`);
    expect(resolveUprobe(`${sum.path}:h_sum+4`).fileOffset).toBe(t.fileOffset + 4);
    // readelf's view of the same symbol and segments: file offset = vaddr - p_vaddr + p_offset.
    const sym = execFileSync('readelf', ['-Ws', sum.path], { encoding: 'utf8' }).split('\n').find((l) => / h_sum$/.test(l))!;
    const vaddr = Number(`0x${sym.trim().split(/\s+/)[1]}`);
    const load = execFileSync('readelf', ['-Wl', sum.path], { encoding: 'utf8' }).split('\n').filter((l) => l.trim().startsWith('LOAD'))
      .map((l) => l.trim().split(/\s+/)).map((f) => ({ off: Number(f[1]), va: Number(f[2]), filesz: Number(f[4]) }))
      .find((s) => vaddr >= s.va && vaddr < s.va + s.filesz)!;
    expect(t.fileOffset).toBe(vaddr - load.va + load.off);
    const libc = resolveUprobe('libc.so.6:malloc');
    expect(libc.path).toMatch(/libc\.so\.6$|libc-[\d.]+\.so$/);
    expect(() => resolveUprobe(`${sum.path}:h_su`)).toThrow(/no function 'h_su'.*|similar names: h_sum/s);
    expect(() => resolveUprobe('no-such-binary-here:main')).toThrow(TracingError);
  });
});

describe.skipIf(!root || !bpftool)('perf software events', () => {
  it('runs a perf_event program on cpu-clock samples on every CPU until detached', async () => {
    const obj = loadTracing('trace_probes.o', ['on_sample']);
    try {
      const samples = () => new DataView(mapLookupElem(mapFd(obj, 'totals'), new Uint8Array(4), 40)!.buffer).getBigUint64(32, true);
      const fdsBefore = perfFds();
      const links = attachPerfEvent(obj.programs[0]!.fd, { event: 'cpu-clock', frequency: 1000 });
      try {
        expect(links.length).toBe(Number(readFileSync('/sys/devices/system/cpu/online', 'utf8').trim().split('-').pop()) + 1);
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        for (const l of links) l.detach();
      }
      const counted = samples();
      expect(counted).toBeGreaterThan(0n);
      await new Promise((r) => setTimeout(r, 100));
      expect(samples()).toBe(counted);
      expect(perfFds()).toBe(fdsBefore);
      expect(linksOf([obj.programs[0]!.id])).toEqual([]);
    } finally {
      obj.close();
    }
  });
});

describe.skipIf(!root || !bpftool)('kprobes on a kernel without them', () => {
  const noKprobes = !existsSync('/sys/bus/event_source/devices/kprobe') && !existsSync('/sys/kernel/tracing/kprobe_events');
  if (!noKprobes) console.warn('\n*** SKIPPING: this kernel has kprobes, so the errors of a kernel without them cannot be checked here ***\n');

  it.runIf(noKprobes)('a kretprobe on ip_rcv_core is a KprobesUnavailableError naming fentry/fexit when the kernel BTF has the function', () => {
    const obj = loadTracing('icmp_trace_kretprobe.o', ['icmp_ip_rcv']);
    try {
      let err: unknown;
      try {
        attachKprobe(obj.programs[0]!.fd, 'ip_rcv_core', { retprobe: true });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KprobesUnavailableError);
      expect((err as Error).message).toMatch(/no kprobes \(CONFIG_KPROBES is not set/);
      const inBtf = / FUNC 'ip_rcv_core' /.test(execFileSync(bpftool!, ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux'], { encoding: 'utf8', maxBuffer: 1 << 30 }));
      expect((err as KprobesUnavailableError).alternatives.some((a) => a.startsWith('fentry:ip_rcv_core'))).toBe(inBtf);
      expect(linksOf([obj.programs[0]!.id])).toEqual([]);
    } finally {
      obj.close();
    }
  });

  it.runIf(noKprobes)('for netif_receive_skb the alternatives include its tracepoint and raw tracepoint', () => {
    let err: unknown;
    try {
      attachKprobe(0, 'netif_receive_skb');
    } catch (e) {
      err = e;
    }
    expect((err as KprobesUnavailableError).alternatives).toContain('tracepoint:net:netif_receive_skb or raw-tp:netif_receive_skb');
  });

  it('resolves names through kallsyms: the one compiler-made variant, never .cold; several are ambiguous', () => {
    const ks = readKallsyms([
      'ffffffff81000000 t ip_rcv_core.isra.0', 'ffffffff81000100 t ip_rcv_core.isra.0.cold', 'ffffffff81000200 T tcp_connect',
      'ffffffff81000300 t dup_name', 'ffffffff81000400 t dup_name', 'ffffffff81000500 t two.constprop.0', 'ffffffff81000600 t two.part.0',
      'ffffffffc0000000 t mod_fn\t[some_module]',
    ].join('\n'));
    expect(resolveKernelFunction('ip_rcv_core', ks)).toEqual({ symbol: 'ip_rcv_core.isra.0', note: 'ip_rcv_core is ip_rcv_core.isra.0 in this kernel (kallsyms), probed there' });
    expect(resolveKernelFunction('tcp_connect', ks)).toEqual({ symbol: 'tcp_connect' });
    expect(resolveKernelFunction('mod_fn', ks)).toEqual({ symbol: 'mod_fn' });
    expect(() => resolveKernelFunction('dup_name', ks)).toThrow(AmbiguousSymbolError);
    let err: unknown;
    try {
      resolveKernelFunction('two', ks);
    } catch (e) {
      err = e;
    }
    expect((err as AmbiguousSymbolError).candidates).toEqual(['two.constprop.0', 'two.part.0']);
    expect(() => resolveKernelFunction('absent_fn', ks)).toThrow(/no function 'absent_fn'/);
  });

  it('resolves a function this kernel only has as a .isra/.constprop variant to that variant', () => {
    const ks = readKallsyms();
    const names = new Set(ks.map((s) => s.name));
    const counts = new Map<string, number>();
    for (const s of ks) counts.set(s.name, (counts.get(s.name) ?? 0) + 1);
    const variant = ks.find((s) => /^[a-z_]+\.(isra|constprop)\.0$/.test(s.name) && counts.get(s.name) === 1 &&
      !names.has(s.name.split('.')[0]!) && ks.filter((x) => x.name.startsWith(`${s.name.split('.')[0]}.`) && !x.name.includes('.cold')).length === 1);
    expect(variant).toBeDefined();
    expect(resolveKernelFunction(variant!.name.split('.')[0]!, ks).symbol).toBe(variant!.name);
  });
});

describe.skipIf(!root || !clang)('BTF-attached programs', () => {
  it('tp_btf/sched_switch attaches with BPF_LINK_CREATE and runs until detached', async () => {
    const build = buildTestObject(clang!, 'btf_attach', ['-DSEC_NAME="tp_btf/sched_switch"']);
    const loaded = loadObject(readFileSync(build.path), { objectName: 'btf_attach' });
    try {
      const hits = () => new DataView(mapLookupElem(loaded.maps.find((m) => m.spec.objectName === '.bss')!.fd, new Uint8Array(4), 8)!.buffer).getBigUint64(0, true);
      const link = attachBtfTracing(loaded.programs[0]!.fd, 'tp_btf', 'sched_switch');
      try {
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        link.detach();
      }
      const n = hits();
      expect(n).toBeGreaterThan(0n);
      expect(linksOf([loaded.programs[0]!.id])).toEqual([]);
    } finally {
      loaded.close();
      build.cleanup();
    }
  });

  it('an fentry program this kernel refuses (EPERM) becomes a TracingUnsupportedError that says so', () => {
    const build = buildTestObject(clang!, 'btf_attach', ['-DSEC_NAME="fentry/tcp_connect"']);
    try {
      let err: unknown;
      try {
        loadObject(readFileSync(build.path), { objectName: 'btf_attach' }).close();
      } catch (e) {
        err = e;
      }
      if (err === undefined) return; // a kernel with trampolines loads it: nothing to explain
      expect(err).toBeInstanceOf(LoadError);
      const explained = explainTracingLoadFailure(err, 'fentry/tcp_connect');
      expect(explained).toBeInstanceOf(TracingUnsupportedError);
      expect((explained as Error).message).toBe('this kernel refuses fentry programs (tcp_connect) with EPERM');
      expect((explained as TracingUnsupportedError).hint).toMatch(/trampolines/);
    } finally {
      build.cleanup();
    }
  });
});

describe('attach points from section names (libbpf auto-attach) and KIND:TARGET', () => {
  it('reads the target out of each tracing section', () => {
    expect(attachFromSection('p', 'tracepoint/syscalls/sys_enter_getppid')).toEqual({ kind: 'tracepoint', target: 'syscalls:sys_enter_getppid' });
    expect(attachFromSection('p', 'tp/net/netif_receive_skb')).toEqual({ kind: 'tracepoint', target: 'net:netif_receive_skb' });
    expect(attachFromSection('p', 'raw_tp/netif_receive_skb')).toEqual({ kind: 'raw-tp', target: 'netif_receive_skb' });
    expect(attachFromSection('p', 'raw_tracepoint/sched_switch')).toEqual({ kind: 'raw-tp', target: 'sched_switch' });
    expect(attachFromSection('p', 'kretprobe/ip_rcv_core')).toEqual({ kind: 'kretprobe', target: 'ip_rcv_core' });
    expect(attachFromSection('p', 'uprobe//usr/bin/bash:readline')).toEqual({ kind: 'uprobe', target: '/usr/bin/bash:readline' });
    expect(attachFromSection('p', 'fentry/tcp_connect')).toEqual({ kind: 'fentry', target: 'tcp_connect' });
    expect(attachFromSection('p', 'tp_btf/sched_switch')).toEqual({ kind: 'tp-btf', target: 'sched_switch' });
    expect(attachFromSection('p', 'tc')).toBeUndefined();
    expect(attachFromSection('p', 'xdp')).toBeUndefined();
    expect(() => attachFromSection('sum_enter', 'uprobe')).toThrow(/names no uprobe target/);
  });

  it('parses KIND:TARGET as the CLI takes it', () => {
    expect(parseAttachSpec('uprobe:./app:h_sum')).toEqual({ kind: 'uprobe', target: './app:h_sum' });
    expect(parseAttachSpec('tracepoint:syscalls:sys_enter_openat')).toEqual({ kind: 'tracepoint', target: 'syscalls:sys_enter_openat' });
    expect(parseAttachSpec('raw_tp:sched_switch')).toEqual({ kind: 'raw-tp', target: 'sched_switch' });
    expect(() => parseAttachSpec('kprobe')).toThrow(/names no target/);
    expect(() => parseAttachSpec('bogus:x')).toThrow(/unknown attach kind 'bogus'/);
  });
});
