// Verifier logs with the program's C source lines put back in: the verifier numbers instructions
// of the linked program, and line_info (rebased onto the same layout) says which line each came from.
import type { SourceLine } from './link.js';

/** The source line of instruction `insn`: the last line_info record at or before it. */
function lineAt(lines: readonly SourceLine[], insn: number): SourceLine | undefined {
  let lo = 0;
  let hi = lines.length - 1;
  let found: SourceLine | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (lines[mid]!.insn <= insn) {
      found = lines[mid];
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/**
 * Inserts `; <source> @ file:line` before the first log line of each instruction that starts a new
 * source line, unless the kernel already printed that source line there (it does when it got BTF).
 */
export function annotateVerifierLog(log: string, lines: readonly SourceLine[]): string {
  if (lines.length === 0) return log;
  const out: string[] = [];
  let last: SourceLine | undefined;
  for (const text of log.split('\n')) {
    const m = /^(\d+): \(/.exec(text);
    if (m) {
      const line = lineAt(lines, Number(m[1]));
      if (line && line !== last) {
        const src = `; ${line.line.trim()}`;
        const prev = out[out.length - 1] ?? '';
        if (!prev.startsWith(src)) out.push(`${src} @ ${line.file.split('/').pop()}:${line.lineNum}`);
        last = line;
      }
    }
    out.push(text);
  }
  return out.join('\n');
}
