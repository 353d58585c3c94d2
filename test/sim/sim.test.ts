// The CI run of the whole-cluster simulation: a fixed seed set for 3 and 5 nodes.
// Every seed checks election safety, log matching, leader completeness and
// state-machine safety after every step, linearizability of the client history,
// and liveness once the faults stop, and that every simulated watcher received exactly
// the changes of the committed log, across reconnects replayed from the nodes' change
// histories (test/sim/watchers.ts). Replay a failure with the printed command.
import { describe, expect, it } from 'vitest';
import { CI_SEEDS_PER_SIZE, CI_STEPS } from './ci.js';
import { type SimResult, runSimulation } from './cluster.js';
const CHUNK = 50;

function explain(r: SimResult): string {
  return `seed ${r.seed} (${r.nodes} nodes) failed: ${r.failure?.kind}: ${r.failure?.message}\n` +
    `replay: npm run sim -- --seed ${r.seed} --nodes ${r.nodes} --verbose\n${r.trace.slice(-30).join('\n')}`;
}

for (const nodes of [3, 5] as const) {
  describe(`simulation, ${nodes} nodes, ${CI_SEEDS_PER_SIZE} seeds x ${CI_STEPS} steps`, () => {
    for (let from = 1; from <= CI_SEEDS_PER_SIZE; from += CHUNK) {
      const to = Math.min(CI_SEEDS_PER_SIZE, from + CHUNK - 1);
      it(`seeds ${from}..${to} keep every safety property, linearizability, liveness and watch replay`, () => {
        let steps = 0;
        const watches = { watchReplays: 0, watchEventsReplayed: 0, watchReplaysCompacted: 0, watchEventsChecked: 0 };
        for (let seed = from; seed <= to; seed++) {
          const r = runSimulation({ seed, nodes, steps: CI_STEPS });
          if (!r.ok) expect.fail(explain(r));
          steps += r.steps;
          for (const k of Object.keys(watches) as (keyof typeof watches)[]) watches[k] += r.stats[k];
          expect(r.stats.livenessLeaderTicks).toBeGreaterThanOrEqual(0);
          expect(r.stats.checkerGaveUp, `seed ${seed}: linearizability search gave up`).toBe(0);
        }
        expect(steps).toBeGreaterThanOrEqual((to - from + 1) * CI_STEPS);
        // The watch check compared something: replays, fallbacks and events all happened.
        for (const [k, v] of Object.entries(watches)) expect(v, k).toBeGreaterThan(0);
      });
    }
  });
}

describe('simulation determinism', () => {
  it('the same seed replays to the same run', () => {
    const a = runSimulation({ seed: 4242, nodes: 5, steps: 5_000 });
    const b = runSimulation({ seed: 4242, nodes: 5, steps: 5_000 });
    expect(b.steps).toBe(a.steps);
    expect(b.ticks).toBe(a.ticks);
    expect(b.stats).toEqual(a.stats);
  });

  it('a run exercises crashes, partitions, membership changes, transfers, snapshots and watch replays', () => {
    const totals = {
      crashes: 0,
      partitions: 0,
      confChanges: 0,
      transfers: 0,
      snapshotsInstalled: 0,
      opsOk: 0,
      leaders: 0,
      watchReplays: 0,
      watchEventsReplayed: 0,
      watchReplaysCompacted: 0,
      watchEventsChecked: 0,
    };
    for (let seed = 1; seed <= 10; seed++) {
      const r = runSimulation({ seed, nodes: seed % 2 === 0 ? 5 : 3, steps: CI_STEPS });
      for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += r.stats[k];
    }
    for (const [k, v] of Object.entries(totals)) expect(v, k).toBeGreaterThan(0);
  });
});
