// How many corpus programs bpfts gets through the kernel's verifier, next to how many bpftool v7.1
// (libbpf 1.1) `prog loadall` loads (counted by the programs it pins). Where the section names no
// type, bpfts gets --type the way a user would pick it for that program: classifier for tc*
// sections, xdp for xdp* sections, and for names that say nothing (cilium's from-netdev, 2/1 tail
// calls, ovs's tail-N) xdp in an object whose file name says XDP (bpf_xdp.o), classifier otherwise. Verifier rejections of objects that are wrong by design are expected.
// Pins either loader makes go to a per-object directory that is removed afterwards.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadObject, LoadError, ProgramRejectedError, SyscallError } from '../../src/loader/raw.js';
import { readObject } from '../../src/object/index.js';
import { bpftoolLoadall } from '../helpers/bpftool.js';
import { corpusDir, haveCorpus, haveRoot, tool } from '../helpers/env.js';

const ok = haveCorpus() && haveRoot();
const bpftool = ok ? tool('bpftool') : undefined;

/** Objects the kernel's verifier rejects by design (they test the verifier). */
const BAD_BY_DESIGN = /^build\/(bad|.*overflow|.*underflow|.*overrun|exposeptr|nullmapref|divzero|infinite_loop|wronghelper|ringbuf_uninit|tail_call_bad|ptr_arith|ctxoffset|packet_reallocate|dependent_read|mapvalue)/;

function objects(): string[] {
  const root = join(corpusDir, 'ebpf-samples');
  return readdirSync(root).filter((d) => d !== 'invalid').flatMap((d) => {
    try {
      return readdirSync(join(root, d)).filter((f) => f.endsWith('.o')).map((f) => `${d}/${f}`);
    } catch {
      return [];
    }
  }).sort();
}

/** The --type a user gives a program whose section names no type. */
function userType(section: string, path: string): string {
  if (/^(tc|classifier|cls)/.test(section)) return 'classifier';
  if (section.startsWith('xdp')) return 'xdp';
  return /xdp/.test(path.split('/').pop() ?? '') ? 'xdp' : 'classifier';
}

interface Row { object: string; programs: number; bpfts: number; bpftool: number; note: string }

const scratch = `/sys/fs/bpf/bpfts-corpus-${process.pid}`;

function bpfts(path: string): { loaded: number; total: number; note: string } {
  const bytes = readFileSync(path);
  let obj;
  try {
    obj = readObject(bytes);
  } catch (e) {
    return { loaded: 0, total: 0, note: `unreadable: ${(e as Error).message}` };
  }
  const entries = obj.programs.filter((p) => p.kind === 'entry');
  let loaded = 0;
  const notes = new Set<string>();
  for (const p of entries) {
    const tryLoad = (type?: string) => {
      mkdirSync(scratch, { recursive: true });
      try {
        const l = loadObject(obj, { programs: [p.name], ...(type ? { type } : {}), objectName: 'corpus', bpffsRoot: scratch });
        l.close();
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    };
    try {
      try {
        tryLoad();
      } catch (e) {
        if (!(e instanceof LoadError) || !/cannot tell the type/.test(e.message)) throw e;
        tryLoad(userType(p.section, path));
      }
      loaded++;
    } catch (e) {
      if (e instanceof ProgramRejectedError) notes.add(`verifier: ${e.message.replace(/^.*?\): /, '').slice(0, 60)}`);
      else if (e instanceof SyscallError || e instanceof LoadError) notes.add(e.message.slice(0, 80));
      else throw e;
    }
  }
  return { loaded, total: entries.length, note: [...notes].slice(0, 2).join('; ') };
}

/** Programs bpftool loadall pinned; 0 when it failed (libbpf loads all or nothing). */
function bpftoolLoads(path: string): number {
  const r = bpftoolLoadall(bpftool!, path, `${scratch}-bpftool`);
  return r.status === 0 ? r.pinned.length : 0;
}

describe.skipIf(!ok || !bpftool)('corpus: programs the kernel accepts through bpfts vs bpftool prog loadall', () => {
  it('loads more of the corpus than libbpf 1.1 and prints the table', () => {
    const rows: Row[] = objects().map((o) => {
      const path = join(corpusDir, 'ebpf-samples', o);
      const r = bpfts(path);
      return { object: o, programs: r.total, bpfts: r.loaded, bpftool: bpftoolLoads(path), note: r.note };
    });
    const lines = rows.map((r) => `${r.object.padEnd(52)} ${String(r.programs).padStart(4)} ${String(r.bpfts).padStart(6)} ${String(r.bpftool).padStart(8)}  ${BAD_BY_DESIGN.test(r.object) ? '(bad by design) ' : ''}${r.note}`);
    const totals = {
      objects: rows.length,
      programs: rows.reduce((n, r) => n + r.programs, 0),
      bpftsPrograms: rows.reduce((n, r) => n + r.bpfts, 0),
      bpftsObjects: rows.filter((r) => r.programs > 0 && r.bpfts === r.programs).length,
      bpftoolPrograms: rows.reduce((n, r) => n + r.bpftool, 0),
      bpftoolObjects: rows.filter((r) => r.programs > 0 && r.bpftool === r.programs).length,
    };
    console.log(`${'OBJECT'.padEnd(52)} PROG  BPFTS  BPFTOOL  NOTE\n${lines.join('\n')}\n` +
      `objects fully loaded: bpfts ${totals.bpftsObjects}/${totals.objects}, bpftool loadall ${totals.bpftoolObjects}/${totals.objects}; ` +
      `programs loaded: bpfts ${totals.bpftsPrograms}/${totals.programs}, bpftool ${totals.bpftoolPrograms}/${totals.programs}`);
    // Every program bpftool gets through the verifier, bpfts does too.
    for (const r of rows) expect(r.bpfts, r.object).toBeGreaterThanOrEqual(r.bpftool);
    expect(totals.bpftsObjects).toBeGreaterThan(totals.bpftoolObjects);
    expect(readdirSync('/sys/fs/bpf').filter((n) => n.startsWith('bpfts-corpus'))).toEqual([]);
    // Where an object that is wrong on purpose does not load, it is the verifier that refuses it.
    for (const r of rows.filter((x) => BAD_BY_DESIGN.test(x.object) && x.bpfts < x.programs && /^build\/bad(helper|mapptr)|overflow|nullmapref|ptr_arith/.test(x.object))) {
      expect(r.note, r.object).toMatch(/^verifier: /);
    }
  }, 300_000);
});
