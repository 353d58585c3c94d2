// How stale are plain reads on followers (issue 15)? zook 3-server ensemble vs
// Apache ZooKeeper 3.8 3-node ensemble, both driven by node-zookeeper-client over
// the ZooKeeper protocol, from ONE process so that every timestamp comes from the
// same clock (performance.now()).
//
//   npm run bench:staleness [-- --rounds 3 --duration 20 --writers 4 --readers 8]
//   node dist/bench/e2e/follower-staleness.js --sides zook --rounds 1 --duration 5
//   ZOOK_BENCH_SERVER_MAIN=<other build>/dist/src/cli/main.js ... runs an older zook server.
//
// Both ensembles stay up for the whole run. Each side first runs a discarded pass
// (--warmup seconds, default --duration: warms ZooKeeper's JVM and zook's JIT), then
// --rounds measured passes of --duration seconds, alternating which side goes first.
// Every pass finds the leader afresh (zook: GET /status; ZooKeeper: the srvr
// four-letter word's "Mode:") and opens its own sessions:
// - W writer sessions on the LEADER, writer k loops setData /staleness/wk with an
//   increasing counter (ASCII decimal), one request in flight; every acknowledgement
//   raises acked[k] to the value it wrote.
// - R reader sessions spread over the two FOLLOWERS (reader i on follower i mod 2),
//   each loops plain getData (no sync) on a random /staleness/wk, one in flight.
//   Just before getData is called the reader notes expected = acked[k], the highest
//   value of that node acknowledged before the read was sent.
// A read is STALE when the value it returns is lower than expected; it is that many
// versions behind (each write adds 1), and its AGE is how long before the read was
// sent the first write it missed had been acknowledged (independent of the read rate,
// which stale reads per minute are not). Only operations sent inside the pass count.
import { randomInt } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { BenchNodeExists } from './bench-client.js';
import { type LocalCluster, startLocalCluster } from './local-cluster.js';
import { ZooKeeperBenchClient } from './zookeeper-bench-client.js';
import { type LocalZooKeeper, startLocalZooKeeper, zookeeperInstalled } from '../zookeeper/local-zookeeper.js';

type Side = 'zook' | 'ZooKeeper';
const SIDES: readonly Side[] = ['zook', 'ZooKeeper'];
const SESSION_TIMEOUT_MS = 10_000;
/** After a failed request a loop waits this long before the next (no hot spin while disconnected). */
const ERROR_BACKOFF_MS = 20;

/** The ZooKeeper-protocol address of every server of one ensemble, and which of them leads. */
interface Roles {
  readonly leader: string;
  readonly followers: readonly string[];
}

interface PassResult {
  readonly side: Side;
  readonly round: number;
  readonly seconds: number;
  readonly leader: string;
  readonly followers: readonly string[];
  readonly reads: number;
  readonly writes: number;
  readonly readErrors: number;
  readonly writeErrors: number;
  readonly readsPerSecond: number;
  readonly writesPerSecond: number;
  readonly staleReads: number;
  readonly staleReadsPerMinute: number;
  readonly staleFraction: number;
  /** Versions behind, over the stale reads only (0 when there were none). */
  readonly behindMedian: number;
  readonly behindMax: number;
  /** Stale age in ms (send time minus the ack time of the first missed write), over the stale reads. */
  readonly ageMedianMs: number;
  readonly ageMaxMs: number;
  readonly load1: number;
}

const median = (values: readonly number[]): number => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends a ZooKeeper four-letter word and returns the whole reply ('' on failure). */
function fourLetter(hostPort: string, word: string, timeoutMs = 3000): Promise<string> {
  const [host, port] = hostPort.split(':');
  return new Promise((resolve) => {
    let reply = '';
    const socket = createConnection({ host, port: Number(port) }, () => socket.end(word));
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString()));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(reply);
    });
  });
}

async function zooKeeperRoles(zk: LocalZooKeeper): Promise<Roles> {
  const hosts = zk.connectString.split(',');
  const deadline = Date.now() + 30_000;
  for (;;) {
    const modes = await Promise.all(hosts.map(async (h) => /^Mode: (\w+)/m.exec(await fourLetter(h, 'srvr'))?.[1] ?? ''));
    const leaders = hosts.filter((_, i) => modes[i] === 'leader');
    const followers = hosts.filter((_, i) => modes[i] === 'follower');
    if (leaders.length === 1 && followers.length === hosts.length - 1) return { leader: leaders[0], followers };
    if (Date.now() > deadline) throw new Error(`ZooKeeper: no leader and ${hosts.length - 1} followers (srvr modes: ${modes.join(', ')})`);
    await sleep(200);
  }
}

async function zookRoles(cluster: LocalCluster): Promise<Roles> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const leader = await cluster.currentLeader();
    if (leader !== 0) {
      const address = (id: number): string => `127.0.0.1:${cluster.members.find((m) => m.id === id)!.zkPort}`;
      return { leader: address(leader), followers: cluster.members.filter((m) => m.id !== leader).map((m) => address(m.id)) };
    }
    if (Date.now() > deadline) throw new Error('zook: the servers agree on no leader');
    await sleep(200);
  }
}

