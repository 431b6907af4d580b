// verify on hand-made programs: each is assembled by llvm-mc-19 from raw instruction bytes (encoded
// here, not by src/isa) and also loaded into the kernel with BPF_PROG_LOAD, which must agree:
// rejected exactly when verify finds an error, and for the same reason in the same words.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readObject } from '../../src/object/index.js';
import { verify } from '../../src/doctor/index.js';
import { rejectionReason } from '../../src/loader/raw.js';
import { verify as verifyCommand } from '../../src/cli/commands/verify.js';
import { parseCommandArgs } from '../../src/cli/command.js';
import { progLoad, VerifierError, bpf_prog_type } from '../../src/loader/raw.js';
import { corpusDir, haveCorpus, haveRoot, repoRoot, tool } from '../helpers/env.js';
import { assemble as asm, CALL, EXIT, ins, MOV_R0 } from './asm.js';

const root = haveRoot();
const mc = tool('llvm-mc-19');

const cases: { name: string; code: number[][]; section?: string; ok: boolean }[] = [
  { name: 'r0 = 2; exit', code: [MOV_R0(2), EXIT], ok: true },
  { name: 'exit without setting r0', code: [EXIT], ok: false },
  { name: 'read of r2 that was never written', code: [ins(0xbf, 0, 2, 0, 0), EXIT], ok: false },
  { name: 'r1 read after a helper call clobbered it', code: [CALL(7), ins(0xbf, 0, 1, 0, 0), EXIT], ok: false },
  { name: 'r6 survives a helper call', code: [ins(0xb7, 6, 0, 0, 1), CALL(7), ins(0xbf, 0, 6, 0, 0), EXIT], ok: true },
  { name: 'jump out of range', code: [MOV_R0(0), ins(0x05, 0, 0, 5, 0), EXIT], ok: false },
  { name: 'jump backwards out of range', code: [MOV_R0(0), ins(0x05, 0, 0, -3, 0), EXIT], ok: false },
  { name: 'jump into the middle of ld_imm64', code: [ins(0x05, 0, 0, 1, 0), ins(0x18, 0, 0, 0, 1), ins(0, 0, 0, 0, 0), EXIT], ok: false },
  { name: 'ld_imm64 with a bad second slot', code: [ins(0x18, 0, 0, 0, 1), ins(0xb7, 0, 0, 0, 0), EXIT], ok: false },
  { name: 'falls off the end', code: [MOV_R0(0)], ok: false },
  { name: 'unknown opcode', code: [MOV_R0(0), ins(0xff, 0, 0, 0, 0), EXIT], ok: false },
  { name: 'stack below 512 bytes', code: [ins(0x7a, 10, 0, -520, 0), MOV_R0(0), EXIT], ok: false },
  { name: 'stack at 512 bytes', code: [ins(0x7a, 10, 0, -512, 0), MOV_R0(0), EXIT], ok: true },
  { name: 'division by a zero immediate', code: [MOV_R0(4), ins(0x37, 0, 0, 0, 0), EXIT], ok: false },
  { name: 'write to r10', code: [ins(0xb7, 10, 0, 0, 0), MOV_R0(0), EXIT], ok: false },
  { name: 'helper xdp may not call', code: [ins(0xb7, 2, 0, 0, 0), ins(0xbf, 3, 10, 0, 0), ins(0x07, 3, 0, 0, -8), ins(0xb7, 4, 0, 0, 4), CALL(26), MOV_R0(0), EXIT], ok: false },
  { name: 'unknown helper id', code: [CALL(100000), MOV_R0(0), EXIT], ok: false },
  { name: 'conditional branches that both set r0', code: [ins(0x15, 1, 0, 2, 0), MOV_R0(1), ins(0x05, 0, 0, 1, 0), MOV_R0(2), EXIT], ok: true },
  { name: 'r0 set on one branch only', code: [ins(0x61, 2, 1, 0, 0), ins(0x15, 2, 0, 1, 0), MOV_R0(1), EXIT], ok: false },
  // Path feasibility, from cilium-core/bpf_xdp.o cil_xdp_entry (insn 78) and
  // tail_nodeport_nat_ingress_ipv6 (insn 849): a register holds a different constant on each of two
  // joining paths, and a later branch on it leaves the unwritten register's path only where it is set.
  {
    name: 'constant decides the branch that skips an unwritten register',
    code: [
      ins(0x61, 2, 1, 12, 0), MOV_R0(0), ins(0x15, 2, 0, 3, 0), // r2 = ctx->ingress_ifindex; r0 = 0; if r2 == 0 goto 6
      ins(0xb7, 4, 0, 0, 0), ins(0xb7, 9, 0, 0, 7), ins(0x05, 0, 0, 1, 0), // r4 = 0; r9 = 7; goto 7
      ins(0xb7, 4, 0, 0, -22), // 6: r4 = -22 (r9 unwritten)
      ins(0xc6, 4, 0, 1, 0), // 7: if w4 s< 0 goto 9
      ins(0xbf, 0, 9, 0, 0), EXIT, // 8: r0 = r9; 9: exit
    ],
    ok: true,
  },
  {
    name: 'the same with both paths feasible',
    code: [
      ins(0x61, 2, 1, 12, 0), MOV_R0(0), ins(0x15, 2, 0, 3, 0),
      ins(0xb7, 4, 0, 0, 0), ins(0xb7, 9, 0, 0, 7), ins(0x05, 0, 0, 1, 0),
      ins(0x61, 4, 1, 16, 0), // 6: r4 = ctx->rx_queue_index: unknown, both edges of the next branch feasible
      ins(0xc6, 4, 0, 1, 0), ins(0xbf, 0, 9, 0, 0), EXIT,
    ],
    ok: false,
  },
  {
    name: 'equality on the taken edge makes a later inequality test dead',
    code: [
      ins(0x61, 2, 1, 12, 0), MOV_R0(0), ins(0x15, 2, 0, 1, 5), EXIT, // r2 = ctx->ingress_ifindex; if r2 == 5 goto 4; exit
      ins(0x55, 2, 0, 1, 5), EXIT, // 4: if r2 != 5 goto 6; exit
      ins(0xbf, 0, 9, 0, 0), EXIT, // 6: r0 = r9 (never reached)
    ],
    ok: true,
  },
  {
    name: 'helper xdp may not call, behind a branch constants rule out',
    code: [ins(0xb7, 2, 0, 0, 1), ins(0x15, 2, 0, 1, 1), CALL(9), MOV_R0(0), EXIT],
    ok: true,
  },
  {
    name: 'division by zero behind a branch constants rule out',
    code: [MOV_R0(4), ins(0xb7, 2, 0, 0, 1), ins(0x15, 2, 0, 1, 1), ins(0x37, 0, 0, 0, 0), EXIT],
    ok: true,
  },
];

