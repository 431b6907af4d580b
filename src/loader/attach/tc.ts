// Attaching a loaded program as a cls_bpf filter on a clsact hook, as `tc filter add ... bpf da`
// does, and taking it off again. The clsact qdisc is added only when the device has none; what was
// there before is never changed unless --replace names its priority and handle.
import {
  NetlinkError, clsactAdd, clsactDelete, tcFilterAdd, tcFilterDelete, tcFilterDump, tcFilterReplace,
  type Direction, type NetlinkSocket, type TcBpfFilter, withNetlink,
} from '../netlink/index.js';
import { progGetFdById } from '../sys/bpf.js';
import type { FdLike } from '../sys/fd.js';
import type { Undo } from '../object/undo.js';
import { AttachError, attachStep } from './errors.js';

export interface TcAttachOptions {
  dev: string;
  direction: Direction;
  /** Filter priority; default 1. */
  priority?: number;
  /** Filter handle; default 1. */
  handle?: number;
  /** Replace the filter at this priority and handle if there is one. */
  replace?: boolean;
  /** Shown by `tc filter show`; by tc's convention "object.o:[section]". */
  name?: string;
  /** /var/run/netns/NAME */
  netns?: string;
}

export interface TcAttachment {
  dev: string;
  direction: Direction;
  priority: number;
  handle: number;
  /** bpfts added the clsact qdisc for this filter. */
  createdQdisc: boolean;
  /** The program id of the filter this one replaced. */
  replacedProgId?: number;
}

function errnoIs(e: unknown, ...names: string[]): boolean {
  return e instanceof NetlinkError && names.includes(e.errnoName);
}

/** The bpf filters of a hook; none when the device has no clsact qdisc. */
export function tcFilters(nl: NetlinkSocket, dev: string, direction: Direction): TcBpfFilter[] {
  try {
    return tcFilterDump(nl, dev, direction);
  } catch (e) {
    if (errnoIs(e, 'EINVAL', 'ENOENT')) return [];
    throw e;
  }
}

/**
 * Deletes the clsact qdisc this command added, unless a filter is on it by now: another command may
 * have put one there since, and deleting the qdisc would take that filter with it.
 */
function deleteClsactIfEmpty(netns: string | undefined, dev: string): void {
  withNetlink(netns, (n) => {
    if (tcFilters(n, dev, 'ingress').length + tcFilters(n, dev, 'egress').length > 0) return;
    try {
      clsactDelete(n, dev);
    } catch (e) {
      if (!errnoIs(e, 'EINVAL', 'ENOENT')) throw e;
    }
  });
}

/** Attaches `prog` (a SCHED_CLS program) on a clsact hook; each change is registered in `undo`. */
export function attachTc(prog: FdLike, o: TcAttachOptions, undo: Undo): TcAttachment {
  const priority = o.priority ?? 1;
  const handle = o.handle ?? 1;
  return attachStep('tc filter', () => withNetlink(o.netns, (nl) => {
    const createdQdisc = attachStep('clsact qdisc', () => {
      try {
        clsactAdd(nl, o.dev);
      } catch (e) {
        if (errnoIs(e, 'EEXIST')) return false;
        throw e;
      }
      undo.push(`delete clsact qdisc on ${o.dev}`, () => deleteClsactIfEmpty(o.netns, o.dev));
      return true;
    });
    const existing = tcFilters(nl, o.dev, o.direction).find((f) => f.priority === priority && f.handle === handle);
    const filter = { dev: o.dev, direction: o.direction, priority, handle, prog, ...(o.name !== undefined ? { name: o.name } : {}) };
    const result: TcAttachment = { dev: o.dev, direction: o.direction, priority, handle, createdQdisc };
    if (existing && !o.replace) {
      throw new AttachError(`${o.dev} already has a ${o.direction} filter with priority ${priority} and handle ${handle}${existing.name ? ` (${existing.name})` : ''}`, 'tc filter', {
        hint: 'give --replace to replace it, or another --prio/--handle',
      });
    }
    if (existing) {
      // The replaced program is held before the replace, so that a failure after it can put it back.
      const oldFd = existing.progId === undefined ? undefined : progGetFdById(existing.progId);
      if (oldFd) undo.finally(() => oldFd.close());
      tcFilterReplace(nl, filter);
      if (oldFd) {
        result.replacedProgId = existing.progId!;
        undo.push(`restore the ${o.direction} filter on ${o.dev}`, () =>
          withNetlink(o.netns, (n) => tcFilterReplace(n, { ...filter, prog: oldFd, ...(existing.name ? { name: existing.name } : {}) })));
      }
    } else {
      tcFilterAdd(nl, filter);
      undo.push(`delete the ${o.direction} filter on ${o.dev}`, () => withNetlink(o.netns, (n) => tcFilterDelete(n, filter)));
    }
    return result;
  }));
}

export interface TcDetachOptions {
  dev: string;
  direction: Direction;
  priority?: number;
  handle?: number;
  netns?: string;
}

export interface TcDetachResult {
  removed: TcBpfFilter[];
  /** The clsact qdisc was deleted because no filter was left on either hook. */
  removedQdisc: boolean;
}

/**
 * Removes the filter at priority/handle, or every bpf filter of the hook when neither is given.
 * The clsact qdisc goes too once neither hook has a filter left: an empty clsact does nothing, and
 * a qdisc that still holds someone's filter is never removed.
 */
export function detachTc(o: TcDetachOptions): TcDetachResult {
  return attachStep('tc filter', () => withNetlink(o.netns, (nl) => {
    const filters = tcFilters(nl, o.dev, o.direction);
    const chosen = filters.filter((f) => f.kind === 'bpf' &&
      (o.priority === undefined || f.priority === o.priority) && (o.handle === undefined || f.handle === o.handle));
    if (chosen.length === 0) {
      throw new AttachError(`${o.dev} has no bpf ${o.direction} filter${o.priority !== undefined ? ` with priority ${o.priority}` : ''}${o.handle !== undefined ? ` and handle ${o.handle}` : ''}`, 'tc filter', {
        hint: `see 'bpfts show ${o.dev}'`,
      });
    }
    for (const f of chosen) tcFilterDelete(nl, { dev: o.dev, direction: o.direction, priority: f.priority, handle: f.handle });
    const left = tcFilters(nl, o.dev, 'ingress').length + tcFilters(nl, o.dev, 'egress').length;
    let removedQdisc = false;
    if (left === 0 && filters.length > 0) {
      removedQdisc = attachStep('clsact qdisc', () => {
        try {
          clsactDelete(nl, o.dev);
          return true;
        } catch (e) {
          if (!errnoIs(e, 'EINVAL', 'ENOENT')) throw e;
          return false;
        }
      });
    }
    return { removed: chosen, removedQdisc };
  }));
}
