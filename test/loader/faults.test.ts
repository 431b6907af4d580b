// Fault injection in `bpfts load` and `bpfts detach`: for each object in bpf/, the kernel calls of a
// real load (tc, tcx or XDP attach in a namespace made here, every map and program pinned in a
// directory made here) and detach are counted, then each call N in turn is made to fail as if the
// kernel had returned EPERM. After every attempt the error must be a BpfError naming the step,
// tc/XDP state (tc, ip) and bpffs must be as before, and no object the attempt created may be
// left in the kernel (bpftool).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BpfError } from '../../src/errors.js';
import { detach } from '../../src/cli/commands/detach.js';
import { load } from '../../src/cli/commands/load.js';
import { probeBtfFeatures } from '../../src/loader/object/btf-load.js';
import { clearFaults, injectFaults, type FaultPlan } from '../../src/loader/sys/faults.js';
import { ERRNO } from '../../src/uapi/index.js';
import { loadManifest, objectPath, type ManifestObject } from '../bpf/manifest.js';
import { haveRoot, tool } from '../helpers/env.js';
import { DEV, RETRIED, bpffsState, netState, recordCreated, runCommand, stillAlive, type Created } from './fault-bench.js';
import { TestNetns } from './fixtures.js';

const root = haveRoot();
const tools = root && !!tool('bpftool') && !!tool('tc') && !!tool('ip') && !!tool('nsenter');
if (root && !tools) console.warn('\n*** SKIPPING: the loader fault tests need bpftool, tc, ip and nsenter (BPFTS_REQUIRE_TOOLS) ***\n');
if (root && !tools && process.env.BPFTS_REQUIRE_TOOLS === '1') throw new Error('bpftool, tc, ip and nsenter are required (BPFTS_REQUIRE_TOOLS=1)');

const manifest = loadManifest();

type Attach = { kind: 'tc'; direction: 'ingress' | 'egress' } | { kind: 'tcx'; direction: 'ingress' | 'egress' } | { kind: 'xdp' } | { kind: 'none' };

interface Case {
  label: string;
  obj: ManifestObject;
  prog: string;
  attach: Attach;
  /** A clsact qdisc with a foreign filter on both hooks is there before the load. */
  foreign?: boolean;
  /** A foreign program is attached where the load goes, and the load replaces it (--replace). */
  replace?: boolean;
  /** Another program of the object was loaded with the same --pin DIR first, so the maps are reused from their pins. */
  sharedMaps?: string;
}

function attachOf(o: ManifestObject): Attach {
  const a = o.programs[0]!.attach;
  if (a === 'xdp') return { kind: 'xdp' };
  if (a === 'tc' || a === 'tc-ingress' || a === 'tc-egress') return { kind: 'tc', direction: a === 'tc-egress' ? 'egress' : 'ingress' };
  // Socket filters and tracing programs: the load and its pins (tracing attaches: faults-tracing.test.ts).
  return { kind: 'none' };
}

const icmp = manifest.objects.find((o) => o.file === 'tc_drop_icmp.o')!;
const xdp = manifest.objects.find((o) => o.file === 'xdp_monitor.o')!;
const monitor = manifest.objects.find((o) => o.file === 'monitor.o')!;
const cases: Case[] = [
  ...manifest.objects.map((obj) => ({ label: obj.file, obj, prog: obj.programs[0]!.function, attach: attachOf(obj) })),
  { label: 'tc_drop_icmp.o beside a foreign clsact and filters', obj: icmp, prog: 'drop_icmp', attach: { kind: 'tc', direction: 'ingress' }, foreign: true },
  { label: 'tc_drop_icmp.o with a tcx link', obj: icmp, prog: 'drop_icmp', attach: { kind: 'tcx', direction: 'ingress' } },
  { label: 'tc_drop_icmp.o replacing a foreign filter', obj: icmp, prog: 'drop_icmp', attach: { kind: 'tc', direction: 'ingress' }, replace: true },
  { label: 'xdp_monitor.o replacing a foreign XDP program', obj: xdp, prog: 'xdp_monitor', attach: { kind: 'xdp' }, replace: true },
  { label: 'monitor.o egress program reusing the maps the ingress program pinned', obj: monitor, prog: 'monitor_egress', attach: { kind: 'tc', direction: 'egress' }, sharedMaps: 'monitor_ingress' },
];

