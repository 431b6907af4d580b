// Capture files: classic libpcap (read both byte orders, microsecond and nanosecond magic; write
// little-endian microsecond) and pcapng (read: section, interface description, enhanced, simple and
// obsolete packet blocks). Formats: https://www.tcpdump.org/manpages/pcap-savefile.5.html and
// draft-ietf-opsawg-pcapng. Every length is checked against the bytes present before it is used.
import { PcapError } from './errors.js';
import { LINKTYPE_ETHERNET } from './packet/constants.js';

const PCAP_MAGIC_USEC = 0xa1b2c3d4;
const PCAP_MAGIC_NSEC = 0xa1b23c4d;
const PCAP_HEADER_LEN = 24;
const PCAP_RECORD_LEN = 16;

const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_IDB = 0x00000001;
const PCAPNG_OPB = 0x00000002;
const PCAPNG_SPB = 0x00000003;
const PCAPNG_EPB = 0x00000006;
const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const PCAPNG_OPT_ENDOFOPT = 0;
const PCAPNG_IF_TSRESOL = 9;
const PCAPNG_IF_TSOFFSET = 14;

export interface CapturedPacket {
  data: Uint8Array;
  /** Length on the wire; more than `data.length` when the capture was cut at the snap length. */
  originalLength: number;
  /** Nanoseconds since the Unix epoch. */
  timestampNs: bigint;
  linkType: number;
  /** pcapng interface index within its section (0 for classic pcap). */
  interfaceId: number;
}

export interface CaptureFile {
  format: 'pcap' | 'pcapng';
  /** Byte order of the (first) section. */
  byteOrder: 'le' | 'be';
  /** Link type of the file (classic) or of the first interface (pcapng); undefined if it has none. */
  linkType: number | undefined;
  packets: CapturedPacket[];
}

export interface PacketToWrite {
  data: Uint8Array;
  timestampNs?: bigint;
  originalLength?: number;
}

export interface WritePcapOptions {
  linkType?: number;
  snapLength?: number;
}

