// The snapshot file format, framed and checksummed here (the tree's stream is
// opaque to storage):
//
//   header  magic "ZKSN" u32 | version u32 | index u64 | term u64 | metaLength u32 | meta | crc32c u32 (of all before)
//   frames  length u32 (1..MAX_FRAME_BYTES) | crc32c u32 (of data) | data          (repeated)
//   end     0 u32 | frameCount u32 | totalBytes u64 | crc32c u32 (of the 16 bytes before)   then end of file
//
// A file that is cut short, has bytes after its end record, or any checksum that
// does not match is damaged; the store then falls back to an older snapshot.
import type { FileHandle } from 'node:fs/promises';
import { crc32c } from '../core/index.js';
import { checkIndex, type SnapshotMeta } from './types.js';

const MAGIC = 0x4e534b5a; // "ZKSN" little-endian
const VERSION = 1;
export const MAX_FRAME_BYTES = 1024 * 1024;
export const MAX_SNAPSHOT_META_BYTES = 1024 * 1024;
const STAGING_BYTES = MAX_FRAME_BYTES + 64;

export class SnapshotFormatError extends Error {
  override name = 'SnapshotFormatError';
  constructor(
    readonly offset: number,
    detail: string,
  ) {
    super(`byte offset ${offset}: ${detail}`);
  }
}

function u64(view: DataView, at: number): number {
  const value = view.getBigUint64(at, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new SnapshotFormatError(at, 'integer over 2^53');
  return Number(value);
}

/** Where a SnapshotWriter puts its bytes: a file (FileHandle fits), or memory (memorySnapshotSink). */
export interface SnapshotSink {
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
}

/** A sink that keeps a copy of everything written, in order (positions are sequential). */
export function memorySnapshotSink(): SnapshotSink & { readonly parts: Uint8Array[] } {
  const parts: Uint8Array[] = [];
  return {
    parts,
    write(buffer, offset, length) {
      parts.push(buffer.slice(offset, offset + length));
      return Promise.resolve({ bytesWritten: length });
    },
  };
}

/** Writes a snapshot file through a reused staging buffer; call add() per chunk, then finish(). */
export class SnapshotWriter {
  private readonly staging = new Uint8Array(STAGING_BYTES);
  private readonly view = new DataView(this.staging.buffer);
  private used = 0;
  private position = 0;
  private frames = 0;
  private totalBytes = 0;

  constructor(private readonly handle: SnapshotSink) {}

  async begin(meta: SnapshotMeta): Promise<void> {
    checkIndex('snapshot index', meta.index);
    checkIndex('snapshot term', meta.term);
    if (meta.meta.length > MAX_SNAPSHOT_META_BYTES) throw new RangeError(`snapshot metadata over ${MAX_SNAPSHOT_META_BYTES} bytes`);
    const header = new Uint8Array(28 + meta.meta.length + 4);
    const view = new DataView(header.buffer);
    view.setUint32(0, MAGIC, true);
    view.setUint32(4, VERSION, true);
    view.setBigUint64(8, BigInt(meta.index), true);
    view.setBigUint64(16, BigInt(meta.term), true);
    view.setUint32(24, meta.meta.length, true);
    header.set(meta.meta, 28);
    view.setUint32(28 + meta.meta.length, crc32c(header.subarray(0, 28 + meta.meta.length)), true);
    await this.writeOut(header);
  }

  async add(chunk: Uint8Array): Promise<void> {
    for (let at = 0; at < chunk.length; at += MAX_FRAME_BYTES) {
      const piece = chunk.subarray(at, Math.min(chunk.length, at + MAX_FRAME_BYTES));
      if (this.used + 8 + piece.length > STAGING_BYTES) await this.flush();
      this.view.setUint32(this.used, piece.length, true);
      this.view.setUint32(this.used + 4, crc32c(piece), true);
      this.staging.set(piece, this.used + 8);
      this.used += 8 + piece.length;
      this.frames++;
      this.totalBytes += piece.length;
    }
  }

  async finish(): Promise<void> {
    if (this.used + 20 > STAGING_BYTES) await this.flush();
    const at = this.used;
    this.view.setUint32(at, 0, true);
    this.view.setUint32(at + 4, this.frames, true);
    this.view.setBigUint64(at + 8, BigInt(this.totalBytes), true);
    this.view.setUint32(at + 16, crc32c(this.staging.subarray(at, at + 16)), true);
    this.used += 20;
    await this.flush();
  }

  private async flush(): Promise<void> {
    await this.writeOut(this.staging.subarray(0, this.used));
    this.used = 0;
  }

  private async writeOut(bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      done += (await this.handle.write(bytes, done, bytes.length - done, this.position + done)).bytesWritten;
    }
    this.position += bytes.length;
  }
}

/** Sequential reads of exact sizes from a file, through a reused buffer. */
class SequentialReader {
  private buffer = new Uint8Array(STAGING_BYTES);
  private start = 0;
  private end = 0;
  private filePosition = 0;

