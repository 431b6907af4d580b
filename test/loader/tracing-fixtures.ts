// What the tracing tests share: the committed tracing objects loaded with bpfts's loader, their
// counters read back, the kernel's view of links and perf events (bpftool, /proc/self/fd) to
// prove nothing is left behind, and the small C program the uprobe tests build.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadObject, mapLookupElem, mapUpdateElem, type LoadedObject } from '../../src/loader/raw.js';
import { objectPath } from '../bpf/manifest.js';

export function loadTracing(file: string, programs: string[]): LoadedObject {
  return loadObject(readFileSync(objectPath('bpfel', file)), { programs, objectName: file.split('.')[0]! });
}

export function mapFd(obj: LoadedObject, name: string) {
  const m = obj.maps.find((x) => x.spec.objectName === name);
  if (!m) throw new Error(`no map ${name}`);
  return m.fd;
}

/** trace_events.c's counters, by its enum. */
export const COUNTER = { PERF_SENT: 0, PERF_FAILED: 1, RING_SENT: 2, RING_FAILED: 3, RING_DISCARDED: 4, PERF_SEQ: 5, RING_SEQ: 6 } as const;

export function counter(obj: LoadedObject, which: number): number {
  const key = new Uint8Array(new Uint32Array([which]).buffer);
  const v = mapLookupElem(mapFd(obj, 'counters'), key, 8)!;
  return Number(new DataView(v.buffer, v.byteOffset).getBigUint64(0, true));
}

/** Points trace_events.c at this process: `perHit` records of `size` bytes per getppid(). */
export function configure(obj: LoadedObject, o: { perHit: number; size: number; discardEvery?: number; tgid?: number }): void {
  const value = new Uint8Array(new Uint32Array([o.tgid ?? process.pid, o.perHit, o.size, o.discardEvery ?? 0]).buffer);
  mapUpdateElem(mapFd(obj, 'trace_config'), new Uint8Array(4), value);
}

/** `n` getppid() system calls: Node's process.ppid asks the kernel each time. */
export function getppid(n: number): void {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += process.ppid;
  if (sum < 0) throw new Error('unreachable');
}

/** The ids of the kernel's bpf links whose program is one of `progIds` (bpftool link list). */
export function linksOf(progIds: number[]): { id: number; type: string; prog_id: number }[] {
  const links = JSON.parse(execFileSync('bpftool', ['-j', 'link', 'list'], { encoding: 'utf8' }) || '[]') as { id: number; type: string; prog_id: number }[];
  return links.filter((l) => progIds.includes(l.prog_id));
}

/** How many perf event descriptors this process holds. */
export function perfFds(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:[perf_event]') n++;
    } catch {
      // closed while listing
    }
  }
  return n;
}

/** A unique name for pins and probe events of this test run. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

const SUM_C = `
#include <stdio.h>
#include <stdlib.h>
__attribute__((noinline)) int h_sum(int a, int b) { __asm__ volatile("" ::: "memory"); return a + b; }
int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 0;
  long total = 0;
  for (int i = 0; i < n; i++) total += h_sum(i, 2 * i);
  printf("%ld\\n", total);
  return 0;
}
`;

/** Builds the uprobe tests' program (h_sum called N times by `sum N`); `cleanup` removes it. */
export function buildSumBinary(): { path: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'bpfts-sum-'));
  writeFileSync(join(dir, 'sum.c'), SUM_C);
  execFileSync('cc', ['-O1', '-o', join(dir, 'sum'), join(dir, 'sum.c')], { stdio: 'pipe' });
  return { path: join(dir, 'sum'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The same program with h_sum in a shared library beside it (libsum.so, found through the rpath), linked at 0x10000 so that its addresses are not its file offsets. */
export function buildSharedSumBinary(): { path: string; library: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'bpfts-libsum-'));
  writeFileSync(join(dir, 'libsum.c'), '__attribute__((noinline)) int h_sum(int a, int b) { __asm__ volatile("" ::: "memory"); return a + b; }\n');
  writeFileSync(join(dir, 'main.c'), SUM_C.replace(/__attribute__\(\(noinline\)\) int h_sum[^\n]*\n/, 'int h_sum(int a, int b);\n'));
  execFileSync('cc', ['-O1', '-shared', '-fPIC', '-Wl,-Ttext-segment=0x10000', '-o', join(dir, 'libsum.so'), join(dir, 'libsum.c')], { stdio: 'pipe' });
  execFileSync('cc', ['-O1', '-o', join(dir, 'sum'), join(dir, 'main.c'), `-L${dir}`, '-lsum', `-Wl,-rpath,${dir}`], { stdio: 'pipe' });
  return { path: join(dir, 'sum'), library: join(dir, 'libsum.so'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
