import { SeededRandom } from '../../src/util/random.js';

/**
 * Runs a property check with a seeded random source. The seed comes from ZOOK_SEED
 * when set (to replay a failure), otherwise from `defaultSeed`; a failure names it.
 */
export function seeded(defaultSeed: number, check: (rng: SeededRandom) => void): void {
  const fromEnv = process.env.ZOOK_SEED;
  const seed = fromEnv === undefined ? defaultSeed : Number.parseInt(fromEnv, 10);
  try {
    check(new SeededRandom(seed));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\n  seed ${seed}: replay with ZOOK_SEED=${seed}`, { cause: error });
  }
}
