// Side-by-side table from two bench:e2e outputs (zook first, ZooKeeper second):
// reads the JSON summary each run prints as its last line and prints ops/s,
// p50 and p99 per workload with the zook/ZooKeeper ratios. Reports, never asserts.
//   node dist/bench/zookeeper/compare.js zook.out zookeeper.out
import { readFileSync } from 'node:fs';
import { markdownTable } from '../support.js';
import { DESCRIPTIONS, type WorkloadName } from '../e2e/workloads.js';

interface Row {
  readonly workload: WorkloadName;
  readonly sessions: number;
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

function summary(file: string): Row[] {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const json = lines.reverse().find((l) => l.startsWith('{'));
  if (json === undefined) throw new Error(`${file}: no JSON summary line (did the run finish?)`);
  return (JSON.parse(json) as { results: Row[] }).results;
}

const [zookFile, zkFile] = process.argv.slice(2);
if (zookFile === undefined || zkFile === undefined) {
  console.error('usage: compare.js <zook run output> <ZooKeeper run output>');
  process.exit(2);
}
const zk = new Map(summary(zkFile).map((r) => [r.workload, r]));
const ops = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number): string => n.toFixed(1);
const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a');
const rows = summary(zookFile).flatMap((z) => {
  const k = zk.get(z.workload);
  if (k === undefined) return [];
  return [
    [
      `${z.workload} ${DESCRIPTIONS[z.workload]}`,
      String(z.sessions),
      `${ops(z.opsPerSecond)} (${ms(z.p50Ms)} / ${ms(z.p99Ms)})`,
      `${ops(k.opsPerSecond)} (${ms(k.p50Ms)} / ${ms(k.p99Ms)})`,
      ratio(z.opsPerSecond, k.opsPerSecond),
      ratio(z.p99Ms, k.p99Ms),
    ],
  ];
});
console.log(
  markdownTable(['workload', 'sessions', 'zook ops/s (p50 / p99 ms)', 'ZooKeeper ops/s (p50 / p99 ms)', 'ops/s zook/ZK', 'p99 zook/ZK'], rows),
);
