// Which attach point a program is most likely meant for, from its section name, what libbpf makes
// of it, and what its code does with its context (struct __sk_buff vs struct xdp_md offsets and
// context-specific helpers).
import { decodeProgram, BPF_ALU, BPF_ALU64, BPF_CALL, BPF_JMP, BPF_LD, BPF_LDX, BPF_MOV, BPF_X } from '../isa/index.js';
import { matchSection, type AttachIntent, type BpfProgram } from '../object/index.js';
import { bpf_attach_type, bpf_prog_type, enumName } from '../uapi/index.js';
import { helperByID } from './helpers.js';

export interface Intent {
  intent: AttachIntent;
  /** Why bpfts thinks so, for the report. */
  reason: string;
}

/** include/uapi/linux/bpf.h: struct __sk_buff data / data_end and struct xdp_md data / data_end. */
const SKB_DATA = 76;
const SKB_DATA_END = 80;
const XDP_DATA = 0;
const XDP_DATA_END = 4;
/** sizeof(struct xdp_md) */
const XDP_MD_SIZE = 24;

const SKB_HELPERS = new Set(['skb_load_bytes', 'skb_store_bytes', 'l3_csum_replace', 'l4_csum_replace', 'skb_change_proto', 'skb_adjust_room', 'skb_pull_data', 'clone_redirect', 'skb_vlan_push', 'skb_vlan_pop']);
const XDP_HELPERS = new Set(['xdp_adjust_head', 'xdp_adjust_tail', 'xdp_adjust_meta', 'redirect_map']);

function words(section: string): string[] {
  return section.replace(/^\?/, '').split(/[/._\-]+/).filter(Boolean);
}

/**
 * What the code does with its context: loads through r1 (or a copy) before it is redefined, legacy
 * packet loads (socket filters and tc only), and helpers that exist for one context only.
 */
function codeHints(p: BpfProgram, littleEndian: boolean): { skb: string[]; xdp: string[] } {
  const { insns } = decodeProgram(p.bytes, littleEndian);
  const ctxRegs = new Set([1]);
  const offsets = new Set<number>();
  const skb: string[] = [];
  const xdp: string[] = [];
  for (const insn of insns) {
    if (insn.cls === BPF_LDX && ctxRegs.has(insn.src)) offsets.add(insn.off);
    if (insn.cls === BPF_LD && insn.slots === 1) skb.push('uses legacy packet loads (LD_ABS/LD_IND)');
    if (insn.opcode === (BPF_JMP | BPF_CALL) && insn.src === 0) {
      const name = helperByID(insn.imm);
      if (name && SKB_HELPERS.has(name)) skb.push(`calls bpf_${name}`);
      if (name && XDP_HELPERS.has(name)) xdp.push(`calls bpf_${name}`);
    }
    // Track copies of the context pointer; any other write to a tracked register ends it.
    const writesDst = insn.cls === BPF_ALU64 || insn.cls === BPF_ALU || insn.cls === BPF_LDX || insn.slots === 2;
    if (insn.opcode === (BPF_ALU64 | BPF_MOV | BPF_X) && ctxRegs.has(insn.src)) ctxRegs.add(insn.dst);
    else if (writesDst) ctxRegs.delete(insn.dst);
    if (insn.opcode === (BPF_JMP | BPF_CALL)) for (let r = 1; r <= 5; r++) ctxRegs.delete(r);
  }
  if (offsets.has(SKB_DATA) || offsets.has(SKB_DATA_END)) skb.push(`reads __sk_buff data/data_end (ctx+${SKB_DATA}/+${SKB_DATA_END})`);
  else if ([...offsets].some((o) => o >= XDP_MD_SIZE)) skb.push(`reads ctx+${Math.max(...offsets)}, past the end of struct xdp_md`);
  else if (offsets.has(XDP_DATA) && offsets.has(XDP_DATA_END)) xdp.push(`reads xdp_md data/data_end (ctx+${XDP_DATA}/+${XDP_DATA_END})`);
  return { skb, xdp };
}

/** The attach point the program is most likely written for, or undefined when nothing suggests one. */
export function inferIntent(p: BpfProgram, littleEndian: boolean): Intent | undefined {
  const w = words(p.section);
  const dir = w.includes('egress') ? 'egress' : w.includes('ingress') ? 'ingress' : undefined;
  const m = matchSection(p.section, { libbpf: 'upstream' });
  if (m) {
    const type = enumName(bpf_prog_type, m.progType);
    const attach = m.expectedAttachType ? enumName(bpf_attach_type, m.expectedAttachType) : undefined;
    const why = `libbpf gives section '${p.section}' ${type}${attach ? ` (${attach})` : ''}`;
    if (type === 'BPF_PROG_TYPE_SCHED_CLS' || type === 'BPF_PROG_TYPE_SCHED_ACT') {
      if (attach === 'BPF_TCX_EGRESS') return { intent: 'tcx-egress', reason: why };
      if (attach === 'BPF_TCX_INGRESS') return { intent: 'tcx-ingress', reason: why };
      return { intent: dir === 'egress' ? 'tc-egress' : 'tc-ingress', reason: why };
    }
    if (type === 'BPF_PROG_TYPE_XDP') return { intent: 'xdp', reason: why };
    if (type === 'BPF_PROG_TYPE_SOCKET_FILTER') return { intent: 'socket-filter', reason: why };
    if (type === 'BPF_PROG_TYPE_CGROUP_SKB') return { intent: attach === 'BPF_CGROUP_INET_EGRESS' ? 'cgroup-skb-egress' : 'cgroup-skb-ingress', reason: why };
    return undefined;
  }
  if (/^socket/.test(p.section.replace(/^\?/, ''))) return { intent: 'socket-filter', reason: `the section name '${p.section}' says socket (samples/bpf's socketN naming)` };
  if (w.includes('xdp')) return { intent: 'xdp', reason: `the section name '${p.section}' says xdp` };
  if (dir && w.includes('cgroup')) {
    return { intent: dir === 'egress' ? 'cgroup-skb-egress' : 'cgroup-skb-ingress', reason: `the section name '${p.section}' says cgroup ${dir}` };
  }
  if (dir && w.includes('tcx')) return { intent: dir === 'egress' ? 'tcx-egress' : 'tcx-ingress', reason: `the section name '${p.section}' says tcx ${dir}` };
  const hints = codeHints(p, littleEndian);
  if (hints.skb.length > 0 && hints.xdp.length === 0) {
    return { intent: dir === 'egress' ? 'tc-egress' : 'tc-ingress', reason: `a sched_cls-looking program: it ${[...new Set(hints.skb)].join(', ')}${dir ? `, and its section says ${dir}` : ''}` };
  }
  if (hints.xdp.length > 0 && hints.skb.length === 0) return { intent: 'xdp', reason: `an XDP-looking program: it ${[...new Set(hints.xdp)].join(', ')}` };
  if (dir || w.includes('classifier') || w.includes('tc') || w.includes('action')) {
    return { intent: dir === 'egress' ? 'tc-egress' : 'tc-ingress', reason: `the section name '${p.section}' is a tc word${dir ? ` (${dir})` : ''}` };
  }
  return undefined;
}
