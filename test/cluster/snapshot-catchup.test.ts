// Issue 7: a follower that missed more than the leader keeps in its log is sent a snapshot.
import { afterAll, expect, test } from 'vitest';
import { logLines, type LogLine } from '../support/log-lines.js';
import { parseExposition, sumOf } from '../support/prometheus.js';
import { Cluster } from './support/cluster.js';
import { bulkCreate, connectAll } from './support/workload.js';

let cluster: Cluster | undefined;
let follower = 0;
afterAll(async () => {
  await cluster?.stopAll();
});

test('a follower kill -9ed while 1000 entries are written (snapshot every 200) restarts and converges: same appliedIndex, digest and znode count', async () => {
  const c = (cluster = await Cluster.start({ size: 3, settings: { snapshotEveryEntries: 200 } }));
  const leader = await c.leader();
  follower = c.ids.find((id) => id !== leader)!;
  await c.kill9(follower);
  const up = c.ids.filter((id) => id !== follower);
  const zk = await connectAll(c.connectString(up));
  await zk.create('/bulk', '');
  // Small windows: many Appends, more than the leader keeps queued for a peer whose link is
  // down (src/server/peer, maxQueuedWhileDown), so the follower cannot catch up from stale
  // queued frames and the leader's compacted log leaves only the snapshot.
  expect(await bulkCreate(zk, '/bulk/n', 1000, 4)).toBe(1000);
  await zk.close();
  const target = (await c.status(leader))!.appliedIndex;

  await c.restart(follower);
  const converged = await c.waitConverged(30_000, c.ids, target);
  const st = (await c.status(follower))!;
  expect(st.appliedIndex).toBe(converged.appliedIndex);
  expect(st.znodes).toBe((await c.status(leader))!.znodes);
});

test('the restarted follower caught up by an installed snapshot (its /status snapshotsInstalled >= 1)', async () => {
  const st = (await cluster!.status(follower))!;
  expect(st.snapshotsInstalled).toBeGreaterThanOrEqual(1);
});

test("the restarted follower's /metrics timed and sized that install (zook_snapshot_install_duration_seconds, zook_snapshot_size_bytes)", async () => {
  const m = parseExposition(await cluster!.metrics(follower));
  expect(sumOf(m, 'zook_snapshot_install_duration_seconds_count')).toBeGreaterThanOrEqual(1);
  expect(sumOf(m, 'zook_snapshot_install_duration_seconds_sum')).toBeGreaterThan(0);
  expect(sumOf(m, 'zook_snapshot_size_bytes')).toBeGreaterThan(0);
});

/** The JSON log lines a server printed (all its runs). */
const serverLogLines = (id: number): LogLine[] => logLines(cluster!.log(id));

test("the restarted follower logged the leader's snapshot arriving and its install, with index, size and time", () => {
  const lines = serverLogLines(follower).filter((l) => l.component === 'snapshot' || l.component === 'raft');
  const receiving = lines.find((l) => l.msg.startsWith('receiving a snapshot from leader'));
  const installed = lines.find((l) => l.msg === "installed the leader's snapshot");
  expect(receiving?.totalBytes).toBeGreaterThan(0);
  expect(installed).toMatchObject({ index: receiving?.index, bytes: receiving?.totalBytes });
  expect(typeof installed?.installMs).toBe('number');
});

test('the leader logged sending its snapshot to that follower, first chunk and last', () => {
  const sent = cluster!.ids.filter((id) => id !== follower).flatMap((id) => serverLogLines(id)).filter((l) => l.component === 'snapshot' && l.follower === follower);
  expect(sent.some((l) => l.msg.startsWith(`sending snapshot to server ${follower}`))).toBe(true);
  expect(sent.some((l) => l.msg.startsWith(`sent the last snapshot chunk to server ${follower}`))).toBe(true);
});
