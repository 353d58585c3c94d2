// Shared helpers for the storage tests: temporary directories and entries whose
// content can be recomputed from (index, term), so a reader can tell a real entry
// from garbage or from an old, truncated one.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogEntry } from '../../src/storage/index.js';

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'zook-storage-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Deterministic data for (index, term): length 0..(maxBytes-1), bytes from a tiny LCG. */
export function entryData(index: number, term: number, maxBytes = 200): Uint8Array {
  let x = (index * 2654435761 + term * 40503) >>> 0;
  const length = x % maxBytes;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export function makeEntry(index: number, term = 1, maxBytes = 200): LogEntry {
  return { index, term, type: 1 + (index % 255), data: entryData(index, term, maxBytes) };
}

export function makeEntries(from: number, count: number, term = 1, maxBytes = 200): LogEntry[] {
  return Array.from({ length: count }, (_, k) => makeEntry(from + k, term, maxBytes));
}

/** Logger that collects messages, so tests can assert on what was reported. */
export function collectingLogger(): { messages: string[]; log: (message: string) => void } {
  const messages: string[] = [];
  return { messages, log: (message) => messages.push(message) };
}

/** Small segments and batches, so the crash tests cross segment boundaries often. */
export const CRASH_WAL_OPTIONS = {
  segmentBytes: 64 * 1024,
  maxBatchBytes: 8 * 1024,
  logger: (): void => {},
} as const;

/** A snapshot's content for the snapshot crash test: ~100 KiB in 25 chunks, from its index. */
export function* snapshotChunks(index: number): Generator<Uint8Array> {
  for (let k = 0; k < 25; k++) yield entryData(index * 100 + k, 1, 8000);
}
