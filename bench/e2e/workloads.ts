// The end-to-end workloads, each a closed loop per session (one request in
// flight, as a ZooKeeper application does; `inflight` N runs N such loops on each
// session, so it keeps N requests outstanding), driven through a BenchClient (zook's
// client or node-zookeeper-client), so zook and ZooKeeper run the same code:
//   W1 setData of 100 B (or valueBytes) on the session's own node
//   W2 getData of the session's own node
//   W3 create + delete of an ephemeral sequential node (one op = the pair)
//   W4 a lock contended by the sessions: ephemeral sequential child, watch only the
//      predecessor, release by delete (one op = one acquisition)
import type { BenchClient } from './bench-client.js';
import type { LatencyHistogram } from './histogram.js';

export type WorkloadName = 'W1' | 'W2' | 'W3' | 'W4';
export const WORKLOADS: readonly WorkloadName[] = ['W1', 'W2', 'W3', 'W4'];

export const DESCRIPTIONS: Record<WorkloadName, string> = {
  W1: 'setData 100 B, own node',
  W2: 'getData 100 B, own node',
  W3: 'ephemeral sequential create + delete',
  W4: 'lock acquisitions (ephemeral sequential, watch predecessor)',
};

/** The value size W1-W3 write unless told otherwise (`--value-bytes`). */
export const DEFAULT_VALUE_BYTES = 100;

/** The workload's label, with the value size when it is not the default. */
export function describeWorkload(workload: WorkloadName, valueBytes = DEFAULT_VALUE_BYTES): string {
  const text = DESCRIPTIONS[workload];
  return valueBytes === DEFAULT_VALUE_BYTES ? text : text.replace('100 B', formatBytes(valueBytes));
}

/** 100 B, 4 KiB, 100 KiB, 1 MiB. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

const payloads = new Map<number, Uint8Array>();
function payload(bytes: number): Uint8Array {
  let p = payloads.get(bytes);
  if (p === undefined) payloads.set(bytes, (p = new Uint8Array(bytes).fill(0x61)));
  return p;
}

const EMPTY = new Uint8Array(0);
const BASE = '/bench';

function ignoreNodeExists(error: unknown): void {
  if ((error as { code?: string }).code !== 'NodeExists') throw error;
}

export async function ensurePath(client: BenchClient, path: string): Promise<void> {
  let prefix = '';
  for (const part of path.split('/').filter(Boolean)) {
    prefix += `/${part}`;
    await client.create(prefix, EMPTY).catch(ignoreNodeExists);
  }
}

/** Creates what a session's loop needs; returns the loop body (one op). */
export async function prepareSession(workload: WorkloadName, client: BenchClient, sessionTag: string, valueBytes = DEFAULT_VALUE_BYTES): Promise<() => Promise<void>> {
  const data = payload(valueBytes);
  switch (workload) {
    case 'W1':
    case 'W2': {
      const path = `${BASE}/own/${sessionTag}`;
      await ensurePath(client, `${BASE}/own`);
      await client.create(path, data).catch(ignoreNodeExists);
      if (workload === 'W1') return () => client.setData(path, data);
      return async () => void (await client.getData(path));
    }
    case 'W3': {
      const dir = `${BASE}/eph/${sessionTag}`;
      await ensurePath(client, dir);
      return async () => {
        const path = await client.create(`${dir}/e-`, data, 'EPHEMERAL_SEQUENTIAL');
        await client.delete(path);
      };
    }
    case 'W4': {
      const dir = `${BASE}/lock`;
      await ensurePath(client, dir);
      return () => acquireAndRelease(client, dir);
    }
  }
}

async function acquireAndRelease(client: BenchClient, dir: string): Promise<void> {
  const mine = await client.create(`${dir}/l-`, EMPTY, 'EPHEMERAL_SEQUENTIAL');
  const name = mine.slice(dir.length + 1);
  for (;;) {
    const children = (await client.getChildren(dir)).sort();
    const at = children.indexOf(name);
    if (at < 0) throw new Error(`lock node ${mine} vanished`);
    if (at === 0) break;
    const predecessor = `${dir}/${children[at - 1]}`;
    const gone = new Promise<void>((resolve) => {
      void client
        .existsWatch(predecessor, () => resolve())
        .then((exists) => {
          if (!exists) resolve();
        })
        .catch(() => resolve());
    });
    await gone;
  }
  await client.delete(mine);
}

/**
 * Runs `op` back to back until `endMs`, recording each latency. With `inflight` N
 * (default 1, the closed loop) N such loops share the session, so N requests stay
 * outstanding: each completion starts the next op at once. Returns the ops done.
 */
export async function runLoop(op: () => Promise<void>, endMs: number, histogram: LatencyHistogram, inflight = 1): Promise<number> {
  if (!Number.isInteger(inflight) || inflight < 1) throw new Error(`inflight must be a positive integer, not ${inflight}`);
  let done = 0;
  const loop = async (): Promise<void> => {
    while (Date.now() < endMs) {
      const started = performance.now();
      await op();
      histogram.recordMs(performance.now() - started);
      done++;
    }
  };
  await Promise.all(Array.from({ length: inflight }, loop));
  return done;
}
