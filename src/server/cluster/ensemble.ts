// The ensemble file: every server that is or may become a member (ZooKeeper's
// `server.N=host:peerPort;clientPort` lines), the shared secret peers prove to
// each other, and settings common to all servers. Which servers vote is not
// decided here after the first start: membership lives in the replicated log
// (`zook admin add-voter/add-learner/remove` change it online).
//
// {
//   "clusterId": "prod-a",
//   "secret": "at least 16 characters, the same on every server",
//   "servers": [
//     { "id": 1, "host": "10.0.0.1", "zkPort": 2181, "clientPort": 8181, "peerPort": 2888 },
//     { "id": 4, "host": "10.0.0.4", "zkPort": 2181, "clientPort": 8181, "peerPort": 2888, "role": "learner" },
//     { "id": 5, "host": "10.0.0.5", "zkPort": 2181, "clientPort": 8181, "peerPort": 2888, "joining": true }
//   ],
//   "tickMs": 1000                      (any server setting, applied to every server)
// }
import { readFileSync } from 'node:fs';
import type { Membership } from '../../consensus/index.js';

export interface EnsembleServer {
  readonly id: number;
  readonly host: string;
  /** ZooKeeper's client protocol (default 2181). */
  readonly zkPort: number;
  /** zook's WebSocket + HTTP port. */
  readonly clientPort: number;
  readonly peerPort: number;
  /** A learner (ZooKeeper's observer) receives the log and serves clients but never votes. */
  readonly role: 'voter' | 'learner';
  /** Not a member of the first configuration: it waits until `zook admin add-*` adds it. */
  readonly joining: boolean;
  /** Optional per-server data dir (several servers on one machine). */
  readonly dataDir: string | null;
}

export interface Ensemble {
  readonly clusterId: string;
  readonly secret: string;
  readonly servers: readonly EnsembleServer[];
  /** Other top-level keys: server settings shared by every server. */
  readonly settings: Readonly<Record<string, unknown>>;
}

const MIN_SECRET_CHARS = 16;
/** ZooKeeper's client port: what every ZooKeeper application's connect string names. */
const DEFAULT_ZK_PORT = 2181;
const ENSEMBLE_KEYS = new Set(['clusterId', 'secret', 'servers']);

function fail(message: string): never {
  throw new Error(`ensemble: ${message}`);
}

function port(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) fail(`${what} must be a port number 1..65535, got ${JSON.stringify(value)}`);
  return value;
}

/** Validates a parsed ensemble file; throws naming the first problem. */
export function parseEnsemble(value: unknown): Ensemble {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('the file must hold a JSON object');
  const o = value as Record<string, unknown>;
  const clusterId = o.clusterId ?? 'zook';
  if (typeof clusterId !== 'string' || clusterId.length === 0) fail('clusterId must be a non-empty string');
  if (typeof o.secret !== 'string' || o.secret.length < MIN_SECRET_CHARS) fail(`secret must be a string of at least ${MIN_SECRET_CHARS} characters (peers prove they know it)`);
  if (!Array.isArray(o.servers) || o.servers.length === 0) fail('servers must be a non-empty array');
  const servers: EnsembleServer[] = [];
  const ids = new Set<number>();
  for (const [i, raw] of (o.servers as unknown[]).entries()) {
    if (typeof raw !== 'object' || raw === null) fail(`servers[${i}] must be an object`);
    const s = raw as Record<string, unknown>;
    const id = s.id;
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > 127) fail(`servers[${i}].id must be 1..127 (it is part of every session id)`);
    if (ids.has(id)) fail(`server id ${id} is listed twice`);
    ids.add(id);
    const host = s.host ?? '127.0.0.1';
    if (typeof host !== 'string' || host.length === 0) fail(`server ${id}: host must be a non-empty string`);
    const role = s.role ?? 'voter';
    if (role !== 'voter' && role !== 'learner') fail(`server ${id}: role must be "voter" or "learner"`);
    const dataDir = s.dataDir ?? null;
    if (dataDir !== null && typeof dataDir !== 'string') fail(`server ${id}: dataDir must be a string`);
    servers.push({
      id,
      host,
      zkPort: s.zkPort === undefined ? DEFAULT_ZK_PORT : port(s.zkPort, `server ${id}: zkPort`),
      clientPort: port(s.clientPort, `server ${id}: clientPort`),
      peerPort: port(s.peerPort, `server ${id}: peerPort`),
      role,
      joining: s.joining === true,
      dataDir,
    });
  }
  if (!servers.some((s) => s.role === 'voter' && !s.joining)) fail('the first configuration needs at least one voter that is not joining');
  const settings: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(o)) if (!ENSEMBLE_KEYS.has(key)) settings[key] = v;
  return { clusterId, secret: o.secret, servers, settings };
}

export function readEnsembleFile(path: string): Ensemble {
  return parseEnsemble(JSON.parse(readFileSync(path, 'utf8')));
}

/** Whether a parsed config file is an ensemble file (it lists servers) rather than one server's settings. */
export function isEnsembleFile(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'servers' in value;
}

export function ensembleServer(ensemble: Ensemble, id: number): EnsembleServer {
  const server = ensemble.servers.find((s) => s.id === id);
  if (server === undefined) fail(`server ${id} is not in the ensemble (ids: ${ensemble.servers.map((s) => s.id).join(', ')})`);
  return server;
}

/** The first configuration, written identically into every member's empty log. */
export function initialMembership(ensemble: Ensemble): Membership {
  const first = ensemble.servers.filter((s) => !s.joining);
  return {
    voters: first.filter((s) => s.role === 'voter').map((s) => s.id).sort((a, b) => a - b),
    learners: first.filter((s) => s.role === 'learner').map((s) => s.id).sort((a, b) => a - b),
  };
}

/** `host:zkPort` of every server: a ZooKeeper connect string's parts. */
export function zkAddresses(ensemble: Ensemble): string[] {
  return ensemble.servers.map((s) => `${s.host}:${s.zkPort}`);
}

/** `host:clientPort` of every server, for clients (`connect(...)` takes the list). */
export function clientAddresses(ensemble: Ensemble): string[] {
  return ensemble.servers.map((s) => `${s.host}:${s.clientPort}`);
}
