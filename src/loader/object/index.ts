export { loadObject, objectNameOf, type LoadOptions, type LoadedObject, type LoadedProgram } from './load.js';
export { LoadError, ProgramRejectedError } from './errors.js';
export { Undo, transaction } from './undo.js';
export { planMaps, createMaps, dataMapName, kernelMapName, LIBBPF_PIN_BY_NAME, BPFFS, TC_GLOBALS_DIR, type MapSpec, type CreatedMap } from './maps.js';
export { linkProgram, type LinkedProgram, type SourceLine } from './link.js';
export { chooseProgType, parseProgType, progTypeName, ATTACH_PROG_TYPES, type ProgTypeChoice } from './prog-type.js';
export { annotateVerifierLog } from './verifier-log.js';
export { loadObjectBtf, fixupDatasecs, sanitizeBtf, probeBtfFeatures, rawBtf, type BtfFeatures } from './btf-load.js';
export { kernelTestRun, type KernelTestRunOptions, type KernelTestRunResult } from './test-run.js';
