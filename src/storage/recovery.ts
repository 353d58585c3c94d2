// Start-up for the WAL directory: find the segments, verify every record, cut a
// torn tail off the last segment, and refuse (naming file and offset) on damage
// anywhere else. Also finishes what a crash interrupted (a reset, a compaction).
//
// Segment order and supersession: segments are read in sequence-number order and
// must hold one contiguous run of indices. The only legitimate break is a reset
// (compact past the last entry, e.g. after installing a snapshot): it creates a new
// segment starting at snapshot+1 *before* deleting the older ones, so after a crash
// a newer segment may start anywhere after older ones. That is accepted only when
// the snapshot covers everything before the new segment; otherwise it is missing
// data and start-up stops.
import { readdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readRecords, scanRecords } from '../core/index.js';
import { fsyncDirectory, unlinkIfExists, writeZeros } from './fs-durable.js';
import { Segment, parseSegmentFileName, SEGMENT_SUFFIX } from './segment.js';
import { StorageCorruptionError, type StorageLogger } from './types.js';

export interface SegmentRecoveryOptions {
  readonly segmentBytes: number;
  readonly maxRecordPayloadBytes: number;
  /** Index and term of the newest valid snapshot (0, 0 when there is none). */
  readonly snapshotIndex: number;
  readonly snapshotTerm: number;
  readonly logger: StorageLogger;
  /** Verify only: report, never change a file (the wal tool's `verify`). */
  readonly readOnly?: boolean;
}

export interface RecoveredLog {
  /** Segments in order, contiguous; the last one is where appends continue. */
  readonly segments: Segment[];
  readonly nextSeq: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
}

interface FoundSegment {
  readonly name: string;
  readonly seq: number;
  readonly firstIndex: number;
}

export async function listSegments(dir: string, logger: StorageLogger, readOnly: boolean): Promise<FoundSegment[]> {
  const found: FoundSegment[] = [];
  for (const name of await readdir(dir)) {
    if (name.endsWith('.tmp')) {
      // A spare being preallocated, never part of the log.
      if (!readOnly) await unlinkIfExists(join(dir, name));
      continue;
    }
    const parsed = parseSegmentFileName(name);
    if (parsed === undefined) {
      if (name.endsWith(SEGMENT_SUFFIX)) logger(`${join(dir, name)}: not a segment name, ignored`);
      continue;
    }
    found.push({ name, ...parsed });
  }
  found.sort((a, b) => a.seq - b.seq);
  for (let i = 1; i < found.length; i++) {
    if (found[i].seq === found[i - 1].seq) {
      throw new StorageCorruptionError(join(dir, found[i].name), 0, `two segments with sequence number ${found[i].seq}`);
    }
  }
  return found;
}

/** Offset just past the last non-zero byte (the extent of a torn write). */
function nonZeroEnd(bytes: Uint8Array, from: number): number {
  let end = bytes.length;
  while (end > from && bytes[end - 1] === 0) end--;
  return end;
}

