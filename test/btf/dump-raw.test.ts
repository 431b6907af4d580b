import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { btfFromFile, dumpRawBytes } from '../../src/btf/index.js';
import { tool } from '../helpers/env.js';
import { BtfBuilder, KIND } from './builder.js';

// The raw dump writes numbers digit by digit, names and fixed text four bytes at a time while
// there is room and byte by byte near the end of its buffer, and grows the buffer mid-record when a
// dump is much larger than its BTF. bpftool prints the same files: its bytes are the expectation.

function bpftoolDump(bytes: Uint8Array): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'btf-raw-'));
  try {
    const file = join(dir, 'test.btf');
    writeFileSync(file, bytes);
    return execFileSync('bpftool', ['btf', 'dump', 'file', file], { maxBuffer: 1 << 28 });
  } finally {
    rmSync(dir, { recursive: true });
  }
}

function expectSameAsBpftool(bytes: Uint8Array): void {
  const ours = Buffer.from(dumpRawBytes(btfFromFile(bytes)));
  const expected = bpftoolDump(bytes);
  expect(ours.length).toBe(expected.length);
  expect(ours.equals(expected)).toBe(true);
}

/** Structs of anonymous members with the widest offsets: about 44 bytes of text per 12-byte member. */
function wideStructs(kflag: boolean): BtfBuilder {
  const b = new BtfBuilder();
  b.type('int', KIND.INT, 0, false, 4, (1 << 24) | 32);
  for (let s = 0; s < 200; s++) {
    const members: number[] = [];
    for (let m = 0; m < 250; m++) {
      const offset = kflag ? (((m % 32) << 24) | (0xffffff - m)) >>> 0 : 0xffffffff - s * 250 - m;
      members.push(0, 1, offset);
    }
    b.type('', KIND.STRUCT, 250, kflag, 0xffffffff - s, ...members);
  }
  return b;
}

/** Names of every length up to 70 bytes, some with UTF-8 bytes, the longest last in the table. */
function names(): BtfBuilder {
  const b = new BtfBuilder();
  b.type('int', KIND.INT, 0, false, 4, (1 << 24) | 32);
  for (let n = 1; n <= 70; n++) {
    const name = Array.from({ length: n }, (_, i) => String.fromCharCode(97 + ((n + i) % 26))).join('');
    b.type(name, KIND.TYPEDEF, 0, false, 1);
    b.type(`${name.slice(0, n >> 1)}é€${name.slice(n >> 1)}`, KIND.TYPEDEF, 0, false, 1);
  }
  b.type('s', KIND.STRUCT, 3, false, 12, b.str('m'), 1, 0, b.str('mm'), 1, 32, b.str('mmmmm'), 1, 64);
  b.type('the_last_string_in_the_table_is_this_one', KIND.FUNC_PROTO, 1, false, 1, b.str('zz_last'), 1);
  return b;
}

/** Values at every decimal width and at the signed/unsigned 32-bit edges. */
function numbers(): BtfBuilder {
  const b = new BtfBuilder();
  b.type('int', KIND.INT, 0, false, 4, (1 << 24) | 32);
  const edges = [0, 9, 10, 99, 100, 999, 1000, 9999, 10000, 99999, 100000, 999999, 1000000, 9999999, 10000000,
    99999999, 100000000, 999999999, 1000000000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
  for (const n of edges) b.type('', KIND.ARRAY, 0, false, 0, 1, 1, n);
  const values = edges.flatMap((v, i) => [b.str(`V${i}`), v]);
  b.type('unsigned_e', KIND.ENUM, edges.length, false, 4, ...values);
  b.type('signed_e', KIND.ENUM, edges.length, true, 4, ...values);
  b.type('tag', KIND.DECL_TAG, 0, false, 1, -1);
  b.type('tag2', KIND.DECL_TAG, 0, false, 1, 0x7fffffff);
  b.type('tag3', KIND.DECL_TAG, 0, false, 1, 0x80000000);
  return b;
}

describe.skipIf(!tool('bpftool'))('raw dump writer matches bpftool at its edges', () => {
  it.each([false, true])('a dump 3.7 times its BTF, kind_flag=%s (buffer grows mid-record)', (kflag) => {
    expectSameAsBpftool(wideStructs(kflag).build());
  });

  it.each([true, false])('names of every length and UTF-8 names, littleEndian=%s', (le) => {
    expectSameAsBpftool(names().build(le));
  });

  it.each([true, false])('numbers of every width and 32-bit edge, littleEndian=%s', (le) => {
    expectSameAsBpftool(numbers().build(le));
  });
});
