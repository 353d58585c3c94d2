// Under steady write load every server still takes its periodic snapshots and
// compacts its log: entries applied as soon as they are known committed must not
// keep the state ahead of the index a snapshot is taken at.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { connect, type ZookClient } from '../../../src/client/index.js';
import { parseEnsemble } from '../../../src/server/cluster/ensemble.js';
import { resolveConfig } from '../../../src/server/config.js';
import { startServer, type RunningServer } from '../../../src/server/ws-server.js';
import { freePort } from '../support/free-port.js';
import { untilTrue } from '../../support/until.js';

const dirs: string[] = [];
const servers: RunningServer[] = [];
const clients: ZookClient[] = [];

afterAll(async () => {
  for (const zk of clients) await zk.close().catch(() => {});
  for (const s of servers) await s.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

test('every server of three snapshots and compacts its log while 12 sessions write with many requests in flight', async () => {
  const ports = await Promise.all([1, 2, 3, 4, 5, 6].map(() => freePort()));
  const ensemble = parseEnsemble({
    clusterId: 'snapshots-under-load',
    secret: 'snapshots-under-load-secret',
    servers: [1, 2, 3].map((id, i) => ({ id, host: '127.0.0.1', clientPort: ports[2 * i], peerPort: ports[2 * i + 1] })),
    raftTickMs: 20,
    snapshotEveryEntries: 300,
  });
  for (const s of ensemble.servers) {
    const dir = mkdtempSync(join(tmpdir(), `zook-snap-load-${s.id}-`));
    dirs.push(dir);
    servers.push(await startServer(resolveConfig({ ...ensemble.settings, serverId: s.id, port: s.clientPort, zkPort: 0, dataDir: dir }), ensemble));
  }
  await untilTrue('every server serving', () => servers.every((s) => s.node.serving));
  for (let i = 0; i < 12; i++) clients.push(await connect(`127.0.0.1:${servers[i % 3].port}`, { sessionTimeoutMs: 6000 }));
  await clients[0].create('/load', '');
  await Promise.all(clients.map((zk, i) => zk.create(`/load/${i}`, '')));
  // 12 sessions x 25 in flight x 12 rounds = 3,600 writes, never a quiet moment between them.
  await Promise.all(
    clients.flatMap((zk, i) =>
      Array.from({ length: 25 }, async () => {
        for (let round = 0; round < 12; round++) await zk.setData(`/load/${i}`, `r${round}`);
      }),
    ),
  );
  const last = Math.max(...servers.map((s) => s.node.lastApplied));
  await untilTrue('every server applied everything', () => servers.every((s) => s.node.lastApplied >= last));
  for (const s of servers) {
    expect(s.node.raft.counters.snapshotsTaken).toBeGreaterThanOrEqual(5);
    expect(s.node.raft.status().firstIndex).toBeGreaterThan(last - 2 * 300 - Math.floor(300 / 2));
  }
});
