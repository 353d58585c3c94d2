// Three servers of one ensemble in this process (real sockets, real WALs, real
// Raft, one event loop): the write path through followers, sessions that live in
// the replicated state, reads that never go back in time, leader hand-over on stop.
// Crashes, cut links and failover timing are in test/cluster (separate processes).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { connect, type ZookClient } from '../../../src/client/index.js';
import { parseEnsemble, type Ensemble } from '../../../src/server/cluster/ensemble.js';
import { resolveConfig } from '../../../src/server/config.js';
import { startServer, type RunningServer } from '../../../src/server/ws-server.js';
import { freePort } from '../support/free-port.js';
import { RawClient, bytes, create, text } from '../support/raw-client.js';
import { untilTrue } from '../../support/until.js';
import { JuteReader } from '../../../src/zookeeper/jute.js';
import { OpCode } from '../../../src/zookeeper/records.js';
import { RawZkClient, body as zkBody } from '../../zookeeper/support/raw-zk.js';

const IDS = [1, 2, 3];
let ensemble: Ensemble;
const dirs = new Map<number, string>();
const servers = new Map<number, RunningServer>();
const clients: ZookClient[] = [];

async function start(id: number): Promise<RunningServer> {
  const me = ensemble.servers.find((s) => s.id === id)!;
  const server = await startServer(resolveConfig({ ...ensemble.settings, serverId: id, port: me.clientPort, zkPort: 0, dataDir: dirs.get(id)! }), ensemble);
  servers.set(id, server);
  return server;
}


async function leader(): Promise<RunningServer> {
  await untilTrue('a leader every server knows', () => {
    const live = [...servers.values()];
    const leaders = live.filter((s) => s.node.isLeader);
    return leaders.length === 1 && live.every((s) => s.node.raft.leader === leaders[0].node.config.serverId && s.node.serving);
  });
  return [...servers.values()].find((s) => s.node.isLeader)!;
}

async function followers(): Promise<RunningServer[]> {
  const l = await leader();
  return [...servers.values()].filter((s) => s !== l);
}

const url = (s: RunningServer): string => `127.0.0.1:${s.port}`;

async function client(to: RunningServer | RunningServer[], options: { sessionTimeoutMs?: number } = {}): Promise<ZookClient> {
  const list = Array.isArray(to) ? to.map(url) : [url(to)];
  const zk = await connect(list, { sessionTimeoutMs: options.sessionTimeoutMs ?? 4000, shuffleServers: false, reconnectBaseDelayMs: 20, reconnectMaxDelayMs: 100 });
  clients.push(zk);
  return zk;
}

beforeAll(async () => {
  const ports = await Promise.all(IDS.flatMap(() => [freePort(), freePort()]));
  ensemble = parseEnsemble({
    clusterId: 'in-process',
    secret: 'in-process-test-secret',
    servers: IDS.map((id, i) => ({ id, host: '127.0.0.1', clientPort: ports[2 * i], peerPort: ports[2 * i + 1] })),
    tickMs: 500,
    raftTickMs: 20,
    electionTicks: 10,
  });
  for (const id of IDS) dirs.set(id, mkdtempSync(join(tmpdir(), `zook-cluster-${id}-`)));
  await Promise.all(IDS.map(start));
});

afterEach(async () => {
  for (const zk of clients.splice(0)) await zk.close().catch(() => {});
});

afterAll(async () => {
  for (const s of servers.values()) await s.close();
  for (const dir of dirs.values()) rmSync(dir, { recursive: true, force: true });
});

