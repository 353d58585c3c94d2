// `npm run bench:scale [-- options]`: how zook's cost grows. From a base point (3
// servers, 32 sessions, 1 request in flight per session, 100 B values, 1k prefilled
// znodes, no extra watches) one dimension at a time takes each of its values:
//   sessions 1, 8, 32, 128, 1024; in flight per session 1, 8, 64; value size 100 B,
//   4 KiB, 100 KiB; znodes in the tree 1k, 100k, 1M; data watches 0, 100k held by
//   other sessions on other nodes; ensemble size 1, 3, 5
// and for each point a fresh local ensemble (bench/e2e/local-cluster.ts) is
// prefilled (multis of 1,000 creates, several in flight) and then measured with
// bench/e2e/main.ts: workload W1 (setData on each session's own node) through zook's
// ZooKeeper-protocol port with node-zookeeper-client, the servers' CPU from /proc.
// Also a follower's restart and catch-up time against the tree size (1k, 100k, 1M):
// kill -9 a follower of a 3-server ensemble, restart it, time until its /status
// answers, until it has applied the leader's commit index (catch-up), and until it
// gives a session and answers a read (serving). When the tree dimension is measured
// too, the restart runs on the tree point's ensemble right after its prefill.
// Writes everything as JSON (written again after every point) and draws
// docs/bench/scale.svg (bench/scale/plot.ts, Vega-Lite). Reports; never asserts.
//
// Options: --duration S (5) seconds per point; --warmup S (2) a discarded run with
// the same parameters before each measured one (0: none); --workers N (4) client processes;
// --dimensions sessions,inflight,value,tree,watches,servers,restart (all); the points
// of one dimension: --sessions, --inflight, --value-bytes, --tree, --watches,
// --servers, --restart-tree (lists such as 1,8,32 or 1k,100k,1M or 100,4KiB);
// --prefill-bytes B (100) data of each prefilled znode; --quick tiny sizes and 1 s
// points for a smoke run; --out FILE (bench/results/scale-<date>.json; --quick:
// the temp dir); --svg FILE (docs/bench/scale.svg; --quick: the temp dir);
// --plot FILE only redraws the SVG from a results file.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { summaryRows } from '../zookeeper/compare-table.js';
import { type LocalCluster, startLocalCluster } from '../e2e/local-cluster.js';
import { loadAverage, runMain } from '../e2e/run-main.js';
import { renderSvg, scaleSpec } from './plot.js';
import { type RestartPoint, resultTables, type ScalePoint, type ScaleResults } from './results.js';
import {
  BASE,
  DEFAULT_POINTS,
  DEFAULT_RESTART_POINTS,
  type Dimension,
  DIMENSION_INFO,
  DIMENSIONS,
  formatValue,
  type PlannedPoint,
  parseList,
  planPoints,
  QUICK_POINTS,
  QUICK_RESTART_POINTS,
  watchedNodes,
} from './points.js';
import { fillTree, type HeldWatches, holdWatches, probeServing, treeNodePath } from './tree.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string' },
    warmup: { type: 'string' },
    workers: { type: 'string', default: '4' },
    dimensions: { type: 'string', default: 'sessions,inflight,value,tree,watches,servers,restart' },
    sessions: { type: 'string' },
    inflight: { type: 'string' },
    'value-bytes': { type: 'string' },
    tree: { type: 'string' },
    watches: { type: 'string' },
    servers: { type: 'string' },
    'restart-tree': { type: 'string' },
    'prefill-bytes': { type: 'string', default: '100' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    svg: { type: 'string' },
    plot: { type: 'string' },
  },
});

const TREE_ROOT = '/scale/tree';
const WATCHED_ROOT = '/scale/watched';
/** Sessions that hold the watches (spread over the servers). */
const WATCH_SESSIONS = 4;
const HOST = '127.0.0.1';

