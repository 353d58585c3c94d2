// The write-ahead log: Raft's entries, group-committed to preallocated segment
// files. What a Raft host calls: open (recovers), append, truncateSuffix, entries,
// term, firstIndex / lastIndex, compact, close.
//
// Index bookkeeping has two views. `lastIndex()` counts every append accepted so far
// (queued or durable): Raft appends in index order and the next append must be
// lastIndex() + 1. `durableIndex()` is the last entry covered by a finished
// fdatasync; `entries()` and `term()` serve durable entries only (a Raft core keeps
// its own not-yet-persisted entries).
import { writeSync } from 'node:fs';
import { open, rename, statfs, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  DEFAULT_MAX_RECORD_PAYLOAD_BYTES,
  RECORD_HEADER_BYTES,
  RecordBatchEncoder,
  readRecords,
  scanRecords,
} from '../core/index.js';
import { assert } from '../util/assert.js';
import { ensureDirectory, fsyncDirectory, unlinkIfExists, writeZeros } from './fs-durable.js';
import { GroupCommitQueue, type BatchPart, type BatchSink, type GroupCommitLimits } from './group-commit.js';
import { WalMetrics } from './metrics.js';
import type { StorageStall } from './stall.js';
import { recoverSegments } from './recovery.js';
import { Segment, segmentFileName } from './segment.js';
import { StorageCorruptionError, checkIndex, defaultLogger, type LogEntry, type StorageLogger } from './types.js';

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
export const DEFAULT_WAL_MAX_BATCH_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_BATCH_RECORDS = 8192;
export const DEFAULT_MAX_QUEUED_RECORDS = 65_536;
export const DEFAULT_MAX_QUEUED_BYTES = 64 * 1024 * 1024;
/** The next segment, preallocated in the background while the current one fills. */
export const SPARE_FILE_NAME = 'spare.tmp';

export interface WalOptions {
  /** Size each segment is preallocated to. A batch never spans two segments. */
  readonly segmentBytes?: number;
  /** Largest single write; also bounds one entry (header + data). At most segmentBytes. */
  readonly maxBatchBytes?: number;
  readonly maxBatchRecords?: number;
  /** Appends beyond these wait (backpressure) until a batch completes. */
  readonly maxQueuedRecords?: number;
  readonly maxQueuedBytes?: number;
  readonly logger?: StorageLogger;
  /** An fdatasync slower than this is logged (a warning, as etcd's "slow fdatasync" past 1 s). */
  readonly slowFsyncLogMs?: number;
}

/** Default of WalOptions.slowFsyncLogMs: etcd warns of a slow fdatasync past 1 s too. */
export const DEFAULT_SLOW_FSYNC_LOG_MS = 1000;

export interface WalOpenOptions extends WalOptions {
  /** The newest valid snapshot: entries up to its index may be gone from the log. */
  readonly snapshotIndex?: number;
  readonly snapshotTerm?: number;
}

export interface SegmentInfo {
  readonly file: string;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly usedBytes: number;
}

function positiveInteger(name: string, value: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value <= 0 || value > max) throw new RangeError(`${name} must be an integer in [1, ${max}], got ${value}`);
  return value;
}

function checkEntry(entry: LogEntry, maxEntryBytes: number): number {
  if (!Number.isInteger(entry.type) || entry.type < 1 || entry.type > 255) throw new RangeError(`entry type must be 1..255, got ${entry.type}`);
  checkIndex('entry term', entry.term);
  checkIndex('entry index', entry.index);
  if (!(entry.data instanceof Uint8Array)) throw new TypeError('entry data must be a Uint8Array');
  const size = RECORD_HEADER_BYTES + entry.data.length;
  if (size > maxEntryBytes) throw new RangeError(`entry ${entry.index} is ${size} bytes framed, over maxBatchBytes ${maxEntryBytes}`);
  return size;
}

/** A preallocated file waiting to become the next segment. */
interface Spare {
  readonly handle: FileHandle;
  readonly bytes: number;
}

