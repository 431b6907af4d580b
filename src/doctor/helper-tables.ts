/**
 * What the kernel answered when asked which helpers each program type may call (the loader's
 * probeHelpers writes helper-data.ts in this shape; doctor only reads it, so it needs no loader).
 */
export interface HelperTables {
  /** The kernel release probed (uname -r). */
  kernel: string;
  /** __BPF_FUNC_MAX_ID of that kernel. */
  funcMaxId: number;
  /** Per bpf_prog_type name: the helpers (bpf_func_id names without bpf_) it may call. */
  progTypes: Record<string, { expectedAttachType?: string; flags?: number; helpers: string[] }>;
  /** Program types not probed, with the reason. */
  notProbed: Record<string, string>;
  /** Helpers whose proto is gpl_only. */
  gplOnly: string[];
}
