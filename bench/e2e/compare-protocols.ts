// The same client library against both servers, and what each zook protocol costs:
//   npm run bench:compare-protocols -- [--nodes 1|3] [--duration 10] [--rounds 3] [--workloads W1,W2,W3,W4]
//     [--warmup-duration S] [--sides ZooKeeper,zook/TCP,zook/WS]
// Starts a zook ensemble (or single server) and a ZooKeeper 3.8 ensemble (or
// standalone) of the same size once, keeps both up, warms ZooKeeper's JVM (and
// zook) with one discarded pass of every workload, then runs R rounds; in each
// round every workload runs back to back on three sides:
//   ZooKeeper  node-zookeeper-client -> ZooKeeper's client port
//   zook/TCP   node-zookeeper-client -> zook's ZooKeeper-protocol port (same library)
//   zook/WS    zook's own client      -> zook's WebSocket port
// The order of the sides rotates each round (--sides ZooKeeper,zook/TCP leaves out
// zook's WebSocket side: CI's short comparison does). Prints per workload the median
// of the rounds and the spread (min-max) of the per-round ratios, plus all of it as JSON.
// Reports, never asserts: the machine is shared.
import { parseArgs } from 'node:util';
import { markdownTable } from '../support.js';
import { type SummaryRow, summaryRows } from '../zookeeper/compare-table.js';
import { startLocalZooKeeper } from '../zookeeper/local-zookeeper.js';
import { startLocalCluster } from './local-cluster.js';
import { loadAverage, runMain } from './run-main.js';
import { DESCRIPTIONS, WORKLOADS, type WorkloadName } from './workloads.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1' },
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    workloads: { type: 'string', default: WORKLOADS.join(',') },
    sessions: { type: 'string' },
    workers: { type: 'string' },
    'warmup-duration': { type: 'string' },
    sides: { type: 'string' },
  },
});

type SideName = 'ZooKeeper' | 'zook/TCP' | 'zook/WS';
const SIDES: readonly SideName[] = ['ZooKeeper', 'zook/TCP', 'zook/WS'];