/** Free space kept out of a spare's preallocation, so snapshots and the hard state still fit. */
const SPARE_HEADROOM_BYTES = 1024 * 1024;

/** Bytes an unprivileged process may still write on the filesystem of `dir`, or null when unknown. */
async function freeBytes(dir: string): Promise<number | null> {
  try {
    const stats = await statfs(dir);
    return Number(stats.bavail) * Number(stats.bsize);
  } catch {
    return null;
  }
}

function noSpaceError(dir: string, wanted: number, free: number): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`ENOSPC: no space left on device: ${dir} has ${free} bytes free, the next WAL segment needs at least ${wanted}`);
  error.code = 'ENOSPC';
  return error;
}

/** Writes all of `bytes` at `position`, synchronously (see writeBatch for why). */
function writeFullySync(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
}

async function readFully(handle: FileHandle, into: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < into.length) {
    const { bytesRead } = await handle.read(into, done, into.length - done, position + done);
    if (bytesRead === 0) throw new Error(`unexpected end of file at ${position + done}`);
    done += bytesRead;
  }
}

export class WriteAheadLog implements BatchSink {
  readonly metrics = new WalMetrics();
  readonly segmentBytes: number;
  private readonly limits: GroupCommitLimits;
  private readonly queue: GroupCommitQueue;
  private readonly encoder: RecordBatchEncoder;
  private readonly logger: StorageLogger;
  private readonly slowFsyncLogMs: number;
  private spare: Promise<Spare> | undefined;
  private closed = false;

  private constructor(
    readonly dir: string,
    options: WalOptions,
    private readonly segments: Segment[],
    private nextSeq: number,
    private first: number,
    private last: number,
  ) {
    this.segmentBytes = positiveInteger('segmentBytes', options.segmentBytes ?? DEFAULT_SEGMENT_BYTES);
    const maxBatchBytes = positiveInteger('maxBatchBytes', options.maxBatchBytes ?? Math.min(DEFAULT_WAL_MAX_BATCH_BYTES, this.segmentBytes), this.segmentBytes);
    this.limits = {
      maxBatchBytes,
      maxBatchRecords: positiveInteger('maxBatchRecords', options.maxBatchRecords ?? DEFAULT_MAX_BATCH_RECORDS),
      maxQueuedRecords: positiveInteger('maxQueuedRecords', options.maxQueuedRecords ?? DEFAULT_MAX_QUEUED_RECORDS),
      maxQueuedBytes: positiveInteger('maxQueuedBytes', options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES),
    };
    this.durable = last;
    this.logger = options.logger ?? defaultLogger;
    this.slowFsyncLogMs = options.slowFsyncLogMs ?? DEFAULT_SLOW_FSYNC_LOG_MS;
    this.encoder = new RecordBatchEncoder(maxBatchBytes);
    this.queue = new GroupCommitQueue(this.limits, this, this.metrics);
  }

  /** Index of the last entry on disk behind a finished fdatasync. */
  private durable: number;
  /**
   * While truncations are queued but not yet done, entries from the lowest cut on
   * are still on disk yet no longer part of the log: reads must stop before them.
   */
  private pendingCuts = 0;
  private cutFloor = Number.POSITIVE_INFINITY;

  /**
   * Opens (creating if needed) the log in `dir` and recovers it: verifies every
   * record, zeroes a torn tail in the last segment (logged), and throws a
   * StorageCorruptionError naming file and offset for damage anywhere else.
   */
  static async open(dir: string, options: WalOpenOptions = {}): Promise<WriteAheadLog> {
    const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    const snapshotIndex = options.snapshotIndex ?? 0;
    checkIndex('snapshotIndex', snapshotIndex);
    await ensureDirectory(dir);
    const recovered = await recoverSegments(dir, {
      segmentBytes,
      maxRecordPayloadBytes: Math.max(DEFAULT_MAX_RECORD_PAYLOAD_BYTES, segmentBytes),
      snapshotIndex,
      snapshotTerm: options.snapshotTerm ?? 0,
      logger: options.logger ?? defaultLogger,
    });
    const wal = new WriteAheadLog(dir, options, recovered.segments, recovered.nextSeq, recovered.firstIndex, recovered.lastIndex);
    wal.startSpare();
    return wal;
  }

