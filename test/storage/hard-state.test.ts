import { readFile, stat, writeFile } from 'node:fs/promises';
import { crc32c } from '../../src/core/index.js';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { EMPTY_HARD_STATE, HARD_STATE_FILE, HardStateStore, StorageCorruptionError } from '../../src/storage/index.js';
import { withTempDir } from './support.js';

describe('hard state', () => {
  test('a node that never saved one loads term 0, no vote, commit 0', async () => {
    await withTempDir(async (dir) => {
      expect(await new HardStateStore(dir).load()).toEqual(EMPTY_HARD_STATE);
    });
  });

  test('the saved state loads back, also in a new store (a restart)', async () => {
    await withTempDir(async (dir) => {
      await new HardStateStore(dir).save({ term: 7, vote: 3, commit: 2 ** 40 });
      expect(await new HardStateStore(dir).load()).toEqual({ term: 7, vote: 3, commit: 2 ** 40 });
    });
  });

  test('saves issued together apply in order; the last one wins', async () => {
    await withTempDir(async (dir) => {
      const store = new HardStateStore(dir);
      await Promise.all([1, 2, 3, 4, 5].map((term) => store.save({ term, vote: term, commit: 0 })));
      expect(await store.load()).toEqual({ term: 5, vote: 5, commit: 0 });
    });
  });

  test('a temp file from a save cut short by a crash is ignored and removed', async () => {
    await withTempDir(async (dir) => {
      const store = new HardStateStore(dir);
      await store.save({ term: 2, vote: 1, commit: 1 });
      await writeFile(join(dir, `${HARD_STATE_FILE}.tmp`), new Uint8Array(10));
      expect(await store.load()).toEqual({ term: 2, vote: 1, commit: 1 });
    });
  });

  test('a flipped bit in both slots stops start-up with the file named', async () => {
    await withTempDir(async (dir) => {
      const store = new HardStateStore(dir);
      await store.save({ term: 2, vote: 1, commit: 1 });
      await store.save({ term: 3, vote: 1, commit: 1 });
      const path = join(dir, HARD_STATE_FILE);
      const bytes = await readFile(path);
      bytes[17] ^= 0x10;
      bytes[4096 + 17] ^= 0x10;
      await writeFile(path, bytes);
      await expect(store.load()).rejects.toThrow(StorageCorruptionError);
      await expect(store.load()).rejects.toThrow(path);
    });
  });

  test('negative or fractional fields are refused', async () => {
    await withTempDir(async (dir) => {
      await expect(new HardStateStore(dir).save({ term: -1, vote: 0, commit: 0 })).rejects.toThrow(RangeError);
      await expect(new HardStateStore(dir).save({ term: 1.5, vote: 0, commit: 0 })).rejects.toThrow(RangeError);
    });
  });
});

describe('hard state saved in place (two slots)', () => {
  test('saves after the first rewrite the file in place: same inode and size, no new blocks (a full disk can still save)', async () => {
    await withTempDir(async (dir) => {
      const store = new HardStateStore(dir);
      await store.save({ term: 1, vote: 0, commit: 0 });
      const path = join(dir, HARD_STATE_FILE);
      const before = await stat(path);
      for (let term = 2; term < 10; term++) await store.save({ term, vote: term % 3, commit: term });
      const after = await stat(path);
      expect([after.ino, after.size]).toEqual([before.ino, before.size]);
      expect(await new HardStateStore(dir).load()).toEqual({ term: 9, vote: 0, commit: 9 });
    });
  });

  test('a save torn by a crash leaves the state before it', async () => {
    await withTempDir(async (dir) => {
      const store = new HardStateStore(dir);
      await store.save({ term: 4, vote: 2, commit: 10 });
      await store.save({ term: 5, vote: 3, commit: 11 });
      const path = join(dir, HARD_STATE_FILE);
      const bytes = await readFile(path);
      // The newest slot is the one a torn next-but-one save would hit: damage it.
      const newest = bytes[8] === 2 ? 0 : 4096;
      bytes[newest + 20] ^= 0xff;
      await writeFile(path, bytes);
      expect(await new HardStateStore(dir).load()).toEqual({ term: 4, vote: 2, commit: 10 });
    });
  });

  test('a file of the first format (36 bytes) loads, and the next save replaces it', async () => {
    await withTempDir(async (dir) => {
      const v1 = new Uint8Array(36);
      const view = new DataView(v1.buffer);
      view.setUint32(0, 0x5a4b4853, true);
      view.setUint32(4, 1, true);
      view.setBigUint64(8, 6n, true);
      view.setBigUint64(16, 2n, true);
      view.setBigUint64(24, 40n, true);
      view.setUint32(32, crc32c(v1.subarray(0, 32)), true);
      await writeFile(join(dir, HARD_STATE_FILE), v1);
      const store = new HardStateStore(dir);
      expect(await store.load()).toEqual({ term: 6, vote: 2, commit: 40 });
      await store.save({ term: 7, vote: 1, commit: 41 });
      expect(await new HardStateStore(dir).load()).toEqual({ term: 7, vote: 1, commit: 41 });
      expect((await stat(join(dir, HARD_STATE_FILE))).size).toBe(8192);
    });
  });
});
