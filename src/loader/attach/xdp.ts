// XDP attachment through netlink (IFLA_XDP), as `ip link set dev DEV xdp` does: generic (skb) or
// native (driver) mode; an attached program is replaced only with --replace, and a replaced
// program is put back if a later step of the command fails.
import { withNetlink, xdpAttach, xdpDetach, xdpQuery, type XdpMode, type XdpState } from '../netlink/index.js';
import { progGetFdById } from '../sys/bpf.js';
import type { FdLike } from '../sys/fd.js';
import type { Undo } from '../object/undo.js';
import { AttachError, attachStep } from './errors.js';

export type XdpUserMode = 'skb' | 'native';

export interface XdpAttachment {
  dev: string;
  mode: XdpUserMode | 'auto';
  replacedProgId?: number;
}

function kernelMode(mode: XdpUserMode | undefined): XdpMode | undefined {
  return mode === 'native' ? 'drv' : mode;
}

export function attachXdp(prog: FdLike, o: { dev: string; mode?: XdpUserMode; replace?: boolean; netns?: string }, undo: Undo): XdpAttachment {
  return attachStep('XDP', () => withNetlink(o.netns, (nl) => {
    const before = xdpQuery(nl, o.dev);
    const mode = kernelMode(o.mode);
    const oldId = before.progId ?? before.skbProgId ?? before.drvProgId;
    if (before.attached !== 'none' && !o.replace) {
      throw new AttachError(`${o.dev} already has an XDP program (id ${oldId}, ${before.attached} mode)`, 'XDP', {
        hint: 'give --replace to replace it',
      });
    }
    // The replaced program is held before the replace, so that a failure after it can put it back.
    const oldFd = before.attached !== 'none' && oldId !== undefined ? progGetFdById(oldId) : undefined;
    if (oldFd) undo.finally(() => oldFd.close());
    xdpAttach(nl, o.dev, prog, { ...(mode ? { mode } : {}), ...(o.replace ? {} : { noReplace: true }) });
    const result: XdpAttachment = { dev: o.dev, mode: o.mode ?? 'auto' };
    if (oldFd) {
      result.replacedProgId = oldId!;
      undo.push(`restore the XDP program on ${o.dev}`, () => withNetlink(o.netns, (n) => xdpAttach(n, o.dev, oldFd, mode ? { mode } : {})));
    } else {
      undo.push(`detach XDP from ${o.dev}`, () => withNetlink(o.netns, (n) => xdpDetach(n, o.dev, mode ? { mode } : {})));
    }
    return result;
  }));
}

export function detachXdp(o: { dev: string; netns?: string }): XdpState {
  return attachStep('XDP', () => withNetlink(o.netns, (nl) => {
    const state = xdpQuery(nl, o.dev);
    if (state.attached === 'none') throw new AttachError(`${o.dev} has no XDP program`, 'XDP');
    const mode: XdpMode | undefined = state.attached === 'skb' ? 'skb' : state.attached === 'drv' ? 'drv' : state.attached === 'hw' ? 'hw' : undefined;
    xdpDetach(nl, o.dev, mode ? { mode } : {});
    return state;
  }));
}

export function queryXdp(dev: string, netns?: string): XdpState {
  return withNetlink(netns, (nl) => xdpQuery(nl, dev));
}
