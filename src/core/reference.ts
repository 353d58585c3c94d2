// Pure TypeScript references for every function of the WASM core. Tests check the
// core against them over random inputs; benchmarks compare speed. Written for
// obviousness first: BigInt where the core uses u64.
import type { RingMember } from './ring.js';
import type { ScanResult } from './records.js';

const CRC_POLY = 0x82f63b78;

/** Eight tables for slicing-by-8 (table 0 is the classic byte-at-a-time table). */
const CRC_TABLES: Uint32Array[] = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ CRC_POLY : c >>> 1;
    tables[0][n] = c >>> 0;
  }
  for (let t = 1; t < 8; t++) {
    for (let n = 0; n < 256; n++) tables[t][n] = (tables[t - 1][n] >>> 8) ^ tables[0][tables[t - 1][n] & 0xff];
  }
  return tables;
})();

/** CRC-32C, one bit at a time: the definition. */
export function crc32cBitwise(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (const byte of bytes) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ CRC_POLY : c >>> 1;
  }
  return ~c >>> 0;
}

/** CRC-32C, slicing-by-8 in plain JS: the fair JS baseline for the benchmarks. */
export function crc32cReference(bytes: Uint8Array, crc = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC_TABLES;
  let c = ~crc >>> 0;
  let i = 0;
  const end8 = bytes.length - (bytes.length % 8);
  for (; i < end8; i += 8) {
    const lo = c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    c =
      t7[lo & 0xff] ^
      t6[(lo >>> 8) & 0xff] ^
      t5[(lo >>> 16) & 0xff] ^
      t4[lo >>> 24] ^
      t3[bytes[i + 4]] ^
      t2[bytes[i + 5]] ^
      t1[bytes[i + 6]] ^
      t0[bytes[i + 7]];
  }
  for (; i < bytes.length; i++) c = t0[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const M64 = (1n << 64n) - 1n;
const P1 = 11400714785074694791n;
const P2 = 14029467366897019727n;
const P3 = 1609587929392839161n;
const P4 = 9650029242287828579n;
const P5 = 2870177450012600261n;

const rotl64 = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & M64;
const mul64 = (a: bigint, b: bigint): bigint => (a * b) & M64;
const add64 = (a: bigint, b: bigint): bigint => (a + b) & M64;
const xxRound = (acc: bigint, input: bigint): bigint => mul64(rotl64(add64(acc, mul64(input, P2)), 31n), P1);
const xxMerge = (acc: bigint, val: bigint): bigint => add64(mul64(acc ^ xxRound(0n, val), P1), P4);

function readU64(bytes: Uint8Array, at: number): bigint {
  let v = 0n;
  for (let k = 7; k >= 0; k--) v = (v << 8n) | BigInt(bytes[at + k]);
  return v;
}

function readU32(bytes: Uint8Array, at: number): bigint {
  return BigInt((bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0);
}

/** xxHash64, straight from the specification. */
export function xxh64Reference(bytes: Uint8Array, seed = 0n): bigint {
  seed &= M64;
  const len = bytes.length;
  let i = 0;
  let h: bigint;
  if (len >= 32) {
    let v1 = add64(add64(seed, P1), P2);
    let v2 = add64(seed, P2);
    let v3 = seed;
    let v4 = (seed - P1) & M64;
    for (; i + 32 <= len; i += 32) {
      v1 = xxRound(v1, readU64(bytes, i));
      v2 = xxRound(v2, readU64(bytes, i + 8));
      v3 = xxRound(v3, readU64(bytes, i + 16));
      v4 = xxRound(v4, readU64(bytes, i + 24));
    }
    h = add64(add64(rotl64(v1, 1n), rotl64(v2, 7n)), add64(rotl64(v3, 12n), rotl64(v4, 18n)));
    h = xxMerge(xxMerge(xxMerge(xxMerge(h, v1), v2), v3), v4);
  } else {
    h = add64(seed, P5);
  }
  h = add64(h, BigInt(len));
  for (; i + 8 <= len; i += 8) h = add64(mul64(rotl64(h ^ xxRound(0n, readU64(bytes, i)), 27n), P1), P4);
  if (i + 4 <= len) {
    h = add64(mul64(rotl64(h ^ mul64(readU32(bytes, i), P1), 23n), P2), P3);
    i += 4;
  }
  for (; i < len; i++) h = mul64(rotl64(h ^ mul64(BigInt(bytes[i]), P5), 11n), P1);
  h = mul64(h ^ (h >> 33n), P2);
  h = mul64(h ^ (h >> 29n), P3);
  return h ^ (h >> 32n);
}

/** Jump consistent hash, as printed in Lamping and Veach (2014). */
export function jumpHashReference(key: bigint, buckets: number): number {
  let k = key & M64;
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    k = add64(mul64(k, 2862933555777941757n), 1n);
    j = Math.floor((b + 1) * (2 ** 31 / Number((k >> 33n) + 1n)));
  }
  return b;
}

// Record framing (layout: assembly/record.ts).
const HEADER = 32;

export interface ReferenceRecord {
  readonly type: number;
  readonly term: number;
  readonly index: number;
  readonly payload: Uint8Array;
}

export function encodeRecordsReference(records: readonly ReferenceRecord[]): Uint8Array {
  const total = records.reduce((sum, r) => sum + HEADER + r.payload.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const r of records) {
    view.setUint32(at, r.payload.length, true);
    view.setUint8(at + 4, r.type);
    view.setBigUint64(at + 8, BigInt(r.term), true);
    view.setBigUint64(at + 16, BigInt(r.index), true);
    out.set(r.payload, at + HEADER);
    const crc = crc32cBitwise(r.payload, crc32cBitwise(out.subarray(at, at + 24)));
    view.setUint32(at + 24, crc, true);
    view.setUint32(at + 28, crc32cBitwise(out.subarray(at, at + 28)), true);
    at += HEADER + r.payload.length;
  }
  return out;
}

const isZero = (bytes: Uint8Array): boolean => bytes.every((b) => b === 0);

function headerOk(bytes: Uint8Array, at: number, maxPayloadBytes: number): boolean {
  if (bytes.length - at < HEADER) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, HEADER);
  return (
    view.getUint32(28, true) === crc32cBitwise(bytes.subarray(at, at + 28)) &&
    view.getUint8(4) !== 0 &&
    view.getUint8(5) === 0 &&
    view.getUint16(6, true) === 0 &&
    view.getUint32(0, true) <= maxPayloadBytes
  );
}

function wholeRecordSize(bytes: Uint8Array, at: number, maxPayloadBytes: number): number {
  if (!headerOk(bytes, at, maxPayloadBytes)) return 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, HEADER);
  const size = HEADER + view.getUint32(0, true);
  if (at + size > bytes.length) return 0;
  const crc = crc32cBitwise(bytes.subarray(at + HEADER, at + size), crc32cBitwise(bytes.subarray(at, at + 24)));
  return crc === view.getUint32(24, true) ? size : 0;
}

