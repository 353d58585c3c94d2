// The fixed budget of the CI simulation run (test/sim/*.test.ts).

/** Simulator steps in the fault phase of every CI seed. */
export const CI_STEPS = 20_000;
/** Seeds run for each cluster size (3 and 5 nodes). */
export const CI_SEEDS_PER_SIZE = 200;
/** Seeds tried per broken variant before its test gives up (3-node clusters). */
export const VARIANT_MAX_SEEDS = 400;
