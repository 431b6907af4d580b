// Externs, resolved as libbpf does when it loads an object (libbpf.c bpf_object__collect_externs,
// bpf_object__resolve_externs): `__kconfig` variables get values from the kernel config and
// libbpf's LINUX_* variables and live in one read-only `.kconfig` array map; `__ksym` variables
// become BTF ids of kernel variables (typed) or kallsyms addresses (typeless); called `__ksym`
// functions (kfuncs) become BTF ids of kernel functions. A missing weak extern is 0.
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';
import type { Btf, BtfType } from '../../btf/index.js';
import { STB_WEAK } from '../../elf/index.js';
import { BPF_CALL, BPF_EXIT, BPF_JMP, BPF_PSEUDO_BTF_ID, BPF_PSEUDO_MAP_VALUE } from '../../isa/index.js';
import { fixupBtf, type BpfObject, type GlobalDataSection, type ProgramRelocation } from '../../object/index.js';
import { BPF_FUNC_get_attach_cookie, bpf_prog_type } from '../../uapi/index.js';
import { progLoad } from '../sys/bpf.js';
import { SyscallError } from '../sys/errors.js';
import { LoadError } from './errors.js';

const KCONFIG = '.kconfig';
const KSYMS = '.ksyms';

/** tools/lib/bpf/bpf_helpers.h: enum libbpf_tristate. */
const TRI_NO = 0;
const TRI_YES = 1;
const TRI_MODULE = 2;

type KcfgType = 'bool' | 'tristate' | 'char' | 'int' | 'char-array';

interface KconfigExtern {
  name: string;
  weak: boolean;
  type: KcfgType;
  size: number;
  signed: boolean;
  offset: number;
}

/** Where the kernel config and libbpf's variables come from; tests and other kernels override. */
export interface ExternSources {
  /** Text of the kernel config (CONFIG_X=y lines); default /boot/config-$(uname -r), else /proc/config.gz. */
  kconfig?: string;
  /** Kernel release for LINUX_KERNEL_VERSION; default uname -r. */
  release?: string;
  /** /proc/kallsyms text, for typeless ksyms. */
  kallsyms?: string;
}

/** What the loader writes into an instruction for an extern. */
export type ExternLoad = { src: number; imm: number; nextImm: number };

export interface ResolvedExterns {
  /** The `.kconfig` map's contents, when the object has kconfig externs. */
  kconfig?: GlobalDataSection;
  /** ld_imm64 of extern `name`; `kconfigFd` is the .kconfig map's descriptor. */
  load(reloc: ProgramRelocation, kconfigFd: () => number): ExternLoad;
  /** Call of kfunc `name`: BTF id (0 for a missing weak one) and fd_array slot (0 = vmlinux). */
  call(reloc: ProgramRelocation): { imm: number; off: number };
  /** Resolved values for reporting: name → description. */
  summary: Map<string, string>;
}

/** KERNEL_VERSION(a, b, c) of linux/version.h as libbpf computes it (patch capped at 255). */
export function kernelVersionCode(rel: string): number {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(rel);
  if (!m) return 0;
  return (Number(m[1]) << 16) + (Number(m[2]) << 8) + Math.min(Number(m[3]), 255);
}

/** The running kernel's config text: /boot/config-RELEASE, else /proc/config.gz, else undefined. */
export function readKernelConfig(rel = release()): string | undefined {
  try {
    return readFileSync(`/boot/config-${rel}`, 'utf8');
  } catch {
    try {
      return gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
    } catch {
      return undefined;
    }
  }
}

/** CONFIG_X=value lines; "# CONFIG_X is not set" means absent, as libbpf reads it. */
export function parseKernelConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

let cookieSupport: boolean | undefined;

/** libbpf's FEAT_BPF_COOKIE probe: can a tracepoint program call bpf_get_attach_cookie? */
function kernelHasBpfCookie(): boolean {
  if (cookieSupport !== undefined) return cookieSupport;
  const insns = new Uint8Array(16);
  insns[0] = BPF_JMP | BPF_CALL;
  new DataView(insns.buffer).setInt32(4, BPF_FUNC_get_attach_cookie, true);
  insns[8] = BPF_JMP | BPF_EXIT;
  try {
    progLoad({ type: bpf_prog_type.BPF_PROG_TYPE_TRACEPOINT, insns, license: 'GPL' }).fd.close();
    cookieSupport = true;
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    cookieSupport = false;
  }
  return cookieSupport;
}

