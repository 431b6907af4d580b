export { fixObject, FixError, type FixOptions, type FixResult, type SectionRename } from './fix.js';
