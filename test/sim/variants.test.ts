// Proof that the simulator's checks bite: each deliberately broken variant of the
// core (a test-only switch) must be caught within a bounded number of seeds.
import { describe, expect, it } from 'vitest';
import { BROKEN_VARIANTS, type BrokenVariant } from '../../src/consensus/index.js';
import { runSimulation } from './cluster.js';
import { CI_STEPS, VARIANT_MAX_SEEDS as MAX_SEEDS } from './ci.js';

function firstCatch(variant: BrokenVariant): { seed: number; steps: number; ticks: number; atTick: number; kind: string; message: string } | null {
  let steps = 0;
  let ticks = 0;
  for (let seed = 1; seed <= MAX_SEEDS; seed++) {
    const r = runSimulation({ seed, nodes: 3, steps: CI_STEPS, variant });
    steps += r.steps;
    ticks += r.ticks;
    if (!r.ok && r.failure !== null) {
      return { seed, steps, ticks, atTick: r.failure.atTick, kind: r.failure.kind, message: r.failure.message.split('\n')[0] };
    }
  }
  return null;
}

describe('broken variants are caught by the simulation', () => {
  for (const variant of BROKEN_VARIANTS) {
    it(`catches ${variant}`, () => {
      const caught = firstCatch(variant);
      expect(caught, `${variant} survived ${MAX_SEEDS} seeds`).not.toBeNull();
      // caught by the simulator's own checks, not by an assertion inside the core
      expect(caught?.kind).not.toBe('assertion');
      if (caught !== null) {
        console.log(
          `variant ${variant}: caught at seed ${caught.seed} (tick ${caught.atTick} of that run; ${caught.steps} steps / ${caught.ticks} ticks over all seeds tried) by ${caught.kind}: ${caught.message}`,
        );
      }
    });
  }
});