  /** First entry still in the log (snapshot index + 1 after compaction). */
  firstIndex(): number {
    return this.first;
  }

  /** Last entry accepted by append (queued or durable); firstIndex() - 1 when empty. */
  lastIndex(): number {
    return this.last;
  }

  /** Last entry whose fdatasync has returned (and not truncated since). */
  durableIndex(): number {
    return Math.min(this.durable, this.last, this.cutFloor);
  }

  /** Term of a durable entry, or undefined outside [firstIndex, durableIndex]. */
  term(index: number): number | undefined {
    if (index < this.first || index > this.durableIndex()) return undefined;
    return this.segmentFor(index).termAt(index);
  }

  segmentInfo(): SegmentInfo[] {
    return this.segments.map((s) => ({ file: s.fileName, firstIndex: s.firstIndex, lastIndex: s.lastIndex, usedBytes: s.writeOffset }));
  }

  /**
   * Appends entries, which must continue the log (first one at lastIndex() + 1,
   * consecutive). Resolves once an fdatasync covering all of them has returned.
   * The entries' data must not change until then: it is framed when its batch goes out.
   */
  append(entries: readonly LogEntry[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('append on a closed WAL'));
    if (entries.length === 0) return this.queue.op(async () => {});
    const sizes: number[] = new Array<number>(entries.length);
    try {
      for (let k = 0; k < entries.length; k++) {
        sizes[k] = checkEntry(entries[k], this.limits.maxBatchBytes);
        if (entries[k].index !== this.last + 1 + k) {
          throw new RangeError(`append: entry index ${entries[k].index}, expected ${this.last + 1 + k} (truncateSuffix first to replace entries)`);
        }
      }
    } catch (error) {
      return Promise.reject(error);
    }
    this.last += entries.length;
    return this.queue.append(entries, sizes);
  }

  /**
   * Removes entries from `fromIndex` on (a Raft conflict). Applies after every
   * append queued before it; resolves when the cut is durable, so after a crash
   * the removed entries never come back. Appends may be issued right away.
   */
  truncateSuffix(fromIndex: number): Promise<void> {
    if (this.closed) return Promise.reject(new Error('truncateSuffix on a closed WAL'));
    checkIndex('fromIndex', fromIndex);
    if (fromIndex < this.first || fromIndex > this.last + 1) {
      return Promise.reject(new RangeError(`truncateSuffix(${fromIndex}) outside [${this.first}, ${this.last + 1}]`));
    }
    this.last = fromIndex - 1;
    this.pendingCuts++;
    this.cutFloor = Math.min(this.cutFloor, fromIndex - 1);
    return this.queue.op(async () => {
      try {
        await this.truncateNow(fromIndex);
      } finally {
        if (--this.pendingCuts === 0) this.cutFloor = Number.POSITIVE_INFINITY;
      }
    });
  }

  /**
   * Drops entries up to `throughIndex`, which a durable snapshot must already cover.
   * Whole segments below it are deleted. Past lastIndex(), the log is emptied and
   * the next append must be at throughIndex + 1 (after installing a snapshot).
   */
  compact(throughIndex: number): Promise<void> {
    if (this.closed) return Promise.reject(new Error('compact on a closed WAL'));
    checkIndex('throughIndex', throughIndex);
    if (throughIndex < this.first) return this.queue.op(async () => {});
    this.first = throughIndex + 1;
    if (throughIndex > this.last) {
      this.last = throughIndex;
      return this.queue.op(() => this.resetNow(throughIndex));
    }
    return this.queue.op(() => this.compactNow(throughIndex));
  }

