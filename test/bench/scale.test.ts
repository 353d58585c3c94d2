// The pure parts of bench:scale and of the load generator's new options: the
// points it plans, the plot it draws from a results file, its tables, and
// runLoop's in-flight option. No servers, no timing asserts.
import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../bench/e2e/histogram.js';
import { describeWorkload, formatBytes, runLoop } from '../../bench/e2e/workloads.js';
import { renderSvg, scaleSpec } from '../../bench/scale/plot.js';
import { BASE, DEFAULT_POINTS, DIMENSIONS, formatValue, parseList, planPoints, watchedNodes } from '../../bench/scale/points.js';
import { resultTables, type ScaleResults } from '../../bench/scale/results.js';

function results(): ScaleResults {
  const point = (dimension: 'sessions' | 'valueBytes' | 'watches', value: number, ops: number, cpu: number | null) => ({
    dimension,
    value,
    config: { ...BASE, [dimension]: value },
    opsPerSecond: ops,
    p50Ms: 2,
    p99Ms: 9,
    cpuUsPerOp: cpu,
    prefillSeconds: 0.2,
    loadBefore: '1.00 / 1.00',
    loadAfter: '1.10 / 1.00',
  });
  return {
    date: '2026-12-07T12:00:00.000Z',
    machine: { cpu: 'Test CPU', cores: 2, node: 'v20.0.0' },
    quick: true,
    durationSeconds: 1,
    warmupSeconds: 1,
    workers: 4,
    base: BASE,
    loadAtStart: '1.00 / 1.00',
    loadAtEnd: '1.20 / 1.00',
    points: [point('sessions', 1, 700, 1500), point('sessions', 32, 4000, 260), point('sessions', 1024, 4500, 230), point('valueBytes', 100, 4000, 260), point('valueBytes', 102_400, 400, 2100), point('watches', 0, 4000, 260), point('watches', 100_000, 3900, null)],
    restarts: [
      { treeZnodes: 1000, prefillSeconds: 0.1, killedServer: 2, targetIndex: 12, statusUpMs: 480, catchUpMs: 740, servingMs: 750, loadBefore: '1.00 / 1.00' },
      { treeZnodes: 1_000_000, prefillSeconds: 60, killedServer: 3, targetIndex: 1020, statusUpMs: 4000, catchUpMs: 9000, servingMs: 9100, loadBefore: '1.00 / 1.00' },
    ],
    errors: [],
  };
}

describe('bench:scale points', () => {
  it('varies one dimension at a time from the base point', () => {
    const planned = planPoints(DIMENSIONS, DEFAULT_POINTS);
    expect(planned).toHaveLength(DIMENSIONS.reduce((n, d) => n + DEFAULT_POINTS[d].length, 0));
    for (const p of planned) {
      for (const d of DIMENSIONS) expect(p.config[d], `${p.dimension}=${p.value}: ${d}`).toBe(d === p.dimension ? p.value : BASE[d]);
    }
    expect(planned.filter((p) => p.dimension === 'sessions').map((p) => p.value)).toEqual([1, 8, 32, 128, 1024]);
    expect(() => planPoints(['sessions'], { sessions: [0] })).toThrow();
    expect(watchedNodes([0, 100_000])).toBe(100_000);
  });

  it('reads point lists with k, M and KiB', () => {
    expect(parseList('1k,100k,1M')).toEqual([1000, 100_000, 1_000_000]);
    expect(parseList('100, 4KiB,100KiB')).toEqual([100, 4096, 102_400]);
    expect(() => parseList('ten')).toThrow();
    expect(formatValue('treeZnodes', 1_000_000)).toBe('1M');
    expect(formatValue('sessions', 1024)).toBe('1024');
    expect(formatValue('valueBytes', 102_400)).toBe('100 KiB');
  });
});

describe('bench:scale plot and tables', () => {
  it('draws an SVG with a panel per measured dimension and the restart panel', async () => {
    const spec = scaleSpec(results()) as unknown as { concat: unknown[] };
    expect(spec.concat).toHaveLength(4); // sessions, value size, watches, restart
    const svg = await renderSvg(scaleSpec(results()));
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('</svg>');
    for (const title of ['Sessions', 'Value size', 'Data watches held by other sessions', 'Follower restart after kill -9 (3 servers)', 'ops/s', 'server CPU us/op']) expect(svg).toContain(title);
    expect(svg).not.toContain('Ensemble size');
  });

  it('prints a row per point and per restart', () => {
    const text = resultTables(results());
    expect(text).toContain('| sessions | 1024 | 4,500 | 2.00 | 9.00 | 230 | 0.2 | 1.00 |');
    expect(text).toContain('| watches | 100k | 3,900 | 2.00 | 9.00 | - |');
    expect(text).toContain('| 1M | 60.0 | 4.00 | 9.00 | 9.10 |');
  });
});

describe('load generator options', () => {
  it('runLoop keeps N requests outstanding per session with inflight N', async () => {
    for (const inflight of [1, 8, 64]) {
      let outstanding = 0;
      let most = 0;
      const op = async (): Promise<void> => {
        outstanding++;
        most = Math.max(most, outstanding);
        await new Promise((r) => setTimeout(r, 1));
        outstanding--;
      };
      const histogram = new LatencyHistogram();
      const done = await runLoop(op, Date.now() + 60, histogram, inflight);
      expect(most, `inflight ${inflight}`).toBe(inflight);
      expect(outstanding).toBe(0);
      expect(histogram.count).toBe(done);
      expect(done).toBeGreaterThanOrEqual(inflight);
    }
    await expect(runLoop(async () => {}, Date.now(), new LatencyHistogram(), 0)).rejects.toThrow();
  });

  it('labels workloads with their value size', () => {
    expect(describeWorkload('W1')).toBe('setData 100 B, own node');
    expect(describeWorkload('W1', 4096)).toBe('setData 4 KiB, own node');
    expect(formatBytes(102_400)).toBe('100 KiB');
  });
});
