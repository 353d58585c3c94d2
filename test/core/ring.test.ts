import { describe, expect, test } from 'vitest';
import { MAX_PICK_N, MemberRing } from '../../src/core/index.js';
import { negLogUnitReference, ringPickNReference, ringPickReference } from '../../src/core/reference.js';
import { core } from '../../src/core/wasm.js';
import { seeded } from '../support/seeded.js';

const KEYS = Array.from({ length: 100_000 }, (_, i) => `key-${i}`);

function ringOf(names: string[], weight = 1): MemberRing {
  const ring = new MemberRing();
  for (const name of names) ring.set(name, weight);
  return ring;
}

function owners(ring: MemberRing): string[] {
  return KEYS.map((k) => ring.pick(k)!);
}

function shares(owned: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of owned) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}

const names = (n: number, prefix = 'node'): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('MemberRing (weighted rendezvous)', () => {
  test('the -ln(u) arithmetic is bit-identical in WASM and in the TS reference', () => {
    seeded(50, (rng) => {
      for (let i = 0; i < 20_000; i++) {
        const h = i < 4 ? [0n, (1n << 64n) - 1n, 1n << 12n, 0xfffn][i] : rng.uint64();
        expect(core.negLogUnit(h)).toBe(negLogUnitReference(h));
      }
    });
  });

  test('-ln(u) is accurate to 1e-12 relative', () => {
    seeded(51, (rng) => {
      for (let i = 0; i < 5000; i++) {
        const h = rng.uint64();
        const u = (2 * Number(h >> 12n) + 1) / 2 ** 53;
        const exact = -Math.log(u);
        expect(Math.abs(core.negLogUnit(h) - exact) / exact).toBeLessThan(1e-12);
      }
    });
  });

  test('pick and pickN equal the reference on random memberships and weights', () => {
    seeded(52, (rng) => {
      for (let round = 0; round < 30; round++) {
        const ring = new MemberRing();
        const members = names(rng.between(1, 40), `m${round}`).map((name) => ({ name, weight: rng.int(5) === 0 ? 0 : rng.between(1, 10) / 2 }));
        for (const m of members) ring.set(m.name, m.weight);
        for (let i = 0; i < 200; i++) {
          const key = `k${rng.nextUint32()}`;
          expect(ring.pick(key)).toBe(ringPickReference(members, key));
          const n = rng.between(1, 8);
          expect(ring.pickN(key, n)).toEqual(ringPickNReference(members, key, n));
        }
        ring.dispose();
      }
    });
  });

  test('skipping the logarithm for hopeless members never changes a pick (large rings, wide weights)', () => {
    seeded(53, (rng) => {
      const ring = new MemberRing();
      const members = names(300, 'wide').map((name) => ({ name, weight: 10 ** (rng.next() * 4 - 2) }));
      for (const m of members) ring.set(m.name, m.weight);
      for (let i = 0; i < 300; i++) {
        const key = `k${rng.nextUint32()}`;
        expect(ring.pick(key)).toBe(ringPickReference(members, key));
        expect(ring.pickN(key, 4)).toEqual(ringPickNReference(members, key, 4));
      }
      ring.dispose();
    });
  });

  test('spreads keys evenly over equal members', () => {
    const ring = ringOf(names(10));
    for (const count of shares(owners(ring)).values()) expect(Math.abs(count / KEYS.length - 0.1)).toBeLessThan(0.006);
    ring.dispose();
  });

  test('a join moves about 1/N of keys, all of them to the new member', () => {
    const ring = ringOf(names(9));
    const before = owners(ring);
    ring.set('node-new');
    const after = owners(ring);
    let moved = 0;
    for (let i = 0; i < KEYS.length; i++) {
      if (before[i] !== after[i]) {
        expect(after[i]).toBe('node-new');
        moved++;
      }
    }
    expect(Math.abs(moved / KEYS.length - 1 / 10)).toBeLessThan(0.006);
    ring.dispose();
  });

  test('a leave moves only the keys of the member that left', () => {
    const ring = ringOf(names(10));
    const before = owners(ring);
    expect(ring.delete('node-3')).toBe(true);
    const after = owners(ring);
    for (let i = 0; i < KEYS.length; i++) {
      if (before[i] !== 'node-3') expect(after[i]).toBe(before[i]);
      else expect(after[i]).not.toBe('node-3');
    }
    ring.dispose();
  });

  test('respects weights: a member of weight 3 gets three times the keys', () => {
    const ring = ringOf(names(4));
    ring.set('heavy', 3);
    const counts = shares(owners(ring));
    // Total weight 7: heavy owns 3/7, each other node 1/7.
    expect(Math.abs(counts.get('heavy')! / KEYS.length - 3 / 7)).toBeLessThan(0.01);
    for (const name of names(4)) expect(Math.abs(counts.get(name)! / KEYS.length - 1 / 7)).toBeLessThan(0.01);
    ring.dispose();
  });

  test('a member of weight 0 is never picked, and an all-zero ring picks nothing', () => {
    const ring = ringOf(['a', 'b']);
    ring.set('b', 0);
    for (const key of KEYS.slice(0, 1000)) expect(ring.pick(key)).toBe('a');
    ring.set('a', 0);
    expect(ring.pick('x')).toBeUndefined();
    expect(ring.pickN('x', 3)).toEqual([]);
    ring.dispose();
  });

  test('pickN gives distinct members, best first, and the first is pick(key)', () => {
    const ring = ringOf(names(20));
    for (const key of KEYS.slice(0, 2000)) {
      const picked = ring.pickN(key, 5);
      expect(picked.length).toBe(5);
      expect(new Set(picked).size).toBe(5);
      expect(picked[0]).toBe(ring.pick(key));
    }
    expect(ring.pickN('k', 50).length).toBe(20);
    expect(() => ring.pickN('k', MAX_PICK_N + 1)).toThrow(RangeError);
    ring.dispose();
  });

  test('picks do not depend on the order members were added in', () => {
    const forward = ringOf(names(15));
    const backward = ringOf(names(15).reverse());
    for (const key of KEYS.slice(0, 5000)) expect(backward.pick(key)).toBe(forward.pick(key));
    forward.dispose();
    backward.dispose();
  });

  test('byte keys and their UTF-8 string give the same member', () => {
    const ring = ringOf(names(7));
    const encoder = new TextEncoder();
    for (const key of ['a', 'ключ', '鍵', 'emoji-🙂']) expect(ring.pick(encoder.encode(key))).toBe(ring.pick(key));
    ring.dispose();
  });

  test('enforces its member limit and rejects bad weights and oversized keys', () => {
    const ring = new MemberRing({ maxMembers: 2 });
    ring.set('a');
    ring.set('b');
    expect(() => ring.set('c')).toThrow(RangeError);
    ring.set('a', 2); // updating a member is not growth
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => ring.set('a', bad)).toThrow(RangeError);
    expect(() => ring.pick('x'.repeat(70_000))).toThrow(RangeError);
    expect(ring.members()).toEqual([
      { name: 'a', weight: 2 },
      { name: 'b', weight: 1 },
    ]);
    ring.dispose();
  });

  test('an empty ring picks nothing and delete of an unknown member is false', () => {
    const ring = new MemberRing();
    expect(ring.pick('x')).toBeUndefined();
    expect(ring.delete('nobody')).toBe(false);
    ring.dispose();
  });
});
