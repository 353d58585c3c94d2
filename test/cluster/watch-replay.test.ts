// Issue 19: a persistent recursive watch misses nothing across reconnects. A client
// watches /w through proxies to the two followers of a 3-server ensemble while a
// writer creates and updates nodes under /w at full speed (several writes in
// flight, through the leader). The watcher's server is killed (kill -9, then
// restarted), frozen (SIGSTOP until the client gives up on it, then SIGCONT), or its
// link is cut, 100 times in all; each time the client reconnects to the other
// follower and is replayed what it missed.
//
// The check needs no record of the writes (whose outcome a lost reply leaves
// unknown): the tree says what happened. Writes only create and update, so each node
// under /w has exactly one NodeCreated (at its czxid) and `version` NodeDataChanged
// events (the last at its mzxid); every event's zxid is a different txn, so the
// zxids strictly increase. Equal counts plus those rules mean: no gap, no
// duplicate, in order.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { WatchEvent, ZookClient } from '../../src/client/index.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { Cluster, sleep, until } from './support/cluster.js';
import { connectAll } from './support/workload.js';

const RECONNECTS = 100;
/** The watcher gives up on a silent server after 2/3 of this (a SIGSTOP), and must be back well before the session expires. */
const WATCHER_SESSION_MS = 6000;
const WRITES_IN_FLIGHT = 4;
/** Acknowledged writes between two reconnects, so every gap has changes in it. */
const WRITES_BETWEEN_RECONNECTS = 15;

type Way = 'cut' | 'stop' | 'kill';
/** 85 cut links, 5 SIGSTOPs, 10 kill -9s, spread over the run. */
const wayOf = (i: number): Way => (i % 10 === 3 ? 'kill' : i % 20 === 7 ? 'stop' : 'cut');

/** Creates and updates under /w until stopped; errors (a lost reply, a failover) are expected and ignored. */
class Writer {
  acked = 0;
  private running = true;
  private readonly loops: Promise<void>[] = [];

  constructor(private readonly zk: ZookClient) {
    for (let i = 0; i < WRITES_IN_FLIGHT; i++) this.loops.push(this.loop(i));
  }