/** The step an error must name when `kinds[i]` fails. */
function expectedStep(kinds: readonly string[], i: number, c: Case, pinDir: string): RegExp {
  const names = [...c.obj.maps.map((m) => `map ${m.name}`), ...Object.keys(c.obj.globals).map((s) => `global data ${s}`)];
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const mapStep = new RegExp(`^(${names.map(esc).join('|')})$`);
  const loaded = kinds.slice(0, i).includes('BPF_PROG_LOAD');
  switch (kinds[i]) {
    case 'BPF_BTF_LOAD': return /^BTF$/;
    case 'BPF_MAP_CREATE': case 'BPF_MAP_UPDATE_ELEM': case 'BPF_MAP_FREEZE': return mapStep;
    case 'BPF_PROG_LOAD': return new RegExp(`^program ${esc(c.prog)}$`);
    // Before the program, opening and checking a pinned map to reuse; after it, reading the program's id and tag.
    case 'BPF_OBJ_GET_INFO_BY_FD': return loaded ? new RegExp(`^program ${esc(c.prog)}$`) : mapStep;
    case 'BPF_OBJ_GET': return loaded ? /^tcx link$/ : mapStep;
    case 'BPF_OBJ_PIN': return new RegExp(`^pin (${esc(pinDir)}|/sys/fs/bpf/bpfts/tcx/)`);
    case 'RTM_NEWQDISC': case 'RTM_DELQDISC': return /^clsact qdisc$/;
    case 'RTM_GETTFILTER': case 'RTM_NEWTFILTER': case 'RTM_DELTFILTER': return /^tc filter$/;
    case 'RTM_SETLINK': return /^XDP$/;
    case 'BPF_LINK_CREATE': case 'BPF_LINK_DETACH': return /^tcx link$/;
    // A device lookup, or taking hold of a program about to be replaced, belongs to the request after it.
    case 'RTM_GETLINK': case 'BPF_PROG_GET_FD_BY_ID': return expectedStep(kinds, i + 1, c, pinDir);
    default: throw new Error(`no step known for ${kinds[i]} (call ${i + 1})`);
  }
}

