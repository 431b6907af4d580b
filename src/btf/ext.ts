import type { Btf } from './btf.js';
import { BtfError } from './errors.js';
import {
  BPF_CORE_RELO_SIZE, BPF_FUNC_INFO_SIZE, BPF_LINE_INFO_LINE_COL, BPF_LINE_INFO_LINE_NUM,
  BPF_LINE_INFO_SIZE, BTF_EXT_HEADER_CORE_SIZE, BTF_EXT_HEADER_MIN_SIZE, BTF_VERSION,
} from './uapi.js';

export interface BtfFuncInfo {
  /** Byte offset of the function's first instruction in its section (as stored: bytes, not insns). */
  insnOff: number;
  /** The FUNC type. */
  typeId: number;
}

export interface BtfLineInfo {
  insnOff: number;
  fileName: string;
  /** The source line's text. */
  line: string;
  lineNum: number;
  column: number;
}

export interface BtfCoreRelo {
  insnOff: number;
  /** The local root type the access string starts from. */
  typeId: number;
  /** "0:1:2" style accessor, e.g. member indices. */
  accessStr: string;
  /** enum bpf_core_relo_kind */
  kind: number;
}

/** One program section's records (keyed by its ELF section name). */
export interface BtfExtSection<T> {
  section: string;
  records: T[];
}

export interface BtfExt {
  littleEndian: boolean;
  funcInfo: BtfExtSection<BtfFuncInfo>[];
  lineInfo: BtfExtSection<BtfLineInfo>[];
  coreRelos: BtfExtSection<BtfCoreRelo>[];
}

/** enum bpf_core_relo_kind names as libbpf prints them. */
export const CORE_RELO_KIND_NAMES = [
  'byte_off', 'byte_sz', 'field_exists', 'signed', 'lshift_u64', 'rshift_u64', 'local_type_id',
  'target_type_id', 'type_exists', 'type_size', 'enumval_exists', 'enumval_value', 'type_matches',
] as const;

/**
 * Parse .BTF.ext: per-section func_info, line_info and CO-RE relocation records. Strings are
 * resolved in `btf` (the object's .BTF). Offsets in errors are relative to the .BTF.ext blob.
 */
export function parseBtfExt(bytes: Uint8Array, btf: Btf): BtfExt {
  if (bytes.length < BTF_EXT_HEADER_MIN_SIZE) throw new BtfError(`.BTF.ext is ${bytes.length} bytes, shorter than its header`, 0);
  let le: boolean;
  if (bytes[0] === 0x9f && bytes[1] === 0xeb) le = true;
  else if (bytes[0] === 0xeb && bytes[1] === 0x9f) le = false;
  else throw new BtfError('bad .BTF.ext magic', 0);
  if (bytes[2] !== BTF_VERSION) throw new BtfError(`unsupported .BTF.ext version ${bytes[2]}`, 2);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hdrLen = view.getUint32(4, le);
  if (hdrLen < BTF_EXT_HEADER_MIN_SIZE || hdrLen > bytes.length) throw new BtfError(`.BTF.ext hdr_len ${hdrLen} is invalid`, 4);
  const str = (off: number, what: string, at: number): string => {
    const s = btf.strings.tryGet(off);
    if (s === undefined) throw new BtfError(`${what} offset ${off} is outside the BTF string section`, at);
    return s;
  };

  function sections<T>(hdrField: number, minRec: number, what: string, read: (o: number) => T): BtfExtSection<T>[] {
    const off = view.getUint32(hdrField, le);
    const len = view.getUint32(hdrField + 4, le);
    if (len === 0) return [];
    const start = hdrLen + off;
    const end = start + len;
    if (end > bytes.length) throw new BtfError(`${what} (off ${off}, len ${len}) runs past the end of .BTF.ext`, hdrField);
    if (off % 4 !== 0) throw new BtfError(`${what} is not 4-byte aligned`, hdrField);
    if (len < 4) throw new BtfError(`${what} has no record size`, start);
    const recSize = view.getUint32(start, le);
    if (recSize < minRec || recSize % 4 !== 0) throw new BtfError(`${what} record size ${recSize} is invalid (at least ${minRec}, a multiple of 4)`, start);
    const out: BtfExtSection<T>[] = [];
    let p = start + 4;
    while (p < end) {
      if (p + 8 > end) throw new BtfError(`${what} section header is cut short`, p);
      const section = str(view.getUint32(p, le), `${what} section name`, p);
      const n = view.getUint32(p + 4, le);
      p += 8;
      if (n === 0) throw new BtfError(`${what} for section ${section} has no records`, p - 4);
      if (n > (end - p) / recSize) throw new BtfError(`${what} for section ${section}: ${n} records of ${recSize} bytes run past the end`, p - 4);
      const records: T[] = new Array(n);
      for (let i = 0; i < n; i++, p += recSize) records[i] = read(p);
      out.push({ section, records });
    }
    return out;
  }

  const funcInfo = sections(8, BPF_FUNC_INFO_SIZE, 'func_info', (o) => {
    const typeId = view.getUint32(o + 4, le);
    if (typeId >= btf.types.length) throw new BtfError(`func_info names type ${typeId}, which does not exist`, o);
    return { insnOff: view.getUint32(o, le), typeId };
  });
  const lineInfo = sections(16, BPF_LINE_INFO_SIZE, 'line_info', (o) => {
    const lineCol = view.getUint32(o + 12, le);
    return {
      insnOff: view.getUint32(o, le),
      fileName: str(view.getUint32(o + 4, le), 'line_info file name', o),
      line: str(view.getUint32(o + 8, le), 'line_info line', o),
      lineNum: BPF_LINE_INFO_LINE_NUM(lineCol),
      column: BPF_LINE_INFO_LINE_COL(lineCol),
    };
  });
  const coreRelos = hdrLen >= BTF_EXT_HEADER_CORE_SIZE
    ? sections(24, BPF_CORE_RELO_SIZE, 'core_relo', (o) => {
      const typeId = view.getUint32(o + 4, le);
      if (typeId >= btf.types.length) throw new BtfError(`CO-RE relocation names type ${typeId}, which does not exist`, o);
      return { insnOff: view.getUint32(o, le), typeId, accessStr: str(view.getUint32(o + 8, le), 'CO-RE access string', o), kind: view.getUint32(o + 12, le) };
    })
    : [];
  return { littleEndian: le, funcInfo, lineInfo, coreRelos };
}
