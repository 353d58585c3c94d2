import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { RECORD_HEADER_BYTES } from '../../src/core/index.js';
import { WriteAheadLog, type WalOpenOptions } from '../../src/storage/index.js';
import { repairTruncateAfter, verifyWal } from '../../src/storage/wal-tool.js';
import { makeEntries, withTempDir } from './support.js';

const OPTIONS: WalOpenOptions = { segmentBytes: 8192, maxBatchBytes: 4096, logger: () => {} };

async function writeLog(dir: string, count: number): Promise<string[]> {
  const wal = await WriteAheadLog.open(dir, OPTIONS);
  for (const e of makeEntries(1, count)) await wal.append([e]);
  await wal.close();
  return (await readdir(dir)).filter((n) => n.endsWith('.wal')).sort().map((n) => join(dir, n));
}

/** Flips a bit in the payload of the fourth record of `file`; returns that record's offset and index. */
async function damageFourthRecord(dir: string, file: string): Promise<{ offset: number; index: number }> {
  const wal = await WriteAheadLog.open(dir, OPTIONS);
  const info = wal.segmentInfo().find((s) => join(dir, s.file) === file)!;
  const entries = await wal.entries(info.firstIndex, info.firstIndex + 3);
  await wal.close();
  const offset = entries.reduce((at, e) => at + RECORD_HEADER_BYTES + e.data.length, 0);
  const bytes = await readFile(file);
  bytes[offset + 30] ^= 0x01; // inside the header's own CRC
  await writeFile(file, bytes);
  return { offset, index: info.firstIndex + 3 };
}

describe('wal tool', () => {
  test('verify on a healthy log reports every segment and no problem', async () => {
    await withTempDir(async (dir) => {
      const files = await writeLog(dir, 200);
      const report = await verifyWal(dir);
      expect(report.segments.map((s) => s.file)).toEqual(files);
      expect(report.segments.at(-1)!.lastIndex).toBe(200);
      expect(report.problems).toEqual([]);
    });
  });

  test('verify names the file and offset of a damaged middle record', async () => {
    await withTempDir(async (dir) => {
      const files = await writeLog(dir, 200);
      const { offset } = await damageFourthRecord(dir, files[1]);
      const report = await verifyWal(dir);
      expect(report.problems[0]).toBe(`${files[1]} at byte offset ${offset}: damaged record with valid records after it`);
    });
  });

  test('repair --truncate-after an index before the damage lets the log start, ending at that index', async () => {
    await withTempDir(async (dir) => {
      const files = await writeLog(dir, 200);
      const { index } = await damageFourthRecord(dir, files[1]);
      await expect(WriteAheadLog.open(dir, OPTIONS)).rejects.toThrow(files[1]);
      const result = await repairTruncateAfter(dir, index - 1);
      expect(result.truncatedFile).toBe(files[1]);
      expect(result.removedFiles).toEqual(files.slice(2));
      const wal = await WriteAheadLog.open(dir, OPTIONS);
      expect(wal.lastIndex()).toBe(index - 1);
      expect(await wal.entries(1, index)).toEqual(makeEntries(1, index - 1));
      await wal.close();
    });
  });

  test('repair refuses an index at or after the damage', async () => {
    await withTempDir(async (dir) => {
      const files = await writeLog(dir, 200);
      const { index } = await damageFourthRecord(dir, files[1]);
      await expect(repairTruncateAfter(dir, index + 5)).rejects.toThrow(/damaged before index/);
    });
  });
});
