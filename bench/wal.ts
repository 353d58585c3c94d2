// `npm run bench:wal` (or `npx tsx bench/wal.ts`): durable append throughput of the
// WAL against the raw disk. First the raw probe (4 KiB write + fdatasync in a
// loop), then how preallocation changes that probe, then WAL appends for 100 B and
// 1 KiB records from 1..1024 concurrent appenders. Reports; never asserts.
// WAL_BENCH_MS sets the time per case (default 2000).
import { closeSync, fdatasyncSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { WriteAheadLog, type LogEntry } from '../src/storage/index.js';
import { formatRate, markdownTable } from './support.js';

const CASE_MS = Number(process.env.WAL_BENCH_MS ?? 2000);
const PROBE_FILE_BYTES = 64 * 1024 * 1024;
const PROBE_WRITE_BYTES = 4096;

const PROBE_MS = Math.max(300, Math.floor(CASE_MS / 2));

interface ProbeResult {
  readonly fsyncsPerSecond: number;
  readonly p50Micros: number;
  /** Where the next slice of the same file continues. */
  readonly nextOffset: number;
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/**
 * 4 KiB write + fdatasync in a loop at increasing offsets. `prepare` decides what
 * the file looks like first: empty (appending), a sparse ftruncate, or zero-filled.
 */
function openProbeFile(dir: string, name: string, prepare: 'append' | 'ftruncate' | 'zeros'): number {
  const fd = openSync(join(dir, name), 'w+');
  if (prepare === 'ftruncate') ftruncateSync(fd, PROBE_FILE_BYTES);
  if (prepare === 'zeros') {
    const zeros = new Uint8Array(1024 * 1024);
    for (let at = 0; at < PROBE_FILE_BYTES; at += zeros.length) writeSync(fd, zeros, 0, zeros.length, at);
    fdatasyncSync(fd);
  }
  return fd;
}

/** `ms` of 4 KiB writes, each followed by fdatasync, at increasing offsets from `offset`. */
function probeLoop(fd: number, ms: number, offset = 0, grow = false): ProbeResult {
  const block = new Uint8Array(PROBE_WRITE_BYTES).fill(0xab);
  const samples: number[] = [];
  const end = performance.now() + ms;
  let at = offset;
  while (performance.now() < end) {
    if (!grow && at + PROBE_WRITE_BYTES > PROBE_FILE_BYTES) at = 0;
    const start = performance.now();
    writeSync(fd, block, 0, block.length, at);
    fdatasyncSync(fd);
    samples.push((performance.now() - start) * 1000);
    at += PROBE_WRITE_BYTES;
  }
  const sorted = Float64Array.from(samples).sort();
  const total = samples.reduce((a, b) => a + b, 0);
  return { fsyncsPerSecond: (samples.length / total) * 1e6, p50Micros: quantile(sorted, 0.5), nextOffset: at };
}

const PREPARES = ['zeros', 'append', 'ftruncate'] as const;
type Prepare = (typeof PREPARES)[number];

/**
 * The three ways to prepare a file, measured in alternating slices (so drift in a
 * shared disk's latency hits all three alike). Appending writes past the end of a
 * file that grows; the others overwrite within 64 MiB.
 */
function comparePreallocation(dir: string): Map<Prepare, ProbeResult> {
  const rounds = 6;
  const fds = new Map(PREPARES.map((p) => [p, openProbeFile(dir, `probe-${p}`, p)] as const));
  const samples = new Map(PREPARES.map((p) => [p, [] as ProbeResult[]] as const));
  const offsets = new Map<Prepare, number>(PREPARES.map((p) => [p, 0]));
  try {
    for (let round = 0; round < rounds; round++) {
      for (const p of PREPARES) {
        const result = probeLoop(fds.get(p)!, CASE_MS / rounds, offsets.get(p)!, p === 'append');
        offsets.set(p, result.nextOffset);
        samples.get(p)!.push(result);
      }
    }
  } finally {
    for (const fd of fds.values()) closeSync(fd);
  }
  const out = new Map<Prepare, ProbeResult>();
  for (const p of PREPARES) {
    const list = samples.get(p)!;
    const rates = list.map((r) => r.fsyncsPerSecond).sort((a, b) => a - b);
    const p50s = list.map((r) => r.p50Micros).sort((a, b) => a - b);
    out.set(p, { fsyncsPerSecond: rates[rates.length >> 1], p50Micros: p50s[p50s.length >> 1], nextOffset: 0 });
  }
  return out;
}

interface WalCase {
  readonly recordBytes: number;
  readonly appenders: number;
}

interface WalResult extends WalCase {
  readonly appendsPerSecond: number;
  readonly bytesPerSecond: number;
  readonly recordsPerFsync: number;
  readonly p50Micros: number;
  readonly p99Micros: number;
}

async function walCase(dir: string, c: WalCase): Promise<WalResult> {
  const wal = await WriteAheadLog.open(join(dir, `wal-${c.recordBytes}-${c.appenders}`));
  try {
    const data = new Uint8Array(c.recordBytes).fill(7);
    const entry = (): LogEntry => ({ index: wal.lastIndex() + 1, term: 1, type: 1, data });
    await wal.append([entry()]); // waits for the first segment (preallocated) to exist
    const fsyncsBefore = wal.metrics.fsyncs;
    const recordsBefore = wal.metrics.recordsWritten;
    const bytesBefore = wal.metrics.bytesWritten;
    const latencies: number[] = [];
    const start = performance.now();
    const end = start + CASE_MS;
    async function appender(): Promise<void> {
      while (performance.now() < end) {
        const t0 = performance.now();
        await wal.append([entry()]);
        latencies.push((performance.now() - t0) * 1000);
      }
    }
    await Promise.all(Array.from({ length: c.appenders }, appender));
    const seconds = (performance.now() - start) / 1000;
    const fsyncs = wal.metrics.fsyncs - fsyncsBefore;
    const records = wal.metrics.recordsWritten - recordsBefore;
    const sorted = Float64Array.from(latencies).sort();
    return {
      ...c,
      appendsPerSecond: latencies.length / seconds,
      bytesPerSecond: (wal.metrics.bytesWritten - bytesBefore) / seconds,
      recordsPerFsync: records / Math.max(1, fsyncs),
      p50Micros: quantile(sorted, 0.5),
      p99Micros: quantile(sorted, 0.99),
    };
  } finally {
    await wal.close();
  }
}

const us = (micros: number): string => `${micros.toFixed(0)} us`;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'zook-bench-wal-'));
  try {
    console.log(`# zook WAL benchmark, ${new Date().toISOString().slice(0, 10)}`);
    console.log(`${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}, ${CASE_MS} ms per case, files in ${tmpdir()}\n`);

    const compared = comparePreallocation(dir);
    const raw = compared.get('zeros')!;
    const append = compared.get('append')!;
    const sparse = compared.get('ftruncate')!;
    console.log('## Raw disk: 4 KiB write + fdatasync in a loop (median of 6 alternating slices)\n');
    console.log(
      markdownTable(
        ['file prepared by', 'fsyncs/s', 'p50', 'vs zero-filled'],
        [
          ['writing zeros once (what the WAL does)', formatRate(raw.fsyncsPerSecond), us(raw.p50Micros), '1.00x'],
          ['nothing (appending)', formatRate(append.fsyncsPerSecond), us(append.p50Micros), `${(append.fsyncsPerSecond / raw.fsyncsPerSecond).toFixed(2)}x`],
          ['ftruncate to size (sparse)', formatRate(sparse.fsyncsPerSecond), us(sparse.p50Micros), `${(sparse.fsyncsPerSecond / raw.fsyncsPerSecond).toFixed(2)}x`],
        ],
      ),
    );

    // The disk is shared and its fsync latency drifts, so each WAL case is compared
    // with a raw probe run right before it, on a zero-filled file.
    const probeFd = openProbeFile(dir, 'adjacent-probe', 'zeros');
    const rows: string[][] = [];
    const aims: string[] = [];
    for (const recordBytes of [100, 1024]) {
      for (const appenders of [1, 16, 256, 1024]) {
        const near = probeLoop(probeFd, PROBE_MS);
        const r = await walCase(dir, { recordBytes, appenders });
        rows.push([
          `${recordBytes} B`,
          String(appenders),
          formatRate(r.appendsPerSecond),
          `${(r.bytesPerSecond / 1e6).toFixed(1)} MB/s`,
          r.recordsPerFsync.toFixed(1),
          us(r.p50Micros),
          us(r.p99Micros),
          `${formatRate(near.fsyncsPerSecond)} / ${us(near.p50Micros)}`,
          `${(r.appendsPerSecond / near.fsyncsPerSecond).toFixed(1)}x`,
          `${(r.p50Micros / near.p50Micros).toFixed(2)}x`,
        ]);
        if (recordBytes === 1024 && appenders === 1024) {
          const ratio = r.appendsPerSecond / near.fsyncsPerSecond;
          aims.push(`1,024 appenders of 1 KiB: ${ratio.toFixed(0)}x the raw fsync rate (aim: at least 50x)`);
        }
        if (appenders === 1) {
          const ratio = r.p50Micros / near.p50Micros;
          aims.push(`1 appender, ${recordBytes} B: p50 ${ratio.toFixed(2)}x one raw fsync (aim: within 1.5x)`);
        }
      }
    }
    closeSync(probeFd);
    console.log('\n## WAL durable appends (each resolves after its fdatasync)\n');
    console.log(
      markdownTable(
        ['record', 'appenders', 'appends/s', 'written', 'records/fsync', 'p50', 'p99', 'raw probe just before: fsyncs/s / p50', 'appends/s vs raw fsyncs/s', 'p50 vs raw p50'],
        rows,
      ),
    );
    console.log('\nWritten = framed bytes (32-byte header + payload) per second. Ratios are against the raw probe run just before each case.\n');
    for (const aim of aims) console.log(`- ${aim}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
