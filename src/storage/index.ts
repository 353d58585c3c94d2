// src/storage: the durable state of one node. NodeStorage (storage.ts) opens and
// recovers everything; WriteAheadLog (wal.ts), HardStateStore (hard-state.ts) and
// SnapshotStore (snapshot-store.ts) are its parts.
export { NodeStorage } from './storage.js';
export type { StorageOptions, RecoveredState } from './storage.js';
export {
  WriteAheadLog,
  DEFAULT_SEGMENT_BYTES,
  DEFAULT_WAL_MAX_BATCH_BYTES,
  DEFAULT_MAX_BATCH_RECORDS,
  DEFAULT_MAX_QUEUED_RECORDS,
  DEFAULT_MAX_QUEUED_BYTES,
} from './wal.js';
export type { WalOptions, WalOpenOptions, SegmentInfo } from './wal.js';
export { HardStateStore, decodeHardState, HARD_STATE_FILE } from './hard-state.js';
export { SnapshotStore, snapshotFileName, DEFAULT_KEEP_SNAPSHOTS } from './snapshot-store.js';
export type { StoredSnapshot, SnapshotStoreOptions } from './snapshot-store.js';
export { MAX_FRAME_BYTES as MAX_SNAPSHOT_CHUNK_BYTES, SnapshotWriter, SnapshotFormatError, memorySnapshotSink, snapshotFrames, verifySnapshotFile } from './snapshot-file.js';
export type { SnapshotSink, SnapshotFileHeader } from './snapshot-file.js';
export { WalMetrics, Log2Histogram } from './metrics.js';
export { segmentFileName, parseSegmentFileName } from './segment.js';
export { StorageCorruptionError, EMPTY_HARD_STATE } from './types.js';
export { isStallError, STALL_CODES } from './stall.js';
export type { StorageStall } from './stall.js';
export type { LogEntry, HardState, SnapshotMeta, StorageLogger } from './types.js';
// For `zook wal verify|repair` once the CLI exists (src/storage/wal-tool.ts runs standalone until then).
export { verifyWal, repairTruncateAfter, main as walToolMain } from './wal-tool.js';
export type { WalReport, SegmentReport, RepairReport } from './wal-tool.js';
