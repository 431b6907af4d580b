export { readObject } from './read.js';
export { ObjectError } from './errors.js';
export { isMapSection, isGlobalDataSection } from './relocations.js';
export type * from './model.js';
export * from './section-defs.js';
export * from './loader-rules.js';
export { summarizeObject, programTypeBySection, progTypeByName, mapTypeName, type ObjectSummary } from './summary.js';
export { fixupBtf, fixedBtfBytes, type BtfFixupResult, type BtfFixupOptions, type DatasecFixup, type VarFixup, type BtfFixupProblem } from './btf-fixup.js';
