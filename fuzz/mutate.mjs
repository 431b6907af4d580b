// Structure-aware mutations of BPF ELF objects. The layout of each seed (section headers, symbols,
// relocations, BTF header and type records, BTF.ext records, instructions, legacy map definitions)
// is located once by a reader of its own here, independent of src/elf and src/btf, so that a bug
// there cannot hide the fields it misreads from the fuzzer. Mutations overwrite one field of one
// record with a value chosen to sit on a boundary (0, 1, -1, the section size, another record's
// value...), which reaches the deep layers far more often than random bytes do.

/** A small fast PRNG (mulberry32); each iteration gets its own from (seed, iteration). */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    chance: (p) => next() < p,
    u32: () => Math.floor(next() * 4294967296) >>> 0,
  };
}

/** The PRNG of iteration `i` of a campaign with seed `seed`. */
export function iterationRng(seed, i) {
  return rng(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35));
}

const SHT_SYMTAB = 2;
const SHT_RELA = 4;
const SHT_REL = 9;
const SHF_EXECINSTR = 4;

/** Byte length of the extra data after a BTF type record of `kind` with `vlen` entries (or -1: unknown kind). */
function btfExtra(kind, vlen) {
  switch (kind) {
    case 1: case 14: case 17: return 4;
    case 3: return 12;
    case 4: case 5: case 15: case 19: return 12 * vlen;
    case 6: case 13: return 8 * vlen;
    case 2: case 7: case 8: case 9: case 10: case 11: case 12: case 16: case 18: return 0;
    default: return -1;
  }
}

/** Where the fields worth mutating are in `bytes`; every offset is absolute in the file. */
export function layoutOf(bytes) {
  const out = { le: true, fields: [] };
  if (bytes.length < 64 || bytes[0] !== 0x7f || bytes[4] !== 2) return out;
  const le = bytes[5] === 1;
  out.le = le;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (o) => v.getUint16(o, le);
  const u32 = (o) => v.getUint32(o, le);
  const u64 = (o) => Number(v.getBigUint64(o, le));
  const field = (group, at, size) => {
    if (at >= 0 && at + size <= bytes.length) out.fields.push({ group, at, size });
  };
  for (const [at, size] of [[16, 2], [18, 2], [32, 8], [40, 8], [52, 2], [58, 2], [60, 2], [62, 2]]) field('elf-header', at, size);
  const shoff = u64(40);
  const shnum = u16(60);
  if (shoff + shnum * 64 > bytes.length) return out;
  const sections = [];
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * 64;
    for (const [at, size] of [[0, 4], [4, 4], [8, 8], [24, 8], [32, 8], [40, 4], [44, 4], [48, 8], [56, 8]]) field('section-header', h + at, size);
    sections.push({ name: u32(h), type: u32(h + 4), flags: u64(h + 8), offset: u64(h + 24), size: u64(h + 32), link: u32(h + 40), entsize: u64(h + 56) });
  }
  const shstr = sections[u16(62)];
  const nameOf = (s) => {
    if (!shstr) return '';
    let end = shstr.offset + s.name;
    const start = end;
    while (end < bytes.length && end < shstr.offset + shstr.size && bytes[end] !== 0) end++;
    return Buffer.from(bytes.subarray(start, end)).toString('latin1');
  };
  const inFile = (s) => s.offset + s.size <= bytes.length;
  for (const s of sections) {
    if (!inFile(s)) continue;
    const name = nameOf(s);
    if (s.type === SHT_SYMTAB) {
      for (let o = s.offset; o + 24 <= s.offset + s.size; o += 24) {
        for (const [at, size] of [[0, 4], [4, 1], [5, 1], [6, 2], [8, 8], [16, 8]]) field('symbol', o + at, size);
      }
    } else if (s.type === SHT_REL || s.type === SHT_RELA) {
      const step = s.type === SHT_RELA ? 24 : 16;
      for (let o = s.offset; o + step <= s.offset + s.size; o += step) {
        field('relocation', o, 8);
        field('relocation', o + 8, 4);
        field('relocation', o + 12, 4);
      }
    } else if (s.flags & SHF_EXECINSTR) {
      for (let o = s.offset; o + 8 <= s.offset + s.size; o += 8) out.fields.push({ group: 'insn', at: o, size: 8 });
    } else if (name === 'maps') {
      for (let o = s.offset; o + 4 <= s.offset + s.size; o += 4) field('map-def', o, 4);
    } else if (name === '.BTF') {
      btfLayout(s.offset, s.size, u16, u32, field);
    } else if (name === '.BTF.ext') {
      btfExtLayout(s.offset, s.size, u16, u32, field);
    }
  }
  return out;
}

