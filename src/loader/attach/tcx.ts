// tcx attachment (Linux 6.6+): a bpf link on the device's ingress or egress hook. A tcx link lives
// only as long as its descriptor or a pin, so bpfts pins it under /sys/fs/bpf/bpfts/tcx/, one
// directory per namespace, device and direction; detaching unpins (and detaches) them.
import { existsSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { bpf_attach_type } from '../../uapi/index.js';
import { inNetns, linkIndex, withNetlink, type Direction } from '../netlink/index.js';
import { linkCreate, linkDetach, objGet, objPin } from '../sys/bpf.js';
import type { FdLike } from '../sys/fd.js';
import { BPFFS, ensureDir } from '../object/maps.js';
import { Undo } from '../object/undo.js';
import { AttachError, attachStep } from './errors.js';

const BPFTS_PIN_ROOT = `${BPFFS}/bpfts`;
export const TCX_PIN_ROOT = `${BPFTS_PIN_ROOT}/tcx`;

/** Where bpfts pins the tcx links of one hook. */
export function tcxPinDir(dev: string, direction: Direction, netns?: string): string {
  return `${TCX_PIN_ROOT}/${netns === undefined ? 'init' : basename(netns)}/${dev}/${direction}`;
}

export interface TcxAttachment {
  dev: string;
  direction: Direction;
  linkPin: string;
}

function inNs<T>(netns: string | undefined, fn: () => T): T {
  return netns === undefined ? fn() : inNetns(netns, fn);
}

/** Attaches `prog` with a tcx link and pins the link as `<dir>/<name>`. */
export function attachTcx(prog: FdLike, o: { dev: string; direction: Direction; name: string; netns?: string }, undo: Undo): TcxAttachment {
  const dir = tcxPinDir(o.dev, o.direction, o.netns);
  const pin = `${dir}/${o.name}`;
  const link = attachStep('tcx link', () => {
    const ifindex = withNetlink(o.netns, (nl) => linkIndex(nl, o.dev));
    if (existsSync(pin)) {
      throw new AttachError(`a tcx link is already pinned at ${pin}`, 'tcx link', { hint: `detach it first: bpfts detach --tcx ${o.direction} ${o.dev}` });
    }
    // The link's device is looked up in the caller's namespace, so the link is made inside it.
    const fd = inNs(o.netns, () => linkCreate({
      prog, attachType: o.direction === 'ingress' ? bpf_attach_type.BPF_TCX_INGRESS : bpf_attach_type.BPF_TCX_EGRESS, targetIfindex: ifindex,
    }));
    undo.finally(() => fd.close());
    undo.push(`detach tcx link on ${o.dev}`, () => linkDetach(fd));
    return fd;
  });
  attachStep(`pin ${pin}`, () => {
    ensureDir(dir, undo);
    objPin(link, pin);
    undo.push(`unpin ${pin}`, () => rmSync(pin, { force: true }));
  });
  return { dev: o.dev, direction: o.direction, linkPin: pin };
}

/** Detaches and unpins every tcx link bpfts pinned for this hook; returns the pins removed. */
export function detachTcx(o: { dev: string; direction: Direction; netns?: string }): string[] {
  const dir = tcxPinDir(o.dev, o.direction, o.netns);
  const pins = existsSync(dir) ? readdirSync(dir).map((n) => `${dir}/${n}`) : [];
  if (pins.length === 0) throw new AttachError(`bpfts has no tcx link pinned for ${o.dev} ${o.direction} (${dir})`, 'tcx link');
  for (const pin of pins) {
    attachStep('tcx link', () => {
      const link = objGet(pin, 0, 'link');
      try {
        linkDetach(link);
      } finally {
        link.close();
      }
    });
    rmSync(pin, { force: true });
  }
  // Drop the now empty directories up to the root, so nothing is left behind.
  for (let d = dir; d.startsWith(`${BPFTS_PIN_ROOT}/`) || d === BPFTS_PIN_ROOT; d = dirname(d)) {
    if (readdirSync(d).length > 0) break;
    rmdirSync(d);
  }
  return pins;
}

/** The pinned tcx links of a namespace, per device and direction. */
export function listTcx(netns?: string): { dev: string; direction: Direction; pin: string }[] {
  const nsDir = `${TCX_PIN_ROOT}/${netns === undefined ? 'init' : basename(netns)}`;
  if (!existsSync(nsDir)) return [];
  const out: { dev: string; direction: Direction; pin: string }[] = [];
  for (const dev of readdirSync(nsDir)) {
    for (const direction of ['ingress', 'egress'] as const) {
      const d = `${nsDir}/${dev}/${direction}`;
      if (existsSync(d)) for (const n of readdirSync(d)) out.push({ dev, direction, pin: `${d}/${n}` });
    }
  }
  return out;
}
