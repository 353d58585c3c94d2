// xxHash64 (Yann Collet), matching the reference implementation's test vectors.
// Exposed both one-shot and as stripes + finish so the host can hash inputs larger
// than its scratch buffer in bounded chunks (each chunk a multiple of 32 bytes).

const P1: u64 = 11400714785074694791;
const P2: u64 = 14029467366897019727;
const P3: u64 = 1609587929392839161;
const P4: u64 = 9650029242287828579;
const P5: u64 = 2870177450012600261;

// @ts-ignore: decorator
@inline function round(acc: u64, input: u64): u64 {
  return rotl<u64>(acc + input * P2, 31) * P1;
}

// @ts-ignore: decorator
@inline function mergeRound(acc: u64, val: u64): u64 {
  return (acc ^ round(0, val)) * P1 + P4;
}

/** Starts a streaming hash: the four lane accumulators live at `state` (32 bytes). */
export function xxh64Init(state: usize, seed: u64): void {
  store<u64>(state, seed + P1 + P2);
  store<u64>(state, seed + P2, 8);
  store<u64>(state, seed, 16);
  store<u64>(state, seed - P1, 24);
}

/** Consumes `len` bytes (a multiple of 32) at `ptr` into the lanes at `state`. */
export function xxh64Stripes(state: usize, ptr: usize, len: usize): void {
  let v1 = load<u64>(state);
  let v2 = load<u64>(state, 8);
  let v3 = load<u64>(state, 16);
  let v4 = load<u64>(state, 24);
  const end = ptr + len;
  while (ptr < end) {
    v1 = round(v1, load<u64>(ptr));
    v2 = round(v2, load<u64>(ptr, 8));
    v3 = round(v3, load<u64>(ptr, 16));
    v4 = round(v4, load<u64>(ptr, 24));
    ptr += 32;
  }
  store<u64>(state, v1);
  store<u64>(state, v2, 8);
  store<u64>(state, v3, 16);
  store<u64>(state, v4, 24);
}

/** Finishes a streaming hash: `tail` holds the last `tailLen` (< 32) bytes of `totalLen`. */
export function xxh64Finish(state: usize, seed: u64, ptr: usize, tailLen: usize, totalLen: u64): u64 {
  let h: u64;
  if (totalLen >= 32) {
    const v1 = load<u64>(state);
    const v2 = load<u64>(state, 8);
    const v3 = load<u64>(state, 16);
    const v4 = load<u64>(state, 24);
    h = rotl<u64>(v1, 1) + rotl<u64>(v2, 7) + rotl<u64>(v3, 12) + rotl<u64>(v4, 18);
    h = mergeRound(h, v1);
    h = mergeRound(h, v2);
    h = mergeRound(h, v3);
    h = mergeRound(h, v4);
  } else {
    h = seed + P5;
  }
  h += totalLen;
  const end = ptr + tailLen;
  while (ptr + 8 <= end) {
    h ^= round(0, load<u64>(ptr));
    h = rotl<u64>(h, 27) * P1 + P4;
    ptr += 8;
  }
  if (ptr + 4 <= end) {
    h ^= <u64>load<u32>(ptr) * P1;
    h = rotl<u64>(h, 23) * P2 + P3;
    ptr += 4;
  }
  while (ptr < end) {
    h ^= <u64>load<u8>(ptr) * P5;
    h = rotl<u64>(h, 11) * P1;
    ptr++;
  }
  return avalanche(h);
}

// @ts-ignore: decorator
@inline function avalanche(h: u64): u64 {
  h ^= h >> 33;
  h *= P2;
  h ^= h >> 29;
  h *= P3;
  h ^= h >> 32;
  return h;
}

const ONE_SHOT_STATE: usize = memory.data(32, 16);

/** xxHash64 of `len` bytes at `ptr`. */
export function xxh64(ptr: usize, len: usize, seed: u64): u64 {
  const stripeBytes = len & ~(<usize>31);
  xxh64Init(ONE_SHOT_STATE, seed);
  xxh64Stripes(ONE_SHOT_STATE, ptr, stripeBytes);
  return xxh64Finish(ONE_SHOT_STATE, seed, ptr + stripeBytes, len - stripeBytes, <u64>len);
}