/** The kallsyms prefix of syscall entry points on this architecture (libbpf arch_specific_syscall_pfx). */
function syscallPrefix(): string | undefined {
  return ({ x64: 'x64', ia32: 'ia32', arm64: 'arm64', s390x: 's390x', riscv64: 'riscv', ppc64: 'powerpc', loong64: 'loongarch' } as Record<string, string>)[process.arch];
}

function kcfgType(btf: Btf, typeId: number): { type: KcfgType; size: number; signed: boolean } | undefined {
  const id = btf.skipModsAndTypedefs(typeId);
  const t = btf.type(id);
  if (t.kind === 'ENUM' && t.name === 'libbpf_tristate') return { type: 'tristate', size: t.size, signed: false };
  if (t.kind === 'INT') {
    if (t.bitsOffset !== 0 || t.bits !== t.size * 8) return undefined;
    if (t.encoding & 4) return t.size === 1 ? { type: 'bool', size: 1, signed: false } : undefined;
    // Any other one-byte integer is a char to libbpf (it takes 'y'/'n'/'m' as well as numbers).
    if (t.size === 1) return { type: 'char', size: 1, signed: (t.encoding & 1) !== 0 };
    if ([2, 4, 8].includes(t.size)) return { type: 'int', size: t.size, signed: (t.encoding & 1) !== 0 };
    return undefined;
  }
  if (t.kind === 'ARRAY') {
    const elem = kcfgType(btf, t.type);
    if (elem?.type === 'char') return { type: 'char-array', size: t.nelems, signed: false };
  }
  return undefined;
}

function writeUint(bytes: Uint8Array, off: number, size: number, v: bigint): void {
  for (let i = 0; i < size; i++) bytes[off + i] = Number((v >> BigInt(8 * i)) & 0xffn);
}

/** libbpf's set_kcfg_value_tri / _str / _num for one CONFIG_ value. */
function setKconfigValue(ext: KconfigExtern, value: string, bytes: Uint8Array): string {
  const bad = (why: string): never => {
    throw new LoadError(`extern (kconfig) '${ext.name}': ${why}`, { hint: 'declare it with a type that fits the kernel config value (bool, enum libbpf_tristate, char, an integer or a char array)' });
  };
  if (value === 'y' || value === 'n' || value === 'm') {
    switch (ext.type) {
      case 'bool':
        if (value === 'm') bad(`value 'm' needs a tristate or char type, not bool`);
        bytes[ext.offset] = value === 'y' ? 1 : 0;
        break;
      case 'tristate':
        bytes[ext.offset] = value === 'y' ? TRI_YES : value === 'm' ? TRI_MODULE : TRI_NO;
        break;
      case 'char':
        bytes[ext.offset] = value.charCodeAt(0);
        break;
      default:
        bad(`value '${value}' needs a bool, tristate or char type`);
    }
    return value;
  }
  if (value.startsWith('"')) {
    if (ext.type !== 'char-array') bad(`string value ${value} needs a char array`);
    if (!value.endsWith('"') || value.length < 2) bad(`malformed string value ${value}`);
    const s = new TextEncoder().encode(value.slice(1, -1)).subarray(0, ext.size - 1);
    bytes.set(s, ext.offset);
    return value;
  }
  let n: bigint;
  try {
    n = BigInt(value);
  } catch {
    return bad(`cannot read value '${value}'`);
  }
  if (ext.type !== 'int' && ext.type !== 'char' && ext.type !== 'bool') bad(`numeric value ${value} needs an integer type`);
  if (ext.type === 'bool' && n > 1n) bad(`value ${value} is not a bool`);
  const bits = BigInt(ext.size * 8);
  const fits = ext.signed ? n >= -(1n << (bits - 1n)) && n < 1n << (bits - 1n) : n >= 0n && n < 1n << bits;
  if (!fits) bad(`value ${value} does not fit in ${ext.size} byte(s)`);
  writeUint(bytes, ext.offset, ext.size, BigInt.asUintN(ext.size * 8, n));
  return value;
}

