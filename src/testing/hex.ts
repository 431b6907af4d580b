// Hex text <-> bytes, for `bpfts run --packet HEX --packets FILE` and for test fixtures.
import { concatBytes } from './bytes.js';
import { HexError } from './errors.js';

const SEPARATORS = new Set([' ', '\t', ':', '\r']);

function digit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

function parseLine(text: string, line: number | undefined): Uint8Array {
  let start = 0;
  while (start < text.length && SEPARATORS.has(text[start]!)) start++;
  if (text.startsWith('0x', start) || text.startsWith('0X', start)) start += 2;
  const out = new Uint8Array(text.length >> 1);
  let n = 0;
  let high = -1;
  let highColumn = 0;
  for (let i = start; i < text.length; i++) {
    const ch = text[i]!;
    if (SEPARATORS.has(ch)) {
      // A separator may not split a byte: "a b" is a typo, not 0xab.
      if (high >= 0) throw new HexError(`odd number of hex digits before '${ch === '\t' ? '\\t' : ch}'`, line, i + 1);
      continue;
    }
    const d = digit(ch.charCodeAt(0));
    if (d < 0) throw new HexError(`'${ch}' is not a hex digit`, line, i + 1);
    if (high < 0) {
      high = d;
      highColumn = i + 1;
    } else {
      out[n++] = (high << 4) | d;
      high = -1;
    }
  }
  if (high >= 0) throw new HexError('odd number of hex digits', line, highColumn);
  return out.slice(0, n);
}

/**
 * Bytes from hex text such as `"02 00 00 00 00 01"`, `"02:00:00:00:00:01"` or `"0x0200..."`.
 * Whitespace and colons between bytes are ignored; odd digit counts and non-hex characters throw HexError.
 */
export function parseHex(text: string): Uint8Array {
  if (text.includes('\n')) return concatBytes(text.split('\n').map((l, i) => parseLine(l, i + 1)));
  return parseLine(text, undefined);
}

/**
 * One packet per non-empty line; `#` starts a comment. The format of a `--packets` text file.
 */
export function parseHexPackets(text: string): Uint8Array[] {
  const packets: Uint8Array[] = [];
  text.split('\n').forEach((raw, i) => {
    const hash = raw.indexOf('#');
    const line = hash >= 0 ? raw.slice(0, hash) : raw;
    if (line.trim() === '') return;
    packets.push(parseLine(line, i + 1));
  });
  return packets;
}

/** Lower-case hex, bytes joined by `separator` (none by default). */
export function formatHex(bytes: Uint8Array, separator = ''): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) {
    if (i > 0) s += separator;
    s += bytes[i]!.toString(16).padStart(2, '0');
  }
  return s;
}