async function runPass(side: Side, round: number, roles: Roles, options: { writers: number; readers: number; durationMs: number }): Promise<PassResult> {
  const { writers, readers, durationMs } = options;
  const writerClients = await Promise.all(Array.from({ length: writers }, () => ZooKeeperBenchClient.open(roles.leader, SESSION_TIMEOUT_MS)));
  const readerClients = await Promise.all(
    Array.from({ length: readers }, (_, i) => ZooKeeperBenchClient.open(roles.followers[i % roles.followers.length], SESSION_TIMEOUT_MS)),
  );
  try {
    const paths = Array.from({ length: writers }, (_, k) => `/staleness/w${k}`);
    const ensure = async (path: string): Promise<void> => {
      try {
        await writerClients[0].create(path, new TextEncoder().encode('0'));
      } catch (error) {
        if (!(error instanceof BenchNodeExists)) throw error;
      }
    };
    await ensure('/staleness');
    for (const path of paths) await ensure(path);
    // acked[k]: the highest value of node k acknowledged so far (its value before the pass to start with).
    const acked = await Promise.all(paths.map(async (path, k) => Number(Buffer.from(await writerClients[k].getData(path)).toString())));
    // Every reader must see every node before the pass starts (a follower may be a moment behind the creates).
    await Promise.all(
      readerClients.map(async (client) => {
        for (const path of paths) {
          for (let tries = 0; ; tries++) {
            try {
              await client.getData(path);
              break;
            } catch (error) {
              if (tries > 200) throw error;
              await sleep(25);
            }
          }
        }
      }),
    );

    let writes = 0;
    let reads = 0;
    let writeErrors = 0;
    let readErrors = 0;
    const behind: number[] = [];
    const ages: number[] = [];
    // Per node, the acknowledged values and their ack times, both ascending; the value
    // before the pass counts as acknowledged just before it starts (a lower bound of its age).
    const ackValues: number[][] = acked.map((value) => [value]);
    const ackTimes: number[][] = acked.map(() => [performance.now()]);
    /** Ack time of the first acknowledged value of node k above `value`. */
    const firstAckAbove = (k: number, value: number): number => {
      const values = ackValues[k];
      let lo = 0;
      let hi = values.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (values[mid] > value) hi = mid;
        else lo = mid + 1;
      }
      return ackTimes[k][lo];
    };
    const start = performance.now();
    const end = start + durationMs;
    const writer = async (k: number): Promise<void> => {
      const client = writerClients[k];
      let next = acked[k];
      while (performance.now() < end) {
        next++;
        try {
          await client.setData(paths[k], new TextEncoder().encode(String(next)));
          ackTimes[k].push(performance.now());
          ackValues[k].push(next);
          if (next > acked[k]) acked[k] = next;
          writes++;
        } catch {
          writeErrors++;
          await sleep(ERROR_BACKOFF_MS);
        }
      }
    };
    const reader = async (i: number): Promise<void> => {
      const client = readerClients[i];
      while (performance.now() < end) {
        const k = randomInt(writers);
        const expected = acked[k]; // taken just before the request is sent
        const sentAt = performance.now();
        try {
          const got = Number(Buffer.from(await client.getData(paths[k])).toString());
          reads++;
          if (got < expected) {
            behind.push(expected - got);
            ages.push(sentAt - firstAckAbove(k, got));
          }
        } catch {
          readErrors++;
          await sleep(ERROR_BACKOFF_MS);
        }
      }
    };
    await Promise.all([...writerClients.map((_, k) => writer(k)), ...readerClients.map((_, i) => reader(i))]);
    const seconds = (performance.now() - start) / 1000;
    return {
      side,
      round,
      seconds,
      leader: roles.leader,
      followers: roles.followers,
      reads,
      writes,
      readErrors,
      writeErrors,
      readsPerSecond: reads / seconds,
      writesPerSecond: writes / seconds,
      staleReads: behind.length,
      staleReadsPerMinute: behind.length / (seconds / 60),
      staleFraction: reads === 0 ? 0 : behind.length / reads,
      behindMedian: median(behind),
      behindMax: behind.reduce((a, b) => Math.max(a, b), 0),
      ageMedianMs: median(ages),
      ageMaxMs: ages.reduce((a, b) => Math.max(a, b), 0),
      load1: loadavg()[0],
    };
  } finally {
    await Promise.all([...writerClients, ...readerClients].map((c) => c.close()));
  }
}

