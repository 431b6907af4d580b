// What every part of the walk shares: the program, its type, the current state, id generation,
// and how a rejection is raised (the kernel stops at its first error; so does the walk).
import type { LinkedProgram } from './program.js';
import type { VMap, VState, Reg } from './state.js';

/** The kernel's verdict line(s) for the instruction being walked: joined by "; " as the loader's rejectionReason joins them. */
export class Reject extends Error {
  constructor(lines: string[]) {
    super(lines.join('; '));
  }
}

export const reject = (...lines: string[]): never => {
  throw new Reject(lines);
};

export interface Env {
  prog: LinkedProgram;
  progType: number;
  expectedAttachType: number;
  cur: VState;
  idGen: number;
  /** Maps by the object definition or data section they come from. */
  mapOf(key: object): VMap;
  /** Per-instruction trace lines, when asked for. */
  log?: string[];
}

export const frame = (env: Env) => env.cur.frames[env.cur.frames.length - 1]!;
export const regs = (env: Env): Reg[] => frame(env).regs;
export const newId = (env: Env): number => ++env.idGen;
