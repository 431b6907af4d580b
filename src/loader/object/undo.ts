// What a command has created so far, to be taken back in reverse order if a later step fails.
// Undo steps never throw past rollback(): a failure to undo one thing must not hide the original
// error nor stop the other steps.

export class Undo {
  private steps: { what: string; fn: () => void }[] = [];
  private finals: (() => void)[] = [];
  /** Undo steps that failed during the last rollback, for the error report. */
  readonly failures: string[] = [];

  /** Registers how to take back something just created. */
  push(what: string, fn: () => void): void {
    this.steps.push({ what, fn });
  }

  /** Runs `fn` when the work ends either way (commit or rollback), e.g. to close a descriptor only the undo needed. */
  finally(fn: () => void): void {
    this.finals.push(fn);
  }

  private runFinals(): void {
    for (const fn of this.finals.splice(0)) {
      try {
        fn();
      } catch (e) {
        this.failures.push((e as Error).message);
      }
    }
  }

  /** Takes back everything registered, newest first. */
  rollback(): void {
    for (const step of this.steps.reverse()) {
      try {
        step.fn();
      } catch (e) {
        this.failures.push(`${step.what}: ${(e as Error).message}`);
      }
    }
    this.steps = [];
    this.runFinals();
  }

  /** Keeps everything: nothing will be undone. */
  commit(): void {
    this.steps = [];
    this.runFinals();
  }
}

/** Runs `fn` with a fresh Undo; on an exception rolls back and rethrows. */
export function transaction<T>(fn: (undo: Undo) => T): T {
  const undo = new Undo();
  try {
    const result = fn(undo);
    undo.commit();
    return result;
  } catch (e) {
    undo.rollback();
    throw e;
  }
}
