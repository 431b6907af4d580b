// rtnetlink through our AF_NETLINK socket inside a throw-away network namespace, compared with
// what `tc` and `ip` report about the same devices; bpf links there compared with bpftool.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NetlinkError,
  XDP_FLAGS,
  bpf_attach_type,
  bpf_prog_type,
  clsactAdd,
  clsactDelete,
  inNetns,
  linkCreate,
  linkDetach,
  linkIndex,
  openNetlink,
  progGetInfo,
  progLoad,
  tcFilterAdd,
  tcFilterDelete,
  tcFilterDump,
  tcFilterReplace,
  xdpAttach,
  xdpDetach,
  xdpQuery,
  type Fd,
  type NetlinkSocket,
} from '../../src/loader/raw.js';
import { haveRoot, tool } from '../helpers/env.js';
import { TestNetns, json, returns, thrown } from './fixtures.js';

const root = haveRoot();
// ip is also the oracle for the one test here that needs no privilege.
const ip = tool('ip');
const tc = root ? tool('tc') : undefined;
const bpftool = root ? tool('bpftool') : undefined;

interface TcJsonFilter {
  pref: number;
  kind: string;
  options?: { handle: string; bpf_name?: string; 'direct-action'?: boolean; prog?: { id: number; tag: string } };
}

interface IpJsonLink {
  ifindex: number;
  ifname: string;
  xdp?: { mode: number; prog?: { id: number } };
}

let netnsName = '';

