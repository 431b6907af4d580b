export { RingReader, type ReaderEvent, type RecordEvent, type LostEvent } from './reader.js';
export { PerfEventArrayReader, type PerfReaderOptions } from './perf-buffer.js';
export { RingBufferReader } from './ring-buffer.js';
export { recordType, decodeRecord, type RecordType } from './decode.js';
export { TracePipeReader } from './trace-pipe.js';
