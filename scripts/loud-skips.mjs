// A vitest reporter: every test file that skips tests must say why with the "*** SKIPPING" line of
// test/helpers/env.ts. It writes the files that skipped without one, as a JSON list, to the path
// in BPFTS_SILENT_SKIPS; scripts/run-tests.mjs counts each as a failure.
import { writeFileSync } from 'node:fs';

export default class LoudSkips {
  onInit(vitest) {
    this.vitest = vitest;
    this.loud = new Set();
  }

  onUserConsoleLog(log) {
    if (!log.taskId || !log.content.includes('*** SKIPPING')) return;
    const task = this.vitest.state.idMap.get(log.taskId);
    const file = task?.file ?? task;
    if (file?.filepath) this.loud.add(file.filepath);
  }

  onTestRunEnd(testModules) {
    const silent = testModules
      .filter((m) => [...m.children.allTests()].some((t) => t.result().state === 'skipped'))
      .map((m) => m.moduleId)
      .filter((path) => !this.loud.has(path));
    if (process.env.BPFTS_SILENT_SKIPS) writeFileSync(process.env.BPFTS_SILENT_SKIPS, JSON.stringify(silent));
  }
}
