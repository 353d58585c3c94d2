// Leader election against a real server: exactly one leader at any time through
// resignations, closes and a leader's session expiry; leadership dropped on
// disconnect and regained on reconnect with the same session.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LeaderLatch, type ZookClient } from '../../src/index.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { clientState, nextCall, startTestServer, waitForChildren, type TestServer } from './support.js';

interface Participant {
  readonly latch: LeaderLatch;
  readonly zk: ZookClient;
  readonly proxy: TcpProxy;
}

describe('LeaderLatch', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.stop());

  test('exactly one leader at any time through resignations, closes and a leader\'s session expiry', async () => {
    let leaders = 0;
    let maxLeaders = 0;
    let leaderEvents = 0;
    let onLeader: (() => void) | undefined;
    const participants: Participant[] = [];
    for (let i = 0; i < 6; i++) {
      const { zk, proxy } = await t.connectCuttable();
      const latch = new LeaderLatch(zk, '/election', { id: `p${i}` });
      latch.on('leader', () => {
        leaders++;
        leaderEvents++;
        maxLeaders = Math.max(maxLeaders, leaders);
        onLeader?.();
      });
      latch.on('follower', () => leaders--);
      participants.push({ latch, zk, proxy });
    }
    const nextLeader = (): Promise<Participant> =>
      new Promise((resolve) => {
        onLeader = () => resolve(participants.find((p) => p.latch.isLeader())!);
      });

    let elected = nextLeader();
    for (const p of participants) await p.latch.start();
    let leader = await elected;
    const handovers: string[] = [];
    for (const action of ['resign', 'close', 'expire', 'resign', 'close', 'expire'] as const) {
      expect(participants.filter((p) => p.latch.isLeader())).toEqual([leader]);
      elected = nextLeader();
      if (action === 'resign') await leader.latch.resign();
      else if (action === 'close') await leader.latch.close();
      else leader.proxy.cutLinks(); // its process is gone: the session expires, then the next one leads
      const next = await elected;
      expect(next).not.toBe(leader);
      handovers.push(`${action}: ${leader.latch.id} -> ${next.latch.id}`);
      leader = next;
      expect(leaders).toBe(1);
    }
    expect(maxLeaders).toBe(1);
    expect(leaderEvents).toBe(7);
    expect(handovers).toHaveLength(6);
  });

  test('the line order decides: the first to join leads, the next takes over when it closes', async () => {
    const a = new LeaderLatch(await t.connect(), '/order', { id: 'a' });
    const b = new LeaderLatch(await t.connect(), '/order', { id: 'b' });
    await a.start();
    expect(await a.waitForLeadership({ timeoutMs: 5000 })).toBe(true);
    await b.start();
    expect(await b.waitForLeadership({ timeoutMs: 100 })).toBe(false);
    expect(await b.participants()).toEqual([
      { id: 'a', leader: true },
      { id: 'b', leader: false },
    ]);
    await a.close();
    expect(a.isLeader()).toBe(false);
    expect(await b.waitForLeadership({ timeoutMs: 5000 })).toBe(true);
    await b.close();
  });

  test('a leader whose node an operator deletes steps down and rejoins at the back; the next in line leads', async () => {
    const a = new LeaderLatch(await t.connect(), '/deleted', { id: 'a' });
    const b = new LeaderLatch(await t.connect(), '/deleted', { id: 'b' });
    await a.start();
    expect(await a.waitForLeadership({ timeoutMs: 5000 })).toBe(true);
    await b.start();
    const aFollows = nextCall<[]>();
    a.once('follower', aFollows.listener);
    const observer = await t.connect();
    // The leader's node is the one with the lowest sequence number (the last 10 digits).
    const [leaderNode] = (await observer.getChildren('/deleted')).sort((x, y) => Number(x.slice(-10)) - Number(y.slice(-10)));
    await observer.delete(`/deleted/${leaderNode}`);
    await aFollows.called;
    expect(await b.waitForLeadership({ timeoutMs: 5000 })).toBe(true);
    expect(a.isLeader()).toBe(false);
    await waitForChildren(observer, '/deleted', (c) => c.length === 2); // a rejoined
    expect((await b.participants()).map((p) => p.id)).toEqual(['b', 'a']);
    await Promise.all([a.close(), b.close()]);
  });

  test('a leader drops leadership as soon as its link drops, and regains it on reconnect with the same session', async () => {
    const { zk, proxy } = await t.connectCuttable({ sessionTimeoutMs: 2000 });
    const latch = new LeaderLatch(zk, '/brief-leader');
    await latch.start();
    expect(await latch.waitForLeadership({ timeoutMs: 5000 })).toBe(true);
    const follower = nextCall<[]>();
    latch.once('follower', follower.listener);
    proxy.cutLinks();
    await follower.called;
    expect(latch.isLeader()).toBe(false);
    const leader = nextCall<[]>();
    latch.once('leader', leader.listener);
    proxy.heal();
    await leader.called;
    expect(latch.isLeader()).toBe(true);
    await latch.close();
  });

  test('a latch whose session expires reports "closed" with reason expired', async () => {
    const { zk, proxy } = await t.connectCuttable();
    const latch = new LeaderLatch(zk, '/expiring');
    await latch.start();
    const closed = nextCall<[string]>();
    latch.on('closed', closed.listener);
    const expired = clientState(zk, 'expired');
    proxy.cutLinks();
    // The server expires the session while the link is down; healing lets the client hear it.
    const observer = await t.connect();
    await waitForChildren(observer, '/expiring', (c) => c.length === 0);
    proxy.heal();
    await expired;
    expect(await closed.called).toEqual(['expired']);
    expect(latch.state).toBe('closed');
  });
});
