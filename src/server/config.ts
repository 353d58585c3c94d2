// Server configuration: defaults good for one machine, overridden by a JSON file,
// then by ZOOK_* environment variables, then by command-line flags.
import { readFileSync } from 'node:fs';
import { parseAllowedOrigins } from './origin.js';
import { LOG_FORMATS, LOG_LEVELS } from '../util/log.js';

export interface ServerConfig {
  /** This server's id (1..127): part of every session id it hands out. */
  readonly serverId: number;
  readonly host: string;
  /** zook's WebSocket client port, which also serves HTTP (/health, /status, /metrics, /admin). */
  readonly port: number;
  /** ZooKeeper's client protocol (jute over TCP), for every existing ZooKeeper client. */
  readonly zkPort: number;
  /** Largest ZooKeeper-protocol packet (ZooKeeper's jute.maxbuffer); a longer one closes that connection. */
  readonly zkMaxFrameBytes: number;
  /** A ZooKeeper-protocol connection that sends no ConnectRequest within this is closed. */
  readonly zkConnectTimeoutMs: number;
  /** A WebSocket connection that sends no connect frame within this is closed (a request before it closes it at once). */
  readonly connectTimeoutMs: number;
  /** Four-letter words answered on the ZooKeeper port, comma-separated ('*' = all; '' = none). */
  readonly zkFourLetterWords: string;
  readonly dataDir: string;
  /** The session clock: timeouts are negotiated within [2, 20] ticks by default. */
  readonly tickMs: number;
  readonly minSessionTimeoutMs: number;
  readonly maxSessionTimeoutMs: number;
  /** Largest WebSocket message; a bigger one closes the connection with a reason (past twice this, abruptly). */
  readonly maxFrameBytes: number;
  /** Largest znode data. */
  readonly maxDataBytes: number;
  readonly maxPathBytes: number;
  /** Requests one connection may have in flight; more are answered Throttled (the ZooKeeper port stops reading instead). */
  readonly maxInFlightPerConnection: number;
  /** Frame bytes of one connection's requests in flight; a request arriving past it is answered Throttled (ZooKeeper port: stops reading). */
  readonly maxInFlightBytesPerConnection: number;
  /** Bytes queued towards one client before its new requests are answered Throttled. */
  readonly maxBufferedBytesPerConnection: number;
  /** Bytes queued towards one client before the connection is closed (it stopped reading). */
  readonly maxBackpressureBytes: number;
  /** Client connections of both ports together. */
  readonly maxConnections: number;
  /** Client connections from one IP address, both ports together (ZooKeeper's maxClientCnxns); more are refused at once. */
  readonly maxConnectionsPerIp: number;
  readonly maxSessions: number;
  /** `super:base64(sha1("super:password"))`: a session authenticated as it passes every ACL. */
  readonly superDigest: string | null;
  /** Run even if uWebSockets.js fell back to its slow JS emulation. */
  readonly allowSlowWebSockets: boolean;
  /** How often expired containers and TTL nodes are looked for. */
  readonly expirySweepMs: number;
  /** A tree snapshot is written (and the WAL compacted below it) after this many entries. */
  readonly snapshotEveryEntries: number;
  /** ... or after this many bytes of entries, whichever comes first. */
  readonly snapshotEveryBytes: number;
  /** Tree snapshots kept in the data dir's snapshots/ (the newest); older ones are deleted after each new one. */
  readonly snapshotsKept: number;
  /**
   * How far back a reconnecting client's watches (or an addWatch fromZxid) can be
   * replayed: the most recent changes (creates, deletes, data changes) this server
   * keeps in memory, by count and by bytes (64 + the path's length each).
   */
  readonly watchReplayMaxChanges: number;
  readonly watchReplayMaxBytes: number;
  /**
   * Size each WAL segment is preallocated to; a spare of the same size is preallocated
   * beside the one being written, so the log takes about twice this on disk.
   */
  readonly walSegmentBytes: number;
  /** The Raft clock: heartbeats every heartbeatTicks, elections after a random [1, 2) x electionTicks of silence. */
  readonly raftTickMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  /**
   * Appends the leader keeps in flight to one follower before waiting for its
   * acknowledgement. Entries proposed meanwhile leave together in the next append
   * (up to 4,096 entries or 1 MiB), so a follower persists and acknowledges them in
   * one batch: with 1, three servers spent 8-10% less CPU per write at 32 sessions
   * than with 256 (etcd's default), at the same throughput and latency.
   */
  readonly raftMaxInflightAppends: number;
  /**
   * PEM certificate (chain) this server presents; with tlsKeyFile, every port speaks
   * TLS only: the WebSocket/HTTP port (wss://, https://), the ZooKeeper-protocol port
   * (as ZooKeeper's secureClientPort), and peer links. null: plaintext everywhere.
   */
  readonly tlsCertFile: string | null;
  /** PEM private key of tlsCertFile. */
  readonly tlsKeyFile: string | null;
  /** PEM CA certificate(s) that sign peers' certificates (mutual TLS between servers; required in an ensemble with TLS). */
  readonly tlsCaFile: string | null;
  /**
   * Browser origins (`https://app.example.com`, comma-separated; `*` = any) allowed to
   * open the WebSocket port. A WebSocket upgrade with another Origin header is refused
   * with 403, except the server's own origin; one with no Origin (not a browser) is accepted.
   */
  readonly allowedOrigins: string;
  /** Least severe log level written: trace, debug, info, warn, error, fatal or silent. */
  readonly logLevel: string;
  /** Log lines as JSON (one object a line) or pretty (one readable line); auto: pretty on a terminal, JSON otherwise. */
  readonly logFormat: string;
  /** A WAL fdatasync slower than this is logged as a warning (etcd warns past 1 s too). */
  readonly slowFsyncLogMs: number;
}

