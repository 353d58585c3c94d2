// The single-node stand-in for "across a leader failover": the server is killed
// (kill -9) and restarted on the same port and data dir. Sessions survive a
// restart (they get a fresh timeout), so a lock holder is 'suspended' and then
// 'reconnected' still holding, waiters keep waiting, and the leader stays the only one.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { connect, LeaderLatch, Lock, type ZookClient } from '../../src/index.js';
import { freePort } from '../server/support/free-port.js';
import { newDataDir, startServerProcess, type ServerProcess } from '../server/support/server-process.js';
import { nextCall, waitForChildren } from './support.js';

describe('recipes across a server kill -9 and restart', () => {
  let port: number;
  let dataDir: string;
  let server: ServerProcess;
  const clients: ZookClient[] = [];
  const client = async (): Promise<ZookClient> => {
    const zk = await connect(`ws://127.0.0.1:${port}`, { sessionTimeoutMs: 10_000, reconnectBaseDelayMs: 20, reconnectMaxDelayMs: 100 });
    clients.push(zk);
    return zk;
  };
  const restart = async (): Promise<void> => {
    await server.kill9();
    server = await startServerProcess({ port, dataDir });
  };

  beforeEach(async () => {
    port = await freePort();
    dataDir = newDataDir();
    server = await startServerProcess({ port, dataDir });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
    await server.stop();
    server.cleanup();
  });

  test('a lock holder is suspended, then reconnected still holding; the waiter gets the lock only after release', async () => {
    const [a, b, observer] = [await client(), await client(), await client()];
    const holder = new Lock(a, '/restart-lock');
    expect(await holder.acquire()).toBe(true);
    const waiter = new Lock(b, '/restart-lock');
    let waiterGotIt = false;
    const waiting = waiter.acquire().then((ok) => {
      expect(holder.isHeld()).toBe(false);
      waiterGotIt = ok;
    });
    await waitForChildren(observer, '/restart-lock', (c) => c.length === 2);
    const suspended = nextCall<[]>();
    const reconnected = nextCall<[]>();
    holder.on('suspended', suspended.listener);
    holder.on('reconnected', reconnected.listener);
    await restart();
    await suspended.called;
    await reconnected.called;
    expect(holder.isHeld()).toBe(true);
    expect(waiterGotIt).toBe(false);
    await holder.release();
    await waiting;
    expect(waiterGotIt).toBe(true);
    await waiter.release();
  });

  test('the leader stays the only leader across a restart (follower while disconnected, leader again after)', async () => {
    const latches = [new LeaderLatch(await client(), '/restart-election', { id: 'a' }), new LeaderLatch(await client(), '/restart-election', { id: 'b' })];
    let leaders = 0;
    let maxLeaders = 0;
    for (const l of latches) {
      l.on('leader', () => (maxLeaders = Math.max(maxLeaders, ++leaders)));
      l.on('follower', () => leaders--);
    }
    await latches[0].start();
    expect(await latches[0].waitForLeadership({ timeoutMs: 5000 })).toBe(true);
    await latches[1].start();
    const backAsLeader = nextCall<[]>();
    latches[0].on('follower', () => latches[0].once('leader', backAsLeader.listener));
    await restart();
    await backAsLeader.called;
    expect(latches.map((l) => l.isLeader())).toEqual([true, false]);
    expect(maxLeaders).toBe(1);
    await Promise.all(latches.map((l) => l.close()));
  });
});
