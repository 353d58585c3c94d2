// zook N-node vs ZooKeeper N-node, back to back in one invocation, one table:
//   npm run bench:cluster-compare -- [--nodes 3] [--duration 10] [--order zookeeper-first|zook-first] [--out dir]
// runs `main.js --cluster N` and `main.js --target zookeeper://local --nodes N`
// (same workloads, sessions, client processes and spread), keeps each run's
// output (in --out if given), records the 1/5-minute load average before and
// after each side, and prints the side-by-side table with zook/ZooKeeper ratios
// for ops/s, p50 and p99 plus the JSON of both. Reports, never asserts: the box
// is shared, so repeat it (ideally in both orders) before quoting a ratio.
// --interleave starts both ensembles once, keeps them up, and runs each workload
// on both back to back (ZooKeeper then zook, or zook then ZooKeeper per --order),
// so the two figures of a row are seconds apart rather than a minute: less
// exposed to the box's load changing between them (each idle ensemble costs
// the other side a little CPU: ticks and heartbeats).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { compareTable, summaryRows } from '../zookeeper/compare-table.js';
import { startLocalZooKeeper } from '../zookeeper/local-zookeeper.js';
import { startLocalCluster } from './local-cluster.js';
import { type MainRun, runMain } from './run-main.js';
import { WORKLOADS } from './workloads.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
    sessions: { type: 'string' },
    'lock-sessions': { type: 'string' },
    workers: { type: 'string' },
    workloads: { type: 'string', default: WORKLOADS.join(',') },
    spread: { type: 'string' },
    order: { type: 'string', default: 'zookeeper-first' },
    out: { type: 'string' },
    interleave: { type: 'boolean' },
  },
});


function shared(workloads = values.workloads!): string[] {
  const args = ['--duration', values.duration!, '--workloads', workloads];
  for (const key of ['sessions', 'lock-sessions', 'workers', 'spread'] as const) if (values[key] !== undefined) args.push(`--${key}`, values[key]!);
  return args;
}

interface Side {
  readonly name: 'zook' | 'ZooKeeper';
  readonly args: string[];
}

function run(side: Side): Promise<MainRun> {
  return runMain(side.name, side.args);
}

/** Both ensembles up at once; each workload on both, back to back. Returns each side's concatenated output and a merged summary line. */
async function interleaved(nodes: number, sides: ReadonlyArray<'zook' | 'ZooKeeper'>): Promise<Map<string, MainRun>> {
  const cluster = await startLocalCluster(nodes);
  const zk = await startLocalZooKeeper(nodes).catch(async (error: unknown) => {
    await cluster.stop();
    throw error;
  });
  const spread = ['--spread', values.spread ?? 'round-robin'];
  const out = new Map<string, { output: string; rows: unknown[]; loadBefore: string; loadAfter: string; seconds: number }>();
  try {
    for (const workload of values.workloads!.split(',')) {
      for (const name of sides) {
        const args = name === 'zook' ? ['--servers', cluster.urls.join(','), '--failover-rounds', '0'] : ['--target', `zookeeper://${zk.connectString}`];
        const r = await run({ name, args: [...args, ...shared(workload), ...spread] });
        const prev = out.get(name);
        const rows = summaryRows(r.output, `${name} ${workload}`);
        out.set(name, {
          output: (prev?.output ?? '') + r.output,
          rows: [...(prev?.rows ?? []), ...rows],
          loadBefore: prev?.loadBefore ?? r.loadBefore,
          loadAfter: r.loadAfter,
          seconds: (prev?.seconds ?? 0) + r.seconds,
        });
      }
    }
    const leader = await cluster.currentLeader();
    console.error(`compare-cluster: zook leader at the start ${cluster.leader}, at the end ${leader || 'none agreed'}`);
  } finally {
    await cluster.stop();
    await zk.stop();
  }
  return new Map([...out].map(([name, o]) => [name, { output: `${o.output}\n${JSON.stringify({ results: o.rows })}\n`, loadBefore: o.loadBefore, loadAfter: o.loadAfter, seconds: o.seconds }]));
}

async function main(): Promise<void> {
  const nodes = Number(values.nodes);
  const zook: Side = { name: 'zook', args: ['--cluster', String(nodes), ...shared()] };
  const zk: Side = { name: 'ZooKeeper', args: ['--target', 'zookeeper://local', '--nodes', String(nodes), ...shared()] };
  if (values.order !== 'zookeeper-first' && values.order !== 'zook-first') throw new Error('--order is zookeeper-first or zook-first');
  const sides = values.order === 'zook-first' ? [zook, zk] : [zk, zook];
  let results = new Map<string, MainRun>();
  if (values.interleave === true) results = await interleaved(nodes, sides.map((s) => s.name));
  else for (const side of sides) results.set(side.name, await run(side));
  const z = results.get('zook')!;
  const k = results.get('ZooKeeper')!;
  if (values.out !== undefined) {
    mkdirSync(values.out, { recursive: true });
    writeFileSync(join(values.out, 'zook.out'), z.output);
    writeFileSync(join(values.out, 'zookeeper.out'), k.output);
  }
  console.log(`# zook ${nodes}-node vs ZooKeeper ${nodes}-node, ${new Date().toISOString().slice(0, 16)}Z, ${values.duration} s per workload, ${values.order}${values.interleave === true ? ', interleaved per workload' : ''}\n`);
  console.log(`load average (1 / 5 min): ${sides.map((s) => `${s.name} before ${results.get(s.name)!.loadBefore}, after ${results.get(s.name)!.loadAfter} (${Math.round(results.get(s.name)!.seconds)} s)`).join('; ')}\n`);
  console.log(compareTable(summaryRows(z.output, 'zook run'), summaryRows(k.output, 'ZooKeeper run'), { p50Ratio: true }));
  console.log(`\n${JSON.stringify({ nodes, order: values.order, load: Object.fromEntries([...results].map(([n, r]) => [n, { before: r.loadBefore, after: r.loadAfter }])), zook: summaryRows(z.output, 'zook'), zookeeper: summaryRows(k.output, 'ZooKeeper') })}`);
}

main().catch((error: unknown) => {
  console.error(`compare-cluster: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