function btfLayout(base, size, u16, u32, field) {
  if (size < 24 || u16(base) !== 0xeb9f) return;
  for (let at = 4; at < 24; at += 4) field('btf-header', base + at, 4);
  const hdrLen = u32(base + 4);
  const typeStart = base + hdrLen + u32(base + 8);
  const typeEnd = typeStart + u32(base + 12);
  if (typeEnd > base + size) return;
  for (let o = typeStart; o + 12 <= typeEnd;) {
    const info = u32(o + 4);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const extra = btfExtra(kind, vlen);
    if (extra < 0) return;
    field('btf-string', o, 4);
    field('btf-type', o + 4, 4);
    field('btf-type', o + 8, 4);
    const body = o + 12;
    if (kind === 3) {
      field('btf-type-id', body, 4);
      field('btf-type-id', body + 4, 4);
      field('map-def', body + 8, 4);
    } else if (kind === 4 || kind === 5 || kind === 15 || kind === 6 || kind === 13 || kind === 19) {
      const step = kind === 6 || kind === 13 ? 8 : 12;
      for (let m = body; m + step <= body + extra; m += step) {
        if (kind === 15) {
          field('btf-type-id', m, 4);
          field('btf-type', m + 4, 4);
          field('btf-type', m + 8, 4);
        } else {
          field('btf-string', m, 4);
          field(kind === 6 || kind === 19 ? 'btf-type' : 'btf-type-id', m + 4, 4);
          if (step === 12) field('btf-type', m + 8, 4);
        }
      }
    } else if (extra === 4) {
      field('btf-type', body, 4);
    }
    o = body + extra;
  }
}

function btfExtLayout(base, size, u16, u32, field) {
  if (size < 24 || u16(base) !== 0xeb9f) return;
  const hdrLen = u32(base + 4);
  for (let at = 4; at + 4 <= Math.min(hdrLen, 32); at += 4) field('btf-ext', base + at, 4);
  const start = base + hdrLen;
  const groups = hdrLen >= 32 ? 3 : 2;
  for (let g = 0; g < groups; g++) {
    let o = start + u32(base + 8 + g * 8);
    const end = o + u32(base + 12 + g * 8);
    if (end > base + size || o + 4 > end) continue;
    const recSize = u32(o);
    field('btf-ext', o, 4);
    if (recSize < 8 || recSize > 64) continue;
    o += 4;
    while (o + 8 <= end) {
      field('btf-ext', o, 4);
      field('btf-ext', o + 4, 4);
      const n = u32(o + 4);
      o += 8;
      for (let r = 0; r < n && o + recSize <= end; r++, o += recSize) {
        for (let at = 0; at < recSize; at += 4) field('btf-ext', o + at, 4);
      }
    }
  }
}

/** Boundary values for a field of `size` bytes that holds `old`. */
function interesting(r, size, old, fileSize) {
  const max = size === 1 ? 0xff : size === 2 ? 0xffff : size === 4 ? 0xffffffff : Number.MAX_SAFE_INTEGER;
  const choices = [
    0, 1, 2, 3, 4, 7, 8, 12, 16, 24, 0x7f, 0x80, 0xff, 0x100, 0xfff, 0x1000, 0x7fff, 0x8000, 0xffff, 0x10000,
    0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
    old + 1, old - 1, old + 4, old - 4, old + 8, old - 8, old * 2, old >>> 1, old ^ (1 << r.int(size * 8 > 31 ? 31 : size * 8)),
    fileSize, fileSize - 1, fileSize + 1, r.int(fileSize + 1), r.u32(),
  ];
  const v = r.pick(choices);
  return ((v % (max + 1)) + (max + 1)) % (max + 1);
}

function readField(v, at, size, le) {
  switch (size) {
    case 1: return v.getUint8(at);
    case 2: return v.getUint16(at, le);
    case 4: return v.getUint32(at, le);
    default: return Number(v.getBigUint64(at, le) & 0x1fffffffffffffn);
  }
}

function writeField(v, at, size, le, value) {
  switch (size) {
    case 1: v.setUint8(at, value); break;
    case 2: v.setUint16(at, value, le); break;
    case 4: v.setUint32(at, value >>> 0, le); break;
    default: v.setBigUint64(at, BigInt(value), le);
  }
}

