// Loading an object into the kernel: BTF, maps (created or reused from pins, global data filled and
// frozen), then each chosen program linked and verified. Everything created is registered in an
// Undo, so a failure at any step leaves no descriptor open and no pin behind, and each step
// (inStep) puts its name on the error, so the user learns which one the kernel refused.
import { existsSync, rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Btf } from '../../btf/index.js';
import { readMapSlotInits, readObject, type AttachIntent, type MapSlotInit, type BpfObject, type BpfProgram, type ProgramRelocation } from '../../object/index.js';
import { BPF_OBJ_NAME_LEN, BPF_PROG_LOAD_FLAGS } from '../abi/index.js';
import { bpf_prog_type } from '../../uapi/index.js';
import { mapUpdateElem, objPin, progGetInfo, progLoad } from '../sys/bpf.js';
import { SyscallError, VerifierError } from '../sys/errors.js';
import { rejectionReason } from '../sys/verifier-log.js';
import { ERRNO } from '../abi/index.js';
import type { Fd } from '../sys/fd.js';
import { loadObjectBtf } from './btf-load.js';
import { LoadError, ProgramRejectedError, inStep } from './errors.js';
import { readRawBtfExt, type RawBtfExt } from './ext-info.js';
import { linkProgram } from './link.js';
import { createMaps, ensureDir, planMaps, type CreatedMap } from './maps.js';
import { resolveExterns, type ExternSources } from './externs.js';
import { findAttachBtfId, type AttachBtfTarget } from './attach-btf.js';
import { applyCoreRelocations, type CoreResolution } from './core.js';
import { vmlinuxBtf } from './kernel-btf.js';
import { chooseProgType, progTypeName } from './prog-type.js';
import { Undo } from './undo.js';
import { annotateVerifierLog } from './verifier-log.js';

export interface LoadOptions {
  /** Programs to load, by function or section name; default every entry program outside `.text`. */
  programs?: string[];
  /** Program type for every program (a libbpf section name or a bpf_prog_type name). */
  type?: string;
  /** The attach point the programs are meant for: decides the type when the section does not. */
  attach?: AttachIntent;
  /** libbpf's object name (for global data map names); default: the file name up to its first dot. */
  objectName?: string;
  /** Directory for pinned maps (LIBBPF_PIN_BY_NAME) and, with pinAll, every map and program. */
  pinDir?: string;
  /** Pin every map and program under pinDir, sharing maps already pinned there. */
  pinAll?: boolean;
  /** Where by-name and tc/globals pins go instead of /sys/fs/bpf (a directory on bpffs). */
  bpffsRoot?: string;
  /** Verifier log level for successful loads (the log is always taken on failure). */
  logLevel?: number;
  /** Receives warnings: sections libbpf would refuse, BTF the kernel refused, ... */
  warn?: (message: string) => void;
  /** The kernel BTF to resolve CO-RE relocations, attach targets and kfuncs against; default /sys/kernel/btf/vmlinux. */
  kernelBtf?: Btf;
  /** Kernel config, release and kallsyms for externs; default the running kernel's. */
  externs?: ExternSources;
  /** Registers what is created here instead of owning a transaction: the caller commits or rolls back. */
  undo?: Undo;
}

export interface LoadedProgram {
  name: string;
  section: string;
  type: number;
  typeName: string;
  expectedAttachType: number;
  fd: Fd;
  id: number;
  tag: string;
  pinnedAt?: string;
  /** The verifier log, when a log level was asked for. */
  log?: string;
  /** The kernel function, tracepoint or hook a BTF-attached program (fentry, tp_btf, lsm, ...) targets. */
  attachBtf?: AttachBtfTarget;
  /** How each CO-RE relocation of the program (and the functions it calls) was resolved. */
  core: CoreResolution[];
}

export interface LoadedObject {
  object: BpfObject;
  /** How each extern was resolved: name → value, address, BTF id, or "weak, missing". */
  externs: Map<string, string>;
  programs: LoadedProgram[];
  maps: CreatedMap[];
  btfFd?: Fd;
  warnings: string[];
  /** Closes every descriptor; what is pinned or attached stays in the kernel. */
  close(): void;
}

