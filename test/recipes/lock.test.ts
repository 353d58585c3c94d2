// The fair lock against a real server: mutual exclusion under contention, through
// a holder's session expiry, timeouts, aborts, a short disconnect, FIFO order and
// Curator's protected create after a ConnectionLoss.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Lock, type ZookClient } from '../../src/index.js';
import { clientState, LONG, losingFirstReply, text, nextCall, startTestServer, waitForChildren, type TestServer } from './support.js';

describe('Lock', () => {
  let t: TestServer;
  let zk: ZookClient;
  beforeAll(async () => {
    t = await startTestServer();
    zk = await t.connect();
  });
  afterAll(async () => t.stop());

  test(`mutual exclusion holds for 16 contending clients over ${LONG ? 10_000 : 1_000} acquisitions`, { timeout: LONG ? 600_000 : 60_000 }, async () => {
    const total = LONG ? 10_000 : 1_000;
    const clients = await Promise.all(Array.from({ length: 16 }, () => t.connect()));
    await zk.create('/mutex-count', '0');
    let holders = 0;
    let maxHolders = 0;
    let done = 0;
    await Promise.all(
      clients.map(async (c) => {
        const lock = new Lock(c, '/mutex');
        while (done < total) {
          expect(await lock.acquire()).toBe(true);
          holders++;
          maxHolders = Math.max(maxHolders, holders);
          // An unguarded read-modify-write on the server: two holders at once would lose an increment.
          const { data } = await c.getData('/mutex-count');
          await c.setData('/mutex-count', String(Number(text(data)) + 1));
          done++;
          holders--;
          await lock.release();
        }
      }),
    );
    expect(maxHolders).toBe(1);
    expect(done).toBeGreaterThanOrEqual(total);
    expect(Number(text((await zk.getData('/mutex-count')).data))).toBe(done);
    expect(await zk.getChildren('/mutex')).toEqual([]);
  });

  test('when a holder is cut off, it is told "suspended" at once and the lock passes on only after its session expired', async () => {
    const { zk: victim, proxy } = await t.connectCuttable();
    const victimLock = new Lock(victim, '/cut');
    expect(await victimLock.acquire()).toBe(true);
    let victimBelievesHeld = true;
    const suspended = nextCall<[]>();
    const lost = nextCall<[string]>();
    victimLock.on('suspended', () => {
      victimBelievesHeld = false;
      suspended.listener();
    });
    victimLock.on('lost', lost.listener);
    const expired = clientState(victim, 'expired');

    const other = new Lock(await t.connect(), '/cut');
    const acquired = other.acquire().then((ok) => {
      // The independent check: the old holder must already have stepped down.
      expect(victimBelievesHeld).toBe(false);
      expect(victimLock.isHeld()).toBe(false);
      return ok;
    });
    proxy.cutLinks();
    await suspended.called;
    expect(victimLock.state).toBe('suspended');
    expect(await acquired).toBe(true);
    proxy.heal();
    await expired;
    expect(await lost.called).toEqual(['expired']);
    expect(victimLock.state).toBe('lost');
    await other.release();
  });

  test('mutual exclusion holds while holders are killed mid-run (their sessions expire and the lock passes on)', async () => {
    const steady = await Promise.all(Array.from({ length: 6 }, () => t.connect()));
    const victims = await Promise.all(Array.from({ length: 3 }, () => t.connectCuttable()));
    let holders = 0;
    let maxHolders = 0;
    let acquisitions = 0;
    let killed = 0;
    const target = 150;
    const run = async (c: ZookClient, cut?: () => void): Promise<void> => {
      const lock = new Lock(c, '/killed');
      let holding = false;
      lock.on('suspended', () => {
        if (holding) {
          holding = false;
          holders--;
        }
      });
      while (acquisitions < target) {
        try {
          if (!(await lock.acquire())) continue;
        } catch (error) {
          if (cut !== undefined) return; // a killed client's calls fail: it is out
          throw error;
        }
        holding = true;
        holders++;
        maxHolders = Math.max(maxHolders, holders);
        acquisitions++;
        // Each victim dies while holding, a third of the way in.
        if (cut !== undefined && acquisitions > killed * 40 + 20) {
          killed++;
          cut();
          return;
        }
        await new Promise<void>((r) => setImmediate(r));
        if (holding) {
          holding = false;
          holders--;
        }
        await lock.release();
      }
    };
    await Promise.all([...steady.map((c) => run(c)), ...victims.map((v) => run(v.zk, () => v.proxy.cutLinks()))]);
    expect(killed).toBe(3);
    expect(maxHolders).toBe(1);
    expect(acquisitions).toBeGreaterThanOrEqual(target);
  });

  test('acquire with timeoutMs resolves false when the lock stays taken, and leaves no node behind', async () => {
    const holder = new Lock(zk, '/timeout');
    expect(await holder.acquire()).toBe(true);
    const waiter = new Lock(await t.connect(), '/timeout');
    expect(await waiter.acquire({ timeoutMs: 150 })).toBe(false);
    expect(await zk.getChildren('/timeout')).toHaveLength(1);
    await holder.release();
    expect(await waiter.acquire({ timeoutMs: 5000 })).toBe(true);
    await waiter.release();
  });

  test('an aborted acquire rejects with the signal\'s reason and leaves no node behind', async () => {
    const holder = new Lock(zk, '/abort');
    await holder.acquire();
    const waiter = new Lock(await t.connect(), '/abort');
    const controller = new AbortController();
    const pending = waiter.acquire({ signal: controller.signal });
    // Abort once the waiter is queued (its node is visible).
    await waitForChildren(zk, '/abort', (c) => c.length === 2);
    controller.abort(new Error('give up'));
    await expect(pending).rejects.toThrow('give up');
    expect(await zk.getChildren('/abort')).toHaveLength(1);
    await holder.release();
  });

  test('waiters get the lock in the order they queued (fair)', async () => {
    const holder = new Lock(zk, '/fair');
    await holder.acquire();
    const order: number[] = [];
    const waiters = await Promise.all(Array.from({ length: 5 }, () => t.connect()));
    const runs: Promise<void>[] = [];
    for (let i = 0; i < waiters.length; i++) {
      const lock = new Lock(waiters[i], '/fair');
      runs.push(
        lock.acquire().then(async () => {
          order.push(i);
          await lock.release();
        }),
      );
      // Queue strictly one after another.
      await waitForChildren(zk, '/fair', (c) => c.length === i + 2);
    }
    await holder.release();
    await Promise.all(runs);
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });

  test('a holder whose link drops briefly is "suspended", then "reconnected" with the same session, still holding', async () => {
    const { zk: c, proxy } = await t.connectCuttable({ sessionTimeoutMs: 2000 });
    const lock = new Lock(c, '/brief');
    await lock.acquire();
    const suspended = nextCall<[]>();
    const reconnected = nextCall<[]>();
    lock.on('suspended', suspended.listener);
    lock.on('reconnected', reconnected.listener);
    const session = c.sessionId;
    proxy.cutLinks();
    await suspended.called;
    expect(lock.isHeld()).toBe(false);
    proxy.heal();
    await reconnected.called;
    expect(c.sessionId).toBe(session);
    expect(lock.isHeld()).toBe(true);
    expect(await zk.getChildren('/brief')).toHaveLength(1);
    await lock.release();
    expect(await zk.getChildren('/brief')).toHaveLength(0);
  });

  test('a waiter whose link drops while it waits still gets the lock that was released meanwhile', async () => {
    const holder = new Lock(zk, '/waiter-cut');
    await holder.acquire();
    const { zk: c, proxy } = await t.connectCuttable({ sessionTimeoutMs: 2000 });
    const waiter = new Lock(c, '/waiter-cut');
    const acquiring = waiter.acquire({ timeoutMs: 20_000 });
    await waitForChildren(zk, '/waiter-cut', (children) => children.length === 2);
    const disconnected = clientState(c, 'disconnected');
    proxy.cutLinks();
    await disconnected;
    await holder.release(); // the deletion happens while the waiter cannot hear of it
    proxy.heal();
    // The client re-registers the predecessor watch on reconnect; the server fires it for the missed delete.
    expect(await acquiring).toBe(true);
    expect(waiter.isHeld()).toBe(true);
    await waiter.release();
  });

  test('a create that fails with ConnectionLoss after it was applied is found again by its GUID (no orphan, no second node)', async () => {
    const c = await t.connect();
    // A client whose first create is applied but reported as lost, as after a dropped link.
    const { client: flaky, calls } = losingFirstReply(c, 'create', (args) => args[2]?.mode === 'EPHEMERAL_SEQUENTIAL');
    const lock = new Lock(flaky, '/protected');
    expect(await lock.acquire({ timeoutMs: 5000 })).toBe(true);
    expect(calls()).toBe(1); // one create, reported lost, found again: no second attempt
    const children = await zk.getChildren('/protected');
    expect(children).toHaveLength(1);
    expect(children[0]).toMatch(/^_c_[0-9a-f-]{36}-lock-\d{10}$/);
    await lock.release();
  });

  test('a stray non-sequential node in the lock directory does not block the line', async () => {
    await zk.create('/stray', '');
    await zk.create('/stray/not-a-lock', '');
    const lock = new Lock(zk, '/stray');
    expect(await lock.acquire({ timeoutMs: 5000 })).toBe(true);
    await lock.release();
  });

  test('acquiring twice on one Lock object is refused (it is not re-entrant)', async () => {
    const lock = new Lock(zk, '/twice');
    await lock.acquire();
    await expect(lock.acquire()).rejects.toThrow(/not re-entrant/);
    await lock.release();
  });
});
