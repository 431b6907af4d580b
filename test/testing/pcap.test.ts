// Capture files against independent writers and readers: tshark/tcpdump read what we write;
// text2pcap, editcap, tcpdump and a Python struct writer produce what we read. Malformed files fuzz.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  arbFrame,
  formatHex,
  l4ChecksumValid,
  ipv4HeaderChecksumValid,
  parsePacket,
  PcapError,
  readCapture,
  readPacketsFile,
  readPcap,
  readPcapng,
  writePcap,
  findLayer,
} from '../../src/testing/index.js';
import { haveRoot, tool } from '../helpers/env.js';
import { python, scratch } from './oracle.js';

const tshark = tool('tshark');
const text2pcap = tool('text2pcap');
const editcap = tool('editcap');
const tcpdump = tool('tcpdump');
const SEED = Number(process.env.BPFTS_SEED ?? 0x5eed);

const frames = () => fc.sample(arbFrame({ vlan: true }), { seed: SEED, numRuns: 40 }).map((f) => f.bytes);
// Distinct, non-decreasing timestamps with a sub-second part, microsecond precision.
const stamps = (n: number) => Array.from({ length: n }, (_, i) => 1_700_000_000_000_000_000n + BigInt(i) * 1_234_567_000n);

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** text2pcap's input: an offset then hex bytes per line; offset 0 starts a new packet. */
function hexdump(packets: Uint8Array[]): string {
  return packets
    .map((p) => {
      const lines: string[] = [];
      for (let o = 0; o < p.length; o += 16) lines.push(`${o.toString(16).padStart(6, '0')} ${formatHex(p.subarray(o, o + 16), ' ')}`);
      return lines.join('\n');
    })
    .join('\n');
}

describe.skipIf(!tshark || !tcpdump)('files we write, read by tshark and tcpdump', () => {
  it('tshark sees every frame with its length and timestamp; tcpdump reads the same count', () => {
    const data = frames();
    const ts = stamps(data.length);
    const { dir, cleanup } = scratch();
    try {
      const file = join(dir, 'w.pcap');
      writeFileSync(file, writePcap(data.map((d, i) => ({ data: d, timestampNs: ts[i] }))));
      const rows = run(tshark!, ['-r', file, '-T', 'fields', '-e', 'frame.len', '-e', 'frame.cap_len', '-e', 'frame.time_epoch'])
        .trim()
        .split('\n')
        .map((r) => r.split('\t'));
      expect(rows).toHaveLength(data.length);
      rows.forEach(([len, cap, epoch], i) => {
        expect(Number(len)).toBe(data[i]!.length);
        expect(Number(cap)).toBe(data[i]!.length);
        expect(epoch).toBe(`${ts[i]! / 1_000_000_000n}.${(ts[i]! % 1_000_000_000n).toString().padStart(9, '0')}`);
      });
      // One line per packet starts with its time; tcpdump adds hex lines for opcodes it does not know.
      const lines = run(tcpdump!, ['-nn', '-tt', '-r', file]).split('\n').filter((l) => /^\d+\.\d{6} /.test(l));
      expect(lines).toHaveLength(data.length);
      expect(lines[1]!.slice(0, 17)).toBe(`${ts[1]! / 1_000_000_000n}.${((ts[1]! % 1_000_000_000n) / 1000n).toString().padStart(6, '0')}`);
    } finally {
      cleanup();
    }
  });

  it('a snap length cuts the captured bytes and keeps the original length', () => {
    const data = frames().filter((d) => d.length > 60);
    const { dir, cleanup } = scratch();
    try {
      const file = join(dir, 'snap.pcap');
      writeFileSync(file, writePcap(data, { snapLength: 60 }));
      const rows = run(tshark!, ['-r', file, '-T', 'fields', '-e', 'frame.len', '-e', 'frame.cap_len']).trim().split('\n');
      rows.forEach((r, i) => expect(r).toBe(`${data[i]!.length}\t60`));
      const back = readPcap(readFileSync(file));
      expect(back.packets.map((p) => p.originalLength)).toEqual(data.map((d) => d.length));
      expect(back.packets.map((p) => p.data)).toEqual(data.map((d) => d.slice(0, 60)));
    } finally {
      cleanup();
    }
  });
});