/** libbpf's object name: the file name up to its first dot. */
export function objectNameOf(path: string): string {
  return basename(path).split('.')[0] ?? '';
}

function chosenPrograms(obj: BpfObject, names: string[] | undefined): BpfProgram[] {
  if (!names || names.length === 0) {
    const entries = obj.programs.filter((p) => p.kind === 'entry' && !p.section.startsWith('?'));
    if (entries.length === 0) throw new LoadError('the object has no programs outside .text', { hint: 'name a .text function with --prog NAME and give --type TYPE' });
    return entries;
  }
  return names.map((n) => {
    const byName = obj.programs.filter((p) => p.name === n);
    const found = byName.length > 0 ? byName : obj.programs.filter((p) => p.section === n && p.kind === 'entry');
    if (found.length === 0) {
      throw new LoadError(`the object has no program '${n}'`, {
        hint: `programs: ${obj.programs.filter((p) => p.kind === 'entry').map((p) => `${p.name} (section ${p.section})`).join(', ') || 'none'}`,
      });
    }
    if (found.length > 1) throw new LoadError(`'${n}' names ${found.length} programs (${found.map((p) => p.name).join(', ')})`, { hint: 'name one by its function name' });
    return found[0]!;
  });
}

function kernelProgName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.]/g, '_').slice(0, BPF_OBJ_NAME_LEN - 1);
}

/** Loads an object (its bytes, or an already-read BpfObject) into the kernel. */
export function loadObject(input: Uint8Array | BpfObject, o: LoadOptions = {}): LoadedObject {
  const obj = input instanceof Uint8Array ? readObject(input) : input;
  if (!obj.littleEndian) {
    throw new LoadError('the object is big-endian (bpfeb), but this kernel runs little-endian programs', { hint: 'build it with clang --target=bpfel (or -target bpf on a little-endian machine)' });
  }
  const own = o.undo === undefined;
  const undo = o.undo ?? new Undo();
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    o.warn?.(m);
  };
  try {
    const result = load(obj, o, undo, warn, warnings);
    if (own) undo.commit();
    return result;
  } catch (e) {
    if (own) undo.rollback();
    throw e;
  }
}

