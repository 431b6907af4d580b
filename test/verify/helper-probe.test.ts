// The helper tables verify and doctor use (src/doctor/helper-data.ts) are what the running kernel
// answers: re-probed here as root, so the committed file cannot silently rot. A few programs then
// show verify and doctor applying the tables, each next to the kernel's verdict on it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { doctor, HELPER_DATA, verify } from '../../src/doctor/index.js';
import { probeHelpers, rejectionReason } from '../../src/loader/raw.js';
import { progLoad, VerifierError, bpf_prog_type } from '../../src/loader/raw.js';
import { readObject } from '../../src/object/index.js';
import { BPF_FUNC_NAMES } from '../../src/uapi/index.js';
import { haveRoot, tool } from '../helpers/env.js';
import { assemble, CALL, EXIT, ins, MOV_R0 } from './asm.js';

const root = haveRoot();
const mc = tool('llvm-mc-19');

function kernel(type: number, code: number[][], license: string): string | undefined {
  try {
    progLoad({ type, insns: Uint8Array.from(code.flat()), license }).fd.close();
    return undefined;
  } catch (e) {
    if (e instanceof VerifierError) return rejectionReason(e.log) ?? 'rejected';
    throw e;
  }
}

describe('the committed helper tables', () => {
  it('name real helpers and the types the probe covers', () => {
    expect(HELPER_DATA.funcMaxId).toBeGreaterThan(200);
    for (const [type, t] of Object.entries(HELPER_DATA.progTypes)) {
      expect(type).toMatch(/^BPF_PROG_TYPE_/);
      for (const h of t.helpers) expect(BPF_FUNC_NAMES.includes(h), `${type}: ${h}`).toBe(true);
      // Every program type gets the map helpers (bpf_base_func_proto).
      expect(t.helpers, type).toContain('map_lookup_elem');
    }
    for (const h of HELPER_DATA.gplOnly) expect(BPF_FUNC_NAMES.includes(h), h).toBe(true);
  });
});

describe.skipIf(!root)('the committed helper tables match the running kernel', () => {
  it('re-probes every program type and helper id', () => {
    const probed = probeHelpers();
    const counts = Object.entries(probed.progTypes).map(([t, v]) => `${t.replace('BPF_PROG_TYPE_', '').toLowerCase()} ${v.helpers.length}`);
    console.log(`Linux ${probed.kernel} (tables from ${HELPER_DATA.kernel}): helper ids below ${probed.funcMaxId}; ${counts.join(', ')}; ${probed.gplOnly.length} GPL-only; not probed: ${Object.keys(probed.notProbed).join(', ')}`);
    const { kernel: _k, ...now } = probed;
    const { kernel: _c, ...committed } = HELPER_DATA;
    expect(now, 'src/doctor/helper-data.ts is out of date: run `npm run build && node scripts/probe-helpers.mjs` as root').toEqual(committed);
  });
});

describe.skipIf(!mc)('verify and doctor apply the probed tables', () => {
  // bpf_get_current_pid_tgid (14) is in bpf_base_func_proto on Linux 6.x: socket filters may call it.
  const pidTgid = [CALL(14), MOV_R0(0), EXIT];
  // bpf_skb_store_bytes (9) writes an skb: not for XDP.
  const storeBytes = [ins(0xb7, 2, 0, 0, 0), ins(0xbf, 3, 10, 0, 0), ins(0x07, 3, 0, 0, -8), ins(0xb7, 4, 0, 0, 4), ins(0xb7, 5, 0, 0, 0), CALL(9), MOV_R0(0), EXIT];

  it('a socket filter calling bpf_get_current_pid_tgid', () => {
    const report = verify(readObject(readFileSync(assemble(mc!, 'pid-tgid', pidTgid, { section: 'socket' }))));
    expect(report.programs[0]!.findings.filter((f) => f.severity === 'error')).toEqual([]);
    if (root) expect(kernel(bpf_prog_type.BPF_PROG_TYPE_SOCKET_FILTER, pidTgid, 'GPL')).toBeUndefined();
  });

  it('an XDP program calling bpf_skb_store_bytes', () => {
    const report = verify(readObject(readFileSync(assemble(mc!, 'store-bytes', storeBytes, { section: 'xdp' }))));
    expect(report.programs[0]!.findings.map((f) => f.message)).toContain('program of this type cannot use helper bpf_skb_store_bytes#9');
    if (root) expect(kernel(bpf_prog_type.BPF_PROG_TYPE_XDP, storeBytes, 'GPL')).toBe('program of this type cannot use helper bpf_skb_store_bytes#9');
  });

  it('GPL-only helpers under a non-GPL license', () => {
    // bpf_trace_printk (6) is GPL-only; bpf_ktime_get_ns (5) is not.
    const printk = [CALL(6), MOV_R0(0), EXIT];
    const ktime = [CALL(5), MOV_R0(0), EXIT];
    const gpl = doctor(readObject(readFileSync(assemble(mc!, 'printk', printk, { section: 'xdp', license: 'Proprietary' }))));
    expect(gpl.findings.map((f) => f.code)).toContain('gpl-only-helper');
    const plain = doctor(readObject(readFileSync(assemble(mc!, 'ktime', ktime, { section: 'xdp', license: 'Proprietary' }))));
    expect(plain.findings.map((f) => f.code)).not.toContain('gpl-only-helper');
    if (root) {
      expect(kernel(bpf_prog_type.BPF_PROG_TYPE_XDP, printk, 'Proprietary')).toMatch(/^cannot call GPL-restricted function/);
      expect(kernel(bpf_prog_type.BPF_PROG_TYPE_XDP, ktime, 'Proprietary')).toBeUndefined();
    }
  });
});
