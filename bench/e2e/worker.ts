// One load-generator process: opens its sessions on the target (zook or
// ZooKeeper), runs the workload it is told to, reports op counts and a latency
// histogram to the parent over IPC.
import type { BenchClient } from './bench-client.js';
import { LatencyHistogram } from './histogram.js';
import { type BenchTarget, openBenchClient } from './target.js';
import { prepareSession, runLoop, type WorkloadName } from './workloads.js';

export interface WorkerTask {
  readonly target: BenchTarget;
  readonly workload: WorkloadName;
  readonly sessions: number;
  readonly workerIndex: number;
  /** Index of this worker's first session among all workers' sessions (for round-robin spread). */
  readonly firstSession?: number;
  readonly startAtMs: number;
  readonly durationMs: number;
}

export interface WorkerResult {
  readonly ops: number;
  readonly counts: number[];
  readonly error?: string;
}

async function run(task: WorkerTask): Promise<WorkerResult> {
  const clients: BenchClient[] = [];
  try {
    for (let i = 0; i < task.sessions; i++) clients.push(await openBenchClient(task.target, 20_000, (task.firstSession ?? 0) + i));
    const ops = await Promise.all(clients.map((c, i) => prepareSession(task.workload, c, `${task.workerIndex}-${i}`)));
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, task.startAtMs - Date.now())));
    const histogram = new LatencyHistogram();
    const end = task.startAtMs + task.durationMs;
    const counts = await Promise.all(ops.map((op) => runLoop(op, end, histogram)));
    return { ops: counts.reduce((a, b) => a + b, 0), counts: histogram.counts };
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
  }
}

process.on('message', (task: WorkerTask) => {
  run(task).then(
    (result) => process.send!(result, () => process.exit(0)),
    (error: unknown) => process.send!({ ops: 0, counts: [], error: String(error) } satisfies WorkerResult, () => process.exit(1)),
  );
});
