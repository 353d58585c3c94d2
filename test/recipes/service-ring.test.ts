// Service discovery with consistent-hash load balancing against a real server:
// registration, membership following within one watch event, ~1/N key movement
// on a join or a leave, weights, replicas, and expiry of an instance's session.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { registerService, ServiceRing, type RingChange, type ServiceInstance, type ZookClient } from '../../src/index.js';
import { nextCall, startTestServer, type TestServer } from './support.js';

const KEYS = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);

function owners(ring: ServiceRing): string[] {
  return KEYS.map((k) => ring.pick(k)!.id);
}

function moved(before: readonly string[], after: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) n++;
  return n;
}

describe('ServiceRing', () => {
  let t: TestServer;
  let zk: ZookClient;
  beforeAll(async () => {
    t = await startTestServer();
    zk = await t.connect();
  });
  afterAll(async () => t.stop());

  test('a registered instance is visible with its address, weight and metadata', async () => {
    const reg = await registerService(await t.connect(), 'api', { id: 'a1', address: '10.0.0.1:80', weight: 2, metadata: { zone: 'eu' } });
    const ring = await ServiceRing.start(zk, 'api');
    expect(ring.members()).toEqual<ServiceInstance[]>([{ id: 'a1', address: '10.0.0.1:80', weight: 2, metadata: { zone: 'eu' } }]);
    expect(ring.pick('anything')?.address).toBe('10.0.0.1:80');
    await reg.unregister();
    await ring.close();
  });

  test('the ring follows each join, update and leave within one change event', async () => {
    const ring = await ServiceRing.start(zk, 'follow');
    const member = await t.connect();
    let change = nextCall<[RingChange]>();
    ring.on('change', (c) => change.listener(c));
    const reg = await registerService(member, 'follow', { id: 'x', address: 'x:1' });
    expect((await change.called)[0]).toMatchObject({ added: [{ id: 'x' }], removed: [], members: [{ id: 'x' }] });
    expect(ring.pick('k')?.id).toBe('x');

    change = nextCall<[RingChange]>();
    await reg.update({ weight: 3 });
    expect((await change.called)[0]).toMatchObject({ updated: [{ id: 'x', weight: 3 }] });

    change = nextCall<[RingChange]>();
    await reg.unregister();
    expect((await change.called)[0]).toMatchObject({ removed: [{ id: 'x' }], members: [] });
    expect(ring.pick('k')).toBeUndefined();
    await ring.close();
  });

  test('a join moves about 1/N of the keys, all of them to the new instance; a leave moves only the leaver\'s keys', async () => {
    const ring = await ServiceRing.start(zk, 'churn');
    const members = await Promise.all(Array.from({ length: 10 }, () => t.connect()));
    for (let i = 0; i < 9; i++) await registerService(members[i], 'churn', { id: `m${i}`, address: `m${i}:80` });
    while (ring.size < 9) await new Promise<void>((r) => ring.once('change', () => r()));
    const before = owners(ring);

    const joined = nextCall<[RingChange]>();
    ring.once('change', joined.listener);
    await registerService(members[9], 'churn', { id: 'm9', address: 'm9:80' });
    await joined.called;
    const afterJoin = owners(ring);
    const movedOnJoin = moved(before, afterJoin);
    expect(movedOnJoin / KEYS.length).toBeGreaterThan(0.07);
    expect(movedOnJoin / KEYS.length).toBeLessThan(0.13); // 1/10
    for (let i = 0; i < KEYS.length; i++) if (before[i] !== afterJoin[i]) expect(afterJoin[i]).toBe('m9');

    // m3's process goes away (its session closes): only its keys move.
    const left = nextCall<[RingChange]>();
    ring.once('change', left.listener);
    await members[3].close();
    expect((await left.called)[0].removed.map((m) => m.id)).toEqual(['m3']);
    const afterLeave = owners(ring);
    for (let i = 0; i < KEYS.length; i++) {
      if (afterJoin[i] !== 'm3') expect(afterLeave[i]).toBe(afterJoin[i]);
      else expect(afterLeave[i]).not.toBe('m3');
    }
    expect(moved(afterJoin, afterLeave) / KEYS.length).toBeLessThan(0.13);
    await ring.close();
  });

  test('weights are respected: an instance of weight 3 gets about three times the keys of one of weight 1', async () => {
    const ring = await ServiceRing.start(zk, 'weighted');
    await registerService(await t.connect(), 'weighted', { id: 'light', address: 'l:1', weight: 1 });
    await registerService(await t.connect(), 'weighted', { id: 'heavy', address: 'h:1', weight: 3 });
    while (ring.size < 2) await new Promise<void>((r) => ring.once('change', () => r()));
    const counts = new Map<string, number>();
    for (const id of owners(ring)) counts.set(id, (counts.get(id) ?? 0) + 1);
    const ratio = counts.get('heavy')! / counts.get('light')!;
    expect(ratio).toBeGreaterThan(2.6);
    expect(ratio).toBeLessThan(3.4);
    await ring.close();
  });

  test('pickN gives distinct replicas, the first being pick(key)', async () => {
    const ring = await ServiceRing.start(zk, 'replicas');
    for (let i = 0; i < 4; i++) await registerService(await t.connect(), 'replicas', { id: `r${i}`, address: `r${i}:1` });
    while (ring.size < 4) await new Promise<void>((r) => ring.once('change', () => r()));
    for (const key of KEYS.slice(0, 200)) {
      const replicas = ring.pickN(key, 3);
      expect(replicas).toHaveLength(3);
      expect(new Set(replicas.map((r) => r.id)).size).toBe(3);
      expect(replicas[0].id).toBe(ring.pick(key)!.id);
    }
    expect(ring.pickN('k', 10)).toHaveLength(4);
    await ring.close();
  });

  test('a ring whose own link drops catches up on reconnect and keeps following (its watch is re-registered)', async () => {
    const { zk: c, proxy } = await t.connectCuttable({ sessionTimeoutMs: 2000 });
    const ring = await ServiceRing.start(c, 'reconnecting');
    const disconnected = nextCall<[]>();
    c.on('state', (s) => s === 'disconnected' && disconnected.listener());
    proxy.cutLinks();
    await disconnected.called;
    let change = nextCall<[RingChange]>();
    ring.on('change', (ch) => change.listener(ch));
    await registerService(await t.connect(), 'reconnecting', { id: 'while-away', address: 'w:1' });
    proxy.heal();
    expect((await change.called)[0].added.map((m) => m.id)).toEqual(['while-away']);
    change = nextCall<[RingChange]>();
    await registerService(await t.connect(), 'reconnecting', { id: 'after', address: 'a:1' });
    expect((await change.called)[0].added.map((m) => m.id)).toEqual(['after']);
    expect(ring.members().map((m) => m.id)).toEqual(['after', 'while-away']);
    await ring.close();
  });

  test('an instance whose session expires leaves the ring, and its registration reports it lost', async () => {
    const ring = await ServiceRing.start(zk, 'expiring');
    const { zk: member, proxy } = await t.connectCuttable();
    const reg = await registerService(member, 'expiring', { id: 'e', address: 'e:1' });
    while (ring.size < 1) await new Promise<void>((r) => ring.once('change', () => r()));
    const suspended = nextCall<[]>();
    const lost = nextCall<[string]>();
    reg.on('suspended', suspended.listener);
    reg.on('lost', lost.listener);
    const left = nextCall<[RingChange]>();
    ring.once('change', left.listener);
    proxy.cutLinks();
    await suspended.called;
    expect((await left.called)[0].removed.map((m) => m.id)).toEqual(['e']);
    proxy.heal();
    expect(await lost.called).toEqual(['expired']);
    await ring.close();
  });
});
