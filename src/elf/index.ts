export * from './constants.js';
export { ElfError } from './errors.js';
export { parseElf, sectionByName } from './parse.js';
export type { ElfFile, ElfSection, ElfSymbol, ElfRelocation, ElfRelocationSection } from './parse.js';
export { writeElf, plannedSectionNames } from './write.js';
export type { ElfEdits, SectionRef } from './write.js';
export { readNativeElf, fileOffsetOf } from './native.js';
export type { NativeElf, LoadSegment } from './native.js';
