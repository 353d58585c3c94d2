// Little binary writer/reader shared by the txn codec and the snapshot format.
// Integers are LEB128 varints (zigzag for signed), because most fields (versions,
// counts, small zxids) are small and a fixed 8 bytes each would double snapshots.
import { assert } from '../util/assert.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const TWO_POW_32 = 0x1_0000_0000;

/** Thrown by ByteReader on truncated or malformed input (bad input, not a bug). */
export class DecodeError extends Error {
  override name = 'DecodeError';
}

export class ByteWriter {
  private buffer: Uint8Array;
  private view: DataView;
  /** The same memory as a Buffer, for its latin1 writer; made on first use. */
  private nodeBuffer: Buffer | null = null;
  length = 0;

  constructor(initialBytes = 256) {
    this.buffer = new Uint8Array(initialBytes);
    this.view = new DataView(this.buffer.buffer);
  }

  get capacity(): number {
    return this.buffer.length;
  }

  /** Bytes written so far (a view: copy it before the next write if you keep it). */
  bytes(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  reset(): void {
    this.length = 0;
  }

  /** A copy of the first `count` bytes, removed from the writer (the rest moves down). */
  takeFront(count: number): Uint8Array {
    assert(count <= this.length, 'takeFront: more than written');
    const front = this.buffer.slice(0, count);
    this.buffer.copyWithin(0, count, this.length);
    this.length -= count;
    return front;
  }

  private ensure(extra: number): void {
    const need = this.length + extra;
    if (need <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
    this.view = new DataView(next.buffer);
    this.nodeBuffer = null;
  }

  u8(value: number): void {
    this.ensure(1);
    this.buffer[this.length++] = value;
  }

  u32(value: number): void {
    this.ensure(4);
    this.view.setUint32(this.length, value, true);
    this.length += 4;
  }

  /** Fixed 8 bytes, IEEE double (exact for safe integers): cheaper than a long varint. */
  f64(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.length, value, true);
    this.length += 8;
  }

  /** Fixed 8 bytes, for hashes. */
  u64(value: bigint): void {
    this.ensure(8);
    this.view.setBigUint64(this.length, value, true);
    this.length += 8;
  }

  /** Non-negative safe integer as a varint (up to 8 bytes for 2^53). */
  uvar(value: number): void {
    this.ensure(8);
    let v = value;
    if (v >>> 0 === v) {
      // Fast path: a uint32 (versions, counts, lengths, most zxids).
      const buffer = this.buffer;
      let at = this.length;
      while (v >= 0x80) {
        buffer[at++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buffer[at++] = v;
      this.length = at;
      return;
    }
    if (!(Number.isSafeInteger(value) && value >= 0)) assert(false, () => `uvar: ${value} is not a non-negative safe integer`);
    while (v >= TWO_POW_32) {
      this.buffer[this.length++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    while (v >= 0x80) {
      this.buffer[this.length++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buffer[this.length++] = v;
  }

  /** Signed safe integer, zigzag-encoded (versions can be -1). */
  svar(value: number): void {
    if (!Number.isSafeInteger(value)) assert(false, () => `svar: ${value} is not a safe integer`);
    this.uvar(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Length-prefixed bytes. */
  blob(bytes: Uint8Array): void {
    this.uvar(bytes.length);
    this.raw(bytes);
  }

  /** A one-byte-per-char string's chars as bytes (see StoredData in znode.ts); no length prefix. */
  latin1(text: string): void {
    this.ensure(text.length);
    this.nodeBuffer ??= Buffer.from(this.buffer.buffer, this.buffer.byteOffset, this.buffer.length);
    this.nodeBuffer.write(text, this.length, text.length, 'latin1');
    this.length += text.length;
  }

  /** Length-prefixed UTF-8. */
  string(text: string): void {
    // Worst case 3 bytes per UTF-16 unit; encodeInto writes in place without a temporary.
    this.ensure(text.length * 3 + 8);
    if (text.length < 128) {
      // Short ASCII (nearly every path): a JS loop beats encodeInto's call cost.
      const buffer = this.buffer;
      const at = this.length;
      let i = 0;
      for (; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c >= 0x80) break;
        buffer[at + 1 + i] = c;
      }
      if (i === text.length) {
        buffer[at] = i;
        this.length = at + 1 + i;
        return;
      }
      this.length = at + 1;
      const { written } = encoder.encodeInto(text, this.buffer.subarray(this.length));
      if (written < 128) {
        this.buffer[at] = written;
        this.length += written;
        return;
      }
      this.length = at;
    }
    const encoded = encoder.encode(text);
    this.blob(encoded);
  }

  /** Overwrites a u32 written earlier (frame lengths). */
  patchU32(at: number, value: number): void {
    this.view.setUint32(at, value, true);
  }
}

export class ByteReader {
  private bytes: Uint8Array;
  private view: DataView;
  /** The same bytes as a Buffer, for its latin1 decoder; made on first use. */
  private nodeBuffer: Buffer | null = null;
  private end: number;
  offset: number;

  constructor(bytes: Uint8Array, offset = 0, end = bytes.length) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    this.offset = offset;
    this.end = end;
  }

  /** Reads [offset, end) of `bytes` next; reuses the DataView when `bytes` is the same buffer (no allocation per frame). */
  reset(bytes: Uint8Array, offset: number, end: number): void {
    if (bytes !== this.bytes) {
      this.bytes = bytes;
      this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
      this.nodeBuffer = null;
    }
    this.offset = offset;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  private need(count: number): void {
    if (this.offset + count > this.end) throw new DecodeError(`truncated: need ${count} bytes at ${this.offset}`);
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.offset++];
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return v;
  }

  u64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.offset, true);
    this.offset += 8;
    return v;
  }

  uvar(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (!Number.isSafeInteger(result)) throw new DecodeError('varint exceeds a safe integer');
        return result;
      }
      scale *= 128;
    }
    throw new DecodeError('varint too long');
  }

  svar(): number {
    const z = this.uvar();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  /**
   * A copy, so the result does not pin the (possibly large) input buffer. Small
   * copies come from Node's Buffer pool (a fresh small Uint8Array costs several
   * hundred ns of off-heap allocation; decoded txns are short-lived, so pinning a
   * pool slab briefly is harmless).
   */
  blob(maxBytes: number): Uint8Array {
    const length = this.uvar();
    if (length > maxBytes) throw new DecodeError(`blob of ${length} bytes exceeds ${maxBytes}`);
    this.need(length);
    const out = Buffer.allocUnsafe(length);
    out.set(this.bytes.subarray(this.offset, this.offset + length));
    this.offset += length;
    return out;
  }

  /** Length-prefixed bytes as a one-byte-per-char string (StoredData). */
  latin1(maxBytes: number): string {
    const length = this.uvar();
    if (length > maxBytes) throw new DecodeError(`data of ${length} bytes exceeds ${maxBytes}`);
    this.need(length);
    this.nodeBuffer ??= Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.length);
    const text = this.nodeBuffer.toString('latin1', this.offset, this.offset + length);
    this.offset += length;
    return text;
  }

  string(maxBytes: number): string {
    const length = this.uvar();
    if (length > maxBytes) throw new DecodeError(`string of ${length} bytes exceeds ${maxBytes}`);
    this.need(length);
    if (length <= 64) {
      // Short ASCII (nearly every path and id): cheaper than a TextDecoder call.
      const bytes = this.bytes;
      const start = this.offset;
      let ascii = true;
      for (let i = start; i < start + length; i++) {
        if (bytes[i] >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) {
        this.offset += length;
        // ASCII is latin1 is UTF-8 here; Buffer's latin1 decoder is the cheapest.
        this.nodeBuffer ??= Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
        return this.nodeBuffer.toString('latin1', start, start + length);
      }
    }
    let text: string;
    try {
      text = decoder.decode(this.bytes.subarray(this.offset, this.offset + length));
    } catch {
      throw new DecodeError('invalid UTF-8');
    }
    this.offset += length;
    return text;
  }
}