describe('writes through followers', () => {
  test('a write acknowledged by a follower is visible there at once and on every server once applied', async () => {
    const [f] = await followers();
    const zk = await client(f);
    await zk.create('/ryw', 'v1');
    await zk.setData('/ryw', 'v2');
    // Same connection, no sync: the follower answered only after applying it.
    expect(text((await zk.getData('/ryw')).data)).toBe('v2');
    const index = f.node.lastApplied;
    for (const s of servers.values()) await s.node.waitApplied(index);
    for (const s of servers.values()) expect(s.node.tree.digest).toBe(f.node.tree.digest);
  });

  test("null data written through a follower's ZooKeeper door is forwarded and kept as null on every server", async () => {
    const [f] = await followers();
    const { client: zk } = await RawZkClient.session(f.zkPort);
    try {
      expect((await zk.request(OpCode.create, zkBody.create('/null-data', null))).err).toBe(0);
      expect((await zk.request(OpCode.create, zkBody.create('/null-set', 'bytes'))).err).toBe(0);
      expect((await zk.request(OpCode.setData, zkBody.setData('/null-set', null))).err).toBe(0);
    } finally {
      await zk.close();
    }
    const index = f.node.lastApplied;
    for (const s of servers.values()) await s.node.waitApplied(index);
    for (const s of servers.values()) {
      const { client: reader } = await RawZkClient.session(s.zkPort);
      try {
        for (const path of ['/null-data', '/null-set']) {
          const reply = await reader.request(OpCode.getData, zkBody.pathWatch(path, false));
          expect([reply.err, new JuteReader(reply.body).int()], `${path} on server ${s.node.config.serverId}`).toEqual([0, -1]);
        }
      } finally {
        await reader.close();
      }
    }
    // The readers' sessions were txns too: compare digests once every server has applied them all.
    const last = Math.max(...[...servers.values()].map((s) => s.node.lastApplied));
    for (const s of servers.values()) await s.node.waitApplied(last);
    for (const s of servers.values()) expect(s.node.tree.digest).toBe(f.node.tree.digest);
  });

  test('a refused multi through a follower reports ZooKeeper per-op results, as on the leader', async () => {
    const [f] = await followers();
    const zk = await client(f);
    await zk.create('/m', '');
    const error = (await zk.multi([{ op: 'create', path: '/m/a' }, { op: 'delete', path: '/missing' }, { op: 'create', path: '/m/b' }]).catch((e: unknown) => e)) as {
      code: string;
      results?: { error: string }[];
    };
    expect(error.code).toBe('NoNode');
    expect(await zk.exists('/m/a')).toBeNull();
  });

  test('sequential creates through different servers get distinct names in one order', async () => {
    const all = [...servers.values()];
    const zks = await Promise.all(all.map((s) => client(s)));
    await zks[0].create('/seq', '');
    const names = await Promise.all(zks.flatMap((zk) => [0, 1, 2].map(() => zk.create('/seq/n-', '', { mode: 'PERSISTENT_SEQUENTIAL' }) as Promise<string>)));
    expect(new Set(names).size).toBe(9);
    expect((await zks[1].getChildren('/seq')).sort()).toEqual(names.map((n) => n.slice('/seq/'.length)).sort());
  });

  test('a session keeps its FIFO order through a follower: pipelined create then child create both succeed', async () => {
    const [f] = await followers();
    const zk = await client(f);
    const [a, b] = await Promise.all([zk.create('/fifo', ''), zk.create('/fifo/child', '')]);
    expect([a, b]).toEqual(['/fifo', '/fifo/child']);
  });
});

