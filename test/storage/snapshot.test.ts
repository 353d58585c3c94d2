import { copyFile, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { MAX_SNAPSHOT_CHUNK_BYTES, SnapshotStore, snapshotFileName, type StoredSnapshot } from '../../src/storage/index.js';
import { SeededRandom } from '../../src/util/random.js';
import { collectingLogger, withTempDir } from './support.js';

const meta = (index: number, term = 1): { index: number; term: number; meta: Uint8Array } => ({ index, term, meta: Uint8Array.of(index & 0xff, 1, 2) });

function chunksOf(seed: number, count: number, maxBytes = 5000): Uint8Array[] {
  const rng = new SeededRandom(seed);
  return Array.from({ length: count }, () => rng.bytes(rng.int(maxBytes)));
}

async function collect(snapshot: StoredSnapshot): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of snapshot.chunks()) parts.push(chunk);
  return Buffer.concat(parts);
}

describe('snapshot store', () => {
  test('a saved snapshot loads back with its index, term, metadata and bytes', async () => {
    await withTempDir(async (dir) => {
      const store = await SnapshotStore.open(dir);
      const chunks = chunksOf(1, 40);
      await store.save(meta(10, 2), chunks);
      const loaded = await (await SnapshotStore.open(dir)).newest();
      expect(loaded).toBeDefined();
      expect([loaded!.index, loaded!.term, [...loaded!.meta]]).toEqual([10, 2, [10, 1, 2]]);
      expect(await collect(loaded!)).toEqual(Buffer.concat(chunks));
    });
  });

  test('an async iterable source works, and large chunks come back in bounded chunks', async () => {
    await withTempDir(async (dir) => {
      const store = await SnapshotStore.open(dir);
      const big = new SeededRandom(2).bytes(3 * MAX_SNAPSHOT_CHUNK_BYTES + 17);
      async function* source(): AsyncGenerator<Uint8Array> {
        yield big.subarray(0, 100);
        yield big.subarray(100);
      }
      await store.save(meta(5), source());
      const loaded = (await store.newest())!;
      const sizes: number[] = [];
      for await (const chunk of loaded.chunks()) sizes.push(chunk.length);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_SNAPSHOT_CHUNK_BYTES);
      // Buffer.equals: a deep toEqual over megabytes is slow.
      expect(Buffer.from(await collect(loaded)).equals(big)).toBe(true);
    });
  });

  test('an empty snapshot (no chunks) is valid', async () => {
    await withTempDir(async (dir) => {
      const store = await SnapshotStore.open(dir);
      await store.save(meta(1), []);
      expect((await collect((await store.newest())!)).length).toBe(0);
    });
  });

  test('only the newest N snapshots are kept', async () => {
    await withTempDir(async (dir) => {
      const store = await SnapshotStore.open(dir, { keepSnapshots: 3 });
      for (const index of [10, 20, 30, 40, 50]) await store.save(meta(index), chunksOf(index, 2));
      expect((await store.list()).map((s) => s.index)).toEqual([50, 40, 30]);
      expect((await store.newest())!.index).toBe(50);
    });
  });

  test('a damaged newest snapshot is reported and the previous one is used', async () => {
    await withTempDir(async (dir) => {
      const logger = collectingLogger();
      const store = await SnapshotStore.open(dir, { logger: logger.log });
      await store.save(meta(10), chunksOf(10, 5));
      await store.save(meta(20), chunksOf(20, 5));
      const path = join(dir, snapshotFileName(20, 1));
      const bytes = await readFile(path);
      bytes[Math.floor(bytes.length / 2)] ^= 0x04;
      await writeFile(path, bytes);
      const loaded = (await store.newest())!;
      expect(loaded.index).toBe(10);
      expect(await collect(loaded)).toEqual(Buffer.concat(chunksOf(10, 5)));
      expect(logger.messages.join('\n')).toContain(path);
    });
  });

  test('a snapshot cut short (no end record) is not used', async () => {
    await withTempDir(async (dir) => {
      const store = await SnapshotStore.open(dir, { logger: () => {} });
      await store.save(meta(10), chunksOf(10, 5));
      await store.save(meta(20), chunksOf(20, 5));
      const path = join(dir, snapshotFileName(20, 1));
      const bytes = await readFile(path);
      await writeFile(path, bytes.subarray(0, bytes.length - 3));
      expect((await store.newest())!.index).toBe(10);
    });
  });

  test('a crash between writing a snapshot and its rename leaves the old snapshot in use', async () => {
    await withTempDir(async (dir) => {
      const store = await SnapshotStore.open(dir);
      await store.save(meta(10), chunksOf(10, 5));
      // The state a crash leaves after the new file was written and fsynced, before
      // rename: a complete snapshot under its temp name.
      await store.save(meta(20), chunksOf(20, 5));
      const final = join(dir, snapshotFileName(20, 1));
      await rename(final, `${final}.tmp`);
      const reopened = await SnapshotStore.open(dir);
      expect((await reopened.newest())!.index).toBe(10);
      expect(await readdir(dir)).toEqual([snapshotFileName(10, 1)]);
    });
  });

  test('no snapshot at all loads as undefined', async () => {
    await withTempDir(async (dir) => {
      expect(await (await SnapshotStore.open(dir)).newest()).toBeUndefined();
    });
  });

  test('a source that throws leaves no file behind and the old snapshot in place', async () => {
    await withTempDir(async (dir) => {
      const store = await SnapshotStore.open(dir);
      await store.save(meta(10), chunksOf(10, 2));
      function* failing(): Generator<Uint8Array> {
        yield new Uint8Array(10);
        throw new Error('tree went away');
      }
      await expect(store.save(meta(20), failing())).rejects.toThrow('tree went away');
      expect(await readdir(dir)).toEqual([snapshotFileName(10, 1)]);
      await copyFile(join(dir, snapshotFileName(10, 1)), join(dir, 'unrelated.bin'));
      expect((await store.newest())!.index).toBe(10);
    });
  });
});
