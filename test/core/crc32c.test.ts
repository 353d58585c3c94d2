import { crc32c as nativeCrc32c } from '@node-rs/crc32';
import { describe, expect, test } from 'vitest';
import { crc32c } from '../../src/core/index.js';
import { crc32cBitwise, crc32cReference } from '../../src/core/reference.js';
import { seeded } from '../support/seeded.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g)!.map((b) => Number.parseInt(b, 16)));

// RFC 3720 (iSCSI) appendix B.4.
const RFC3720_VECTORS: [string, Uint8Array, number][] = [
  ['32 bytes of zeros', new Uint8Array(32), 0x8a9136aa],
  ['32 bytes of ones', new Uint8Array(32).fill(0xff), 0x62a8ab43],
  ['32 incrementing bytes', Uint8Array.from({ length: 32 }, (_, i) => i), 0x46dd794e],
  ['32 decrementing bytes', Uint8Array.from({ length: 32 }, (_, i) => 31 - i), 0x113fdb5c],
  [
    'an iSCSI read command PDU',
    hex('01c000000000000000000000000000001400000000000400000000140000001828000000000000000200000000000000'),
    0xd9963a56,
  ],
];

const implementations = [
  ['wasm', crc32c],
  ['ts reference', crc32cReference],
  ['bitwise definition', crc32cBitwise],
] as const;

describe.each(implementations)('crc32c (%s)', (_name, crc) => {
  test('gives the check value 0xE3069283 for "123456789"', () => {
    expect(crc(ascii('123456789'))).toBe(0xe3069283);
  });

  test.each(RFC3720_VECTORS)('matches RFC 3720 B.4: %s', (_label, input, expected) => {
    expect(crc(input)).toBe(expected);
  });

  test('is 0 for no bytes and leaves a running value unchanged', () => {
    expect(crc(new Uint8Array(0))).toBe(0);
    expect(crc(new Uint8Array(0), 0xdeadbeef)).toBe(0xdeadbeef);
  });
});

describe('crc32c in WASM', () => {
  test('equals the TS reference and the native library on random inputs of every length up to 4 KiB', () => {
    seeded(1, (rng) => {
      for (let i = 0; i < 3000; i++) {
        const bytes = rng.bytes(rng.int(i < 600 ? 64 : 4096));
        const expected = crc32cReference(bytes);
        expect(crc32c(bytes)).toBe(expected);
        expect(nativeCrc32c(Buffer.from(bytes))).toBe(expected);
      }
    });
  });

  test('is incremental: any split of the input gives the same result as one call', () => {
    seeded(2, (rng) => {
      for (let i = 0; i < 500; i++) {
        const bytes = rng.bytes(rng.int(2000));
        const cut = rng.int(bytes.length + 1);
        expect(crc32c(bytes.subarray(cut), crc32c(bytes.subarray(0, cut)))).toBe(crc32c(bytes));
      }
    });
  });

  test('handles inputs larger than the scratch block (chunked through it)', () => {
    seeded(3, (rng) => {
      for (const length of [65_535, 65_536, 65_537, 200_000, 1_048_576 + 3]) {
        const bytes = rng.bytes(length);
        expect(crc32c(bytes)).toBe(crc32cReference(bytes));
      }
    });
  });

  test('works on unaligned views into a larger buffer', () => {
    const big = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff);
    for (let offset = 0; offset < 9; offset++) {
      const view = big.subarray(offset, offset + 333);
      expect(crc32c(view)).toBe(crc32cBitwise(view));
    }
  });
});