const row = (side: string, round: string, r: Omit<PassResult, 'side' | 'round' | 'leader' | 'followers'>): string =>
  `| ${side} | ${round} | ${r.readsPerSecond.toFixed(0)} | ${r.writesPerSecond.toFixed(0)} | ${r.staleReadsPerMinute.toFixed(1)} | ` +
  `${(r.staleFraction * 100).toFixed(3)}% | ${r.behindMedian} | ${r.behindMax} | ${r.ageMedianMs.toFixed(2)} | ${r.ageMaxMs.toFixed(1)} | ${r.readErrors + r.writeErrors} | ${r.load1.toFixed(2)} |`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sides: { type: 'string', default: SIDES.join(',') },
      rounds: { type: 'string', default: '3' },
      duration: { type: 'string', default: '20' },
      warmup: { type: 'string' },
      writers: { type: 'string', default: '4' },
      readers: { type: 'string', default: '8' },
      out: { type: 'string' },
    },
  });
  const sides = values.sides.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of sides) if (!SIDES.includes(s as Side)) throw new Error(`--sides takes ${SIDES.join(',')}, not ${s}`);
  const chosen = SIDES.filter((s) => sides.includes(s));
  const rounds = Number(values.rounds);
  const durationMs = Number(values.duration) * 1000;
  const warmupMs = Number(values.warmup ?? values.duration) * 1000;
  const writers = Number(values.writers);
  const readers = Number(values.readers);
  for (const [name, v] of [['rounds', rounds], ['writers', writers], ['readers', readers]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} takes a whole number >= 1, not ${v}`);
  }
  if (!(durationMs > 0) || !(warmupMs >= 0)) throw new Error('--duration must be > 0 and --warmup >= 0 seconds');
  if (chosen.includes('ZooKeeper') && !zookeeperInstalled()) throw new Error('ZooKeeper is not installed: sudo apt-get install -y zookeeper (or --sides zook)');

  const serverMain = process.env.ZOOK_BENCH_SERVER_MAIN ?? 'this build';
  console.error(`bench: staleness: sides ${chosen.join(',')}, ${rounds} round(s) of ${durationMs / 1000} s, ${writers} writers, ${readers} readers; zook server: ${serverMain}`);
  let cluster: LocalCluster | null = null;
  let zk: LocalZooKeeper | null = null;
  const results: PassResult[] = [];
  try {
    if (chosen.includes('zook')) cluster = await startLocalCluster(3);
    if (chosen.includes('ZooKeeper')) zk = await startLocalZooKeeper(3);
    const roles = (side: Side): Promise<Roles> => (side === 'zook' ? zookRoles(cluster!) : zooKeeperRoles(zk!));
    const pass = async (side: Side, round: number, ms: number): Promise<PassResult> => {
      const r = await runPass(side, round, await roles(side), { writers, readers, durationMs: ms });
      console.error(
        `bench: ${side} ${round === 0 ? 'warm-up' : `round ${round}`}: ${r.readsPerSecond.toFixed(0)} reads/s, ${r.writesPerSecond.toFixed(0)} writes/s, ` +
          `${r.staleReads} stale (${r.staleReadsPerMinute.toFixed(1)}/min), errors ${r.readErrors + r.writeErrors}, load ${r.load1.toFixed(2)}`,
      );
      return r;
    };
    if (warmupMs > 0) for (const side of chosen) await pass(side, 0, warmupMs);
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 === 1 ? chosen : [...chosen].reverse();
      for (const side of order) results.push(await pass(side, round, durationMs));
    }
  } finally {
    await Promise.all([cluster?.stop(), zk?.stop()]);
  }

  const lines = [
    `Follower staleness: ${writers} writers on the leader, ${readers} readers on the followers, ${durationMs / 1000} s rounds; zook server: ${serverMain}`,
    '',
    '| side | round | reads/s | writes/s | stale reads/min | stale fraction | behind median | behind max | age median ms | age max ms | errors | load 1m |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) lines.push(row(r.side, String(r.round), r));
  for (const side of chosen) {
    const mine = results.filter((r) => r.side === side);
    const m = (f: (r: PassResult) => number): number => median(mine.map(f));
    lines.push(
      row(`**${side}**`, '**median**', {
        seconds: m((r) => r.seconds),
        reads: m((r) => r.reads),
        writes: m((r) => r.writes),
        readErrors: m((r) => r.readErrors),
        writeErrors: m((r) => r.writeErrors),
        readsPerSecond: m((r) => r.readsPerSecond),
        writesPerSecond: m((r) => r.writesPerSecond),
        staleReads: m((r) => r.staleReads),
        staleReadsPerMinute: m((r) => r.staleReadsPerMinute),
        staleFraction: m((r) => r.staleFraction),
        behindMedian: m((r) => r.behindMedian),
        behindMax: m((r) => r.behindMax),
        ageMedianMs: m((r) => r.ageMedianMs),
        ageMaxMs: m((r) => r.ageMaxMs),
        load1: m((r) => r.load1),
      }),
    );
  }
  console.log(lines.join('\n'));

  const day = new Date().toISOString().slice(0, 10);
  const outFile = values.out ?? `bench/results/staleness-${day}.json`;
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(
    outFile,
    `${JSON.stringify({ date: new Date().toISOString(), serverMain, sides: chosen, rounds, durationSeconds: durationMs / 1000, writers, readers, results }, null, 2)}\n`,
  );
  console.error(`bench: wrote ${outFile}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
