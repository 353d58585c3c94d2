// Shared plumbing for the micro benchmarks: run tinybench tasks, turn mean
// latencies into rates, print a Markdown table. Benchmarks report; they never assert.
import { Bench } from 'tinybench';

export interface BenchCase {
  readonly name: string;
  readonly fn: () => unknown;
  /** Work items done by one call of fn (records in a batch, keys looked up...). */
  readonly itemsPerCall?: number;
  /** Bytes processed by one call of fn, for a throughput column. */
  readonly bytesPerCall?: number;
}

export interface BenchRow {
  readonly name: string;
  /** Items per second (calls per second times itemsPerCall). */
  readonly itemsPerSecond: number;
  /** Bytes per second, when the case processes bytes. */
  readonly bytesPerSecond?: number;
}

/** Milliseconds each case is measured for; BENCH_TIME_MS overrides (CI runs short). */
export const BENCH_TIME_MS = Number(process.env.BENCH_TIME_MS ?? 400);

export async function measure(cases: readonly BenchCase[]): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const c of cases) {
    const bench = new Bench({ time: BENCH_TIME_MS, warmupTime: Math.min(100, BENCH_TIME_MS / 4) });
    bench.add(c.name, c.fn);
    await bench.run();
    const result = bench.tasks[0].result;
    if (!('period' in result)) throw new Error(`benchmark ${c.name} did not complete: ${result.state}`);
    const callsPerSecond = 1000 / result.period;
    rows.push({
      name: c.name,
      itemsPerSecond: callsPerSecond * (c.itemsPerCall ?? 1),
      bytesPerSecond: c.bytesPerCall === undefined ? undefined : callsPerSecond * c.bytesPerCall,
    });
  }
  return rows;
}

export function formatRate(perSecond: number): string {
  if (perSecond >= 1e9) return `${(perSecond / 1e9).toFixed(2)} G`;
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)} k`;
  return perSecond.toFixed(0);
}

export function formatBytes(perSecond: number): string {
  return perSecond >= 1e9 ? `${(perSecond / 1e9).toFixed(2)} GB/s` : `${(perSecond / 1e6).toFixed(0)} MB/s`;
}

/** A Markdown table: the same text goes to the terminal and into README. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** One benchmark suite: a name to filter on and a function that prints its tables. */
export interface BenchSuite {
  readonly name: string;
  run(): Promise<void>;
}
