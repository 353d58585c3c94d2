// Operator endpoints on the client port, for `zook admin` (like etcd's member API):
//
//   GET  /status                                  this server's role, term, indexes, followers' lag (open)
//   POST /admin/transfer-leader[?to=N]            leader: hand leadership to N (default: the most caught-up voter)
//   POST /admin/members/add-voter?id=N            leader: add (or promote a learner to) a voter
//   POST /admin/members/add-learner?id=N          leader: add a non-voting learner
//   POST /admin/members/remove?id=N               leader: remove a voter or learner
//
// The POSTs change the ensemble, so they need the header `x-zook-admin-token`:
// adminToken(secret) of the ensemble's shared secret (the CLI reads the ensemble
// file). A follower answers 421 with the leader's id so the caller can go there.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ConfChangeType, ProposalDropped, type ConfChange } from '../consensus/index.js';
import type { ZookNode } from './node.js';
import { nodeStatus } from './node-status.js';
import type { HttpResponse, TemplatedApp } from './uws.js';

export const ADMIN_TOKEN_HEADER = 'x-zook-admin-token';

/** The token `zook admin` sends: derived from the ensemble secret, so the secret itself never travels. */
export function adminToken(secret: string, clusterId: string): string {
  return createHmac('sha256', secret).update(`zook admin/${clusterId}`).digest('hex');
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
