export { doctor, LOADER_NAMES, type DoctorOptions, type Finding, type LoaderName, type ProgramDiagnosis, type Report, type Severity, type BpftsView } from './doctor.js';
export { formatReport, formatVerifyReport } from './format.js';
export { checkBtf, checkTypes, LOADER_FIXED_CODES, type BtfProblem, type BtfCheckOptions } from './btf-check.js';
export { inferIntent, type Intent } from './intent.js';
export { HELPERS_BY_PROG_TYPE, GPL_ONLY_HELPERS, GPL_COMPATIBLE_LICENSES, helperAllowed } from './helpers.js';
export { verify, type VerifyReport, type ProgramVerdict, type VerifyFinding, type SourceRef } from './verify.js';
