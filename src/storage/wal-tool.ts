// `zook wal verify <dir>` and `zook wal repair <dir> --truncate-after <index>`:
// an operator's view of a WAL that refused to start, and the one repair that is
// safe to do by hand (drop everything after an index, e.g. to before a damaged
// record, then let Raft fetch the rest from the leader). Until the CLI exists:
//   node --import tsx src/storage/wal-tool.ts verify <dir>     (or dist/src/storage/wal-tool.js)
// <dir> is a node's data directory (holding wal/) or a WAL directory itself.
import { existsSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MAX_RECORD_PAYLOAD_BYTES, readRecords, scanRecords, type ScanStatus } from '../core/index.js';
import { DataDirLock, dataDirHolder } from './data-dir-lock.js';
import { fsyncDirectory, unlinkIfExists } from './fs-durable.js';
import { decodeHardState, HARD_STATE_FILE } from './hard-state.js';
import { listSegments } from './recovery.js';
import { SnapshotStore } from './snapshot-store.js';

export interface SegmentReport {
  readonly file: string;
  readonly firstIndex: number;
  /** Index of the last valid record (firstIndex - 1 when none). */
  readonly lastIndex: number;
  readonly records: number;
  readonly validBytes: number;
  readonly status: ScanStatus;
  /** A record whose index does not follow its predecessor's, if any. */
  readonly indexError?: string;
}

export interface WalReport {
  readonly walDir: string;
  readonly segments: readonly SegmentReport[];
  /** Human-readable problems; empty when the log would start cleanly. */
  readonly problems: readonly string[];
}

/** The WAL directory for a data directory (with wal/ inside) or a WAL directory itself. */
export function resolveWalDir(dir: string): string {
  return existsSync(join(dir, 'wal')) ? join(dir, 'wal') : dir;
}

/** The data directory a server would lock for `dir` (a data dir, or the wal/ inside one). */
function dataDirOf(dir: string): string {
  if (resolveWalDir(dir) !== dir) return dir;
  const absolute = resolve(dir);
  return basename(absolute) === 'wal' ? dirname(absolute) : dir;
}

async function scanSegment(walDir: string, name: string, firstIndex: number): Promise<{ report: SegmentReport; ends: Map<number, number> }> {
  const path = join(walDir, name);
  const bytes = await readFile(path);
  const scan = scanRecords(bytes, DEFAULT_MAX_RECORD_PAYLOAD_BYTES);
  const ends = new Map<number, number>();
  let expected = firstIndex;
  let indexError: string | undefined;
  for (const record of readRecords(bytes, scan.validBytes)) {
    if (record.index !== expected) {
      indexError = `${path} at byte offset ${record.offset}: record has index ${record.index}, expected ${expected}`;
      break;
    }
    ends.set(record.index, record.offset + 32 + record.payload.length);
    expected++;
  }
  return {
    report: { file: path, firstIndex, lastIndex: expected - 1, records: scan.count, validBytes: scan.validBytes, status: scan.status, indexError },
    ends,
  };
}

/** Reads every segment without changing anything and says what start-up would do. */
export async function verifyWal(dir: string): Promise<WalReport> {
  const walDir = resolveWalDir(dir);
  const found = await listSegments(walDir, () => {}, true);
  const segments: SegmentReport[] = [];
  const problems: string[] = [];
  for (let i = 0; i < found.length; i++) {
    const { report } = await scanSegment(walDir, found[i].name, found[i].firstIndex);
    segments.push(report);
    const isLast = i === found.length - 1;
    if (report.status === 'corrupt') problems.push(`${report.file} at byte offset ${report.validBytes}: damaged record with valid records after it`);
    if (report.status === 'torn' && !isLast) problems.push(`${report.file} at byte offset ${report.validBytes}: damaged record at the end of a segment that is not the last`);
    if (report.indexError !== undefined) problems.push(report.indexError);
    const previous = segments[i - 1];
    if (previous !== undefined && report.firstIndex !== previous.lastIndex + 1) {
      problems.push(`${report.file}: starts at ${report.firstIndex}, the segment before ends at ${previous.lastIndex} (fine only if a snapshot covers up to ${report.firstIndex - 1})`);
    }
  }
  return { walDir, segments, problems };
}

export interface RepairReport {
  readonly truncatedFile?: string;
  readonly truncatedAtByte?: number;
  readonly removedFiles: readonly string[];
}

/**
 * Drops every record after `index`: cuts the segment holding it right after that
 * record and deletes all later segments. Refuses when there is damage at or before
 * `index` (that data cannot be kept; choose a smaller index).
 */
