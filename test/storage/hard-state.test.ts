import { readFile, writeFile } from 'node:fs/promises';
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

  test('a flipped bit in the file stops start-up with the file named', async () => {
    await withTempDir(async (dir) => {
      const store = new HardStateStore(dir);
      await store.save({ term: 2, vote: 1, commit: 1 });
      const path = join(dir, HARD_STATE_FILE);
      const bytes = await readFile(path);
      bytes[9] ^= 0x10;
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
