// The bytes a connection owes its socket in this event-loop turn, gathered by copy
// into one buffer and written once (see flushAtEndOfTurn). Encoders hand views of
// their reused writer (valid until the next encode), so append() copies at once: one
// copy per reply, into a Buffer from Node's pool (no allocation of its own for a small
// reply, unlike a fresh Uint8Array per reply, whose backing store is malloc'ed and swept).

export class OutgoingBytes {
  private buffer: Buffer | null = null;
  private used = 0;

  /** Bytes gathered and not yet taken. */
  get byteLength(): number {
    return this.used;
  }

  append(bytes: Uint8Array): void {
    const needed = this.used + bytes.byteLength;
    if (this.buffer === null) {
      this.buffer = Buffer.allocUnsafe(bytes.byteLength); // most turns carry one reply: exactly its size
    } else if (needed > this.buffer.byteLength) {
      const grown = Buffer.allocUnsafe(Math.max(needed, 2 * this.buffer.byteLength));
      grown.set(this.buffer.subarray(0, this.used));
      this.buffer = grown;
    }
    this.buffer.set(bytes, this.used);
    this.used = needed;
  }

  /** Everything gathered, as one buffer the caller now owns (null: nothing). */
  take(): Buffer | null {
    if (this.buffer === null || this.used === 0) return null;
    const out = this.buffer.subarray(0, this.used);
    this.buffer = null;
    this.used = 0;
    return out;
  }
}
