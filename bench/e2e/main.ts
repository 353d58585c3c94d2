// `npm run bench:e2e [-- options]`: the end-to-end load generator. Starts a local
// server (or targets --servers), then drives W1-W4 from several client processes
// and prints ops/s, p50 and p99 per workload as a Markdown table and as JSON,
// then the LeaderLatch failover time (--failover-rounds N, 0 to skip).
// It reports; it never asserts.
// --target zookeeper://host:port[,host:port] runs the same workloads against Apache
// ZooKeeper (node-zookeeper-client); zookeeper://local starts one from Debian's
// package (bench/zookeeper/start-local.sh), --nodes 3 for an ensemble. The
// failover measurement is zook's own recipe, so it runs for zook targets only.
import { fork } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { markdownTable } from '../support.js';
import { type LocalZooKeeper, startLocalZooKeeper } from '../zookeeper/local-zookeeper.js';
import { LatencyHistogram } from './histogram.js';
import { FAILOVER_HEADER, measureFailover } from './failover-election.js';
import { CHILD_EXEC_ARGV, COMPILED, type LocalServer, startLocalServer } from './local-server.js';
import { type BenchTarget, describeTarget, zookeeperConnectString } from './target.js';
import type { WorkerResult, WorkerTask } from './worker.js';
import { DESCRIPTIONS, WORKLOADS, type WorkloadName } from './workloads.js';

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'zook' },
    servers: { type: 'string' },
    nodes: { type: 'string', default: '1' },
    duration: { type: 'string', default: '10' },
    sessions: { type: 'string', default: '32' },
    'lock-sessions': { type: 'string', default: '16' },
    workers: { type: 'string', default: '4' },
    workloads: { type: 'string', default: WORKLOADS.join(',') },
    'failover-rounds': { type: 'string', default: '3' },
  },
});

const here = fileURLToPath(new URL('.', import.meta.url));
const ext = COMPILED ? 'js' : 'ts';
const execArgv = [...CHILD_EXEC_ARGV];

function runWorker(task: WorkerTask): Promise<WorkerResult> {
  const child = fork(join(here, `worker.${ext}`), [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (result: WorkerResult) => resolve(result));
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`load worker exited with ${code}`));
    });
    child.send(task);
  });
}

async function runWorkload(target: BenchTarget, workload: WorkloadName, sessions: number, workers: number, durationMs: number) {
  const perWorker = Array.from({ length: workers }, (_, i) => Math.floor(sessions / workers) + (i < sessions % workers ? 1 : 0)).filter((n) => n > 0);
  // Everyone starts together after connecting and preparing.
  const startAtMs = Date.now() + 2000 + 100 * sessions;
  const results = await Promise.all(
    perWorker.map((n, workerIndex) => runWorker({ target, workload, sessions: n, workerIndex, startAtMs, durationMs })),
  );
  const failed = results.find((r) => r.error !== undefined);
  if (failed) throw new Error(`${workload}: ${failed.error}`);
  const histogram = new LatencyHistogram();
  for (const r of results) histogram.merge(new LatencyHistogram(r.counts));
  const ops = results.reduce((a, r) => a + r.ops, 0);
  return { workload, sessions, opsPerSecond: ops / (durationMs / 1000), p50Ms: histogram.quantileMs(0.5), p99Ms: histogram.quantileMs(0.99) };
}

async function main(): Promise<void> {
  const durationMs = Number(values.duration) * 1000;
  const sessions = Number(values.sessions);
  const lockSessions = Number(values['lock-sessions']);
  const workers = Number(values.workers);
  const chosen = values.workloads!.split(',').map((w) => w.trim()) as WorkloadName[];
  const nodes = Number(values.nodes);
  const zkConnect = zookeeperConnectString(values.target);
  let local: LocalServer | null = null;
  let localZk: LocalZooKeeper | null = null;
  let target: BenchTarget;
  let described: string;
  if (zkConnect === null) {
    if (nodes !== 1) throw new Error('--nodes applies to zookeeper://local; for zook, start an ensemble and pass --servers');
    local = values.servers === undefined ? await startLocalServer() : null;
    target = { kind: 'zook', servers: local ? [local.url] : values.servers!.split(',') };
    described = local ? 'a local single-node zook server' : describeTarget(target);
  } else if (zkConnect === 'local') {
    localZk = await startLocalZooKeeper(nodes);
    target = { kind: 'zookeeper', connectString: localZk.connectString };
    described = `a local ZooKeeper ${nodes === 1 ? 'standalone' : `${nodes}-node ensemble`} (${localZk.connectString})`;
  } else {
    target = { kind: 'zookeeper', connectString: zkConnect };
    described = describeTarget(target);
  }
  const servers = target.kind === 'zook' ? target.servers : [target.connectString];
  console.log(`# ${target.kind === 'zook' ? 'zook' : 'ZooKeeper'} end-to-end load, ${new Date().toISOString().slice(0, 10)}`);
  console.log(`${cpus()[0]?.model ?? 'CPU'}, ${cpus().length} cores; target ${described}; ${workers} client processes; ${durationMs / 1000} s per workload\n`);
  const rows = [];
  try {
    for (const workload of chosen) {
      rows.push(await runWorkload(target, workload, workload === 'W4' ? lockSessions : sessions, workers, durationMs));
    }
  } finally {
    await local?.stop();
    await localZk?.stop();
  }
  console.log(
    markdownTable(
      ['workload', 'sessions', 'ops/s', 'p50 ms', 'p99 ms'],
      rows.map((r) => [`${r.workload} ${DESCRIPTIONS[r.workload]}`, String(r.sessions), Math.round(r.opsPerSecond).toLocaleString('en-US'), r.p50Ms.toFixed(2), r.p99Ms.toFixed(2)]),
    ),
  );
  const failoverRounds = target.kind === 'zook' ? Number(values['failover-rounds']) : 0;
  let failover: string[][] = [];
  if (failoverRounds > 0) {
    // The LeaderLatch recipe on its own local server (5 participants, 2 s sessions).
    failover = await measureFailover({ participants: 5, rounds: failoverRounds, sessionMs: 2000 });
    console.log('\nLeader-election failover (LeaderLatch, 5 participants, 2 s sessions)\n');
    console.log(markdownTable(FAILOVER_HEADER, failover));
  }
  console.log(`\n${JSON.stringify({ date: new Date().toISOString(), target: target.kind, servers: local ? 'local' : servers, durationMs, results: rows, failover })}`);
}

main().catch((error: unknown) => {
  console.error(`bench:e2e: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
