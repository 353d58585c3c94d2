// Operator endpoints on the client port, for `zook admin` (like etcd's member API):
//
//   GET  /status                                  this server's role, term, indexes, followers' lag (open)
//   POST /admin/transfer-leader[?to=N]            leader: hand leadership to N (default: the most caught-up voter)
//   POST /admin/members/add-voter?id=N            leader: add (or promote a learner to) a voter
//   POST /admin/members/add-learner?id=N          leader: add a non-voting learner
//   POST /admin/members/remove?id=N               leader: remove a voter or learner
//   GET  /admin/snapshot[?linearizable=0]         any server: a snapshot file of the tree as it applied it
//                                                 (snapshot-export.ts), after a read barrier unless
//                                                 linearizable=0 (`zook snapshot save`)
//
// The POSTs change the ensemble, so they need the header `x-zook-admin-token`:
// adminToken(secret) of the ensemble's shared secret (the CLI reads the ensemble
// file). A follower answers 421 with the leader's id so the caller can go there.
// The snapshot holds every znode whatever its ACL, so it needs the admin token, or
// (a standalone server has no ensemble secret) HTTP Basic credentials of the
// superDigest user (`Authorization: Basic base64(super:password)`, ZooKeeper's
// super user, who may read everything).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ConfChangeType, ProposalDropped, type ConfChange } from '../consensus/index.js';
import type { ZookNode } from './node.js';
import { nodeStatus } from './node-status.js';
import { exportSnapshot, SnapshotExportTimeout } from './snapshot-export.js';
import { digestId } from '../tree/acl.js';
import type { HttpResponse, TemplatedApp } from './uws.js';

export const ADMIN_TOKEN_HEADER = 'x-zook-admin-token';

/** The token `zook admin` sends: derived from the ensemble secret, so the secret itself never travels. */
export function adminToken(secret: string, clusterId: string): string {
  return createHmac('sha256', secret).update(`zook admin/${clusterId}`).digest('hex');
}

/** How long a snapshot export waits for the server's own snapshot of the tree to finish first. */
const EXPORT_WAIT_MS = 60_000;

/** Whether an `Authorization: Basic` header names the superDigest user with the right password. */
export function isSuperBasicAuth(header: string, superDigest: string | null): boolean {
  if (superDigest === null) return false;
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (match === null) return false;
  const text = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 1) return false;
  const offered = Buffer.from(digestId(text.slice(0, colon), text.slice(colon + 1)));
  const expected = Buffer.from(superDigest);
  return offered.length === expected.length && timingSafeEqual(offered, expected);
}

const MEMBER_OPS: Record<string, ConfChange['type']> = {
  'add-voter': ConfChangeType.AddVoter,
  'add-learner': ConfChangeType.AddLearner,
  remove: ConfChangeType.RemoveNode,
};

interface Reply {
  readonly status: string;
  readonly body: unknown;
}

function send(res: HttpResponse, aborted: { value: boolean }, reply: Reply): void {
  if (aborted.value) return;
  res.cork(() => {
    res.writeStatus(reply.status).writeHeader('content-type', 'application/json').end(JSON.stringify(reply.body));
  });
}

/** Sends a large body, as much as the socket takes at a time (uWebSockets.js' tryEnd and onWritable). */
function sendBody(res: HttpResponse, aborted: { value: boolean }, body: Buffer, headers: Readonly<Record<string, string>>): void {
  const total = body.length;
  res.cork(() => {
    res.writeStatus('200 OK').writeHeader('content-type', 'application/octet-stream');
    for (const [name, value] of Object.entries(headers)) res.writeHeader(name, value);
    const start = res.getWriteOffset();
    const [ok, done] = res.tryEnd(body, total);
    if (ok || done) return;
    res.onWritable((offset) => {
      if (aborted.value) return true;
      const [more] = res.tryEnd(body.subarray(offset - start), total);
      return more;
    });
  });
}

function refused(error: unknown, node: ZookNode): Reply {
  if (error instanceof ProposalDropped) {
    const notLeader = error.reason === 'not leader' || error.reason === 'no leader known';
    return { status: notLeader ? '421 Misdirected Request' : '409 Conflict', body: { error: error.reason, leader: node.raft.leader } };
  }
  return { status: '500 Internal Server Error', body: { error: error instanceof Error ? error.message : String(error) } };
}

