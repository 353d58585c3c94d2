import { describe, expect, it } from 'vitest';
import { type CheckOp, checkRegister } from './checker-linearizable.js';

let id = 0;
const put = (value: number, invoke: number, complete: number | null): CheckOp => ({ id: ++id, kind: 'put', value, invoke, complete });
const get = (value: number, invoke: number, complete: number): CheckOp => ({ id: ++id, kind: 'get', value, invoke, complete });

describe('linearizability checker', () => {
  it('accepts a sequential history', () => {
    expect(checkRegister([put(1, 1, 2), get(1, 3, 4), put(2, 5, 6), get(2, 7, 8)]).ok).toBe(true);
  });

  it('accepts concurrent operations that can be ordered', () => {
    // the read overlaps the write, so it may see either value
    expect(checkRegister([put(1, 1, 4), get(1, 2, 3)]).ok).toBe(true);
    expect(checkRegister([put(1, 1, 4), get(0, 2, 3)]).ok).toBe(true);
  });

  it('rejects a stale read after a completed write', () => {
    const r = checkRegister([put(1, 1, 2), put(2, 3, 4), get(1, 5, 6)]);
    expect(r.ok).toBe(false);
  });

  it('rejects two reads that see values in an order no linearization allows', () => {
    // put 1 and put 2 are concurrent; one reader sees 2 then the other (later) sees 1, then 2 again
    const r = checkRegister([put(1, 1, 10), put(2, 1, 10), get(2, 2, 3), get(1, 4, 5), get(2, 6, 7)]);
    expect(r.ok).toBe(false);
  });

  it('lets a write with an unknown outcome take effect late or never', () => {
    expect(checkRegister([put(1, 1, null), get(0, 2, 3), get(1, 10, 11)]).ok).toBe(true);
    expect(checkRegister([put(1, 1, null), get(0, 2, 3), get(0, 10, 11)]).ok).toBe(true);
  });

  it('does not let a write with an unknown outcome take effect before it was invoked', () => {
    expect(checkRegister([get(5, 1, 2), put(5, 3, null)]).ok).toBe(false);
  });

  it('checks a long history quickly thanks to memoization', () => {
    const ops: CheckOp[] = [];
    let t = 0;
    for (let i = 1; i <= 300; i++) {
      const start = t;
      ops.push(put(i, start, start + 5));
      ops.push(get(i - 1, start + 1, start + 3));
      t += 4;
    }
    const r = checkRegister(ops);
    expect(r.ok).toBe(true);
    expect(r.explored).toBeLessThan(200_000);
  });
});
