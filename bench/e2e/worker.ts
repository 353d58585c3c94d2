// One load-generator process: opens its sessions on the target (zook or
// ZooKeeper), prepares the workload it is told to, says it is ready, waits for
// the common start time, runs the workload, reports op counts and a latency
// histogram to the parent over IPC.
import type { BenchClient } from './bench-client.js';
import { LatencyHistogram } from './histogram.js';
import { type BenchTarget, openBenchClient } from './target.js';
import { DEFAULT_VALUE_BYTES, prepareSession, runLoop, type WorkloadName } from './workloads.js';

export interface WorkerTask {
  readonly target: BenchTarget;
  readonly workload: WorkloadName;
  readonly sessions: number;
  readonly workerIndex: number;
  /** Index of this worker's first session among all workers' sessions (for round-robin spread). */
  readonly firstSession?: number;
  readonly durationMs: number;
  /** Requests each session keeps outstanding (default 1: a closed loop). */
  readonly inflight?: number;
  /** Value size of W1-W3's writes (default 100 B). */
  readonly valueBytes?: number;
}

/** Parent to worker: the task first, then (after the worker said ready) when to start. */
export type ToWorker = { readonly type: 'task'; readonly task: WorkerTask } | { readonly type: 'start'; readonly startAtMs: number };

export interface WorkerResult {
  readonly ops: number;
  readonly counts: number[];
  readonly error?: string;
}

/** Worker to parent: ready once every session is open and prepared, then the result. */
export type FromWorker = { readonly type: 'ready' } | ({ readonly type: 'result' } & WorkerResult);

let startAt: ((ms: number) => void) | null = null;
const started = new Promise<number>((resolve) => (startAt = resolve));

async function run(task: WorkerTask): Promise<WorkerResult> {
  const clients: BenchClient[] = [];
  try {
    for (let i = 0; i < task.sessions; i++) clients.push(await openBenchClient(task.target, 20_000, (task.firstSession ?? 0) + i));
    const ops = await Promise.all(clients.map((c, i) => prepareSession(task.workload, c, `${task.workerIndex}-${i}`, task.valueBytes ?? DEFAULT_VALUE_BYTES)));
    process.send!({ type: 'ready' } satisfies FromWorker);
    const startAtMs = await started;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAtMs - Date.now())));
    const histogram = new LatencyHistogram();
    const end = startAtMs + task.durationMs;
    const counts = await Promise.all(ops.map((op) => runLoop(op, end, histogram, task.inflight ?? 1)));
    return { ops: counts.reduce((a, b) => a + b, 0), counts: histogram.counts };
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
  }
}

process.on('message', (message: ToWorker) => {
  if (message.type === 'start') {
    startAt!(message.startAtMs);
    return;
  }
  run(message.task).then(
    (result) => process.send!({ type: 'result', ...result } satisfies FromWorker, () => process.exit(0)),
    (error: unknown) => process.send!({ type: 'result', ops: 0, counts: [], error: String(error) } satisfies FromWorker, () => process.exit(1)),
  );
});
