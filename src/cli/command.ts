import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';

type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & { description: string; valueName?: string };

export interface Command {
  /** Words that select the command, e.g. ['btf', 'dump']. */
  path: string[];
  summary: string;
  /** Usage line after `bpfts <path>`, e.g. 'OBJ [--json]'. */
  usage: string;
  /** Longer explanation printed by --help. */
  details?: string;
  options: Record<string, OptionSpec>;
  /** Returns the exit code. */
  run(args: ParsedArgs, io: Io): Promise<number> | number;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

export interface Io {
  out(text: string | Uint8Array): void;
  err(text: string): void;
}

export function parseCommandArgs(command: Command, argv: string[]): ParsedArgs {
  const options: ParseArgsConfig['options'] = {};
  for (const [name, spec] of Object.entries(command.options)) {
    const { description: _d, valueName: _v, ...parseSpec } = spec;
    options[name] = parseSpec;
  }
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: values as ParsedArgs['values'], positionals };
  } catch (e) {
    throw new UsageError(`${(e as Error).message.replace(/\. To specify a positional argument.*$/s, '')}`, {
      hint: `see 'bpfts ${command.path.join(' ')} --help'`,
    });
  }
}

export function commandHelp(command: Command): string {
  const lines = [`Usage: bpfts ${command.path.join(' ')} ${command.usage}`, '', command.summary];
  if (command.details) lines.push('', command.details.trim());
  const entries = Object.entries(command.options);
  if (entries.length > 0) {
    lines.push('', 'Options:');
    const heads = entries.map(([name, spec]) =>
      `  ${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : ''}${spec.multiple ? ' ...' : ''}`);
    const width = Math.max(...heads.map((h) => h.length)) + 2;
    entries.forEach(([, spec], i) => lines.push(heads[i]!.padEnd(width) + spec.description));
  }
  return lines.join('\n') + '\n';
}

/** Typed accessors so commands don't cast. */
export function str(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function strs(args: ParsedArgs, name: string): string[] {
  const v = args.values[name];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : [];
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

export function onePositional(args: ParsedArgs, what: string, command: Command): string {
  if (args.positionals.length !== 1) {
    throw new UsageError(`expected exactly one ${what}, got ${args.positionals.length}`, { hint: `usage: bpfts ${command.path.join(' ')} ${command.usage}` });
  }
  return args.positionals[0]!;
}

export function intOption(args: ParsedArgs, name: string): number | undefined {
  const v = str(args, name);
  if (v === undefined) return undefined;
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(v)) throw new UsageError(`--${name} wants a non-negative integer, got '${v}'`);
  return Number(v);
}
