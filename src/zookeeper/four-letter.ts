// ZooKeeper's four-letter words, answered in ZooKeeper's text formats so that its
// tools, exporters and dashboards read them unchanged (`mntr` keys are ZooKeeper's).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { hostname, platform, release, arch, userInfo } from 'node:os';
import type { Registry } from 'prom-client';
import type { ServerConfig } from '../server/config.js';
import { metricValue } from '../server/metrics.js';
import type { ZookNode } from '../server/node.js';
import { nodeStatus } from '../server/node-status.js';

/** The ZooKeeper release whose client protocol zook speaks, as tools expect to parse it. */
export const ZOOKEEPER_COMPAT_VERSION = '3.9.0-zook';

export const FOUR_LETTER_WORDS = ['ruok', 'srvr', 'stat', 'mntr', 'conf', 'cons', 'wchs', 'envi', 'isro', 'dirs'] as const;
export type FourLetterWord = (typeof FOUR_LETTER_WORDS)[number];

export function isFourLetterWord(word: string): word is FourLetterWord {
  return (FOUR_LETTER_WORDS as readonly string[]).includes(word);
}

export interface FourLetterConnection {
  readonly remote: string;
  readonly sessionId: number;
  readonly inFlight: number;
}

export interface FourLetterContext {
  readonly config: ServerConfig;
  readonly node: ZookNode;
  /** Every client connection of both doors, for `cons` and the counts. */
  readonly connections: readonly FourLetterConnection[];
  /**
   * The server's metrics registry (src/server/server-metrics.ts): every number the
   * words report that /metrics also has is read from it, so the two always agree.
   */
  readonly metrics: Registry;
  readonly startedMs: number;
  /** The ports as bound (a configured 0 picks one): ZooKeeper's and zook's WebSocket/HTTP port. */
  readonly zkPort: number;
  readonly httpPort: number;
}

const hex = (n: number): string => `0x${n.toString(16)}`;

function mode(ctx: FourLetterContext): string {
  const role = nodeStatus(ctx.node).role;
  // ZooKeeper's names: a learner is an observer, a candidate has no mode it could serve in.
  return role === 'learner' ? 'observer' : role === 'candidate' ? 'looking' : role;
}

/** The numbers `srvr` and `mntr` share, read from the metrics registry (latencies in ms, as ZooKeeper reports them). */
async function counts(ctx: FourLetterContext): Promise<{ min: number; avg: number; max: number; received: number; sent: number; connections: number; outstanding: number; znodes: number }> {
  const m = (name: string, metricName?: string): Promise<number> => metricValue(ctx.metrics, name, metricName);
  const [sent, totalSeconds, minSeconds, maxSeconds, received, connections, outstanding, znodes] = await Promise.all([
    m('zook_request_duration_seconds', 'zook_request_duration_seconds_count'),
    m('zook_request_duration_seconds', 'zook_request_duration_seconds_sum'),
    m('zook_request_duration_min_seconds'),
    m('zook_request_duration_max_seconds'),
    m('zook_requests_received_total'),
    m('zook_connections'),
    m('zook_outstanding_requests'),
    m('zook_znodes'),
  ]);
  return { min: Math.round(minSeconds * 1000), avg: sent === 0 ? 0 : (totalSeconds * 1000) / sent, max: Math.round(maxSeconds * 1000), received, sent, connections, outstanding, znodes };
}

async function srvr(ctx: FourLetterContext, withClients: boolean): Promise<string> {
  const c = await counts(ctx);
  const { min, avg, max } = c;
  const lines = [`Zookeeper version: ${ZOOKEEPER_COMPAT_VERSION}, built on zook`];
  if (withClients) {
    lines.push('Clients:');
    for (const c of ctx.connections) lines.push(` /${c.remote}[1](queued=${c.inFlight},recved=0,sent=0,sid=${hex(c.sessionId)})`);
    lines.push('');
  }
  lines.push(
    `Latency min/avg/max: ${min.toFixed(0)}/${avg.toFixed(4)}/${max.toFixed(0)}`,
    `Received: ${c.received}`,
    `Sent: ${c.sent}`,
    `Connections: ${c.connections}`,
    `Outstanding: ${c.outstanding}`,
    `Zxid: ${hex(ctx.node.lastApplied)}`,
    `Mode: ${mode(ctx)}`,
    `Node count: ${c.znodes}`,
  );
  return `${lines.join('\n')}\n`;
}

