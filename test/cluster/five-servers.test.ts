// Issue 7: a 5-server ensemble keeps a majority with two followers down.
import { afterAll, expect, test } from 'vitest';
import { Cluster } from './support/cluster.js';
import { Writers } from './support/workload.js';

let cluster: Cluster | undefined;
afterAll(async () => {
  await cluster?.stopAll();
});

test('5 servers: kill -9 two followers, writes continue on the remaining three; restarted, both converge to the same digest with no acknowledged write lost', async () => {
  const c = (cluster = await Cluster.start({ size: 5 }));
  const leader = await c.leader();
  const w = await Writers.start(c.connectString(), 3);
  await w.waitAcks(40);

  const [a, b] = c.ids.filter((id) => id !== leader);
  await Promise.all([c.kill9(a), c.kill9(b)]);
  await w.waitAcks(80);
  // Still the same leader: losing two followers of five costs no election.
  expect(await c.leader(10_000)).toBe(leader);

  await Promise.all([c.restart(a), c.restart(b)]);
  await w.waitAcks(40);
  await w.stop();
  await c.waitConverged(20_000, c.ids);
  expect(w.readViolations).toEqual([]);
  expect(await w.lostWrites()).toEqual([]);
});
