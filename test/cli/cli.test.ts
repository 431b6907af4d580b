import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commands } from '../../src/cli/commands/index.js';
import { conformanceTests, haveConformance, haveKernelBtf, repoRoot, tool, VMLINUX } from '../helpers/env.js';
import { cli, ensureBuilt } from './run-cli.js';

const obj = (name: string) => join(repoRoot, 'bpf', 'build', 'bpfel', name);

beforeAll(ensureBuilt);

/** A user mistake gets one error line and a hint, never a stack trace. */
function expectCleanError(r: { status: number; stderr: string }, status: number, text: RegExp): void {
  expect(r.status).toBe(status);
  expect(r.stderr).toMatch(text);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('bpfts command line', () => {
  const commandNames = commands.map((c) => c.path.join(' '));

  it('lists its commands', () => {
    const top = cli(['--help']);
    expect(top.status).toBe(0);
    expect([...top.stdout.matchAll(/^ {2}(\S+(?: \S+)?) {2,}/gm)].map((m) => m[1]!)).toEqual(commandNames);
    expect(commandNames).toEqual(expect.arrayContaining(['inspect', 'disasm', 'btf dump', 'conformance-plugin']));
  });

  it.each(commandNames)('%s --help', (name) => {
    const r = cli([...name.split(' '), '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: bpfts ${name} `));
  });

  it('rejects an unknown command and an unknown option with exit 2', () => {
    expectCleanError(cli(['frobnicate']), 2, /unknown command 'frobnicate'/);
    expectCleanError(cli(['inspect', '--frob', obj('tc_drop_arp.o')]), 2, /Unknown option '--frob'/);
  });

  it('names a missing or unreadable input file', () => {
    expectCleanError(cli(['inspect', '/nonexistent/x.o']), 2, /cannot read \/nonexistent\/x\.o: no such file/);
    expectCleanError(cli(['disasm', '/']), 2, /cannot read \/: is a directory/);
  });

  it('reports malformed ELF with the structure and offset', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfts-cli-'));
    try {
      const bytes = Uint8Array.from(readFileSync(obj('tc_drop_arp.o')));
      const bad = join(dir, 'truncated.o');
      writeFileSync(bad, bytes.subarray(0, bytes.length - 100));
      expectCleanError(cli(['inspect', bad]), 2, /section header table .* runs past the end .* at offset 0x/);
      writeFileSync(bad, 'not an object');
      expectCleanError(cli(['inspect', bad]), 2, /not an ELF file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('inspect --json describes the programs and maps of the manifest', () => {
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'bpf', 'programs.json'), 'utf8')) as { objects: { file: string; programs: { section: string; function: string; progType: string }[]; maps: { name: string; type: string; keySize: number; valueSize: number; maxEntries: number }[] }[] };
    for (const o of manifest.objects) {
      const r = cli(['inspect', '--json', obj(o.file)]);
      expect(r.status, o.file).toBe(0);
      const s = JSON.parse(r.stdout) as { programs: { section: string; name: string; kind: string; type: string }[]; maps: { name: string; type: string; keySize: number; valueSize: number; maxEntries: number }[] };
      expect(s.programs.filter((p) => p.kind === 'entry').map((p) => [p.section, p.name]), o.file)
        .toEqual(o.programs.map((p) => [p.section, p.function]));
      for (const p of o.programs) {
        const ours = s.programs.find((q) => q.name === p.function)!;
        // bpftool only knows the type for sections libbpf matches; `egress` is unknown to libbpf.
        if (ours.type !== 'unknown') expect(ours.type, `${o.file} ${p.function}`).toBe(p.progType);
      }
      expect(s.maps.map((m) => [m.name, m.type, m.keySize, m.valueSize, m.maxEntries]), o.file)
        .toEqual(o.maps.map((m) => [m.name, m.type, m.keySize, m.valueSize, m.maxEntries]));
    }
    expect(JSON.parse(cli(['inspect', '--json', obj('provenance_egress.o')]).stdout).programs[0].type).toBe('unknown');
  });
});

const bpftool = tool('bpftool');
describe.skipIf(!bpftool)('bpfts btf dump agrees with bpftool through the CLI', () => {
  it.each([...(haveKernelBtf() ? [VMLINUX] : []), obj('monitor.o'), obj('globals.o')])('%s', (file) => {
    const expected = execFileSync(bpftool!, ['btf', 'dump', 'file', file], { maxBuffer: 1 << 28 });
    const r = cli(['btf', 'dump', file]);
    expect(r.status).toBe(0);
    expect(r.stdoutBytes.equals(expected)).toBe(true);
    const c = cli(['btf', 'dump', file, '--format', 'c']);
    expect(c.stdout).toBe(execFileSync(bpftool!, ['btf', 'dump', 'file', file, 'format', 'c'], { encoding: 'utf8', maxBuffer: 1 << 28 }));
  });
  it('explains an object built without -g', () => {
    expectCleanError(cli(['btf', 'dump', obj('tc_drop_icmp_nobtf.o')]), 2, /no \.BTF section \(built without -g\?\)/);
  });
});

const objdump = tool('llvm-objdump-19');
describe.skipIf(!objdump)('bpfts disasm agrees with llvm-objdump-19 through the CLI', () => {
  it.each(['tc_drop_tcp80.o', 'globals.o', 'tc_drop_tcp80_v4.o', 'proxy.o'])('%s', (name) => {
    const expected = execFileSync(objdump!, ['-d', '--no-show-raw-insn', obj(name)], { encoding: 'utf8' });
    const after = expected.slice(expected.indexOf('file format elf64-bpf') + 'file format elf64-bpf'.length + 1);
    expect(cli(['disasm', obj(name)]).stdout).toBe(after);
    const onlyTc = execFileSync(objdump!, ['-d', '--no-show-raw-insn', '-j', 'tc', obj(name)], { encoding: 'utf8' });
    if (name !== 'tc_drop_tcp80_v4.o' || onlyTc.includes('tc')) {
      expect(cli(['disasm', '--section', 'tc', obj(name)]).stdout).toBe(onlyTc.slice(onlyTc.indexOf('file format elf64-bpf') + 22));
    }
  });
  it('--source puts the C lines of the program before their instructions', () => {
    const out = cli(['disasm', '--source', obj('tc_drop_tcp80.o')]).stdout;
    const source = readFileSync(join(repoRoot, 'bpf', 'tc_drop_tcp80.c'), 'utf8').split('\n').map((l) => l.trim());
    const comments = out.split('\n').filter((l) => l.startsWith('; ')).map((l) => l.slice(2).trim());
    expect(comments.length).toBeGreaterThan(5);
    for (const c of comments) expect(source).toContain(c);
  });
});

describe.skipIf(!haveConformance())('bpfts conformance-plugin speaks the suite runner protocol', () => {
  it('runs a sample of the suite as the runner would, through stdin', () => {
    const sample = Object.entries(conformanceTests()).filter((_t, i) => i % 10 === 0);
    expect(sample.length).toBeGreaterThan(20);
    for (const [name, t] of sample) {
      const spaced = (hex: string) => hex.match(/../g)?.join(' ') ?? '';
      const r = cli(['conformance-plugin', spaced(t.memory)], { input: spaced(t.program) });
      expect(r.status, `${name}: ${r.stderr}`).toBe(0);
      expect(BigInt(`0x${r.stdout.trim()}`), name).toBe(BigInt.asUintN(64, BigInt(t.result)));
    }
  });
});

describe('command table', () => {
  it('lists each command with the path and summary its module declares', async () => {
    for (const entry of commands) {
      const command = await entry.load();
      expect(command.path).toEqual(entry.path);
      expect(command.summary).toBe(entry.summary);
    }
  });
});

describe('malformed input files exit 2', () => {
  it.each([
    [['btf', 'dump', '/etc/hostname'], /not a BTF file or an ELF object/],
    [['run', obj('tc_drop_arp.o'), '--packet', '0g'], /not a hex digit/],
    [['inspect', '/etc/hostname'], /not an ELF file/],
  ])('bpfts %j', (args, message) => {
    expectCleanError(cli(args), 2, message);
  });
});
