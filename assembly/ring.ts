// A weighted rendezvous (highest random weight) ring.
//
// Why rendezvous and not a virtual-node ring: a member's share of keys is exactly
// proportional to its weight, and a join or leave moves exactly the keys that the
// member gains or loses (no vnode variance, no memory per vnode), and pickN gives
// N distinct members for free. The price is O(members) per lookup; a cheap lower
// bound lets most members skip the logarithm (about 4 ns a member measured here),
// so the tens to hundreds of instances behind one service name cost well under 1 us.
//
// Members are 16 bytes each at `members`: u64 name hash, f64 inverse weight (a
// negative inverse weight marks a member of weight 0 that is never picked).
// Score = -ln(u) / weight with u uniform in (0, 1) from hash(key, member); the
// lowest score wins (Efraimidis-Spirakis weighted sampling). ln is computed with
// IEEE +, -, *, / only, so the TypeScript reference gives bit-identical scores.
import { xxh64 } from './xxhash64';

export const RING_MEMBER_BYTES: usize = 16;

// @ts-ignore: decorator
@inline function fmix64(k: u64): u64 {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccd;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53;
  k ^= k >> 33;
  return k;
}

/** -ln(u) for u = (2 * (h >> 12) + 1) / 2^53, in (0, 1). Exported for the tests. */
export function negLogUnit(h: u64): f64 {
  return negLogUnitOf(unitOf(h));
}

// @ts-ignore: decorator
@inline function unitOf(h: u64): u64 {
  return ((h >> 12) << 1) | 1; // odd, < 2^53: u = y / 2^53 is never 0 or 1
}

// @ts-ignore: decorator
@inline function negLogUnitOf(y: u64): f64 {
  const bits: i32 = 64 - <i32>clz<u64>(y);
  // u = m * 2^e with m in [sqrt(1/2), sqrt(2)), so that ln(m) needs few terms and
  // u close to 1 keeps its precision (no cancellation between e*ln2 and ln m).
  // y < 2^53, so the signed conversion is exact (and cheaper than the unsigned one).
  const m0 = <f64><i64>y * reinterpret<f64>(<u64>(1023 + 1 - bits) << 52);
  // Branch-free: the comparison is a coin flip per member.
  const high = m0 > 1.4142135623730951;
  const m = select<f64>(m0 * 0.5, m0, high);
  const e: i32 = bits - 54 + <i32>high;
  const s = (m - 1.0) / (m + 1.0);
  const z = s * s;
  const series = 1.0 + z * (1.0 / 3.0 + z * (1.0 / 5.0 + z * (1.0 / 7.0 + z * (1.0 / 9.0 + z * (1.0 / 11.0 + z * (1.0 / 13.0 + z * (1.0 / 15.0)))))));
  return -(<f64>e * 0.6931471805599453 + 2.0 * s * series);
}

// Slack on the pruning bound, far above the rounding error of the bound itself.
const PRUNE_SLACK: f64 = 1.0 + 1e-9;

/**
 * The member's score for the key, or Infinity when it has weight 0 or cannot score
 * below `bound`. Pruning uses -ln(u) > 1 - u: most members lose on that cheap bound
 * and never pay for the logarithm, and a pruned member could not have been picked,
 * so picks are exactly those of the full computation.
 */
// @ts-ignore: decorator
@inline function score(keyHash: u64, members: usize, i: u32, bound: f64): f64 {
  const entry = members + <usize>i * RING_MEMBER_BYTES;
  const inverseWeight = load<f64>(entry, 8);
  if (inverseWeight < 0) return Infinity;
  const y = unitOf(fmix64(keyHash ^ load<u64>(entry)));
  const lower = (1.0 - <f64><i64>y * 1.1102230246251565e-16) * inverseWeight; // y * 2^-53
  if (lower > bound * PRUNE_SLACK) return Infinity;
  return negLogUnitOf(y) * inverseWeight;
}

// @ts-ignore: decorator
@inline function before(scoreA: f64, hashA: u64, scoreB: f64, hashB: u64): bool {
  return scoreA < scoreB || (scoreA == scoreB && hashA < hashB);
}

/** Index of the member that owns the key hash, or -1 when no member has a weight above 0. */
export function ringPickHash(members: usize, count: u32, keyHash: u64): i32 {
  let best: i32 = -1;
  let bestScore: f64 = Infinity;
  let bestHash: u64 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const s = score(keyHash, members, i, bestScore);
    if (s == Infinity) continue;
    const h = load<u64>(members + <usize>i * RING_MEMBER_BYTES);
    if (best < 0 || before(s, h, bestScore, bestHash)) {
      best = <i32>i;
      bestScore = s;
      bestHash = h;
    }
  }
  return best;
}

/** As ringPickHash, hashing the key bytes at `keyPtr` with xxHash64 (seed 0) first. */
export function ringPick(members: usize, count: u32, keyPtr: usize, keyLen: usize): i32 {
  return ringPickHash(members, count, xxh64(keyPtr, keyLen, 0));
}

/**
 * The `n` best distinct members for the key hash, best first, as u32 indices at `out`
 * (with their scores as f64 at `scores`, scratch for n entries). Returns how many were found.
 */
export function ringPickNHash(members: usize, count: u32, keyHash: u64, n: u32, out: usize, scores: usize): u32 {
  let found: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const bound = found < n ? Infinity : load<f64>(scores + <usize>(n - 1) * 8);
    const s = score(keyHash, members, i, bound);
    if (s == Infinity) continue;
    const h = load<u64>(members + <usize>i * RING_MEMBER_BYTES);
    // Insertion into the sorted top-n list; n is small (bounded by the host).
    let at = found;
    while (at > 0) {
      const prev = load<u32>(out + <usize>(at - 1) * 4);
      const prevScore = load<f64>(scores + <usize>(at - 1) * 8);
      const prevHash = load<u64>(members + <usize>prev * RING_MEMBER_BYTES);
      if (!before(s, h, prevScore, prevHash)) break;
      at--;
    }
    if (at >= n) continue;
    const last = found < n ? found : n - 1;
    for (let k = last; k > at; k--) {
      store<u32>(out + <usize>k * 4, load<u32>(out + <usize>(k - 1) * 4));
      store<f64>(scores + <usize>k * 8, load<f64>(scores + <usize>(k - 1) * 8));
    }
    store<u32>(out + <usize>at * 4, i);
    store<f64>(scores + <usize>at * 8, s);
    if (found < n) found++;
  }
  return found;
}

export function ringPickN(members: usize, count: u32, keyPtr: usize, keyLen: usize, n: u32, out: usize, scores: usize): u32 {
  return ringPickNHash(members, count, xxh64(keyPtr, keyLen, 0), n, out, scores);
}
