import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bpftoolLoadall, withBpftoolLoadall } from '../helpers/bpftool.js';
import { haveRoot, repoRoot, tool } from '../helpers/env.js';
import { loaderView, loaderViews, suggestSections } from '../../src/object/loader-rules.js';
import { parseElf } from '../../src/elf/index.js';
import { writeElf } from '../../src/elf/write.js';

const clang = tool('clang-19');
const bpftool = tool('bpftool');
const root = haveRoot();

const SOURCE = `
__attribute__((section(SEC_NAME), used)) int prog(void *ctx) { return 0; }
char _license[] __attribute__((section("license"), used)) = "GPL";
`;

// Sections whose load needs no kprobes or BTF targets on this kernel; the guess happens before load.
const SECTIONS = ['classifier', 'tc', 'tc/ingress', 'tcx/egress', 'egress', 'xdp', 'xdp_foo', 'socket', 'socket1',
  'kprobe/foo', '?tc', 'action', 'sk_skb/verdict', 'cgroup_skb/egress', 'classifier/foo', 'netfilter'];

/** bpftool v7.1's verdict on `object`, and the type it gave the program when it loaded it. */
function loadall(object: string, extra: string[] = []): { ok: boolean; stderr: string; type?: string } {
  const dir = mkdtempSync('/sys/fs/bpf/bpfts-rules-');
  return withBpftoolLoadall(bpftool!, object, dir, (r) => {
    if (r.status !== 0) return { ok: false, stderr: r.stderr };
    const info = JSON.parse(execFileSync(bpftool!, ['-j', 'prog', 'show', 'pinned', join(dir, 'prog')], { encoding: 'utf8' })) as { type: string };
    return { ok: true, stderr: r.stderr, type: info.type };
  }, extra);
}

// bpftool's names for program types (libbpf's prog_type_name[]).
const BPFTOOL_TYPE: Record<string, string> = {
  BPF_PROG_TYPE_SCHED_CLS: 'sched_cls', BPF_PROG_TYPE_SCHED_ACT: 'sched_act', BPF_PROG_TYPE_XDP: 'xdp',
  BPF_PROG_TYPE_SOCKET_FILTER: 'socket_filter', BPF_PROG_TYPE_KPROBE: 'kprobe', BPF_PROG_TYPE_CGROUP_SKB: 'cgroup_skb',
};

describe.skipIf(!clang || !bpftool || !root)('libbpf-1.1 rules against bpftool v7.1 prog loadall', () => {
  let dir: string;
  const objects = new Map<string, string>();
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bpfts-rules-'));
    writeFileSync(join(dir, 'p.c'), SOURCE);
    SECTIONS.forEach((sec, i) => {
      const out = join(dir, `p${i}.o`);
      execFileSync(clang!, ['-O2', '-target', 'bpf', '-c', join(dir, 'p.c'), `-DSEC_NAME="${sec}"`, '-o', out]);
      objects.set(sec, out);
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(SECTIONS)('%j', (sec) => {
    const v = loaderView(sec, 'libbpf-1.1');
    const r = loadall(objects.get(sec)!);
    expect(r.ok).toBe(v.accepted && v.autoload === true);
    if (v.accepted && v.autoload) expect(r.type).toBe(BPFTOOL_TYPE[v.progType!]);
    if (!v.accepted) expect(r.stderr).toContain(v.error!);
    if (v.accepted && !v.autoload) expect(r.stderr).toContain("can't pin program that wasn't loaded");
  });

  it('the suggested bpftool command loads a section libbpf 1.1 rejects', () => {
    const obj = objects.get('egress')!;
    expect(loaderView('egress', 'libbpf-1.1').accepted).toBe(false);
    const cmd = suggestSections('tc-egress', { object: obj }).find((s) => s.loader === 'bpftool-7.1')!.commands[0]!;
    const extra = cmd.split(' ').slice(5);
    expect(loadall(obj, extra)).toMatchObject({ ok: true, type: 'sched_cls' });
  });

  it('renaming the section to a suggested name fixes the object for libbpf 1.1', () => {
    const object = join(repoRoot, 'bpf', 'build', 'bpfel', 'provenance_egress.o');
    expect(loadall(object).ok).toBe(false);
    const name = suggestSections('tc-egress').find((s) => s.loader === 'libbpf-1.1')!.sections[0]!;
    const fixed = writeElf(parseElf(new Uint8Array(readFileSync(object))), {
      rename: [{ section: 'egress', name }, { section: '.relegress', name: `.rel${name}` }],
    });
    const out = join(dir, 'fixed.o');
    writeFileSync(out, fixed);
    const r = bpftoolLoadall(bpftool!, out, mkdtempSync('/sys/fs/bpf/bpfts-rules-'));
    expect(r.stderr).not.toContain('failed to guess');
    expect(r.status).toBe(0);
  });
});

describe('other loaders', () => {
  it('tc accepts any section given with sec, and defaults to classifier', () => {
    for (const sec of ['egress', 'classifier', 'xdp_foo']) expect(loaderView(sec, 'tc').accepted).toBe(true);
    expect(loaderView('egress', 'tc').note).toContain('sec egress');
  });

  // aya-obj's ProgramSection::from_str (aya-rs/aya 403a7546).
  it.each([
    ['classifier', true], ['classifier/anything', true], ['tc', false], ['tc/ingress', false], ['tcx/egress', false],
    ['xdp', true], ['xdp/cpumap', true], ['xdp/foo', false], ['xdp/', false], ['sk_skb', false], ['sk_skb/stream_parser', true],
    ['cgroup/connect4', true], ['socket/x', true], ['?tc', false], ['egress', false],
  ] as const)('aya %j → %s', (sec, ok) => {
    expect(loaderView(sec, 'aya').accepted).toBe(ok);
  });

  it('upstream libbpf knows the tcx names that libbpf 1.1 does not', () => {
    const [up, old] = loaderViews('tc/egress');
    expect(up).toMatchObject({ loader: 'libbpf', accepted: true, expectedAttachType: 'BPF_TCX_EGRESS' });
    expect(old).toMatchObject({ loader: 'libbpf-1.1', accepted: false });
    expect(old!.note).toContain('1.3');
    expect(loaderView('egress', 'libbpf', 'handle')).toMatchObject({
      accepted: false, error: "prog 'handle': missing BPF prog type, check ELF section name 'egress'",
    });
  });

  it('suggests commands for each attach intent', () => {
    const tc = suggestSections('tc-egress', { object: 'a.o', dev: 'eth0', section: 'egress' });
    expect(tc.find((s) => s.loader === 'tc')!.commands).toContain('tc filter add dev eth0 egress bpf da obj a.o sec egress');
    expect(tc.find((s) => s.loader === 'bpfts')!.commands).toEqual(['bpfts load a.o --tc egress eth0']);
    expect(suggestSections('tcx-ingress').find((s) => s.loader === 'libbpf')!.sections[0]).toBe('tcx/ingress');
    expect(suggestSections('xdp').find((s) => s.loader === 'libbpf-1.1')!.sections).toContain('xdp');
  });
});
