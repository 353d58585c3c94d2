// The web console (console/ in the repo, built into dist/console by `npm run
// build:console`) served on the client port at `/`, and the two HTTP answers it
// needs besides /status and /metrics:
//
//   GET /                     the console's index.html; its other files by exact name
//                             (app.js, app.css): read once at start, nothing else on disk
//                             is ever served (no path is joined from the request)
//   GET /ensemble             every member's /status in one answer, fetched by this
//                             server over HTTP(S) from the members' client ports (open,
//                             like /status): a page may only read its own origin, and the
//                             members can reach each other where a browser may not
//   GET /admin/sessions       every session of the ensemble with its ephemerals (as
//                             ZooKeeper's `dump`); ephemeral paths are znode names whatever
//                             their ACLs, so it needs the admin token or the superDigest
//                             user's HTTP Basic credentials, like /admin/snapshot
import { timingSafeEqual } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ZookNode } from './node.js';
import { type NodeStatus, nodeStatus } from './node-status.js';
import { type HttpResult, httpRequest } from '../util/http-request.js';
import { ADMIN_TOKEN_HEADER, adminToken, isSuperBasicAuth } from './admin-http.js';
import type { TlsMaterial } from './tls.js';
import type { HttpResponse, TemplatedApp } from './uws.js';