async function mntr(ctx: FourLetterContext): Promise<string> {
  const st = nodeStatus(ctx.node);
  const c = await counts(ctx);
  const { min, avg, max } = c;
  const m = (name: string): Promise<number> => metricValue(ctx.metrics, name);
  const [watches, ephemerals, dataSize, openFds, maxFds, sessions] = await Promise.all([
    m('zook_watches'),
    m('zook_ephemerals'),
    m('zook_approximate_data_size_bytes'),
    m('process_open_fds'),
    m('process_max_fds'),
    m('zook_sessions'),
  ]);
  const rows: [string, string | number][] = [
    ['zk_version', `${ZOOKEEPER_COMPAT_VERSION}, built on zook`],
    ['zk_server_state', mode(ctx)],
    ['zk_avg_latency', avg.toFixed(4)],
    ['zk_max_latency', max],
    ['zk_min_latency', min],
    ['zk_packets_received', c.received],
    ['zk_packets_sent', c.sent],
    ['zk_num_alive_connections', c.connections],
    ['zk_outstanding_requests', c.outstanding],
    ['zk_znode_count', c.znodes],
    ['zk_watch_count', watches],
    ['zk_ephemerals_count', ephemerals],
    ['zk_approximate_data_size', dataSize],
    ['zk_open_file_descriptor_count', openFds],
    ['zk_max_file_descriptor_count', maxFds],
    ['zk_uptime', Date.now() - ctx.startedMs],
    ['zk_global_sessions', sessions],
    ['zk_last_proposal_size', -1],
  ];
  if (st.role === 'leader') {
    const voters = st.followers.filter((f) => !f.learner);
    rows.push(
      ['zk_learners', st.followers.length],
      ['zk_synced_followers', voters.filter((f) => f.linkUp && f.lag === 0).length],
      ['zk_synced_non_voting_followers', st.followers.filter((f) => f.learner && f.linkUp && f.lag === 0).length],
      ['zk_pending_syncs', 0],
    );
  }
  return rows.map(([k, v]) => `${k}\t${v}\n`).join('');
}

function conf(ctx: FourLetterContext): string {
  const c = ctx.config;
  const rows: [string, string | number][] = [
    ['clientPort', ctx.zkPort],
    ['clientPortAddress', c.host],
    ['secureClientPort', -1],
    ['dataDir', c.dataDir],
    ['dataLogDir', c.dataDir],
    ['tickTime', c.tickMs],
    ['maxClientCnxns', c.maxConnectionsPerIp],
    ['minSessionTimeout', c.minSessionTimeoutMs],
    ['maxSessionTimeout', c.maxSessionTimeoutMs],
    ['serverId', c.serverId],
    ['jute.maxbuffer', c.zkMaxFrameBytes],
    ['zook.httpPort', ctx.httpPort],
  ];
  return rows.map(([k, v]) => `${k}=${v}\n`).join('');
}

function wchs(ctx: FourLetterContext): string {
  const w = ctx.node.watches;
  return `${w.watcherCount} connections watching ${w.pathCount} paths\nTotal watches:${w.size}\n`;
}

function envi(ctx: FourLetterContext): string {
  const rows: [string, string][] = [
    ['zookeeper.version', ZOOKEEPER_COMPAT_VERSION],
    ['host.name', hostname()],
    ['node.version', process.version],
    ['os.name', platform()],
    ['os.arch', arch()],
    ['os.version', release()],
    ['user.name', safeUser()],
    ['user.dir', process.cwd()],
    ['zook.dataDir', ctx.config.dataDir],
  ];
  return `Environment:\n${rows.map(([k, v]) => `${k}=${v}\n`).join('')}`;
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

function dirs(ctx: FourLetterContext): string {
  let bytes = 0;
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) bytes += safeSize(full);
    }
  };
  walk(ctx.config.dataDir);
  // zook keeps its log and snapshots in one data dir; ZooKeeper reports two sizes.
  return `datadir_size: ${bytes}\nlogdir_size: 0\n`;
}

function safeSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

export async function fourLetterWord(word: FourLetterWord, ctx: FourLetterContext): Promise<string> {
  switch (word) {
    case 'ruok':
      return 'imok';
    case 'isro':
      return 'rw';
    case 'srvr':
      return srvr(ctx, false);
    case 'stat':
      return srvr(ctx, true);
    case 'mntr':
      return mntr(ctx);
    case 'conf':
      return conf(ctx);
    case 'cons':
      return `${ctx.connections.map((c) => ` /${c.remote}[1](queued=${c.inFlight},sid=${hex(c.sessionId)})`).join('\n')}\n\n`;
    case 'wchs':
      return wchs(ctx);
    case 'envi':
      return envi(ctx);
    case 'dirs':
      return dirs(ctx);
  }
}