export const DEFAULT_CONFIG: ServerConfig = {
  serverId: 1,
  host: '127.0.0.1',
  port: 8181,
  zkPort: 2181,
  zkMaxFrameBytes: 1024 * 1024,
  zkConnectTimeoutMs: 10_000,
  connectTimeoutMs: 5000,
  zkFourLetterWords: 'ruok,srvr,stat,mntr,conf,cons,wchs,envi,isro,dirs',
  dataDir: './zook-data',
  tickMs: 1000,
  minSessionTimeoutMs: 2000,
  maxSessionTimeoutMs: 20_000,
  maxFrameBytes: 2 * 1024 * 1024,
  maxDataBytes: 1024 * 1024,
  maxPathBytes: 4096,
  maxInFlightPerConnection: 1000,
  maxInFlightBytesPerConnection: 32 * 1024 * 1024,
  maxBufferedBytesPerConnection: 8 * 1024 * 1024,
  maxBackpressureBytes: 64 * 1024 * 1024,
  maxConnections: 10_000,
  maxConnectionsPerIp: 2000,
  maxSessions: 100_000,
  superDigest: null,
  allowSlowWebSockets: false,
  expirySweepMs: 5000,
  snapshotEveryEntries: 100_000,
  snapshotEveryBytes: 64 * 1024 * 1024,
  snapshotsKept: 3,
  watchReplayMaxChanges: 100_000,
  watchReplayMaxBytes: 16 * 1024 * 1024,
  walSegmentBytes: 64 * 1024 * 1024,
  raftTickMs: 100,
  electionTicks: 10,
  heartbeatTicks: 1,
  raftMaxInflightAppends: 1,
  tlsCertFile: null,
  tlsKeyFile: null,
  tlsCaFile: null,
  allowedOrigins: '',
  logLevel: 'info',
  logFormat: 'auto',
  slowFsyncLogMs: 1000,
};

/** Smallest walSegmentBytes: the WAL's largest write (4 MiB) fits in one segment. */
export const MIN_WAL_SEGMENT_BYTES = 4 * 1024 * 1024;

const ENV_KEYS: Record<string, keyof ServerConfig> = {
  ZOOK_SERVER_ID: 'serverId',
  ZOOK_HOST: 'host',
  ZOOK_PORT: 'port',
  ZOOK_ZK_PORT: 'zkPort',
  ZOOK_DATA_DIR: 'dataDir',
  ZOOK_TICK_MS: 'tickMs',
  ZOOK_SUPER_DIGEST: 'superDigest',
  ZOOK_LOG_LEVEL: 'logLevel',
  ZOOK_LOG_FORMAT: 'logFormat',
};

function coerce(key: keyof ServerConfig, value: unknown): unknown {
  const expected = typeof DEFAULT_CONFIG[key];
  if (DEFAULT_CONFIG[key] === null) return value === null || value === '' ? null : String(value);
  if (expected === 'number') {
    const n = typeof value === 'number' ? value : Number(value);
    if (!Number.isFinite(n)) throw new Error(`config: ${key} must be a number, got ${JSON.stringify(value)}`);
    return n;
  }
  if (expected === 'boolean') return value === true || value === 'true' || value === '1';
  return String(value);
}

