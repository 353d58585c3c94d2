// The console's link to the server that served it: zook's own browser client over
// ws(s)://<this host:port>, and that server's HTTP answers (/ensemble, /metrics,
// /admin/*). Same origin only: the server aggregates what other members say.
import { connect, type ZookClient } from 'zook/client';

export type { ZookClient };

/** The WebSocket URL of the server that served this page (wss:// when the page came over https). */
export function serverUrl(loc: Location = location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}`;
}

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

/** A session on this page's server, signed in with digest user:password when given (ACLs then apply as that user). */
export function openClient(credentials: Credentials | null): Promise<ZookClient> {
  return connect(serverUrl(), {
    sessionTimeoutMs: 30_000,
    // Only this server: the console shows what the server it came from sees.
    shuffleServers: false,
    ...(credentials === null ? {} : { auth: [{ scheme: 'digest', auth: `${credentials.user}:${credentials.password}` }] }),
  });
}

// The shapes of GET /status and GET /ensemble, declared once for the server and the console.
import type { EnsembleStatus } from '../../src/server/status-types.js';
export type { EnsembleStatus, FollowerStatus, MemberStatus, NodeStatus } from '../../src/server/status-types.js';

export interface SessionInfo {
  readonly id: string;
  readonly timeoutMs: number;
  readonly connectedHere: boolean;
  readonly ephemerals: readonly string[];
}

const FETCH_TIMEOUT_MS = 5000;

async function getJson<T>(path: string, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(path, { headers, cache: 'no-store', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(`${res.status}: ${body.error ?? res.statusText}`);
  return body;
}

export const fetchEnsemble = (): Promise<EnsembleStatus> => getJson<EnsembleStatus>('/ensemble');

export async function fetchMetrics(): Promise<string> {
  const res = await fetch('/metrics', { cache: 'no-store', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
  return res.text();
}

/** The headers that prove admin rights: the admin token, or the signed-in user as HTTP Basic (the superDigest user of a standalone server). */
export function adminHeaders(token: string, credentials: Credentials | null): Record<string, string> {
  const headers: Record<string, string> = {};
  if (token !== '') headers['x-zook-admin-token'] = token;
  if (credentials !== null) headers.authorization = `Basic ${btoa(`${credentials.user}:${credentials.password}`)}`;
  return headers;
}

export const fetchSessions = (headers: Record<string, string>): Promise<{ serverId: number; sessions: SessionInfo[] }> => getJson('/admin/sessions', headers);

/** The server this console came from does not lead: only the leader changes the ensemble. */
export class NotLeader extends Error {
  constructor(readonly leader: number) {
    super(`only the leader does this, and server ${leader === 0 ? '(none known)' : leader} leads`);
  }
}

/** POST /admin/<action>: transfer-leader, members/add-voter, members/add-learner, members/remove. */
export async function adminPost(action: string, query: Record<string, string>, token: string): Promise<string> {
  const qs = new URLSearchParams(query).toString();
  const res = await fetch(`/admin/${action}${qs === '' ? '' : `?${qs}`}`, { method: 'POST', headers: { 'x-zook-admin-token': token }, signal: AbortSignal.timeout(30_000) });
  const body = (await res.json()) as { error?: string; leader?: number };
  if (res.status === 421) throw new NotLeader(body.leader ?? 0);
  if (!res.ok) throw new Error(`${res.status}: ${body.error ?? res.statusText}`);
  return JSON.stringify(body);
}
