// One WAL segment file: its name (sequence number and first index), the open
// handle, and an in-memory index of where each record starts and its term, so
// reads and truncation never rescan the file.
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { assert } from '../util/assert.js';

export const SEGMENT_SUFFIX = '.wal';
const SEQ_DIGITS = 10;
const INDEX_DIGITS = 20;
const NAME = /^(\d{10})-(\d{20})\.wal$/;

/**
 * `0000000003-00000000000000001234.wal`: the sequence number orders segments (a
 * later segment supersedes, see recovery.ts), the second number is the index of
 * its first record. Both zero-padded so `ls` sorts them.
 */
export function segmentFileName(seq: number, firstIndex: number): string {
  return `${String(seq).padStart(SEQ_DIGITS, '0')}-${String(firstIndex).padStart(INDEX_DIGITS, '0')}${SEGMENT_SUFFIX}`;
}

export function parseSegmentFileName(name: string): { seq: number; firstIndex: number } | undefined {
  const match = NAME.exec(name);
  if (match === null) return undefined;
  const seq = Number(match[1]);
  const firstIndex = Number(match[2]);
  if (!Number.isSafeInteger(firstIndex)) return undefined;
  return { seq, firstIndex };
}

export class Segment {
  /** Byte offset of each record, in index order: offsets[k] holds index firstIndex + k. */
  private readonly offsets: number[] = [];
  private readonly terms: number[] = [];
  /** End of the last record: where the next batch goes. */
  writeOffset = 0;
  /**
   * A sealed segment takes no more records: it was cut by truncateSuffix, or is not
   * fully preallocated. The next batch starts a new segment.
   */
  sealed: boolean;
  /**
   * False from the rename that made this segment until its directory's fsync
   * returned: no record may be acknowledged in it before then (after a crash the
   * file's name, and so every record in it, could be gone).
   */
  dirSynced = true;

  /** Reads in progress; a removed segment's handle is closed when the last one ends. */
  private readers = 0;
  private retired = false;

  constructor(
    readonly dir: string,
    readonly seq: number,
    readonly firstIndex: number,
    readonly handle: FileHandle,
    sealed: boolean,
    /** The file's preallocated size: records never go past it. */
    readonly capacityBytes: number,
  ) {
    this.sealed = sealed;
  }

  get fileName(): string {
    return segmentFileName(this.seq, this.firstIndex);
  }

  get path(): string {
    return join(this.dir, this.fileName);
  }

  get entryCount(): number {
    return this.offsets.length;
  }

  /** Index of the last record, or firstIndex - 1 when empty. */
  get lastIndex(): number {
    return this.firstIndex + this.offsets.length - 1;
  }

  contains(index: number): boolean {
    return index >= this.firstIndex && index <= this.lastIndex;
  }

  noteRecord(index: number, term: number, offset: number): void {
    assert(index === this.lastIndex + 1, () => `segment ${this.fileName}: record ${index} after ${this.lastIndex}`);
    assert(this.offsets.length === 0 || offset > this.offsets[this.offsets.length - 1], 'record offsets increase');
    this.offsets.push(offset);
    this.terms.push(term);
  }

  termAt(index: number): number {
    assert(this.contains(index), () => `segment ${this.fileName} does not hold ${index}`);
    return this.terms[index - this.firstIndex];
  }

  offsetOf(index: number): number {
    assert(this.contains(index), () => `segment ${this.fileName} does not hold ${index}`);
    return this.offsets[index - this.firstIndex];
  }

  /** Byte offset just past the record at `index`. */
  endOffsetOf(index: number): number {
    assert(this.contains(index), () => `segment ${this.fileName} does not hold ${index}`);
    const k = index - this.firstIndex + 1;
    return k < this.offsets.length ? this.offsets[k] : this.writeOffset;
  }

  /** Forgets records from `index` on (the file itself is cut by the caller). */
  dropFrom(index: number): void {
    assert(index >= this.firstIndex && index <= this.lastIndex + 1, () => `segment ${this.fileName}: cannot drop from ${index}`);
    const keep = index - this.firstIndex;
    this.writeOffset = keep < this.offsets.length ? this.offsets[keep] : this.writeOffset;
    this.offsets.length = keep;
    this.terms.length = keep;
  }

  /** Marks a read of this segment's file as started; pair with release(). */
  acquire(): void {
    assert(!this.retired, () => `segment ${this.fileName} read after removal`);
    this.readers++;
  }

  release(): void {
    assert(this.readers > 0, 'release() without acquire()');
    this.readers--;
    if (this.retired && this.readers === 0) void this.handle.close();
  }

  /** The segment left the log (its file may already be unlinked): close once no read uses it. */
  async retire(): Promise<void> {
    if (this.retired) return;
    this.retired = true;
    if (this.readers === 0) await this.handle.close();
  }
}
