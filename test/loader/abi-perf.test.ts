// The tracing ABI of src/loader/abi/perf-event.ts (perf_event_attr, the mmapped ring, the ioctls,
// epoll/eventfd/mmap numbers) and the ring buffer constants of src/uapi compared with the C
// compiler's view of the installed headers and of the running kernel's BTF; then, as root, the
// same numbers used against the kernel: it must fill the ring's control page where the layout says.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as abi from '../../src/loader/abi/index.js';
import * as uapi from '../../src/uapi/index.js';
import type { Layout } from '../../src/loader/abi/index.js';
import {
  EpollSet, Mapping, SyscallError, ioctl, pageSize, perfEventAttr, perfEventOpen, type Fd,
} from '../../src/loader/raw.js';
import { haveKernelBtf, haveLinuxHeaders, haveRoot, tool, VMLINUX } from '../helpers/env.js';

type Consts = Readonly<Record<string, number>>;

function run(dir: string, name: string, prelude: string[], lines: string[], cflags: string[] = []): Map<string, string> {
  const src = join(dir, `${name}.c`);
  const exe = join(dir, name);
  writeFileSync(src, [...prelude, 'int main(void) {', ...lines, 'return 0; }'].join('\n'));
  execFileSync('cc', ['-w', ...cflags, '-o', exe, src], { stdio: ['ignore', 'ignore', 'pipe'] });
  const out = new Map<string, string>();
  for (const line of execFileSync(exe, { encoding: 'utf8' }).split('\n')) {
    const tab = line.indexOf('\t');
    if (tab > 0) out.set(line.slice(0, tab), line.slice(tab + 1));
  }
  return out;
}

const constLines = (g: Consts) => Object.keys(g).map((n) => `printf("${n}\\t%lld\\n", (long long)(${n}));`);
const layoutLines = (l: Layout) => {
  const p = l.cMember ? `${l.cMember}.` : '';
  const lines = Object.keys(l.fields).map((f) =>
    `printf("${l.cType}.${p}${f}\\t%zu %zu\\n", offsetof(${l.cType}, ${p}${f}), sizeof(((${l.cType} *)0)->${p}${f}));`);
  if (l.complete) lines.push(`printf("sizeof(${l.cType})\\t%zu\\n", sizeof(${l.cType}));`);
  return lines;
};
const wantLayout = (l: Layout) => {
  const p = l.cMember ? `${l.cMember}.` : '';
  const out: Record<string, string> = {};
  for (const [f, { offset, size }] of Object.entries(l.fields)) out[`${l.cType}.${p}${f}`] = `${offset} ${size}`;
  if (l.complete) out[`sizeof(${l.cType})`] = String(l.size);
  return out;
};
const pick = (m: Map<string, string>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, m.get(k)]));
const asStrings = (g: Consts) => Object.fromEntries(Object.entries(g).map(([k, v]) => [k, String(v)]));

const cc = tool('cc');

