// Group commit: appends queue while one write + fdatasync is in flight; when it
// returns, everything queued (up to maxBatchRecords / maxBatchBytes) goes out as
// the next single write + fdatasync. No timer decides a batch: the disk's own
// fsync latency does, so batches grow exactly as much as the load needs.
//
// Control operations (truncate, compact) ride the same FIFO, so they apply after
// every append queued before them and before every append queued after them.
//
// Bounded: at most maxQueuedRecords / maxQueuedBytes are admitted. Further appends
// wait, in order, in `waiting` until a batch completes (backpressure: an append
// waits, it is never dropped). `waiting` holds only callers blocked on their own
// append, so it is bounded by the number of callers.
//
// A full or failing disk (see stall.ts) does not fail the queue: the batch or op
// that hit it is retried, with backoff, until it succeeds, while appends keep
// queueing within the bounds above. Other errors still fail it for good.
import { assert } from '../util/assert.js';
import type { WalMetrics } from './metrics.js';
import { retryWhileStalled, type StallTracker, type StorageStall } from './stall.js';
import type { LogEntry } from './types.js';

export interface GroupCommitLimits {
  readonly maxBatchBytes: number;
  readonly maxBatchRecords: number;
  readonly maxQueuedRecords: number;
  readonly maxQueuedBytes: number;
}

/** A run of one append's entries, [from, to), that goes into a batch. */
export interface BatchPart {
  readonly entries: readonly LogEntry[];
  readonly from: number;
  readonly to: number;
}

export interface BatchSink {
  /** Writes the parts as one write and one fdatasync; resolves after the fdatasync. */
  writeBatch(parts: readonly BatchPart[], records: number, bytes: number): Promise<void>;
}

interface Deferred {
  resolve(): void;
  reject(error: unknown): void;
}

interface AppendItem {
  readonly kind: 'append';
  readonly entries: readonly LogEntry[];
  readonly sizes: readonly number[];
  readonly bytes: number;
  /** Entries before `next` have gone into a batch. */
  next: number;
  readonly done: Deferred;
}

interface OpItem {
  readonly kind: 'op';
  readonly run: () => Promise<void>;
  readonly done: Deferred;
}

type Item = AppendItem | OpItem;

export class GroupCommitQueue {
  private readonly queue: Item[] = [];
  private head = 0;
  private readonly waiting: Item[] = [];
  private waitingHead = 0;
  private queuedRecords = 0;
  private queuedBytes = 0;
  private waitingRecords = 0;
  private pumping = false;
  private idleWaiters: Array<() => void> = [];
  /** Set when a write or fsync failed: the log can no longer promise anything. */
  failure: unknown = undefined;
  /** Told when a stall starts and (with null) when it ends. */
  onStallChange: (stall: StorageStall | null) => void = () => {};
  /** Set by abortStalls(): a stalled retry gives up and fails the queue. */
  private aborting = false;

  constructor(
    private readonly limits: GroupCommitLimits,
    private readonly sink: BatchSink,
    private readonly metrics: WalMetrics,
  ) {}

  /** Set while a batch or op is being retried after a disk error (ENOSPC, EIO, ...). */
  get stall(): StorageStall | null {
    return this.stallTracker.stall;
  }

  /** Stops retrying a stalled batch or op (closing): it and everything queued fail with its error. */
  abortStalls(): void {
    this.aborting = true;
  }

  /** Runs `attempt` until it succeeds; a disk error stalls and retries it, any other error is thrown. */
  private withStallRetry(operation: string, attempt: () => Promise<void>): Promise<void> {
    return retryWhileStalled(operation, attempt, this.stallTracker, () => this.aborting);
  }

  private readonly stallTracker: StallTracker = {
    stall: null,
    stallChanged: () => {
      const stall = this.stallTracker.stall;
      if (stall !== null) this.metrics.stalls++;
      this.onStallChange(stall);
    },
    retried: () => this.metrics.stallRetries++,
  };

  /** `sizes[i]` is the framed size of entries[i]; each must be at most maxBatchBytes. */
  append(entries: readonly LogEntry[], sizes: readonly number[]): Promise<void> {
    let bytes = 0;
    for (const size of sizes) bytes += size;
    return new Promise<void>((resolve, reject) => {
      this.offer({ kind: 'append', entries, sizes, bytes, next: 0, done: { resolve, reject } });
    });
  }

