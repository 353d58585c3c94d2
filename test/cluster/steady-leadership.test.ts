// Issue 16 item 6: a busy or briefly frozen server must not make the ensemble
// drop clients or change leaders while the leader is alive and reachable.
// SIGSTOP / SIGCONT stands in for a long GC pause or a CPU hog holding a process.
import { afterAll, expect, test } from 'vitest';
import type { ClientState } from '../../src/client/index.js';
import { Cluster, sleep } from './support/cluster.js';
import { connectAll } from './support/workload.js';

let cluster: Cluster | undefined;
afterAll(async () => {
  await cluster?.stopAll();
});

test('a follower frozen for three election timeouts (SIGSTOP) keeps its clients when it resumes, and the leader and term stay', async () => {
  const c = (cluster = await Cluster.start({ size: 3 }));
  const leader = await c.leader();
  const follower = c.ids.find((id) => id !== leader)!;
  const client = await connectAll(c.url(follower));
  await client.create('/steady', 'before');
  const states: ClientState[] = [];
  client.on('state', (s) => states.push(s));
  const termBefore = (await c.status(leader))!.term;

  const pid = c.pid(follower)!;
  process.kill(pid, 'SIGSTOP');
  await sleep(1500); // FAST_SETTINGS: an election timeout is 0.5-1 s
  process.kill(pid, 'SIGCONT');

  await client.setData('/steady', 'after');
  expect(new TextDecoder().decode((await client.getData('/steady')).data)).toBe('after');
  await sleep(500); // a drop decided on the first timer turn after the pause would have shown by now
  expect(states).toEqual([]);
  expect(await c.leader()).toBe(leader);
  expect((await c.status(leader))!.term).toBe(termBefore);
  await client.close();
});

test('a member restarted with kill -9 says on start how far its log reaches, not only the znodes applied so far (which read as lost data)', async () => {
  const c = cluster!;
  const leader = await c.leader();
  const follower = c.ids.find((id) => id !== leader)!;
  const client = await connectAll(c.connectString([leader]));
  for (let i = 0; i < 20; i++) await client.create(`/restart-line-${i}`, 'x');
  await client.close();
  await c.restart(follower);
  const start = c.log(follower).slice(c.log(follower).lastIndexOf('--- start'));
  expect(start).toMatch(/listening on ws:\/\/.*\(data in .*: \d+ znodes at zxid \d+(; the log holds through \d+, applied as the leader confirms it)?\)/);
  const m = /: (\d+) znodes at zxid (\d+)(; the log holds through (\d+))?/.exec(start)!;
  // The start line accounts for every entry the member had: applied ones, or the log's reach.
  expect(Number(m[4] ?? m[2])).toBeGreaterThanOrEqual(20);
});
