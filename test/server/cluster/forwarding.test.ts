// The leader's side of forwarding, with a fake node and a fake link: per-session
// FIFO through a deferred write, and writes from a server the session left refused.
import { afterEach, describe, expect, test } from 'vitest';
import { decodeForward, encodeForwardAttach, encodeForwardWrite, type ForwardReply } from '../../../src/server/cluster/forward-codec.js';
import { Forwarding, type ForwardingHost, type LocalProposal } from '../../../src/server/cluster/forwarding.js';
import { DEFAULT_TREE_OPTIONS, ErrorCode, type RequestSession, type WriteRequest } from '../../../src/tree/index.js';

const LIMITS = { timeoutMs: 1000, maxPending: 100, maxLeaderQueue: 100, maxPingsPerBatch: 100 };

function harness(decide: (request: WriteRequest, mayDefer: boolean) => LocalProposal) {
  const proposed: string[] = [];
  const replies: { to: number; id: bigint; reply: ForwardReply }[] = [];
  let applied = 0;
  const appliedWaiters: { index: number; resolve: () => void }[] = [];
  const host: ForwardingHost = {
    proposeLocal: (request, _session, mayDefer) => {
      const outcome = decide(request, mayDefer);
      if (outcome.kind === 'proposed') proposed.push(request.type === 'setData' ? request.path : request.type);
      return outcome;
    },
    waitApplied: (index) => (index <= applied ? Promise.resolve() : new Promise((resolve) => appliedWaiters.push({ index, resolve }))),
    sessionsHeard: () => {},
    sessionExists: () => true,
    treeOptions: DEFAULT_TREE_OPTIONS,
  };
  const forwarding = new Forwarding(host, {
    sendForward: (to, payload, id) => {
      const m = decodeForward(payload, DEFAULT_TREE_OPTIONS, 100);
      if (m.kind === 'reply') replies.push({ to, id, reply: m.reply });
    },
  }, LIMITS);
  const applyUpTo = (index: number): void => {
    applied = index;
    for (const w of appliedWaiters.splice(0)) if (w.index <= index) w.resolve();
  };
  return { forwarding, proposed, replies, applyUpTo };
}

const session: RequestSession = { id: 42, authIds: [] };
const set = (path: string): WriteRequest => ({ type: 'setData', path, data: new Uint8Array(0), version: -1 });
let open: Forwarding[] = [];
afterEach(() => {
  for (const f of open) f.close();
  open = [];
});

describe('leader side of forwarding', () => {
  test('a session\'s forwarded writes are proposed in arrival order, even when the first must wait for the log', async () => {
    let index = 10;
    let deferredOnce = false;
    const h = harness((request, mayDefer) => {
      if (request.type === 'setData' && request.path === '/first' && mayDefer && !deferredOnce) {
        deferredOnce = true;
        return { kind: 'deferred', untilIndex: 12 };
      }
      return { kind: 'proposed', index: ++index, term: 3 };
    });
    open.push(h.forwarding);
    h.forwarding.receive(2, 1n, encodeForwardWrite(session, set('/first')));
    h.forwarding.receive(2, 2n, encodeForwardWrite(session, set('/second')));
    expect(h.proposed).toEqual([]);
    h.applyUpTo(12);
    await new Promise((resolve) => setImmediate(resolve));
    expect(h.proposed).toEqual(['/first', '/second']);
    expect(h.replies.map((r) => r.id)).toEqual([1n, 2n]);
  });

  test('once a session attached to another server, its writes from the old one are refused with SessionMoved', () => {
    let index = 0;
    const h = harness(() => ({ kind: 'proposed', index: ++index, term: 1 }));
    open.push(h.forwarding);
    h.forwarding.receive(2, 1n, encodeForwardWrite(session, set('/from-2')));
    h.forwarding.receive(3, 0n, encodeForwardAttach(session.id));
    h.forwarding.receive(2, 2n, encodeForwardWrite(session, set('/late-from-2')));
    h.forwarding.receive(3, 3n, encodeForwardWrite(session, set('/from-3')));
    expect(h.proposed).toEqual(['/from-2', '/from-3']);
    expect(h.replies.find((r) => r.id === 2n)?.reply).toEqual({ kind: 'rejected', error: ErrorCode.SessionMoved, multi: null });
  });

  test('a new leader knows no owners: it takes a session\'s writes from any server until one attaches', () => {
    let index = 0;
    const h = harness(() => ({ kind: 'proposed', index: ++index, term: 1 }));
    open.push(h.forwarding);
    h.forwarding.receive(3, 0n, encodeForwardAttach(session.id));
    h.forwarding.dropLeaderQueues(0);
    h.forwarding.receive(2, 1n, encodeForwardWrite(session, set('/after-election')));
    expect(h.proposed).toEqual(['/after-election']);
  });
});
