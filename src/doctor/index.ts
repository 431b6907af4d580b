export { doctor, LOADER_NAMES, type DoctorOptions, type Finding, type LoaderName, type ProgramDiagnosis, type Report, type Severity, type BpftsView } from './doctor.js';
export { formatReport, formatVerifyReport } from './format.js';
export { checkBtf, checkTypes, LOADER_FIXED_CODES, type BtfProblem, type BtfCheckOptions } from './btf-check.js';
export { inferIntent, type Intent } from './intent.js';
export { HELPERS_BY_PROG_TYPE, GPL_ONLY_HELPERS, GPL_COMPATIBLE_LICENSES, HELPER_FUNC_MAX_ID, HELPER_TABLES_KERNEL, helperAllowed } from './helpers.js';
export { HELPER_DATA } from './helper-data.js';
export { uninitReads, type UninitRead, type RegInitResult, type RegInitOptions } from './reg-init.js';
export { verify, helperCheck, type VerifyOptions, type VerifyReport, type ProgramVerdict, type VerifyFinding, type SourceRef } from './verify.js';
