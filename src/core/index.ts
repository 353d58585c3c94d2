// The typed face of the WebAssembly core: everything else imports from here.
export { crc32c } from './crc32c.js';
export { hash64, jumpHash } from './hash.js';
export {
  RECORD_HEADER_BYTES,
  DEFAULT_MAX_RECORD_PAYLOAD_BYTES,
  DEFAULT_MAX_BATCH_BYTES,
  MAX_SCAN_BYTES,
  RecordBatchEncoder,
  scanRecords,
  readRecords,
} from './records.js';
export type { ScanResult, ScanStatus, RecordView } from './records.js';
export { MemberRing, DEFAULT_MAX_RING_MEMBERS, MAX_PICK_N } from './ring.js';
export type { RingMember, MemberRingOptions } from './ring.js';
