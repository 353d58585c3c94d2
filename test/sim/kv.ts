// The small key-value state machine the simulated clients use, and the
// encoding of its operations as log entry payloads.
import { assert } from '../../src/util/assert.js';

export interface PutOp {
  readonly opId: number;
  readonly key: number;
  readonly value: number;
}

/** 12 bytes: op id, key, value (u32 little-endian each). */
export function encodePut(op: PutOp): Uint8Array {
  const out = new Uint8Array(12);
  const v = new DataView(out.buffer);
  v.setUint32(0, op.opId, true);
  v.setUint32(4, op.key, true);
  v.setUint32(8, op.value, true);
  return out;
}

export function decodePut(data: Uint8Array): PutOp {
  assert(data.byteLength === 12, `put payload must be 12 bytes, got ${data.byteLength}`);
  const v = new DataView(data.buffer, data.byteOffset, 12);
  return { opId: v.getUint32(0, true), key: v.getUint32(4, true), value: v.getUint32(8, true) };
}

export class KvStore {
  private readonly values = new Map<number, number>();
  /** Index of the last entry applied. */
  applied = 0;

  get(key: number): number {
    return this.values.get(key) ?? 0;
  }

  apply(index: number, put: PutOp | null): void {
    assert(index === this.applied + 1, `kv applies ${index} after ${this.applied}`);
    this.applied = index;
    if (put !== null) this.values.set(put.key, put.value);
  }

  /** (key, value) pairs sorted by key. */
  entries(): [number, number][] {
    return [...this.values].sort((a, b) => a[0] - b[0]);
  }

  /** Deterministic image: applied, then (key, value) pairs sorted by key. */
  serialize(): Uint8Array {
    const keys = [...this.values.keys()].sort((a, b) => a - b);
    const out = new Uint8Array(8 + keys.length * 8);
    const v = new DataView(out.buffer);
    v.setFloat64(0, this.applied, true);
    keys.forEach((k, i) => {
      v.setUint32(8 + i * 8, k, true);
      v.setUint32(12 + i * 8, this.values.get(k) ?? 0, true);
    });
    return out;
  }

  static restore(data: Uint8Array): KvStore {
    const kv = new KvStore();
    if (data.byteLength === 0) return kv;
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    kv.applied = v.getFloat64(0, true);
    for (let at = 8; at < data.byteLength; at += 8) kv.values.set(v.getUint32(at, true), v.getUint32(at + 4, true));
    return kv;
  }

  equals(other: KvStore): boolean {
    if (this.values.size !== other.values.size) return false;
    for (const [k, val] of this.values) if (other.values.get(k) !== val) return false;
    return true;
  }
}
