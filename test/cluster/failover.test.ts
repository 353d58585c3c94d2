// Issue 7: how long writes stop when the leader dies (measured and printed, never asserted as a time).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, test } from 'vitest';
import { isZookError } from '../../src/client/index.js';
import { Cluster, FAST_SETTINGS } from './support/cluster.js';
import { CLIENT_OPTIONS, connectAll, unknownOutcome } from './support/workload.js';

const SOAK = process.env.ZOOK_SOAK === '1';
const ROUNDS = SOAK ? 30 : 5;
const RESULTS = fileURLToPath(new URL('./failover-results.json', import.meta.url));

let cluster: Cluster | undefined;
afterAll(async () => {
  await cluster?.stopAll();
});

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

test(`failover: over ${ROUNDS} rounds, kill -9 the leader and measure the ms until a client of the whole ensemble has a write acknowledged that it sent after the kill`, async () => {
  const c = (cluster = await Cluster.start({ size: 3 }));
  await c.leader();
  const zk = await connectAll(c.connectString());
  await zk.create('/failover', '0');
  const samples: { round: number; killed: number; ms: number; attempts: number; clientWasOnLeader: boolean }[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const leader = await c.leader();
    await zk.setData('/failover', `before-${round}`);
    const clientWasOnLeader = c.idOfUrl(zk.currentServer) === leader;
    const killedAt = performance.now();
    await c.kill9(leader);
    // Only writes invoked after the kill count: one acknowledged before it proves nothing.
    let attempts = 0;
    let ms = -1;
    while (ms < 0) {
      attempts++;
      try {
        await zk.setData('/failover', `round-${round}-${attempts}`, { timeoutMs: 3000 });
        ms = performance.now() - killedAt;
      } catch (error) {
        if (!unknownOutcome(error) && !isZookError(error, 'Throttled')) throw error;
        if (performance.now() - killedAt > 30_000) throw new Error(`round ${round}: no write acknowledged 30 s after killing leader ${leader}`);
      }
    }
    samples.push({ round, killed: leader, ms: Math.round(ms), attempts, clientWasOnLeader });
    await c.restart(leader);
    await c.waitConverged(20_000, c.ids);
  }
  await zk.close();

  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  const p50 = percentile(sorted, 50);
  const max = sorted[sorted.length - 1];
  console.log(`failover over ${ROUNDS} rounds: p50 ${p50} ms, max ${max} ms`);
  // The soak's figures are the ones README quotes; a default run only prints its own.
  if (process.env.ZOOK_SOAK === '1') writeFileSync(
    RESULTS,
    `${JSON.stringify(
      {
        rounds: ROUNDS,
        p50Ms: p50,
        maxMs: max,
        samples,
        settings: FAST_SETTINGS,
        client: CLIENT_OPTIONS,
        measured: 'ms from SIGKILL of the leader to the first acknowledged setData invoked after it, by a client connected with all 3 servers',
        at: new Date().toISOString(),
      },
      null,
      2,
    )}\n`,
  );
  expect(samples).toHaveLength(ROUNDS);
}, SOAK ? 600_000 : 120_000);
