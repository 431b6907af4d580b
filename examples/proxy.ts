// The transparent proxy: connections to TARGET go to BACKEND instead, and the replies look as if
// TARGET sent them. One entry is put in proxy_targets from user space; both maps are printed every
// second. Ctrl-C detaches and exits.
//   node examples/build/proxy.js DEV --target ADDR:PORT --to ADDR:PORT [--netns NAME]
import { Collection } from 'bpfts/loader';
import { typed, type Endpoint } from './proxy.gen.js';
import { endpoint, every, ip, object, options, port } from './net.js';

const o = options({ netns: { type: 'string' }, target: { type: 'string' }, to: { type: 'string' } }, 'proxy.js DEV --target ADDR:PORT --to ADDR:PORT [--netns NAME]');
if (!o.target || !o.to) throw new Error('--target and --to are required');
const coll = typed(Collection.load(object('proxy.o'))).closeOnExit();
const netns = o.netns ? { netns: o.netns } : {};
coll.program('proxy_egress').attachTc({ dev: o.dev, direction: 'egress', ...netns });
coll.program('proxy_ingress').attachTc({ dev: o.dev, direction: 'ingress', ...netns });
coll.map('proxy_targets').set(endpoint(o.target), endpoint(o.to));

const show = (e: Endpoint) => `${ip(e.addr)}:${port(e.port)}`;
console.log(`proxying ${o.target} to ${o.to} on ${o.dev}; Ctrl-C to stop`);
every(1, () => {
  const lines: string[] = [];
  for (const [k, v] of coll.map('proxy_targets').entries()) lines.push(`target ${show(k)} -> ${show(v)}`);
  for (const [k, v] of coll.map('proxy_reverse').entries()) {
    lines.push(`reverse ${ip(k.remote_addr)}:${port(k.remote_port)} > ${ip(k.local_addr)}:${port(k.local_port)} proto ${k.proto} as ${show(v)}`);
  }
  console.log(lines.join('\n'));
});