/** The BTF VAR or FUNC named `name` and the DATASEC holding it. */
function externBtf(btf: Btf, name: string): { type: BtfType; section?: string } | undefined {
  const type = btf.find(name, 'VAR') ?? btf.find(name, 'FUNC');
  if (!type) return undefined;
  const sec = btf.types.find((t) => t.kind === 'DATASEC' && t.vars.some((v) => v.type === type.id));
  return { type, ...(sec ? { section: sec.name } : {}) };
}

function parseKallsyms(text: string, wanted: ReadonlySet<string>): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of text.split('\n')) {
    const [addr, , name] = line.split(/\s+/);
    if (!addr || !name || !wanted.has(name)) continue;
    const a = BigInt(`0x${addr}`);
    const prev = out.get(name);
    if (prev !== undefined && prev !== a) throw new LoadError(`extern (ksym) '${name}': resolution is ambiguous: 0x${prev.toString(16)} or 0x${a.toString(16)}`);
    out.set(name, a);
  }
  return out;
}

/**
 * Resolves every extern the chosen programs refer to. `kernel` is the kernel BTF (for typed ksyms
 * and kfuncs), read only when needed.
 */
export function resolveExterns(obj: BpfObject, relocs: readonly ProgramRelocation[], kernel: () => Btf, src: ExternSources = {}): ResolvedExterns {
  const summary = new Map<string, string>();
  const names = new Map<string, ProgramRelocation>();
  for (const r of relocs) if (r.kind === 'extern' || r.kind === 'kfunc') names.set(r.target, r);
  const btf = obj.btf;
  const noBtf = (name: string): never => {
    throw new LoadError(`extern '${name}' has no BTF description, so bpfts cannot tell a kconfig value from a kernel symbol`, {
      hint: 'build the object with clang -g and declare externs with __kconfig or __ksym',
    });
  };

  // .kconfig: the layout fixupBtf gives (libbpf's), values from the config and libbpf's LINUX_*.
  const kconfigVars = new Map<string, KconfigExtern>();
  let kconfig: GlobalDataSection | undefined;
  if (btf && [...names.keys()].some((n) => externBtf(btf, n)?.section === KCONFIG)) {
    const fix = fixupBtf(obj.elf, btf).datasecs.find((d) => d.section === KCONFIG)!;
    const bytes = new Uint8Array(fix.sizeAfter);
    for (const v of fix.vars) {
      const type = kcfgType(btf, (btf.type(v.typeId) as { type: number }).type);
      if (!type) throw new LoadError(`extern (kconfig) '${v.name}' has type ${btf.typeName((btf.type(v.typeId) as { type: number }).type)}, which no kernel config value has`);
      const sym = obj.elf.symbols.find((s) => s.name === v.name);
      kconfigVars.set(v.name, { name: v.name, weak: sym?.bind === STB_WEAK, ...type, offset: v.offsetAfter });
    }
    let config: Map<string, string> | undefined;
    for (const ext of kconfigVars.values()) {
      let value: string | undefined;
      if (ext.name.startsWith('CONFIG_')) {
        config ??= parseKernelConfig(src.kconfig ?? readKernelConfig() ?? '');
        const v = config.get(ext.name);
        if (v !== undefined) value = setKconfigValue(ext, v, bytes);
      } else if (ext.name === 'LINUX_KERNEL_VERSION') {
        if (ext.type !== 'int' || ext.size !== 4) throw new LoadError(`extern (kconfig) 'LINUX_KERNEL_VERSION' must be a 32-bit integer`);
        const code = kernelVersionCode(src.release ?? release());
        writeUint(bytes, ext.offset, 4, BigInt(code));
        value = `0x${code.toString(16)}`;
      } else if (ext.name === 'LINUX_HAS_BPF_COOKIE' || ext.name === 'LINUX_HAS_SYSCALL_WRAPPER') {
        if (ext.type !== 'bool') throw new LoadError(`extern (kconfig) '${ext.name}' must be a bool`);
        const has = ext.name === 'LINUX_HAS_BPF_COOKIE'
          ? kernelHasBpfCookie()
          : parseKallsyms(src.kallsyms ?? readFileSync('/proc/kallsyms', 'utf8'), new Set([`__${syscallPrefix()}_sys_bpf`])).size > 0;
        bytes[ext.offset] = has ? 1 : 0;
        value = has ? '1' : '0';
      } else if (ext.name.startsWith('LINUX_')) {
        throw new LoadError(`extern (kconfig) '${ext.name}': libbpf knows no such LINUX_ variable`, { hint: 'known: LINUX_KERNEL_VERSION, LINUX_HAS_BPF_COOKIE, LINUX_HAS_SYSCALL_WRAPPER' });
      } else {
        throw new LoadError(`extern (kconfig) '${ext.name}': kconfig externs must be CONFIG_* or LINUX_* names`);
      }
      if (value === undefined) {
        if (!ext.weak) {
          throw new LoadError(`extern (kconfig) '${ext.name}': not set in the kernel config`, {
            hint: src.kconfig !== undefined || readKernelConfig() !== undefined ? `declare it __weak to read 0 when the option is off` : 'no kernel config found in /boot/config-$(uname -r) or /proc/config.gz',
          });
        }
        summary.set(ext.name, 'weak, not set: 0');
      } else {
        summary.set(ext.name, value);
      }
    }
    kconfig = { section: KCONFIG, sectionIndex: -1, size: bytes.length, readOnly: true, bytes, variables: fix.vars.map((v) => ({ name: v.name, offset: v.offsetAfter, size: v.size, global: true })) };
  }

  // ksyms and kfuncs.
  const ksyms = new Map<string, ExternLoad>();
  const kfuncs = new Map<string, { imm: number; off: number }>();
  const typeless: string[] = [];
  for (const [name, r] of names) {
    const weak = r.symbol.bind === STB_WEAK;
    if (kconfigVars.has(name)) continue;
    if (!btf) noBtf(name);
    const info = externBtf(btf!, name);
    if (!info) noBtf(name);
    const { type } = info!;
    if (type.kind === 'FUNC') {
      const k = kernel().find(name, 'FUNC');
      if (!k && !weak) throw new LoadError(`kfunc '${name}' is not in the kernel's BTF`, { hint: 'the kernel may be too old for it, or it lives in a module, which bpfts does not search; declare it __weak to load without it' });
      kfuncs.set(name, { imm: k?.id ?? 0, off: 0 });
      summary.set(name, k ? `kfunc [${k.id}]` : 'weak kfunc, missing: 0');
      continue;
    }
    if (info!.section !== KSYMS) throw new LoadError(`extern '${name}' is neither __kconfig nor __ksym (it is in ${info!.section ?? 'no'} section)`);
    const varType = btf!.type(btf!.skipModsAndTypedefs((type as { type: number }).type));
    if (varType.kind === 'VOID') {
      typeless.push(name);
      continue;
    }
    const k = kernel().find(name, 'VAR');
    if (!k && !weak) throw new LoadError(`extern (var ksym) '${name}' is not in the kernel's BTF`, { hint: 'declare it __weak to load without it' });
    ksyms.set(name, k ? { src: BPF_PSEUDO_BTF_ID, imm: k.id, nextImm: 0 } : { src: 0, imm: 0, nextImm: 0 });
    summary.set(name, k ? `kernel var [${k.id}]` : 'weak, missing: 0');
  }
  if (typeless.length > 0) {
    const addrs = parseKallsyms(src.kallsyms ?? readFileSync('/proc/kallsyms', 'utf8'), new Set(typeless));
    for (const name of typeless) {
      const a = addrs.get(name);
      if (a === undefined && names.get(name)!.symbol.bind !== STB_WEAK) {
        throw new LoadError(`extern (ksym) '${name}' is not in /proc/kallsyms`, { hint: 'declare it __weak to load without it' });
      }
      const v = a ?? 0n;
      ksyms.set(name, { src: 0, imm: Number(BigInt.asIntN(32, v & 0xffffffffn)), nextImm: Number(BigInt.asIntN(32, v >> 32n)) });
      summary.set(name, a === undefined ? 'weak, missing: 0' : `0x${a.toString(16)}`);
    }
  }

  return {
    ...(kconfig ? { kconfig } : {}),
    summary,
    load(reloc, kconfigFd) {
      const k = kconfigVars.get(reloc.target);
      if (k) return { src: BPF_PSEUDO_MAP_VALUE, imm: kconfigFd(), nextImm: k.offset };
      const s = ksyms.get(reloc.target);
      if (!s) throw new LoadError(`extern '${reloc.target}' was not resolved`);
      return s;
    },
    call(reloc) {
      const f = kfuncs.get(reloc.target);
      if (!f) throw new LoadError(`kfunc '${reloc.target}' was not resolved`);
      return f;
    },
  };
}
