// Issue 7: membership changes through the admin endpoint, on real processes.
import { afterAll, expect, test } from 'vitest';
import { Cluster, until } from './support/cluster.js';
import { Writers } from './support/workload.js';

let cluster: Cluster | undefined;
afterAll(async () => {
  await cluster?.stopAll();
});

test('4 servers: POST /admin/members/remove?id=N on the leader removes follower N; writes continue and N\'s appliedIndex stops advancing', async () => {
  const c = (cluster = await Cluster.start({ size: 4 }));
  const leader = await c.leader();
  const removed = c.ids.find((id) => id !== leader)!;
  const stay = c.ids.filter((id) => id !== removed);
  const w = await Writers.start(c.connectString(stay), 2);
  await w.waitAcks(20);

  const reply = await c.admin(leader, `/admin/members/remove?id=${removed}`);
  expect(reply.code).toBe(200);
  console.log(`remove reply: ${JSON.stringify(reply.body)}`);
  expect((reply.body as { index: number }).index).toBeGreaterThan(0);
  await until(`the leader's /status to list voters ${stay.join(', ')}`, 10_000, async () => {
    const v = (await c.status(leader))?.voters;
    return v !== undefined && v.join() === stay.join() ? true : undefined;
  });

  // The removed server stops applying. Where it stops is not fixed: once the leader applies the change it
  // stops replicating to the removed server, so a follower that lagged (a loaded machine, a slow fsync)
  // may never receive entries up to the change itself.
  const atRemoval = await until(`server ${removed} to settle after its removal`, 10_000, async () => {
    const a = (await c.status(removed))?.appliedIndex;
    await w.waitAcks(10);
    const b = (await c.status(removed))?.appliedIndex;
    return a !== undefined && a === b ? a : undefined;
  });
  await w.waitAcks(60);
  const leaderNow = await c.leader(10_000);
  const after = (await c.status(leaderNow))!;
  const removedNow = (await c.status(removed))!;
  expect(after.voters).toEqual(stay);
  expect(after.followers.map((f) => f.id)).not.toContain(removed);
  expect(after.appliedIndex).toBeGreaterThan(atRemoval + 40);
  expect(removedNow.appliedIndex).toBe(atRemoval);
  expect(atRemoval).toBeGreaterThan(0);
  await w.stop();
  await c.waitConverged(20_000, stay);
  expect(await w.lostWrites()).toEqual([]);
  // The remaining three did not lose their leader to the removed server's campaigns.
  expect((await c.status(leaderNow))!.term).toBe(after.term);
});

test('the reply to POST /admin/members/remove lists the voters after the removal', async () => {
  const c = cluster!;
  const leader = await c.leader(10_000);
  const voters = (await c.status(leader))!.voters;
  const removed = voters.find((id) => id !== leader)!;
  const reply = await c.admin(leader, `/admin/members/remove?id=${removed}`);
  expect(reply.code).toBe(200);
  expect((reply.body as { voters: number[] }).voters).toEqual(voters.filter((id) => id !== removed));
});
