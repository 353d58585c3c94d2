// `npm run sim -- [--seed N | --seeds N [--from S]] [--nodes 3|5] [--steps N] [--variant name]
//                 [--verbose] [--trace-ticks FROM:TO] [--keep-going] [--storage-writes sync|async]`
// Runs the deterministic whole-cluster simulation (seeds alternate 3 and 5 nodes unless
// --nodes pins one). Prints a one-line summary; on failure the seed, the check that failed,
// a readable trace (around the offending operation for linearizability failures) and the
// command that replays it.
import { BROKEN_VARIANTS, type BrokenVariant } from '../../src/consensus/index.js';
import { type SimResult, runSimulation } from './cluster.js';

interface Args {
  seed: number | null;
  seeds: number;
  from: number;
  nodes: 3 | 5 | null;
  steps: number;
  variant: BrokenVariant | undefined;
  verbose: boolean;
  stopOnFailure: boolean;
  traceTicks: [number, number] | undefined;
  storageWrites: 'sync' | 'async' | undefined;
}

export const DEFAULT_STEPS = 20_000;

function parse(argv: readonly string[]): Args {
  const args: Args = { seed: null, seeds: 20, from: 1, nodes: null, steps: DEFAULT_STEPS, variant: undefined, verbose: false, stopOnFailure: true, traceTicks: undefined, storageWrites: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const int = (): number => {
      const v = Number.parseInt(value(), 10);
      if (!Number.isSafeInteger(v)) throw new Error(`${a} needs an integer`);
      return v;
    };
    if (a === '--seed') args.seed = int();
    else if (a === '--seeds') args.seeds = int();
    else if (a === '--from') args.from = int();
    else if (a === '--steps') args.steps = int();
    else if (a === '--nodes') {
      const n = int();
      if (n !== 3 && n !== 5) throw new Error('--nodes must be 3 or 5');
      args.nodes = n;
    } else if (a === '--variant') {
      const v = value();
      if (!(BROKEN_VARIANTS as readonly string[]).includes(v)) throw new Error(`unknown variant ${v}; one of ${BROKEN_VARIANTS.join(', ')}`);
      args.variant = v as BrokenVariant;
    } else if (a === '--storage-writes') {
      const v = value();
      if (v !== 'sync' && v !== 'async') throw new Error(`--storage-writes takes sync or async, not ${v}`);
      args.storageWrites = v;
    } else if (a === '--verbose') args.verbose = true;
    else if (a === '--trace-ticks') {
      const [from, to] = value().split(':').map((x) => Number.parseInt(x, 10));
      if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) throw new Error('--trace-ticks wants FROM:TO');
      args.traceTicks = [from, to];
      args.verbose = true;
    }
    else if (a === '--keep-going') args.stopOnFailure = false;
    else if (a === '--help' || a === '-h') {
      console.log('usage: npm run sim -- [--seed N | --seeds N [--from N]] [--nodes 3|5] [--steps N] [--variant name] [--verbose] [--trace-ticks FROM:TO] [--keep-going] [--storage-writes sync|async]');
      console.log(`variants (deliberately broken, test only): ${BROKEN_VARIANTS.join(', ')}`);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

/** Seeds alternate cluster sizes unless --nodes pins one. */
export function nodesForSeed(seed: number, pinned: 3 | 5 | null): 3 | 5 {
  return pinned ?? (seed % 2 === 0 ? 5 : 3);
}

export function replayCommand(r: SimResult, steps: number): string {
  const parts = [`npm run sim -- --seed ${r.seed} --nodes ${r.nodes}`];
  if (steps !== DEFAULT_STEPS) parts.push(`--steps ${steps}`);
  if (r.variant !== null) parts.push(`--variant ${r.variant}`);
  const w = r.failure?.window;
  return `${parts.join(' ')} ${w === null || w === undefined ? '--verbose' : `--trace-ticks ${w[0]}:${w[1]}`}`;
}

function summary(r: SimResult): string {
  const s = r.stats;
  return (
    `seed ${r.seed} nodes ${r.nodes}${r.variant === null ? '' : ` variant ${r.variant}`}: ${r.ok ? 'ok' : `FAILED (${r.failure?.kind})`}, ` +
    `${r.steps} steps, ${r.ticks} ticks, ${s.leaders} leaders, ops ${s.opsOk} ok/${s.opsFailed} failed/${s.opsUnknown} unknown, ` +
    `${s.crashes} crashes, ${s.partitions} partitions, ${s.confChanges} conf changes, ${s.transfers} transfers, ` +
    `${s.snapshotsInstalled} snapshots installed, leader ${s.livenessLeaderTicks} ticks after heal, ` +
    `watches: ${s.watchReplays} replays (${s.watchEventsReplayed} events), ${s.watchReplaysCompacted} compacted, ${s.watchEventsChecked} events checked`
  );
}

function main(): void {
  const args = parse(process.argv.slice(2));
  const seeds = args.seed !== null ? [args.seed] : Array.from({ length: args.seeds }, (_, i) => args.from + i);
  const started = performance.now();
  let failed = 0;
  let steps = 0;
  let ticks = 0;
  let lastSeed = seeds[0];
  for (const seed of seeds) {
    lastSeed = seed;
    const options = { seed, nodes: nodesForSeed(seed, args.nodes), steps: args.steps, variant: args.variant, verbose: args.verbose, traceTicks: args.traceTicks, storageWrites: args.storageWrites };
    const r = runSimulation(options);
    steps += r.steps;
    ticks += r.ticks;
    if (seeds.length === 1 || !r.ok) console.log(summary(r));
    if (!r.ok) {
      failed++;
      const failure = r.failure;
      console.log(`\n${failure?.kind} failure at tick ${failure?.atTick}: ${failure?.message}`);
      // Replay with the verbose trace (same seed, same run): around the offending operation, or the tail.
      const w = failure?.window ?? undefined;
      const detail = args.verbose ? r : runSimulation({ ...options, verbose: true, traceTicks: w === null ? undefined : w });
      const lines = detail.trace.length > 200 ? detail.trace.filter((l) => !/ Heartbeat(Response)? /.test(l)) : detail.trace;
      const window = w === undefined || w === null ? 'tail' : `ticks ${w[0]}..${w[1]} (heartbeats left out)`;
      console.log(`\ntrace ${window}:\n${lines.slice(-250).join('\n')}`);
      console.log(`\nseed ${seed} failed; replay with:\n  ${replayCommand(r, args.steps)}\n`);
      if (args.stopOnFailure) break;
    } else if (seeds.length > 1 && (seed - args.from + 1) % 100 === 0) {
      console.log(`... ${seed - args.from + 1} seeds, ${failed} failed, ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
  }
  const secs = (performance.now() - started) / 1000;
  const ran = lastSeed - seeds[0] + 1;
  console.log(
    `sim: ${failed === 0 ? 'ok' : 'FAILED'}: ${ran} seeds (${seeds[0]}..${lastSeed}), ${failed} failed, ${steps} steps, ${ticks} ticks in ${secs.toFixed(1)} s`,
  );
  process.exitCode = failed === 0 ? 0 : 1;
}

main();