describe.skipIf(!root || !ip || !tc || !bpftool)('rtnetlink in a network namespace (oracles: ip, tc, bpftool)', () => {
  let ns: TestNetns;
  let nl: NetlinkSocket;
  let cls: Fd;
  let cls2: Fd;
  let xdp: Fd;

  beforeAll(() => {
    ns = new TestNetns();
    netnsName = ns.name;
    nl = openNetlink({ netns: ns.path });
    cls = progLoad({ type: bpf_prog_type.BPF_PROG_TYPE_SCHED_CLS, insns: returns(0), license: 'GPL', name: 'bpfts_cls' }).fd;
    cls2 = progLoad({ type: bpf_prog_type.BPF_PROG_TYPE_SCHED_CLS, insns: returns(2), license: 'GPL', name: 'bpfts_cls2' }).fd;
    xdp = progLoad({ type: bpf_prog_type.BPF_PROG_TYPE_XDP, insns: returns(2), license: 'GPL', name: 'bpfts_xdp' }).fd;
  });

  afterAll(() => {
    for (const fd of [cls, cls2, xdp]) fd?.close();
    nl?.close();
    ns?.destroy();
  });

  const links = () => json<IpJsonLink[]>('ip', ['-n', ns.name, '-j', '-d', 'link', 'show']);
  const tcShow = (dev: string, dir: string) =>
    json<TcJsonFilter[]>('ip', ['netns', 'exec', ns.name, 'tc', '-j', 'filter', 'show', 'dev', dev, dir]).filter((f) => f.options);

  it('resolves device names in the namespace the socket was opened in, not the caller\'s', () => {
    const byIp = links();
    expect(linkIndex(nl, 'veth0')).toBe(byIp.find((l) => l.ifname === 'veth0')!.ifindex);
    expect(linkIndex(nl, 'veth1')).toBe(byIp.find((l) => l.ifname === 'veth1')!.ifindex);
    const here = openNetlink();
    try {
      expect(thrown(() => linkIndex(here, 'veth0'))).toMatchObject({ errnoName: 'ENODEV' });
    } finally {
      here.close();
    }
  });

  it('reports a missing device as ENODEV naming the device', () => {
    const err = thrown(() => linkIndex(nl, 'nosuchdev0')) as NetlinkError;
    expect(err).toBeInstanceOf(NetlinkError);
    expect(err.errnoName).toBe('ENODEV');
    expect(err.message).toContain('no network device named "nosuchdev0"');
    expect(thrown(() => clsactAdd(nl, 'nosuchdev0'))).toMatchObject({ errnoName: 'ENODEV' });
  });

  it('adds a clsact qdisc that tc lists, and refuses a second one with EEXIST and the kernel\'s message', () => {
    clsactAdd(nl, 'veth0');
    const qdiscs = json<{ kind: string }[]>('ip', ['netns', 'exec', ns.name, 'tc', '-j', 'qdisc', 'show', 'dev', 'veth0']);
    expect(qdiscs.map((q) => q.kind)).toContain('clsact');
    const err = thrown(() => clsactAdd(nl, 'veth0')) as NetlinkError;
    expect(err.errnoName).toBe('EEXIST');
    expect(err.extAck).toBeTruthy();
    expect(err.message).toContain(err.extAck!);
  });

  it('adds a direct-action cls_bpf filter that tc shows with the same program id and flags', () => {
    tcFilterAdd(nl, { dev: 'veth0', direction: 'ingress', prog: cls, name: 'prog.o:[tc]' });
    const ours = tcFilterDump(nl, 'veth0', 'ingress');
    const theirs = tcShow('veth0', 'ingress');
    const info = progGetInfo(cls);
    expect(ours).toEqual([
      { priority: 1, handle: 1, protocol: 3, kind: 'bpf', progId: info.id, name: 'prog.o:[tc]', tag: info.tag, directAction: true },
    ]);
    expect(theirs).toHaveLength(1);
    expect(theirs[0]).toMatchObject({
      pref: 1,
      kind: 'bpf',
      options: { handle: '0x1', bpf_name: 'prog.o:[tc]', 'direct-action': true, prog: { id: info.id, tag: info.tag } },
    });
    expect(tcFilterDump(nl, 'veth0', 'egress')).toEqual([]);
  });

  it('refuses a duplicate filter with EEXIST, replaces it in place, and adds one without direct action', () => {
    const dup = thrown(() => tcFilterAdd(nl, { dev: 'veth0', direction: 'ingress', prog: cls2 })) as NetlinkError;
    expect(dup.errnoName).toBe('EEXIST');
    expect(dup.extAck).toBeTruthy();
    tcFilterReplace(nl, { dev: 'veth0', direction: 'ingress', prog: cls2, name: 'two' });
    tcFilterAdd(nl, { dev: 'veth0', direction: 'egress', prog: cls, priority: 7, handle: 3, directAction: false });
    const id2 = progGetInfo(cls2).id;
    expect(tcFilterDump(nl, 'veth0', 'ingress').map((f) => [f.progId, f.name])).toEqual([[id2, 'two']]);
    expect(tcShow('veth0', 'ingress').map((f) => f.options!.prog!.id)).toEqual([id2]);
    const egress = tcShow('veth0', 'egress');
    expect(egress).toHaveLength(1);
    expect(egress[0]).toMatchObject({ pref: 7, options: { handle: '0x3', prog: { id: progGetInfo(cls).id } } });
    expect(egress[0]!.options!['direct-action']).toBeUndefined();
    expect(tcFilterDump(nl, 'veth0', 'egress')).toMatchObject([{ priority: 7, handle: 3, directAction: false }]);
  });

  it('deletes filters and the qdisc, after which tc shows nothing', () => {
    tcFilterDelete(nl, { dev: 'veth0', direction: 'ingress' });
    expect(tcShow('veth0', 'ingress')).toEqual([]);
    expect(tcFilterDump(nl, 'veth0', 'ingress')).toEqual([]);
    expect(thrown(() => tcFilterDelete(nl, { dev: 'veth0', direction: 'ingress' }))).toBeInstanceOf(NetlinkError);
    clsactDelete(nl, 'veth0');
    const qdiscs = json<{ kind: string }[]>('ip', ['netns', 'exec', ns.name, 'tc', '-j', 'qdisc', 'show', 'dev', 'veth0']);
    expect(qdiscs.map((q) => q.kind)).not.toContain('clsact');
  });

  it('explains a filter without a clsact qdisc with the kernel\'s extended ack', () => {
    const err = thrown(() => tcFilterAdd(nl, { dev: 'veth0', direction: 'ingress', prog: cls })) as NetlinkError;
    expect(err).toBeInstanceOf(NetlinkError);
    expect(err.extAck).toMatch(/Qdisc/);
    expect(err.message).toContain(`kernel says "${err.extAck}"`);
  });

  it('attaches XDP in generic mode as ip reports it, refuses a second attach with noReplace, and detaches', () => {
    const id = progGetInfo(xdp).id;
    xdpAttach(nl, 'veth1', xdp, { mode: 'skb' });
    const shown = links().find((l) => l.ifname === 'veth1')!;
    expect(shown.xdp).toMatchObject({ mode: 2, prog: { id } });
    expect(xdpQuery(nl, 'veth1')).toEqual({ attached: 'skb', progId: id, skbProgId: id });
    const busy = thrown(() => xdpAttach(nl, 'veth1', xdp, { mode: 'skb', noReplace: true })) as NetlinkError;
    expect(busy.errnoName).toBe('EBUSY');
    expect(busy.extAck).toBeTruthy();
    const mixed = thrown(() => xdpAttach(nl, 'veth1', xdp, { mode: 'drv' })) as NetlinkError;
    expect(mixed.errnoName).toBe('EEXIST');
    xdpDetach(nl, 'veth1', { mode: 'skb' });
    expect(links().find((l) => l.ifname === 'veth1')!.xdp).toBeUndefined();
    expect(xdpQuery(nl, 'veth1')).toEqual({ attached: 'none' });
  });

  it('replaces an XDP program only when the expected one is attached (IFLA_XDP_EXPECTED_FD)', () => {
    const other = progLoad({ type: bpf_prog_type.BPF_PROG_TYPE_XDP, insns: returns(1), license: 'GPL', name: 'bpfts_xdp2' }).fd;
    try {
      xdpAttach(nl, 'veth1', xdp, { mode: 'skb' });
      const wrong = thrown(() => xdpAttach(nl, 'veth1', other, { mode: 'skb', expectedProg: other })) as NetlinkError;
      expect(wrong).toBeInstanceOf(NetlinkError);
      expect(wrong.extAck).toBeTruthy();
      expect(links().find((l) => l.ifname === 'veth1')!.xdp).toMatchObject({ prog: { id: progGetInfo(xdp).id } });
      xdpAttach(nl, 'veth1', other, { mode: 'skb', expectedProg: xdp });
      expect(links().find((l) => l.ifname === 'veth1')!.xdp).toMatchObject({ prog: { id: progGetInfo(other).id } });
      xdpDetach(nl, 'veth1', { mode: 'skb' });
    } finally {
      other.close();
    }
  });

  it('creates an XDP link in the namespace that blocks netlink attachment until it is detached', () => {
    const id = progGetInfo(xdp).id;
    const ifindex = linkIndex(nl, 'veth1');
    const link = inNetns(ns.path, () =>
      linkCreate({ prog: xdp, attachType: bpf_attach_type.BPF_XDP, targetIfindex: ifindex, flags: XDP_FLAGS.XDP_FLAGS_SKB_MODE }),
    );
    try {
      expect(links().find((l) => l.ifname === 'veth1')!.xdp).toMatchObject({ prog: { id } });
      expect(thrown(() => xdpAttach(nl, 'veth1', xdp, { mode: 'skb' }))).toMatchObject({ errnoName: 'EBUSY' });
      linkDetach(link);
      expect(links().find((l) => l.ifname === 'veth1')!.xdp).toBeUndefined();
    } finally {
      link.close();
    }
  });

  it('creates tcx ingress and egress links that bpftool lists on the device', () => {
    const ifindex = linkIndex(nl, 'veth0');
    const created = inNetns(ns.path, () => [
      linkCreate({ prog: cls, attachType: bpf_attach_type.BPF_TCX_INGRESS, targetIfindex: ifindex }),
      linkCreate({ prog: cls2, attachType: bpf_attach_type.BPF_TCX_EGRESS, targetIfindex: ifindex }),
    ]);
    try {
      const listed = json<{ prog_id: number }[]>(bpftool!, ['link', 'show', '-j']).map((l) => l.prog_id);
      expect(listed).toEqual(expect.arrayContaining([progGetInfo(cls).id, progGetInfo(cls2).id]));
      for (const l of created) linkDetach(l);
    } finally {
      for (const l of created) l.close();
    }
    const after = json<{ prog_id: number }[]>(bpftool!, ['link', 'show', '-j']).map((l) => l.prog_id);
    expect(after).not.toContain(progGetInfo(cls).id);
  });
});

describe.skipIf(!root || !ip)('nothing left behind by the netlink tests', () => {
  it('deleted its network namespace', () => {
    expect(netnsName).not.toBe('');
    expect(TestNetns.exists(netnsName)).toBe(false);
  });
});

describe.skipIf(!ip)('rtnetlink in the caller\'s own namespace (no privilege needed)', () => {
  it('loads koffi and libc, and finds the loopback device with the ifindex ip reports', () => {
    const nl = openNetlink();
    try {
      const lo = json<IpJsonLink[]>('ip', ['-j', 'link', 'show', 'lo'])[0]!;
      expect(linkIndex(nl, 'lo')).toBe(lo.ifindex);
    } finally {
      nl.close();
    }
  });
});

describe('netns errors', () => {
  it('explains a namespace path that does not exist', () => {
    expect(() => openNetlink({ netns: '/var/run/netns/bpfts-no-such-ns' })).toThrow(/cannot open network namespace/);
  });
});
