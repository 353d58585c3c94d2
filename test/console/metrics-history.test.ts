// What the console's charts compute from two scrapes of /metrics (console/src/prometheus.ts,
// console/src/history.ts): request rate, latency quantiles inside histogram buckets (as
// PromQL's histogram_quantile), mean fsync time; nothing across a server restart.
import { describe, expect, test } from 'vitest';
import { histogram, histogramDelta, parsePrometheus, quantile, total } from '../../console/src/prometheus.js';
import { HISTORY_SECONDS, lagSeries, pointBetween, scrapeOf, trimmed } from '../../console/src/history.js';

const scrape1 = `# HELP zook_requests_total Requests answered.
# TYPE zook_requests_total counter
zook_requests_total{op="getData",error="ok"} 100
zook_requests_total{op="setData",error="ok"} 50
# TYPE zook_request_duration_seconds histogram
zook_request_duration_seconds_bucket{op="getData",le="0.001"} 90
zook_request_duration_seconds_bucket{op="getData",le="0.01"} 100
zook_request_duration_seconds_bucket{op="getData",le="+Inf"} 100
zook_request_duration_seconds_sum{op="getData"} 0.2
zook_request_duration_seconds_count{op="getData"} 100
zook_wal_fsync_duration_seconds_bucket{le="0.002"} 10
zook_wal_fsync_duration_seconds_bucket{le="0.02"} 10
zook_wal_fsync_duration_seconds_bucket{le="+Inf"} 10
zook_wal_fsync_duration_seconds_sum 0.01
zook_wal_fsync_duration_seconds_count 10
`;

// 10 s later: 200 more requests (100 of them between 1 ms and 10 ms), 10 fsyncs of 3 ms.
const scrape2 = scrape1
  .replace('error="ok"} 100', 'error="ok"} 250')
  .replace('error="ok"} 50', 'error="ok"} 100')
  .replace('le="0.001"} 90', 'le="0.001"} 190')
  .replace('le="0.01"} 100', 'le="0.01"} 300')
  .replace('le="+Inf"} 100', 'le="+Inf"} 300')
  .replace('seconds_count{op="getData"} 100', 'seconds_count{op="getData"} 300')
  .replace('seconds_sum{op="getData"} 0.2', 'seconds_sum{op="getData"} 0.9')
  .replace(/fsync_duration_seconds_bucket\{le="0.002"\} 10/, 'fsync_duration_seconds_bucket{le="0.002"} 10')
  .replace(/fsync_duration_seconds_bucket\{le="0.02"\} 10/, 'fsync_duration_seconds_bucket{le="0.02"} 20')
  .replace(/fsync_duration_seconds_bucket\{le="\+Inf"\} 10/, 'fsync_duration_seconds_bucket{le="+Inf"} 20')
  .replace('fsync_duration_seconds_sum 0.01', 'fsync_duration_seconds_sum 0.04')
  .replace('fsync_duration_seconds_count 10', 'fsync_duration_seconds_count 20');

describe('Prometheus text', () => {
  test('samples keep their labels (escapes included); comments are skipped', () => {
    const s = parsePrometheus('# HELP x y\nx{a="q\\"uote",b="2"} 3.5\ny 7 1700000000\nz{le="+Inf"} +Inf\n');
    expect(s).toEqual([
      { name: 'x', labels: { a: 'q"uote', b: '2' }, value: 3.5 },
      { name: 'y', labels: {}, value: 7 },
      { name: 'z', labels: { le: '+Inf' }, value: Infinity },
    ]);
    expect(total(parsePrometheus(scrape1), 'zook_requests_total')).toBe(150);
    expect(total(parsePrometheus(scrape1), 'absent')).toBeNull();
  });

  test('a quantile is interpolated inside the bucket it falls in, and is the top finite bound in +Inf', () => {
    const h = { buckets: [[0.001, 50], [0.01, 100], [Infinity, 100]] as const, sum: 0, count: 100 };
    expect(quantile(h, 0.5)).toBeCloseTo(0.001);
    expect(quantile(h, 0.75)).toBeCloseTo(0.0055);
    expect(quantile({ buckets: [[0.001, 0], [Infinity, 10]], sum: 0, count: 10 }, 0.5)).toBe(0.001);
    expect(quantile({ buckets: [[0.001, 0], [Infinity, 0]], sum: 0, count: 0 }, 0.5)).toBeNull();
  });

  test('a histogram that went back (the server restarted) has no delta', () => {
    const a = histogram(parsePrometheus(scrape2), 'zook_request_duration_seconds')!;
    const b = histogram(parsePrometheus(scrape1), 'zook_request_duration_seconds')!;
    expect(histogramDelta(a, b)).toBeNull();
  });
});

describe('chart points', () => {
  test('between two scrapes: requests per second, latency quantiles of that interval only, mean fsync', () => {
    const p = pointBetween(scrapeOf(scrape1, 1000), scrapeOf(scrape2, 1010));
    expect(p.t).toBe(1010);
    expect(p.requestsPerSecond).toBeCloseTo(20);
    // In the interval: 100 under 1 ms, 100 between 1 and 10 ms: the median is 1 ms, p90 is 8.2 ms.
    expect(p.latencyMs.p50).toBeCloseTo(1);
    expect(p.latencyMs.p90).toBeCloseTo(8.2);
    expect(p.fsyncMs.mean).toBeCloseTo(3);
  });

  test('after a restart (counters reset) the point has no rate and no quantiles rather than wrong ones', () => {
    const p = pointBetween(scrapeOf(scrape2, 1000), scrapeOf(scrape1, 1002));
    expect(p.requestsPerSecond).toBeNull();
    expect(p.latencyMs).toEqual({ p50: null, p90: null, p99: null });
  });

  test('history keeps the last HISTORY_SECONDS; lag series cover every follower seen, null where it was not', () => {
    expect(trimmed([{ t: 0 }, { t: 100 }, { t: 100 + HISTORY_SECONDS }], 100 + HISTORY_SECONDS)).toEqual([{ t: 100 }, { t: 100 + HISTORY_SECONDS }]);
    expect(lagSeries([{ t: 1, lag: { 2: 0 } }, { t: 2, lag: { 2: 5, 3: 1 } }])).toEqual([
      { name: 'server 2', values: [0, 5] },
      { name: 'server 3', values: [null, 1] },
    ]);
  });
});
