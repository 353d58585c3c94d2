import { describe, expect, test } from 'vitest';
import {
  RECORD_HEADER_BYTES,
  RecordBatchEncoder,
  readRecords,
  scanRecords,
  type ScanResult,
} from '../../src/core/index.js';
import { encodeRecordsReference, scanRecordsReference, type ReferenceRecord } from '../../src/core/reference.js';
import type { SeededRandom } from '../../src/util/random.js';
import { seeded } from '../support/seeded.js';

const MAX_PAYLOAD = 1 << 20;

function randomRecords(rng: SeededRandom, count: number, maxPayload = 300): ReferenceRecord[] {
  let index = rng.between(1, 1_000_000);
  const term = rng.between(1, 50);
  return Array.from({ length: count }, () => ({
    type: rng.between(1, 255),
    term,
    index: index++,
    payload: rng.bytes(rng.int(maxPayload)),
  }));
}

/** Frames records with the WASM encoder and copies the batch out of WASM memory. */
function encode(records: readonly ReferenceRecord[], maxBatchBytes = 1 << 22): Uint8Array {
  const encoder = new RecordBatchEncoder(maxBatchBytes);
  try {
    for (const r of records) expect(encoder.add(r.type, r.term, r.index, r.payload)).toBe(true);
    return encoder.bytes().slice();
  } finally {
    encoder.dispose();
  }
}

function scanBoth(bytes: Uint8Array): ScanResult {
  const result = scanRecords(bytes, MAX_PAYLOAD);
  expect(result).toEqual(scanRecordsReference(bytes, MAX_PAYLOAD));
  return result;
}

const recordEnds = (records: readonly ReferenceRecord[]): number[] => {
  let at = 0;
  return records.map((r) => (at += RECORD_HEADER_BYTES + r.payload.length));
};

describe('record framing', () => {
  test('WASM framing is byte-identical to the reference encoder', () => {
    seeded(30, (rng) => {
      for (let i = 0; i < 200; i++) {
        const records = randomRecords(rng, rng.between(1, 20));
        expect(encode(records)).toEqual(encodeRecordsReference(records));
      }
    });
  });

  test('records round-trip: scan is clean and reading gives back every field', () => {
    seeded(31, (rng) => {
      for (let i = 0; i < 200; i++) {
        const records = randomRecords(rng, rng.between(0, 30));
        const bytes = encode(records);
        expect(scanBoth(bytes)).toEqual({ count: records.length, validBytes: bytes.length, status: 'clean' });
        const read = [...readRecords(bytes, bytes.length)];
        expect(read.map(({ type, term, index, payload }) => ({ type, term, index, payload }))).toEqual(records);
      }
    });
  });

  test('the header layout is the documented one', () => {
    const payload = Uint8Array.of(0xaa, 0xbb, 0xcc);
    const bytes = encode([{ type: 7, term: 0x0102030405, index: 0x0a0b0c0d0e, payload }]);
    const view = new DataView(bytes.buffer);
    expect(bytes.length).toBe(RECORD_HEADER_BYTES + 3);
    expect(view.getUint32(0, true)).toBe(3);
    expect(view.getUint8(4)).toBe(7);
    expect([...bytes.subarray(5, 8)]).toEqual([0, 0, 0]);
    expect(view.getBigUint64(8, true)).toBe(0x0102030405n);
    expect(view.getBigUint64(16, true)).toBe(0x0a0b0c0d0en);
    expect([...bytes.subarray(32)]).toEqual([0xaa, 0xbb, 0xcc]);
  });

  test('a record that does not fit is refused and the batch is unchanged', () => {
    const encoder = new RecordBatchEncoder(100);
    expect(encoder.add(1, 1, 1, new Uint8Array(50))).toBe(true);
    expect(encoder.add(1, 1, 2, new Uint8Array(50))).toBe(false);
    expect(encoder.recordCount).toBe(1);
    expect(encoder.byteLength).toBe(82);
    encoder.reset();
    expect(encoder.byteLength).toBe(0);
    encoder.dispose();
  });

  test('rejects a type outside 1..255 and a term or index that is not a safe integer', () => {
    const encoder = new RecordBatchEncoder(1024);
    const empty = new Uint8Array(0);
    expect(() => encoder.add(0, 1, 1, empty)).toThrow(RangeError);
    expect(() => encoder.add(256, 1, 1, empty)).toThrow(RangeError);
    expect(() => encoder.add(1, -1, 1, empty)).toThrow(RangeError);
    expect(() => encoder.add(1, 1, 2 ** 53, empty)).toThrow(RangeError);
    encoder.dispose();
  });

  test('terms and indices up to 2^53 - 1 survive the round trip', () => {
    const bytes = encode([{ type: 1, term: Number.MAX_SAFE_INTEGER, index: Number.MAX_SAFE_INTEGER, payload: new Uint8Array(1) }]);
    const [record] = [...readRecords(bytes, bytes.length)];
    expect(record.term).toBe(Number.MAX_SAFE_INTEGER);
    expect(record.index).toBe(Number.MAX_SAFE_INTEGER);
  });

  test('scanning a view that already lives in WASM memory gives the same result', () => {
    const encoder = new RecordBatchEncoder(4096);
    encoder.add(3, 1, 1, new Uint8Array(10));
    encoder.add(3, 1, 2, new Uint8Array(20));
    expect(scanRecords(encoder.bytes())).toEqual({ count: 2, validBytes: 94, status: 'clean' });
    encoder.dispose();
  });
});