/** A plain Uint8Array view, so that slices of a Node Buffer come out as copies, not Buffer views. */
function plain(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Reads a classic libpcap file. Throws PcapError for anything malformed or cut short. */
export function readPcap(input: Uint8Array): CaptureFile {
  const bytes = plain(input);
  const dv = view(bytes);
  if (bytes.length < PCAP_HEADER_LEN) throw new PcapError(`file of ${bytes.length} bytes is shorter than the 24-byte pcap header`, 0);
  const magicLe = dv.getUint32(0, true);
  const magicBe = dv.getUint32(0, false);
  let le: boolean;
  let nanos: boolean;
  if (magicLe === PCAP_MAGIC_USEC || magicLe === PCAP_MAGIC_NSEC) {
    le = true;
    nanos = magicLe === PCAP_MAGIC_NSEC;
  } else if (magicBe === PCAP_MAGIC_USEC || magicBe === PCAP_MAGIC_NSEC) {
    le = false;
    nanos = magicBe === PCAP_MAGIC_NSEC;
  } else {
    throw new PcapError(`magic 0x${magicBe.toString(16).padStart(8, '0')} is not a pcap file`, 0);
  }
  const major = dv.getUint16(4, le);
  if (major !== 2) throw new PcapError(`pcap version ${major}.${dv.getUint16(6, le)} is not 2.x`, 4);
  const linkType = dv.getUint32(20, le);
  const packets: CapturedPacket[] = [];
  const fracNs = nanos ? 1n : 1000n;
  let off = PCAP_HEADER_LEN;
  while (off < bytes.length) {
    if (bytes.length - off < PCAP_RECORD_LEN) {
      throw new PcapError(`record header cut short (${bytes.length - off} of 16 bytes)`, off);
    }
    const sec = dv.getUint32(off, le);
    const frac = dv.getUint32(off + 4, le);
    const capLen = dv.getUint32(off + 8, le);
    const origLen = dv.getUint32(off + 12, le);
    if (capLen > bytes.length - off - PCAP_RECORD_LEN) {
      throw new PcapError(`record of ${capLen} captured bytes runs past the end of the file`, off);
    }
    packets.push({
      data: bytes.slice(off + PCAP_RECORD_LEN, off + PCAP_RECORD_LEN + capLen),
      originalLength: origLen,
      timestampNs: BigInt(sec) * 1_000_000_000n + BigInt(frac) * fracNs,
      linkType,
      interfaceId: 0,
    });
    off += PCAP_RECORD_LEN + capLen;
  }
  return { format: 'pcap', byteOrder: le ? 'le' : 'be', linkType, packets };
}

/** A classic little-endian microsecond pcap (what tcpdump -w writes on x86). */
export function writePcap(packets: readonly (Uint8Array | PacketToWrite)[], options: WritePcapOptions = {}): Uint8Array {
  const items = packets.map((p) => (p instanceof Uint8Array ? { data: p } : p));
  const snap = options.snapLength ?? 262144;
  const total = PCAP_HEADER_LEN + items.reduce((n, p) => n + PCAP_RECORD_LEN + Math.min(p.data.length, snap), 0);
  const out = new Uint8Array(total);
  const dv = view(out);
  dv.setUint32(0, PCAP_MAGIC_USEC, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  dv.setUint32(16, snap, true);
  dv.setUint32(20, options.linkType ?? LINKTYPE_ETHERNET, true);
  let off = PCAP_HEADER_LEN;
  for (const p of items) {
    const ts = p.timestampNs ?? 0n;
    if (ts < 0n) throw new PcapError('negative timestamp');
    const len = Math.min(p.data.length, snap);
    dv.setUint32(off, Number(ts / 1_000_000_000n), true);
    dv.setUint32(off + 4, Number((ts % 1_000_000_000n) / 1000n), true);
    dv.setUint32(off + 8, len, true);
    dv.setUint32(off + 12, p.originalLength ?? p.data.length, true);
    out.set(p.data.subarray(0, len), off + PCAP_RECORD_LEN);
    off += PCAP_RECORD_LEN + len;
  }
  return out;
}

interface Interface {
  linkType: number;
  snapLength: number;
  /** Timestamp units per second. */
  unitsPerSecond: bigint;
  offsetSeconds: bigint;
}

function readInterface(bytes: Uint8Array, dv: DataView, start: number, bodyEnd: number, le: boolean): Interface {
  if (bodyEnd - start < 8) throw new PcapError('interface description block too short', start);
  const iface: Interface = {
    linkType: dv.getUint16(start, le),
    snapLength: dv.getUint32(start + 4, le),
    unitsPerSecond: 1_000_000n,
    offsetSeconds: 0n,
  };
  let off = start + 8;
  while (off + 4 <= bodyEnd) {
    const code = dv.getUint16(off, le);
    const len = dv.getUint16(off + 2, le);
    if (code === PCAPNG_OPT_ENDOFOPT) break;
    if (off + 4 + len > bodyEnd) throw new PcapError(`option ${code} runs past its block`, off);
    if (code === PCAPNG_IF_TSRESOL && len >= 1) {
      const r = bytes[off + 4]!;
      const exp = BigInt(r & 0x7f);
      iface.unitsPerSecond = r & 0x80 ? 1n << exp : 10n ** exp;
    } else if (code === PCAPNG_IF_TSOFFSET && len >= 8) {
      iface.offsetSeconds = dv.getBigInt64(off + 4, le);
    }
    off += 4 + ((len + 3) & ~3);
  }
  return iface;
}

/** Reads a pcapng file's packets (all sections). Throws PcapError for anything malformed or cut short. */
export function readPcapng(input: Uint8Array): CaptureFile {
  const bytes = plain(input);
  const dv = view(bytes);
  const packets: CapturedPacket[] = [];
  let le = true;
  let firstOrder: 'le' | 'be' | undefined;
  let interfaces: Interface[] = [];
  let firstLinkType: number | undefined;
  let off = 0;
  while (off < bytes.length) {
    if (bytes.length - off < 12) throw new PcapError(`block header cut short (${bytes.length - off} bytes left)`, off);
    // The section header's type reads the same in both byte orders.
    if (dv.getUint32(off, true) === PCAPNG_SHB) {
      // The section header's byte-order magic decides how this section, its own length included, is read.
      const magic = dv.getUint32(off + 8, true);
      if (magic === PCAPNG_BYTE_ORDER_MAGIC) le = true;
      else if (dv.getUint32(off + 8, false) === PCAPNG_BYTE_ORDER_MAGIC) le = false;
      else throw new PcapError('section header has no byte-order magic', off + 8);
      firstOrder ??= le ? 'le' : 'be';
      interfaces = [];
    } else if (off === 0) {
      throw new PcapError('file does not start with a pcapng section header block', 0);
    }
    const blockType = dv.getUint32(off, le);
    const len = dv.getUint32(off + 4, le);
    if (len < 12 || len % 4 !== 0) throw new PcapError(`block length ${len} is not a multiple of 4 of at least 12`, off);
    if (len > bytes.length - off) throw new PcapError(`block of ${len} bytes runs past the end of the file`, off);
    if (dv.getUint32(off + len - 4, le) !== len) throw new PcapError('block trailing length does not match its leading length', off);
    const body = off + 8;
    const bodyEnd = off + len - 4;
    const cut = (n: number) => {
      if (bodyEnd - body < n) throw new PcapError(`block type ${blockType} too short for its fields`, off);
    };
    switch (blockType) {
      case PCAPNG_SHB: {
        cut(16);
        const major = dv.getUint16(body + 4, le);
        if (major !== 1) throw new PcapError(`pcapng version ${major} is not 1`, body + 4);
        break;
      }
      case PCAPNG_IDB: {
        const iface = readInterface(bytes, dv, body, bodyEnd, le);
        interfaces.push(iface);
        firstLinkType ??= iface.linkType;
        break;
      }
      case PCAPNG_EPB:
      case PCAPNG_OPB: {
        cut(20);
        const epb = blockType === PCAPNG_EPB;
        const ifId = epb ? dv.getUint32(body, le) : dv.getUint16(body, le);
        const iface = interfaces[ifId];
        if (!iface) throw new PcapError(`packet refers to interface ${ifId}, the section has ${interfaces.length}`, body);
        const ts = (BigInt(dv.getUint32(body + 4, le)) << 32n) | BigInt(dv.getUint32(body + 8, le));
        const capLen = dv.getUint32(body + 12, le);
        if (capLen > bodyEnd - body - 20) throw new PcapError(`packet of ${capLen} captured bytes runs past its block`, body + 12);
        packets.push({
          data: bytes.slice(body + 20, body + 20 + capLen),
          originalLength: dv.getUint32(body + 16, le),
          timestampNs: iface.offsetSeconds * 1_000_000_000n + (ts * 1_000_000_000n) / iface.unitsPerSecond,
          linkType: iface.linkType,
          interfaceId: ifId,
        });
        break;
      }
      case PCAPNG_SPB: {
        cut(4);
        const iface = interfaces[0];
        if (!iface) throw new PcapError('simple packet block before any interface description', off);
        const origLen = dv.getUint32(body, le);
        const capLen = Math.min(origLen, iface.snapLength || origLen, bodyEnd - body - 4);
        packets.push({
          data: bytes.slice(body + 4, body + 4 + capLen),
          originalLength: origLen,
          timestampNs: 0n,
          linkType: iface.linkType,
          interfaceId: 0,
        });
        break;
      }
      default:
        // Name resolution, statistics, custom and future blocks carry no packets.
        break;
    }
    off += len;
  }
  return { format: 'pcapng', byteOrder: firstOrder ?? 'le', linkType: firstLinkType, packets };
}

/** Reads either format, chosen by the magic number. */
export function readCapture(bytes: Uint8Array): CaptureFile {
  if (bytes.length >= 4 && view(bytes).getUint32(0, true) === PCAPNG_SHB) return readPcapng(bytes);
  return readPcap(bytes);
}

/** True when the bytes start like a pcap or pcapng file. */
export function isCapture(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const dv = view(bytes);
  const le = dv.getUint32(0, true);
  const be = dv.getUint32(0, false);
  return le === PCAPNG_SHB || [PCAP_MAGIC_USEC, PCAP_MAGIC_NSEC].some((m) => m === le || m === be);
}
