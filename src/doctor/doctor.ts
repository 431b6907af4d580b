// `bpfts doctor`: why an object would fail to load with libbpf (upstream and Debian's 1.1), tc,
// aya or bpfts, and what to do about it. The verdict is for one loader, the one the object is
// written for (assumeLoader) unless --loader names another: a libbpf object is not broken because
// aya would refuse its section names.
import {
  LOADERS, loaderView, suggestSections, fixupBtf,
  type AttachIntent, type BpfObject, type BpfProgram, type LoaderId, type LoaderView, type Suggestion,
} from '../object/index.js';
import { endianness } from 'node:os';
import { sectionByName, STT_FUNC } from '../elf/index.js';
import { encodeBtf, sanitizeBtf, btfFeaturesOf, parseKernelVersion, type BtfFeature } from '../btf/index.js';
import { decodeProgram, BPF_CALL, BPF_JMP } from '../isa/index.js';
import { UsageError } from '../errors.js';
import { checkBtf, featureSince, LOADER_FIXED_CODES, type BtfProblem } from './btf-check.js';
import { GPL_COMPATIBLE_LICENSES, GPL_ONLY_HELPERS, helperByID } from './helpers.js';
import { inferIntent } from './intent.js';

export type LoaderName = LoaderId | 'bpfts';
export const LOADER_NAMES: readonly LoaderName[] = [...LOADERS, 'bpfts'];

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  severity: Severity;
  /** Stable id for scripts. */
  code: string;
  message: string;
  /** Loaders the problem stops; empty means every loader. Only meaningful for errors. */
  loaders: LoaderName[];
  program?: string;
  section?: string;
  insn?: number;
  typeId?: number;
  hint?: string;
}

export interface ProgramDiagnosis {
  name: string;
  section: string;
  views: (LoaderView | BpftsView)[];
  intent?: AttachIntent;
  intentReason?: string;
  /** Names and commands that work, when some loader refuses the section. */
  suggestions: Suggestion[];
}

export interface BpftsView {
  loader: 'bpfts';
  accepted: boolean;
  progType?: string;
  note?: string;
}

export interface Report {
  /** The loader --loader named. */
  loader?: LoaderName;
  /** The loader `ok` is for: `loader`, else the one the object is written for; absent when nothing names one. */
  assumedLoader?: LoaderName;
  /** Why that loader: '--loader', or what in the object points to it. */
  assumedBecause: string;
  kernel?: string;
  programs: ProgramDiagnosis[];
  /**
   * Problems as errors and warnings for the verdict's loader; those that stop only other loaders
   * are 'info' (notes), unless no loader loads the object at all.
   */
  findings: Finding[];
  /** Per loader: does the object load (as far as bpfts can tell without the kernel)? */
  verdicts: Record<LoaderName, boolean>;
  /** The verdict for `assumedLoader`, or for every loader when there is none. */
  ok: boolean;
}

export interface DoctorOptions {
  /** Focus the verdict on one loader. */
  loader?: LoaderName;
  /** Kernel release for BTF kind support ("5.10"). */
  kernel?: string;
  /** The object's path, used in suggested commands. */
  path?: string;
  /** Network device used in suggested commands. */
  dev?: string;
}

const LIBBPF: LoaderName[] = ['libbpf', 'libbpf-1.1'];

function sectionByNameOf(obj: BpfObject, name: string) {
  return sectionByName(obj.elf, name);
}

function bpftsView(p: BpfProgram, libbpf: LoaderView, intent: AttachIntent | undefined): BpftsView {
  if (libbpf.accepted) return { loader: 'bpfts', accepted: true, ...(libbpf.progType ? { progType: libbpf.progType } : {}) };
  if (intent) {
    return { loader: 'bpfts', accepted: true, note: `bpfts loads it when told the attach point (see the bpfts command below); section '${p.section}' alone names no type` };
  }
  return { loader: 'bpfts', accepted: false, note: 'bpfts needs a known section name or an explicit attach point' };
}

