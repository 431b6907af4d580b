#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { BpfError, MalformedInputError, UsageError } from '../errors.js';
import { commandHelp, parseCommandArgs, type Io } from './command.js';
import { InputError } from './files.js';
import { commands, type CommandEntry } from './commands/index.js';

// `bpfts btf dump ... | head` closes the pipe early; that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const io: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function topHelp(prefix: string[] = []): string {
  const listed = commands.filter((c) => prefix.every((w, i) => c.path[i] === w));
  const width = Math.max(...listed.map((c) => c.path.join(' ').length)) + 4;
  return [
    `Usage: bpfts ${prefix.length ? prefix.join(' ') + ' ' : ''}COMMAND [ARGS] [--help]`,
    '',
    'bpfts reads, diagnoses, fixes, emulates and loads clang-built BPF objects.',
    '',
    'Commands:',
    ...listed.map((c) => `  ${c.path.join(' ').padEnd(width)}${c.summary}`),
    '',
    "Run 'bpfts COMMAND --help' for a command's options.",
    '',
  ].join('\n');
}

function findCommand(argv: string[]): { command?: CommandEntry; rest: string[]; prefix: string[] } {
  let best: CommandEntry | undefined;
  for (const c of commands) {
    if (c.path.every((w, i) => argv[i] === w) && (!best || c.path.length > best.path.length)) best = c;
  }
  if (best) return { command: best, rest: argv.slice(best.path.length), prefix: best.path };
  const prefix: string[] = [];
  for (const word of argv) {
    if (!commands.some((c) => [...prefix, word].every((w, i) => c.path[i] === w))) break;
    prefix.push(word);
  }
  return { rest: argv.slice(prefix.length), prefix };
}

/**
 * Exit code for an error bpfts raised on purpose: 2 for bad usage or unreadable input, else 1. The
 * ELF layer is imported here, not at start-up: commands that never read an object (a raw BTF dump)
 * do not load it.
 */
function exitCodeFor(e: BpfError): number {
  return e instanceof UsageError || e instanceof InputError || e instanceof MalformedInputError ? 2 : 1;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(topHelp());
    return 0;
  }
  if (argv[0] === '--version' || argv[0] === '-V') {
    io.out(`bpfts ${version()}\n`);
    return 0;
  }
  const { command: entry, rest, prefix } = findCommand(argv);
  if (!entry) {
    if (prefix.length > 0 && (rest.length === 0 || rest[0] === '--help' || rest[0] === '-h')) {
      io.out(topHelp(prefix));
      return rest.length === 0 ? 2 : 0;
    }
    io.err(`bpfts: unknown command '${[...prefix, rest[0] ?? ''].join(' ').trim()}'\n\n${topHelp(prefix)}`);
    return 2;
  }
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(commandHelp(command));
    return 0;
  }
  try {
    return await command.run(parseCommandArgs(command, rest), io);
  } catch (e) {
    if (e instanceof BpfError) {
      io.err(`bpfts ${command.path.join(' ')}: error: ${e.message}\n`);
      if (e.hint) io.err(`hint: ${e.hint}\n`);
      return exitCodeFor(e);
    }
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    process.stderr.write(`bpfts: internal error (a bug in bpfts, please report it):\n${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 70;
  },
);
