// Error naming and explanations, checked against Node's own errno table and the verifier's
// log format.
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ERRNO, bpf_cmd, errnoName, explainBpfErrno, rejectionReason, SyscallError, VerifierError } from '../../src/loader/raw.js';
import { BpfError } from '../../src/errors.js';

describe('errno names', () => {
  it('names every errno Node knows as Node does (up to aliases such as EWOULDBLOCK)', () => {
    const aliases = new Set(['EWOULDBLOCK', 'EDEADLOCK', 'ENOTSUP']);
    for (const [name, value] of Object.entries(constants.errno)) {
      if (aliases.has(name)) continue;
      expect([name, errnoName(value)]).toEqual([name, name]);
    }
    expect(errnoName(ERRNO.EPERM)).toBe('EPERM');
    expect(errnoName(524)).toBe('ENOTSUPP');
    expect(errnoName(99999)).toBe('errno 99999');
  });
});

describe('bpf() error explanations', () => {
  it('names privilege and memlock for EPERM, and the log for a rejected program', () => {
    expect(explainBpfErrno(bpf_cmd.BPF_MAP_CREATE, ERRNO.EPERM)).toMatch(/CAP_BPF.*CAP_NET_ADMIN.*RLIMIT_MEMLOCK/);
    expect(explainBpfErrno(bpf_cmd.BPF_PROG_LOAD, ERRNO.EACCES)).toMatch(/verifier/);
    expect(explainBpfErrno(bpf_cmd.BPF_PROG_LOAD, ERRNO.EINVAL)).toMatch(/verifier log/);
    expect(explainBpfErrno(bpf_cmd.BPF_OBJ_GET, ERRNO.ENOENT)).toMatch(/pinned/);
    expect(explainBpfErrno(bpf_cmd.BPF_OBJ_PIN, ERRNO.EEXIST)).toMatch(/already pinned/);
    expect(explainBpfErrno(bpf_cmd.BPF_PROG_LOAD, ERRNO.E2BIG)).toMatch(/instruction limit/);
  });

  it('builds typed errors that carry errno, its name and the command', () => {
    const e = new SyscallError('BPF_MAP_CREATE', ERRNO.EPERM, explainBpfErrno(bpf_cmd.BPF_MAP_CREATE, ERRNO.EPERM));
    expect(e).toBeInstanceOf(BpfError);
    expect(e).toMatchObject({ errno: 1, errnoName: 'EPERM', command: 'BPF_MAP_CREATE', name: 'SyscallError' });
    expect(e.message).toMatch(/^BPF_MAP_CREATE failed with EPERM: /);
  });

  it('picks the verifier\'s reason, not its statistics, from a log', () => {
    const log = '0: R1=ctx() R10=fp0\n0: (95) exit\nR0 !read_ok\nprocessed 1 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n';
    expect(rejectionReason(log)).toBe('R0 !read_ok');
    expect(rejectionReason('')).toBeUndefined();
    const v = new VerifierError('BPF_PROG_LOAD', ERRNO.EACCES, 'rejected', log);
    expect(v).toBeInstanceOf(SyscallError);
    expect(v.log).toBe(log);
    expect(v.message).toContain('verifier: R0 !read_ok');
  });
});
