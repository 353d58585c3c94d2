// A rolling restart with SIGTERM, one server at a time, leader included: a leader
// hands over before it exits, so the others know the next leader as soon as it is
// gone; clients keep writing and nothing acknowledged is lost.
import { afterAll, expect, test } from 'vitest';
import { Cluster } from './support/cluster.js';
import { Writers } from './support/workload.js';

let cluster: Cluster | undefined;
afterAll(async () => {
  await cluster?.stopAll();
});

test('3 servers restarted one by one with SIGTERM under load: each exits 0, a stopped leader has handed over before it exits, no acknowledged write is lost', async () => {
  const c = (cluster = await Cluster.start({ size: 3 }));
  const w = await Writers.start(c.connectString(), 3);
  await w.waitAcks(40);
  const firstLeader = await c.leader();
  // Followers first, the leader last: the common order of a rolling upgrade.
  const order = [...c.ids.filter((id) => id !== firstLeader), firstLeader];
  for (const id of order) {
    const wasLeader = (await c.status(id))?.role === 'leader';
    const termBefore = (await c.status(id))!.term;
    expect(await c.sigterm(id)).toBe(0);
    if (wasLeader) {
      // Handed over before exiting: the survivors already follow a new leader, one term later.
      const statuses = await c.statuses(c.live());
      const leaders = new Set([...statuses.values()].map((s) => s.leader));
      expect(leaders.size).toBe(1);
      expect([...leaders][0]).not.toBe(id);
      expect([...leaders][0]).not.toBe(0);
      expect(Math.max(...[...statuses.values()].map((s) => s.term))).toBe(termBefore + 1);
    }
    await w.waitAcks(30);
    await c.restart(id);
    await c.waitConverged(20_000, c.ids);
  }
  await w.waitAcks(30);
  await w.stop();
  await c.waitConverged(20_000, c.ids);
  expect(w.readViolations).toEqual([]);
  expect(await w.lostWrites()).toEqual([]);
  console.log(`rolling restart: ${w.ackedCreates.size} creates + ${w.ackedReg.size} registers acknowledged, errors ${JSON.stringify(Object.fromEntries(w.errors))}`);
});