/** Helper calls in an entry program (helper id, instruction index). */
function helperCalls(p: BpfProgram, le: boolean): { id: number; insn: number }[] {
  const { insns } = decodeProgram(p.bytes, le);
  return insns.filter((i) => i.opcode === (BPF_JMP | BPF_CALL) && i.src === 0).map((i) => ({ id: i.imm, insn: i.index }));
}

function needsBtf(obj: BpfObject): boolean {
  return sectionByNameOf(obj, '.maps') !== undefined || sectionByNameOf(obj, '.kconfig') !== undefined || sectionByNameOf(obj, '.ksyms') !== undefined;
}

/** Diagnose `obj`. Never throws for problems in the object; only a bad option is a UsageError. */
export function doctor(obj: BpfObject, options: DoctorOptions = {}): Report {
  if (options.loader && !LOADER_NAMES.includes(options.loader)) {
    throw new UsageError(`unknown loader '${options.loader}'`, { hint: `one of ${LOADER_NAMES.join(', ')}` });
  }
  if (options.kernel !== undefined && !parseKernelVersion(options.kernel)) {
    throw new UsageError(`'${options.kernel}' is not a kernel version`, { hint: 'e.g. --kernel 5.10' });
  }
  const findings: Finding[] = [];
  const programs: ProgramDiagnosis[] = [];
  const objPath = options.path ?? 'OBJ';

  for (const d of obj.diagnostics) {
    if (d.code === 'btf-invalid' || d.code === 'btf-ext-invalid') continue;
    findings.push({
      severity: d.severity, code: d.code, message: d.message, loaders: [],
      ...(d.program ? { program: d.program } : {}), ...(d.section ? { section: d.section } : {}),
      ...(d.insn !== undefined ? { insn: d.insn } : {}), ...(d.hint ? { hint: d.hint } : {}),
    });
  }

  for (const p of obj.programs.filter((x) => x.kind === 'entry')) {
    const views: (LoaderView | BpftsView)[] = LOADERS.map((l) => loaderView(p.section, l, p.name));
    const guess = inferIntent(p, obj.littleEndian);
    views.push(bpftsView(p, views[0] as LoaderView, guess?.intent));
    const failing = views.filter((v) => !v.accepted);
    const diag: ProgramDiagnosis = { name: p.name, section: p.section, views, suggestions: [] };
    if (guess) {
      diag.intent = guess.intent;
      diag.intentReason = guess.reason;
    }
    if (failing.length > 0) {
      if (guess) diag.suggestions = suggestSections(guess.intent, { object: objPath, ...(options.dev ? { dev: options.dev } : {}), section: p.section });
      const common = commonName(diag.suggestions, failing.map((v) => v.loader));
      for (const v of failing) {
        const l = v as LoaderView;
        const text = v.loader === 'bpfts' ? v.note ?? '' : `${l.error ?? ''}${l.note ? ` (${l.note})` : ''}`;
        findings.push({
          severity: 'error', code: 'section-name', loaders: [v.loader], program: p.name, section: p.section,
          message: `${v.loader}: ${text}`,
          hint: common ? `rename the section: bpfts fix ${objPath} -o fixed.o --section ${p.section}=${common}` : 'rename the section to one the loader knows (bpfts doctor --json lists each loader\'s view)',
        });
      }
    }
    programs.push(diag);
  }

  if (obj.littleEndian !== (endianness() === 'LE')) {
    findings.push({
      severity: 'error', code: 'byte-order', loaders: [],
      message: `the object is ${obj.littleEndian ? 'little' : 'big'}-endian but this machine is not: the kernel runs only its own byte order (libbpf: "elf: endianness mismatch")`,
      hint: `build with clang -target ${endianness() === 'LE' ? 'bpfel' : 'bpfeb'}`,
    });
  }
  checkMaps(obj, findings);
  checkMapInitRelocations(obj, findings);
  checkLicense(obj, findings);
  checkSections(obj, findings);
  checkExterns(obj, findings);
  checkBtfFindings(obj, options.kernel, objPath, findings);

  const verdicts = Object.fromEntries(LOADER_NAMES.map((l) => [l, !findings.some((f) => f.severity === 'error' && (f.loaders.length === 0 || f.loaders.includes(l)))])) as Record<LoaderName, boolean>;
  const assumed: Assumption = options.loader ? { loader: options.loader, because: '--loader' } : assumeLoader(obj, programs);
  const ok = assumed.loader ? verdicts[assumed.loader] : LOADER_NAMES.every((l) => verdicts[l]);
  // When nothing loads the object, every loader's reasons are worth fixing; verdicts are already taken.
  if (assumed.loader && LOADER_NAMES.some((l) => verdicts[l])) {
    for (const f of findings) {
      if (f.loaders.length > 0 && !f.loaders.includes(assumed.loader)) f.severity = 'info';
    }
  }
  return {
    ...(options.loader ? { loader: options.loader } : {}),
    ...(assumed.loader ? { assumedLoader: assumed.loader } : {}), assumedBecause: assumed.because,
    ...(options.kernel ? { kernel: options.kernel } : {}),
    programs, findings, verdicts, ok,
  };
}

