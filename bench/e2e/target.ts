// Which service the load generator drives, and how a worker opens a session on it:
//   zook (default): ws:// URLs from --servers, or a local single-node server
//   zookeeper://host:port[,host:port...]: Apache ZooKeeper via node-zookeeper-client
import type { BenchClient } from './bench-client.js';
import { ZookBenchClient } from './zook-bench-client.js';
import { ZooKeeperBenchClient } from './zookeeper-bench-client.js';

export type BenchTarget =
  | { readonly kind: 'zook'; readonly servers: readonly string[] }
  | { readonly kind: 'zookeeper'; readonly connectString: string };

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

export function openBenchClient(target: BenchTarget, sessionTimeoutMs: number): Promise<BenchClient> {
  return target.kind === 'zook'
    ? ZookBenchClient.open(target.servers, sessionTimeoutMs)
    : ZooKeeperBenchClient.open(target.connectString, sessionTimeoutMs);
}
