// DNAT with an XDP monitor: TCP packets to RULE are rewritten to BACKEND on tc ingress, replies get
// RULE back as their source on egress, and an XDP program counts packets per IP protocol.
// conn_track and the counters are printed every second. Ctrl-C detaches and exits.
//   node examples/build/dnat.js DEV --rule ADDR:PORT --backend ADDR:PORT [--netns NAME]
import { Collection } from 'bpfts/loader';
import { typed as typedDnat } from './dnat.gen.js';
import { typed as typedXdp } from './xdp_monitor.gen.js';
import { endpoint, every, ip, object, options, port } from './net.js';

const o = options({ netns: { type: 'string' }, rule: { type: 'string' }, backend: { type: 'string' } }, 'dnat.js DEV --rule ADDR:PORT --backend ADDR:PORT [--netns NAME]');
if (!o.rule || !o.backend) throw new Error('--rule and --backend are required');
const netns = o.netns ? { netns: o.netns } : {};
const dnat = typedDnat(Collection.load(object('dnat.o'))).closeOnExit();
const xdp = typedXdp(Collection.load(object('xdp_monitor.o'))).closeOnExit();
dnat.program('dnat_ingress').attachTc({ dev: o.dev, direction: 'ingress', ...netns });
dnat.program('dnat_egress').attachTc({ dev: o.dev, direction: 'egress', ...netns });
xdp.program('xdp_monitor').attachXdp({ dev: o.dev, mode: 'generic', ...netns });
const TCP = 6;
dnat.map('dnat_rules').set({ ...endpoint(o.rule), proto: TCP }, endpoint(o.backend));

console.log(`translating ${o.rule} to ${o.backend} on ${o.dev}; Ctrl-C to stop`);
every(1, () => {
  const lines: string[] = [];
  for (const [k, v] of dnat.map('conn_track').entries()) {
    lines.push(`conn ${ip(k.saddr)}:${port(k.sport)} > ${ip(k.daddr)}:${port(k.dport)} from ${ip(v.addr)}:${port(v.port)}`);
  }
  // A per-CPU array: one count per possible CPU for each protocol.
  for (const [proto, perCpu] of xdp.map('proto_count').entries()) {
    const total = perCpu.reduce((a, b) => a + b, 0n);
    if (total > 0n) lines.push(`proto ${proto}: ${total} packets`);
  }
  console.log(lines.join('\n'));
});