  /**
   * Durable entries in [fromIndex, toIndex), stopping once maxBytes of data has
   * been gathered (always at least one entry). Re-verifies the CRCs it reads.
   */
  async entries(fromIndex: number, toIndex: number, maxBytes = Number.POSITIVE_INFINITY): Promise<LogEntry[]> {
    checkIndex('fromIndex', fromIndex);
    checkIndex('toIndex', toIndex);
    if (fromIndex < this.first || toIndex > this.durableIndex() + 1 || fromIndex > toIndex) {
      throw new RangeError(`entries(${fromIndex}, ${toIndex}) outside the durable log [${this.first}, ${this.durableIndex() + 1})`);
    }
    const out: LogEntry[] = [];
    let gathered = 0;
    let index = fromIndex;
    while (index < toIndex && (out.length === 0 || gathered < maxBytes)) {
      // A compaction or cut that ran while this read awaited may have taken the rest.
      if (index < this.first || index > this.durableIndex()) {
        throw new RangeError(`entries(${fromIndex}, ${toIndex}): entry ${index} was compacted or cut while reading`);
      }
      const segment = this.segmentFor(index);
      let last = Math.min(toIndex - 1, segment.lastIndex);
      const start = segment.offsetOf(index);
      // Stay near the byte budget: shrink the range (by halves) while it is far over.
      while (last > index && segment.endOffsetOf(last) - start > 2 * (maxBytes - gathered) + RECORD_HEADER_BYTES) {
        last = index + Math.floor((last - index) / 2);
      }
      const end = segment.endOffsetOf(last);
      const bytes = new Uint8Array(end - start);
      segment.acquire();
      try {
        await readFully(segment.handle, bytes, start);
      } finally {
        segment.release();
      }
      const scan = scanRecords(bytes, Math.max(DEFAULT_MAX_RECORD_PAYLOAD_BYTES, this.segmentBytes));
      if (scan.status !== 'clean' || scan.count !== last - index + 1) {
        throw new StorageCorruptionError(segment.path, start + scan.validBytes, 'record damaged since start-up (CRC mismatch on read)');
      }
      for (const record of readRecords(bytes, scan.validBytes)) {
        assert(record.index === index, () => `read index ${record.index}, expected ${index}`);
        out.push({ term: record.term, index: record.index, type: record.type, data: record.payload });
        gathered += record.payload.length;
        index++;
        if (gathered >= maxBytes && index <= last) break;
      }
    }
    return out;
  }

  /** Resolves when everything queued so far is written (or the log failed). */
  async flush(): Promise<void> {
    await this.queue.idle();
    if (this.queue.failure !== undefined) throw this.queue.failure;
  }

  /** Set while a write is retried after a disk error (ENOSPC, EIO, ...): see stall.ts. */
  get stall(): StorageStall | null {
    return this.queue.stall;
  }

  /** `listener` is told when a stall starts and, with null, when it ends. */
  onStallChange(listener: (stall: StorageStall | null) => void): void {
    this.queue.onStallChange = listener;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A write stalled on a full disk would wait forever: it fails instead (never acknowledged).
    this.queue.abortStalls();
    await this.queue.idle();
    if (this.spare !== undefined) {
      try {
        await (await this.spare).handle.close();
      } catch {
        // A spare that failed to preallocate is of no use; recovery deletes its file anyway.
      }
      await unlinkIfExists(join(this.dir, SPARE_FILE_NAME));
      this.spare = undefined;
    }
    for (const segment of this.segments) await segment.retire();
    this.segments.length = 0;
    this.encoder.dispose();
  }

  // ---- the writer side, called only from the group-commit queue (one at a time) ----