describe.skipIf(!text2pcap || !editcap)('files written by text2pcap and editcap', () => {
  it('reads pcap and pcapng made by text2pcap from a hex dump', () => {
    const data = frames();
    const { dir, cleanup } = scratch();
    try {
      writeFileSync(join(dir, 'in.txt'), hexdump(data));
      for (const [format, out] of [['pcap', 'a.pcap'], ['pcapng', 'a.pcapng']] as const) {
        run(text2pcap!, ['-q', '-F', format, join(dir, 'in.txt'), join(dir, out)]);
        const cap = readCapture(readFileSync(join(dir, out)));
        expect(cap.format).toBe(format);
        expect(cap.linkType).toBe(1);
        expect(cap.packets.map((p) => p.data)).toEqual(data);
      }
    } finally {
      cleanup();
    }
  });

  it('reads our file converted by editcap to nanosecond pcap and to pcapng, timestamps kept', () => {
    const data = frames();
    const ts = stamps(data.length);
    const { dir, cleanup } = scratch();
    try {
      writeFileSync(join(dir, 'w.pcap'), writePcap(data.map((d, i) => ({ data: d, timestampNs: ts[i] }))));
      for (const [format, fmt] of [['nsecpcap', 'pcap'], ['pcapng', 'pcapng']] as const) {
        const out = join(dir, `c.${format}`);
        run(editcap!, ['-F', format, join(dir, 'w.pcap'), out]);
        const cap = readCapture(readFileSync(out));
        expect(cap.format).toBe(fmt);
        expect(cap.packets.map((p) => p.data)).toEqual(data);
        expect(cap.packets.map((p) => p.timestampNs)).toEqual(ts);
        expect(cap.packets.every((p) => p.linkType === 1 && p.originalLength === p.data.length)).toBe(true);
      }
    } finally {
      cleanup();
    }
  });
});

// Writes big-endian pcap (usec and nsec) and pcapng files with Python's struct module, from the
// format descriptions, with hex packets on stdin; prints the files as hex, one per line.
const BIG_ENDIAN_PY = `
import sys, struct
pkts = [bytes.fromhex(l) for l in sys.stdin.read().split()]
def pcap(magic, frac):
    out = struct.pack('>IHHiIII', magic, 2, 4, 0, 0, 65535, 1)
    for i, p in enumerate(pkts):
        out += struct.pack('>IIII', 1000 + i, frac(i), len(p), len(p) + 4) + p
    return out
def block(t, body):
    body += b'\\0' * (-len(body) % 4)
    return struct.pack('>II', t, len(body) + 12) + body + struct.pack('>I', len(body) + 12)
def pcapng():
    out = block(0x0A0D0D0A, struct.pack('>IHHq', 0x1A2B3C4D, 1, 0, -1))
    # interface 0: Ethernet, nanosecond resolution (if_tsresol 9); interface 1: raw IP, default usec
    out += block(1, struct.pack('>HHI', 1, 0, 0) + struct.pack('>HH', 9, 1) + bytes([9, 0, 0, 0]) + struct.pack('>HH', 0, 0))
    out += block(1, struct.pack('>HHI', 101, 0, 0))
    out += block(0x00000BAD, b'custom block, to be skipped')
    for i, p in enumerate(pkts):
        ts = (1000 + i) * 10**9 + 7
        out += block(6, struct.pack('>IIIII', 0, ts >> 32, ts & 0xffffffff, len(p), len(p)) + p)
    out += block(6, struct.pack('>IIIII', 1, 0, 1500000, 2, 2) + b'\\x45\\x00')
    return out
print(pcap(0xA1B2C3D4, lambda i: i * 10).hex())
print(pcap(0xA1B23C4D, lambda i: i * 10).hex())
print(pcapng().hex())
`;