export interface ConsoleFile {
  readonly body: Buffer;
  readonly contentType: string;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

/** Largest console file read: the bundle is ~100 kB; a bigger file is not ours. */
const MAX_CONSOLE_FILE_BYTES = 8 * 1024 * 1024;
/** How long /ensemble waits for one member's /status (connect, TLS and answer). */
export const MEMBER_STATUS_TIMEOUT_MS = 1500;

/**
 * Where the built console is: dist/console beside dist/src (a built or installed
 * package), else the repo's dist/console when running from src (tsx).
 */
export function consoleDir(): string | null {
  const candidates = [fileURLToPath(new URL('../../console/', import.meta.url)), fileURLToPath(new URL('../../dist/console/', import.meta.url))];
  for (const dir of candidates) if (existsSync(join(dir, 'index.html')) && existsSync(join(dir, 'app.js'))) return dir;
  return null;
}

/** The console's files by URL path ('/' is index.html); empty when it is not built. Only the directory's own regular files (no subdirectories, no symlinks) with a known type. */
export function loadConsoleFiles(dir: string | null = consoleDir()): Map<string, ConsoleFile> {
  const files = new Map<string, ConsoleFile>();
  if (dir === null) return files;
  for (const name of readdirSync(dir)) {
    const dot = name.lastIndexOf('.');
    const contentType = dot < 0 ? undefined : CONTENT_TYPES[name.slice(dot)];
    if (contentType === undefined || !/^[A-Za-z0-9._-]+$/.test(name)) continue;
    const path = join(dir, name);
    // lstat: a symlink (which could point anywhere) is skipped, not followed.
    const st = lstatSync(path);
    if (!st.isFile() || st.size > MAX_CONSOLE_FILE_BYTES) continue;
    const file = { body: readFileSync(path), contentType };
    files.set(`/${name}`, file);
    if (name === 'index.html') files.set('/', file);
  }
  return files;
}

import type { EnsembleStatus, MemberStatus } from './status-types.js';
export type { EnsembleStatus, MemberStatus } from './status-types.js';

/** Largest /status answer read from a member (they are about 1 KiB). */
const MAX_STATUS_BYTES = 1024 * 1024;

/**
 * One member's /status over HTTP(S), verified with the ensemble's CA when TLS is on;
 * MEMBER_STATUS_TIMEOUT_MS bounds the whole exchange.
 */
async function fetchStatus(url: string, tls: TlsMaterial | null): Promise<NodeStatus> {
  let answer: HttpResult;
  try {
    answer = await httpRequest(`${url}/status`, { timeoutMs: MEMBER_STATUS_TIMEOUT_MS, maxResponseBytes: MAX_STATUS_BYTES, ...(tls?.ca ? { ca: tls.ca } : {}) });
  } catch (error) {
    throw error instanceof Error && error.name === 'TimeoutError' ? new Error(`no answer in ${MEMBER_STATUS_TIMEOUT_MS} ms`) : error;
  }
  if (answer.status !== 200) throw new Error(`answered ${answer.status}`);
  try {
    return JSON.parse(answer.text) as NodeStatus;
  } catch {
    throw new Error('answered without JSON');
  }
}

/** `ownPort`: the port this server listens on (config.port may be 0: any free port). */
export async function ensembleStatus(node: ZookNode, tls: TlsMaterial | null, ownPort: number): Promise<EnsembleStatus> {
  const self = nodeStatus(node);
  const scheme = tls === null ? 'http' : 'https';
  if (node.ensemble === null) {
    const host = node.config.host.includes(':') ? `[${node.config.host}]` : node.config.host;
    const url = `${scheme}://${host}:${ownPort}`;
    return { self: self.serverId, secure: tls !== null, members: [{ id: self.serverId, host: node.config.host, clientPort: ownPort, url, listedAs: 'voter', status: self, error: null }] };
  }
  const listed = [...node.ensemble.servers];
  const members = await Promise.all(
    listed.map(async (s): Promise<MemberStatus> => {
      const host = s.host.includes(':') ? `[${s.host}]` : s.host;
      const url = `${scheme}://${host}:${s.clientPort}`;
      const base = { id: s.id, host: s.host, clientPort: s.clientPort, url, listedAs: s.role };
      if (s.id === self.serverId) return { ...base, status: self, error: null };
      try {
        return { ...base, status: await fetchStatus(url, tls), error: null };
      } catch (error) {
        return { ...base, status: null, error: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
  for (const id of [...self.voters, ...self.learners]) {
    if (!listed.some((s) => s.id === id)) members.push({ id, host: '', clientPort: 0, url: '', listedAs: 'unlisted', status: null, error: 'not in this server\'s ensemble file' });
  }
  members.sort((a, b) => a.id - b.id);
  return { self: self.serverId, secure: tls !== null, members };
}

export interface SessionInfo {
  /** Hex, as ZooKeeper prints session ids. */
  readonly id: string;
  readonly timeoutMs: number;
  /** Connected to this server right now. */
  readonly connectedHere: boolean;
  readonly ephemerals: readonly string[];
}

/** Every session of the replicated tree with its ephemerals, sorted by id. */
export function sessionList(node: ZookNode): SessionInfo[] {
  const out: SessionInfo[] = [];
  for (const [id, s] of node.tree.sessions) {
    const live = node.sessions.get(id);
    out.push({ id: `0x${id.toString(16)}`, timeoutMs: s.timeoutMs, connectedHere: live?.connection != null, ephemerals: [...s.ephemerals].sort() });
  }
  out.sort((a, b) => (a.id.length - b.id.length) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return out;
}

function json(res: HttpResponse, aborted: { value: boolean }, status: string, body: unknown): void {
  if (aborted.value) return;
  res.cork(() => {
    res.writeStatus(status).writeHeader('content-type', 'application/json').writeHeader('cache-control', 'no-store').end(JSON.stringify(body));
  });
}

/**
 * Registers GET / and the console's files, /ensemble and /admin/sessions. Call before
 * the catch-all 404. `ownPort` is read when asked (the port is known once listening).
 */
export function registerConsoleRoutes(app: TemplatedApp, node: ZookNode, tls: TlsMaterial | null, ownPort: () => number, files: ReadonlyMap<string, ConsoleFile> = loadConsoleFiles()): void {
  for (const [path, file] of files) {
    app.get(path, (res) => {
      res.cork(() => {
        // File names carry no content hash: the browser revalidates (cheap, the files are in memory).
        res.writeHeader('content-type', file.contentType).writeHeader('cache-control', 'no-cache').writeHeader('x-content-type-options', 'nosniff').end(file.body);
      });
    });
  }
  if (!files.has('/')) {
    app.get('/', (res) => {
      res.writeStatus('404 Not Found').writeHeader('content-type', 'text/plain; charset=utf-8').end('zook: the web console is not built (npm run build writes dist/console)\n');
    });
  }

  app.get('/ensemble', (res) => {
    const aborted = { value: false };
    res.onAborted(() => (aborted.value = true));
    ensembleStatus(node, tls, ownPort()).then(
      (body) => json(res, aborted, '200 OK', body),
      (error: unknown) => json(res, aborted, '500 Internal Server Error', { error: error instanceof Error ? error.message : String(error) }),
    );
  });

  const expected = node.ensemble === null ? null : Buffer.from(adminToken(node.ensemble.secret, node.ensemble.clusterId));
  app.get('/admin/sessions', (res, req) => {
    const aborted = { value: false };
    res.onAborted(() => (aborted.value = true));
    const token = req.getHeader(ADMIN_TOKEN_HEADER);
    const byToken = expected !== null && token.length === expected.length && timingSafeEqual(Buffer.from(token), expected);
    if (!byToken && !isSuperBasicAuth(req.getHeader('authorization'), node.treeOptions.superDigest)) {
      return json(res, aborted, '403 Forbidden', { error: `sessions name ephemeral znodes whatever their ACLs: send ${ADMIN_TOKEN_HEADER} or HTTP Basic credentials of the superDigest user` });
    }
    json(res, aborted, '200 OK', { serverId: node.config.serverId, sessions: sessionList(node) });
  });
}