describe.skipIf(!root || !tools)('a kernel call failing at any point of load and detach leaves nothing behind', () => {
  const pinRoot = `/sys/fs/bpf/bpfts-faults-${process.pid}-${randomBytes(3).toString('hex')}`;
  beforeAll(() => {
    mkdirSync(pinRoot);
    // The BTF feature probes run once per process; made here, they are not among the counted calls.
    probeBtfFeatures();
  });
  afterAll(() => {
    clearFaults();
    rmSync(pinRoot, { recursive: true, force: true });
  });

  it.each(cases.map((c) => [c.label, c] as const))('%s', async (_label, c) => {
    const ns = new TestNetns();
    const pinDir = `${pinRoot}/${c.obj.file.replace(/\W/g, '_')}${c.foreign ? '_foreign' : ''}${c.replace ? '_replace' : ''}${c.sharedMaps ? '_shared' : ''}${c.attach.kind === 'tcx' ? '_tcx' : ''}`;
    const foreignPin = `${pinRoot}/foreign_${ns.name.replace(/\W/g, '_')}`;
    // nsenter changes only the network namespace, so tc and ip see the host's bpffs and its pins.
    const inNs = (cmd: string, args: string[]) => execFileSync('nsenter', [`--net=/run/netns/${ns.name}`, cmd, ...args], { stdio: 'pipe' });
    /** (Re)attaches the foreign program a --replace load replaces, by its pin, so it keeps its id. */
    const attachForeign = () => c.attach.kind === 'xdp'
      ? inNs('ip', ['-force', 'link', 'set', 'dev', DEV, 'xdpgeneric', 'pinned', foreignPin])
      : inNs('tc', ['filter', 'replace', 'dev', DEV, 'ingress', 'prio', '1', 'handle', '1', 'bpf', 'da', 'pinned', foreignPin]);
    const tcxDir = `/sys/fs/bpf/bpfts/tcx/${ns.name}`;
    const watched = [pinRoot, tcxDir];
    /** Removes what appeared in bpffs since `before`, innermost first. */
    const removeNew = (before: readonly string[]) => {
      for (const p of bpffsState(watched).filter((x) => !before.includes(x)).reverse()) rmSync(p, { recursive: true, force: true });
    };
    try {
      if (c.foreign) {
        ns.exec('tc', ['qdisc', 'add', 'dev', DEV, 'clsact']);
        for (const hook of ['ingress', 'egress']) {
          ns.exec('tc', ['filter', 'add', 'dev', DEV, hook, 'prio', '7', 'handle', '7', 'bpf', 'da', 'obj', objectPath('bpfel', 'tc_drop_arp.o'), 'sec', 'classifier']);
        }
      }
      if (c.replace) {
        execFileSync('bpftool', ['prog', 'load', objectPath('bpfel', c.attach.kind === 'xdp' ? 'xdp_monitor.o' : 'tc_drop_arp.o'), foreignPin]);
        if (c.attach.kind !== 'xdp') inNs('tc', ['qdisc', 'add', 'dev', DEV, 'clsact']);
        attachForeign();
      }
      const ns_ = ['--netns', ns.name];
      if (c.sharedMaps) {
        const first = await runCommand(load, [objectPath('bpfel', c.obj.file), '--prog', c.sharedMaps, '--pin', pinDir, '--tc', 'ingress', DEV, ...ns_]);
        expect(first.error).toBeUndefined();
      }
      const a = c.attach;
      const loadArgs = [objectPath('bpfel', c.obj.file), '--prog', c.prog, '--pin', pinDir, ...(c.replace ? ['--replace'] : []),
        ...(a.kind === 'tc' ? ['--tc', a.direction, DEV, ...ns_] : a.kind === 'tcx' ? ['--tcx', a.direction, DEV, ...ns_] : a.kind === 'xdp' ? ['--xdp', DEV, '--mode', 'skb', ...ns_] : [])];
      // After a --replace load the foreign program is put back instead of detaching.
      const detachArgs = c.replace ? undefined : a.kind === 'tc' ? ['--tc', a.direction, DEV, '--prio', '1', '--handle', '1', ...ns_]
        : a.kind === 'tcx' ? ['--tcx', a.direction, DEV, ...ns_] : a.kind === 'xdp' ? ['--xdp', DEV, ...ns_] : undefined;

      /** Takes off whatever a successful load or a failed detach left, with the faults off. */
      const cleanUp = async (before: unknown, fsBefore: readonly string[]) => {
        clearFaults();
        const changed = JSON.stringify(netState(ns)) !== JSON.stringify(before);
        if (c.replace && changed) attachForeign();
        if (detachArgs && changed) await runCommand(detach, detachArgs);
        if (a.kind === 'tcx') await runCommand(detach, detachArgs!);
        const now = netState(ns) as { qdiscs: { kind: string }[] };
        if (!c.foreign && !c.replace && !c.sharedMaps && now.qdiscs.some((q) => q.kind === 'clsact')) ns.exec('tc', ['qdisc', 'del', 'dev', DEV, 'clsact']);
        removeNew(fsBefore);
      };

      // One clean run, counted.
      const net0 = netState(ns);
      const fs0 = bpffsState(watched);
      const created0: Created[] = [];
      const counter = injectFaults({ onCall: recordCreated(created0) });
      const loaded = await runCommand(load, loadArgs);
      expect(loaded.error, loaded.err).toBeUndefined();
      expect(loaded.code).toBe(0);
      // tc and XDP attachments show in tc/ip; tcx links and plain loads only in their pins.
      if (a.kind === 'tc' || a.kind === 'xdp') expect(JSON.stringify(netState(ns))).not.toBe(JSON.stringify(net0));
      expect(bpffsState(watched).length).toBeGreaterThan(fs0.length);
      if (detachArgs) {
        const d = await runCommand(detach, detachArgs);
        expect(d.error).toBeUndefined();
      }
      clearFaults();
      if (c.replace) attachForeign();
      const kinds = counter.calls.map((x) => x.kind);
      removeNew(fs0);
      expect(netState(ns)).toEqual(net0);
      expect(bpffsState(watched)).toEqual(fs0);
      expect(await stillAlive(created0)).toEqual([]);
      const K = kinds.length;
      expect(K).toBeGreaterThan(3);

      const outcomes: string[] = [];
      const everyCreated: Created[] = [];
      const attempt = async (plan: FaultPlan, what: string): Promise<'failed' | 'absorbed'> => {
        const netBefore = netState(ns);
        const fsBefore = bpffsState(watched);
        const created: Created[] = [];
        const inj = injectFaults({ ...plan, errno: ERRNO.EPERM, onCall: recordCreated(created) });
        const l = await runCommand(load, loadArgs);
        const d = l.error === undefined && detachArgs ? await runCommand(detach, detachArgs) : undefined;
        clearFaults();
        const hit = inj.calls.findIndex((x) => x.result === -ERRNO.EPERM);
        expect(hit, `${what}: no call failed`).toBeGreaterThanOrEqual(0);
        const failedKind = inj.calls[hit]!.kind;
        const error = l.error ?? d?.error;
        if (error === undefined) {
          // Only a call the loader retries another way may fail without failing the command.
          expect(RETRIED.has(failedKind), `${what} (${failedKind}) failed and the command still succeeded`).toBe(true);
          await cleanUp(netBefore, fsBefore);
        } else {
          expect(error, `${what} (${failedKind}): ${String(error)}`).toBeInstanceOf(BpfError);
          const step = (error as { step?: string }).step;
          expect(step, `${what} (${failedKind}): ${(error as Error).message}`).toMatch(expectedStep(kinds, hit, c, pinDir));
          if (l.error !== undefined) {
            // A failed load must have undone everything itself.
            expect(netState(ns), `${what} (${failedKind}) left tc/XDP state`).toEqual(netBefore);
            expect(bpffsState(watched), `${what} (${failedKind}) left pins`).toEqual(fsBefore);
            expect(l.err, `${what}: undo failures`).not.toMatch(/could not undo/);
          }
          await cleanUp(netBefore, fsBefore);
        }
        expect(netState(ns), `${what} (${failedKind}): state after clean-up`).toEqual(netBefore);
        expect(bpffsState(watched), `${what} (${failedKind}): bpffs after clean-up`).toEqual(fsBefore);
        // Whether they are gone is asked once for all attempts, at the end: the kernel frees a
        // program's maps and BTF some time after the program, and the waits would add up.
        everyCreated.push(...created.map((o) => ({ ...o, call: `${o.call} in the attempt where ${what} (${failedKind}) failed` })));
        outcomes.push(`${hit + 1}:${failedKind}:${error === undefined ? 'absorbed' : (error as { step?: string }).step}`);
        return error === undefined ? 'absorbed' : 'failed';
      };

      for (let n = 1; n <= K; n++) {
        if (await attempt({ at: n }, `call ${n} of ${K}`) === 'absorbed') {
          // The retry must be covered too: fail this call and the one the loader retries it with.
          const kind = kinds[n - 1]!;
          const nth = kinds.slice(0, n).filter((k) => k === kind).length;
          expect(await attempt({ at: nth, kind, count: 2 }, `${kind} #${nth} and its retry`)).toBe('failed');
        }
      }
      expect(await stillAlive(everyCreated), 'left kernel objects').toEqual([]);
      console.log(`${c.label}: ${K} calls (${kinds.join(' ')}); ${outcomes.join(' ')}`);
    } finally {
      clearFaults();
      ns.destroy();
      rmSync(pinDir, { recursive: true, force: true });
      rmSync(foreignPin, { force: true });
      rmSync(tcxDir, { recursive: true, force: true });
    }
  }, 600_000);
});
