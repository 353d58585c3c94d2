// Damage the files the way crashes and bad disks do, then start up.
import { readFile, readdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { RECORD_HEADER_BYTES } from '../../src/core/index.js';
import { StorageCorruptionError, WriteAheadLog, type WalOpenOptions } from '../../src/storage/index.js';
import { SeededRandom } from '../../src/util/random.js';
import { collectingLogger, makeEntries, withTempDir } from './support.js';

const SEGMENT_BYTES = 16 * 1024;
const OPTIONS: WalOpenOptions = { segmentBytes: SEGMENT_BYTES, maxBatchBytes: 4096, logger: () => {} };

/** Writes `count` entries one batch each; returns the segment files, oldest first. */
async function writeLog(dir: string, count: number): Promise<string[]> {
  const wal = await WriteAheadLog.open(dir, OPTIONS);
  for (const e of makeEntries(1, count)) await wal.append([e]);
  await wal.close();
  return (await readdir(dir)).filter((n) => n.endsWith('.wal')).sort().map((n) => join(dir, n));
}

/** Byte offsets where each record of a segment starts (re-derived from the entries it holds). */
async function recordStarts(dir: string, segment: string): Promise<number[]> {
  const wal = await WriteAheadLog.open(dir, { ...OPTIONS, logger: () => {} });
  try {
    const info = wal.segmentInfo().find((s) => join(dir, s.file) === segment)!;
    const entries = await wal.entries(info.firstIndex, info.lastIndex + 1);
    const starts: number[] = [];
    let at = 0;
    for (const e of entries) {
      starts.push(at);
      at += RECORD_HEADER_BYTES + e.data.length;
    }
    starts.push(at);
    return starts;
  } finally {
    await wal.close();
  }
}

async function recoveredLast(dir: string): Promise<number> {
  const wal = await WriteAheadLog.open(dir, OPTIONS);
  try {
    // Everything that recovery kept must still read back and check.
    await wal.entries(wal.firstIndex(), wal.lastIndex() + 1);
    return wal.lastIndex();
  } finally {
    await wal.close();
  }
}

describe('WAL damage at start-up', () => {
  test('the last segment cut at random byte offsets recovers to the last whole record', async () => {
    await withTempDir(async (dir) => {
      const segments = await writeLog(dir, 150);
      const last = segments[segments.length - 1];
      const starts = await recordStarts(dir, last);
      const firstInLast = 150 - (starts.length - 2);
      const original = await readFile(last);
      const rng = new SeededRandom(Number(process.env.ZOOK_SEED ?? 61));
      for (let i = 0; i < 25; i++) {
        await writeFile(last, original);
        const cut = rng.int(starts[starts.length - 1] + 1);
        await truncate(last, cut);
        const whole = starts.filter((s, k) => k > 0 && s <= cut).length;
        expect(await recoveredLast(dir), `cut at ${cut}`).toBe(firstInLast - 1 + whole);
      }
    });
  });

  test('the last segment with its tail zeroed from a random offset recovers to the last whole record, and logs it', async () => {
    await withTempDir(async (dir) => {
      const segments = await writeLog(dir, 150);
      const last = segments[segments.length - 1];
      const starts = await recordStarts(dir, last);
      const firstInLast = 150 - (starts.length - 2);
      const original = await readFile(last);
      const rng = new SeededRandom(Number(process.env.ZOOK_SEED ?? 62));
      for (let i = 0; i < 25; i++) {
        const bytes = Buffer.from(original);
        const from = rng.int(starts[starts.length - 1]);
        bytes.fill(0, from);
        await writeFile(last, bytes);
        const whole = starts.filter((s, k) => k > 0 && s <= from).length;
        const logger = collectingLogger();
        const wal = await WriteAheadLog.open(dir, { ...OPTIONS, logger: logger.log });
        expect(wal.lastIndex(), `zeroed from ${from}`).toBe(firstInLast - 1 + whole);
        await wal.close();
        // A cut exactly on a record boundary is a clean end, anything else a torn tail.
        expect(logger.messages.length).toBe(starts.includes(from) ? 0 : 1);
      }
    });
  });

  test('after a torn tail is repaired, new appends follow the last whole record and survive a restart', async () => {
    await withTempDir(async (dir) => {
      const segments = await writeLog(dir, 20);
      const last = segments[segments.length - 1];
      const starts = await recordStarts(dir, last);
      const bytes = await readFile(last);
      // A torn write of records 11..20: garbage from inside record 11 to the end of the data.
      bytes.fill(0xee, starts[10] + 5, starts[starts.length - 1]);
      await writeFile(last, bytes);
      const wal = await WriteAheadLog.open(dir, OPTIONS);
      expect(wal.lastIndex()).toBe(10);
      await wal.append(makeEntries(11, 3, 2));
      await wal.close();
      const reopened = await WriteAheadLog.open(dir, OPTIONS);
      expect(await reopened.entries(1, 14)).toEqual([...makeEntries(1, 10), ...makeEntries(11, 3, 2)]);
      await reopened.close();
    });
  });

  test('a flipped bit in a middle record refuses start-up, naming the file and offset', async () => {
    await withTempDir(async (dir) => {
      const segments = await writeLog(dir, 400);
      expect(segments.length).toBeGreaterThan(2);
      const middle = segments[1];
      const starts = await recordStarts(dir, middle);
      const victim = starts[3];
      const bytes = await readFile(middle);
      bytes[victim + RECORD_HEADER_BYTES - 1] ^= 0x01;
      await writeFile(middle, bytes);
      const opening = WriteAheadLog.open(dir, OPTIONS);
      await expect(opening).rejects.toThrow(StorageCorruptionError);
      await expect(WriteAheadLog.open(dir, OPTIONS)).rejects.toThrow(`${middle} at byte offset ${victim}`);
    });
  });

  test('a flipped bit in a record followed by valid records in the last segment refuses start-up', async () => {
    await withTempDir(async (dir) => {
      const segments = await writeLog(dir, 150);
      const last = segments[segments.length - 1];
      const starts = await recordStarts(dir, last);
      const bytes = await readFile(last);
      bytes[starts[1] + RECORD_HEADER_BYTES] ^= 0x80; // payload of the second record
      await writeFile(last, bytes);
      await expect(WriteAheadLog.open(dir, OPTIONS)).rejects.toThrow(`${last} at byte offset ${starts[1]}`);
    });
  });

  test('a damaged last record of a segment that is not the last refuses start-up', async () => {
    await withTempDir(async (dir) => {
      const segments = await writeLog(dir, 150);
      const first = segments[0];
      const starts = await recordStarts(dir, first);
      const bytes = await readFile(first);
      bytes[starts[starts.length - 2] + 2] ^= 0x01;
      await writeFile(first, bytes);
      await expect(WriteAheadLog.open(dir, OPTIONS)).rejects.toThrow(/not the last one/);
    });
  });

  test('a missing middle segment refuses start-up (a gap the snapshot does not cover)', async () => {
    await withTempDir(async (dir) => {
      const segments = await writeLog(dir, 400);
      expect(segments.length).toBeGreaterThan(2);
      await truncate(segments[1], 0);
      await expect(WriteAheadLog.open(dir, OPTIONS)).rejects.toThrow(/does not cover the gap/);
    });
  });
});