interface Assumption {
  loader?: LoaderName;
  because: string;
}

const TC_OR_XDP = new Set<AttachIntent>(['tc-ingress', 'tc-egress', 'tcx-ingress', 'tcx-egress', 'xdp']);

function accepts(p: ProgramDiagnosis, loader: LoaderName): boolean {
  return p.views.some((v) => v.loader === loader && v.accepted);
}

/**
 * The loader an object is written for, from what only that loader's users write. The first rule
 * that matches decides (`bpfts doctor --help` lists the same):
 *  1. iproute2's `struct bpf_elf_map` in `maps` (36 bytes; no other loader defines it): tc.
 *  2. BTF-defined `.maps`, `.kconfig` or `.ksyms` (libbpf's formats): libbpf, even when a section
 *     name is one libbpf refuses: that refusal is then the problem to fix.
 *  3. Every program in a section upstream libbpf knows: libbpf, also with a legacy `maps`
 *     section (libbpf < 1.0 read it; 1.0 and later refuse it, and that is the problem).
 *  4. Every program in a section aya knows, some libbpf does not (`socket/3`, `classifier/NAME`): aya.
 *  5. tc or XDP programs (by section words or code) in sections neither knows, with legacy `maps`
 *     or none: tc, as iproute2's tc and ip load any section named with `sec NAME`. Not when some
 *     program is anything else (a socket filter, a cgroup or tracing program): iproute2 cannot
 *     load those.
 *  6. Otherwise none: every loader must load it.
 */
function assumeLoader(obj: BpfObject, programs: ProgramDiagnosis[]): Assumption {
  if (obj.maps.some((m) => m.style === 'iproute2')) return { loader: 'tc', because: "iproute2 struct bpf_elf_map definitions in 'maps'" };
  const libbpfNames = programs.length > 0 && programs.every((p) => accepts(p, 'libbpf'));
  if (sectionByNameOf(obj, '.maps')) return { loader: 'libbpf', because: `BTF-defined .maps${libbpfNames ? ' and libbpf section names' : ''}` };
  if (needsBtf(obj)) return { loader: 'libbpf', because: 'libbpf externs (.kconfig or .ksyms)' };
  if (libbpfNames) return { loader: 'libbpf', because: 'libbpf section names' };
  if (programs.length > 0 && programs.every((p) => accepts(p, 'aya'))) {
    const own = programs.find((p) => !accepts(p, 'libbpf'))!;
    return { loader: 'aya', because: `aya section names ('${own.section}' is aya's, not libbpf's)` };
  }
  if (programs.some((p) => p.intent && TC_OR_XDP.has(p.intent)) && programs.every((p) => (p.intent ? TC_OR_XDP.has(p.intent) : !accepts(p, 'libbpf')))) {
    return { loader: 'tc', because: 'tc/XDP programs in sections only iproute2 takes (tc and ip load any section given with `sec NAME`)' };
  }
  return { because: 'nothing in the object names its loader' };
}

