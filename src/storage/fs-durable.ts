// The few file-system moves durability rests on: fsync a directory after a rename
// or unlink (otherwise the name change itself can be lost), publish a file
// atomically (temp, fsync, rename, fsync dir), and write zeros to preallocate.
import { closeSync, fsyncSync, openSync, constants } from 'node:fs';
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** fsyncs a directory so that creations, renames and unlinks in it survive a power cut. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function fsyncDirectorySync(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const ZERO_CHUNK_BYTES = 1024 * 1024;
let zeroChunk: Uint8Array | undefined;

/**
 * Writes zeros over [from, to) of an open file. Used to preallocate segments: on
 * ext4/xfs overwriting blocks that already exist needs no allocation metadata in
 * the later fdatasync (an ftruncate only makes a sparse hole, which must be
 * allocated as it fills). bench/wal.ts measures the three ways; see README.md.
 */
export async function writeZeros(handle: FileHandle, from: number, to: number): Promise<void> {
  zeroChunk ??= new Uint8Array(ZERO_CHUNK_BYTES);
  let at = from;
  while (at < to) {
    const length = Math.min(ZERO_CHUNK_BYTES, to - at);
    const { bytesWritten } = await handle.write(zeroChunk, 0, length, at);
    at += bytesWritten;
  }
}

/** Replaces `path` with `bytes` so that a crash leaves either the old or the new content. */
export async function writeFileAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const temp = `${path}.tmp`;
  const handle = await open(temp, 'w');
  try {
    let at = 0;
    while (at < bytes.length) at += (await handle.write(bytes, at, bytes.length - at, at)).bytesWritten;
    await handle.sync();
  } catch (error) {
    // A full disk: give back what the temp file took before anyone retries.
    await handle.close().catch(() => undefined);
    await unlinkIfExists(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await rename(temp, path);
  await fsyncDirectory(dirname(path));
}

/** unlink that treats "already gone" as done (recovery may repeat a half-finished delete). */
export async function unlinkIfExists(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/**
 * mkdir -p that makes the new directories themselves durable: each one's entry
 * lives in its parent, which is fsynced (a fresh node's wal/ must survive a power
 * cut along with the first records in it).
 */
export async function ensureDirectory(dir: string): Promise<void> {
  const firstCreated = await mkdir(dir, { recursive: true });
  if (firstCreated === undefined) return;
  const target = resolve(dir);
  for (let created = resolve(firstCreated); ; created = join(created, relative(created, target).split(sep)[0])) {
    await fsyncDirectory(dirname(created));
    if (created === target) break;
  }
}