  op(run: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.offer({ kind: 'op', run, done: { resolve, reject } });
    });
  }

  /** Resolves once everything queued so far has been written (or failed). */
  idle(): Promise<void> {
    if (!this.pumping && this.pending() === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pending(): number {
    return this.queue.length - this.head + (this.waiting.length - this.waitingHead);
  }

  private offer(item: Item): void {
    if (this.failure !== undefined) {
      item.done.reject(this.failure);
      return;
    }
    if (this.waitingHead < this.waiting.length || !this.fits(item)) {
      this.metrics.backpressureWaits++;
      if (item.kind === 'append') this.waitingRecords += item.entries.length;
      this.waiting.push(item);
    } else {
      this.admit(item);
    }
    this.metrics.queueChanged(this.queuedRecordsIncludingWaiting());
    void this.pump();
  }

  private queuedRecordsIncludingWaiting(): number {
    return this.queuedRecords + this.waitingRecords;
  }

  private fits(item: Item): boolean {
    if (item.kind === 'op') return true;
    // An empty queue takes anything, so one large append can never wait forever.
    if (this.queuedRecords === 0) return true;
    return (
      this.queuedRecords + item.entries.length <= this.limits.maxQueuedRecords &&
      this.queuedBytes + item.bytes <= this.limits.maxQueuedBytes
    );
  }

  private admit(item: Item): void {
    if (item.kind === 'append') {
      this.queuedRecords += item.entries.length;
      this.queuedBytes += item.bytes;
    }
    this.queue.push(item);
  }

  private admitWaiting(): void {
    while (this.waitingHead < this.waiting.length && this.fits(this.waiting[this.waitingHead])) {
      const item = this.waiting[this.waitingHead++];
      if (item.kind === 'append') this.waitingRecords -= item.entries.length;
      this.admit(item);
    }
    if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
      this.waiting.splice(0, this.waitingHead);
      this.waitingHead = 0;
    }
  }

  private shift(): Item {
    const item = this.queue[this.head++];
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    return item;
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.head < this.queue.length) {
        const first = this.queue[this.head];
        if (first.kind === 'op') {
          this.shift();
          try {
            await this.withStallRetry('wal op', first.run);
            first.done.resolve();
          } catch (error) {
            this.fail(error);
            first.done.reject(error);
          }
        } else {
          await this.writeOneBatch();
        }
        if (this.failure !== undefined) break;
        this.admitWaiting();
        this.metrics.queueChanged(this.queuedRecordsIncludingWaiting());
      }
    } finally {
      this.pumping = false;
      if (this.failure !== undefined) this.rejectAll(this.failure);
      if (this.pending() === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const wake of waiters) wake();
      }
    }
  }

  private async writeOneBatch(): Promise<void> {
    const parts: BatchPart[] = [];
    const finished: AppendItem[] = [];
    let records = 0;
    let bytes = 0;
    const { maxBatchRecords, maxBatchBytes } = this.limits;
    for (let at = this.head; at < this.queue.length && records < maxBatchRecords; at++) {
      const item = this.queue[at];
      if (item.kind !== 'append') break;
      const from = item.next;
      let to = from;
      while (to < item.entries.length && records < maxBatchRecords && bytes + item.sizes[to] <= maxBatchBytes) {
        bytes += item.sizes[to];
        records++;
        to++;
      }
      if (to > from) parts.push({ entries: item.entries, from, to });
      item.next = to;
      if (to < item.entries.length) break; // the batch is full part way through this append
      finished.push(item);
    }
    assert(records > 0, 'a batch holds at least one record (each fits in maxBatchBytes)');
    for (let i = 0; i < finished.length; i++) this.shift();
    this.queuedRecords -= records;
    this.queuedBytes -= bytes;
    try {
      await this.withStallRetry('wal write', () => this.sink.writeBatch(parts, records, bytes));
    } catch (error) {
      this.fail(error);
      for (const item of finished) item.done.reject(error);
      return;
    }
    for (const item of finished) item.done.resolve();
  }

  private fail(error: unknown): void {
    this.failure ??= error;
  }

  private rejectAll(error: unknown): void {
    while (this.head < this.queue.length) this.shift().done.reject(error);
    while (this.waitingHead < this.waiting.length) this.waiting[this.waitingHead++].done.reject(error);
    this.queuedRecords = 0;
    this.queuedBytes = 0;
    this.waitingRecords = 0;
  }
}