/** The first section name every failing loader accepts for the intended attach point. */
function commonName(suggestions: Suggestion[], failing: LoaderName[]): string | undefined {
  const lists = suggestions.filter((s) => failing.includes(s.loader as LoaderName) && s.sections.length > 0).map((s) => s.sections);
  if (lists.length === 0) return undefined;
  return lists[0]!.find((name) => lists.every((l) => l.includes(name)));
}

function checkMaps(obj: BpfObject, findings: Finding[]): void {
  const legacy = obj.maps.filter((m) => m.style === 'legacy' || m.style === 'iproute2');
  const mapsSection = sectionByNameOf(obj, 'maps');
  if (legacy.length > 0 || mapsSection) {
    findings.push({
      severity: 'error', code: 'legacy-maps', loaders: LIBBPF, section: 'maps',
      message: "libbpf: legacy map definitions in 'maps' section are not supported by libbpf v1.0+",
      hint: 'define maps in SEC(".maps") with __uint/__type (BTF-defined maps); tc and aya still read the legacy section',
    });
  }
}

/** libbpf's init_prog_array_slots: a .maps relocation must name a program libbpf loads itself. */
function checkMapInitRelocations(obj: BpfObject, findings: Finding[]): void {
  for (const rs of obj.elf.relocationSections) {
    if (rs.target.name !== '.maps') continue;
    rs.relocations.forEach((rel, i) => {
      const sym = obj.elf.symbols[rel.symbol];
      if (!sym || sym.type !== STT_FUNC) return;
      if (obj.programs.some((p) => p.kind === 'entry' && p.name === sym.name)) return;
      findings.push({
        severity: 'error', code: 'map-init-program', loaders: LIBBPF, section: '.maps',
        message: `libbpf: .maps relo #${i}: '${sym.name}' isn't a valid program reference`,
        hint: 'a prog array may only be initialised with programs in their own SEC(), not .text functions',
      });
    });
  }
}

function checkLicense(obj: BpfObject, findings: Finding[]): void {
  const gpl = obj.license !== undefined && GPL_COMPATIBLE_LICENSES.has(obj.license);
  if (obj.license === undefined) {
    findings.push({ severity: 'warning', code: 'no-license', loaders: [], message: "no 'license' section: the kernel treats the programs as non-GPL", hint: 'add char LICENSE[] SEC("license") = "GPL";' });
  }
  if (gpl) return;
  for (const p of obj.programs) {
    for (const call of helperCalls(p, obj.littleEndian)) {
      const name = helperByID(call.id);
      if (!name || !GPL_ONLY_HELPERS.has(name)) continue;
      findings.push({
        severity: 'error', code: 'gpl-only-helper', loaders: [], program: p.name, section: p.section, insn: call.insn,
        message: `cannot call GPL-restricted function from non-GPL compatible program (bpf_${name} at insn ${call.insn}; license ${obj.license === undefined ? 'missing' : JSON.stringify(obj.license)})`,
        hint: 'use a GPL-compatible license string ("GPL", "Dual BSD/GPL", ...) or avoid the helper',
      });
    }
  }
}

function checkSections(obj: BpfObject, findings: Finding[]): void {
  for (const s of obj.elf.sections) {
    if (s.name === '.eh_frame') {
      findings.push({
        severity: 'warning', code: 'eh-frame', loaders: [], section: s.name,
        message: '.eh_frame (unwind tables) is not BPF: libbpf skips it and its .rel.eh_frame; older loaders trip over the relocations',
        hint: 'build with -fno-asynchronous-unwind-tables, or: bpfts fix OBJ -o OUT --strip-eh-frame',
      });
    }
  }
}

