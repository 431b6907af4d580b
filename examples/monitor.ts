// The packet monitor: counts packets and bytes on a device's tc ingress and egress, per direction
// and per flow, and prints the counters every second. Ctrl-C detaches and exits.
//   node examples/build/monitor.js DEV [--netns NAME] [--interval SECONDS]
import { Collection } from 'bpfts/loader';
import { typed } from './monitor.gen.js';
import { every, ip, object, options } from './net.js';

const o = options({ netns: { type: 'string' }, interval: { type: 'string' } }, 'monitor.js DEV [--netns NAME] [--interval SECONDS]');
const coll = typed(Collection.load(object('monitor.o'))).closeOnExit();
for (const direction of ['ingress', 'egress'] as const) {
  coll.program(`monitor_${direction}`).attachTc({ dev: o.dev, direction, ...(o.netns ? { netns: o.netns } : {}) });
}

const DIRECTIONS = ['ingress', 'egress'];
console.log(`monitoring ${o.dev}; Ctrl-C to stop`);
every(Number(o.interval ?? 1), () => {
  const lines = DIRECTIONS.map((d, i) => {
    const c = coll.map('pkt_count').get(i)!;
    return `${d}: ${c.packets} packets, ${c.bytes} bytes`;
  });
  for (const [k, v] of coll.map('flows').entries()) {
    lines.push(`flow ${ip(k.saddr)}:${k.sport} > ${ip(k.daddr)}:${k.dport} proto ${k.proto} ${DIRECTIONS[k.direction]}: ${v.packets} packets, ${v.bytes} bytes`);
  }
  console.log(lines.join('\n'));
});
