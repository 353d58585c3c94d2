// `npm run bench:e2e [-- options]`: the end-to-end load generator. Starts a local
// server (or targets --servers), then drives W1-W4 from several client processes
// and prints ops/s, p50 and p99 per workload as a Markdown table and as JSON,
// then the LeaderLatch failover time (--failover-rounds N, 0 to skip).
// It reports; it never asserts.
import { fork } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { markdownTable } from '../support.js';
import { LatencyHistogram } from './histogram.js';
import { FAILOVER_HEADER, measureFailover } from './failover-election.js';
import { CHILD_EXEC_ARGV, COMPILED, startLocalServer } from './local-server.js';
import type { WorkerResult, WorkerTask } from './worker.js';
import { DESCRIPTIONS, WORKLOADS, type WorkloadName } from './workloads.js';

const { values } = parseArgs({
  options: {
    servers: { type: 'string' },
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

async function runWorkload(servers: string[], workload: WorkloadName, sessions: number, workers: number, durationMs: number) {
  const perWorker = Array.from({ length: workers }, (_, i) => Math.floor(sessions / workers) + (i < sessions % workers ? 1 : 0)).filter((n) => n > 0);
  // Everyone starts together after connecting and preparing.
  const startAtMs = Date.now() + 2000 + 100 * sessions;
  const results = await Promise.all(
    perWorker.map((n, workerIndex) => runWorker({ servers, workload, sessions: n, workerIndex, startAtMs, durationMs })),
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
  const local = values.servers === undefined ? await startLocalServer() : null;
  const servers = local ? [local.url] : values.servers!.split(',');
  console.log(`# zook end-to-end load, ${new Date().toISOString().slice(0, 10)}`);
  console.log(`${cpus()[0]?.model ?? 'CPU'}, ${cpus().length} cores; target ${local ? 'a local single-node server' : servers.join(',')}; ${workers} client processes; ${durationMs / 1000} s per workload\n`);
  const rows = [];
  try {
    for (const workload of chosen) {
      rows.push(await runWorkload(servers, workload, workload === 'W4' ? lockSessions : sessions, workers, durationMs));
    }
  } finally {
    await local?.stop();
  }
  console.log(
    markdownTable(
      ['workload', 'sessions', 'ops/s', 'p50 ms', 'p99 ms'],
      rows.map((r) => [`${r.workload} ${DESCRIPTIONS[r.workload]}`, String(r.sessions), Math.round(r.opsPerSecond).toLocaleString('en-US'), r.p50Ms.toFixed(2), r.p99Ms.toFixed(2)]),
    ),
  );
  const failoverRounds = Number(values['failover-rounds']);
  let failover: string[][] = [];
  if (failoverRounds > 0) {
    // The LeaderLatch recipe on its own local server (5 participants, 2 s sessions).
    failover = await measureFailover({ participants: 5, rounds: failoverRounds, sessionMs: 2000 });
    console.log('\nLeader-election failover (LeaderLatch, 5 participants, 2 s sessions)\n');
    console.log(markdownTable(FAILOVER_HEADER, failover));
  }
  console.log(`\n${JSON.stringify({ date: new Date().toISOString(), servers: local ? 'local' : servers, durationMs, results: rows, failover })}`);
}

main().catch((error: unknown) => {
  console.error(`bench:e2e: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
