// Attachments as handles: detaching takes off exactly what the handle put on, nothing another
// tool (or another handle) attached to the same hook.
import { BpfError } from '../errors.js';
import { bpf_attach_type } from '../uapi/index.js';
import { XDP_FLAGS } from './abi/index.js';
import { attachTc, detachTc, tcFilters, type TcDetachResult } from './attach/tc.js';
import type { TracingKind } from './attach/tracing.js';
import { netnsPath } from './attach/devices.js';
import { clsactDelete, inNetns, linkIndex, tcFilterDelete, withNetlink, type Direction } from './netlink/index.js';
import { linkCreate, linkDetach, linkGetInfo } from './sys/bpf.js';
import type { Fd } from './sys/fd.js';
import { Undo } from './object/undo.js';

/** A network namespace by `ip netns` name, or a path such as /var/run/netns/NAME or /proc/PID/ns/net. */
export type Netns = string;

export function netnsFile(netns: Netns | undefined): string | undefined {
  return netns === undefined || netns.startsWith('/') ? netns : netnsPath(netns);
}

/**
 * What a link attaches: 'tc' (a cls_bpf filter), 'tcx' or 'xdp' (bpf links on a device), or a
 * tracing hook ('tracepoint', 'raw_tp', 'kprobe', 'uprobe', 'perf_event', 'fentry', ...).
 */
export type LinkKind = 'tc' | 'tcx' | 'xdp' | TracingKind;

/** One attachment of a program. */
export abstract class Link {
  #attached = true;
  #onDetach: (() => void) | undefined;

  constructor(readonly kind: LinkKind) {}

  /** False once detached, or closed (a pinned link then stays in the kernel, but not through this handle). */
  get attached(): boolean {
    return this.#attached;
  }

  /** @internal Called once the link is detached, so that its program forgets it. */
  onDetach(fn: () => void): void {
    this.#onDetach = fn;
  }

  /** Takes off what this link attached (and nothing else, its pin too); later calls do nothing. */
  detach(): void {
    this.#end(() => this.remove());
  }

  /**
   * Lets go of the handle, as the collection's close() does: a pinned link stays attached (its pin
   * holds it), anything else is detached.
   */
  close(): void {
    this.#end(() => this.release());
  }

  #end(how: () => void): void {
    if (!this.#attached) return;
    this.#attached = false;
    try {
      how();
    } finally {
      this.#onDetach?.();
    }
  }

  protected abstract remove(): void;

  /** What close() does; links that cannot be pinned are simply detached. */
  protected release(): void {
    this.remove();
  }

  [Symbol.dispose](): void {
    this.detach();
  }
}

/**
 * The clsact qdiscs this process added, by namespace and device, with how many of its tc links
 * still use each: the qdisc goes with the last of them, and only when no filter is left on it.
 */
const ourQdiscs = new Map<string, number>();

export interface TcAttachOptions {
  dev: string;
  direction: Direction;
  netns?: Netns;
  /** Filter priority; default 1. */
  priority?: number;
  /** Filter handle; default 1. */
  handle?: number;
  /** Replace a filter already at this priority and handle (by default that is an error). */
  replace?: boolean;
  /** Shown by `tc filter show`. */
  name?: string;
}

/** A cls_bpf filter on a clsact hook. */
export class TcLink extends Link {
  readonly dev: string;
  readonly netns: Netns | undefined;
  readonly direction: Direction;
  readonly priority: number;
  readonly handle: number;
  readonly #progId: number;
  readonly #qdiscKey: string;