  /**
   * Frames the batch into WASM memory and writes it with a *synchronous* write: the
   * view into WASM memory is handed to the kernel before any other code can run and
   * grow the memory (which would detach the view). No copy besides the kernel's
   * into the page cache; the slow part, fdatasync, is asynchronous.
   */
  async writeBatch(parts: readonly BatchPart[], records: number, bytes: number): Promise<void> {
    const firstIndex = parts[0].entries[parts[0].from].index;
    let segment = this.segments.at(-1);
    if (segment === undefined || segment.sealed || segment.writeOffset + bytes > segment.capacityBytes) {
      segment = await this.rollover(firstIndex);
    }
    if (!segment.dirSynced) {
      await fsyncDirectory(this.dir); // a rollover whose directory fsync failed: finish it first
      segment.dirSynced = true;
    }
    assert(segment.lastIndex + 1 === firstIndex, () => `batch starts at ${firstIndex}, segment ends at ${segment.lastIndex}`);
    const base = segment.writeOffset;
    const encoder = this.encoder;
    encoder.reset();
    try {
      for (const part of parts) {
        for (let k = part.from; k < part.to; k++) {
          const entry = part.entries[k];
          const at = base + encoder.byteLength;
          assert(encoder.add(entry.type, entry.term, entry.index, entry.data), 'batch fits the encoder (maxBatchBytes)');
          segment.noteRecord(entry.index, entry.term, at);
        }
      }
      assert(encoder.byteLength === bytes && encoder.recordCount === records, 'batch size matches the queue accounting');
      writeFullySync(segment.handle.fd, encoder.bytes(), base);
      segment.writeOffset = base + bytes;
      const started = performance.now();
      await segment.handle.datasync();
      const syncMs = performance.now() - started;
      this.metrics.batchWritten(records, bytes, syncMs * 1000);
      if (syncMs > this.slowFsyncLogMs) {
        this.logger(`slow fdatasync: ${Math.round(syncMs)} ms for ${bytes} bytes (over ${this.slowFsyncLogMs} ms)`, { syncMs: Math.round(syncMs), bytes, records, segment: segmentFileName(segment.seq, segment.firstIndex) }, 'warn');
      }
    } catch (error) {
      // Forget the batch (its records, and writeOffset back to base): a retry writes
      // all of it again at the same offsets, then fdatasyncs (see stall.ts).
      if (segment.lastIndex >= firstIndex) segment.dropFrom(firstIndex);
      throw error;
    }
    this.durable = segment.lastIndex;
  }

  private startSpare(): void {
    this.spare = this.prepareSpare();
    // A failure surfaces at the next rollover, which awaits this promise; until then
    // nobody waits on it, so it must not count as an unhandled rejection.
    this.spare.catch(() => undefined);
  }

  /**
   * Preallocates the next segment. On a nearly full disk it takes what fits: the
   * largest of segmentBytes, its half, quarter, ... that free space allows, down
   * to maxBatchBytes (one batch must fit); below that it fails with ENOSPC and the
   * write that needs it stalls until space returns. A failed attempt gives its
   * space back at once.
   */
  private async prepareSpare(): Promise<Spare> {
    const path = join(this.dir, SPARE_FILE_NAME);
    let bytes = this.segmentBytes;
    const free = await freeBytes(this.dir);
    while (free !== null && bytes > free - SPARE_HEADROOM_BYTES && bytes / 2 >= this.limits.maxBatchBytes) bytes = Math.floor(bytes / 2);
    for (;;) {
      if (free !== null && bytes > free - SPARE_HEADROOM_BYTES) throw noSpaceError(this.dir, bytes, free);
      const handle = await open(path, 'w+');
      try {
        await writeZeros(handle, 0, bytes);
        await handle.datasync();
        if (bytes < this.segmentBytes) this.logger(`${this.dir}: little free space: next WAL segment preallocated at ${bytes} bytes instead of ${this.segmentBytes}`);
        return { handle, bytes };
      } catch (error) {
        await handle.close().catch(() => undefined);
        await unlinkIfExists(path).catch(() => undefined);
        const code = (error as NodeJS.ErrnoException).code;
        if ((code === 'ENOSPC' || code === 'EDQUOT') && bytes / 2 >= this.limits.maxBatchBytes) {
          bytes = Math.floor(bytes / 2);
          continue;
        }
        throw error;
      }
    }
  }

