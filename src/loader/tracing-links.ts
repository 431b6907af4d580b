// Tracing attachments as links of the library: the raw layer's attachments (attach/tracing.ts),
// one per hook or, for perf software events, one per CPU, behind the Link interface that tc, tcx
// and XDP links have, so that a program and its collection take them down the same way.
import { TracingError } from './attach/tracing-errors.js';
import type { Binding, TracingKind, TracingLink as RawTracingLink } from './attach/tracing.js';
import { Link } from './link.js';
import { linkGetInfo } from './sys/bpf.js';
import type { Fd } from './sys/fd.js';

/**
 * A tracing attachment (tracepoint, raw tracepoint, kprobe, uprobe, perf event, fentry/fexit, ...).
 * `detach()` removes every perf event, bpf link, pin and tracefs probe event it made; `close()`
 * (and the collection's) keeps a pinned one attached.
 */
export class TracingLink extends Link {
  declare readonly kind: TracingKind;
  readonly #parts: readonly RawTracingLink[];

  /** @internal */
  constructor(parts: readonly RawTracingLink[]) {
    super(parts[0]!.kind);
    this.#parts = parts;
  }

  /** The hook as resolved: "syscalls:sys_enter_getppid", "/usr/bin/app:h_sum", "ip_rcv_core.isra.0". */
  get target(): string {
    return this.#parts.length === 1 ? this.#parts[0]!.target : this.#parts.map((p) => p.target).join(', ');
  }

  /** 'link' (BPF_LINK_CREATE, Linux 5.15+ for perf events) or 'ioctl' (PERF_EVENT_IOC_SET_BPF). */
  get binding(): Binding {
    return this.#parts[0]!.binding;
  }

  /** What was chosen on the caller's behalf (the kallsyms variant a function resolved to, a uprobe's file offset). */
  get notes(): readonly string[] {
    return this.#parts.flatMap((p) => p.notes);
  }

  /** The bpf link descriptor; undefined for a program bound with PERF_EVENT_IOC_SET_BPF, or one link per CPU (perf events). */
  get fd(): Fd | undefined {
    return this.#parts.length === 1 ? this.#parts[0]!.link : undefined;
  }

  /** The kernel's link ids (`bpftool link show id N`), one per CPU for perf events; empty for ioctl bindings. */
  get ids(): number[] {
    return this.#parts.flatMap((p) => (p.link ? [linkGetInfo(p.link).id] : []));
  }

  /** Where pin() put the link. */
  get pinnedAt(): string | undefined {
    return this.#parts[0]!.pinnedAt;
  }

  /**
   * Pins the link on bpffs: the attachment then outlives this handle and the process, until
   * detach() here or `detachPinnedLink(path)` (bpfts/loader/raw) or `bpfts detach --pin` elsewhere.
   */
  pin(path: string): void {
    if (!this.attached) throw new TracingError(`the ${this.kind} link on ${this.target} is no longer attached through this handle`);
    if (this.#parts.length !== 1) {
      throw new TracingError(`a perf event attachment on ${this.#parts.length} CPUs is ${this.#parts.length} links, which one path cannot pin`, {
        hint: 'attach one CPU per link to pin them: attachPerfEvent({ event, cpus: [N] })',
      });
    }
    this.#parts[0]!.pin(path);
  }

  protected override remove(): void {
    let first: unknown;
    for (const p of this.#parts) {
      try {
        p.detach();
      } catch (e) {
        first ??= e;
      }
    }
    if (first !== undefined) throw first;
  }

  protected override release(): void {
    if (this.pinnedAt === undefined) {
      this.remove();
      return;
    }
    for (const p of this.#parts) p.close();
  }

  override toString(): string {
    return this.#parts.map(String).join('; ');
  }
}
