// A learner (ZooKeeper's observer): it serves its clients' reads and writes, but
// its acknowledgement never counts towards a quorum.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { connect, type ZookClient } from '../../../src/client/index.js';
import { parseEnsemble, type Ensemble } from '../../../src/server/cluster/ensemble.js';
import { resolveConfig } from '../../../src/server/config.js';
import { nodeStatus } from '../../../src/server/node-status.js';
import { startServer, type RunningServer } from '../../../src/server/ws-server.js';
import { freePort } from '../support/free-port.js';
import { untilTrue } from '../../support/until.js';

let ensemble: Ensemble;
const dirs: string[] = [];
const servers = new Map<number, RunningServer>();
let zk: ZookClient | null = null;


beforeAll(async () => {
  const ports = await Promise.all([1, 2, 3, 4, 5, 6].map(() => freePort()));
  ensemble = parseEnsemble({
    clusterId: 'learners',
    secret: 'learner-test-secret-0123',
    servers: [1, 2, 3].map((id, i) => ({ id, host: '127.0.0.1', clientPort: ports[2 * i], peerPort: ports[2 * i + 1], ...(id === 3 ? { role: 'learner' } : {}) })),
    tickMs: 500,
    raftTickMs: 20,
    electionTicks: 10,
  });
  for (const s of ensemble.servers) {
    const dir = mkdtempSync(join(tmpdir(), `zook-learner-${s.id}-`));
    dirs.push(dir);
    servers.set(s.id, await startServer(resolveConfig({ ...ensemble.settings, serverId: s.id, port: s.clientPort, zkPort: 0, dataDir: dir }), ensemble));
  }
  await untilTrue('a leader the learner knows', () => servers.get(3)!.node.serving);
});

afterAll(async () => {
  await zk?.close().catch(() => {});
  for (const s of servers.values()) await s.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

test('a learner serves its clients: their writes go through the leader and they read them back there', async () => {
  const learner = servers.get(3)!;
  expect(nodeStatus(learner.node).role).toBe('learner');
  expect(nodeStatus(learner.node).voters).toEqual([1, 2]);
  zk = await connect(`127.0.0.1:${learner.port}`, { sessionTimeoutMs: 4000 });
  await zk.create('/from-learner', 'x');
  expect(new TextDecoder().decode((await zk.getData('/from-learner')).data)).toBe('x');
  expect(learner.node.forwarding!.counters.forwarded).toBeGreaterThan(0);
});

test('a learner never counts towards a quorum: with one of two voters gone there is no leader', async () => {
  const leader = [...servers.values()].find((s) => s.node.isLeader)!;
  const otherVoter = [1, 2].find((id) => id !== leader.node.config.serverId)!;
  const stopped = servers.get(otherVoter)!;
  servers.delete(otherVoter);
  // A follower stops without handing anything over: a plain loss of a voter.
  await stopped.close();
  // With the learner's acks the leader would still have 2 of 3 servers; it has 1 of 2 voters: it steps down (check-quorum).
  await untilTrue('the leader steps down', () => !leader.node.isLeader, 5000);
  expect(servers.get(3)!.node.raft.status().role).not.toBe('leader');
});
