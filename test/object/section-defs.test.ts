import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bpf_attach_type, bpf_prog_type } from '../../src/loader/abi/index.js';
import { SECTION_DEFS, matchSection, sectionDefs } from '../../src/object/section-defs.js';
import { loadLibbpf11 } from './libbpf-oracle.js';

const libbpf = loadLibbpf11();

// Names around every pattern of either table: the bare prefix, with extras, with near-miss suffixes.
const probes = [...new Set(SECTION_DEFS.flatMap((d) => {
  const base = d.pattern.replace(/\+$/, '');
  return [base, `${base}/foo`, `${base}/a/b`, `${base}foo`, `${base}_1`, `${base}/`, base.slice(0, -1), `${base}.s`, `x${base}`];
}).concat([
  '', '/', 'egress', 'ingress', 'xdp_foo', 'classifier_foo', 'classifier/foo', 'socket1', 'socket/1', 'tc/ingress',
  'tcx', 'tc/', 'kprobe', 'kprobe/', 'sk_skb/verdict', 'xdp.frags/foo', 'cgroup/sock_create/x', 'prog', 'action/x',
]))];

describe.skipIf(!libbpf)('matchSection(libbpf 1.1) against libbpf.so.1', () => {
  it.each(probes)('%j', (name) => {
    const m = matchSection(name, { libbpf: '1.1' });
    const oracle = libbpf!.progType(name);
    expect(m ? [m.progType, m.expectedAttachType] : undefined).toEqual(oracle);
    // libbpf_attach_type_by_name succeeds exactly for SEC_ATTACHABLE entries.
    const attachable = m?.flags.includes('SEC_ATTACHABLE') ? m.expectedAttachType : undefined;
    expect(attachable).toBe(libbpf!.attachType(name));
  });

  it('agrees on random names built from section-name pieces', () => {
    const piece = fc.constantFrom('tc', 'tcx', 'xdp', 'kprobe', 'socket', 'sk_skb', 'cgroup', 'classifier', 'frags', 'multi',
      'ingress', 'egress', 'verdict', 's', 'w', 'foo', '/', '.', '+', '_', 'tp', 'raw_tp', 'fentry', 'lsm', 'usdt', 'iter');
    fc.assert(fc.property(fc.array(piece, { minLength: 1, maxLength: 5 }), (pieces) => {
      const name = pieces.join('');
      const m = matchSection(name, { libbpf: '1.1' });
      expect(m ? [m.progType, m.expectedAttachType] : undefined).toEqual(libbpf!.progType(name));
    }), { numRuns: 3000 });
  });

  it('every upstream-only entry is unknown to libbpf 1.1, every 1.1 entry known', () => {
    for (const d of SECTION_DEFS) {
      const name = d.pattern.replace(/\+$/, '');
      expect([name, libbpf!.progType(name) !== undefined]).toEqual([name, d.inLibbpf11]);
    }
  });
});

// Facts from libbpf's documentation (Documentation/bpf/libbpf/program_types.rst) and section_defs[].
describe('matchSection(upstream)', () => {
  const cases: [string, keyof typeof bpf_prog_type, keyof typeof bpf_attach_type | undefined][] = [
    ['tc/ingress', 'BPF_PROG_TYPE_SCHED_CLS', 'BPF_TCX_INGRESS'],
    ['tc/egress', 'BPF_PROG_TYPE_SCHED_CLS', 'BPF_TCX_EGRESS'],
    ['tcx/ingress', 'BPF_PROG_TYPE_SCHED_CLS', 'BPF_TCX_INGRESS'],
    ['tcx/egress', 'BPF_PROG_TYPE_SCHED_CLS', 'BPF_TCX_EGRESS'],
    ['netkit/peer', 'BPF_PROG_TYPE_SCHED_CLS', 'BPF_NETKIT_PEER'],
    ['tc', 'BPF_PROG_TYPE_SCHED_CLS', undefined],
    ['classifier', 'BPF_PROG_TYPE_SCHED_CLS', undefined],
    ['xdp', 'BPF_PROG_TYPE_XDP', 'BPF_XDP'],
    ['xdp.frags/devmap', 'BPF_PROG_TYPE_XDP', 'BPF_XDP_DEVMAP'],
    ['kprobe.session/foo', 'BPF_PROG_TYPE_KPROBE', 'BPF_TRACE_KPROBE_SESSION'],
    ['uprobe.multi/bin:fn', 'BPF_PROG_TYPE_KPROBE', 'BPF_TRACE_UPROBE_MULTI'],
    ['uprobe.session.s', 'BPF_PROG_TYPE_KPROBE', 'BPF_TRACE_UPROBE_SESSION'],
    ['cgroup/connect_unix', 'BPF_PROG_TYPE_CGROUP_SOCK_ADDR', 'BPF_CGROUP_UNIX_CONNECT'],
    ['sk_skb/verdict', 'BPF_PROG_TYPE_SK_SKB', 'BPF_SK_SKB_VERDICT'],
    ['netfilter', 'BPF_PROG_TYPE_NETFILTER', 'BPF_NETFILTER'],
    ['tp.s/sched/foo', 'BPF_PROG_TYPE_TRACEPOINT', undefined],
  ];
  it.each(cases)('%s', (name, prog, attach) => {
    const m = matchSection(name, { libbpf: 'upstream' });
    expect(m?.progType).toBe(bpf_prog_type[prog]);
    expect(m?.expectedAttachType).toBe(attach ? bpf_attach_type[attach] : 0);
  });

  it.each(['egress', 'tc/ingress/x', 'tcx', 'xdp_foo', 'classifier_foo', 'socket1', 'kprobefoo', 'tc/'])('%j has no entry', (name) => {
    expect(matchSection(name, { libbpf: 'upstream' })).toBeUndefined();
  });

  it('a leading ? only turns autoload off', () => {
    const m = matchSection('?tc/egress', { libbpf: 'upstream' });
    expect(m?.autoload).toBe(false);
    expect(m?.def.pattern).toBe('tc/egress');
    expect(matchSection('tc/egress', { libbpf: 'upstream' })?.autoload).toBe(true);
    expect(matchSection('??tc', { libbpf: 'upstream' })).toBeUndefined();
  });

  it('keeps SEC_USDT off usdt+ for libbpf 1.1, which predates the flag', () => {
    expect(matchSection('usdt/lib:p:n', { libbpf: 'upstream' })?.flags).toContain('SEC_USDT');
    expect(matchSection('usdt/lib:p:n', { libbpf: '1.1' })?.flags).toEqual([]);
  });

  it('libbpf 1.1 table is a subsequence of the upstream one', () => {
    expect(sectionDefs('1.1').length).toBeLessThan(sectionDefs('upstream').length);
    expect(sectionDefs('1.1').every((d) => d.inLibbpf11)).toBe(true);
  });
});