/** An instruction field: opcode, dst/src registers, off or imm, to a boundary or random value. */
function mutateInsn(r, v, at, le) {
  switch (r.int(5)) {
    case 0: v.setUint8(at, r.chance(0.5) ? r.int(256) : v.getUint8(at) ^ (1 << r.int(8))); break;
    case 1: v.setUint8(at + 1, (v.getUint8(at + 1) & 0xf0) | r.int(16)); break;
    case 2: v.setUint8(at + 1, (v.getUint8(at + 1) & 0x0f) | (r.int(16) << 4)); break;
    case 3: v.setInt16(at + 2, r.pick([0, 1, -1, -2, 2, 0x7fff, -0x8000, r.int(65536) - 32768]), le); break;
    default: v.setInt32(at + 4, r.pick([0, 1, -1, 4, 8, 0x7fffffff, -0x80000000, 212, r.u32() | 0]), le);
  }
}

export const GROUPS = ['elf-header', 'section-header', 'symbol', 'relocation', 'insn', 'map-def', 'btf-header', 'btf-type', 'btf-type-id', 'btf-string', 'btf-ext'];

/**
 * A mutated copy of `seed` (with `layout` from layoutOf(seed)): 1 to 4 structure-aware field edits,
 * sometimes random byte edits or a truncation. Returns the bytes and a description of the edits.
 */
export function mutateObject(r, seed, layout) {
  const bytes = Uint8Array.from(seed);
  const v = new DataView(bytes.buffer);
  const edits = [];
  const n = 1 + r.int(4);
  for (let k = 0; k < n; k++) {
    const roll = r.next();
    if (roll < 0.08 || layout.fields.length === 0) {
      const at = r.int(bytes.length);
      bytes[at] = r.int(256);
      edits.push(`byte@${at}`);
      continue;
    }
    if (roll < 0.1) {
      const cut = r.int(bytes.length);
      edits.push(`truncate@${cut}`);
      return { bytes: bytes.subarray(0, cut), edits };
    }
    const group = r.pick(GROUPS);
    const candidates = layout.fields.filter((f) => f.group === group);
    const f = r.pick(candidates.length ? candidates : layout.fields);
    if (f.group === 'insn') mutateInsn(r, v, f.at, layout.le);
    else writeField(v, f.at, f.size, layout.le, interesting(r, f.size, readField(v, f.at, f.size, layout.le), bytes.length));
    edits.push(`${f.group}@${f.at}`);
  }
  return { bytes, edits };
}

/** Random edits of a byte string (captures, hex text): overwrite, insert, delete, truncate. */
export function mutateBytes(r, seed) {
  let bytes = Uint8Array.from(seed);
  const n = 1 + r.int(4);
  for (let k = 0; k < n && bytes.length > 0; k++) {
    const at = r.int(bytes.length);
    switch (r.int(5)) {
      case 0: {
        const field = Math.min(4, bytes.length - at);
        for (let i = 0; i < field; i++) bytes[at + i] = r.pick([0, 0xff, r.int(256)]);
        break;
      }
      case 1: bytes = Uint8Array.from([...bytes.subarray(0, at), r.int(256), ...bytes.subarray(at)]); break;
      case 2: bytes = Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + 1 + r.int(8))]); break;
      case 3: bytes = bytes.subarray(0, at); break;
      default: bytes[at] ^= 1 << r.int(8);
    }
  }
  return bytes;
}

/** Edits of hex text that keep it made of hex digits, separators and comments. */
export function mutateHexText(r, seed) {
  const alphabet = Buffer.from('0123456789abcdefABCDEF :\n\r\t#x');
  const bytes = Uint8Array.from(seed);
  for (let k = 1 + r.int(3); k > 0 && bytes.length > 0; k--) bytes[r.int(bytes.length)] = r.pick(alphabet);
  return bytes;
}

/** A random JSON value of small depth, for --map and --ctx. */
export function randomJson(r, depth = 0) {
  const roll = r.int(depth > 2 ? 5 : 8);
  switch (roll) {
    case 0: return r.pick([0, 1, -1, 255, 256, 65535, 2 ** 32, 2 ** 53, -(2 ** 63), 1.5, 1e308, NaN]);
    case 1: return r.pick(['', '0', '00', '0x10', 'zz', '0a000001', 'ffffffffffffffffffff', '1f90']);
    case 2: return r.pick([true, false, null]);
    case 3: return r.u32();
    case 4: return String(r.int(1000));
    case 5: return Array.from({ length: r.int(6) }, () => randomJson(r, depth + 1));
    default: {
      const o = {};
      for (let i = r.int(5); i > 0; i--) {
        o[r.pick(['mark', 'priority', 'cb', 'tc_index', 'ifindex', 'pkt_type', 'ingress_ifindex', 'data_meta', 'len', 'addr', 'port', '0', '1', 'x', '__proto__'])] = randomJson(r, depth + 1);
      }
      return o;
    }
  }
}
