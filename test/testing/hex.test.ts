// Hex text for `--packet HEX` / `--packets FILE`, and the packets-file loader.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BpfError } from '../../src/errors.js';
import { formatHex, HexError, parseHex, parseHexPackets, readPacketsFile, writePcap } from '../../src/testing/index.js';

describe('parseHex', () => {
  it('accepts spaces, tabs, colons, upper case and a 0x prefix', () => {
    const want = Uint8Array.of(0x02, 0xab, 0x00, 0xff);
    for (const text of ['02ab00ff', '02 ab 00 ff', '02:AB:00:FF', '  0x02ab00FF  ', '02\tab 00:ff\r', '02ab\n00ff']) {
      expect(parseHex(text)).toEqual(want);
    }
    expect(parseHex('')).toEqual(new Uint8Array(0));
  });

  it('rejects odd digit counts, split bytes and non-hex characters with a position', () => {
    const err = (text: string) => {
      try {
        parseHex(text);
      } catch (e) {
        expect(e).toBeInstanceOf(HexError);
        expect(e).toBeInstanceOf(BpfError);
        return (e as HexError).message;
      }
      throw new Error(`accepted ${text}`);
    };
    expect(err('abc')).toBe('odd number of hex digits (column 3)');
    expect(err('a bc')).toBe("odd number of hex digits before ' ' (column 2)");
    expect(err('00 zz')).toBe("'z' is not a hex digit (column 4)");
    expect(err('00\n0g')).toBe("'g' is not a hex digit (line 2, column 2)");
    expect(err('0x0x00')).toBe("'x' is not a hex digit (column 4)");
  });

  it('round-trips any bytes through formatHex with any separator', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.constantFrom('', ' ', ':'), (b, sep) => {
        expect(parseHex(formatHex(b, sep))).toEqual(b);
      }),
    );
  });
});

describe('packets files', () => {
  it('reads one packet per line, skipping blank lines and # comments', () => {
    const text = '# two frames\n0102 03\n\n  # indented comment\nff:ee # trailing comment\n';
    expect(parseHexPackets(text)).toEqual([Uint8Array.of(1, 2, 3), Uint8Array.of(0xff, 0xee)]);
    expect(() => parseHexPackets('00\n0')).toThrow(/line 2/);
  });

  it('readPacketsFile takes hex text or an Ethernet capture', () => {
    const frames = [Uint8Array.of(1, 2, 3), Uint8Array.of(4)];
    expect(readPacketsFile(new TextEncoder().encode('010203\n04\n'))).toEqual(frames);
    expect(readPacketsFile(writePcap(frames))).toEqual(frames);
    expect(() => readPacketsFile(writePcap(frames, { linkType: 101 }))).toThrow(/link type 101/);
    expect(() => readPacketsFile(Uint8Array.of(0xd4, 0xc3, 0xb2, 0xa1, 0))).toThrow(/shorter than the 24-byte pcap header/);
  });
});