  private async loop(k: number): Promise<void> {
    let n = 0;
    let last = '';
    while (this.running) {
      n++;
      try {
        // Two updates per create: NodeCreated and NodeDataChanged both in the stream.
        if (n % 3 === 1) {
          last = `/w/n-${k}-${n}`;
          await this.zk.create(last, 'v0');
        } else {
          await this.zk.setData(last, `v${n}`);
        }
        this.acked++;
      } catch {
        // NoNode (its create was lost), ConnectionLoss: the tree decides what counts.
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

describe('watches that miss nothing (3 servers, real processes)', () => {
  let cluster: Cluster;
  const proxies = new Map<number, TcpProxy>();
  let writerClient: ZookClient | undefined;
  let watcher: ZookClient | undefined;

  beforeAll(async () => {
    cluster = await Cluster.start({ size: 3 });
  });
  afterAll(async () => {
    await watcher?.close().catch(() => {});
    await writerClient?.close().catch(() => {});
    for (const p of proxies.values()) await p.close();
    for (const id of cluster?.ids ?? []) {
      const pid = cluster.pid(id);
      if (pid !== undefined && cluster.isRunning(id)) process.kill(pid, 'SIGCONT');
    }
    await cluster?.stopAll();
  });

  test(`${RECONNECTS} reconnects (kill -9, SIGSTOP, cut link) under a full-speed writer: the watcher gets every change under /w once, in zxid order`, async () => {
    const leader = await cluster.leader();
    const followers = cluster.ids.filter((id) => id !== leader);
    for (const id of followers) proxies.set(id, await TcpProxy.start(cluster.clientPort.get(id)!));
    const serverOfProxyUrl = (url: string | undefined): number => {
      const port = Number(/:(\d+)\/?$/.exec(url ?? '')?.[1]);
      for (const [id, p] of proxies) if (p.port === port) return id;
      return 0;
    };

    writerClient = await connectAll(cluster.url(leader));
    await writerClient.create('/w', '');
    const zk = (watcher = await connectAll(followers.map((id) => `ws://127.0.0.1:${proxies.get(id)!.port}`).join(','), { sessionTimeoutMs: WATCHER_SESSION_MS }));
    const events: WatchEvent[] = [];
    await zk.addWatch('/w', (e) => events.push(e), { mode: 'PERSISTENT_RECURSIVE' });
    let connects = 0;
    let expired = false;
    zk.on('state', (s) => {
      if (s === 'connected') connects++;
      if (s === 'expired') expired = true;
    });

    const writer = new Writer(writerClient);
    const ways: Record<Way, number> = { cut: 0, stop: 0, kill: 0 };
    for (let i = 0; i < RECONNECTS; i++) {
      const ackedBefore = writer.acked;
      await until('writes between reconnects', 30_000, () => (writer.acked >= ackedBefore + WRITES_BETWEEN_RECONNECTS ? true : undefined));
      const server = serverOfProxyUrl(zk.currentServer);
      expect(server, `watcher connected to ${zk.currentServer}`).not.toBe(0);
      const before = connects;
      const back = (): Promise<true> =>
        until(`watcher back after ${wayOf(i)} #${i}`, 30_000, () => {
          if (expired) throw new Error('the watcher session expired: it was away longer than its timeout');
          return connects > before && zk.state === 'connected' ? true : undefined;
        }, 10);
      const way = wayOf(i);
      ways[way]++;
      if (way === 'cut') {
        proxies.get(server)!.cutLinks();
        await back();
        proxies.get(server)!.heal();
      } else if (way === 'stop') {
        const pid = cluster.pid(server)!;
        process.kill(pid, 'SIGSTOP');
        try {
          await back();
        } finally {
          process.kill(pid, 'SIGCONT');
        }
      } else {
        await cluster.kill9(server);
        await back();
        await cluster.startServer(server);
      }
    }
    await writer.stop();

    // The tree as the writes left it: every node under /w with its stat.
    const children = await writerClient.getChildren('/w');
    const stats = new Map<string, { czxid: number; mzxid: number; version: number }>();
    for (let i = 0; i < children.length; i += 400) {
      const batch = children.slice(i, i + 400).map((c) => `/w/${c}`);
      const results = await writerClient.multiRead(batch.map((path) => ({ op: 'getData' as const, path })));
      results.forEach((r, j) => {
        if (!('stat' in r)) throw new Error(`${batch[j]} vanished`);
        stats.set(batch[j], { czxid: r.stat.czxid, mzxid: r.stat.mzxid, version: r.stat.version });
      });
    }
    const expected = [...stats.values()].reduce((n, s) => n + 1 + s.version, 0);
    // The last events may still be on their way.
    await until(`${expected} events (have ${events.length})`, 30_000, () => (events.length >= expected ? true : undefined));
    await sleep(200); // anything beyond the expected count (a duplicate) would show by now

    expect(connects).toBeGreaterThanOrEqual(RECONNECTS);
    expect(ways).toEqual({ cut: 85, stop: 5, kill: 10 });
    expect(events.filter((e) => e.type === 'Compacted')).toEqual([]);
    const outOfOrder = events.flatMap((e, i) => (i > 0 && !(e.zxid > events[i - 1].zxid) ? [`#${i} ${e.type} ${e.path} at ${e.zxid} after ${events[i - 1].type} ${events[i - 1].path} at ${events[i - 1].zxid}`] : []));
    expect(outOfOrder.slice(0, 10), `${outOfOrder.length} events not after the one before`).toEqual([]);
    expect(events.length).toBe(expected);
    const byPath = new Map<string, WatchEvent[]>();
    for (const e of events) byPath.set(e.path, [...(byPath.get(e.path) ?? []), e]);
    for (const [path, stat] of stats) {
      const mine = byPath.get(path) ?? [];
      expect(mine.map((e) => e.type), path).toEqual(['NodeCreated', ...Array<string>(stat.version).fill('NodeDataChanged')]);
      expect(mine[0].zxid, `${path} created`).toBe(stat.czxid);
      expect(mine.at(-1)!.zxid, `${path} last changed`).toBe(stat.mzxid);
    }
    expect([...byPath.keys()].filter((p) => !stats.has(p))).toEqual([]);
  }, 600_000);
});
