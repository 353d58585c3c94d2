// src/storage: durable state of one node. See wal.ts (the log), hard-state.ts,
// snapshot-store.ts, and storage.ts (opens all three and recovers them together).
export { WriteAheadLog, DEFAULT_SEGMENT_BYTES, DEFAULT_WAL_MAX_BATCH_BYTES, DEFAULT_MAX_BATCH_RECORDS, DEFAULT_MAX_QUEUED_RECORDS, DEFAULT_MAX_QUEUED_BYTES } from './wal.js';
export type { WalOptions, WalOpenOptions, SegmentInfo } from './wal.js';
export { WalMetrics, Log2Histogram } from './metrics.js';
export { segmentFileName, parseSegmentFileName } from './segment.js';
export { StorageCorruptionError, EMPTY_HARD_STATE } from './types.js';
export type { LogEntry, HardState, SnapshotMeta, StorageLogger } from './types.js';
