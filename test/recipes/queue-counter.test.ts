// The queue and the counter against a real server: each item delivered exactly once
// across competing consumers, FIFO order, waiting takes; increments never lost.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AtomicCounter, DistributedQueue, type ZookClient } from '../../src/index.js';
import { losingFirstReply, startTestServer, text, type TestServer } from './support.js';

describe('DistributedQueue and AtomicCounter', () => {
  let t: TestServer;
  let zk: ZookClient;
  beforeAll(async () => {
    t = await startTestServer();
    zk = await t.connect();
  });
  afterAll(async () => t.stop());

  test('each item is delivered exactly once across competing consumers', async () => {
    const items = 300;
    const consumers = await Promise.all(Array.from({ length: 5 }, () => t.connect()));
    const producer = new DistributedQueue(zk, '/q/work');
    const taken: string[][] = consumers.map(() => []);
    let remaining = items;
    const consuming = consumers.map(async (c, i) => {
      const queue = new DistributedQueue(c, '/q/work');
      while (remaining > 0) {
        const item = await queue.take({ timeoutMs: 200 });
        if (item === null) continue;
        taken[i].push(text(item));
        remaining--;
      }
    });
    for (let i = 0; i < items; i++) await producer.put(`item-${i}`);
    await Promise.all(consuming);
    const all = taken.flat();
    expect(all).toHaveLength(items);
    expect(new Set(all).size).toBe(items);
    expect(await producer.size()).toBe(0);
  });

  test('a single consumer gets the items in the order they were put (FIFO)', async () => {
    const queue = new DistributedQueue(zk, '/q/fifo');
    for (let i = 0; i < 20; i++) await queue.put(String(i));
    const got: string[] = [];
    for (let item = await queue.poll(); item !== null; item = await queue.poll()) got.push(text(item));
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
  });

  test('a take whose reply is lost (ConnectionLoss after the claim was applied) still delivers the item, once', async () => {
    const c = await t.connect();
    const { client: flaky, calls } = losingFirstReply(c, 'multi');
    const producer = new DistributedQueue(zk, '/q/lossy');
    await producer.put('a');
    await producer.put('b');
    const consumer = new DistributedQueue(flaky, '/q/lossy');
    expect(text(await consumer.poll())).toBe('a');
    expect(text(await consumer.poll())).toBe('b');
    expect(await consumer.poll()).toBeNull();
    expect(calls()).toBe(2);
  });

  test('a put whose reply is lost is found again by its GUID: the item is queued exactly once', async () => {
    const c = await t.connect();
    const { client: flaky, calls } = losingFirstReply(c, 'create', (args) => args[2]?.mode === 'PERSISTENT_SEQUENTIAL');
    const queue = new DistributedQueue(flaky, '/q/lossy-put');
    await queue.put('only once');
    expect(calls()).toBe(1);
    expect(await queue.size()).toBe(1);
    expect(text(await queue.poll())).toBe('only once');
    expect(await queue.poll()).toBeNull();
  });

  test('take waits for an item to arrive', async () => {
    const queue = new DistributedQueue(await t.connect(), '/q/wait');
    const pending = queue.take({ timeoutMs: 10_000 });
    await new DistributedQueue(zk, '/q/wait').put('late');
    expect(text(await pending)).toBe('late');
    expect(await queue.take({ timeoutMs: 50 })).toBeNull();
  });

  test('concurrent increments from several clients are never lost', async () => {
    const clients = await Promise.all(Array.from({ length: 6 }, () => t.connect()));
    await Promise.all(
      clients.map(async (c) => {
        const counter = new AtomicCounter(c, '/counters/hits');
        for (let i = 0; i < 20; i++) await counter.increment();
      }),
    );
    expect(await new AtomicCounter(zk, '/counters/hits').get()).toBe(120);
    expect(await new AtomicCounter(zk, '/counters/hits').add(-20)).toBe(100);
  });
});
