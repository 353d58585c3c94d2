// Issue 7: real processes, kill -9. Clients keep writing and reading through crashes.
import { afterAll, expect, test } from 'vitest';
import { Cluster } from './support/cluster.js';
import { Writers } from './support/workload.js';

let cluster: Cluster | undefined;
afterAll(async () => {
  await cluster?.stopAll();
});

test('3 servers: kill -9 the leader, restart it, then kill -9 a follower, restart it, under load: no acknowledged create/setData is lost, reads see own writes, all replicas reach one digest', async () => {
  const c = (cluster = await Cluster.start({ size: 3 }));
  const first = await c.leader();
  const w = await Writers.start(c.connectString(), 3);
  await w.waitAcks(60);

  await c.kill9(first);
  const second = await c.leader(15_000, [first]);
  await w.waitAcks(60);
  await c.restart(first);
  await w.waitAcks(30);
  await c.waitConverged(20_000, c.ids);

  const follower = c.ids.find((id) => id !== second && id !== first)!;
  await c.kill9(follower);
  await w.waitAcks(60);
  await c.restart(follower);
  await w.waitAcks(30);

  await w.stop();
  const converged = await c.waitConverged(20_000, c.ids);
  expect(converged.appliedIndex).toBeGreaterThan(0);
  expect(w.readViolations).toEqual([]);
  expect(await w.lostWrites()).toEqual([]);
  console.log(`crash-recovery: ${w.ackedCreates.size} creates + ${w.ackedReg.size} registers acknowledged, errors ${JSON.stringify(Object.fromEntries(w.errors))}, leaders ${first} -> ${second}, converged at ${converged.appliedIndex}`);
});
