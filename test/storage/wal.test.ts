import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { WriteAheadLog, parseSegmentFileName, segmentFileName, type LogEntry, type WalOpenOptions } from '../../src/storage/index.js';
import { collectingLogger, entryData, makeEntries, makeEntry, withTempDir } from './support.js';

const SMALL: WalOpenOptions = { segmentBytes: 4096, maxBatchBytes: 4096, logger: () => {} };

async function readAll(wal: WriteAheadLog): Promise<LogEntry[]> {
  return wal.entries(wal.firstIndex(), wal.durableIndex() + 1);
}

async function reopen(dir: string, options: WalOpenOptions, fn: (wal: WriteAheadLog) => Promise<void>): Promise<void> {
  const wal = await WriteAheadLog.open(dir, options);
  try {
    await fn(wal);
  } finally {
    await wal.close();
  }
}

const indexes = (entries: readonly LogEntry[]): number[] => entries.map((e) => e.index);

describe('WAL append and read', () => {
  test('a new log is empty and starts at index 1', async () => {
    await withTempDir(async (dir) => {
      await reopen(dir, SMALL, async (wal) => {
        expect([wal.firstIndex(), wal.lastIndex(), wal.durableIndex()]).toEqual([1, 0, 0]);
      });
    });
  });

  test('appended entries read back with every field, also after reopening', async () => {
    await withTempDir(async (dir) => {
      const written = makeEntries(1, 50, 3);
      await reopen(dir, SMALL, async (wal) => {
        await wal.append(written);
        expect(await readAll(wal)).toEqual(written);
      });
      await reopen(dir, SMALL, async (wal) => {
        expect([wal.firstIndex(), wal.lastIndex()]).toEqual([1, 50]);
        expect(await readAll(wal)).toEqual(written);
        expect(wal.term(50)).toBe(3);
      });
    });
  });

  test('an append resolves only once its entries are durable', async () => {
    await withTempDir(async (dir) => {
      await reopen(dir, SMALL, async (wal) => {
        const seen: number[] = [];
        await Promise.all(
          makeEntries(1, 20).map((entry) => wal.append([entry]).then(() => seen.push(wal.durableIndex() - entry.index))),
        );
        expect(seen.every((d) => d >= 0)).toBe(true);
      });
    });
  });

  test('appends resolve in index order', async () => {
    await withTempDir(async (dir) => {
      await reopen(dir, SMALL, async (wal) => {
        const order: number[] = [];
        await Promise.all(makeEntries(1, 100).map((e) => wal.append([e]).then(() => order.push(e.index))));
        expect(order).toEqual(Array.from({ length: 100 }, (_, k) => k + 1));
      });
    });
  });

  test('an append that does not continue the log is rejected and changes nothing', async () => {
    await withTempDir(async (dir) => {
      await reopen(dir, SMALL, async (wal) => {
        await wal.append(makeEntries(1, 3));
        await expect(wal.append([makeEntry(5)])).rejects.toThrow(/expected 4/);
        await expect(wal.append([makeEntry(3)])).rejects.toThrow(/truncateSuffix/);
        expect(wal.lastIndex()).toBe(3);
      });
    });
  });

  test('entries with a bad type or an oversized payload are rejected up front', async () => {
    await withTempDir(async (dir) => {
      await reopen(dir, SMALL, async (wal) => {
        await expect(wal.append([{ index: 1, term: 1, type: 0, data: new Uint8Array(1) }])).rejects.toThrow(RangeError);
        await expect(wal.append([{ index: 1, term: 1, type: 1, data: new Uint8Array(5000) }])).rejects.toThrow(/maxBatchBytes/);
        await wal.append([makeEntry(1)]);
        expect(wal.durableIndex()).toBe(1);
      });
    });
  });

  test('entries() stops near maxBytes but always returns at least one entry', async () => {
    await withTempDir(async (dir) => {
      await reopen(dir, { ...SMALL, segmentBytes: 1 << 20, maxBatchBytes: 1 << 16 }, async (wal) => {
        const written = Array.from({ length: 40 }, (_, k): LogEntry => ({ index: k + 1, term: 1, type: 1, data: new Uint8Array(100).fill(k) }));
        await wal.append(written);
        const some = await wal.entries(1, 41, 1000);
        expect(some.length).toBeGreaterThanOrEqual(10);
        expect(some.length).toBeLessThan(40);
        expect(some).toEqual(written.slice(0, some.length));
        expect(await wal.entries(5, 41, 1)).toEqual([written[4]]);
      });
    });
  });

  test('entries() refuses ranges outside the durable log', async () => {
    await withTempDir(async (dir) => {
      await reopen(dir, SMALL, async (wal) => {
        await wal.append(makeEntries(1, 5));
        await expect(wal.entries(0, 3)).rejects.toThrow(RangeError);
        await expect(wal.entries(1, 7)).rejects.toThrow(RangeError);
        expect(await wal.entries(3, 3)).toEqual([]);
      });
    });
  });
});