describe.skipIf(!cc)('tracing ABI tables vs the C compiler', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bpfts-abi-perf-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe.skipIf(!haveLinuxHeaders())('installed uapi headers', () => {
    const groups: Consts[] = [
      abi.perf_type_id, abi.perf_sw_ids, abi.perf_event_sample_format, abi.perf_event_type, abi.PERF_FLAG,
      abi.PERF_ATTR_SIZE, abi.PERF_EVENT_IOC, abi.EPOLL, abi.EFD, abi.MMAP,
    ];
    let out: Map<string, string>;
    beforeAll(() => {
      const lines = groups.flatMap(constLines);
      for (const l of [abi.PERF_EVENT_ATTR, abi.PERF_EVENT_MMAP_PAGE, abi.PERF_EVENT_HEADER, abi.EPOLL_EVENT]) lines.push(...layoutLines(l));
      // The bitfield word: each flag set alone in a zeroed attr, read back as the u64 after read_format.
      for (const f of Object.keys(abi.PERF_ATTR_FLAG)) {
        lines.push(`{ struct perf_event_attr a; memset(&a, 0, sizeof a); a.${f} = 1; unsigned long long w; ` +
          `memcpy(&w, (char *)&a + offsetof(struct perf_event_attr, read_format) + 8, 8); printf("bit.${f}\\t%d\\n", __builtin_ctzll(w)); }`);
      }
      lines.push('printf("flags_offset\\t%zu\\n", offsetof(struct perf_event_attr, read_format) + 8);');
      lines.push('printf("SYS_perf_event_open\\t%ld\\n", (long)SYS_perf_event_open);');
      out = run(dir, 'perf', ['#define _GNU_SOURCE', ...['stddef.h', 'stdio.h', 'string.h', 'sys/syscall.h', 'sys/epoll.h',
        'sys/eventfd.h', 'sys/mman.h', 'linux/perf_event.h'].map((h) => `#include <${h}>`)], lines);
    });

    it('matches every perf, epoll, eventfd and mmap constant', () => {
      for (const g of groups) expect(pick(out, Object.keys(g))).toEqual(asStrings(g));
    });

    it('lays out perf_event_attr, perf_event_mmap_page, perf_event_header and epoll_event like the compiler', () => {
      for (const l of [abi.PERF_EVENT_ATTR, abi.PERF_EVENT_MMAP_PAGE, abi.PERF_EVENT_HEADER, abi.EPOLL_EVENT]) {
        const want = wantLayout(l);
        expect(pick(out, Object.keys(want))).toEqual(want);
      }
    });

    it('places each perf_event_attr flag at the bit the compiler gives its bitfield', () => {
      expect(out.get('flags_offset')).toBe(String(abi.PERF_EVENT_ATTR_FLAGS_OFFSET));
      const bits = Object.fromEntries(Object.entries(abi.PERF_ATTR_FLAG).map(([k, v]) => [`bit.${k}`, String(v)]));
      expect(pick(out, Object.keys(bits))).toEqual(bits);
    });

    it('uses the libc syscall number of perf_event_open for this architecture', () => {
      expect(String(abi.SYS_perf_event_open[process.arch])).toBe(out.get('SYS_perf_event_open'));
    });
  });

  const bpftool = tool('bpftool');
  describe.skipIf(!bpftool || !haveKernelBtf())('running kernel BTF', () => {
    let out: Map<string, string>;
    const ringbuf = {
      BPF_RINGBUF_BUSY_BIT: uapi.BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT: uapi.BPF_RINGBUF_DISCARD_BIT,
      BPF_RINGBUF_HDR_SZ: uapi.BPF_RINGBUF_HDR_SZ,
    };
    beforeAll(() => {
      const header = join(dir, 'vmlinux.h');
      writeFileSync(header, execFileSync(bpftool!, ['btf', 'dump', 'file', VMLINUX, 'format', 'c'], { maxBuffer: 1 << 30 }));
      const lines = [...layoutLines(abi.RAW_TRACEPOINT_OPEN_ATTR), ...layoutLines(abi.LINK_CREATE_ATTR)];
      // The ring buffer constants are enum members in BTF; a struct's size is the record header.
      lines.push(...constLines(ringbuf));
      lines.push('printf("sizeof(struct bpf_ringbuf_hdr)\\t%zu\\n", sizeof(struct bpf_ringbuf_hdr));');
      out = run(dir, 'btf', ['#include "vmlinux.h"', 'int printf(const char *, ...);', '#define offsetof(t, m) __builtin_offsetof(t, m)'],
        lines, [`-I${dir}`]);
    }, 60_000);

    it('lays out bpf_attr.raw_tracepoint and the perf_event and tracing members of link_create like the kernel', () => {
      for (const l of [abi.RAW_TRACEPOINT_OPEN_ATTR, abi.LINK_CREATE_ATTR]) {
        const want = wantLayout(l);
        expect(pick(out, Object.keys(want))).toEqual(want);
      }
    });

    it('has the ring buffer record bits and header size of the kernel', () => {
      expect(pick(out, Object.keys(ringbuf))).toEqual(asStrings(ringbuf));
      expect(out.get('sizeof(struct bpf_ringbuf_hdr)')).toBe(String(uapi.BPF_RINGBUF_HDR_SZ));
    });
  });
});

