// bench/scale's results as an SVG: one panel per dimension (ops/s and server CPU
// us/op against the varied parameter, log x where the values span decades) and a
// panel of a follower's restart and catch-up times against the tree size. Drawn
// with Vega-Lite (compiled to Vega, rendered headless with renderer 'none': no
// canvas), so no drawing code lives here, only the chart's description.
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { type Dimension, DIMENSION_INFO, DIMENSIONS, formatValue } from './points.js';
import type { RestartPoint, ScalePoint, ScaleResults } from './results.js';

const OPS = 'ops/s';
const CPU = 'server CPU us/op';
const COLORS = { [OPS]: '#1f77b4', [CPU]: '#d62728' };

function dimensionPanel(dimension: Dimension, points: readonly ScalePoint[]): Record<string, unknown> {
  const info = DIMENSION_INFO[dimension];
  const values = points.map((p) => ({ x: p.value, label: formatValue(dimension, p.value), ops: p.opsPerSecond, cpu: p.cpuUsPerOp, p50: p.p50Ms, p99: p.p99Ms }));
  const x = info.log
    ? { field: 'x', type: 'quantitative', scale: { type: 'log' }, axis: { title: info.axis, values: values.map((v) => v.x), labelExpr: labelExpr(dimension) } }
    : { field: 'label', type: 'ordinal', sort: values.map((v) => v.label), axis: { title: info.axis, labelAngle: 0 } };
  const line = (field: 'ops' | 'cpu', title: string, orient: 'left' | 'right'): Record<string, unknown> => ({
    mark: { type: 'line', point: true, color: COLORS[title as keyof typeof COLORS] },
    encoding: {
      x,
      y: { field, type: 'quantitative', scale: { zero: true }, axis: { title, orient, titleColor: COLORS[title as keyof typeof COLORS] } },
      tooltip: [
        { field: 'label', title: info.axis },
        { field: 'ops', title: OPS, format: ',.0f' },
        { field: 'cpu', title: CPU, format: ',.0f' },
        { field: 'p50', title: 'p50 ms', format: '.2f' },
        { field: 'p99', title: 'p99 ms', format: '.2f' },
      ],
    },
  });
  return {
    title: { text: info.title, fontSize: 12 },
    width: 220,
    height: 150,
    data: { values },
    layer: [line('ops', OPS, 'left'), line('cpu', CPU, 'right')],
    resolve: { scale: { y: 'independent' } },
  };
}

function restartPanel(restarts: readonly RestartPoint[]): Record<string, unknown> {
  const values = restarts.flatMap((r) => [
    { x: r.treeZnodes, phase: 'process answers /status', seconds: r.statusUpMs / 1000 },
    { x: r.treeZnodes, phase: 'caught up (applied leader commit)', seconds: r.catchUpMs / 1000 },
    { x: r.treeZnodes, phase: 'serves a session and a read', seconds: r.servingMs / 1000 },
  ]);
  return {
    title: { text: 'Follower restart after kill -9 (3 servers)', fontSize: 12 },
    width: 220,
    height: 150,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', scale: { type: 'log' }, axis: { title: 'znodes', values: restarts.map((r) => r.treeZnodes), labelExpr: labelExpr('treeZnodes') } },
      y: { field: 'seconds', type: 'quantitative', axis: { title: 'seconds after restart' } },
      color: { field: 'phase', type: 'nominal', legend: { orient: 'bottom', direction: 'vertical', title: null, labelLimit: 400 } },
    },
  };
}

/** Axis labels as counts: 1k, 100k, 1M; bytes: 100 B, 4 KiB. */
function labelExpr(dimension: Dimension): string {
  if (dimension === 'valueBytes') return "datum.value >= 1048576 ? format(datum.value / 1048576, '~g') + ' MiB' : datum.value >= 1024 ? format(datum.value / 1024, '~g') + ' KiB' : datum.value + ' B'";
  return "datum.value >= 1000000 && datum.value % 100000 == 0 ? format(datum.value / 1000000, '~g') + 'M' : datum.value >= 1000 && datum.value % 100 == 0 ? format(datum.value / 1000, '~g') + 'k' : format(datum.value, 'd')";
}

/** The Vega-Lite description of the whole figure. */
export function scaleSpec(results: ScaleResults): TopLevelSpec {
  const panels: Array<Record<string, unknown>> = [];
  for (const dimension of DIMENSIONS) {
    const points = results.points.filter((p) => p.dimension === dimension).sort((a, b) => a.value - b.value);
    if (points.length > 0) panels.push(dimensionPanel(dimension, points));
  }
  if (results.restarts.length > 0) panels.push(restartPanel([...results.restarts].sort((a, b) => a.treeZnodes - b.treeZnodes)));
  const b = results.base;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `zook: how cost grows (setData W1 via the ZooKeeper port, one dimension at a time)`,
      subtitle: [
        `base: ${b.servers} servers, ${b.sessions} sessions, ${b.inflight} in flight, ${b.valueBytes} B values, ${formatValue('treeZnodes', b.treeZnodes)} znodes, ${b.watches} watches; ${results.durationSeconds} s per point${results.warmupSeconds ? ` after a ${results.warmupSeconds} s warm-up` : ''}`,
        `${results.date.slice(0, 16)}Z, ${results.machine.cores} cores (${results.machine.cpu}), load ${results.loadAtStart} -> ${results.loadAtEnd}; blue ops/s (left), red server CPU us/op (right)`,
      ],
      anchor: 'start',
    },
    background: 'white',
    columns: 3,
    concat: panels,
    config: { font: 'sans-serif', axis: { labelFontSize: 10, titleFontSize: 10 } },
  } as unknown as TopLevelSpec;
}

/** Renders a Vega-Lite spec to SVG text, headless. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
