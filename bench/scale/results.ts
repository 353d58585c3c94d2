// bench/scale's results: what one run measured (the JSON it writes) and its tables.
import { markdownTable } from '../support.js';
import { type Dimension, DIMENSION_INFO, formatValue, type PointConfig } from './points.js';

export interface ScalePoint {
  readonly dimension: Dimension;
  readonly value: number;
  readonly config: PointConfig;
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Server CPU (user + system of every server process) per op, us; null if not measured. */
  readonly cpuUsPerOp: number | null;
  /** Seconds the prefill of the tree (and of watched nodes) took. */
  readonly prefillSeconds: number;
  /** Multis of the prefill retried after their session lost its connection. */
  readonly prefillRetries?: number;
  /** Seconds setting the watches took (watches dimension). */
  readonly watchSeconds?: number;
  /** Leader changes each server had seen at the end (1: only the first election). */
  readonly leaderChanges?: readonly number[];
  readonly loadBefore: string;
  readonly loadAfter: string;
}

export interface RestartPoint {
  readonly treeZnodes: number;
  readonly prefillSeconds: number;
  readonly killedServer: number;
  /** The leader's commit index when the follower was killed: what it must apply again. */
  readonly targetIndex: number;
  /** From restarting the process until its GET /status answers. */
  readonly statusUpMs: number;
  /** Until its /status says appliedIndex >= targetIndex. */
  readonly catchUpMs: number;
  /** Until it gives a ZooKeeper-protocol session and answers a read. */
  readonly servingMs: number;
  readonly loadBefore: string;
  /** Leader changes each server had seen once the follower served again. */
  readonly leaderChanges?: readonly number[];
}

export interface ScaleResults {
  readonly date: string;
  readonly machine: { readonly cpu: string; readonly cores: number; readonly node: string };
  readonly quick: boolean;
  readonly durationSeconds: number;
  /** A discarded run of the same parameters before each measured one. */
  readonly warmupSeconds?: number;
  readonly workers: number;
  readonly base: PointConfig;
  readonly loadAtStart: string;
  readonly loadAtEnd: string;
  readonly points: readonly ScalePoint[];
  readonly restarts: readonly RestartPoint[];
  /** Points that failed, with why (the run goes on). */
  readonly errors: ReadonlyArray<{ readonly what: string; readonly error: string }>;
}

export function resultTables(results: ScaleResults): string {
  const rows = results.points.map((p) => [
    DIMENSION_INFO[p.dimension].axis,
    formatValue(p.dimension, p.value),
    Math.round(p.opsPerSecond).toLocaleString('en-US'),
    p.p50Ms.toFixed(2),
    p.p99Ms.toFixed(2),
    p.cpuUsPerOp === null ? '-' : p.cpuUsPerOp.toFixed(0),
    p.prefillSeconds.toFixed(1),
    p.loadBefore.split(' / ')[0],
  ]);
  let text = markdownTable(['dimension', 'value', 'ops/s', 'p50 ms', 'p99 ms', 'server CPU us/op', 'prefill s', 'load'], rows);
  if (results.restarts.length > 0) {
    text += `\n\n${markdownTable(
      ['znodes', 'prefill s', 'process answers /status, s', 'caught up (applied leader commit), s', 'serves a session and a read, s'],
      results.restarts.map((r) => [formatValue('treeZnodes', r.treeZnodes), r.prefillSeconds.toFixed(1), (r.statusUpMs / 1000).toFixed(2), (r.catchUpMs / 1000).toFixed(2), (r.servingMs / 1000).toFixed(2)]),
    )}`;
  }
  if (results.errors.length > 0) text += `\n\nFailed: ${results.errors.map((e) => `${e.what}: ${e.error}`).join('; ')}`;
  return text;
}

