export * from './constants.js';
export { ElfError } from './errors.js';
export { parseElf, sectionByName } from './parse.js';
export type { ElfFile, ElfSection, ElfSymbol, ElfRelocation, ElfRelocationSection } from './parse.js';
