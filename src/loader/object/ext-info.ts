// The raw func_info and line_info records of .BTF.ext, kept as bytes: BPF_PROG_LOAD wants them with
// their string offsets into the object's BTF, which the parsed model has already resolved away.
import { BpfError } from '../../errors.js';
import type { Btf } from '../../btf/index.js';

/** One record as stored; `insnOff` is the byte offset of its instruction in the ELF section. */
export interface ExtRecord {
  insnOff: number;
  bytes: Uint8Array;
}

export interface ExtInfo {
  recSize: number;
  /** Records per ELF section name, in file order. */
  sections: Map<string, ExtRecord[]>;
}

export interface RawBtfExt {
  funcInfo?: ExtInfo;
  lineInfo?: ExtInfo;
}

/** struct btf_ext_header (tools/lib/bpf/libbpf_internal.h): func_info_off at 8, line_info_off at 16. */
const FUNC_INFO_OFF = 8;
const LINE_INFO_OFF = 16;
const MIN_HEADER = 24;

/**
 * Reads the func_info and line_info subsections. The model's parseBtfExt has already validated the
 * blob, so a malformed one here only means "no records".
 */
export function readRawBtfExt(bytes: Uint8Array, btf: Btf, littleEndian: boolean): RawBtfExt {
  if (bytes.length < MIN_HEADER) return {};
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hdrLen = view.getUint32(4, littleEndian);
  const read = (field: number): ExtInfo | undefined => {
    const off = view.getUint32(field, littleEndian);
    const len = view.getUint32(field + 4, littleEndian);
    if (len < 4) return undefined;
    const start = hdrLen + off;
    const end = start + len;
    if (end > bytes.length) throw new BpfError(`.BTF.ext subsection at ${start} runs past the end`);
    const recSize = view.getUint32(start, littleEndian);
    if (recSize < 8) return undefined;
    const sections = new Map<string, ExtRecord[]>();
    let p = start + 4;
    while (p + 8 <= end) {
      const name = btf.strings.tryGet(view.getUint32(p, littleEndian)) ?? '';
      const n = view.getUint32(p + 4, littleEndian);
      p += 8;
      const records: ExtRecord[] = [];
      for (let i = 0; i < n && p + recSize <= end; i++, p += recSize) {
        records.push({ insnOff: view.getUint32(p, littleEndian), bytes: bytes.subarray(p, p + recSize) });
      }
      sections.set(name, [...(sections.get(name) ?? []), ...records]);
    }
    return { recSize, sections };
  };
  const funcInfo = read(FUNC_INFO_OFF);
  const lineInfo = read(LINE_INFO_OFF);
  return { ...(funcInfo ? { funcInfo } : {}), ...(lineInfo ? { lineInfo } : {}) };
}
