import { describe, expect, test } from 'vitest';
import { hash64, jumpHash } from '../../src/core/index.js';
import { jumpHashReference, xxh64Reference } from '../../src/core/reference.js';
import { seeded } from '../support/seeded.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

// Published xxHash64 values (xxHash's own test suite and its documentation).
const XXH64_VECTORS: [string, bigint, bigint][] = [
  ['', 0n, 0xef46db3751d8e999n],
  ['a', 0n, 0xd24ec4f1a98c6e5bn],
  ['abc', 0n, 0x44bc2cf5ad770999n],
  ['Nobody inspects the spammish repetition', 0n, 0xfbcea83c8a378bf1n],
  ['', 1n, 0xd5afba1336a3be4bn],
  ['abc', 1n, 0xbea9ca8199328908n],
];

describe('hash64 (xxHash64)', () => {
  test.each(XXH64_VECTORS)('matches the published value for %j with seed %d', (input, seed, expected) => {
    expect(hash64(ascii(input), seed)).toBe(expected);
    expect(xxh64Reference(ascii(input), seed)).toBe(expected);
  });

  test('defaults to seed 0 and returns an unsigned 64-bit value', () => {
    expect(hash64(ascii('abc'))).toBe(0x44bc2cf5ad770999n);
    seeded(10, (rng) => {
      for (let i = 0; i < 200; i++) {
        const h = hash64(rng.bytes(rng.int(100)));
        expect(h >= 0n && h < 1n << 64n).toBe(true);
      }
    });
  });

  test('equals the TS reference on random inputs, lengths and seeds (every tail length)', () => {
    seeded(11, (rng) => {
      for (let i = 0; i < 2000; i++) {
        const bytes = rng.bytes(i < 200 ? i : rng.int(600));
        const seed = rng.int(4) === 0 ? 0n : rng.uint64();
        expect(hash64(bytes, seed)).toBe(xxh64Reference(bytes, seed));
      }
    });
  });

  test('streams inputs larger than the scratch block to the same result', () => {
    seeded(12, (rng) => {
      for (const length of [65_536, 65_536 + 31, 65_536 + 32, 65_536 * 2 + 7, 300_001]) {
        const bytes = rng.bytes(length);
        expect(hash64(bytes, 7n)).toBe(xxh64Reference(bytes, 7n));
      }
    });
  });
});

describe('jumpHash', () => {
  test('equals the reference algorithm on random keys and bucket counts', () => {
    seeded(20, (rng) => {
      for (let i = 0; i < 5000; i++) {
        const key = rng.uint64();
        const buckets = rng.int(3) === 0 ? rng.between(1, 2 ** 31 - 1) : rng.between(1, 1000);
        expect(jumpHash(key, buckets)).toBe(jumpHashReference(key, buckets));
      }
    });
  });

  test('always answers within [0, buckets) and 0 for one bucket', () => {
    seeded(21, (rng) => {
      for (let i = 0; i < 2000; i++) {
        const buckets = rng.between(1, 500);
        const b = jumpHash(rng.uint64(), buckets);
        expect(b).toBeGreaterThanOrEqual(0);
        expect(b).toBeLessThan(buckets);
        expect(jumpHash(rng.uint64(), 1)).toBe(0);
      }
    });
  });

  test('spreads 1M keys evenly over 100 buckets (chi-square within the 99.9% bound)', () => {
    const buckets = 100;
    const keys = 1_000_000;
    const counts = new Array<number>(buckets).fill(0);
    seeded(22, (rng) => {
      for (let i = 0; i < keys; i++) counts[jumpHash(rng.uint64(), buckets)]++;
    });
    const expected = keys / buckets;
    const chiSquare = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    // 99 degrees of freedom: the 99.9th percentile of chi-square is about 148.2.
    expect(chiSquare).toBeLessThan(148.2);
    expect(Math.max(...counts) / Math.min(...counts)).toBeLessThan(1.1); // 10k keys a bucket: 4.5 sigma is 4.5%
  });

  test('moves only keys into the new bucket when buckets grow, about 1/(n+1) of them', () => {
    seeded(23, (rng) => {
      const keys = Array.from({ length: 100_000 }, () => rng.uint64());
      for (const n of [1, 7, 10, 99]) {
        let moved = 0;
        for (const key of keys) {
          const before = jumpHash(key, n);
          const after = jumpHash(key, n + 1);
          if (before !== after) {
            expect(after).toBe(n);
            moved++;
          }
        }
        const share = moved / keys.length;
        expect(Math.abs(share - 1 / (n + 1))).toBeLessThan(0.01);
      }
    });
  });

  test('rejects bucket counts that are not integers in [1, 2^31-1]', () => {
    for (const bad of [0, -1, 1.5, 2 ** 31, Number.NaN]) expect(() => jumpHash(1n, bad)).toThrow(RangeError);
  });
});
