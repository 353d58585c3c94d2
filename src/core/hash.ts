import { SCRATCH_BYTES, allocCore, copyToScratch, core, inCoreMemory } from './wasm.js';

const U64_MASK = (1n << 64n) - 1n;
const stateBlock: number = allocCore(32);

/** xxHash64 of `bytes` with `seed`, as an unsigned 64-bit bigint. */
export function hash64(bytes: Uint8Array, seed = 0n): bigint {
  if (inCoreMemory(bytes)) return core.xxh64(bytes.byteOffset, bytes.length, seed) & U64_MASK;
  if (bytes.length <= SCRATCH_BYTES) {
    return core.xxh64(copyToScratch(bytes, 0, bytes.length), bytes.length, seed) & U64_MASK;
  }
  // Larger than the scratch block: stream it through in chunks. SCRATCH_BYTES is a
  // multiple of the 32-byte stripe, so only the last chunk has a tail.
  core.xxh64Init(stateBlock, seed);
  let start = 0;
  for (; bytes.length - start > SCRATCH_BYTES; start += SCRATCH_BYTES) {
    core.xxh64Stripes(stateBlock, copyToScratch(bytes, start, SCRATCH_BYTES), SCRATCH_BYTES);
  }
  const rest = bytes.length - start;
  const stripeBytes = rest & ~31;
  const ptr = copyToScratch(bytes, start, rest);
  core.xxh64Stripes(stateBlock, ptr, stripeBytes);
  return core.xxh64Finish(stateBlock, seed, ptr + stripeBytes, rest - stripeBytes, BigInt(bytes.length)) & U64_MASK;
}

const MAX_BUCKETS = 0x7fffffff;

/** Jump consistent hash: the bucket in [0, buckets) for a 64-bit key. */
export function jumpHash(key: bigint, buckets: number): number {
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > MAX_BUCKETS) {
    throw new RangeError(`jumpHash: buckets must be an integer in [1, ${MAX_BUCKETS}], got ${buckets}`);
  }
  return core.jumpHash(key, buckets);
}
