// Text forms of MAC, IPv4 and IPv6 addresses. Formatting is canonical (lower case, RFC 5952 for
// IPv6) so that a parsed packet's addresses compare equal to the strings that built it.
import { PacketError } from '../errors.js';

export function parseMac(text: string): Uint8Array {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new PacketError(`'${text}' is not a MAC address (want six hex bytes like 02:00:00:00:00:01)`);
  }
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}

export function formatMac(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(':');
}

export function parseIpv4(text: string): Uint8Array {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255)) {
    throw new PacketError(`'${text}' is not an IPv4 address (want dotted decimal like 10.0.0.1)`);
  }
  return Uint8Array.from(parts, Number);
}

export function formatIpv4(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 4)).join('.');
}

export function parseIpv6(text: string): Uint8Array {
  const bad = () => new PacketError(`'${text}' is not an IPv6 address`);
  let body = text;
  // A trailing dotted quad (::ffff:10.0.0.1) stands for the last two groups.
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.includes('.', lastColon)) {
    let v4: Uint8Array;
    try {
      v4 = parseIpv4(text.slice(lastColon + 1));
    } catch {
      throw bad();
    }
    const g = (i: number) => ((v4[i]! << 8) | v4[i + 1]!).toString(16);
    body = `${text.slice(0, lastColon + 1)}${g(0)}:${g(2)}`;
  }
  const halves = body.split('::');
  if (halves.length > 2) throw bad();
  const parseGroups = (s: string): number[] => {
    if (s === '') return [];
    return s.split(':').map((g) => {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw bad();
      return parseInt(g, 16);
    });
  };
  let groups: number[];
  if (halves.length === 2) {
    const left = parseGroups(halves[0]!);
    const right = parseGroups(halves[1]!);
    const missing = 8 - left.length - right.length;
    if (missing < 1) throw bad();
    groups = [...left, ...new Array<number>(missing).fill(0), ...right];
  } else {
    groups = parseGroups(body);
    if (groups.length !== 8) throw bad();
  }
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/**
 * RFC 5952: lower case, no leading zeros, the longest run (2+) of zero groups as `::`, leftmost on
 * ties, and IPv4-mapped addresses (§5) as `::ffff:a.b.c.d`.
 */
export function formatIpv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `::ffff:${formatIpv4(bytes.subarray(12))}`;
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}
