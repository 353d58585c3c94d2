// `npm run bench:e2e [-- options]`: the end-to-end load generator. Starts a local
// server (or targets --servers), then drives W1-W4 from several client processes
// and prints ops/s, p50 and p99 per workload as a Markdown table and as JSON,
// then the LeaderLatch failover time (--failover-rounds N, 0 to skip).
// It reports; it never asserts.
// --target zookeeper://host:port[,host:port] runs the same workloads against Apache
// ZooKeeper (node-zookeeper-client); zookeeper://local starts one from Debian's
// package (bench/zookeeper/start-local.sh), --nodes 3 for an ensemble. The
// failover measurement is zook's own recipe, so it runs for zook targets only.
// --cluster 3 (or 5) starts a local zook ensemble instead of a single server
// (bench/e2e/local-cluster.ts) and spreads the sessions over all its servers.
// --spread random|round-robin: how sessions pick a server of a multi-server
// target (bench/e2e/target.ts); default round-robin for --cluster and
// zookeeper://local --nodes N, random (the clients' own shuffle) otherwise.
// --inflight N: each session keeps N requests outstanding (N closed loops on one
// session; default 1, one request in flight). --value-bytes B: the value size of
// W1-W3 (default 100). The workers connect and prepare, then all start together.
import { fork } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { markdownTable } from '../support.js';
import { cpuSeconds, parsePids } from './cpu-time.js';
import { type LocalZooKeeper, startLocalZooKeeper } from '../zookeeper/local-zookeeper.js';
import { LatencyHistogram } from './histogram.js';
import { FAILOVER_HEADER, measureFailover } from './failover-election.js';
import { type LocalCluster, startLocalCluster } from './local-cluster.js';
import { CHILD_EXEC_ARGV, COMPILED, type LocalServer, startLocalServer } from './local-server.js';
import { type BenchSpread, type BenchTarget, describeTarget, zookeeperConnectString } from './target.js';
import type { FromWorker, ToWorker, WorkerResult, WorkerTask } from './worker.js';
import { DEFAULT_VALUE_BYTES, describeWorkload, formatBytes, WORKLOADS, type WorkloadName } from './workloads.js';

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'zook' },
    servers: { type: 'string' },
    nodes: { type: 'string', default: '1' },
    cluster: { type: 'string' },
    spread: { type: 'string' },
    duration: { type: 'string', default: '10' },
    sessions: { type: 'string', default: '32' },
    'lock-sessions': { type: 'string', default: '16' },
    workers: { type: 'string', default: '4' },
    workloads: { type: 'string', default: WORKLOADS.join(',') },
    'failover-rounds': { type: 'string' },
    'cpu-pids': { type: 'string' },
    protocol: { type: 'string', default: 'ws' },
    inflight: { type: 'string', default: '1' },
    'value-bytes': { type: 'string', default: String(DEFAULT_VALUE_BYTES) },
    /** JSON object of server settings for the ensemble --cluster starts, e.g. '{"raftMaxInflightAppends":4}'. */
    settings: { type: 'string' },
  },
});

const here = fileURLToPath(new URL('.', import.meta.url));
const ext = COMPILED ? 'js' : 'ts';
const execArgv = [...CHILD_EXEC_ARGV];

interface WorkerHandle {
  /** Resolves once the worker's sessions are open and prepared; rejects if it failed first. */
  readonly ready: Promise<void>;
  readonly result: Promise<WorkerResult>;
  start(startAtMs: number): void;
  kill(): void;
}