describe('reads', () => {
  test('a linearizable read through a follower sees a write just acknowledged by another server', async () => {
    const l = await leader();
    const [f] = await followers();
    const writer = await client(l);
    const reader = await client(f);
    await writer.create('/lin', 'old');
    for (let i = 0; i < 20; i++) {
      await writer.setData('/lin', `v${i}`);
      expect(text((await reader.getData('/lin', { linearizable: true })).data)).toBe(`v${i}`);
    }
  });

  test('sync through a follower makes the next read at least as new as the leader was', async () => {
    const l = await leader();
    const [f] = await followers();
    const writer = await client(l);
    const reader = await client(f);
    await writer.create('/synced', 'x');
    await reader.sync('/synced');
    expect(text((await reader.getData('/synced')).data)).toBe('x');
  });

  test('a client that has seen a newer zxid than a server holds waits for it to catch up rather than reading the past', async () => {
    const l = await leader();
    const [f] = await followers();
    const ahead = f.node.lastApplied + 3;
    const raw = await RawClient.open(`ws://${url(f)}`);
    let answered = false;
    const connecting = raw.connect({ lastZxidSeen: ahead, timeoutMs: 4000 }).finally(() => (answered = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(answered).toBe(false);
    const writer = await client(l);
    for (let i = 0; i < 5; i++) await writer.create(`/catch-up-${i}`, '');
    const connected = await connecting;
    expect(connected.sessionId).not.toBe(0);
    expect(f.node.lastApplied).toBeGreaterThanOrEqual(ahead);
    raw.close();
  });
});

describe('sessions in the replicated state', () => {
  test('a session created on a follower resumes on another server with its ephemeral when its server stops', async () => {
    const [f] = await followers();
    const others = [...servers.values()].filter((s) => s !== f);
    const zk = await client([f, ...others]);
    const id = zk.sessionId;
    await zk.create('/eph-move', 'mine', { mode: 'EPHEMERAL' });
    const fid = f.node.config.serverId;
    await f.close();
    servers.delete(fid);
    await untilTrue('the client reconnected elsewhere', () => zk.state === 'connected' && zk.currentServer !== `ws://${url(f)}`);
    expect(zk.sessionId).toBe(id);
    expect(text((await zk.getData('/eph-move')).data)).toBe('mine');
    expect((await zk.exists('/eph-move'))?.ephemeralOwner).toBe(id);
    await start(fid);
    await leader();
  });

  test('the leader expires a session that went silent on a follower, and every server drops its ephemeral', async () => {
    const [f] = await followers();
    const { client: raw, connected } = await RawClient.session(`ws://${url(f)}`, { timeoutMs: 1000 });
    const reply = await raw.call(create('/silent', 'x', 1));
    expect(reply.error).toBe(0);
    // No more frames from this client: nobody pings for it.
    await untilTrue('the ephemeral is gone everywhere', () => [...servers.values()].every((s) => !s.node.tree.sessions.has(connected.sessionId) && s.node.tree.get('/silent') === undefined), 15_000);
    await raw.waitClosed();
  });

  test('a follower cut off from the leader drops its clients, which resume their session on a server that has one', async () => {
    const [f] = await followers();
    const others = [...servers.values()].filter((s) => s !== f);
    const zk = await client([f, ...others], { sessionTimeoutMs: 4000 });
    const id = zk.sessionId;
    await zk.create('/cut-off', '', { mode: 'EPHEMERAL' });
    const transport = f.node.transport!;
    const peers = ensemble.servers.filter((s) => s.id !== f.node.config.serverId);
    for (const peer of peers) transport.removePeer(peer.id);
    await untilTrue('the client moved to a server with a leader', () => zk.state === 'connected' && zk.currentServer !== `ws://${url(f)}`, 15_000);
    expect(zk.sessionId).toBe(id);
    expect(await zk.exists('/cut-off')).not.toBeNull();
    for (const peer of peers) transport.addPeer({ id: peer.id, host: peer.host, port: peer.peerPort });
    await leader();
  });

  test('a session that only pings through a follower outlives several timeouts', async () => {
    const [f] = await followers();
    const zk = await client(f, { sessionTimeoutMs: 1000 });
    await zk.create('/pinged', '', { mode: 'EPHEMERAL' });
    const l = await leader();
    const start = Date.now();
    await untilTrue('three session timeouts passed', () => Date.now() - start > 3000, 5000);
    expect(l.node.tree.sessions.has(zk.sessionId)).toBe(true);
    expect(await zk.exists('/pinged')).not.toBeNull();
  });
});

describe('leadership', () => {
  test('a leader that stops hands leadership over first: the others have a new leader when its close returns', async () => {
    const l = await leader();
    const id = l.node.config.serverId;
    const termBefore = l.node.term;
    await l.close();
    servers.delete(id);
    const live = [...servers.values()];
    const newLeader = live.find((s) => s.node.isLeader);
    expect(newLeader).toBeDefined();
    expect(newLeader!.node.term).toBe(termBefore + 1);
    expect(live.every((s) => s.node.raft.leader === newLeader!.node.config.serverId)).toBe(true);
    const zk = await client(newLeader!);
    await zk.create('/after-handover', bytes('ok'));
    await start(id);
    await leader();
  });
});