function assemble(name: string, code: number[][], section = 'xdp'): string {
  return asm(mc!, name, code, { section });
}

function kernel(code: number[][]): string | undefined {
  try {
    progLoad({ type: bpf_prog_type.BPF_PROG_TYPE_XDP, insns: Uint8Array.from(code.flat()), license: 'GPL' }).fd.close();
    return undefined;
  } catch (e) {
    if (e instanceof VerifierError) return rejectionReason(e.log) ?? 'rejected';
    if (e instanceof Error) return e.message;
    throw e;
  }
}

describe.skipIf(!mc)('verify on hand-made programs', () => {
  it.each(cases)('$name', ({ name, code, section, ok }) => {
    const report = verify(readObject(readFileSync(assemble(name, code, section))));
    const errors = report.programs.flatMap((p) => p.findings.filter((f) => f.severity === 'error'));
    expect(errors.length === 0, errors.map((e) => e.message).join('; ')).toBe(ok);
    if (!root) return;
    const reason = kernel(code);
    expect(reason === undefined, `kernel: ${reason}`).toBe(ok);
    if (reason && errors.length) {
      // Same words as the kernel, up to details bpfts adds or the kernel adds.
      const key = (s: string): string => s.replace(/\(.*\)|: .*$/g, '').trim();
      expect(errors.some((e) => reason.includes(key(e.message)) || key(e.message).includes(key(reason))), `kernel: ${reason}; verify: ${errors.map((e) => e.message).join('; ')}`).toBe(true);
    }
  });

  it.skipIf(!haveCorpus())('no unwritten-register read on paths constants rule out in cilium-core/bpf_xdp.o (the kernel loads both programs)', () => {
    const report = verify(readObject(readFileSync(join(corpusDir, 'ebpf-samples', 'cilium-core', 'bpf_xdp.o'))));
    for (const name of ['cil_xdp_entry', 'tail_nodeport_nat_ingress_ipv6']) {
      const p = report.programs.find((x) => x.name === name)!;
      expect(p.findings.filter((f) => f.code === 'uninit-read'), name).toEqual([]);
    }
  });

  it('each finding carries the disassembly, and the C line when BTF has it', () => {
    const obj = join(repoRoot, 'bpf', 'build', 'bpfel', 'provenance_egress.o');
    const report = verify(readObject(readFileSync(obj)));
    expect(report.programs[0]!.ok).toBe(true);
    const bad = verify(readObject(readFileSync(assemble('disasm', [ins(0xbf, 0, 2, 0, 0), EXIT]))));
    expect(bad.programs[0]!.findings[0]).toMatchObject({ insn: 0, disasm: 'r0 = r2', message: 'R2 !read_ok' });
  });

  it('the command exits 1 with findings and 0 when clean', async () => {
    let out = '';
    const io = { out: (t: string | Uint8Array) => { out += String(t); }, err: () => {} };
    const bad = assemble('cli-bad', [EXIT]);
    expect(await verifyCommand.run(parseCommandArgs(verifyCommand, [bad]), io)).toBe(1);
    expect(out).toContain('R0 !read_ok');
    out = '';
    const good = assemble('cli-good', [MOV_R0(2), EXIT]);
    expect(await verifyCommand.run(parseCommandArgs(verifyCommand, [good, '--json']), io)).toBe(0);
    expect(JSON.parse(out).ok).toBe(true);
  });
});

describe.skipIf(!mc)('verify on programs too long to walk', () => {
  it('stops at the kernel\'s complexity limit, with its message, as the kernel does for a loop of a million iterations', () => {
    // r1 = 0; loop: r1 += 1; if r1 < 1000000 goto loop; r0 = 0; exit: two instructions a turn, each
    // turn a new state (r1 is compared with a constant, so it is precise), 2,000,000 in all.
    const code = [ins(0xb7, 1, 0, 0, 0), ins(0x07, 1, 0, 0, 1), ins(0xa5, 1, 0, -2, 1_000_000), MOV_R0(0), EXIT];
    const report = verify(readObject(readFileSync(assemble('long loop', code))));
    expect(report.programs[0]!.findings[0]).toMatchObject({ severity: 'error', message: 'BPF program is too large. Processed 1000001 insn' });
    expect(report.programs[0]!.processed).toBe(1_000_001);
  });
});