describe.skipIf(!tool('python3'))('big-endian files written with Python struct', () => {
  it('reads big-endian microsecond and nanosecond pcap and big-endian pcapng with two interfaces', () => {
    const data = frames().slice(0, 10);
    const [usec, nsec, ng] = python(BIG_ENDIAN_PY, data.map((d) => formatHex(d)).join('\n')).trim().split('\n').map((h) => Buffer.from(h, 'hex'));
    for (const [file, unit] of [[usec!, 1000n], [nsec!, 1n]] as const) {
      const cap = readPcap(file);
      expect(cap.byteOrder).toBe('be');
      expect(cap.packets.map((p) => p.data)).toEqual(data);
      expect(cap.packets.map((p) => p.originalLength)).toEqual(data.map((d) => d.length + 4));
      expect(cap.packets.map((p) => p.timestampNs)).toEqual(data.map((_, i) => BigInt(1000 + i) * 1_000_000_000n + BigInt(i * 10) * unit));
    }
    const cap = readPcapng(ng!);
    expect(cap.byteOrder).toBe('be');
    expect(cap.packets.slice(0, -1).map((p) => p.data)).toEqual(data);
    expect(cap.packets.slice(0, -1).map((p) => p.timestampNs)).toEqual(data.map((_, i) => BigInt(1000 + i) * 1_000_000_000n + 7n));
    expect(cap.packets.at(-1)).toMatchObject({ linkType: 101, interfaceId: 1, timestampNs: 1_500_000_000n, data: Uint8Array.of(0x45, 0) });
    expect(() => readPacketsFile(ng!)).toThrow(/link type 101/);
  });
});

describe.skipIf(!tcpdump || !tool('ping'))('a live capture by tcpdump', () => {
  it.skipIf(!haveRoot())('reads ICMP echoes the kernel sent on the loopback of a private netns, checksums valid', async () => {
    const ns = `bpfts-testing-${process.pid}`;
    const { dir, cleanup } = scratch();
    const file = join(dir, 'live.pcap');
    run('ip', ['netns', 'add', ns]);
    try {
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      const capture = spawn('ip', ['netns', 'exec', ns, tcpdump!, '-i', 'lo', '-U', '-c', '4', '-w', file, 'icmp'], { stdio: 'ignore' });
      const done = new Promise<number | null>((resolve) => capture.on('exit', resolve));
      // tcpdump needs a moment to attach; ping until it has seen its four packets.
      for (let i = 0; i < 50 && capture.exitCode === null; i++) {
        run('ip', ['netns', 'exec', ns, 'ping', '-c', '1', '-W', '1', '127.0.0.1']);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await done).toBe(0);
      const cap = readPcap(readFileSync(file));
      expect(cap.linkType).toBe(1);
      expect(cap.packets).toHaveLength(4);
      for (const p of cap.packets) {
        const parsed = parsePacket(p.data);
        const icmp = findLayer(parsed, 'icmp');
        expect(findLayer(parsed, 'ipv4')).toMatchObject({ src: '127.0.0.1', dst: '127.0.0.1', protocol: 1 });
        expect([0, 8]).toContain(icmp?.type);
        expect(ipv4HeaderChecksumValid(p.data)).toBe(true);
        expect(l4ChecksumValid(p.data)).toBe(true);
      }
    } finally {
      run('ip', ['netns', 'del', ns]);
      cleanup();
    }
  });
});

describe('malformed files', () => {
  const valid = writePcap(frames().slice(0, 3));

  it('throws PcapError (never anything else) on random bytes, cut files and corrupted files', () => {
    const onlyPcapErrors = (bytes: Uint8Array) => {
      try {
        readCapture(bytes);
      } catch (e) {
        if (!(e instanceof PcapError)) throw e;
      }
    };
    const ng = Buffer.from(
      '0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000' + // section header, little-endian
        '01000000140000000100000000000000' + '14000000' + // interface: Ethernet
        '060000002400000000000000000000000000000004000000040000000102030424000000', // one packet
      'hex',
    );
    expect(readPcapng(ng).packets.map((p) => p.data)).toEqual([Uint8Array.of(1, 2, 3, 4)]);
    const seeds = [valid, ng];
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.tuple(fc.constantFrom(...seeds), fc.nat()).map(([s, n]) => s.slice(0, n % (s.length + 1))),
          fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })).map(([s, edits]) => {
            const b = s.slice();
            for (const [at, v] of edits) b[at % b.length] = v;
            return b;
          }),
        ),
        onlyPcapErrors,
      ),
      { numRuns: 3000 },
    );
  });

  it('names what is wrong and where', () => {
    expect(() => readPcap(new Uint8Array(10))).toThrow(/shorter than the 24-byte pcap header/);
    expect(() => readPcap(new Uint8Array(24))).toThrow(/magic 0x00000000 is not a pcap file at offset 0x0/);
    expect(() => readPcap(valid.subarray(0, valid.length - 1))).toThrow(/runs past the end of the file at offset 0x/);
    const zeroBlock = Buffer.from('0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000010000000000000000000000', 'hex');
    expect(() => readPcapng(zeroBlock)).toThrow(/block length 0 .* at offset 0x1c/);
  });
});
