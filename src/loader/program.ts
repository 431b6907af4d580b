// A loaded program and its attachments.
import { bpf_attach_type } from '../uapi/index.js';
import type { Direction } from './netlink/index.js';
import type { LoadedProgram } from './object/load.js';
import { TCX_ATTACH, TcLink, createDeviceLink, xdpLinkFlags, type Link, type Netns, type TcAttachOptions, type XdpMode } from './link.js';
import { progTestRun, type TestRunOptions, type TestRunResult } from './sys/bpf.js';
import type { Fd } from './sys/fd.js';

export class Program {
  readonly #links = new Set<Link>();
  readonly #loaded: LoadedProgram;

  /** @internal */
  constructor(loaded: LoadedProgram) {
    this.#loaded = loaded;
  }

  /** The function name in the object. */
  get name(): string {
    return this.#loaded.name;
  }

  get section(): string {
    return this.#loaded.section;
  }

  /** "sched_cls", "xdp", ... (enum bpf_prog_type without its prefix). */
  get typeName(): string {
    return this.#loaded.typeName;
  }

  get type(): number {
    return this.#loaded.type;
  }

  get fd(): Fd {
    return this.#loaded.fd;
  }

  /** The kernel's program id. */
  get id(): number {
    return this.#loaded.id;
  }

  /** The kernel's tag (16 hex digits, as bpftool prints it). */
  get tag(): string {
    return this.#loaded.tag;
  }

  /** The attachments made through this handle and not yet detached. */
  get links(): readonly Link[] {
    return [...this.#links];
  }

  #track<L extends Link>(link: L): L {
    this.#links.add(link);
    link.onDetach(() => this.#links.delete(link));
    return link;
  }

  /** A cls_bpf filter (direct action) on the device's clsact hook, adding the qdisc when the device has none. */
  attachTc(o: TcAttachOptions): TcLink {
    return this.#track(new TcLink(this.fd, this.id, o));
  }

  /** A tcx link (Linux 6.6+) on the device's ingress or egress. */
  attachTcx(o: { dev: string; direction: Direction; netns?: Netns }): Link {
    return this.#track(createDeviceLink(this.fd, 'tcx', { dev: o.dev, ...(o.netns !== undefined ? { netns: o.netns } : {}), attachType: TCX_ATTACH[o.direction] }));
  }

  /** An XDP link (Linux 5.9+); `mode` generic (skb), native (driver) or offload; default the kernel's choice. */
  attachXdp(o: { dev: string; mode?: XdpMode; netns?: Netns }): Link {
    return this.#track(createDeviceLink(this.fd, 'xdp', {
      dev: o.dev, ...(o.netns !== undefined ? { netns: o.netns } : {}), attachType: bpf_attach_type.BPF_XDP, flags: xdpLinkFlags(o.mode),
    }));
  }

  /** BPF_PROG_TEST_RUN: the program run once (or `repeat` times) on `dataIn`. */
  testRun(o: TestRunOptions): TestRunResult {
    return progTestRun(this.fd, o);
  }

  /** Detaches every link made through this handle. */
  detachAll(): void {
    const errors: unknown[] = [];
    for (const link of [...this.#links]) {
      try {
        link.detach();
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}