describe('WAL group commit', () => {
  test('appends issued while an fdatasync is in flight go out together as one batch', async () => {
    await withTempDir(async (dir) => {
      await reopen(dir, { ...SMALL, segmentBytes: 1 << 20, maxBatchBytes: 1 << 18 }, async (wal) => {
        await Promise.all(makeEntries(1, 100).map((e) => wal.append([e])));
        // The first append starts a batch alone; the other 99 queue behind its fsync.
        expect(wal.metrics.fsyncs).toBe(2);
        expect(wal.metrics.recordsWritten).toBe(100);
        expect(wal.metrics.recordsPerBatch.max).toBe(99);
      });
    });
  });

  test('a batch never holds more than maxBatchRecords records', async () => {
    await withTempDir(async (dir) => {
      await reopen(dir, { ...SMALL, segmentBytes: 1 << 20, maxBatchBytes: 1 << 18, maxBatchRecords: 7 }, async (wal) => {
        await Promise.all(makeEntries(1, 100).map((e) => wal.append([e])));
        expect(wal.metrics.recordsPerBatch.max).toBe(7);
        expect(await readAll(wal)).toEqual(makeEntries(1, 100));
      });
    });
  });

  test('a batch never holds more than maxBatchBytes bytes, and one large append is split across batches', async () => {
    await withTempDir(async (dir) => {
      await reopen(dir, { ...SMALL, segmentBytes: 1 << 20, maxBatchBytes: 1000 }, async (wal) => {
        const written = makeEntries(1, 60, 1, 200);
        await wal.append(written);
        expect(wal.metrics.bytesPerBatch.max).toBeLessThanOrEqual(1000);
        expect(wal.metrics.fsyncs).toBeGreaterThan(1);
        expect(await readAll(wal)).toEqual(written);
      });
    });
  });

  test('past maxQueuedRecords appends wait (backpressure) and none is dropped', async () => {
    await withTempDir(async (dir) => {
      await reopen(dir, { ...SMALL, segmentBytes: 1 << 20, maxBatchBytes: 1 << 16, maxQueuedRecords: 5 }, async (wal) => {
        await Promise.all(makeEntries(1, 200).map((e) => wal.append([e])));
        expect(wal.metrics.backpressureWaits).toBeGreaterThan(0);
        expect(wal.metrics.recordsPerBatch.max).toBeLessThanOrEqual(5);
        expect(await readAll(wal)).toEqual(makeEntries(1, 200));
      });
    });
  });

  test('metrics count fsyncs, records and bytes per batch, and the queue depth', async () => {
    await withTempDir(async (dir) => {
      await reopen(dir, { ...SMALL, segmentBytes: 1 << 20, maxBatchBytes: 1 << 16 }, async (wal) => {
        await Promise.all(makeEntries(1, 10).map((e) => wal.append([e])));
        const m = wal.metrics;
        expect(m.fsyncMicros.count).toBe(m.fsyncs);
        expect(m.recordsPerBatch.sum).toBe(10);
        expect(m.bytesPerBatch.sum).toBe(m.bytesWritten);
        expect(m.maxQueuedRecords).toBeGreaterThanOrEqual(9);
        expect(m.queuedRecords).toBe(0);
      });
    });
  });
});

describe('WAL segments', () => {
  test('segments roll over when full; names carry sequence number and first index', async () => {
    await withTempDir(async (dir) => {
      const written = makeEntries(1, 200);
      await reopen(dir, SMALL, async (wal) => {
        for (const e of written) await wal.append([e]);
        expect(wal.segmentInfo().length).toBeGreaterThan(3);
      });
      const names = (await readdir(dir)).filter((n) => n.endsWith('.wal')).sort();
      const parsed = names.map((n) => parseSegmentFileName(n));
      expect(parsed[0]).toEqual({ seq: 1, firstIndex: 1 });
      for (let i = 1; i < parsed.length; i++) {
        expect(parsed[i]!.seq).toBe(parsed[i - 1]!.seq + 1);
        expect(parsed[i]!.firstIndex).toBeGreaterThan(parsed[i - 1]!.firstIndex);
      }
      await reopen(dir, SMALL, async (wal) => {
        expect(await readAll(wal)).toEqual(written);
      });
    });
  });

  test('a closed log leaves no spare file behind', async () => {
    await withTempDir(async (dir) => {
      await reopen(dir, SMALL, async (wal) => {
        await wal.append(makeEntries(1, 3));
      });
      expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    });
  });
});

