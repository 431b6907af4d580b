// Preparing an object's .BTF for BPF_BTF_LOAD: clang leaves every DATASEC's size and its variables'
// offsets at 0 (the final layout is only known from the ELF), which the kernel rejects, and a
// kernel older than the compiler may lack some BTF kinds, which are rewritten in place into kinds
// of the same record size, as libbpf does. Everything here patches a copy of the blob in place, so
// string and type offsets (and with them func_info/line_info) stay valid.
import type { Btf } from '../../btf/index.js';
import {
  BTF_HEADER_SIZE, BTF_KIND_CONST, BTF_KIND_DECL_TAG, BTF_KIND_FLOAT, BTF_KIND_FUNC, BTF_KIND_INT,
  BTF_KIND_STRUCT, BTF_KIND_TYPE_TAG, BTF_MAGIC, BTF_VERSION, BTF_FUNC_STATIC,
} from '../../btf/uapi.js';
import { type ElfFile, STT_SECTION } from '../../elf/index.js';
import { btfLoad } from '../sys/bpf.js';
import type { Fd } from '../sys/fd.js';
import { SyscallError } from '../sys/errors.js';

/** BTF features a kernel may lack, each probed by loading a tiny blob that uses it. */
export interface BtfFeatures {
  float: boolean;
  declTag: boolean;
  typeTag: boolean;
  /** FUNC records with BTF_FUNC_GLOBAL linkage (Linux 5.6). */
  globalFunc: boolean;
}

function info(kind: number, vlen = 0, kflag = false): number {
  return ((kflag ? 1 : 0) << 31) | (kind << 24) | vlen;
}

/** A BTF blob from u32 type words and a string table ("\0"-led). */
export function rawBtf(typeWords: readonly number[], strings: string): Uint8Array {
  const str = new TextEncoder().encode(strings);
  const typeLen = typeWords.length * 4;
  const out = new Uint8Array(BTF_HEADER_SIZE + typeLen + str.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, BTF_MAGIC, true);
  v.setUint8(2, BTF_VERSION);
  v.setUint32(4, BTF_HEADER_SIZE, true);
  v.setUint32(8, 0, true);
  v.setUint32(12, typeLen, true);
  v.setUint32(16, typeLen, true);
  v.setUint32(20, str.length, true);
  typeWords.forEach((w, i) => v.setUint32(BTF_HEADER_SIZE + i * 4, w >>> 0, true));
  out.set(str, BTF_HEADER_SIZE + typeLen);
  return out;
}

const INT32 = [1, info(BTF_KIND_INT), 4, 32];

function loads(blob: Uint8Array): boolean {
  try {
    btfLoad(blob).fd.close();
    return true;
  } catch (e) {
    if (e instanceof SyscallError) return false;
    throw e;
  }
}

let probed: BtfFeatures | undefined;

/** What the running kernel's BTF loader accepts; probed once per process. */
export function probeBtfFeatures(): BtfFeatures {
  probed ??= {
    float: loads(rawBtf([1, info(BTF_KIND_FLOAT), 4], '\0float\0')),
    declTag: loads(rawBtf([...INT32, 5, info(BTF_KIND_DECL_TAG), 1, 0xffffffff], '\0int\0tag\0')),
    typeTag: loads(rawBtf([...INT32, 5, info(BTF_KIND_TYPE_TAG), 1, 0, info(2 /* PTR */), 2], '\0int\0tag\0')),
    globalFunc: loads(rawBtf([...INT32, 0, info(13 /* FUNC_PROTO */), 1, 5, info(BTF_KIND_FUNC, 1), 2], '\0int\0f\0')),
  };
  return probed;
}

/**
 * Sets each DATASEC's size to its ELF section's size and each variable's offset to its symbol's
 * value. DATASECs without an ELF section (extern-only .kconfig/.ksyms) are left as they are.
 */
export function fixupDatasecs(bytes: Uint8Array, btf: Btf, elf: ElfFile): void {
  const le = btf.littleEndian;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const t of btf.ownTypes()) {
    if (t.kind !== 'DATASEC') continue;
    const section = elf.sections.find((s) => s.name === t.name);
    if (!section) continue;
    view.setUint32(t.offset + 8, section.size, le);
    t.vars.forEach((v, i) => {
      const varType = btf.type(v.type);
      const sym = elf.symbols.find((s) => s.shndx === section.index && s.type !== STT_SECTION && s.name === varType.name);
      if (sym) view.setUint32(t.offset + 12 + i * 12 + 4, sym.value, le);
    });
  }
}

/** Rewrites kinds the kernel lacks into kinds of the same record size; returns what was rewritten. */
export function sanitizeBtf(bytes: Uint8Array, btf: Btf, features: BtfFeatures): string[] {
  const le = btf.littleEndian;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const changed = new Set<string>();
  for (const t of btf.ownTypes()) {
    const at = t.offset;
    if (t.kind === 'FLOAT' && !features.float) {
      // A FLOAT becomes an empty struct of the same size: 12 bytes either way.
      view.setUint32(at + 4, info(BTF_KIND_STRUCT), le);
      changed.add('FLOAT→STRUCT');
    } else if (t.kind === 'DECL_TAG' && !features.declTag) {
      // Both carry one extra u32; an INT of 1 byte, 8 bits, is harmless to any reference.
      view.setUint32(at, 0, le);
      view.setUint32(at + 4, info(BTF_KIND_INT), le);
      view.setUint32(at + 8, 1, le);
      view.setUint32(at + 12, 8, le);
      changed.add('DECL_TAG→INT');
    } else if (t.kind === 'TYPE_TAG' && !features.typeTag) {
      view.setUint32(at, 0, le);
      view.setUint32(at + 4, info(BTF_KIND_CONST), le);
      changed.add('TYPE_TAG→CONST');
    } else if (t.kind === 'FUNC' && t.linkage !== BTF_FUNC_STATIC && !features.globalFunc) {
      view.setUint32(at + 4, info(BTF_KIND_FUNC, BTF_FUNC_STATIC), le);
      changed.add('global FUNC→static');
    }
  }
  return [...changed];
}

export interface ObjectBtf {
  fd: Fd;
  /** The blob as loaded, after fixup and sanitizing. */
  bytes: Uint8Array;
  sanitized: string[];
}

/** Loads an object's BTF into the kernel after fixing DATASECs and sanitizing; the caller owns the fd. */
export function loadObjectBtf(raw: Uint8Array, btf: Btf, elf: ElfFile, features: BtfFeatures = probeBtfFeatures()): ObjectBtf {
  const bytes = new Uint8Array(raw);
  fixupDatasecs(bytes, btf, elf);
  const sanitized = sanitizeBtf(bytes, btf, features);
  return { fd: btfLoad(bytes).fd, bytes, sanitized };
}