export function scanRecordsReference(bytes: Uint8Array, maxPayloadBytes: number): ScanResult {
  let at = 0;
  let count = 0;
  while (at < bytes.length) {
    const size = wholeRecordSize(bytes, at, maxPayloadBytes);
    if (size > 0) {
      at += size;
      count++;
      continue;
    }
    if (isZero(bytes.subarray(at))) break;
    const from = headerOk(bytes, at, maxPayloadBytes)
      ? at + HEADER + new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0, true)
      : at + 1;
    let corrupt = false;
    for (let p = from; p + HEADER <= bytes.length && !corrupt; p++) corrupt = wholeRecordSize(bytes, p, maxPayloadBytes) > 0;
    return { count, validBytes: at, status: corrupt ? 'corrupt' : 'torn' };
  }
  return { count, validBytes: at, status: 'clean' };
}

// Weighted rendezvous (see assembly/ring.ts); same arithmetic, so same scores to the bit.
function fmix64(k: bigint): bigint {
  k ^= k >> 33n;
  k = mul64(k, 0xff51afd7ed558ccdn);
  k ^= k >> 33n;
  k = mul64(k, 0xc4ceb9fe1a85ec53n);
  return k ^ (k >> 33n);
}

export function negLogUnitReference(h: bigint): number {
  const y = ((h >> 12n) << 1n) | 1n;
  const bits = y.toString(2).length;
  let m = Number(y) * 2 ** (1 - bits);
  let e = bits - 54;
  if (m > 1.4142135623730951) {
    m *= 0.5;
    e += 1;
  }
  const s = (m - 1.0) / (m + 1.0);
  const z = s * s;
  const series = 1.0 + z * (1.0 / 3.0 + z * (1.0 / 5.0 + z * (1.0 / 7.0 + z * (1.0 / 9.0 + z * (1.0 / 11.0 + z * (1.0 / 13.0 + z * (1.0 / 15.0)))))));
  return -(e * 0.6931471805599453 + 2.0 * s * series);
}

const utf8 = new TextEncoder();

function rankMembers(members: readonly RingMember[], key: string): { name: string; score: number; hash: bigint }[] {
  const keyHash = xxh64Reference(utf8.encode(key));
  return members
    .filter((m) => m.weight > 0)
    .map((m) => {
      const hash = xxh64Reference(utf8.encode(m.name));
      return { name: m.name, hash, score: negLogUnitReference(fmix64(keyHash ^ hash)) * (1 / m.weight) };
    })
    .sort((a, b) => a.score - b.score || (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
}

export function ringPickReference(members: readonly RingMember[], key: string): string | undefined {
  return rankMembers(members, key)[0]?.name;
}

export function ringPickNReference(members: readonly RingMember[], key: string, n: number): string[] {
  return rankMembers(members, key)
    .slice(0, n)
    .map((m) => m.name);
}
