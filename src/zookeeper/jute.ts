// Jute, ZooKeeper's record serialisation, as its client protocol uses it: big-endian
// int (4 bytes) and long (8), boolean (1), buffer and ustring (int length, -1 for
// null, then the bytes), vector (int count, -1 for null, then the elements). Every
// read is bounds-checked: the bytes come from an untrusted socket.

/** Bytes that are not a valid record: the connection is closed with this reason. */
export class JuteError extends Error {
  override name = 'JuteError';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

export class JuteReader {
  private offset = 0;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    /** Longest vector accepted (a count past it is refused before anything is allocated). */
    private readonly maxVectorLength = 100_000,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  private need(n: number, what: string): void {
    if (this.offset + n > this.bytes.length) throw new JuteError(`truncated record: ${what} needs ${n} bytes, ${this.remaining} left`);
  }

  int(what = 'int'): number {
    this.need(4, what);
    const v = this.view.getInt32(this.offset);
    this.offset += 4;
    return v;
  }

  /** A long as a number; past 2^53 it loses precision (zxids and session ids never get there). */
  long(what = 'long'): number {
    this.need(8, what);
    const v = this.view.getBigInt64(this.offset);
    this.offset += 8;
    return Number(v);
  }

  bool(what = 'boolean'): boolean {
    this.need(1, what);
    return this.bytes[this.offset++] !== 0;
  }

  /** A buffer, copied out (the socket's chunk is reused); null for length -1. */
  buffer(what = 'buffer'): Uint8Array | null {
    const n = this.int(`${what} length`);
    if (n === -1) return null;
    if (n < 0) throw new JuteError(`${what} has negative length ${n}`);
    this.need(n, what);
    const out = this.bytes.slice(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  ustring(what = 'string'): string | null {
    const n = this.int(`${what} length`);
    if (n === -1) return null;
    if (n < 0) throw new JuteError(`${what} has negative length ${n}`);
    this.need(n, what);
    let s: string;
    try {
      s = utf8.decode(this.bytes.subarray(this.offset, this.offset + n));
    } catch {
      throw new JuteError(`${what} is not valid UTF-8`);
    }
    this.offset += n;
    return s;
  }

  /** A vector's element count; null for -1. Refused past the reader's maxVectorLength. */
  vectorLength(what: string, max = this.maxVectorLength): number | null {
    const n = this.int(`${what} count`);
    if (n === -1) return null;
    if (n < 0) throw new JuteError(`${what} has negative count ${n}`);
    if (n > max) throw new JuteError(`${what} has ${n} elements, over the limit of ${max}`);
    // Every element takes at least 4 bytes on the wire: a count the frame cannot hold is a lie.
    if (n > this.remaining) throw new JuteError(`truncated record: ${what} claims ${n} elements in ${this.remaining} bytes`);
    return n;
  }

  stringVector(what: string, max?: number): string[] | null {
    const n = this.vectorLength(what, max);
    if (n === null) return null;
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const s = this.ustring(what);
      if (s === null) throw new JuteError(`${what}: null element`);
      out[i] = s;
    }
    return out;
  }

  /** The record must end exactly here (a trailing byte means a different record was meant). */
  end(what: string): void {
    if (this.remaining !== 0) throw new JuteError(`${what}: ${this.remaining} unexpected bytes after the record`);
  }
}

/**
 * Writes records into a reused scratch buffer; `frame()` returns one length-prefixed
 * packet as a fresh copy (a socket may keep it queued after the call returns).
 */
export class JuteWriter {
  private bytes = new Uint8Array(4096);
  private view = new DataView(this.bytes.buffer);
  private offset = 0;

  /** Starts a packet: room for its 4-byte length. */
  begin(): this {
    this.offset = 4;
    return this;
  }

  private room(n: number): void {
    if (this.offset + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.offset + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.bytes.subarray(0, this.offset));
    this.bytes = next;
    this.view = new DataView(next.buffer);
  }

  int(v: number): this {
    this.room(4);
    this.view.setInt32(this.offset, v);
    this.offset += 4;
    return this;
  }

  long(v: number): this {
    this.room(8);
    this.view.setBigInt64(this.offset, BigInt(v));
    this.offset += 8;
    return this;
  }

  bool(v: boolean): this {
    this.room(1);
    this.bytes[this.offset++] = v ? 1 : 0;
    return this;
  }

  buffer(v: Uint8Array | null): this {
    if (v === null) return this.int(-1);
    this.int(v.length);
    this.room(v.length);
    this.bytes.set(v, this.offset);
    this.offset += v.length;
    return this;
  }

  ustring(v: string | null): this {
    if (v === null) return this.int(-1);
    // Worst case 3 bytes per UTF-16 unit; encodeInto writes in place, no temporary array.
    this.room(4 + 3 * v.length);
    const { written } = utf8Encoder.encodeInto(v, this.bytes.subarray(this.offset + 4));
    this.view.setInt32(this.offset, written);
    this.offset += 4 + written;
    return this;
  }

  stringVector(v: readonly string[]): this {
    this.int(v.length);
    for (const s of v) this.ustring(s);
    return this;
  }

  /** The packet written since begin(), length prefix filled in, as its own copy. */
  frame(): Uint8Array {
    return this.frameView().slice();
  }

  /** The same packet as a view into this writer: valid until its next begin() (no copy). */
  frameView(): Uint8Array {
    this.view.setInt32(0, this.offset - 4);
    return this.bytes.subarray(0, this.offset);
  }
}
