// The checks both adapter tests run: W1-W4 end to end through a BenchClient, a few
// ops each, so a broken adapter shows up here rather than as odd benchmark figures.
import { expect } from 'vitest';
import type { BenchClient } from '../../bench/e2e/bench-client.js';
import { LatencyHistogram } from '../../bench/e2e/histogram.js';
import { prepareSession, runLoop, WORKLOADS } from '../../bench/e2e/workloads.js';

/** Runs every workload on `clients` (each op at least `minOps` times) and checks what they left behind. */
export async function exerciseWorkloads(clients: readonly BenchClient[], minOps = 3): Promise<void> {
  const [first] = clients;
  for (const workload of WORKLOADS) {
    const ops = await Promise.all(clients.map((c, i) => prepareSession(workload, c, `t-${i}`)));
    const histogram = new LatencyHistogram();
    // A short time budget, but never fewer than minOps: runLoop stops at the deadline.
    let done = 0;
    while (done < minOps * clients.length) {
      const counts = await Promise.all(ops.map((op) => runLoop(op, Date.now() + 50, histogram)));
      done += counts.reduce((a, b) => a + b, 0);
    }
    expect(histogram.count, workload).toBe(done);
  }
  // W1 wrote the 100-byte payload; W3 and W4 deleted every node they created.
  expect((await first.getData('/bench/own/t-0')).length).toBe(100);
  for (let i = 0; i < clients.length; i++) expect(await first.getChildren(`/bench/eph/t-${i}`)).toEqual([]);
  expect(await first.getChildren('/bench/lock')).toEqual([]);
}

/** The adapter contract the workloads rely on: NodeExists is recognisable, and the exists watch fires on delete. */
export async function checkContract(client: BenchClient): Promise<void> {
  await client.create('/contract', new Uint8Array(0));
  await expect(client.create('/contract', new Uint8Array(0))).rejects.toMatchObject({ code: 'NodeExists' });
  const seq = await client.create('/contract/s-', new Uint8Array([1]), 'EPHEMERAL_SEQUENTIAL');
  expect(seq).toMatch(/^\/contract\/s-\d{10}$/);
  const fired = new Promise<void>((resolve) => void client.existsWatch(seq, resolve).then((exists) => expect(exists).toBe(true)));
  await client.delete(seq);
  await fired;
  expect(await client.existsWatch(seq, () => {})).toBe(false);
}
