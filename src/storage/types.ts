// The shapes storage shares with the Raft core and the tree. Declared here,
// structurally, so src/storage never imports src/consensus or src/tree.

/** One Raft log entry; `type` (1..255) becomes the WAL record's type byte. */
export interface LogEntry {
  readonly term: number;
  readonly index: number;
  readonly type: number;
  readonly data: Uint8Array;
}

/** Raft's small persistent state. `vote` 0 means "voted for nobody". */
export interface HardState {
  readonly term: number;
  readonly vote: number;
  readonly commit: number;
}

export const EMPTY_HARD_STATE: HardState = Object.freeze({ term: 0, vote: 0, commit: 0 });

/** What identifies a snapshot: the last log entry it covers, plus an opaque blob (e.g. membership). */
export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly meta: Uint8Array;
}

/**
 * Where storage reports what it repaired or skipped (torn tails, damaged snapshots:
 * warn, the default level), and events (WAL segment rollover: info; slow fdatasync: warn)
 * with their fields. A server passes its log; tools print to stderr.
 */
export type StorageLogger = (message: string, fields?: Record<string, unknown>, level?: 'info' | 'warn' | 'error') => void;

/** Without a server's log (tools, tests): warnings and errors on stderr, routine events not at all. */
export const defaultLogger: StorageLogger = (message, _fields, level = 'warn') => {
  if (level !== 'info') console.warn(`zook storage: ${message}`);
};

/** Damage that recovery must not repair on its own: names the file and the byte offset. */
export class StorageCorruptionError extends Error {
  override name = 'StorageCorruptionError';
  constructor(
    readonly file: string,
    readonly offset: number,
    detail: string,
  ) {
    super(`${file} at byte offset ${offset}: ${detail}`);
  }
}

export function checkIndex(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a safe non-negative integer, got ${value}`);
}