/** Validates and completes a partial config; throws with the first problem found. */
export function resolveConfig(overrides: Partial<Record<keyof ServerConfig, unknown>>): ServerConfig {
  const merged: Record<string, unknown> = { ...DEFAULT_CONFIG };
  for (const [key, value] of Object.entries(overrides)) {
    if (!(key in DEFAULT_CONFIG)) throw new Error(`config: unknown setting "${key}"`);
    if (value !== undefined) merged[key] = coerce(key as keyof ServerConfig, value);
  }
  // Follow the tick when the bounds were not set explicitly.
  if (overrides.minSessionTimeoutMs === undefined) merged.minSessionTimeoutMs = 2 * (merged.tickMs as number);
  if (overrides.maxSessionTimeoutMs === undefined) merged.maxSessionTimeoutMs = 20 * (merged.tickMs as number);
  const config = merged as unknown as ServerConfig;
  const positive: (keyof ServerConfig)[] = [
    'tickMs',
    'minSessionTimeoutMs',
    'maxSessionTimeoutMs',
    'maxFrameBytes',
    'zkMaxFrameBytes',
    'zkConnectTimeoutMs',
    'connectTimeoutMs',
    'maxDataBytes',
    'maxPathBytes',
    'maxInFlightPerConnection',
    'maxInFlightBytesPerConnection',
    'maxBufferedBytesPerConnection',
    'maxBackpressureBytes',
    'maxConnections',
    'maxConnectionsPerIp',
    'maxSessions',
    'expirySweepMs',
    'snapshotEveryEntries',
    'snapshotEveryBytes',
    'snapshotsKept',
    'watchReplayMaxChanges',
    'watchReplayMaxBytes',
    'walSegmentBytes',
    'raftTickMs',
    'electionTicks',
    'heartbeatTicks',
    'raftMaxInflightAppends',
    'slowFsyncLogMs',
  ];
  for (const key of positive) {
    const v = config[key] as number;
    if (!Number.isSafeInteger(v) || v < 1) throw new Error(`config: ${key} must be a positive integer, got ${v}`);
  }
  if (!Number.isInteger(config.serverId) || config.serverId < 1 || config.serverId > 127) throw new Error('config: serverId must be 1..127');
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535) throw new Error('config: port must be 0..65535');
  if (!Number.isInteger(config.zkPort) || config.zkPort < 0 || config.zkPort > 65535) throw new Error('config: zkPort must be 0..65535');
  if (config.port !== 0 && config.port === config.zkPort) throw new Error(`config: port and zkPort are both ${config.port}: zook's WebSocket/HTTP port and ZooKeeper's client port must differ`);
  if (config.minSessionTimeoutMs > config.maxSessionTimeoutMs) throw new Error('config: minSessionTimeoutMs is above maxSessionTimeoutMs');
  if (config.electionTicks <= config.heartbeatTicks) throw new Error('config: electionTicks must exceed heartbeatTicks');
  if (config.maxDataBytes + 64 * 1024 > config.maxFrameBytes) throw new Error('config: maxFrameBytes must leave room for maxDataBytes plus 64 KiB of framing');
  // One log entry (a request of up to maxFrameBytes) must fit in one WAL write, which never spans two segments.
  if (config.walSegmentBytes < MIN_WAL_SEGMENT_BYTES || config.walSegmentBytes < 2 * config.maxFrameBytes) {
    throw new Error(`config: walSegmentBytes must be at least ${MIN_WAL_SEGMENT_BYTES} (4 MiB) and at least twice maxFrameBytes (${2 * config.maxFrameBytes}), got ${config.walSegmentBytes}`);
  }
  if (config.maxBufferedBytesPerConnection >= config.maxBackpressureBytes) {
    throw new Error('config: maxBufferedBytesPerConnection must be below maxBackpressureBytes (past the first a client is answered Throttled, past the second it is disconnected)');
  }
  if ((config.tlsCertFile === null) !== (config.tlsKeyFile === null)) {
    throw new Error(`config: tlsCertFile and tlsKeyFile go together (got only ${config.tlsCertFile === null ? 'tlsKeyFile' : 'tlsCertFile'}): set both for TLS, or neither for plaintext`);
  }
  parseAllowedOrigins(config.allowedOrigins);
  if (!(LOG_LEVELS as readonly string[]).includes(config.logLevel)) throw new Error(`config: logLevel must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(config.logLevel)}`);
  if (config.logFormat !== 'auto' && !(LOG_FORMATS as readonly string[]).includes(config.logFormat)) throw new Error(`config: logFormat must be auto, ${LOG_FORMATS.join(' or ')}, got ${JSON.stringify(config.logFormat)}`);
  if (config.tlsCaFile !== null && config.tlsCertFile === null) throw new Error('config: tlsCaFile is set without tlsCertFile and tlsKeyFile: the CA verifies peers, which needs this server\'s own certificate');
  return config;
}

/** Reads a JSON config file: an object with any ServerConfig keys. */
export function readConfigFile(path: string): Partial<Record<keyof ServerConfig, unknown>> {
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`config: ${path} must hold a JSON object`);
  return parsed as Partial<Record<keyof ServerConfig, unknown>>;
}

/** The ZOOK_* environment variables that are set. */
export function configFromEnv(env: NodeJS.ProcessEnv): Partial<Record<keyof ServerConfig, unknown>> {
  const out: Partial<Record<keyof ServerConfig, unknown>> = {};
  for (const [name, key] of Object.entries(ENV_KEYS)) if (env[name] !== undefined) out[key] = env[name];
  return out;
}
