// The runtime side of the conformance suite's plugin protocol: memory as hex bytes in the first argument,
// the program as hex bytes on standard input or after --program, r0 printed in hex, non-zero exit for a
// program that is refused or faults.
import { BpfError } from '../errors.js';
import { conformanceHelpers } from './conformance-helpers.js';
import { Vm } from './vm.js';

export interface PluginResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Bytes from hex text: whitespace-separated tokens, each one or more whole bytes ("b7", "b701", "7"). */
export function parseHexBytes(text: string): Uint8Array {
  const out: number[] = [];
  for (const token of text.split(/\s+/)) {
    if (token === '') continue;
    if (!/^[0-9a-fA-F]+$/.test(token)) throw new BpfError(`not a hex byte: '${token}'`);
    if (token.length <= 2) {
      out.push(parseInt(token, 16));
      continue;
    }
    if (token.length % 2 !== 0) throw new BpfError(`odd number of hex digits in '${token}'`);
    for (let i = 0; i < token.length; i += 2) out.push(parseInt(token.slice(i, i + 2), 16));
  }
  return Uint8Array.from(out);
}

/**
 * Run one conformance test the way the suite's runner drives a plugin process. `argv` excludes the
 * command itself; `stdin` is read only when no --program is given.
 */
export function conformancePlugin(argv: readonly string[], stdin: string): PluginResult {
  const args = [...argv];
  let memoryText = '';
  let programText: string | undefined;
  if (args.length > 0 && !args[0]!.startsWith('--')) memoryText = args.shift()!;
  while (args.length > 0) {
    const a = args.shift()!;
    if (a === '--program' && args.length > 0) programText = args.shift()!;
    else if (a !== '') return { exitCode: 2, stdout: '', stderr: `invalid argument: ${a}\n` };
  }
  try {
    const program = parseHexBytes(programText ?? stdin);
    const memory = parseHexBytes(memoryText);
    const vm = new Vm(program, { helpers: conformanceHelpers() });
    // As in the reference plugin, r1 is NULL when there is no memory.
    const pointer = memory.length > 0 ? vm.memory.map(memory, 'mem') : 0n;
    const { r0 } = vm.run([pointer, BigInt(memory.length)]);
    return { exitCode: 0, stdout: `${r0.toString(16)}\n`, stderr: '' };
  } catch (e) {
    if (e instanceof BpfError) return { exitCode: 1, stdout: '', stderr: `${e.message}\n` };
    throw e;
  }
}