const DIMENSION_NAMES: Record<string, Dimension | 'restart'> = {
  sessions: 'sessions',
  inflight: 'inflight',
  value: 'valueBytes',
  'value-bytes': 'valueBytes',
  valueBytes: 'valueBytes',
  tree: 'treeZnodes',
  treeZnodes: 'treeZnodes',
  watches: 'watches',
  servers: 'servers',
  ensemble: 'servers',
  restart: 'restart',
};
const OPTION_OF: Record<Dimension, keyof typeof values> = {
  sessions: 'sessions',
  inflight: 'inflight',
  valueBytes: 'value-bytes',
  treeZnodes: 'tree',
  watches: 'watches',
  servers: 'servers',
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const log = (text: string): void => console.error(`bench:scale: ${text}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function getStatus(port: number): Promise<Record<string, unknown> | null> {
  try {
    const res = await fetch(`http://${HOST}:${port}/status`, { signal: AbortSignal.timeout(1000) });
    return res.ok ? ((await res.json()) as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function leaderMember(cluster: LocalCluster, leader: number) {
  const m = cluster.members.find((x) => x.id === leader);
  if (m === undefined) throw new Error(`leader ${leader} is not a member`);
  return m;
}

/** Until every server has a leader and has applied the leader's commit index. */
async function settle(cluster: LocalCluster, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const statuses = await cluster.status();
    const leader = statuses.find((s) => s?.role === 'leader' || s?.role === 'standalone');
    if (leader !== undefined && statuses.every((s) => s !== null && s.hasLeader === true && Number(s.appliedIndex) >= Number(leader!.commitIndex))) return;
    if (Date.now() > deadline) throw new Error('the ensemble did not settle (every server applied the leader commit index)');
    await sleep(50);
  }
}

interface Prefilled {
  /** Until every server applied it. */
  readonly seconds: number;
  /** Multis retried after their session lost its connection (sessions replaced). */
  readonly retried: number;
  readonly replaced: number;
}

/** Prefills the tree (and, for the watches dimension, the watched nodes) through the leader. */
async function prefill(cluster: LocalCluster, treeZnodes: number, watched: number, prefillBytes: number): Promise<Prefilled> {
  const leader = leaderMember(cluster, (await cluster.currentLeader()) || cluster.leader);
  // Sessions on the leader: the writes need no forwarding.
  const at = `${HOST}:${leader.zkPort}`;
  const started = performance.now();
  const fills = [await fillTree(at, TREE_ROOT, treeZnodes, { valueBytes: prefillBytes })];
  if (watched > 0) fills.push(await fillTree(at, WATCHED_ROOT, watched, { valueBytes: prefillBytes }));
  const retried = fills.reduce((n, f) => n + f.multisRetried, 0);
  const replaced = fills.reduce((n, f) => n + f.sessionsReplaced, 0);
  if (retried > 0) log(`prefill: ${retried} multi(s) lost their connection and were retried (${replaced} session(s) replaced)`);
  await settle(cluster);
  return { seconds: (performance.now() - started) / 1000, retried, replaced };
}

/** Leader changes each server has seen (1 each: the first election). */
async function leaderChanges(cluster: LocalCluster): Promise<number[]> {
  return (await cluster.status()).map((s) => Number(s?.leaderChanges ?? NaN));
}

async function measureRestart(cluster: LocalCluster, treeZnodes: number, prefillSeconds: number): Promise<RestartPoint> {
  await settle(cluster);
  const loadBefore = loadAverage();
  const leaderId = await cluster.currentLeader();
  const follower = cluster.members.find((m) => m.id !== leaderId);
  if (leaderId === 0 || follower === undefined) throw new Error('restart: no leader, or no follower to kill');
  const leader = leaderMember(cluster, leaderId);
  await cluster.kill(follower.id, 'SIGKILL');
  const leaderStatus = await getStatus(leader.clientPort);
  const targetIndex = Number(leaderStatus?.commitIndex ?? NaN);
  if (!Number.isFinite(targetIndex)) throw new Error('restart: the leader gave no commit index');
  const t0 = performance.now();
  await cluster.restart(follower.id);
  // Settled as a value, so that a failure is not an unhandled rejection while the loop below polls.
  const serving = probeServing(`${HOST}:${follower.zkPort}`, treeZnodes > 0 ? treeNodePath(TREE_ROOT, 0) : '/').then(
    (at) => ({ at }),
    (error: unknown) => ({ error }),
  );
  let statusUpMs = NaN;
  let catchUpMs = NaN;
  const deadline = Date.now() + 600_000;
  while (Number.isNaN(catchUpMs)) {
    if (Date.now() > deadline) throw new Error(`restart: server ${follower.id} did not catch up within 10 minutes`);
    const st = await getStatus(follower.clientPort);
    const now = performance.now() - t0;
    if (st !== null && Number.isNaN(statusUpMs)) statusUpMs = now;
    if (st !== null && Number(st.appliedIndex) >= targetIndex) catchUpMs = now;
    else await sleep(10);
  }
  const served = await serving;
  if ('error' in served) throw new Error(`restart: server ${follower.id} did not serve: ${served.error instanceof Error ? served.error.message : String(served.error)}`);
  const servingMs = served.at - t0;
  log(`restart, ${formatValue('treeZnodes', treeZnodes)} znodes: server ${follower.id} answers /status after ${statusUpMs.toFixed(0)} ms, applied index ${targetIndex} after ${catchUpMs.toFixed(0)} ms, serves after ${servingMs.toFixed(0)} ms`);
  return { treeZnodes, prefillSeconds, killedServer: follower.id, targetIndex, statusUpMs, catchUpMs, servingMs, loadBefore, leaderChanges: await leaderChanges(cluster) };
}

interface PointOutcome {
  readonly point: ScalePoint;
  readonly restart: RestartPoint | null;
}

async function measurePoint(planned: PlannedPoint, options: { durationS: number; warmupS: number; workers: number; watched: number; prefillBytes: number; restart: boolean }): Promise<PointOutcome> {
  const cfg = planned.config;
  const label = `${DIMENSION_INFO[planned.dimension].axis} = ${formatValue(planned.dimension, planned.value)}`;
  log(`${label}: starting ${cfg.servers} server(s)`);
  const cluster = await startLocalCluster(cfg.servers);
  let held: HeldWatches | null = null;
  try {
    const watched = planned.dimension === 'watches' ? options.watched : 0;
    const filled = await prefill(cluster, cfg.treeZnodes, watched, options.prefillBytes);
    const prefillSeconds = filled.seconds;
    log(`${label}: prefilled ${cfg.treeZnodes.toLocaleString('en-US')} znodes${watched > 0 ? ` and ${watched.toLocaleString('en-US')} watched znodes` : ''} in ${prefillSeconds.toFixed(1)} s`);
    const restart = options.restart ? await measureRestart(cluster, cfg.treeZnodes, prefillSeconds) : null;
    if (restart !== null) await settle(cluster);
    let watchSeconds: number | undefined;
    if (cfg.watches > 0) {
      const zk = cluster.members.map((m) => `${HOST}:${m.zkPort}`);
      const paths = Array.from({ length: cfg.watches }, (_, i) => treeNodePath(WATCHED_ROOT, i % Math.max(1, watched)));
      held = await holdWatches(Array.from({ length: WATCH_SESSIONS }, (_, i) => zk[i % zk.length]), paths);
      watchSeconds = held.seconds;
      log(`${label}: ${held.watches.toLocaleString('en-US')} data watches set by ${WATCH_SESSIONS} sessions in ${held.seconds.toFixed(1)} s`);
    }
    const loadBefore = loadAverage();
    const args = [
      '--target', `zookeeper://${cluster.zkConnectString}`,
      '--cpu-pids', cluster.members.map((m) => m.pid).join(','),
      '--spread', 'round-robin',
      '--workloads', 'W1',
      '--duration', String(options.durationS),
      '--sessions', String(cfg.sessions),
      '--workers', String(Math.min(options.workers, cfg.sessions)),
      '--inflight', String(cfg.inflight),
      '--value-bytes', String(cfg.valueBytes),
      '--failover-rounds', '0',
    ]; // prettier-ignore
    // Fresh server processes are cold (JIT, first allocations): a discarded warm-up run first.
    if (options.warmupS > 0) await runMain(`${label} (warm-up)`, args.map((a, i) => (args[i - 1] === '--duration' ? String(options.warmupS) : a)));
    const run = await runMain(label, args);
    const row = summaryRows(run.output, label)[0];
    const changes = await leaderChanges(cluster);
    if (held !== null && held.fired() > 0) log(`${label}: ${held.fired()} watch events fired (nothing should write the watched nodes)`);
    log(`${label}: ${Math.round(row.opsPerSecond).toLocaleString('en-US')} ops/s, p50 ${row.p50Ms.toFixed(2)} ms, p99 ${row.p99Ms.toFixed(2)} ms, ${row.cpuUsPerOp?.toFixed(0) ?? '-'} us CPU/op (leader changes ${changes.join('/')})`);
    return {
      point: {
        dimension: planned.dimension,
        value: planned.value,
        config: cfg,
        opsPerSecond: row.opsPerSecond,
        p50Ms: row.p50Ms,
        p99Ms: row.p99Ms,
        cpuUsPerOp: row.cpuUsPerOp ?? null,
        prefillSeconds,
        ...(filled.retried > 0 ? { prefillRetries: filled.retried } : {}),
        ...(watchSeconds === undefined ? {} : { watchSeconds }),
        leaderChanges: changes,
        loadBefore,
        loadAfter: run.loadAfter,
      },
      restart,
    };
  } finally {
    await held?.close();
    await cluster.stop();
  }
}

async function measureRestartAlone(treeZnodes: number, prefillBytes: number): Promise<RestartPoint> {
  log(`restart, ${formatValue('treeZnodes', treeZnodes)} znodes: starting 3 servers`);
  const cluster = await startLocalCluster(3);
  try {
    const filled = await prefill(cluster, treeZnodes, 0, prefillBytes);
    log(`restart, ${formatValue('treeZnodes', treeZnodes)} znodes: prefilled in ${filled.seconds.toFixed(1)} s`);
    return await measureRestart(cluster, treeZnodes, filled.seconds);
  } finally {
    await cluster.stop();
  }
}

async function writeSvg(results: ScaleResults, file: string): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, await renderSvg(scaleSpec(results)));
  log(`plot written to ${file}`);
}