describe.skipIf(!haveRoot())('the tracing syscalls against the kernel', () => {
  function bpfOutputEvent(cpu: number): Fd {
    const attr = perfEventAttr()
      .set('type', abi.perf_type_id.PERF_TYPE_SOFTWARE)
      .set('config', abi.perf_sw_ids.PERF_COUNT_SW_BPF_OUTPUT)
      .set('sample_type', abi.perf_event_sample_format.PERF_SAMPLE_RAW)
      .set('sample_period', 1)
      .set('wakeup_events', 1);
    return perfEventOpen(attr, -1, cpu, -1, abi.PERF_FLAG.PERF_FLAG_FD_CLOEXEC);
  }

  it('opens a BPF output event whose mmapped control page the kernel fills where the layout says', () => {
    const fd = bpfOutputEvent(0);
    const page = pageSize();
    const ring = Mapping.map(fd, page * 3, abi.MMAP.PROT_READ | abi.MMAP.PROT_WRITE, 0, 'perf ring');
    try {
      const dv = new DataView(ring.bytes.buffer, ring.bytes.byteOffset, ring.bytes.byteLength);
      const f = abi.PERF_EVENT_MMAP_PAGE.fields;
      // The kernel writes data_offset and data_size (Linux 4.1+): the data area is the pages after the first.
      expect(dv.getBigUint64(f.data_offset.offset, true)).toBe(BigInt(page));
      expect(dv.getBigUint64(f.data_size.offset, true)).toBe(BigInt(page * 2));
      expect(dv.getBigUint64(f.data_head.offset, true)).toBe(0n);
      // perf_event_init_userpage: `size` is the header's size up to __reserved.
      expect(dv.getUint32(f.size.offset, true)).toBe(f.__reserved.offset);
      const explain = () => 'x';
      ioctl(fd, abi.PERF_EVENT_IOC.PERF_EVENT_IOC_ENABLE, 0, 'PERF_EVENT_IOC_ENABLE', explain);
      ioctl(fd, abi.PERF_EVENT_IOC.PERF_EVENT_IOC_DISABLE, 0, 'PERF_EVENT_IOC_DISABLE', explain);
      // SET_BPF wants a program descriptor: the event's own descriptor is refused with EBADF or EINVAL.
      let err: unknown;
      try {
        ioctl(fd, abi.PERF_EVENT_IOC.PERF_EVENT_IOC_SET_BPF, fd.value, 'PERF_EVENT_IOC_SET_BPF', explain);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SyscallError);
      expect(['EBADF', 'EINVAL']).toContain((err as SyscallError).errnoName);
    } finally {
      ring.unmap();
      fd.close();
    }
    expect(ring.mapped).toBe(false);
  });

  it('refuses a ring that is not 1 + 2^n pages with EINVAL', () => {
    const fd = bpfOutputEvent(0);
    try {
      expect(() => Mapping.map(fd, pageSize() * 4, abi.MMAP.PROT_READ | abi.MMAP.PROT_WRITE, 0, 'perf ring')).toThrow(/EINVAL/);
    } finally {
      fd.close();
    }
  });

  it('names the errno of a perf_event_open the kernel refuses', () => {
    const attr = perfEventAttr().set('type', abi.perf_type_id.PERF_TYPE_SOFTWARE).set('config', 0xffff);
    expect(() => perfEventOpen(attr, -1, 0, -1, 0)).toThrow(/perf_event_open failed with ENOENT/);
  });

  it('waits on an epoll set off the event loop: timers run meanwhile, and close() ends the wait', async () => {
    const set = new EpollSet();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const waited = set.wait();
    await new Promise((r) => setTimeout(r, 200));
    set.close();
    expect(await waited).toEqual([]);
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(5);
  });
});
