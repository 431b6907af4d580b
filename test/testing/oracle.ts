// Runs the external oracles (tshark, python3) on frames we built, for the oracle tests.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePcap } from '../../src/testing/index.js';

/** A scratch directory removed by the returned function. */
export function scratch(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'bpfts-testing-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * tshark's decode of each frame: field name -> every occurrence, in dissection order.
 * Checksum verification is switched on and reassembly off so each frame is judged alone.
 */
export function tsharkFields(tshark: string, frames: Uint8Array[], fields: string[]): Map<string, string[]>[] {
  const { dir, cleanup } = scratch();
  try {
    const file = join(dir, 'frames.pcap');
    writeFileSync(file, writePcap(frames));
    const out = execFileSync(
      tshark,
      [
        '-n', '-r', file,
        '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE',
        '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE',
        '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=|',
        ...fields.flatMap((f) => ['-e', f]),
      ],
      { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const rows = out.split('\n').filter((l) => l !== '');
    return rows.map((row) => {
      const cols = row.split('\t');
      return new Map(fields.map((f, i) => [f, cols[i] ? cols[i]!.split('|') : []]));
    });
  } finally {
    cleanup();
  }
}

/** Runs a python3 program with `input` on stdin and returns its stdout. */
export function python(program: string, input: string): string {
  return execFileSync('python3', ['-c', program], { input, encoding: 'utf8', maxBuffer: 64 << 20 });
}