describe('record scan classifies damage', () => {
  test('a buffer of only zeros, or records followed by zeros, is clean', () => {
    expect(scanBoth(new Uint8Array(4096))).toEqual({ count: 0, validBytes: 0, status: 'clean' });
    seeded(40, (rng) => {
      const records = randomRecords(rng, 5);
      const bytes = encode(records);
      const padded = new Uint8Array(bytes.length + 1000);
      padded.set(bytes);
      expect(scanBoth(padded)).toEqual({ count: 5, validBytes: bytes.length, status: 'clean' });
    });
  });

  test('truncation at every byte offset inside the last record is a torn tail', () => {
    seeded(41, (rng) => {
      const records = randomRecords(rng, 4, 200);
      const bytes = encode(records);
      const ends = recordEnds(records);
      const lastStart = ends[2];
      for (let cut = lastStart + 1; cut < bytes.length; cut++) {
        expect(scanBoth(bytes.subarray(0, cut))).toEqual({ count: 3, validBytes: lastStart, status: 'torn' });
      }
      // Truncating exactly at a record boundary leaves whole records only.
      expect(scanBoth(bytes.subarray(0, lastStart)).status).toBe('clean');
    });
  });

  test('zeroing the tail of the last record from any offset is a torn tail (or clean at its start)', () => {
    seeded(42, (rng) => {
      const records = randomRecords(rng, 4, 200);
      const bytes = encode(records);
      const lastStart = recordEnds(records)[2];
      for (let from = lastStart; from < bytes.length; from++) {
        const damaged = new Uint8Array(bytes.length + 64);
        damaged.set(bytes);
        damaged.fill(0, from);
        const result = scanBoth(damaged);
        expect(result.count).toBe(3);
        expect(result.validBytes).toBe(lastStart);
        expect(result.status).toBe(from === lastStart ? 'clean' : 'torn');
      }
    });
  });

  test('a bit flip anywhere in the header of the last record is a torn tail', () => {
    seeded(43, (rng) => {
      const records = randomRecords(rng, 3);
      const bytes = encode(records);
      const lastStart = recordEnds(records)[1];
      for (let bit = 0; bit < RECORD_HEADER_BYTES * 8; bit++) {
        const damaged = bytes.slice();
        damaged[lastStart + (bit >> 3)] ^= 1 << (bit & 7);
        expect(scanBoth(damaged)).toEqual({ count: 2, validBytes: lastStart, status: 'torn' });
      }
    });
  });

  test('a bit flip in any header byte of a middle record is corruption, not a torn tail', () => {
    seeded(44, (rng) => {
      const records = randomRecords(rng, 5);
      const bytes = encode(records);
      const middleStart = recordEnds(records)[1];
      for (let bit = 0; bit < RECORD_HEADER_BYTES * 8; bit++) {
        const damaged = bytes.slice();
        damaged[middleStart + (bit >> 3)] ^= 1 << (bit & 7);
        expect(scanBoth(damaged)).toEqual({ count: 2, validBytes: middleStart, status: 'corrupt' });
      }
    });
  });

  test('a bit flip in the payload of a middle record is corruption; of the last record, a torn tail', () => {
    seeded(45, (rng) => {
      for (let i = 0; i < 300; i++) {
        const records = randomRecords(rng, rng.between(2, 8)).map((r) => ({ ...r, payload: rng.bytes(rng.between(1, 300)) }));
        const bytes = encode(records);
        const ends = recordEnds(records);
        const victim = rng.int(records.length);
        const start = victim === 0 ? 0 : ends[victim - 1];
        const damaged = bytes.slice();
        damaged[start + RECORD_HEADER_BYTES + rng.int(records[victim].payload.length)] ^= 1 << rng.int(8);
        const expected = victim === records.length - 1 ? 'torn' : 'corrupt';
        expect(scanBoth(damaged)).toEqual({ count: victim, validBytes: start, status: expected });
      }
    });
  });

  test('garbage after the last whole record is a torn tail: no valid record follows it', () => {
    seeded(46, (rng) => {
      const records = randomRecords(rng, 3);
      const bytes = encode(records);
      for (const garbageBytes of [5, 20, 100, 5000]) {
        const withGarbage = new Uint8Array(bytes.length + garbageBytes + 200);
        withGarbage.set(bytes);
        withGarbage.set(rng.bytes(garbageBytes).map((b) => b | 1), bytes.length);
        expect(scanBoth(withGarbage)).toEqual({ count: 3, validBytes: bytes.length, status: 'torn' });
      }
    });
  });

  test('a valid record after garbage makes the garbage corruption', () => {
    seeded(48, (rng) => {
      const records = randomRecords(rng, 3);
      const bytes = encode(records);
      const later = encode(randomRecords(rng, 1));
      for (const gap of [1, 7, 31, 32, 333]) {
        const buffer = new Uint8Array(bytes.length + gap + later.length + 100);
        buffer.set(bytes);
        buffer.set(rng.bytes(gap).map((b) => b | 1), bytes.length);
        buffer.set(later, bytes.length + gap);
        expect(scanBoth(buffer)).toEqual({ count: 3, validBytes: bytes.length, status: 'corrupt' });
      }
    });
  });

  test('a hole of zeros inside the log, with records after it, is corruption', () => {
    seeded(49, (rng) => {
      const records = randomRecords(rng, 6, 100);
      const bytes = encode(records);
      const ends = recordEnds(records);
      const damaged = bytes.slice();
      damaged.fill(0, ends[1], ends[3]);
      expect(scanBoth(damaged)).toEqual({ count: 2, validBytes: ends[1], status: 'corrupt' });
    });
  });

  test('a header claiming more than the payload limit is damage, never trusted', () => {
    const bytes = encode([{ type: 1, term: 1, index: 1, payload: new Uint8Array(100) }]);
    expect(scanRecords(bytes, 99)).toEqual({ count: 0, validBytes: 0, status: 'torn' });
    const small = encode([{ type: 1, term: 1, index: 2, payload: new Uint8Array(10) }]);
    const followed = new Uint8Array(bytes.length + small.length);
    followed.set(bytes);
    followed.set(small, bytes.length);
    expect(scanRecords(followed, 99)).toEqual({ count: 0, validBytes: 0, status: 'corrupt' });
  });

  test('WASM scan equals the reference scan on randomly damaged buffers', () => {
    seeded(47, (rng) => {
      for (let i = 0; i < 500; i++) {
        const records = randomRecords(rng, rng.between(0, 10), 120);
        const bytes = encode(records);
        const buffer = new Uint8Array(bytes.length + rng.int(100));
        buffer.set(bytes);
        const damage = rng.int(4);
        if (damage === 0 && buffer.length > 0) buffer[rng.int(buffer.length)] ^= 1 << rng.int(8);
        if (damage === 1 && buffer.length > 0) buffer.fill(0, rng.int(buffer.length));
        if (damage === 2 && buffer.length > 0) buffer[rng.int(buffer.length)] = rng.int(256);
        const cut = damage === 3 ? rng.int(buffer.length + 1) : buffer.length;
        scanBoth(buffer.subarray(0, cut));
      }
    });
  });
});
