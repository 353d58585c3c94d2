// Steady leadership under CPU load (issue 16 item 6): a local 3-server ensemble
// with production timing (Raft tick 100 ms, elections after 1-2 s of silence),
// a busy-loop process on every core, and 32 sessions writing setData in a loop.
// Optionally, every --burst-every-ms another session fires --burst-writes setData
// of --burst-bytes each at once (the issue saw 2,000 x 20 KB move leadership).
// Counts what operators feel: leader changes and client connections dropped, per
// minute, next to the write rate. The aim is zero of both.
//
//   npm run build && node dist/bench/e2e/steady-leadership.js [--duration 60]
//     [--sessions 32] [--hogs <cores>] [--value-bytes 100]
//     [--burst-writes 0] [--burst-bytes 20000] [--burst-every-ms 5000]
//     [--znodes 0] [--snapshot-every 100000]
// --znodes prefills the tree (multis of 1,000 creates) so that the snapshots taken
// every --snapshot-every entries during the run are of a big tree.
//   ZOOK_BENCH_SERVER_MAIN=<other build>/dist/src/cli/main.js runs an older server.
import { type ChildProcess, spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { connect, isZookError, type ZookClient } from '../../src/client/index.js';
import { startLocalCluster } from './local-cluster.js';

interface Counts {
  writes: number;
  drops: number;
  errors: Map<string, number>;
}

function hog(): ChildProcess {
  return spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
}

async function statusOf(url: string): Promise<{ leaderChanges: number; term: number } | null> {
  try {
    const res = await fetch(`${url.replace('ws://', 'http://')}/status`, { signal: AbortSignal.timeout(3000) });
    return (await res.json()) as { leaderChanges: number; term: number };
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '60' },
      sessions: { type: 'string', default: '32' },
      hogs: { type: 'string', default: String(cpus().length) },
      'value-bytes': { type: 'string', default: '100' },
      'burst-writes': { type: 'string', default: '0' },
      'burst-bytes': { type: 'string', default: '20000' },
      'burst-every-ms': { type: 'string', default: '5000' },
      znodes: { type: 'string', default: '0' },
      'snapshot-every': { type: 'string', default: '100000' },
    },
  });
  const durationMs = Number(values.duration) * 1000;
  const sessions = Number(values.sessions);
  const value = new Uint8Array(Number(values['value-bytes'])).fill(120);
  const cluster = await startLocalCluster(3, { settings: { snapshotEveryEntries: Number(values['snapshot-every']) } });
  const hogs: ChildProcess[] = [];
  const clients: ZookClient[] = [];
  const counts: Counts = { writes: 0, drops: 0, errors: new Map() };
  try {
    for (let k = 0; k < sessions; k++) {
      const urls = cluster.urls.map((_, i) => cluster.urls[(k + i) % cluster.urls.length]);
      const client = await connect(urls, { sessionTimeoutMs: 10_000 });
      client.on('state', (state) => {
        if (state === 'disconnected') counts.drops++;
      });
      await client.create(`/steady-${k}`, value);
      clients.push(client);
    }
    const znodes = Number(values.znodes);
    if (znodes > 0) {
      const filler = clients[0];
      await filler.create('/prefill', '');
      const small = new Uint8Array(100).fill(97);
      for (let at = 0; at < znodes; at += 8000) {
        await Promise.all(
          Array.from({ length: Math.min(8, Math.ceil((znodes - at) / 1000)) }, (_, m) =>
            filler.multi(Array.from({ length: Math.min(1000, znodes - at - m * 1000) }, (_, k) => ({ op: 'create' as const, path: `/prefill/n${at + m * 1000 + k}`, data: small }))),
          ),
        );
      }
    }
    const burstWrites = Number(values['burst-writes']);
    const burstValue = new Uint8Array(Number(values['burst-bytes'])).fill(98);
    const burster = burstWrites > 0 ? await connect(cluster.urls, { sessionTimeoutMs: 10_000 }) : null;
    if (burster !== null) {
      clients.push(burster);
      await burster.create('/burst', '');
      for (let i = 0; i < burstWrites; i += 500) {
        await Promise.all(Array.from({ length: Math.min(500, burstWrites - i) }, (_, k) => burster.create(`/burst/n${i + k}`, '')));
      }
    }
    for (let i = 0; i < Number(values.hogs); i++) hogs.push(hog());
    await new Promise((resolve) => setTimeout(resolve, 2000)); // the hogs are running
    const before = await Promise.all(cluster.urls.map(statusOf));
    counts.drops = 0;
    const endMs = Date.now() + durationMs;
    let bursts = 0;
    const bursting = (async (): Promise<void> => {
      if (burster === null) return;
      while (Date.now() + Number(values['burst-every-ms']) < endMs) {
        await new Promise((resolve) => setTimeout(resolve, Number(values['burst-every-ms'])));
        bursts++;
        await Promise.all(
          Array.from({ length: burstWrites }, (_, i) =>
            burster.setData(`/burst/n${i}`, burstValue).catch((error: unknown) => {
              const code = isZookError(error) ? `burst ${error.code}` : String(error);
              counts.errors.set(code, (counts.errors.get(code) ?? 0) + 1);
            }),
          ),
        );
      }
    })();
    await Promise.all(
      clients.filter((c) => c !== burster).map(async (client, k) => {
        while (Date.now() < endMs) {
          try {
            await client.setData(`/steady-${k}`, value);
            counts.writes++;
          } catch (error) {
            const code = isZookError(error) ? error.code : String(error);
            counts.errors.set(code, (counts.errors.get(code) ?? 0) + 1);
          }
        }
      }),
    );
    await bursting;
    const after = await Promise.all(cluster.urls.map(statusOf));
    const changes = Math.max(...after.map((a, i) => (a?.leaderChanges ?? 0) - (before[i]?.leaderChanges ?? 0)));
    const terms = Math.max(...after.map((a) => a?.term ?? 0)) - Math.max(...before.map((b) => b?.term ?? 0));
    const minutes = durationMs / 60_000;
    const errors = [...counts.errors].map(([code, n]) => `${code} ${n}`).join(', ') || 'none';
    const burst = burstWrites > 0 ? `${bursts} x ${burstWrites} x ${burstValue.length} B` : 'none';
    console.log(`| server | znodes | hogs | sessions | bursts | s | writes/s | leader changes/min | new terms/min | client drops/min | errors |`);
    console.log(`| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |`);
    console.log(
      `| ${process.env.ZOOK_BENCH_SERVER_MAIN ?? 'this build'} | ${znodes.toLocaleString('en-US')} | ${hogs.length} | ${sessions} | ${burst} | ${durationMs / 1000} | ${Math.round(counts.writes / (durationMs / 1000)).toLocaleString('en-US')} | ${(changes / minutes).toFixed(1)} | ${(terms / minutes).toFixed(1)} | ${(counts.drops / minutes).toFixed(1)} | ${errors} |`,
    );
  } finally {
    for (const h of hogs) h.kill('SIGKILL');
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await cluster.stop();
  }
}

await main();