  /** Turns the preallocated spare into the next segment, starting at firstIndex. */
  private async rollover(firstIndex: number): Promise<Segment> {
    const pending = this.spare ?? this.prepareSpare();
    this.spare = undefined;
    const spare = await pending;
    try {
      await rename(join(this.dir, SPARE_FILE_NAME), join(this.dir, segmentFileName(this.nextSeq, firstIndex)));
    } catch (error) {
      await spare.handle.close().catch(() => undefined);
      throw error;
    }
    const segment = new Segment(this.dir, this.nextSeq++, firstIndex, spare.handle, false, spare.bytes);
    segment.dirSynced = false;
    this.segments.push(segment);
    this.metrics.segmentsCreated++;
    this.logger(`WAL rolled over to segment ${segmentFileName(segment.seq, firstIndex)}`, { segment: segmentFileName(segment.seq, firstIndex), firstIndex, bytes: spare.bytes, segments: this.segments.length }, 'info');
    await fsyncDirectory(this.dir); // on failure writeBatch retries it before using the segment
    segment.dirSynced = true;
    this.startSpare();
    return segment;
  }

  private segmentFor(index: number): Segment {
    // Usually the last segment (recent entries); otherwise a binary search.
    const segments = this.segments;
    let lo = 0;
    let hi = segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segments[mid].firstIndex <= index) lo = mid;
      else hi = mid - 1;
    }
    // Several segments may share a first index only when all but the last are empty.
    while (lo > 0 && !segments[lo].contains(index) && segments[lo - 1].contains(index)) lo--;
    const segment = segments[lo];
    assert(segment !== undefined && segment.contains(index), () => `no segment holds index ${index}`);
    return segment;
  }

  /**
   * Unlinks segment files (in the given order) and fsyncs the directory. Callers drop
   * the segments from `segments` only after this returned, so a retry after a failed
   * attempt (a stalled disk) finds them again and removes the rest.
   */
  private async removeSegmentFiles(removed: readonly Segment[]): Promise<void> {
    for (const segment of removed) await unlinkIfExists(segment.path);
    if (removed.length > 0) await fsyncDirectory(this.dir);
  }

  /** Drops segments [from, to) from the log (their files are already gone). */
  private async dropSegments(from: number, to: number): Promise<void> {
    for (const segment of this.segments.splice(from, to - from)) await segment.retire();
  }

  private async truncateNow(fromIndex: number): Promise<void> {
    if (fromIndex > this.durable) return;
    const segment = this.segmentFor(fromIndex);
    const k = this.segments.indexOf(segment);
    // Later segments go first, newest first: a crash part way leaves a prefix of the
    // old log, and everything from fromIndex on is uncommitted by Raft's rules anyway.
    await this.removeSegmentFiles(this.segments.slice(k + 1).reverse());
    await this.dropSegments(k + 1, this.segments.length);
    const offset = segment.offsetOf(fromIndex);
    if (offset === 0 && k > 0) {
      await this.removeSegmentFiles([segment]);
      await this.dropSegments(k, k + 1);
    } else {
      // ftruncate is one metadata operation: the old records are gone at once, with
      // no window where a part of them could reappear. The segment is sealed (no
      // longer preallocated past the cut); the next append starts a fresh one.
      await segment.handle.truncate(offset);
      await segment.handle.datasync();
      segment.dropFrom(fromIndex);
      segment.sealed = true;
    }
    this.durable = fromIndex - 1;
  }

  private async compactNow(throughIndex: number): Promise<void> {
    let drop = 0;
    while (drop + 1 < this.segments.length && this.segments[drop + 1].firstIndex <= throughIndex + 1) drop++;
    // Oldest first: a crash part way leaves a suffix that still starts at or before throughIndex + 1.
    await this.removeSegmentFiles(this.segments.slice(0, drop));
    await this.dropSegments(0, drop);
  }

  private async resetNow(throughIndex: number): Promise<void> {
    const old = this.segments.length;
    // The new, empty segment is durable before the old ones go: recovery treats a
    // newer segment that does not continue the older ones as the end of a reset.
    await this.rollover(throughIndex + 1);
    await this.removeSegmentFiles(this.segments.slice(0, old).reverse());
    await this.dropSegments(0, old);
    this.durable = throughIndex;
  }
}
