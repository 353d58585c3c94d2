// Which service the load generator drives, and how a worker opens a session on it:
//   zook (default): ws:// URLs from --servers, or a local single-node server
//   zookeeper://host:port[,host:port...]: Apache ZooKeeper via node-zookeeper-client
import type { BenchClient } from './bench-client.js';
import { ZookBenchClient } from './zook-bench-client.js';
import { ZooKeeperBenchClient } from './zookeeper-bench-client.js';

export type BenchTarget =
  | { readonly kind: 'zook'; readonly servers: readonly string[]; readonly spread?: BenchSpread }
  | { readonly kind: 'zookeeper'; readonly connectString: string; readonly spread?: BenchSpread };

/**
 * How sessions pick a server of a multi-server target. `random` (the default):
 * each client shuffles the list and connects to the first, as ZooKeeper clients
 * do. `round-robin`: session k starts at server k mod n, so the sessions are
 * spread evenly (zook: the list rotated, shuffling off, the rest of the list
 * still there for failover; node-zookeeper-client always shuffles its list, so
 * a ZooKeeper session gets only its server's host:port).
 */
export type BenchSpread = 'random' | 'round-robin';

const ZK_SCHEME = 'zookeeper://';

/** The connect string of a `zookeeper://` target, or null for zook. */
export function zookeeperConnectString(target: string | undefined): string | null {
  if (target === undefined || target === 'zook') return null;
  if (!target.startsWith(ZK_SCHEME)) throw new Error(`--target must be zook or zookeeper://host:port[,host:port], not ${target}`);
  return target.slice(ZK_SCHEME.length);
}

export function describeTarget(target: BenchTarget): string {
  return target.kind === 'zook' ? `zook ${target.servers.join(',')}` : `ZooKeeper ${target.connectString}`;
}

/** Session `sessionIndex` (0-based across all worker processes) opens on the target. */
export function openBenchClient(target: BenchTarget, sessionTimeoutMs: number, sessionIndex = 0): Promise<BenchClient> {
  const pinned = target.spread === 'round-robin';
  if (target.kind === 'zook') {
    const n = target.servers.length;
    if (!pinned || n < 2) return ZookBenchClient.open(target.servers, sessionTimeoutMs);
    const first = sessionIndex % n;
    return ZookBenchClient.open([...target.servers.slice(first), ...target.servers.slice(0, first)], sessionTimeoutMs, { shuffleServers: false });
  }
  const hosts = target.connectString.split(',');
  if (!pinned || hosts.length < 2) return ZooKeeperBenchClient.open(target.connectString, sessionTimeoutMs);
  return ZooKeeperBenchClient.open(hosts[sessionIndex % hosts.length], sessionTimeoutMs);
}
