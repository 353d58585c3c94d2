// One node's durable state, opened and recovered together:
//   <dir>/hardstate     term, vote, commit (hard-state.ts)
//   <dir>/snapshots/    the newest N tree snapshots (snapshot-store.ts)
//   <dir>/wal/          the log segments (wal.ts)
// Start-up order: hard state, newest valid snapshot, then the WAL, whose recovery
// needs the snapshot index (entries up to it may already be compacted away).
import { join } from 'node:path';
import { ensureDirectory } from './fs-durable.js';
import { HardStateStore } from './hard-state.js';
import { SnapshotStore, type StoredSnapshot } from './snapshot-store.js';
import { defaultLogger, type HardState, type LogEntry, type SnapshotMeta, type StorageLogger } from './types.js';
import { WriteAheadLog, type WalOptions } from './wal.js';

export interface StorageOptions extends WalOptions {
  /** Snapshots kept on disk, newest first (default 3). */
  readonly keepSnapshots?: number;
}

/** What start-up found: load `snapshot` into the tree, then apply `log` entries after it. */
export interface RecoveredState {
  readonly hardState: HardState;
  readonly snapshot: StoredSnapshot | undefined;
}

/** Bytes of entries read per step while replaying. */
const REPLAY_STEP_BYTES = 4 * 1024 * 1024;

export class NodeStorage {
  private constructor(
    readonly dir: string,
    readonly log: WriteAheadLog,
    readonly hardState: HardStateStore,
    readonly snapshots: SnapshotStore,
    readonly recovered: RecoveredState,
  ) {}

  /**
   * Opens `dir` (creating it when new) and recovers: throws StorageCorruptionError
   * naming file and offset when the WAL is damaged anywhere but a torn tail.
   */
  static async open(dir: string, options: StorageOptions = {}): Promise<NodeStorage> {
    const logger: StorageLogger = options.logger ?? defaultLogger;
    await ensureDirectory(dir);
    const hardState = new HardStateStore(dir);
    const state = await hardState.load();
    const snapshots = await SnapshotStore.open(join(dir, 'snapshots'), { keepSnapshots: options.keepSnapshots, logger });
    const snapshot = await snapshots.newest();
    const log = await WriteAheadLog.open(join(dir, 'wal'), {
      ...options,
      logger,
      snapshotIndex: snapshot?.index ?? 0,
      snapshotTerm: snapshot?.term ?? 0,
    });
    return new NodeStorage(dir, log, hardState, snapshots, { hardState: state, snapshot });
  }

  /**
   * Saves a snapshot durably, then compacts the log through its index (whole
   * segments below it are deleted; past the log's end the log is emptied). To
   * install a snapshot whose term disagrees with the local log at its index,
   * truncateSuffix(firstIndex()) the log first.
   */
  async saveSnapshot(meta: SnapshotMeta, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<string> {
    const path = await this.snapshots.save(meta, chunks);
    await this.log.compact(meta.index);
    return path;
  }

  /** The durable entries from `fromIndex` (default: the first) to the end, in bounded reads. */
  async *replay(fromIndex = this.log.firstIndex()): AsyncGenerator<LogEntry> {
    let next = fromIndex;
    while (next <= this.log.durableIndex()) {
      const entries = await this.log.entries(next, this.log.durableIndex() + 1, REPLAY_STEP_BYTES);
      for (const entry of entries) yield entry;
      next += entries.length;
    }
  }

  async close(): Promise<void> {
    await this.log.close();
  }
}
