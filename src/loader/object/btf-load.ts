// Preparing an object's .BTF for BPF_BTF_LOAD: clang leaves every DATASEC's size and its variables'
// offsets at 0 (the final layout is only known from the ELF), which the kernel rejects, and a
// kernel older than the compiler may lack some BTF kinds. Which kinds this kernel has is probed by
// loading tiny BTF blobs, as libbpf does.
import {
  BTF_HEADER_SIZE, BTF_KIND_DECL_TAG, BTF_KIND_FLOAT, BTF_KIND_FUNC, BTF_KIND_INT, BTF_KIND_TYPE_TAG, BTF_MAGIC, BTF_VERSION,
  encodeBtf, sanitizeBtf, type Btf, type BtfFeature,
} from '../../btf/index.js';
import type { ElfFile } from '../../elf/index.js';
import { fixupBtf } from '../../object/index.js';
import { btfLoad } from '../sys/bpf.js';
import type { Fd } from '../sys/fd.js';
import { SyscallError } from '../sys/errors.js';

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

let probed: Set<BtfFeature> | undefined;

const DATASEC_WORDS = [...INT32, 5, info(14 /* VAR */), 1, 1, 7, info(15 /* DATASEC */, 1), 4, 2, 0, 4];

/** The BTF features the running kernel's BTF loader accepts; probed once per process. */
export function probeBtfFeatures(): Set<BtfFeature> {
  if (probed) return probed;
  const probes: Record<BtfFeature, () => boolean> = {
    func: () => loads(rawBtf([...INT32, 0, info(13 /* FUNC_PROTO */), 0, 5, info(BTF_KIND_FUNC, 0), 2], '\0int\0f\0')),
    'global-func': () => loads(rawBtf([...INT32, 0, info(13 /* FUNC_PROTO */), 0, 5, info(BTF_KIND_FUNC, 1), 2], '\0int\0f\0')),
    datasec: () => loads(rawBtf(DATASEC_WORDS, '\0int\0v\0.data\0')),
    'qmark-datasec': () => loads(rawBtf(DATASEC_WORDS, '\0int\0v\0?.dat\0')),
    float: () => loads(rawBtf([1, info(BTF_KIND_FLOAT), 4], '\0float\0')),
    // A tag must annotate a struct, union, variable, function or typedef: tag a typedef of int.
    'decl-tag': () => loads(rawBtf([...INT32, 5, info(8 /* TYPEDEF */), 1, 8, info(BTF_KIND_DECL_TAG), 2, 0xffffffff], '\0int\0td\0tag\0')),
    'type-tag': () => loads(rawBtf([...INT32, 5, info(BTF_KIND_TYPE_TAG), 1, 0, info(2 /* PTR */), 2], '\0int\0tag\0')),
    enum64: () => loads(rawBtf([1, info(19 /* ENUM64 */, 1), 8, 5, 1, 0], '\0e64\0v\0')),
  };
  probed = new Set((Object.keys(probes) as BtfFeature[]).filter((f) => probes[f]()));
  return probed;
}

export interface ObjectBtf {
  fd: Fd;
  /** The blob as loaded, after fixup and sanitizing. */
  bytes: Uint8Array;
  /** Kind rewrites done for this kernel, e.g. "FLOAT→STRUCT". */
  sanitized: string[];
}

/**
 * Loads an object's BTF after the DATASEC/VAR fixup (src/object's fixupBtf) and rewriting the kinds
 * the kernel lacks (src/btf's sanitizeBtf); both keep type ids and existing string offsets, so the
 * object's func_info/line_info and map type ids stay valid. The caller owns the fd.
 */
export function loadObjectBtf(btf: Btf, elf: ElfFile, features: ReadonlySet<BtfFeature> = probeBtfFeatures()): ObjectBtf {
  const { content } = fixupBtf(elf, btf);
  const changes = sanitizeBtf(content, features, btf.startId);
  const bytes = encodeBtf(content);
  const sanitized = [...new Set(changes.map((c) => `${c.from}→${c.to}`))];
  return { fd: btfLoad(bytes).fd, bytes, sanitized };
}
