// Issue 16: a full or failing disk stalls the log (retried until it takes the
// write) instead of failing it, and nothing acknowledged is lost. The full disk is
// a real tmpfs of a few MiB; the failing fdatasync (EIO) is injected.
import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { WriteAheadLog, type LogEntry, type WalOpenOptions } from '../../src/storage/index.js';
import { SPARE_FILE_NAME } from '../../src/storage/wal.js';
import { mountSmallFs, skipSmallFs, type SmallFs } from '../support/small-fs.js';
import { until } from '../support/until.js';
import { collectingLogger, withTempDir } from './support.js';

const MiB = 1024 * 1024;

/** An entry of about 60 KB whose bytes say which entry it is. */
function bigEntry(index: number): LogEntry {
  return { index, term: 1, type: 1, data: new Uint8Array(60_000).fill(index % 251) };
}

function sameEntries(read: readonly LogEntry[], count: number): boolean {
  return read.length === count && read.every((e, k) => e.index === k + 1 && e.data.length === 60_000 && e.data[59_999] === (k + 1) % 251);
}

async function readAll(wal: WriteAheadLog): Promise<LogEntry[]> {
  return wal.entries(wal.firstIndex(), wal.durableIndex() + 1);
}

/** Resolves once the background spare segment is fully preallocated. */
async function spareReady(dir: string, bytes: number): Promise<void> {
  await until('the spare segment to be preallocated', () => {
    try {
      return statSync(join(dir, SPARE_FILE_NAME)).size === bytes ? true : undefined;
    } catch {
      return undefined;
    }
  });
}

describe.skipIf(skipSmallFs)('WAL on a full disk (real tmpfs)', () => {
  let fs: SmallFs | undefined;
  afterEach(() => {
    fs?.unmount();
    fs = undefined;
  });

  test('an append that finds no room for a new segment stalls with ENOSPC, then completes once space returns; every entry reads back after reopening', async () => {
    fs = mountSmallFs(16 * MiB);
    const dir = join(fs.dir, 'wal');
    const options: WalOpenOptions = { segmentBytes: 2 * MiB, maxBatchBytes: 256 * 1024, logger: () => {} };
    const wal = await WriteAheadLog.open(dir, options);
    await wal.append([bigEntry(1)]);
    await spareReady(dir, 2 * MiB);
    fs.fill(0);

    // The current segment and the spare were preallocated: writes go on into them, then stall.
    let next = 2;
    let stalled: Promise<void> | null = null;
    while (stalled === null) {
      const append = wal.append([bigEntry(next++)]);
      const outcome = await Promise.race([append.then(() => 'written' as const), until('the append or a stall', () => (wal.stall !== null ? ('stalled' as const) : undefined), 30_000)]);
      if (outcome === 'stalled') stalled = append;
      expect(next).toBeLessThan(200); // 2 segments of 2 MiB hold about 70 entries
    }
    expect(wal.stall).toMatchObject({ code: 'ENOSPC', operation: 'wal write' });
    const later = wal.append([bigEntry(next++)]); // appends keep queueing meanwhile
    let settled = false;
    void stalled.finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(settled).toBe(false);

    fs.unfill();
    await stalled;
    await later;
    expect(wal.stall).toBeNull();
    expect(wal.metrics.stalls).toBe(1);
    const written = next - 1;
    expect(sameEntries(await readAll(wal), written)).toBe(true);
    await wal.close();

    const reopened = await WriteAheadLog.open(dir, options);
    try {
      expect(sameEntries(await readAll(reopened), written)).toBe(true);
    } finally {
      await reopened.close();
    }
  });

  test('a restart with less free space than a segment preallocates a smaller one and goes on appending', async () => {
    fs = mountSmallFs(24 * MiB);
    const dir = join(fs.dir, 'wal');
    const options: WalOpenOptions = { segmentBytes: 8 * MiB, maxBatchBytes: 256 * 1024, logger: () => {} };
    const first = await WriteAheadLog.open(dir, options);
    await first.append([bigEntry(1)]);
    await first.close();
    fs.fill(3 * MiB + 256 * 1024);

    const logger = collectingLogger();
    const wal = await WriteAheadLog.open(dir, { ...options, logger: logger.log });
    // More than the current 8 MiB segment holds: the next one must fit in ~3 MiB.
    const entries = Array.from({ length: 150 }, (_, k) => bigEntry(k + 2));
    for (const entry of entries) await wal.append([entry]);
    expect(wal.stall).toBeNull();
    expect(logger.messages.some((m) => m.includes('preallocated at 2097152 bytes instead of 8388608'))).toBe(true);
    await wal.close();

    const reopened = await WriteAheadLog.open(dir, options);
    try {
      expect(sameEntries(await readAll(reopened), 151)).toBe(true);
      await reopened.append([bigEntry(152)]); // the smaller segment still has room after a restart
    } finally {
      await reopened.close();
    }
  });
});

describe('WAL on a failing disk (injected EIO)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  test('an fdatasync that fails with EIO stalls the append; the batch is written again and synced, then acknowledged', async () => {
    await withTempDir(async (dir) => {
      const probe = await open(join(dir, 'probe'), 'w');
      const fileHandle = Object.getPrototypeOf(probe) as { datasync(): Promise<void> };
      await probe.close();
      const real = fileHandle.datasync;
      let calls = 0;
      let failNext = false;
      vi.spyOn(fileHandle, 'datasync').mockImplementation(function (this: unknown) {
        calls++;
        if (failNext) {
          failNext = false;
          return Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
        }
        return real.call(this);
      });
      const options: WalOpenOptions = { segmentBytes: 1 * MiB, maxBatchBytes: 256 * 1024, logger: () => {} };
      const wal = await WriteAheadLog.open(dir, options);
      await wal.append([bigEntry(1)]);
      // Background work done (spare at open, the batch, the next spare): the next fdatasync is this append's.
      await until('three fdatasyncs', () => (calls >= 3 ? true : undefined));
      const stalls: Array<string | null> = [];
      wal.onStallChange((s) => stalls.push(s === null ? null : s.code));
      failNext = true;
      await wal.append([bigEntry(2)]);
      expect(stalls).toEqual(['EIO', null]);
      expect(wal.metrics.stalls).toBe(1);
      expect(sameEntries(await readAll(wal), 2)).toBe(true);
      await wal.close();
      vi.restoreAllMocks();
      const reopened = await WriteAheadLog.open(dir, options);
      try {
        expect(sameEntries(await readAll(reopened), 2)).toBe(true);
      } finally {
        await reopened.close();
      }
    });
  });

  test('closing while an append is stalled rejects it (never acknowledged) and closes cleanly', async () => {
    await withTempDir(async (dir) => {
      const probe = await open(join(dir, 'probe'), 'w');
      const fileHandle = Object.getPrototypeOf(probe) as { datasync(): Promise<void> };
      await probe.close();
      const real = fileHandle.datasync;
      let failing = false;
      vi.spyOn(fileHandle, 'datasync').mockImplementation(function (this: unknown) {
        return failing ? Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })) : real.call(this);
      });
      const wal = await WriteAheadLog.open(dir, { segmentBytes: 1 * MiB, maxBatchBytes: 256 * 1024, logger: () => {} });
      await wal.append([bigEntry(1)]);
      failing = true;
      const stuck = wal.append([bigEntry(2)]);
      const refused = expect(stuck).rejects.toMatchObject({ code: 'EIO' });
      await until('the stall', () => (wal.stall !== null ? true : undefined));
      await wal.close();
      await refused;
    });
  });
});