function startWorker(task: WorkerTask): WorkerHandle {
  const child = fork(join(here, `worker.${ext}`), [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let markReady!: () => void;
  let failReady!: (error: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  const result = new Promise<WorkerResult>((resolve, reject) => {
    child.on('message', (message: FromWorker) => {
      if (message.type === 'ready') return markReady();
      const { type: _, ...rest } = message;
      if (rest.error !== undefined) failReady(new Error(rest.error));
      resolve(rest);
    });
    child.once('exit', (code) => {
      const error = new Error(`load worker exited with ${code}`);
      failReady(error);
      if (code !== 0) reject(error);
    });
  });
  // Whoever waits on one of them handles the failure; keep the other from being unhandled.
  ready.catch(() => {});
  result.catch(() => {});
  child.send({ type: 'task', task } satisfies ToWorker);
  return {
    ready,
    result,
    start: (startAtMs) => void child.send({ type: 'start', startAtMs } satisfies ToWorker),
    kill: () => void child.kill('SIGKILL'),
  };
}

interface LoadShape {
  readonly sessions: number;
  readonly workers: number;
  readonly durationMs: number;
  readonly inflight: number;
  readonly valueBytes: number;
}

async function runWorkload(target: BenchTarget, workload: WorkloadName, shape: LoadShape, cpuPids: readonly number[]) {
  const { sessions, workers, durationMs, inflight, valueBytes } = shape;
  const perWorker = Array.from({ length: workers }, (_, i) => Math.floor(sessions / workers) + (i < sessions % workers ? 1 : 0)).filter((n) => n > 0);
  const firstSession = perWorker.map((_, i) => perWorker.slice(0, i).reduce((a, b) => a + b, 0));
  const handles = perWorker.map((n, workerIndex) =>
    startWorker({ target, workload, sessions: n, workerIndex, firstSession: firstSession[workerIndex], durationMs, inflight, valueBytes }),
  );
  // Everyone starts together once every worker has connected and prepared its sessions.
  try {
    await Promise.all(handles.map((h) => h.ready));
  } catch (error) {
    for (const h of handles) h.kill();
    throw new Error(`${workload}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const startAtMs = Date.now() + 300;
  for (const h of handles) h.start(startAtMs);
  // The servers' CPU over exactly the measured window (the workers' start and end times).
  let cpuAtStart = NaN;
  let cpuAtEnd = NaN;
  const startTimer = setTimeout(() => (cpuAtStart = cpuSeconds(cpuPids)), startAtMs - Date.now());
  const endTimer = setTimeout(() => (cpuAtEnd = cpuSeconds(cpuPids)), startAtMs + durationMs - Date.now());
  const results = await Promise.all(handles.map((h) => h.result));
  const failed = results.find((r) => r.error !== undefined);
  if (failed) throw new Error(`${workload}: ${failed.error}`);
  const histogram = new LatencyHistogram();
  for (const r of results) histogram.merge(new LatencyHistogram(r.counts));
  const ops = results.reduce((a, r) => a + r.ops, 0);
  clearTimeout(startTimer);
  clearTimeout(endTimer);
  // The workers can report a hair before the end timer fires (their last op ends at the end time).
  if (Number.isNaN(cpuAtEnd) && cpuPids.length > 0) cpuAtEnd = cpuSeconds(cpuPids);
  const cpuUsPerOp = cpuPids.length > 0 && ops > 0 && Number.isFinite(cpuAtEnd - cpuAtStart) ? ((cpuAtEnd - cpuAtStart) * 1e6) / ops : null;
  return { workload, sessions, inflight, valueBytes, opsPerSecond: ops / (durationMs / 1000), p50Ms: histogram.quantileMs(0.5), p99Ms: histogram.quantileMs(0.99), cpuUsPerOp };
}

async function main(): Promise<void> {
  const durationMs = Number(values.duration) * 1000;
  const sessions = Number(values.sessions);
  const lockSessions = Number(values['lock-sessions']);
  const workers = Number(values.workers);
  const inflight = Number(values.inflight);
  const valueBytes = Number(values['value-bytes']);
  if (!Number.isInteger(inflight) || inflight < 1) throw new Error(`--inflight takes a positive integer, not ${values.inflight}`);
  if (!Number.isInteger(valueBytes) || valueBytes < 0) throw new Error(`--value-bytes takes a byte count, not ${values['value-bytes']}`);
  const chosen = values.workloads!.split(',').map((w) => w.trim()) as WorkloadName[];
  const nodes = Number(values.nodes);
  const clusterSize = values.cluster === undefined ? 0 : Number(values.cluster);
  const zkConnect = zookeeperConnectString(values.target);
  if (values.spread !== undefined && values.spread !== 'random' && values.spread !== 'round-robin') throw new Error(`--spread must be random or round-robin, not ${values.spread}`);
  const localMulti = clusterSize > 1 || (zkConnect === 'local' && nodes > 1);
  const spread: BenchSpread = (values.spread as BenchSpread | undefined) ?? (localMulti ? 'round-robin' : 'random');
  let local: LocalServer | null = null;
  let localCluster: LocalCluster | null = null;
  let localZk: LocalZooKeeper | null = null;
  let target: BenchTarget;
  let described: string;
  if (values.protocol !== 'ws' && values.protocol !== 'zookeeper') throw new Error(`--protocol must be ws or zookeeper, not ${values.protocol}`);
  const viaZooKeeperProtocol = values.protocol === 'zookeeper';
  if (zkConnect === null) {
    if (nodes !== 1) throw new Error('--nodes applies to zookeeper://local; for a local zook ensemble use --cluster N');
    if (clusterSize > 0) {
      if (values.servers !== undefined) throw new Error('--cluster starts its own servers: drop --servers');
      const settings = values.settings === undefined ? undefined : (JSON.parse(values.settings) as Record<string, unknown>);
      localCluster = await startLocalCluster(clusterSize, { settings });
      target = viaZooKeeperProtocol ? { kind: 'zookeeper', connectString: localCluster.zkConnectString, spread } : { kind: 'zook', servers: localCluster.urls, spread };
      described = `a local ${clusterSize}-node zook ensemble (${localCluster.urls.join(',')}; leader ${localCluster.leader}, pids ${localCluster.members.map((m) => `${m.id}:${m.pid}`).join(' ')})`;
    } else {
      local = values.servers === undefined ? await startLocalServer() : null;
      if (viaZooKeeperProtocol && local === null) throw new Error('--protocol zookeeper is for servers this run starts; for others use --target zookeeper://host:port');
      target =
        viaZooKeeperProtocol && local !== null
          ? { kind: 'zookeeper', connectString: `127.0.0.1:${local.zkPort}`, spread }
          : { kind: 'zook', servers: local ? [local.url] : values.servers!.split(','), spread };
      described = local ? 'a local single-node zook server' : describeTarget(target);
    }
  } else if (zkConnect === 'local') {
    if (clusterSize > 0) throw new Error('--cluster is for zook; ZooKeeper ensembles take --nodes N');
    localZk = await startLocalZooKeeper(nodes);
    target = { kind: 'zookeeper', connectString: localZk.connectString, spread };
    described = `a local ZooKeeper ${nodes === 1 ? 'standalone' : `${nodes}-node ensemble`} (${localZk.connectString})`;
  } else {
    target = { kind: 'zookeeper', connectString: zkConnect, spread };
    described = describeTarget(target);
  }
  if (localMulti || (target.kind === 'zook' ? target.servers.length : target.connectString.split(',').length) > 1) described += `; sessions spread ${spread}`;
  const servers = target.kind === 'zook' ? target.servers : [target.connectString];
  console.log(`# ${target.kind === 'zook' ? 'zook' : 'ZooKeeper'} end-to-end load, ${new Date().toISOString().slice(0, 10)}`);
  console.log(`${cpus()[0]?.model ?? 'CPU'}, ${cpus().length} cores; target ${described}; ${workers} client processes; ${durationMs / 1000} s per workload${inflight === 1 ? '' : `; ${inflight} requests in flight per session`}${valueBytes === DEFAULT_VALUE_BYTES ? '' : `; ${formatBytes(valueBytes)} values`}\n`);
  const cpuPids = values['cpu-pids'] !== undefined ? parsePids(values['cpu-pids']) : [local?.pid, ...(localCluster?.members.map((m) => m.pid) ?? []), ...(localZk?.pids ?? [])].filter((p): p is number => p !== undefined && p > 0);
  const rows = [];
  let clusterNote: string | null = null;
  try {
    for (const workload of chosen) {
      rows.push(await runWorkload(target, workload, { sessions: workload === 'W4' ? lockSessions : sessions, workers, durationMs, inflight, valueBytes }, cpuPids));
    }
    if (localCluster !== null) {
      // Did leadership stay put under load? (A change mid-run is a finding.)
      const statuses = await localCluster.status();
      clusterNote = statuses
        .map((s, i) => (s === null ? `server ${i + 1}: no /status` : `server ${String(s.serverId)}: ${String(s.role)}, term ${String(s.term)}, leader changes ${String(s.leaderChanges)}, applied ${String(s.appliedIndex)}, forwarded ${String(s.forwardedWrites)}, digest ${String(s.digest)}`))
        .join('\n');
    }
  } finally {
    await local?.stop();
    await localCluster?.stop();
    await localZk?.stop();
  }
  if (clusterNote !== null) console.log(`${clusterNote}\n`);
  console.log(
    markdownTable(
      ['workload', 'sessions', 'ops/s', 'p50 ms', 'p99 ms', 'server CPU us/op'],
      rows.map((r) => [
        `${r.workload} ${describeWorkload(r.workload, r.valueBytes)}`,
        String(r.sessions),
        Math.round(r.opsPerSecond).toLocaleString('en-US'),
        r.p50Ms.toFixed(2),
        r.p99Ms.toFixed(2),
        r.cpuUsPerOp === null ? '-' : r.cpuUsPerOp.toFixed(0),
      ]),
    ),
  );
  // The failover recipe runs on its own single server; skip it for --cluster runs unless asked.
  const failoverRounds = target.kind === 'zook' ? Number(values['failover-rounds'] ?? (clusterSize > 0 ? 0 : 3)) : 0;
  let failover: string[][] = [];
  if (failoverRounds > 0) {
    // The LeaderLatch recipe on its own local server (5 participants, 2 s sessions).
    failover = await measureFailover({ participants: 5, rounds: failoverRounds, sessionMs: 2000 });
    console.log('\nLeader-election failover (LeaderLatch, 5 participants, 2 s sessions)\n');
    console.log(markdownTable(FAILOVER_HEADER, failover));
  }
  console.log(`\n${JSON.stringify({ date: new Date().toISOString(), target: target.kind, servers: local ? 'local' : servers, cluster: clusterSize || undefined, nodes: zkConnect === 'local' ? nodes : undefined, spread, durationMs, results: rows, failover })}`);
}

main().catch((error: unknown) => {
  console.error(`bench:e2e: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
