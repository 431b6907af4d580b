// Programs attached by BTF id (fentry, fexit, lsm, tp_btf, iter): bpfts finds the target in vmlinux
// BTF where libbpf does and the kernel gets the same program; bpftool v7.1 (libbpf 1.1) and its
// dump of /sys/kernel/btf/vmlinux are the oracles. A tp_btf program is attached with
// BPF_LINK_CREATE and seen to run.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  LoadError, SyscallError, findAttachBtfId, linkCreate, loadObject, mapLookupElem, objGet, progGetInfo, vmlinuxBtf,
} from '../../src/loader/raw.js';
import { bpf_attach_type } from '../../src/uapi/index.js';
import { bpftoolLoadall, withBpftoolLoadall } from '../helpers/bpftool.js';
import { corpusDir, haveCorpus, haveRoot, tool } from '../helpers/env.js';
import { buildTestObject } from './clang.js';

const root = haveRoot();
const bpftool = root ? tool('bpftool') : undefined;
const clang = tool('clang-19');

const CASES = [
  { section: 'fentry/tcp_connect', btf: "FUNC 'tcp_connect'" },
  { section: 'fexit/tcp_connect', btf: "FUNC 'tcp_connect'" },
  { section: 'lsm/file_open', btf: "FUNC 'bpf_lsm_file_open'" },
  { section: 'tp_btf/sched_switch', btf: "TYPEDEF 'btf_trace_sched_switch'" },
  { section: 'iter/task', btf: "FUNC 'bpf_iter_task'" },
];

describe.skipIf(!root || !bpftool || !clang)('BTF-attached programs against bpftool', () => {
  const pinDir = `/sys/fs/bpf/bpfts-btfattach-${process.pid}`;
  let vmlinuxIds: Map<string, number>;
  beforeAll(() => {
    const dump = execFileSync(bpftool!, ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux'], { encoding: 'utf8', maxBuffer: 1 << 30 });
    vmlinuxIds = new Map();
    for (const m of dump.matchAll(/^\[(\d+)\] ((?:FUNC|TYPEDEF) '[^']+')/gm)) if (!vmlinuxIds.has(m[2]!)) vmlinuxIds.set(m[2]!, Number(m[1]));
  }, 60_000);

  for (const c of CASES) {
    it(`${c.section}: target ${c.btf}, and the kernel's verdict is libbpf's`, () => {
      const build = buildTestObject(clang!, 'btf_attach', [`-DSEC_NAME="${c.section}"`]);
      try {
        const expectedId = vmlinuxIds.get(c.btf);
        expect(expectedId).toBeGreaterThan(0);
        const section = c.section;
        const attachType = { fentry: bpf_attach_type.BPF_TRACE_FENTRY, fexit: bpf_attach_type.BPF_TRACE_FEXIT, lsm: bpf_attach_type.BPF_LSM_MAC, tp_btf: bpf_attach_type.BPF_TRACE_RAW_TP, iter: bpf_attach_type.BPF_TRACE_ITER }[section.split('/')[0]!]!;
        expect(findAttachBtfId('prog', section, undefined, attachType, vmlinuxBtf()).btfId).toBe(expectedId);

        withBpftoolLoadall(bpftool!, build.path, pinDir, (theirs) => {
          let ours: ReturnType<typeof loadObject> | undefined;
          let ourError: unknown;
          try {
            ours = loadObject(readFileSync(build.path), { objectName: 'btf_attach' });
          } catch (e) {
            ourError = e;
          }
          try {
            if (theirs.status === 0) {
              expect(ourError).toBeUndefined();
              const pinned = objGet(`${pinDir}/prog`);
              try {
                const info = progGetInfo(pinned);
                const mine = progGetInfo(ours!.programs[0]!.fd);
                expect([mine.tag, mine.attachBtfId, mine.type]).toEqual([info.tag, info.attachBtfId, info.type]);
                expect(mine.attachBtfId).toBe(expectedId);
              } finally {
                pinned.close();
              }
            } else {
              // This kernel refuses trampoline programs (fentry/fexit/lsm) with EPERM, libbpf included.
              expect(ourError).toBeInstanceOf(LoadError);
              expect(((ourError as LoadError).cause as SyscallError).errnoName).toBe('EPERM');
              expect(theirs.stderr).toContain('Operation not permitted');
            }
          } finally {
            ours?.close();
          }
        });
      } finally {
        build.cleanup();
      }
    });
  }

  it('a tp_btf program attached with BPF_LINK_CREATE runs on sched_switch', async () => {
    const build = buildTestObject(clang!, 'btf_attach', ['-DSEC_NAME="tp_btf/sched_switch"']);
    const loaded = loadObject(readFileSync(build.path), { objectName: 'btf_attach' });
    try {
      const link = linkCreate({ prog: loaded.programs[0]!.fd, attachType: bpf_attach_type.BPF_TRACE_RAW_TP });
      try {
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        link.close();
      }
      const bss = loaded.maps.find((m) => m.spec.objectName === '.bss')!;
      const hits = new DataView(mapLookupElem(bss.fd, new Uint8Array(4), 8)!.buffer).getBigUint64(0, true);
      expect(hits).toBeGreaterThan(0n);
    } finally {
      loaded.close();
      build.cleanup();
    }
  });

  it.skipIf(!haveCorpus())('cilium-examples fentry_bpf_bpfel.o: attach target tcp_connect, loaded or refused as the kernel refuses trampolines', () => {
    let err: unknown;
    try {
      loadObject(readFileSync(`${corpusDir}/ebpf-samples/cilium-examples/fentry_bpf_bpfel.o`), { objectName: 'fentry_bpf_bpfel' }).close();
    } catch (e) {
      err = e;
    }
    const minimal = buildTestObject(clang!, 'btf_attach', ['-DSEC_NAME="fentry/tcp_connect"']);
    try {
      const kernelTakesFentry = bpftoolLoadall(bpftool!, minimal.path, pinDir).status === 0;
      if (kernelTakesFentry) expect(err).toBeUndefined();
      else expect(((err as LoadError).cause as SyscallError).errnoName).toBe('EPERM');
    } finally {
      minimal.cleanup();
    }
  });
});
