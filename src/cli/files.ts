import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { BpfError } from '../errors.js';

/** A file named on the command line could not be read or written: exit code 2. */
export class InputError extends BpfError {}

const reasons: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  EPERM: 'operation not permitted',
};

export function readInput(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    throw new InputError(`cannot read ${path}: ${reasons[code] ?? (e as Error).message}`);
  }
}

/** Write via a temporary file and rename, so a failure never leaves a partial output. */
export function writeOutputAtomically(path: string, bytes: Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, bytes, { flag: 'wx' });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code ?? '';
    throw new InputError(`cannot write ${path}: ${reasons[code] ?? (e as Error).message}`);
  }
}