export function registerAdminRoutes(app: TemplatedApp, node: ZookNode): void {
  const expected = node.ensemble === null ? null : Buffer.from(adminToken(node.ensemble.secret, node.ensemble.clusterId));
  const authorized = (token: string): boolean => expected !== null && token.length === expected.length && timingSafeEqual(Buffer.from(token), expected);

  app.get('/status', (res) => {
    res.writeHeader('content-type', 'application/json').end(JSON.stringify(nodeStatus(node)));
  });

  const handle = (res: HttpResponse, token: string, work: () => Promise<Reply>): void => {
    const aborted = { value: false };
    res.onAborted(() => (aborted.value = true));
    if (node.ensemble === null) return send(res, aborted, { status: '400 Bad Request', body: { error: 'a standalone server has no ensemble to change' } });
    if (!authorized(token)) return send(res, aborted, { status: '403 Forbidden', body: { error: `missing or wrong ${ADMIN_TOKEN_HEADER}` } });
    if (!node.isLeader) return send(res, aborted, { status: '421 Misdirected Request', body: { error: 'not leader', leader: node.raft.leader } });
    work().then(
      (reply) => send(res, aborted, reply),
      (error: unknown) => send(res, aborted, refused(error, node)),
    );
  };

  app.post('/admin/transfer-leader', (res, req) => {
    const to = req.getQuery('to');
    const target = to === undefined || to === '' ? undefined : Number(to);
    handle(res, req.getHeader(ADMIN_TOKEN_HEADER), async () => {
      if (target !== undefined && !(Number.isInteger(target) && target > 0)) return { status: '400 Bad Request', body: { error: `bad server id ${to}` } };
      const moved = await node.transferLeadership(target);
      return moved ? { status: '200 OK', body: { leader: node.raft.leader } } : { status: '409 Conflict', body: { error: 'leadership did not move (no caught-up voter reachable?)', leader: node.raft.leader } };
    });
  });

  app.get('/admin/snapshot', (res, req) => {
    const aborted = { value: false };
    res.onAborted(() => (aborted.value = true));
    const linearizable = req.getQuery('linearizable') !== '0';
    if (!authorized(req.getHeader(ADMIN_TOKEN_HEADER)) && !isSuperBasicAuth(req.getHeader('authorization'), node.treeOptions.superDigest)) {
      const how = node.ensemble === null ? 'HTTP Basic credentials of the superDigest user (this server has no ensemble secret)' : `${ADMIN_TOKEN_HEADER} or HTTP Basic credentials of the superDigest user`;
      return send(res, aborted, { status: '403 Forbidden', body: { error: `a snapshot holds every znode: send ${how}` } });
    }
    (async () => {
      if (linearizable) await node.readBarrier();
      return exportSnapshot(node, EXPORT_WAIT_MS);
    })().then(
      (snapshot) => {
        if (aborted.value) return;
        sendBody(res, aborted, snapshot.file, { 'x-zook-snapshot-index': String(snapshot.index), 'x-zook-snapshot-term': String(snapshot.term) });
      },
      (error: unknown) => {
        const unavailable = error instanceof SnapshotExportTimeout || (error instanceof Error && error.name === 'ReadIndexFailed');
        send(res, aborted, unavailable ? { status: '503 Service Unavailable', body: { error: error.message } } : refused(error, node));
      },
    );
  });

  app.post('/admin/members/:op', (res, req) => {
    const op = req.getParameter(0) ?? '';
    const id = Number(req.getQuery('id'));
    handle(res, req.getHeader(ADMIN_TOKEN_HEADER), async () => {
      const type = MEMBER_OPS[op];
      if (type === undefined) return { status: '404 Not Found', body: { error: `unknown member operation ${op}: add-voter, add-learner or remove` } };
      if (!(Number.isInteger(id) && id > 0 && id <= 127)) return { status: '400 Bad Request', body: { error: 'id must be a server id 1..127' } };
      const result = await node.changeMembership({ type, node: id });
      return { status: '200 OK', body: result };
    });
  });
}
