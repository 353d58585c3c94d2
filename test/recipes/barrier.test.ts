// Barriers against a real server: a barrier releases all its waiters together; a
// double barrier lets nobody in before N are present and nobody out before all left.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Barrier, DoubleBarrier, type ZookClient } from '../../src/index.js';
import { startTestServer, waitForChildren, type TestServer } from './support.js';

describe('Barrier and DoubleBarrier', () => {
  let t: TestServer;
  let zk: ZookClient;
  beforeAll(async () => {
    t = await startTestServer();
    zk = await t.connect();
  });
  afterAll(async () => t.stop());

  test('waiters block while the barrier is set and are all released when it is removed', async () => {
    const barrier = new Barrier(zk, '/gates/b1');
    await barrier.setBarrier();
    let removed = false;
    const released: boolean[] = [];
    const waiters = await Promise.all(Array.from({ length: 5 }, () => t.connect()));
    const waits = waiters.map((c) =>
      new Barrier(c, '/gates/b1').waitOnBarrier().then((ok) => {
        released.push(removed);
        return ok;
      }),
    );
    // Every waiter has its watch set once it has checked; a short timeout proves they block.
    expect(await new Barrier(waiters[0], '/gates/b1').waitOnBarrier({ timeoutMs: 100 })).toBe(false);
    removed = true;
    await barrier.removeBarrier();
    expect(await Promise.all(waits)).toEqual([true, true, true, true, true]);
    expect(released).toEqual([true, true, true, true, true]);
  });

  test('waitOnBarrier returns at once when no barrier is set', async () => {
    expect(await new Barrier(zk, '/gates/none').waitOnBarrier({ timeoutMs: 1000 })).toBe(true);
  });

  test('a double barrier lets all N enter together only once the N-th arrives, and all leave once all left', async () => {
    const n = 5;
    const clients = await Promise.all(Array.from({ length: n }, () => t.connect()));
    const barriers = clients.map((c, i) => new DoubleBarrier(c, '/double', n, { id: `p${i}` }));
    const entered: number[] = [];
    let lastArrived = false;
    const enters = barriers.slice(0, n - 1).map((b, i) =>
      b.enter().then((ok) => {
        expect(lastArrived).toBe(true);
        entered.push(i);
        return ok;
      }),
    );
    await waitForChildren(zk, '/double', (c) => c.length === n - 1);
    expect(entered).toEqual([]);
    lastArrived = true;
    expect(await barriers[n - 1].enter()).toBe(true);
    expect(await Promise.all(enters)).toEqual([true, true, true, true]);

    let lastLeft = false;
    const leaves = barriers.slice(0, n - 1).map((b) =>
      b.leave().then((ok) => {
        expect(lastLeft).toBe(true);
        return ok;
      }),
    );
    // p1..p3 are out; p0 (the lowest) stays until the highest, p4, leaves.
    await waitForChildren(zk, '/double', (c) => c.filter((x) => x !== 'ready').sort().join() === 'p0,p4');
    lastLeft = true;
    expect(await barriers[n - 1].leave()).toBe(true);
    expect(await Promise.all(leaves)).toEqual([true, true, true, true]);
    expect(await zk.getChildren('/double')).toEqual([]); // 'ready' removed: ready for another round
  });

  test('enter with a timeout resolves false when too few arrive, and removes its node', async () => {
    const barrier = new DoubleBarrier(zk, '/double-short', 3, { id: 'alone' });
    expect(await barrier.enter({ timeoutMs: 150 })).toBe(false);
    expect(await zk.getChildren('/double-short')).toEqual([]);
  });
});
