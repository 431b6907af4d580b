// Netlink message encoding and the bounds-checked parsers: round trips, and arbitrary bytes
// never crash, hang or read past the buffer (only NetlinkParseError may come out).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NLA_F_NESTED, NLMSGHDR, RTATTR } from '../../src/loader/abi/index.js';
import { AttrWriter, NetlinkParseError, align, attrStr, attrU32, encodeMessage, parseAttrs, parseMessages } from '../../src/loader/netlink/message.js';

describe('netlink message encoding', () => {
  it('round-trips u32, string and nested attributes, each padded to 4 bytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0x3ffd }), fc.nat({ max: 0xffffffff }), fc.string({ maxLength: 40 }).filter((s) => !s.includes('\0')), (type, value, text) => {
        const bytes = new AttrWriter()
          .u32(type, value)
          .str(type + 1, text)
          .nested(type + 2, (w) => w.u32(1, value ^ 0xffff))
          .finish();
        expect(bytes.length % 4).toBe(0);
        const attrs = parseAttrs(bytes);
        expect(attrU32(attrs.get(type)!, 'u32')).toBe(value);
        expect(attrStr(attrs.get(type + 1)!)).toBe(text);
        expect(attrU32(parseAttrs(attrs.get(type + 2)!).get(1)!, 'nested')).toBe((value ^ 0xffff) >>> 0);
        // The nested flag is on the wire but stripped when parsing.
        expect(new DataView(bytes.buffer).getUint16(RTATTR.size + 4 + align(RTATTR.size + new TextEncoder().encode(text).length + 1) + 2, true)).toBe((type + 2) | NLA_F_NESTED);
      }),
    );
  });

  it('frames messages with nlmsghdr and splits concatenated datagrams back', () => {
    const a = encodeMessage(18, 0x5, 7, new Uint8Array(16), new AttrWriter().str(3, 'lo').finish());
    const b = encodeMessage(3, 0x2, 8, new Uint8Array(4));
    const msgs = parseMessages(new Uint8Array([...a, ...b]));
    expect(msgs.map((m) => [m.type, m.flags, m.seq, m.payload.length])).toEqual([
      [18, 5, 7, 16 + 8],
      [3, 2, 8, 4],
    ]);
    expect(new DataView(a.buffer).getUint32(0, true)).toBe(a.length);
    expect(a.length).toBe(NLMSGHDR.size + 16 + 8);
  });

  it('rejects arbitrary bytes only with NetlinkParseError and never reads beyond them', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        for (const parse of [parseMessages, parseAttrs]) {
          try {
            const out = parse(bytes);
            const parts = out instanceof Map ? [...out.values()] : out.map((m) => m.payload);
            for (const p of parts) {
              expect(p.byteOffset + p.byteLength).toBeLessThanOrEqual(bytes.byteOffset + bytes.byteLength);
            }
          } catch (e) {
            expect(e).toBeInstanceOf(NetlinkParseError);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('reports a truncated attribute instead of reading a short value', () => {
    const attrs = parseAttrs(new AttrWriter().bytes(1, Uint8Array.of(1, 2)).finish());
    expect(() => attrU32(attrs.get(1)!, 'IFLA_MTU')).toThrow(NetlinkParseError);
  });
});
