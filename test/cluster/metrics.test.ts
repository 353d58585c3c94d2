// Issue 18, metrics of an ensemble: the leader times each proposal to its commit and
// each follower's heartbeat round trip, and the sample Grafana dashboard
// (deploy/grafana/zook-dashboard.json) uses only metric names a real server exposes,
// so the dashboard cannot drift from the server.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Exposition, parseExposition, sumOf } from '../support/prometheus.js';
import { Cluster, until } from './support/cluster.js';
import { bulkCreate, connectAll } from './support/workload.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DASHBOARD = join(ROOT, 'deploy/grafana/zook-dashboard.json');

let cluster: Cluster;
let leader = 0;
beforeAll(async () => {
  cluster = await Cluster.start({ size: 3 });
  leader = await cluster.leader();
});
afterAll(async () => {
  await cluster?.stopAll();
});

const metrics = async (id: number): Promise<Exposition> => parseExposition(await cluster.metrics(id));

/** A name a query may use: a family, or a histogram's _bucket/_sum/_count series. */
const exposes = (e: Exposition, name: string): boolean => e.types.has(name) || e.types.get(name.replace(/_(bucket|sum|count)$/, '')) === 'histogram';

describe('metrics of a 3-server ensemble', () => {
  test("the leader's zook_proposal_commit_duration_seconds counts every write it commits", async () => {
    const before = sumOf(await metrics(leader), 'zook_proposal_commit_duration_seconds_count');
    const zk = await connectAll(cluster.connectString());
    expect(await bulkCreate(zk, '/timed', 100, 10)).toBe(100);
    await zk.close();
    const after = await metrics(leader);
    // One proposal per create; the sessions' own entries (create, close) may add more.
    expect(sumOf(after, 'zook_proposal_commit_duration_seconds_count')).toBeGreaterThanOrEqual(before + 100);
    expect(sumOf(after, 'zook_proposal_commit_duration_seconds_sum')).toBeGreaterThan(0);
  });

  test('the leader reports zook_peer_round_trip_seconds for each follower', async () => {
    const followers = cluster.ids.filter((id) => id !== leader);
    const m = await until('a round trip to each follower', 10_000, async () => {
      const now = await metrics(leader);
      return followers.every((f) => sumOf(now, 'zook_peer_round_trip_seconds_count', { peer: String(f) }) > 0) ? now : undefined;
    });
    for (const f of followers) expect(sumOf(m, 'zook_peer_round_trip_seconds_sum', { peer: String(f) })).toBeGreaterThan(0);
  });

  test('deploy/grafana/zook-dashboard.json: a Grafana dashboard on a Prometheus datasource variable whose every query names metrics the leader exposes', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
      schemaVersion: number;
      templating: { list: Array<{ name: string; type: string; query: unknown }> };
      panels: Array<{ title: string; datasource: { uid: string }; targets: Array<{ expr: string }> }>;
    };
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }));
    expect(dashboard.panels.length).toBeGreaterThan(10);
    const exposed = await metrics(leader);
    const known = (name: string): boolean => exposes(exposed, name);
    const queries = [
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => ({ where: p.title, expr: t.expr }))),
      ...dashboard.templating.list.filter((v) => v.type === 'query').map((v) => ({ where: `variable ${v.name}`, expr: JSON.stringify(v.query) })),
    ];
    const used = new Set<string>();
    for (const { where, expr } of queries) {
      const names = expr.match(/\b(?:zook|process|nodejs)_[a-z0-9_]+/g) ?? [];
      expect(names.length, `${where}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) {
        expect(known(name), `${where} uses ${name}, which the server does not expose`).toBe(true);
        used.add(name);
      }
    }
    for (const p of dashboard.panels) expect(p.datasource.uid, p.title).toBe('${datasource}');
    // The families the issue names are on the dashboard.
    for (const family of ['zook_requests_total', 'zook_proposal_commit_duration_seconds_bucket', 'zook_wal_fsync_duration_seconds_bucket', 'zook_peer_round_trip_seconds_bucket', 'zook_client_disconnects_total', 'zook_raft_leader_changes_total', 'zook_snapshot_size_bytes', 'nodejs_eventloop_lag_p99_seconds', 'process_resident_memory_bytes']) {
      expect(used.has(family), family).toBe(true);
    }
  });

  test('every metric the README names (in backticks) is one the leader exposes', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const named = new Set([...readme.matchAll(/`((?:zook|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1]));
    expect(named.size).toBeGreaterThan(20);
    const exposed = await metrics(leader);
    expect([...named].filter((name) => !exposes(exposed, name))).toEqual([]);
  });
});
