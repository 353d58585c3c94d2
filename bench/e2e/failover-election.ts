// `npx tsx bench/e2e/failover-election.ts [--participants 5] [--rounds 5] [--session-ms 2000]`:
// leader-election failover time with the LeaderLatch recipe against a local
// single-node server. For each way a leader can go it measures the time from the
// leader going to another participant's 'leader' event:
//   resign  - the leader calls resign() (deletes its node, rejoins at the back);
//   close   - the leader's client closes its session (its ephemerals go at once);
//   crash   - the leader's link is cut (a dead process): the server must first
//             expire its session, so this is about the session timeout.
// It reports a Markdown table; it never asserts.
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { connect, LeaderLatch, type ZookClient } from '../../src/index.js';
import { TcpProxy } from '../../test/support/tcp-proxy.js';
import { markdownTable } from '../support.js';
import { type LocalServer, startLocalServer } from './local-server.js';

type Way = 'resign' | 'close' | 'crash';

export interface FailoverOptions {
  readonly participants: number;
  readonly rounds: number;
  readonly sessionMs: number;
}

/** 100 ms ticks so a session timeout down to 200 ms can be granted. */
const startServer = (): Promise<LocalServer> => startLocalServer(['--tick-ms', '100']);

interface Participant {
  zk: ZookClient;
  proxy: TcpProxy;
  latch: LeaderLatch;
}

async function joinElection(port: number, id: number, sessionMs: number): Promise<Participant> {
  const proxy = await TcpProxy.start(port);
  const zk = await connect(`ws://127.0.0.1:${proxy.port}`, { sessionTimeoutMs: sessionMs, reconnectBaseDelayMs: 20, reconnectMaxDelayMs: 100 });
  const latch = new LeaderLatch(zk, '/bench/election', { id: `p${id}` });
  await latch.start();
  return { zk, proxy, latch };
}

/** One failover: make the current leader go `way`, and time until another participant leads. */
async function failover(pool: Participant[], way: Way): Promise<number> {
  let leader = pool.find((p) => p.latch.isLeader());
  while (leader === undefined) {
    await Promise.race(pool.map((p) => p.latch.waitForLeadership()));
    leader = pool.find((p) => p.latch.isLeader());
  }
  const others = pool.filter((p) => p !== leader);
  const next = Promise.race(others.map((p) => p.latch.waitForLeadership().then(() => p)));
  const startMs = performance.now();
  if (way === 'resign') await leader.latch.resign();
  else if (way === 'close') await leader.zk.close();
  else leader.proxy.cutLinks();
  await next;
  const elapsedMs = performance.now() - startMs;
  if (way !== 'resign') {
    // The gone participant is replaced so the pool keeps its size.
    pool.splice(pool.indexOf(leader), 1);
    await leader.zk.close().catch(() => undefined);
    await leader.proxy.close();
  }
  return elapsedMs;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Runs every way a leader can go `rounds` times; returns Markdown table rows. */
export async function measureFailover({ participants, rounds, sessionMs }: FailoverOptions): Promise<string[][]> {
  const server = await startServer();
  let nextId = 0;
  const pool: Participant[] = [];
  const rows: string[][] = [];
  try {
    for (let i = 0; i < participants; i++) pool.push(await joinElection(server.port, nextId++, sessionMs));
    for (const way of ['resign', 'close', 'crash'] as const) {
      const times: number[] = [];
      for (let r = 0; r < rounds; r++) {
        times.push(await failover(pool, way));
        while (pool.length < participants) pool.push(await joinElection(server.port, nextId++, sessionMs));
      }
      times.sort((a, b) => a - b);
      rows.push([way, String(rounds), quantile(times, 0.5).toFixed(1), times[times.length - 1].toFixed(1)]);
    }
  } finally {
    for (const p of pool) {
      await p.latch.close().catch(() => undefined);
      await p.zk.close().catch(() => undefined);
      await p.proxy.close();
    }
    await server.stop();
  }
  return rows;
}

export const FAILOVER_HEADER = ['leader goes by', 'rounds', 'p50 ms', 'max ms'];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      participants: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '5' },
      'session-ms': { type: 'string', default: '2000' },
    },
  });
  const options = { participants: Number(values.participants), rounds: Number(values.rounds), sessionMs: Number(values['session-ms']) };
  const rows = await measureFailover(options);
  console.log(`# leader election failover, ${new Date().toISOString().slice(0, 10)}`);
  console.log(`${cpus()[0]?.model ?? 'CPU'}, ${cpus().length} cores; local single-node server; ${options.participants} participants; session timeout ${options.sessionMs} ms\n`);
  console.log(markdownTable(FAILOVER_HEADER, rows));
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    console.error(`failover-election: ${error instanceof Error ? error.stack : String(error)}`);
    process.exit(1);
  });
}
