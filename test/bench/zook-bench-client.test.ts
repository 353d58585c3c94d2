// The load generator's workloads run through the zook adapter against a real server process.
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { BenchClient } from '../../bench/e2e/bench-client.js';
import { ZookBenchClient } from '../../bench/e2e/zook-bench-client.js';
import { useServerProcess } from '../server/support/server-process.js';
import { checkContract, exerciseWorkloads } from './workloads-shared.js';

describe('bench:e2e over zook (BenchClient adapter)', () => {
  const server = useServerProcess();
  const clients: BenchClient[] = [];

  beforeAll(async () => {
    // Three sessions: enough for W4's lock to be contended (watch the predecessor, wait, acquire).
    for (let i = 0; i < 3; i++) clients.push(await ZookBenchClient.open([server.current.url], 10_000));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
  });

  it('keeps the adapter contract the workloads rely on', async () => {
    await checkContract(clients[0]);
  });

  it('runs W1-W4 a few ops each', async () => {
    await exerciseWorkloads(clients);
  });
});
