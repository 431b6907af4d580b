import { BpfError } from '../errors.js';

/** The program cannot be laid out for verification (a call or address into no function, ...). */
export class VerifierInputError extends BpfError {}
