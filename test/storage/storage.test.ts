import { describe, expect, test } from 'vitest';
import { NodeStorage, type LogEntry, type StorageOptions } from '../../src/storage/index.js';
import { makeEntries, withTempDir } from './support.js';

const OPTIONS: StorageOptions = { segmentBytes: 4096, maxBatchBytes: 4096, logger: () => {} };

async function replayAll(storage: NodeStorage, from?: number): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const entry of storage.replay(from)) out.push(entry);
  return out;
}

async function bytesOf(chunks: AsyncIterable<Uint8Array>): Promise<number[]> {
  const out: number[] = [];
  for await (const chunk of chunks) out.push(...chunk);
  return out;
}

describe('NodeStorage: recovery at start-up', () => {
  test('a new directory recovers to nothing: no snapshot, zero hard state, empty log', async () => {
    await withTempDir(async (dir) => {
      const storage = await NodeStorage.open(dir, OPTIONS);
      expect(storage.recovered.snapshot).toBeUndefined();
      expect(storage.recovered.hardState).toEqual({ term: 0, vote: 0, commit: 0 });
      expect([storage.log.firstIndex(), storage.log.lastIndex()]).toEqual([1, 0]);
      await storage.close();
    });
  });

  test('restart recovers the newest snapshot, then the entries after it, and the hard state', async () => {
    await withTempDir(async (dir) => {
      const first = await NodeStorage.open(dir, OPTIONS);
      for (const e of makeEntries(1, 150, 2)) await first.log.append([e]);
      await first.hardState.save({ term: 2, vote: 1, commit: 150 });
      await first.saveSnapshot({ index: 100, term: 2, meta: Uint8Array.of(9) }, [Uint8Array.of(1, 2, 3)]);
      await first.close();

      const second = await NodeStorage.open(dir, OPTIONS);
      const snapshot = second.recovered.snapshot!;
      expect([snapshot.index, snapshot.term, [...snapshot.meta]]).toEqual([100, 2, [9]]);
      expect(await bytesOf(snapshot.chunks())).toEqual([1, 2, 3]);
      expect(second.recovered.hardState).toEqual({ term: 2, vote: 1, commit: 150 });
      expect(second.log.firstIndex()).toBe(101);
      expect(await replayAll(second)).toEqual(makeEntries(101, 50, 2));
      await second.close();
    });
  });

  test('saving a snapshot removes log segments that lie entirely below its index', async () => {
    await withTempDir(async (dir) => {
      const storage = await NodeStorage.open(dir, OPTIONS);
      for (const e of makeEntries(1, 200)) await storage.log.append([e]);
      const before = storage.log.segmentInfo();
      await storage.saveSnapshot({ index: 150, term: 1, meta: new Uint8Array(0) }, []);
      const after = storage.log.segmentInfo();
      expect(after.length).toBeLessThan(before.length);
      expect(after[0].firstIndex).toBeLessThanOrEqual(151);
      expect(after.every((s) => s.lastIndex >= 151 || s === after[after.length - 1])).toBe(true);
      await storage.close();
    });
  });

  test('a snapshot past the end of the log (installed from a leader) empties the log; appends go on after it', async () => {
    await withTempDir(async (dir) => {
      const storage = await NodeStorage.open(dir, OPTIONS);
      await storage.log.append(makeEntries(1, 10));
      await storage.saveSnapshot({ index: 1000, term: 5, meta: new Uint8Array(0) }, [new Uint8Array(4)]);
      await storage.log.append(makeEntries(1001, 2, 5));
      await storage.close();
      const reopened = await NodeStorage.open(dir, OPTIONS);
      expect(reopened.recovered.snapshot!.index).toBe(1000);
      expect(await replayAll(reopened)).toEqual(makeEntries(1001, 2, 5));
      await reopened.close();
    });
  });

  test('replay reads in bounded steps from any index', async () => {
    await withTempDir(async (dir) => {
      const storage = await NodeStorage.open(dir, OPTIONS);
      await storage.log.append(makeEntries(1, 300));
      expect((await replayAll(storage, 250)).map((e) => e.index)).toEqual(Array.from({ length: 51 }, (_, k) => 250 + k));
      await storage.close();
    });
  });
});