function load(obj: BpfObject, o: LoadOptions, undo: Undo, warn: (m: string) => void, warnings: string[]): LoadedObject {
  const chosen = chosenPrograms(obj, o.programs);
  const types = new Map(chosen.map((p) => {
    const choice = chooseProgType(p.section, p.name, { ...(o.type !== undefined ? { type: o.type } : {}), ...(o.attach ? { attach: o.attach } : {}) });
    if (choice.warning) warn(choice.warning);
    return [p, choice] as const;
  }));

  let btfFd: Fd | undefined;
  let ext: RawBtfExt = {};
  const btf = obj.btf;
  if (btf && obj.btfSection) {
    inStep('BTF', () => {
      try {
        const loaded = loadObjectBtf(btf, obj.elf);
        btfFd = loaded.fd;
        undo.push('close BTF', () => loaded.fd.close());
        if (loaded.sanitized.length > 0) warn(`BTF kinds this kernel lacks were rewritten: ${loaded.sanitized.join(', ')}`);
        if (obj.btfExtSection) ext = readRawBtfExt(obj.btfExtSection.data, btf, obj.littleEndian);
      } catch (e) {
        if (!(e instanceof VerifierError)) throw e;
        warn(`the kernel refused the object's BTF (${rejectionReason(e.log) ?? e.errnoName}); loading without it, so maps and programs carry no type information`);
      }
    });
  }

  const kernelBtf = () => o.kernelBtf ?? vmlinuxBtf();
  const reachable = [...chosen, ...obj.programs.filter((p) => p.kind === 'subprog')];
  const externs = resolveExterns(obj, reachable.flatMap((p) => p.relocations), kernelBtf, o.externs);

  const maps = createMaps(planMaps(obj, {
    ...(externs.kconfig ? { kconfig: externs.kconfig } : {}),
    objectName: o.objectName ?? 'obj',
    ...(o.pinDir !== undefined ? { pinDir: o.pinDir } : {}),
    ...(o.pinAll ? { pinAll: true } : {}),
    ...(o.bpffsRoot !== undefined ? { bpffsRoot: o.bpffsRoot } : {}),
  }), btfFd, undo, warn);

  const slots = readMapSlotInits(obj);
  fillSlots(slots.filter((s) => s.kind === 'map'), maps, (name) => maps.find((m) => m.spec.definition?.name === name)?.fd.value, warn);

  const mapFd = (reloc: ProgramRelocation, fn: BpfProgram): number => {
    const off = reloc.symbol.value;
    const defs = maps.filter((c) => c.spec.definition?.section === reloc.targetSection);
    // BTF maps by name: clang leaves .maps variable offsets 0; legacy maps by name, else by offset.
    const m = defs.find((c) => c.spec.definition!.name === reloc.target) ??
      defs.find((c) => c.spec.definition!.style !== 'btf' && c.spec.definition!.offset === off);
    if (!m) throw new LoadError(`program '${fn.name}' refers to map '${reloc.target}', which the object does not define`, { program: fn.name, section: fn.section });
    return m.fd.value;
  };
  const dataFd = (section: string, reloc: ProgramRelocation, fn: BpfProgram): number => {
    const m = maps.find((c) => c.spec.data?.section === section);
    if (!m) {
      throw new LoadError(`program '${fn.name}' uses '${reloc.target}' in section ${section}, which bpfts cannot provide`, {
        program: fn.name, section: fn.section,
      });
    }
    return m.fd.value;
  };

  const programs: LoadedProgram[] = [];
  for (const p of chosen) programs.push(inStep(`program ${p.name}`, () => loadProgram(p), { program: p.name }));

  function loadProgram(p: BpfProgram): LoadedProgram {
    const choice = types.get(p)!;
    const core: CoreResolution[] = [];
    const linked = linkProgram(p, {
      obj, ext, mapFd, dataFd,
      core(code, fn) {
        if (fn.coreRelocations.length === 0) return;
        if (!obj.btf) throw new LoadError(`program '${fn.name}' has CO-RE relocations but the object's BTF is unusable`, { program: fn.name, section: fn.section });
        core.push(...applyCoreRelocations(code, fn, obj.btf, kernelBtf()));
      },
      externLoad: (reloc, fn) => externs.load(reloc, () => dataFd('.kconfig', reloc, fn)),
      kfuncCall: (reloc) => externs.call(reloc),
    });
    const flags = choice.flags ?? [];
    if (choice.type === bpf_prog_type.BPF_PROG_TYPE_EXT) {
      throw new LoadError(`program '${p.name}' (section ${p.section}) replaces a function of another BPF program (freplace), which bpfts cannot load yet`, { program: p.name, section: p.section });
    }
    const attachBtf = flags.includes('SEC_ATTACH_BTF')
      ? findAttachBtfId(p.name, p.section, o.type, choice.expectedAttachType, kernelBtf())
      : undefined;
    const progFlags = (flags.includes('SEC_SLEEPABLE') ? BPF_PROG_LOAD_FLAGS.BPF_F_SLEEPABLE : 0) |
      (flags.includes('SEC_XDP_FRAGS') ? BPF_PROG_LOAD_FLAGS.BPF_F_XDP_HAS_FRAGS : 0);
    const request = (expectedAttachType: number) => progLoad({
      type: choice.type,
      insns: linked.insns,
      license: obj.license ?? '',
      kernVersion: obj.kernelVersion ?? 0,
      name: kernelProgName(p.name),
      expectedAttachType,
      ...(progFlags ? { flags: progFlags } : {}),
      ...(attachBtf ? { attachBtfId: attachBtf.btfId } : {}),
      ...(btfFd ? { progBtfFd: btfFd } : {}),
      ...(btfFd && linked.funcInfo ? { funcInfo: linked.funcInfo } : {}),
      ...(btfFd && linked.lineInfo ? { lineInfo: linked.lineInfo } : {}),
      ...(o.logLevel ? { logLevel: o.logLevel } : {}),
    });
    let loaded;
    let expectedAttachType = choice.expectedAttachType;
    try {
      try {
        loaded = request(expectedAttachType);
      } catch (e) {
        // Kernels before expected_attach_type existed for these types refuse it (EINVAL): libbpf
        // (SEC_EXP_ATTACH_OPT) loads without it there.
        if (!(e instanceof SyscallError) || e.errno !== ERRNO.EINVAL || !flags.includes('SEC_EXP_ATTACH_OPT') || expectedAttachType === 0) throw e;
        try {
          loaded = request(0);
        } catch {
          throw e;
        }
        expectedAttachType = 0;
        warn(`program '${p.name}': the kernel refused expected_attach_type ${choice.expectedAttachType}; loaded without it, as libbpf does`);
      }
    } catch (e) {
      if (attachBtf && e instanceof SyscallError && !(e instanceof VerifierError) && e.errno === ERRNO.EPERM && process.getuid?.() === 0) {
        throw new LoadError(`the kernel refused program '${p.name}' (${progTypeName(choice.type)}, attached to ${attachBtf.btfName}) with EPERM without a verifier log, although bpfts runs as root`, {
          program: p.name, section: p.section, cause: e,
          hint: 'this kernel does not let BPF programs attach through trampolines here (fentry/fexit/fmod_ret/lsm); tp_btf and iter programs need none',
        });
      }
      if (!(e instanceof VerifierError)) throw e;
      const log = annotateVerifierLog(e.log, linked.lines);
      throw new ProgramRejectedError(
        `the kernel's verifier rejected program '${p.name}' (section ${p.section}, ${progTypeName(choice.type)}): ${rejectionReason(e.log) ?? e.errnoName}`,
        log, e.errno,
        { program: p.name, section: p.section, cause: e, hint: 'the verifier log above shows where, with the C source lines' },
      );
    }
    const fd = loaded.fd;
    undo.push(`close program ${p.name}`, () => fd.close());
    const info = progGetInfo(fd);
    const lp: LoadedProgram = {
      name: p.name, section: p.section, type: choice.type, typeName: progTypeName(choice.type),
      expectedAttachType, fd, id: info.id, tag: info.tag, core, ...(attachBtf ? { attachBtf } : {}),
      ...(loaded.log !== undefined ? { log: loaded.log } : {}),
    };
    if (o.pinAll && o.pinDir) {
      const path = `${o.pinDir}/${p.name}`;
      inStep(`pin ${path}`, () => {
        if (existsSync(path)) throw new LoadError(`cannot pin program '${p.name}': ${path} already exists`, { program: p.name, hint: 'remove it or pin elsewhere with --pin DIR' });
        ensureDir(dirname(path), undo);
        objPin(fd, path);
        undo.push(`unpin ${path}`, () => rmSync(path, { force: true }));
      }, { program: p.name });
      lp.pinnedAt = path;
    }
    return lp;
  }

  fillSlots(slots.filter((s) => s.kind === 'program'), maps, (name) => programs.find((p) => p.name === name)?.fd.value, warn);

  return {
    object: obj, externs: externs.summary, programs, maps, ...(btfFd ? { btfFd } : {}), warnings,
    close() {
      for (const p of programs) p.fd.close();
      for (const m of maps) m.fd.close();
      btfFd?.close();
    },
  };
}

/**
 * Stores inner map or program fds in the slots the object initialises, in maps created by this
 * load (a map reused from a pin keeps what it holds, as with libbpf).
 */
function fillSlots(slots: readonly MapSlotInit[], maps: readonly CreatedMap[], fdOf: (name: string) => number | undefined, warn: (m: string) => void): void {
  for (const s of slots) {
    const outer = maps.find((m) => m.spec.definition?.name === s.map);
    if (!outer || outer.reused) continue;
    const fd = fdOf(s.target);
    if (fd === undefined) {
      warn(`map '${s.map}' slot ${s.index} stays empty: ${s.kind} '${s.target}' is not loaded`);
      continue;
    }
    const key = new Uint8Array(4);
    new DataView(key.buffer).setUint32(0, s.index, true);
    const value = new Uint8Array(4);
    new DataView(value.buffer).setUint32(0, fd, true);
    try {
      mapUpdateElem(outer.fd, key, value);
    } catch (e) {
      throw new LoadError(`cannot put ${s.kind} '${s.target}' into slot ${s.index} of map '${s.map}': ${(e as Error).message}`, { map: s.map, step: `map ${s.map}`, cause: e });
    }
  }
}
