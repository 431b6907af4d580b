// Externs resolved against the running kernel, checked against libbpf: bpftool v7.1 (libbpf 1.1)
// loads the same clang-built object, and the kernel must get the same instructions and the same
// .kconfig map contents (kernel version, config values from /proc/config.gz, LINUX_HAS_BPF_COOKIE,
// weak externs at 0, kallsyms addresses, kfunc BTF ids).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LoadError, ProgramRejectedError, kernelVersionCode, loadObject, mapGetFdById, mapGetInfo, mapLookupElem,
  parseKernelConfig, progGetInfo, progXlatedInsns,
} from '../../src/loader/raw.js';
import { bpftoolLoadall, bpftoolProgram } from '../helpers/bpftool.js';
import { haveRoot, tool } from '../helpers/env.js';
import { maskMapIds } from '../helpers/xlated.js';
import { buildTestObject } from './clang.js';

const root = haveRoot();
const bpftool = root ? tool('bpftool') : undefined;
const clang = tool('clang-19');

describe('kernel config and version helpers', () => {
  it('reads CONFIG_ lines and ignores "is not set" comments', () => {
    const c = parseKernelConfig('# comment\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C="x y"\nCONFIG_D=0x10\n');
    expect([...c]).toEqual([['CONFIG_A', 'y'], ['CONFIG_C', '"x y"'], ['CONFIG_D', '0x10']]);
  });
  it('computes KERNEL_VERSION(a,b,c) with the patch level capped at 255', () => {
    expect(kernelVersionCode('6.18.44-fc-v657')).toBe(6 * 65536 + 18 * 256 + 44);
    expect(kernelVersionCode('4.19.300')).toBe(4 * 65536 + 19 * 256 + 255);
    expect(kernelVersionCode('garbage')).toBe(0);
  });
});

describe.skipIf(!root || !bpftool || !clang)('externs against bpftool prog loadall', () => {
  let build: ReturnType<typeof buildTestObject>;
  const pinDir = `/sys/fs/bpf/bpfts-externs-${process.pid}`;
  beforeAll(() => {
    build = buildTestObject(clang!, 'externs');
  });
  afterAll(() => {
    build?.cleanup();
  });

  it('same instructions and the same .kconfig contents as libbpf', () => {
    const theirs = bpftoolProgram(bpftool!, build.path, pinDir, 'externs');
    const loaded = loadObject(readFileSync(build.path), { objectName: 'externs' });
    try {
      const ours = loaded.programs[0]!;
      expect(maskMapIds(progXlatedInsns(ours.fd))).toEqual(maskMapIds(progXlatedInsns(theirs)));
      expect(ours.tag).toBe(progGetInfo(theirs).tag);
      const theirKconfig = progGetInfo(theirs).mapIds.map((id) => mapGetFdById(id)).find((fd) => {
        if (mapGetInfo(fd).name.endsWith('.kconfig')) return true;
        fd.close();
        return false;
      })!;
      try {
        const ourKconfig = loaded.maps.find((m) => m.spec.objectName === '.kconfig')!;
        const a = mapGetInfo(ourKconfig.fd);
        const b = mapGetInfo(theirKconfig);
        expect([a.name, a.valueSize, a.flags]).toEqual([b.name, b.valueSize, b.flags]);
        expect(mapLookupElem(ourKconfig.fd, new Uint8Array(4), a.valueSize)).toEqual(mapLookupElem(theirKconfig, new Uint8Array(4), b.valueSize));
      } finally {
        theirKconfig.close();
      }
      expect(loaded.externs.get('CONFIG_BPFTS_NO_SUCH_OPTION')).toMatch(/weak/);
      expect(loaded.externs.get('bpfts_no_such_symbol')).toMatch(/weak/);
      expect(loaded.externs.get('bpf_rcu_read_lock')).toMatch(/^kfunc \[\d+\]$/);
    } finally {
      loaded.close();
      theirs.close();
    }
  });

  it('a typed __ksym reaches the kernel as its BTF id: the kernel names the variable, for both loaders', () => {
    const typed = buildTestObject(clang!, 'externs', ['-DTYPED_KSYM']);
    try {
      const theirs = bpftoolLoadall(bpftool!, typed.path, pinDir);
      let err: unknown;
      try {
        loadObject(readFileSync(typed.path), { objectName: 'externs' }).close();
      } catch (e) {
        err = e;
      }
      if (theirs.status === 0) {
        expect(err).toBeUndefined();
      } else {
        // Kernels without CONFIG_KALLSYMS_ALL cannot find data symbols: the verifier says which.
        const line = /ldimm64 failed to find the address for kernel symbol 'bpf_prog_active'/;
        expect(theirs.stderr).toMatch(line);
        expect(err).toBeInstanceOf(ProgramRejectedError);
        expect((err as ProgramRejectedError).log).toMatch(line);
      }
    } finally {
      typed.cleanup();
    }
  });

  it('refuses a non-weak CONFIG_ the kernel config lacks', () => {
    const cfg = readFileSync(build.path);
    let err: unknown;
    try {
      loadObject(cfg, { objectName: 'externs', externs: { kconfig: 'CONFIG_BPF_SYSCALL=y\nCONFIG_BPF_JIT=y\nCONFIG_HZ=100\nCONFIG_DEFAULT_HOSTNAME="x"\n' } }).close();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LoadError);
    expect((err as LoadError).message).toBe("extern (kconfig) 'CONFIG_BPF_LSM': not set in the kernel config");
  });

  it("refuses 'm' for a bool, as libbpf does", () => {
    let err: unknown;
    try {
      loadObject(readFileSync(build.path), { objectName: 'externs', externs: { kconfig: 'CONFIG_BPF_SYSCALL=m\nCONFIG_BPF_LSM=m\nCONFIG_BPF_JIT=y\nCONFIG_HZ=100\nCONFIG_DEFAULT_HOSTNAME="x"\n' } }).close();
    } catch (e) {
      err = e;
    }
    expect((err as LoadError).message).toMatch(/'CONFIG_BPF_SYSCALL': value 'm' needs a tristate or char type/);
  });
});