export async function repairTruncateAfter(dir: string, index: number): Promise<RepairReport> {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`--truncate-after needs a non-negative integer, got ${index}`);
  const walDir = resolveWalDir(dir);
  const found = await listSegments(walDir, () => {}, true);
  let keepThrough = -1; // position in `found` of the segment that gets cut
  let cut: { file: string; at: number } | undefined;
  for (let i = 0; i < found.length; i++) {
    const { report, ends } = await scanSegment(walDir, found[i].name, found[i].firstIndex);
    if (report.firstIndex > index) break;
    const end = ends.get(index);
    if (end !== undefined) {
      keepThrough = i;
      cut = { file: report.file, at: end };
      break;
    }
    // The index lies beyond this segment's valid records: it must be whole.
    if (report.status !== 'clean' || report.indexError !== undefined) {
      throw new Error(`${report.file} at byte offset ${report.validBytes}: damaged before index ${index}; choose an index at most ${report.lastIndex}`);
    }
    keepThrough = i;
  }
  const removed = found.slice(keepThrough + 1).map((f) => join(walDir, f.name));
  for (const file of [...removed].reverse()) await unlinkIfExists(file);
  if (removed.length > 0) await fsyncDirectory(walDir);
  if (cut !== undefined) {
    const handle = await open(cut.file, 'r+');
    try {
      await handle.truncate(cut.at);
      await handle.datasync();
    } finally {
      await handle.close();
    }
  }
  return { truncatedFile: cut?.file, truncatedAtByte: cut?.at, removedFiles: removed };
}

async function printSnapshotsAndHardState(dataDir: string): Promise<void> {
  const snapshotDir = join(dataDir, 'snapshots');
  if (existsSync(snapshotDir)) {
    const messages: string[] = [];
    const store = await SnapshotStore.open(snapshotDir, { logger: (m) => messages.push(m) });
    const listed = await store.list();
    const newest = await store.newest();
    console.log(`snapshots: ${listed.map((s) => `${s.index}@${s.term}`).join(', ') || 'none'}; newest valid: ${newest === undefined ? 'none' : `index ${newest.index}, term ${newest.term}`}`);
    for (const m of messages) console.log(`  ${m}`);
  }
  const hardStatePath = join(dataDir, HARD_STATE_FILE);
  if (existsSync(hardStatePath)) {
    try {
      const state = decodeHardState(await readFile(hardStatePath), hardStatePath);
      console.log(`hard state: term ${state.term}, vote ${state.vote}, commit ${state.commit}`);
    } catch (error) {
      console.log(`hard state: ${(error as Error).message}`);
    }
  }
}

const USAGE = 'usage: wal-tool verify <dir> | wal-tool repair <dir> --truncate-after <index>';

export async function main(args: readonly string[]): Promise<number> {
  const [command, dir, flag, value] = args;
  if (dir === undefined) {
    console.error(USAGE);
    return 2;
  }
  if (command === 'verify') {
    // Reading is safe while a server runs, but what it reads may be changing.
    const held = await dataDirHolder(dataDirOf(dir));
    if (held !== null) console.log(`note: a live process holds ${dir}${held.holder === null ? '' : ` (pid ${held.holder.pid}, ${held.holder.owner})`}: its log may grow while this reads it`);
    const report = await verifyWal(dir);
    console.log(`WAL ${report.walDir}: ${report.segments.length} segment(s)`);
    for (const s of report.segments) {
      console.log(`  ${s.file}  index ${s.firstIndex}..${s.lastIndex}  ${s.records} records  ${s.validBytes} bytes  ${s.status}`);
    }
    if (resolveWalDir(dir) !== dir) await printSnapshotsAndHardState(dir);
    for (const p of report.problems) console.log(`PROBLEM: ${p}`);
    console.log(report.problems.length === 0 ? 'ok: the log would start cleanly (a torn tail, if any, is cut at start-up)' : `${report.problems.length} problem(s)`);
    return report.problems.length === 0 ? 0 : 1;
  }
  if (command === 'repair' && flag === '--truncate-after' && value !== undefined) {
    // Never under a running server: hold the dir (the data dir, wal/'s parent) for the repair.
    if (!existsSync(dir)) throw new Error(`${dir}: no such directory`);
    const lock = await DataDirLock.acquire(dataDirOf(dir), 'zook wal repair');
    let result: RepairReport;
    try {
      result = await repairTruncateAfter(dir, Number(value));
    } finally {
      await lock.release();
    }
    if (result.truncatedFile !== undefined) console.log(`cut ${result.truncatedFile} at byte ${result.truncatedAtByte}`);
    for (const f of result.removedFiles) console.log(`removed ${f}`);
    console.log(`log now ends at or before index ${value}`);
    return 0;
  }
  console.error(USAGE);
  return 2;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exitCode = 1;
    },
  );
}
