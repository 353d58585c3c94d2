// node-zookeeper-client (npm) against a 3-server zook ensemble over ZooKeeper's
// protocol: writes through any server, and the kill -9 of the client's own server
// with its session, ephemerals and watches carried to another one.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Cluster } from '../cluster/support/cluster.js';
import { until, untilTrue } from '../support/until.js';
import { type Nzk, connectNzk, zookeeper } from './support/nzk.js';

let cluster: Cluster;
const clients: Nzk[] = [];

beforeAll(async () => {
  cluster = await Cluster.start({ size: 3 });
  await cluster.leader();
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await cluster?.stopAll();
});

function zkConnectString(ids: readonly number[] = cluster.ids): string {
  return ids.map((id) => `127.0.0.1:${cluster.zkPort.get(id)!}`).join(',');
}

async function client(ids?: readonly number[]): Promise<Nzk> {
  // tickMs 500 in the test ensemble: 10 s is the longest session it grants.
  const c = await connectNzk(zkConnectString(ids), { sessionTimeout: 10_000 });
  clients.push(c);
  return c;
}

/** Which server a node-zookeeper-client is connected to (its socket's remote port). */
function serverOf(c: Nzk): number {
  const port = (c.raw.connectionManager.socket as { remotePort: number }).remotePort;
  for (const [id, p] of cluster.zkPort) if (p === port) return id;
  throw new Error(`client is on port ${port}, which is no server's zkPort`);
}

describe('a ZooKeeper client of a 3-server zook ensemble', () => {
  test('a write through one server is read through each of the others', async () => {
    const [one, two, three] = await Promise.all(cluster.ids.map((id) => client([id])));
    await one.create('/ens-rw', 'through server 1');
    // Reads are local: a fresh session on another server may be behind, so wait as ZooKeeper users do (sync or retry).
    for (const reader of [two, three]) {
      await until('the znode on another server', async () => ((await reader.exists('/ens-rw')) !== null ? true : undefined));
      expect((await reader.getData('/ens-rw')).data).toBe('through server 1');
    }
  });

  test("after kill -9 of its server, a client resumes on another with the same session, its ephemeral and its watch", async () => {
    const a = await client();
    const observer = await client();
    const sessionBefore = a.sessionIdHex();
    await a.create('/ens-eph', 'mine', zookeeper.CreateMode.EPHEMERAL);
    await a.create('/ens-watched', 'v0');
    const events: string[] = [];
    await a.getData('/ens-watched', (e) => events.push(`${e.name} ${e.path}`));

    const victim = serverOf(a);
    await cluster.kill9(victim);
    await untilTrue('the client to reconnect to a live server', () => a.states.filter((s) => s === 'SYNC_CONNECTED').length >= 2 && serverOf(a) !== victim, 30_000);
    expect(a.sessionIdHex()).toBe(sessionBefore);

    // The observer may have been on the victim too: it reconnects by itself; retry until it has.
    await until('the ephemeral to be visible', async () => ((await observer.exists('/ens-eph')) !== null ? true : undefined), 30_000);
    await until('a write through the observer', () => observer.setData('/ens-watched', 'v1'), 30_000);
    await untilTrue('the watch set before the kill to fire', () => events.length === 1, 30_000);
    expect(events).toEqual(['NODE_DATA_CHANGED /ens-watched']);
    expect((await a.getData('/ens-eph')).data).toBe('mine');

    await cluster.restart(victim);
  });
});
