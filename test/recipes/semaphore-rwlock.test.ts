// The semaphore and the read/write lock against a real server.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ReadWriteLock, Semaphore, type ZookClient } from '../../src/index.js';
import { nextCall, startTestServer, waitForChildren, type TestServer } from './support.js';

describe('Semaphore and ReadWriteLock', () => {
  let t: TestServer;
  let zk: ZookClient;
  beforeAll(async () => {
    t = await startTestServer();
    zk = await t.connect();
  });
  afterAll(async () => t.stop());

  test('a semaphore of 3 leases never has more than 3 holders among 8 contending clients', async () => {
    const clients = await Promise.all(Array.from({ length: 8 }, () => t.connect()));
    let holders = 0;
    let maxHolders = 0;
    await Promise.all(
      clients.map(async (c) => {
        const semaphore = new Semaphore(c, '/sem', 3);
        for (let i = 0; i < 8; i++) {
          const lease = await semaphore.acquire();
          expect(lease).not.toBeNull();
          holders++;
          maxHolders = Math.max(maxHolders, holders);
          for (let k = 0; k < 3; k++) await c.getData('/'); // hold across a few round trips
          holders--;
          await lease!.release();
        }
      }),
    );
    expect(maxHolders).toBeGreaterThanOrEqual(1);
    expect(maxHolders).toBeLessThanOrEqual(3);
  });

  test('a semaphore of 3 leases grants three at once; a fourth waits until one is released', async () => {
    const clients = await Promise.all(Array.from({ length: 4 }, () => t.connect()));
    const leases = await Promise.all(clients.slice(0, 3).map((c) => new Semaphore(c, '/sem-three', 3).acquire({ timeoutMs: 5000 })));
    expect(leases.every((l) => l?.isHeld() === true)).toBe(true);
    const fourth = new Semaphore(clients[3], '/sem-three', 3);
    expect(await fourth.acquire({ timeoutMs: 150 })).toBeNull();
    const waiting = fourth.acquire({ timeoutMs: 10_000 });
    await leases[1]!.release();
    const lease = await waiting;
    expect(lease?.isHeld()).toBe(true);
    expect(await zk.getChildren('/sem-three/leases')).toHaveLength(3);
    await Promise.all([leases[0]!.release(), leases[2]!.release(), lease!.release()]);
  });

  test('a semaphore acquire times out (null) while all leases are held', async () => {
    const semaphore = new Semaphore(zk, '/sem-full', 1);
    const lease = await semaphore.acquire();
    expect(await new Semaphore(await t.connect(), '/sem-full', 1).acquire({ timeoutMs: 150 })).toBeNull();
    await lease!.release();
    const again = await new Semaphore(await t.connect(), '/sem-full', 1).acquire({ timeoutMs: 5000 });
    expect(again?.isHeld()).toBe(true);
    await again!.release();
  });

  test('a lease holder that is cut off is suspended at once; its lease passes on only after its session expired', async () => {
    const { zk: victim, proxy } = await t.connectCuttable();
    const lease = await new Semaphore(victim, '/sem-cut', 1).acquire();
    const suspended = nextCall<[]>();
    const lost = nextCall<[string]>();
    lease!.on('suspended', suspended.listener);
    lease!.on('lost', lost.listener);
    const next = new Semaphore(await t.connect(), '/sem-cut', 1).acquire();
    proxy.cutLinks();
    await suspended.called;
    expect(lease!.isHeld()).toBe(false);
    const taken = await next;
    expect(taken?.isHeld()).toBe(true);
    proxy.heal();
    expect(await lost.called).toEqual(['expired']);
    await taken!.release();
  });

  test('two writers never hold the write lock together', async () => {
    const clients = await Promise.all(Array.from({ length: 4 }, () => t.connect()));
    let writers = 0;
    let maxWriters = 0;
    await Promise.all(
      clients.map(async (c) => {
        const lock = new ReadWriteLock(c, '/rw-writers').writeLock;
        for (let i = 0; i < 10; i++) {
          await lock.acquire();
          maxWriters = Math.max(maxWriters, ++writers);
          await c.getData('/');
          writers--;
          await lock.release();
        }
      }),
    );
    expect(maxWriters).toBe(1);
  });

  test('readers share the lock; a writer waits for them and excludes later readers until it is done', async () => {
    const [r1, r2, w, r3] = await Promise.all(Array.from({ length: 4 }, () => t.connect()));
    const reader1 = new ReadWriteLock(r1, '/rw').readLock;
    const reader2 = new ReadWriteLock(r2, '/rw').readLock;
    expect(await reader1.acquire({ timeoutMs: 5000 })).toBe(true);
    expect(await reader2.acquire({ timeoutMs: 5000 })).toBe(true);

    const writer = new ReadWriteLock(w, '/rw').writeLock;
    const events: string[] = [];
    const writing = writer.acquire().then(() => events.push('writer'));
    await waitForChildren(zk, '/rw', (c) => c.length === 3);
    // A reader queued behind the writer must wait for it.
    const reader3 = new ReadWriteLock(r3, '/rw').readLock;
    const reading = reader3.acquire().then(() => events.push('reader3'));
    await waitForChildren(zk, '/rw', (c) => c.length === 4);
    await reader1.release();
    expect(events).toEqual([]);
    await reader2.release();
    await writing;
    expect(events).toEqual(['writer']);
    await writer.release();
    await reading;
    expect(events).toEqual(['writer', 'reader3']);
    await reader3.release();
  });
});