function checkExterns(obj: BpfObject, findings: Finding[]): void {
  const ksyms = new Set(obj.btf?.ownTypes().filter((t) => t.kind === 'DATASEC' && t.name === '.ksyms')
    .flatMap((t) => (t.kind === 'DATASEC' ? t.vars.map((v) => obj.btf!.types[v.type]?.name ?? '') : [])) ?? []);
  for (const p of obj.programs) {
    for (const r of p.relocations) {
      if ((r.kind === 'extern-call' || r.kind === 'kfunc') && !ksyms.has(r.target)) {
        // libbpf resolves extern functions only as kfuncs from a .ksyms DATASEC.
        findings.push({
          severity: 'error', code: 'unresolved-call', loaders: [], program: p.name, section: p.section, insn: r.insn,
          message: `call to undefined function '${r.target}', which is neither a BPF helper nor a kfunc declared __ksym (libbpf: "extern function ${r.target} is unsupported")`,
          hint: 'call helpers through their id (bpf_helpers.h), define the function in the object, or declare a kfunc with __ksym',
        });
      } else if (r.kind === 'unknown') {
        findings.push({
          severity: 'error', code: 'unknown-relocation', loaders: [], program: p.name, section: p.section, insn: r.insn,
          message: `relocation against '${r.target}' that no loader can resolve`,
        });
      }
    }
  }
}

function btfFinding(p: BtfProblem, severity: Severity, loaders: LoaderName[], extra: string, hint?: string): Finding {
  return {
    severity, code: p.code, loaders, section: '.BTF', message: `${p.message}${extra}`,
    ...(p.typeId !== undefined ? { typeId: p.typeId } : {}), ...(hint ? { hint } : {}),
  };
}

function checkBtfFindings(obj: BpfObject, kernel: string | undefined, objPath: string, findings: Finding[]): void {
  const required = needsBtf(obj);
  if (!obj.btfSection) {
    if (required) findings.push({ severity: 'error', code: 'btf-missing', loaders: [], message: 'the object needs BTF (.maps, .kconfig or .ksyms) but has no .BTF section', hint: 'build with clang -g' });
    return;
  }
  const raw = checkBtf(obj.btfSection.data, kernel ? { kernel } : {});
  const unparsable = raw.find((p) => p.code === 'btf-unparsable' || p.code.startsWith('btf-header') || p.code === 'btf-magic' || p.code === 'btf-sections');
  const severity: Severity = required ? 'error' : 'warning';
  const optional = required ? '' : ' (libbpf: "BTF is optional, ignoring")';
  if (unparsable || !obj.btf) {
    for (const p of raw) findings.push(btfFinding(p, severity, [], optional));
    return;
  }
  // What a raw loader hands the kernel: the clang output as it is.
  const fixedHere = raw.filter((p) => LOADER_FIXED_CODES.has(p.code));
  for (const p of fixedHere) {
    findings.push(btfFinding(p, 'warning', ['tc'], ' — libbpf and bpfts fill DATASEC sizes and variable offsets from the ELF before BPF_BTF_LOAD; raw loaders (iproute2\'s legacy loader: "BTF debug data section \'.BTF\' rejected: Invalid argument (22)") do not',
      `bpfts fix ${objPath} -o fixed.o writes the sizes and offsets into the object`));
  }
  // What libbpf hands the kernel: fixed up, and sanitised for the named kernel.
  const fixed = fixupBtf(obj.elf, obj.btf);
  for (const p of fixed.problems) {
    findings.push({ severity: 'error', code: 'btf-fixup', loaders: LIBBPF, section: p.section, typeId: p.typeId, message: `libbpf: sec '${p.section}': ${p.message}` });
  }
  let features: Set<BtfFeature> | undefined;
  if (kernel) {
    features = btfFeaturesOf(kernel);
    const unsupported = raw.filter((p) => p.feature && !features!.has(p.feature));
    for (const p of unsupported) {
      findings.push(btfFinding(p, 'warning', ['tc'], ` — ${kernel} predates it (${p.feature} arrived in ${featureSince(p.feature!)}); libbpf rewrites such types before loading, raw loaders do not`,
        `bpfts fix ${objPath} -o fixed.o --sanitize-btf=${kernel}`));
    }
    sanitizeBtf(fixed.content, features);
  }
  const after = checkBtf(encodeBtf(fixed.content), kernel ? { kernel } : {});
  const seen = new Set([...fixedHere, ...(kernel ? raw.filter((p) => p.feature) : [])].map((p) => p.message));
  for (const p of after) {
    if (seen.has(p.message)) continue;
    findings.push(btfFinding(p, severity, [], `${optional} — the kernel rejects this even after libbpf's fix-ups`));
  }
}