describe('WAL truncateSuffix', () => {
  test('truncate then append replaces the suffix, also after reopening', async () => {
    await withTempDir(async (dir) => {
      await reopen(dir, SMALL, async (wal) => {
        await wal.append(makeEntries(1, 10, 1));
        await wal.truncateSuffix(6);
        expect(wal.lastIndex()).toBe(5);
        await wal.append(makeEntries(6, 3, 2));
        expect(await readAll(wal)).toEqual([...makeEntries(1, 5, 1), ...makeEntries(6, 3, 2)]);
      });
      await reopen(dir, SMALL, async (wal) => {
        expect(await readAll(wal)).toEqual([...makeEntries(1, 5, 1), ...makeEntries(6, 3, 2)]);
      });
    });
  });

  test('truncated entries stay gone after reopening even with nothing appended after the cut', async () => {
    await withTempDir(async (dir) => {
      await reopen(dir, SMALL, async (wal) => {
        await wal.append(makeEntries(1, 10));
        await wal.truncateSuffix(4);
      });
      await reopen(dir, SMALL, async (wal) => {
        expect(wal.lastIndex()).toBe(3);
        expect(indexes(await readAll(wal))).toEqual([1, 2, 3]);
      });
    });
  });

  test('truncate across several segments removes the later segments', async () => {
    await withTempDir(async (dir) => {
      await reopen(dir, SMALL, async (wal) => {
        for (const e of makeEntries(1, 200)) await wal.append([e]);
        const before = wal.segmentInfo().length;
        await wal.truncateSuffix(30);
        expect(wal.segmentInfo().length).toBeLessThan(before);
        await wal.append(makeEntries(30, 5, 9));
      });
      await reopen(dir, SMALL, async (wal) => {
        expect(await readAll(wal)).toEqual([...makeEntries(1, 29), ...makeEntries(30, 5, 9)]);
      });
    });
  });

  test('truncate at the first entry of a segment, and of the whole log', async () => {
    await withTempDir(async (dir) => {
      await reopen(dir, SMALL, async (wal) => {
        for (const e of makeEntries(1, 100)) await wal.append([e]);
        const second = wal.segmentInfo()[1];
        await wal.truncateSuffix(second.firstIndex);
        expect(wal.lastIndex()).toBe(second.firstIndex - 1);
        await wal.truncateSuffix(1);
        expect(wal.lastIndex()).toBe(0);
        await wal.append(makeEntries(1, 4, 7));
      });
      await reopen(dir, SMALL, async (wal) => {
        expect(await readAll(wal)).toEqual(makeEntries(1, 4, 7));
      });
    });
  });

  test('truncate and appends issued together apply in call order', async () => {
    await withTempDir(async (dir) => {
      await reopen(dir, SMALL, async (wal) => {
        const a = wal.append(makeEntries(1, 10, 1));
        const t = wal.truncateSuffix(4);
        const b = wal.append(makeEntries(4, 2, 2));
        await Promise.all([a, t, b]);
        expect(await readAll(wal)).toEqual([...makeEntries(1, 3, 1), ...makeEntries(4, 2, 2)]);
      });
    });
  });

  test('while a cut is queued, reads never return the entries it removes', async () => {
    await withTempDir(async (dir) => {
      await reopen(dir, SMALL, async (wal) => {
        await wal.append(makeEntries(1, 10, 1));
        const cut = wal.truncateSuffix(5);
        const replaced = wal.append(makeEntries(5, 8, 2));
        expect(wal.durableIndex()).toBe(4);
        expect(await wal.entries(1, 5)).toEqual(makeEntries(1, 4, 1));
        await Promise.all([cut, replaced]);
        expect(wal.durableIndex()).toBe(12);
        expect(await wal.entries(5, 13)).toEqual(makeEntries(5, 8, 2));
      });
    });
  });

  test('truncating outside [firstIndex, lastIndex + 1] is rejected', async () => {
    await withTempDir(async (dir) => {
      await reopen(dir, SMALL, async (wal) => {
        await wal.append(makeEntries(1, 3));
        await expect(wal.truncateSuffix(5)).rejects.toThrow(RangeError);
        await expect(wal.truncateSuffix(0)).rejects.toThrow(RangeError);
        await wal.truncateSuffix(4); // nothing to cut: allowed
        expect(wal.lastIndex()).toBe(3);
      });
    });
  });
});