  /** @internal */
  constructor(prog: Fd, progId: number, o: TcAttachOptions) {
    super('tc');
    this.dev = o.dev;
    this.netns = o.netns;
    const netns = netnsFile(o.netns);
    const undo = new Undo();
    const att = (() => {
      try {
        return attachTc(prog, {
          dev: o.dev, direction: o.direction,
          ...(o.priority !== undefined ? { priority: o.priority } : {}),
          ...(o.handle !== undefined ? { handle: o.handle } : {}),
          ...(o.replace ? { replace: true } : {}),
          ...(o.name !== undefined ? { name: o.name } : {}),
          ...(netns !== undefined ? { netns } : {}),
        }, undo);
      } catch (e) {
        undo.rollback();
        throw e;
      }
    })();
    undo.commit();
    this.direction = att.direction;
    this.priority = att.priority;
    this.handle = att.handle;
    this.#progId = progId;
    this.#qdiscKey = `${netns ?? ''}\0${o.dev}`;
    const users = ourQdiscs.get(this.#qdiscKey);
    if (att.createdQdisc) ourQdiscs.set(this.#qdiscKey, 1);
    else if (users !== undefined) ourQdiscs.set(this.#qdiscKey, users + 1);
  }

  protected remove(): void {
    const netns = netnsFile(this.netns);
    withNetlink(netns, (nl) => {
      const mine = tcFilters(nl, this.dev, this.direction).find((f) => f.priority === this.priority && f.handle === this.handle);
      // Someone may have replaced the filter since: theirs stays.
      if (mine && mine.progId === this.#progId) {
        tcFilterDelete(nl, { dev: this.dev, direction: this.direction, priority: this.priority, handle: this.handle });
      }
      const users = ourQdiscs.get(this.#qdiscKey);
      if (users === undefined) return;
      if (users > 1) {
        ourQdiscs.set(this.#qdiscKey, users - 1);
        return;
      }
      ourQdiscs.delete(this.#qdiscKey);
      if (tcFilters(nl, this.dev, 'ingress').length + tcFilters(nl, this.dev, 'egress').length === 0) clsactDelete(nl, this.dev);
    });
  }
}

/**
 * Removes the bpf filters of a hook that are not this process's links: every one with `all`, or
 * the one at `priority`/`handle` (what `bpfts detach` does). A clsact qdisc left empty goes too.
 */
export function detachTcFilters(o: { dev: string; direction: Direction; netns?: Netns } & ({ all: true } | { priority: number; handle: number })): TcDetachResult {
  const netns = netnsFile(o.netns);
  return detachTc({
    dev: o.dev, direction: o.direction, ...(netns !== undefined ? { netns } : {}),
    ...('all' in o ? {} : { priority: o.priority, handle: o.handle }),
  });
}

/** A bpf link (tcx, XDP): the kernel detaches it when its descriptor is closed, so it cannot outlive the process. */
export class KernelLink extends Link {
  /** @internal */
  constructor(
    kind: 'tcx' | 'xdp',
    readonly dev: string,
    readonly netns: Netns | undefined,
    readonly fd: Fd,
  ) {
    super(kind);
  }

  /** The kernel's link id (`bpftool link show id N`). */
  get id(): number {
    return linkGetInfo(this.fd).id;
  }

  protected remove(): void {
    try {
      linkDetach(this.fd);
    } finally {
      this.fd.close();
    }
  }
}

function inNs<T>(netns: string | undefined, fn: () => T): T {
  return netns === undefined ? fn() : inNetns(netns, fn);
}

/** @internal A bpf link of `prog` on device `dev` (looked up in `netns`, where the link is made). */
export function createDeviceLink(prog: Fd, kind: 'tcx' | 'xdp', o: { dev: string; netns?: Netns; attachType: number; flags?: number }): KernelLink {
  const netns = netnsFile(o.netns);
  const ifindex = withNetlink(netns, (nl) => linkIndex(nl, o.dev));
  const fd = inNs(netns, () => linkCreate({ prog, attachType: o.attachType, targetIfindex: ifindex, ...(o.flags ? { flags: o.flags } : {}) }));
  return new KernelLink(kind, o.dev, o.netns, fd);
}

export type XdpMode = 'generic' | 'native' | 'offload';

export function xdpLinkFlags(mode: XdpMode | undefined): number {
  switch (mode) {
    case undefined: return 0;
    case 'generic': return XDP_FLAGS.XDP_FLAGS_SKB_MODE;
    case 'native': return XDP_FLAGS.XDP_FLAGS_DRV_MODE;
    case 'offload': return XDP_FLAGS.XDP_FLAGS_HW_MODE;
    default: throw new BpfError(`XDP mode '${String(mode)}' is not generic, native or offload`);
  }
}

export const TCX_ATTACH: Record<Direction, number> = { ingress: bpf_attach_type.BPF_TCX_INGRESS, egress: bpf_attach_type.BPF_TCX_EGRESS };
