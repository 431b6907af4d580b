// A self-contained HTML page of a coverage report: a summary per file and per function, then each
// C file with its hit counts beside the lines and the jump edges that never ran marked. A file whose
// source cannot be read is shown by line number with the text line_info carries for each line.
import { summarizeCoverage, type CoverageCounts, type CoverageReport, type FileCoverage, type LineCoverage } from './coverage-report.js';

export interface CoverageHtmlOptions {
  /** The text of a file of the report, or undefined when it cannot be found. */
  source?: (file: string) => string | undefined;
  /** Page title; default "BPF coverage". */
  title?: string;
}

const escape = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function pct(c: CoverageCounts): string {
  return c.found === 0 ? '-' : `${((100 * c.hit) / c.found).toFixed(1)}%`;
}

function cell(c: CoverageCounts): string {
  const cls = c.found === 0 ? '' : c.hit === c.found ? 'full' : c.hit === 0 ? 'none' : 'part';
  return `<td class="${cls}">${c.hit}/${c.found} <small>${pct(c)}</small></td>`;
}

const anchor = (i: number) => `f${i}`;

function lineClass(l: LineCoverage | undefined): string {
  if (l === undefined) return '';
  if (l.hits === 0) return 'miss';
  return l.branches.some((b) => b.taken === 0 || b.notTaken === 0) ? 'part' : 'hit';
}

/** The jump edges of a line as "taken / not taken" counts, with those that never ran called out. */
function branchNote(l: LineCoverage): string {
  if (l.branches.length === 0) return '';
  const parts = l.branches.map((b) => {
    const missed = [b.taken === 0 ? 'jump never taken' : '', b.notTaken === 0 ? 'fall-through never taken' : ''].filter(Boolean);
    const title = `${b.section}+${b.offset}: jumped ${b.taken}, fell through ${b.notTaken}${missed.length ? ` (${missed.join(', ')})` : ''}`;
    return `<span class="br ${missed.length ? 'brmiss' : 'brok'}" title="${escape(title)}">${b.taken}/${b.notTaken}</span>`;
  });
  return parts.join(' ');
}

function fileSection(f: FileCoverage, i: number, text: string | undefined): string {
  const byLine = new Map(f.lines.map((l) => [l.line, l]));
  const last = Math.max(0, ...f.lines.map((l) => l.line));
  const sourceLines = text?.split('\n');
  const rows: string[] = [];
  const row = (n: number, code: string) => {
    const l = byLine.get(n);
    rows.push(`<tr class="${lineClass(l)}" id="${anchor(i)}-${n}"><td class="n">${n}</td><td class="c">${l ? l.hits : ''}</td>` +
      `<td class="b">${l ? branchNote(l) : ''}</td><td class="s"><pre>${escape(code)}</pre></td></tr>`);
  };
  if (sourceLines !== undefined) {
    const count = Math.max(sourceLines.length - (sourceLines.at(-1) === '' ? 1 : 0), last);
    for (let n = 1; n <= count; n++) row(n, sourceLines[n - 1] ?? '');
  } else {
    for (const l of f.lines) row(l.line, l.text);
  }
  const note = sourceLines === undefined ? '<p class="note">Source not found: the lines with instructions, with their text from BTF line_info.</p>' : '';
  return `<h2 id="${anchor(i)}">${escape(f.file)}</h2>${note}
<table class="src"><thead><tr><th>line</th><th>hits</th><th>branches (jumped/fell through)</th><th>source</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>`;
}

export function toCoverageHtml(report: CoverageReport, options: CoverageHtmlOptions = {}): string {
  const title = options.title ?? 'BPF coverage';
  const total = summarizeCoverage(report);
  const fileRows = report.files.map((f, i) => {
    const s = summarizeCoverage(f);
    return `<tr><td><a href="#${anchor(i)}">${escape(f.file)}</a></td>${cell(s.lines)}${cell(s.branches)}${cell(s.functions)}</tr>`;
  });
  const funcRows = report.files.flatMap((f, i) => f.functions.map((fn) =>
    `<tr class="${fn.hits > 0 ? 'hit' : 'miss'}"><td><a href="#${anchor(i)}-${fn.line}">${escape(fn.name)}</a></td><td>${escape(f.file)}:${fn.line}</td><td>${fn.hits}</td></tr>`));
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>
body { font-family: sans-serif; margin: 1.5em; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
td.full { background: #c8f0c8; } td.part { background: #f8e8a0; } td.none { background: #f4c0c0; }
table.src td { border: none; padding: 0 6px; vertical-align: top; }
table.src pre { margin: 0; }
td.n, td.c { text-align: right; color: #666; }
tr.hit td.s, tr.hit td.c { background: #d8f8d8; }
tr.part td.s, tr.part td.c { background: #fbf0b8; }
tr.miss td.s, tr.miss td.c { background: #f8d0d0; }
span.br { font-size: 85%; padding: 0 3px; border-radius: 3px; }
span.brmiss { background: #f08080; } span.brok { background: #a0e0a0; }
p.note { color: #a05000; }
</style></head><body>
<h1>${escape(title)}</h1>
<p>${report.executed} instructions executed${report.unmapped ? `, ${report.unmapped} of them on no source line` : ''}.</p>
<table><thead><tr><th>file</th><th>lines</th><th>branches</th><th>functions</th></tr></thead><tbody>
${fileRows.join('\n')}
<tr><th>total</th>${cell(total.lines)}${cell(total.branches)}${cell(total.functions)}</tr>
</tbody></table>
<table><thead><tr><th>function</th><th>where</th><th>calls</th></tr></thead><tbody>
${funcRows.join('\n')}
</tbody></table>
${report.files.map((f, i) => fileSection(f, i, options.source?.(f.file))).join('\n')}
</body></html>
`;
}