describe('WAL compaction', () => {
  test('compact deletes whole segments below the index and moves firstIndex', async () => {
    await withTempDir(async (dir) => {
      await reopen(dir, SMALL, async (wal) => {
        for (const e of makeEntries(1, 200)) await wal.append([e]);
        const segments = wal.segmentInfo();
        const through = segments[3].firstIndex + 2;
        await wal.compact(through);
        expect(wal.firstIndex()).toBe(through + 1);
        expect(wal.segmentInfo()[0]).toEqual(segments[3]);
        await expect(wal.entries(through, through + 1)).rejects.toThrow(RangeError);
        expect(await readAll(wal)).toEqual(makeEntries(through + 1, 200 - through));
      });
    });
  });

  test('after reopening, firstIndex is the snapshot index + 1', async () => {
    await withTempDir(async (dir) => {
      await reopen(dir, SMALL, async (wal) => {
        await wal.append(makeEntries(1, 40));
        await wal.compact(25);
      });
      await reopen(dir, { ...SMALL, snapshotIndex: 25, snapshotTerm: 1 }, async (wal) => {
        expect([wal.firstIndex(), wal.lastIndex()]).toEqual([26, 40]);
        expect(await readAll(wal)).toEqual(makeEntries(26, 15));
      });
    });
  });

  test('compact past the last entry empties the log; appends continue after the snapshot index', async () => {
    await withTempDir(async (dir) => {
      await reopen(dir, SMALL, async (wal) => {
        for (const e of makeEntries(1, 100)) await wal.append([e]);
        await wal.compact(500);
        expect([wal.firstIndex(), wal.lastIndex()]).toEqual([501, 500]);
        await expect(wal.append([makeEntry(101)])).rejects.toThrow(/expected 501/);
        await wal.append(makeEntries(501, 3, 4));
        expect(wal.segmentInfo().length).toBe(1);
      });
      await reopen(dir, { ...SMALL, snapshotIndex: 500, snapshotTerm: 3 }, async (wal) => {
        expect(await readAll(wal)).toEqual(makeEntries(501, 3, 4));
      });
    });
  });

  test('a reset cut short by a crash (new segment written, old ones not yet deleted) is finished at start-up', async () => {
    await withTempDir(async (dir) => {
      await reopen(dir, SMALL, async (wal) => {
        for (const e of makeEntries(1, 100)) await wal.append([e]);
      });
      const old = (await readdir(dir)).filter((n) => n.endsWith('.wal'));
      const lastSeq = Math.max(...old.map((n) => parseSegmentFileName(n)!.seq));
      // What resetNow leaves after its new segment is durable and before the old ones go.
      await writeFile(join(dir, segmentFileName(lastSeq + 1, 501)), new Uint8Array(SMALL.segmentBytes!));
      await reopen(dir, { ...SMALL, snapshotIndex: 500, snapshotTerm: 1 }, async (wal) => {
        expect([wal.firstIndex(), wal.lastIndex()]).toEqual([501, 500]);
        await wal.append(makeEntries(501, 2, 2));
      });
      expect((await readdir(dir)).filter((n) => n.endsWith('.wal')).length).toBeLessThanOrEqual(2);
      await expect(WriteAheadLog.open(dir, { ...SMALL, snapshotIndex: 0 })).rejects.toThrow(/missing/);
    });
  });

  test('a log that starts after the snapshot (entries missing) refuses to open', async () => {
    await withTempDir(async (dir) => {
      await reopen(dir, SMALL, async (wal) => {
        await wal.append(makeEntries(1, 40));
        await wal.compact(100);
        await wal.append(makeEntries(101, 2));
      });
      await expect(WriteAheadLog.open(dir, { ...SMALL, snapshotIndex: 0 })).rejects.toThrow(/entries 1\.\.100 are missing/);
    });
  });

  test('a log that disagrees with the snapshot at its index is discarded, with a message', async () => {
    await withTempDir(async (dir) => {
      await reopen(dir, SMALL, async (wal) => {
        await wal.append(makeEntries(1, 40, 2));
      });
      const logger = collectingLogger();
      await reopen(dir, { ...SMALL, snapshotIndex: 30, snapshotTerm: 5, logger: logger.log }, async (wal) => {
        expect([wal.firstIndex(), wal.lastIndex()]).toEqual([31, 30]);
        expect(logger.messages.join('\n')).toMatch(/discarding the log/);
      });
    });
  });
});

test('entryData is deterministic in (index, term)', () => {
  expect(entryData(7, 2)).toEqual(entryData(7, 2));
  expect(entryData(7, 2)).not.toEqual(entryData(7, 3));
});
