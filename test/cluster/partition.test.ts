// Issue 7: cut peer links (TcpProxy per link) and heal them.
import { afterAll, expect, test } from 'vitest';
import { Cluster, until } from './support/cluster.js';
import { Writers, connectAll } from './support/workload.js';

let cluster: Cluster | undefined;
afterAll(async () => {
  await cluster?.stopAll();
});

test('isolating the leader: the majority elects a new leader, a client of the old leader reconnects elsewhere and writes; after healing there is one history (same digest, old leader caught up, no acknowledged write lost)', async () => {
  const c = (cluster = await Cluster.start({ size: 3 }));
  const old = await c.leader();
  const w = await Writers.start(c.connectString(), 2);
  // A client that starts on the old leader (its URL first, no shuffling).
  const others = c.ids.filter((id) => id !== old);
  const pinned = await connectAll(c.connectString([old, ...others]), { shuffleServers: false });
  expect(c.idOfUrl(pinned.currentServer)).toBe(old);
  await pinned.create('/pinned', 'before');
  await w.waitAcks(30);

  c.isolate(old);
  const next = await c.leader(15_000, [old]);
  expect(others).toContain(next);

  // The pinned client's writes fail (ConnectionLoss / timeout) until it has moved to the majority side.
  let pinnedAcked = -1;
  await until('the old leader\'s client to write through the majority side', 30_000, async () => {
    try {
      await pinned.setData('/pinned', 'during', { timeoutMs: 2000 });
      pinnedAcked = c.idOfUrl(pinned.currentServer);
      return true;
    } catch {
      return undefined;
    }
  });
  expect(pinnedAcked).not.toBe(old);
  await w.waitAcks(30);

  c.healAll();
  await w.waitAcks(20);
  await w.stop();
  await pinned.close();
  const converged = await c.waitConverged(20_000, c.ids);
  const st = await c.statuses();
  // One history: every server follows the same leader in the same term.
  expect(new Set([...st.values()].map((s) => `${s.leader}@${s.term}`)).size).toBe(1);
  expect(converged.appliedIndex).toBeGreaterThan(0);
  expect(await w.lostWrites()).toEqual([]);
});

test('cutting one follower\'s links and healing them: the follower falls behind while cut, then catches up to the same digest', async () => {
  const c = cluster!;
  const leader = await c.leader();
  const follower = c.ids.find((id) => id !== leader)!;
  const w = await Writers.start(c.connectString(c.ids.filter((id) => id !== follower)), 2, 'cut-follower');
  c.isolate(follower);
  const before = (await c.status(follower))!.appliedIndex;
  await w.waitAcks(40);
  const during = (await c.status(leader))!.appliedIndex;
  expect(during).toBeGreaterThan(before);
  c.healAll();
  await w.waitAcks(20);
  await w.stop();
  await c.waitConverged(20_000, c.ids, during);
  expect(await w.lostWrites()).toEqual([]);
});
