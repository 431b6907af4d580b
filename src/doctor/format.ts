// Human-readable rendering of a doctor Report.
import type { LoaderView } from '../object/index.js';
import type { BpftsView, Finding, LoaderName, Report } from './doctor.js';
import type { VerifyReport } from './verify.js';

function viewText(v: LoaderView | BpftsView): string {
  const l = v as LoaderView;
  if (!v.accepted) return `FAILS  ${l.error ?? v.note ?? ''}${l.error && v.note ? `\n${' '.repeat(20)}${v.note}` : ''}`;
  const type = v.progType ?? '';
  const attach = l.expectedAttachType ? ` (${l.expectedAttachType})` : '';
  return `ok     ${type}${attach}${v.note ? ` — ${v.note}` : ''}`;
}

function findingText(f: Finding): string {
  const where = [f.program && !f.message.includes(`prog '${f.program}'`) ? `prog '${f.program}'` : undefined, f.section && !f.program ? f.section : undefined, f.insn !== undefined ? `insn ${f.insn}` : undefined]
    .filter(Boolean).join(', ');
  const who = f.loaders.length > 0 ? ` [${f.loaders.join(', ')}]` : '';
  let out = `  ${f.severity === 'info' ? 'note' : f.severity}${who}: ${where ? `${where}: ` : ''}${f.message}\n`;
  if (f.hint) out += `    hint: ${f.hint}\n`;
  return out;
}

/** Which loader the verdict is for, and why. */
function loaderLine(report: Report): string {
  if (!report.assumedLoader) return `loader: none assumed (${report.assumedBecause}): every loader must load it\n`;
  if (report.loader) return `loader: ${report.loader} (--loader)\n`;
  return `loader: ${report.assumedLoader}, assumed from ${report.assumedBecause} (--loader picks another)\n`;
}

function verdictWord(report: { ok: boolean }, doctor: Report): string {
  return `${report.ok ? 'ok' : 'will not load'}${doctor.assumedLoader ? ` with ${doctor.assumedLoader}` : ''}`;
}

/** The report as text: per program the loaders' views and what works, then the object's problems. */
export function formatReport(report: Report, path: string): string {
  let out = loaderLine(report);
  for (const p of report.programs) {
    out += `program '${p.name}' in section '${p.section}':\n`;
    for (const v of p.views) out += `  ${v.loader.padEnd(12)}${viewText(v)}\n`;
    if (p.intent) out += `  likely meant for: ${p.intent} (${p.intentReason})\n`;
    if (p.suggestions.length > 0) {
      out += '  what works:\n';
      for (const s of p.suggestions) {
        const names = s.sections.length > 0 ? `SEC("${s.sections.join('") or SEC("')}")` : 'any section name';
        out += `    ${s.loader.padEnd(12)}${names}${s.note ? ` — ${s.note}` : ''}\n`;
        for (const c of s.commands) out += `${' '.repeat(18)}$ ${c}\n`;
      }
    }
    if (p.intent?.startsWith('tc') || p.views.some((v) => v.loader === 'tc' && !v.accepted)) {
      out += "  note: tc's \"Error: TC classifier not found.\" is a different problem: the kernel has no\n" +
        "        'bpf' classifier (cls_bpf not built or not loaded: modprobe cls_bpf), not a section name issue.\n";
    }
    out += '\n';
  }
  const groups: [string, Finding[]][] = [
    ['errors', report.findings.filter((f) => f.severity === 'error')],
    ['warnings', report.findings.filter((f) => f.severity === 'warning')],
    ['notes', report.findings.filter((f) => f.severity === 'info')],
  ];
  for (const [title, list] of groups) {
    if (list.length > 0) out += `${title} (${list.length}):\n${list.map(findingText).join('')}\n`;
  }
  const verdict = (Object.entries(report.verdicts) as [LoaderName, boolean][])
    .map(([l, ok]) => `${l} ${ok ? 'ok' : 'FAILS'}`).join(', ');
  out += `${path}: ${verdictWord(report, report)} (${verdict})${report.kernel ? ` [BTF checked for Linux ${report.kernel}]` : ''}\n`;
  return out;
}

/** verify's report: doctor's text, then each program's static verdict with its findings. */
export function formatVerifyReport(report: VerifyReport, path: string): string {
  let out = formatReport(report.doctor, path);
  out += '\nstatic verification:\n';
  for (const p of report.programs) {
    out += `  ${p.ok ? 'ok   ' : 'FAILS'} ${p.name} (section ${p.section}, ${p.progType ?? 'type unknown'}, stack ${p.stackDepth} bytes${p.callees.length ? `, calls ${p.callees.join(', ')}` : ''})\n`;
    for (const f of p.findings) {
      out += `    ${f.severity}: ${f.function !== p.name ? `${f.function}: ` : ''}insn ${f.insn}: ${f.message}\n`;
      if (f.disasm) out += `      ${String(f.insn).padStart(5)}: ${f.disasm}\n`;
      if (f.source) out += `      ; ${f.source.text} (${f.source.file}:${f.source.line})\n`;
    }
  }
  out += `${path}: ${verdictWord(report, report.doctor)}\n`;
  return out;
}
