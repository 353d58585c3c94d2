// The side-by-side zook / ZooKeeper table both compare scripts print, from the
// JSON summary line a bench:e2e run ends with.
import { readFileSync } from 'node:fs';
import { markdownTable } from '../support.js';
import { DESCRIPTIONS, type WorkloadName } from '../e2e/workloads.js';

export interface SummaryRow {
  readonly workload: WorkloadName;
  readonly sessions: number;
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Server CPU (user + system, all server processes) per op in microseconds; null when not measured. */
  readonly cpuUsPerOp?: number | null;
}

/** The results of the last JSON line of a bench:e2e output. */
export function summaryRows(text: string, what: string): SummaryRow[] {
  const json = text.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  if (json === undefined) throw new Error(`${what}: no JSON summary line (did the run finish?)`);
  return (JSON.parse(json) as { results: SummaryRow[] }).results;
}

export function summaryFile(file: string): SummaryRow[] {
  return summaryRows(readFileSync(file, 'utf8'), file);
}

const ops = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number): string => n.toFixed(1);
export const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a');

/** Markdown table, zook first; `p50Ratio` adds a p50 zook/ZK column. */
export function compareTable(zook: readonly SummaryRow[], zookeeper: readonly SummaryRow[], options: { p50Ratio?: boolean } = {}): string {
  const zk = new Map(zookeeper.map((r) => [r.workload, r]));
  const rows = zook.flatMap((z) => {
    const k = zk.get(z.workload);
    if (k === undefined) return [];
    return [
      [
        `${z.workload} ${DESCRIPTIONS[z.workload]}`,
        String(z.sessions),
        `${ops(z.opsPerSecond)} (${ms(z.p50Ms)} / ${ms(z.p99Ms)})`,
        `${ops(k.opsPerSecond)} (${ms(k.p50Ms)} / ${ms(k.p99Ms)})`,
        ratio(z.opsPerSecond, k.opsPerSecond),
        ...(options.p50Ratio === true ? [ratio(z.p50Ms, k.p50Ms)] : []),
        ratio(z.p99Ms, k.p99Ms),
      ],
    ];
  });
  const header = ['workload', 'sessions', 'zook ops/s (p50 / p99 ms)', 'ZooKeeper ops/s (p50 / p99 ms)', 'ops/s zook/ZK', ...(options.p50Ratio === true ? ['p50 zook/ZK'] : []), 'p99 zook/ZK'];
  return markdownTable(header, rows);
}