async function main(): Promise<void> {
  const quick = values.quick === true;
  const day = new Date().toISOString().slice(0, 10);
  const svgFile = values.svg ?? (quick ? join(tmpdir(), 'zook-scale-quick.svg') : 'docs/bench/scale.svg');
  if (values.plot !== undefined) {
    await writeSvg(JSON.parse(readFileSync(values.plot, 'utf8')) as ScaleResults, svgFile);
    return;
  }
  const outFile = values.out ?? (quick ? join(tmpdir(), `zook-scale-quick-${day}.json`) : `bench/results/scale-${day}.json`);
  const durationS = Number(values.duration ?? (quick ? 1 : 5));
  const warmupS = Number(values.warmup ?? (quick ? 1 : 2));
  const workers = Number(values.workers);
  const prefillBytes = Number(values['prefill-bytes']);
  const chosen = values.dimensions!.split(',').map((d) => {
    const name = DIMENSION_NAMES[d.trim()];
    if (name === undefined) throw new Error(`--dimensions: unknown ${d} (sessions, inflight, value, tree, watches, servers, restart)`);
    return name;
  });
  const dims = DIMENSIONS.filter((d) => chosen.includes(d));
  const pointsOf: Partial<Record<Dimension, readonly number[]>> = {};
  for (const d of dims) {
    const text = values[OPTION_OF[d]];
    pointsOf[d] = typeof text === 'string' ? parseList(text) : (quick ? QUICK_POINTS : DEFAULT_POINTS)[d];
  }
  const restartTrees = chosen.includes('restart') ? (values['restart-tree'] !== undefined ? parseList(values['restart-tree']) : quick ? QUICK_RESTART_POINTS : DEFAULT_RESTART_POINTS) : [];
  const planned = planPoints(dims, pointsOf);
  const watched = watchedNodes(pointsOf.watches ?? []);

  const results: Mutable<ScaleResults> & { points: ScalePoint[]; restarts: RestartPoint[]; errors: Array<{ what: string; error: string }> } = {
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'CPU', cores: cpus().length, node: process.version },
    quick,
    durationSeconds: durationS,
    warmupSeconds: warmupS,
    workers,
    base: BASE,
    loadAtStart: loadAverage(),
    loadAtEnd: '',
    points: [],
    restarts: [],
    errors: [],
  };
  const save = (): void => {
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile, `${JSON.stringify({ ...results, loadAtEnd: loadAverage() }, null, 1)}\n`);
  };
  console.log(`# zook: how cost grows, ${day}`);
  console.log(
    `${results.machine.cpu}, ${results.machine.cores} cores, Node ${process.version}; W1 setData through the ZooKeeper port (node-zookeeper-client), ${workers} client processes, ${durationS} s per point after a ${warmupS} s warm-up; ` +
      `base ${BASE.servers} servers, ${BASE.sessions} sessions, ${BASE.inflight} in flight, ${BASE.valueBytes} B values, ${BASE.treeZnodes} prefilled znodes (${prefillBytes} B each), no watches; load ${results.loadAtStart}\n`,
  );
  const started = Date.now();
  const restartsLeft = new Set(restartTrees);
  for (const p of planned) {
    const restart = p.dimension === 'treeZnodes' && restartsLeft.has(p.value);
    try {
      const outcome = await measurePoint(p, { durationS, warmupS, workers, watched, prefillBytes, restart });
      results.points.push(outcome.point);
      if (outcome.restart !== null) results.restarts.push(outcome.restart);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`${p.dimension} = ${p.value} failed: ${message}`);
      results.errors.push({ what: `${p.dimension} = ${p.value}`, error: message });
    }
    if (restart) restartsLeft.delete(p.value);
    save();
  }
  for (const tree of restartTrees.filter((t) => restartsLeft.has(t))) {
    try {
      results.restarts.push(await measureRestartAlone(tree, prefillBytes));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`restart at ${tree} znodes failed: ${message}`);
      results.errors.push({ what: `restart at ${tree} znodes`, error: message });
    }
    save();
  }
  results.loadAtEnd = loadAverage();
  save();
  console.log(resultTables(results));
  console.log(`\n${((Date.now() - started) / 60_000).toFixed(1)} minutes; load at the end ${results.loadAtEnd}; results in ${outFile}`);
  await writeSvg(results, svgFile);
}

// Exits when done: a prefill session abandoned after a lost connection may still be
// retrying its connection in node-zookeeper-client, which would keep Node running.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench:scale: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