  constructor(private readonly handle: FileHandle) {}

  /** Offset in the file of the next byte read() returns. */
  get offset(): number {
    return this.filePosition - (this.end - this.start);
  }

  /** The next n bytes (a view valid until the next call), or undefined at end of file. */
  async read(n: number): Promise<Uint8Array | undefined> {
    if (n > this.buffer.length) {
      const bigger = new Uint8Array(n);
      bigger.set(this.buffer.subarray(this.start, this.end));
      this.end -= this.start;
      this.start = 0;
      this.buffer = bigger;
    }
    if (this.end - this.start < n) {
      this.buffer.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
      while (this.end < n) {
        const { bytesRead } = await this.handle.read(this.buffer, this.end, this.buffer.length - this.end, this.filePosition);
        if (bytesRead === 0) return undefined;
        this.end += bytesRead;
        this.filePosition += bytesRead;
      }
    }
    const out = this.buffer.subarray(this.start, this.start + n);
    this.start += n;
    return out;
  }
}

export interface SnapshotFileHeader extends SnapshotMeta {
  readonly frames: number;
  readonly totalBytes: number;
}

async function need(reader: SequentialReader, n: number, what: string): Promise<Uint8Array> {
  const at = reader.offset;
  const bytes = await reader.read(n);
  if (bytes === undefined) throw new SnapshotFormatError(at, `file ends inside the ${what}`);
  return bytes;
}

async function readHeader(reader: SequentialReader): Promise<SnapshotMeta> {
  const fixed = (await need(reader, 28, 'header')).slice();
  const view = new DataView(fixed.buffer);
  if (view.getUint32(0, true) !== MAGIC || view.getUint32(4, true) !== VERSION) throw new SnapshotFormatError(0, 'not a zook snapshot (magic or version)');
  const metaLength = view.getUint32(24, true);
  if (metaLength > MAX_SNAPSHOT_META_BYTES) throw new SnapshotFormatError(24, 'metadata length out of range');
  const rest = await need(reader, metaLength + 4, 'header');
  const meta = rest.slice(0, metaLength);
  const expected = new DataView(rest.buffer, rest.byteOffset, rest.byteLength).getUint32(metaLength, true);
  if (crc32c(meta, crc32c(fixed)) !== expected) throw new SnapshotFormatError(28 + metaLength, 'header checksum mismatch');
  return { index: u64(view, 8), term: u64(view, 16), meta };
}

/** The file's header, read and checked; for listing without reading the frames. */
export async function readSnapshotHeader(handle: FileHandle): Promise<SnapshotMeta> {
  return readHeader(new SequentialReader(handle));
}

/**
 * Reads a snapshot file front to back, checking every checksum, and yields each
 * frame's data as a view that is valid only until the next step. Returns the
 * header once the end record checked. Throws SnapshotFormatError on damage.
 */
export async function* snapshotFrames(handle: FileHandle): AsyncGenerator<Uint8Array, SnapshotFileHeader, undefined> {
  const reader = new SequentialReader(handle);
  const meta = await readHeader(reader);
  let frames = 0;
  let totalBytes = 0;
  for (;;) {
    const frameAt = reader.offset;
    const head = await need(reader, 8, 'frame header');
    const headView = new DataView(head.buffer, head.byteOffset, 8);
    const length = headView.getUint32(0, true);
    const crc = headView.getUint32(4, true);
    if (length === 0) {
      // End record: the second word is the frame count, then totalBytes and a CRC.
      const tail = await need(reader, 12, 'end record');
      const all = new Uint8Array(16);
      const allView = new DataView(all.buffer);
      allView.setUint32(4, crc, true);
      all.set(tail.subarray(0, 8), 8);
      const tailView = new DataView(tail.buffer, tail.byteOffset, 12);
      if (crc32c(all) !== tailView.getUint32(8, true)) throw new SnapshotFormatError(frameAt, 'end record checksum mismatch');
      if (allView.getUint32(4, true) !== frames || u64(allView, 8) !== totalBytes) {
        throw new SnapshotFormatError(frameAt, `end record says ${allView.getUint32(4, true)} frames, found ${frames}`);
      }
      if ((await reader.read(1)) !== undefined) throw new SnapshotFormatError(reader.offset - 1, 'bytes after the end record');
      return { ...meta, frames, totalBytes };
    }
    if (length > MAX_FRAME_BYTES) throw new SnapshotFormatError(frameAt, `frame length ${length} out of range`);
    const data = await need(reader, length, 'frame');
    if (crc32c(data) !== crc) throw new SnapshotFormatError(frameAt, 'frame checksum mismatch');
    frames++;
    totalBytes += length;
    yield data;
  }
}

/** Checks a whole snapshot file without keeping its data. */
export async function verifySnapshotFile(handle: FileHandle): Promise<SnapshotFileHeader> {
  const frames = snapshotFrames(handle);
  for (;;) {
    const step = await frames.next();
    if (step.done === true) return step.value;
  }
}
