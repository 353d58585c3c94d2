// Issue 7: a server that does not know the ensemble secret is kept out.
import { afterAll, expect, test } from 'vitest';
import { Cluster, until } from './support/cluster.js';
import { connectAll } from './support/workload.js';

let cluster: Cluster | undefined;
afterAll(async () => {
  await cluster?.stopAll();
});

test('a server whose ensemble file has another secret is refused: it never learns a leader (/health 503, hasLeader false), its links never come up, the other two lead and commit without it', async () => {
  const WRONG = 3;
  const c = (cluster = await Cluster.start({ size: 3, secretOf: (id) => (id === WRONG ? 'a-different-secret-0123456789' : undefined) }));
  const leader = await c.leader(15_000);
  expect(leader).not.toBe(WRONG);
  const zk = await connectAll(c.connectString([1, 2]));
  await zk.create('/auth', '');
  // Its own log holds only the bootstrap configuration entries: remember where it stands.
  const wrongAtStart = (await c.status(WRONG))!;
  // An observation window of 20 committed writes and at least 3 election timeouts
  // (1.5 s): server 3 must not learn a leader at any poll in it.
  const startedAt = Date.now();
  let polls = 0;
  let writes = 0;
  await until('an observation window of 20 writes and 1.5 s', 20_000, async () => {
    await zk.setData('/auth', String(++writes));
    const h = await c.health(WRONG);
    polls++;
    expect(h.code).toBe(503);
    expect(h.body.hasLeader).toBe(false);
    return writes >= 20 && Date.now() - startedAt >= 1500 ? true : undefined;
  }, 50);
  await zk.close();
  expect(polls).toBeGreaterThanOrEqual(20);

  const st = (await c.status(leader))!;
  const third = st.followers.find((f) => f.id === WRONG);
  expect(third?.linkUp).toBe(false);
  expect(third?.matchIndex).toBe(0);
  const wrongNow = (await c.status(WRONG))!;
  expect(wrongNow.appliedIndex).toBe(wrongAtStart.appliedIndex);
  expect(wrongNow.lastIndex).toBe(wrongAtStart.lastIndex);
  expect(wrongNow.appliedIndex).toBeLessThan(st.appliedIndex);

  // The refused handshakes are counted in /metrics (zook_peer_auth_failures_total) by the
  // side that checked a proof and refused it: here, the odd server out accepts the others'
  // dials and refuses their Hellos.
  let failures = 0;
  for (const id of [1, 2, WRONG]) {
    const text = await c.metrics(id);
    const line = text.split('\n').find((l) => l.startsWith('zook_peer_auth_failures_total '));
    expect(line).toBeDefined();
    failures += Number(line!.split(' ')[1]);
  }
  expect(failures).toBeGreaterThan(0);
});