interface Sample {
  readonly round: number;
  readonly side: SideName;
  readonly workload: WorkloadName;
  readonly row: SummaryRow;
  readonly load: string;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const spread = (xs: readonly number[]): string => {
  if (xs.length === 0) return 'n/a';
  const [lo, hi] = [Math.min(...xs).toFixed(2), Math.max(...xs).toFixed(2)];
  return lo === hi ? `${lo}x` : `${lo}-${hi}x`;
};

async function main(): Promise<void> {
  const nodes = Number(values.nodes);
  const rounds = Number(values.rounds);
  const workloads = values.workloads!.split(',').map((w) => w.trim()) as WorkloadName[];
  const sides = values.sides === undefined ? SIDES : (values.sides.split(',').map((s) => s.trim()) as SideName[]);
  for (const s of sides) if (!SIDES.includes(s)) throw new Error(`--sides takes ${SIDES.join(', ')}, not ${s}`);
  if (!sides.includes('ZooKeeper') || !sides.includes('zook/TCP')) throw new Error('--sides must keep ZooKeeper and zook/TCP (the ratios compare them)');
  const withWs = sides.includes('zook/WS');
  const extra: string[] = [];
  for (const key of ['sessions', 'workers'] as const) if (values[key] !== undefined) extra.push(`--${key}`, values[key]!);

  const cluster = await startLocalCluster(nodes);
  const zk = await startLocalZooKeeper(nodes).catch(async (error: unknown) => {
    await cluster.stop();
    throw error;
  });
  const zookPids = ['--cpu-pids', cluster.members.map((m) => m.pid).join(',')];
  const targets: Record<SideName, string[]> = {
    ZooKeeper: ['--target', `zookeeper://${zk.connectString}`, '--cpu-pids', zk.pids.join(',')],
    'zook/TCP': ['--target', `zookeeper://${cluster.zkConnectString}`, ...zookPids],
    'zook/WS': ['--servers', cluster.urls.join(','), '--failover-rounds', '0', ...zookPids],
  };
  const side = async (name: SideName, workload: WorkloadName, duration: string): Promise<{ row: SummaryRow; load: string }> => {
    const args = [...targets[name], '--duration', duration, '--workloads', workload, '--spread', 'round-robin', ...extra];
    const run = await runMain(`${name} ${workload}`, args);
    return { row: summaryRows(run.output, `${name} ${workload}`)[0], load: run.loadBefore };
  };

  const samples: Sample[] = [];
  try {
    // ZooKeeper's JIT makes its first pass 2-3x slower: one discarded pass of everything, both servers.
    const warmup = values['warmup-duration'] ?? values.duration!;
    for (const workload of workloads) for (const name of sides) await side(name, workload, warmup);
    for (let round = 1; round <= rounds; round++) {
      const order = sides.map((_, i) => sides[(i + round - 1) % sides.length]);
      for (const workload of workloads) {
        for (const name of order) {
          const { row, load } = await side(name, workload, values.duration!);
          samples.push({ round, side: name, workload, row, load });
        }
      }
    }
  } finally {
    await cluster.stop();
    await zk.stop();
  }

  const get = (round: number, name: SideName, workload: WorkloadName): SummaryRow | undefined =>
    samples.find((s) => s.round === round && s.side === name && s.workload === workload)?.row;
  const ratios = (workload: WorkloadName, a: SideName, b: SideName, field: 'opsPerSecond' | 'p99Ms'): number[] => {
    const out: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const x = get(round, a, workload);
      const y = get(round, b, workload);
      if (x !== undefined && y !== undefined && y[field] > 0) out.push(x[field] / y[field]);
    }
    return out;
  };
  const med = (name: SideName, workload: WorkloadName, field: 'opsPerSecond' | 'p50Ms' | 'p99Ms' | 'cpuUsPerOp'): number =>
    median(samples.filter((s) => s.side === name && s.workload === workload).map((s) => s.row[field] ?? NaN).filter((x) => Number.isFinite(x)));
  const cpuRange = (name: SideName, workload: WorkloadName): string => {
    const xs = samples.filter((s) => s.side === name && s.workload === workload).map((s) => s.row.cpuUsPerOp ?? NaN).filter((x) => Number.isFinite(x));
    if (xs.length === 0) return '-';
    const [lo, hi] = [Math.round(Math.min(...xs)), Math.round(Math.max(...xs))];
    return lo === hi ? String(lo) : `${lo}-${hi}`;
  };

  console.log(`# node-zookeeper-client against ZooKeeper 3.8 and zook (${nodes === 1 ? 'single server' : `${nodes} servers`})${withWs ? ", zook's own client over WebSocket" : ''}`);
  console.log(`${new Date().toISOString().slice(0, 16)}Z; ${rounds} rounds of ${values.duration} s per workload and side after a warm-up pass; load average at the end ${loadAverage()}\n`);
  const rows = workloads.map((w) => [
    `${w} ${DESCRIPTIONS[w]}`,
    ...sides.map((n) => `${Math.round(med(n, w, 'opsPerSecond')).toLocaleString('en-US')} (${med(n, w, 'p50Ms').toFixed(1)} / ${med(n, w, 'p99Ms').toFixed(1)})`),
    spread(ratios(w, 'zook/TCP', 'ZooKeeper', 'opsPerSecond')),
    spread(ratios(w, 'zook/TCP', 'ZooKeeper', 'p99Ms')),
    ...(withWs ? [spread(ratios(w, 'zook/WS', 'zook/TCP', 'opsPerSecond'))] : []),
    ...sides.map((n) => cpuRange(n, w)),
  ]);
  console.log(
    markdownTable(
      [
        'workload',
        ...sides.map((n) => `${n} ops/s (p50 / p99 ms)`),
        'ops/s zook/TCP / ZK',
        'p99 zook/TCP / ZK',
        ...(withWs ? ['ops/s zook/WS / zook/TCP'] : []),
        ...sides.map((n) => `${n} server CPU us/op`),
      ],
      rows,
    ),
  );
  console.log(`\n${JSON.stringify({ nodes, rounds, duration: Number(values.duration), sides, samples })}`);
}

main().catch((error: unknown) => {
  console.error(`compare-protocols: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
