// Durable snapshots of the tree: each is written to a temp file, fsynced, renamed
// into place and the directory fsynced, so a crash leaves the previous snapshots
// untouched. The newest N are kept. Loading verifies a whole file before handing
// out any of it, and falls back to an older snapshot when the newest is damaged.
import { open, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { assert } from '../util/assert.js';
import { ensureDirectory, fsyncDirectory, unlinkIfExists } from './fs-durable.js';
import { SnapshotFormatError, SnapshotWriter, snapshotFrames, verifySnapshotFile, type SnapshotFileHeader } from './snapshot-file.js';
import { defaultLogger, type SnapshotMeta, type StorageLogger } from './types.js';

export const DEFAULT_KEEP_SNAPSHOTS = 3;
const NAME = /^snapshot-(\d{20})-(\d{20})\.snap$/;

export function snapshotFileName(index: number, term: number): string {
  return `snapshot-${String(index).padStart(20, '0')}-${String(term).padStart(20, '0')}.snap`;
}

export interface SnapshotStoreOptions {
  /** How many snapshots to keep (the newest); at least 1. */
  readonly keepSnapshots?: number;
  readonly logger?: StorageLogger;
}

/** A verified snapshot on disk. */
export interface StoredSnapshot extends SnapshotMeta {
  readonly file: string;
  readonly totalBytes: number;
  /**
   * Its data, as bounded chunks (at most 1 MiB, each a fresh copy), read from disk
   * again with every checksum checked again. Can be iterated more than once.
   */
  chunks(): AsyncIterable<Uint8Array>;
}

interface Listed {
  readonly name: string;
  readonly index: number;
  readonly term: number;
}

export class SnapshotStore {
  readonly keepSnapshots: number;
  private readonly logger: StorageLogger;
  /** Saves run one at a time, so pruning never races a rename. */
  private last: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly dir: string,
    options: SnapshotStoreOptions,
  ) {
    this.keepSnapshots = options.keepSnapshots ?? DEFAULT_KEEP_SNAPSHOTS;
    if (!Number.isSafeInteger(this.keepSnapshots) || this.keepSnapshots < 1) throw new RangeError('keepSnapshots must be at least 1');
    this.logger = options.logger ?? defaultLogger;
  }

  /** Opens the store, removing temp files left by a save that a crash interrupted. */
  static async open(dir: string, options: SnapshotStoreOptions = {}): Promise<SnapshotStore> {
    await ensureDirectory(dir);
    for (const name of await readdir(dir)) if (name.endsWith('.tmp')) await unlinkIfExists(join(dir, name));
    return new SnapshotStore(dir, options);
  }

  /** Snapshot files by (index, term), newest first; not verified. */
  async list(): Promise<Listed[]> {
    const listed: Listed[] = [];
    for (const name of await readdir(this.dir)) {
      const match = NAME.exec(name);
      if (match !== null) listed.push({ name, index: Number(match[1]), term: Number(match[2]) });
    }
    return listed.sort((a, b) => b.index - a.index || b.term - a.term);
  }

  /**
   * Writes a snapshot durably; resolves with its path once it is renamed into place
   * and the directory is fsynced. Then removes all but the newest keepSnapshots.
   */
  save(meta: SnapshotMeta, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<string> {
    const run = this.last.catch(() => undefined).then(() => this.saveNow(meta, chunks));
    this.last = run;
    return run;
  }

  private async saveNow(meta: SnapshotMeta, chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<string> {
    const path = join(this.dir, snapshotFileName(meta.index, meta.term));
    const temp = `${path}.tmp`;
    const handle = await open(temp, 'w');
    try {
      const writer = new SnapshotWriter(handle);
      await writer.begin(meta);
      for await (const chunk of chunks) await writer.add(chunk);
      await writer.finish();
      await handle.sync();
    } catch (error) {
      await handle.close();
      await unlinkIfExists(temp);
      throw error;
    }
    await handle.close();
    await rename(temp, path);
    await fsyncDirectory(this.dir);
    await this.prune();
    return path;
  }

  private async prune(): Promise<void> {
    const stale = (await this.list()).slice(this.keepSnapshots);
    for (const s of stale) await unlinkIfExists(join(this.dir, s.name));
    if (stale.length > 0) await fsyncDirectory(this.dir);
  }

  /** The newest snapshot that verifies whole, or undefined. Damaged ones are reported and skipped. */
  async newest(): Promise<StoredSnapshot | undefined> {
    for (const listed of await this.list()) {
      const path = join(this.dir, listed.name);
      const checked = await this.verify(path);
      if (checked === undefined) continue;
      if (checked.index !== listed.index || checked.term !== listed.term) {
        this.logger(`${path}: header says index ${checked.index} term ${checked.term}, unlike its name; skipped`);
        continue;
      }
      return storedSnapshot(path, checked);
    }
    return undefined;
  }

  private async verify(path: string): Promise<SnapshotFileHeader | undefined> {
    const handle = await open(path, 'r');
    try {
      return await verifySnapshotFile(handle);
    } catch (error) {
      if (!(error instanceof SnapshotFormatError)) throw error;
      this.logger(`${path}: damaged snapshot (${error.message}); using an older one`);
      return undefined;
    } finally {
      await handle.close();
    }
  }
}

function storedSnapshot(path: string, header: SnapshotFileHeader): StoredSnapshot {
  return {
    file: path,
    index: header.index,
    term: header.term,
    meta: header.meta,
    totalBytes: header.totalBytes,
    chunks: () => readChunks(path),
  };
}

async function* readChunks(path: string): AsyncGenerator<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const frames = snapshotFrames(handle);
    for (;;) {
      const step = await frames.next();
      if (step.done === true) {
        assert(step.value.totalBytes >= 0, 'snapshot end record read');
        return;
      }
      yield step.value.slice();
    }
  } finally {
    await handle.close();
  }
}
