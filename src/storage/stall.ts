// A full or failing disk stalls the log instead of killing the server. Which
// errors count: the ones an operator can fix without restarting zook (free space,
// raise a quota, replace or remount a disk). Anything else (EBADF, an assertion)
// is a bug and still stops the process.
//
// A stalled write is retried as a whole: the same bytes written again at the
// same offsets, then fdatasync. Retrying only the fdatasync would be wrong: after
// a failed fsync Linux may mark the dirty pages clean and drop them, so a second
// fsync can succeed without the data on disk ("fsyncgate").

/** errno codes that stall the log (retried until they stop) rather than crash. */
export const STALL_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS']);

/** First retry after this; each further attempt doubles it up to STALL_MAX_RETRY_MS. */
export const STALL_FIRST_RETRY_MS = 50;
export const STALL_MAX_RETRY_MS = 2000;

/** Why the log cannot write right now, and since when. */
export interface StorageStall {
  /** What failed: 'wal write', 'wal segment', 'hard state', 'snapshot install'. */
  readonly operation: string;
  /** The errno code (ENOSPC, EIO, ...). */
  readonly code: string;
  readonly message: string;
  readonly sinceMs: number;
}

export function isStallError(error: unknown): error is NodeJS.ErrnoException {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && STALL_CODES.has(code);
}

export function stallRetryDelayMs(attempt: number): number {
  return Math.min(STALL_MAX_RETRY_MS, STALL_FIRST_RETRY_MS * 2 ** Math.min(attempt, 16));
}

/** Sleeps for the delay of `attempt` unless `aborted()` turns true first (checked every 50 ms). */
export async function stallPause(attempt: number, aborted: () => boolean): Promise<void> {
  const until = Date.now() + stallRetryDelayMs(attempt);
  while (!aborted() && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(STALL_FIRST_RETRY_MS, until - Date.now())));
  }
}

/** Where a retried operation reports its stall: set once when it starts, cleared when it ends. */
export interface StallTracker {
  stall: StorageStall | null;
  /** Told when `stall` changes (after it changed). */
  stallChanged(): void;
  /** Each retry after a failure. */
  retried?(): void;
}

/**
 * Runs `run` until it succeeds. A disk error (see STALL_CODES) sets
 * `tracker.stall` and retries after stallRetryDelayMs; any other error, or any
 * error once `aborted()`, is thrown. The stall is cleared once `run` succeeds.
 */
export async function retryWhileStalled(operation: string, run: () => Promise<void>, tracker: StallTracker, aborted: () => boolean): Promise<void> {
  for (let tries = 0; ; tries++) {
    try {
      await run();
      break;
    } catch (error) {
      if (!isStallError(error) || aborted()) throw error;
      if (tracker.stall === null) {
        tracker.stall = { operation, code: error.code ?? 'EIO', message: error.message, sinceMs: Date.now() };
        tracker.stallChanged();
      }
      tracker.retried?.();
      await stallPause(tries, aborted);
    }
  }
  if (tracker.stall !== null) {
    tracker.stall = null;
    tracker.stallChanged();
  }
}