async function loadSegment(dir: string, found: FoundSegment, isLast: boolean, options: SegmentRecoveryOptions): Promise<Segment> {
  const path = join(dir, found.name);
  const bytes = await readFile(path);
  const scan = scanRecords(bytes, options.maxRecordPayloadBytes);
  if (scan.status === 'corrupt') {
    throw new StorageCorruptionError(
      path,
      scan.validBytes,
      `damaged record with valid records after it (${scan.count} good records before it); refusing to start. ` +
        'Inspect with `zook wal verify`; `zook wal repair --truncate-after <index>` drops everything after an index.',
    );
  }
  if (scan.status === 'torn' && !isLast) {
    throw new StorageCorruptionError(path, scan.validBytes, 'damaged record at the end of a segment that is not the last one; refusing to start');
  }
  const handle = await open(path, options.readOnly === true ? 'r' : 'r+');
  try {
    if (scan.status === 'torn') {
      const end = nonZeroEnd(bytes, scan.validBytes);
      options.logger(`${path}: torn tail at byte offset ${scan.validBytes} (${end - scan.validBytes} bytes of an unfinished write)${options.readOnly === true ? '' : ' zeroed'}`);
      if (options.readOnly !== true) {
        // Zeros, not ftruncate: the segment stays preallocated, and nothing of the
        // torn write can later be mistaken for a record.
        await writeZeros(handle, scan.validBytes, end);
        await handle.datasync();
      }
    }
    // The file's length is its room: a segment cut by truncateSuffix ends at its last
    // record (full), one preallocated smaller on a nearly full disk keeps its room.
    const segment = new Segment(dir, found.seq, found.firstIndex, handle, false, bytes.length);
    let expected = found.firstIndex;
    for (const record of readRecords(bytes, scan.validBytes)) {
      if (record.index !== expected) {
        throw new StorageCorruptionError(path, record.offset, `record has index ${record.index}, expected ${expected}`);
      }
      segment.noteRecord(record.index, record.term, record.offset);
      expected++;
    }
    segment.writeOffset = scan.validBytes;
    return segment;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

async function removeSegments(dir: string, segments: readonly Segment[], readOnly: boolean): Promise<void> {
  if (segments.length === 0) return;
  // Newest first: a crash part way leaves a prefix of the old log, never a hole.
  for (const segment of [...segments].reverse()) {
    await segment.handle.close();
    if (!readOnly) await unlinkIfExists(segment.path);
  }
  if (!readOnly) await fsyncDirectory(dir);
}

export async function recoverSegments(dir: string, options: SegmentRecoveryOptions): Promise<RecoveredLog> {
  const readOnly = options.readOnly === true;
  const found = await listSegments(dir, options.logger, readOnly);
  const { snapshotIndex, snapshotTerm, logger } = options;
  let chain: Segment[] = [];
  try {
    for (let i = 0; i < found.length; i++) {
      const segment = await loadSegment(dir, found[i], i === found.length - 1, options);
      const previous = chain.at(-1);
      if (previous !== undefined && segment.firstIndex !== previous.lastIndex + 1) {
        if (segment.firstIndex - 1 > snapshotIndex) {
          await segment.handle.close();
          throw new StorageCorruptionError(
            segment.path,
            0,
            `segment starts at index ${segment.firstIndex} but the one before ends at ${previous.lastIndex}, and the newest snapshot (index ${snapshotIndex}) does not cover the gap`,
          );
        }
        logger(`${segment.path}: finishing an interrupted reset to index ${segment.firstIndex}, removing ${chain.length} older segment(s)`);
        await removeSegments(dir, chain, readOnly);
        chain = [];
      }
      chain.push(segment);
    }
  } catch (error) {
    for (const segment of chain) await segment.handle.close();
    throw error;
  }
  const nextSeq = found.length === 0 ? 1 : found[found.length - 1].seq + 1;
  const empty = (): RecoveredLog => ({ segments: [], nextSeq, firstIndex: snapshotIndex + 1, lastIndex: snapshotIndex });
  if (chain.length === 0) return empty();

  const chainFirst = chain[0].firstIndex;
  const chainLast = chain[chain.length - 1].lastIndex;
  if (chainFirst > snapshotIndex + 1) {
    for (const segment of chain) await segment.handle.close();
    throw new StorageCorruptionError(
      chain[0].path,
      0,
      `the log starts at index ${chainFirst} but the newest snapshot only covers up to ${snapshotIndex}: entries ${snapshotIndex + 1}..${chainFirst - 1} are missing`,
    );
  }
  if (chainLast < snapshotIndex) {
    // Every entry is inside the snapshot (a compaction that was cut short).
    await removeSegments(dir, chain, readOnly);
    return empty();
  }
  if (snapshotIndex >= chainFirst && snapshotIndex > 0) {
    const segment = chain.find((s) => s.contains(snapshotIndex));
    if (segment !== undefined && segment.termAt(snapshotIndex) !== snapshotTerm) {
      // The log disagrees with the snapshot at its last index: it came from another
      // history (an installed snapshot whose reset was interrupted). Raft's rule:
      // discard the whole log and keep the snapshot.
      logger(`${segment.path}: entry ${snapshotIndex} has term ${segment.termAt(snapshotIndex)}, the snapshot says ${snapshotTerm}: discarding the log`);
      await removeSegments(dir, chain, readOnly);
      return empty();
    }
  }
  return { segments: chain, nextSeq, firstIndex: Math.max(chainFirst, snapshotIndex + 1), lastIndex: chainLast };
}
