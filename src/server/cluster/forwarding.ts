// Writes from a follower's clients reach the leader here, and session pings go
// with them. Only the leader prepares (it has the newest tree); the follower
// learns (index, term) and answers its client once it has applied that entry
// itself, so a client always sees its own write on the server it talks to.
//
// Order: a session's writes leave the follower in order on one link, and the
// leader runs them through a per-session FIFO, so they enter the log in request
// order even when one must wait (prepare refused it while earlier writes were
// still unapplied: see ZookNode.proposeLocal). When a client moves to another
// server, that server first tells the leader (Attach, ahead of the session's
// writes on its link); writes for the session that still arrive from the old
// server are then refused with SessionMoved, so they cannot land after newer
// ones (ZooKeeper's rule).
import { DecodeError, ErrorCode, failedMultiResult, type FailureCode, type MultiResult, type RequestSession, type TreeOptions, type WriteRequest } from '../../tree/index.js';
import { SILENT_LOG, type Log } from '../../util/log.js';
import { decodeForward, encodeForwardAttach, encodeForwardPings, encodeForwardReply, encodeForwardWrite, type ForwardReply } from './forward-codec.js';

/** The leader's own answer to a write it was handed, from ZookNode. */
export type LocalProposal =
  | { readonly kind: 'proposed'; readonly index: number; readonly term: number }
  | { readonly kind: 'rejected'; readonly error: FailureCode; readonly multi?: MultiResult }
  | { readonly kind: 'deferred'; readonly untilIndex: number }
  | { readonly kind: 'unavailable'; readonly leader: number };

/** What forwarding needs from the node it runs in. */
export interface ForwardingHost {
  proposeLocal(request: WriteRequest, session: RequestSession, mayDefer: boolean): LocalProposal;
  waitApplied(index: number): Promise<void>;
  /** Session pings a follower collected. */
  sessionsHeard(sessionIds: readonly number[]): void;
  /** Whether the replicated state holds this session (an attach for any other is stale). */
  sessionExists(sessionId: number): boolean;
  readonly treeOptions: TreeOptions;
}

/** What forwarding needs from the peer transport. */
export interface ForwardChannel {
  sendForward(to: number, payload: Uint8Array, id: bigint): void;
}

export interface ForwardingLimits {
  /** A forwarded write with no answer this long fails (its client reconnects). */
  readonly timeoutMs: number;
  /** Writes this follower may have waiting for the leader's answer. */
  readonly maxPending: number;
  /** Forwarded writes the leader holds queued (all followers together). */
  readonly maxLeaderQueue: number;
  /** Session ids in one ping batch. */
  readonly maxPingsPerBatch: number;
}

/** The write never got a final answer: the leader changed or could not be reached. Its outcome is unknown. */
export class ForwardFailed extends Error {
  override name = 'ForwardFailed';
}

interface Pending {
  readonly resolve: (reply: ForwardReply) => void;
  readonly reject: (error: Error) => void;
  readonly leader: number;
  readonly sentMs: number;
}

interface Queued {
  readonly from: number;
  readonly id: bigint;
  readonly session: RequestSession;
  readonly request: WriteRequest;
  deferred: boolean;
}

export interface ForwardingCounters {
  forwarded: number;
  forwardReplies: number;
  forwardsFailed: number;
  forwardedIn: number;
  malformed: number;
  pingBatchesSent: number;
  pingBatchesReceived: number;
}

/** Where a rejected multi failed, from ZooKeeper's per-op results (Ok before it). */
function failedAtOf(multi: MultiResult): { count: number; failedAt: number } {
  const failedAt = multi.results.findIndex((r) => r.type === 'error' && r.error !== 0);
  return { count: multi.results.length, failedAt: failedAt < 0 ? 0 : failedAt };
}

export function replyOfRejection(error: FailureCode, multi: MultiResult | undefined): ForwardReply {
  return { kind: 'rejected', error, multi: multi === undefined ? null : failedAtOf(multi) };
}

/** The multi result a rejected forward stands for (the same one the leader computed). */
export function multiOfReply(reply: Extract<ForwardReply, { kind: 'rejected' }>): MultiResult | undefined {
  return reply.multi === null ? undefined : failedMultiResult(reply.multi.count, reply.multi.failedAt, reply.error);
}

export class Forwarding {
  readonly counters: ForwardingCounters = {
    forwarded: 0,
    forwardReplies: 0,
    forwardsFailed: 0,
    forwardedIn: 0,
    malformed: 0,
    pingBatchesSent: 0,
    pingBatchesReceived: 0,
  };
  private nextId = 1n;
  /** Follower: writes waiting for the leader's answer, oldest first (Map keeps insertion order). */
  private readonly pending = new Map<bigint, Pending>();
  /** Leader: forwarded writes per session, in arrival order. */
  private readonly queues = new Map<number, Queued[]>();
  /** Leader: sessions whose head write waits for earlier writes to be applied. */
  private readonly blocked = new Set<number>();
  /** Leader: the server each session last attached to (this leader's term only). */
  private readonly owners = new Map<number, number>();
  private queued = 0;
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(
    private readonly host: ForwardingHost,
    private readonly channel: ForwardChannel,
    private readonly limits: ForwardingLimits,
    /** Malformed forwards from a peer are logged here (default: nowhere). */
    private readonly log: Log = SILENT_LOG,
  ) {
    this.sweepTimer = setInterval(() => this.expirePending(Date.now()), Math.max(50, Math.floor(limits.timeoutMs / 4)));
    this.sweepTimer.unref();
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  get leaderQueued(): number {
    return this.queued;
  }

  // ------------------------------------------------------------ follower side

  /** Hands a write to `leader`; resolves with its answer, rejects with ForwardFailed. */
  forward(leader: number, session: RequestSession, request: WriteRequest): Promise<ForwardReply> {
    if (this.pending.size >= this.limits.maxPending) {
      return Promise.reject(new ForwardFailed(`${this.limits.maxPending} writes already wait for the leader`));
    }
    const id = this.nextId++;
    this.counters.forwarded++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, leader, sentMs: Date.now() });
      this.channel.sendForward(leader, encodeForwardWrite(session, request), id);
    });
  }

  /** A session opened on this server: the leader learns it before any of its writes from here. */
  attach(leader: number, sessionId: number): void {
    this.channel.sendForward(leader, encodeForwardAttach(sessionId), 0n);
  }

  /** Leader: a session opened on `server` (this leader itself for its own clients). */
  attached(sessionId: number, server: number): void {
    // Only live sessions: an attach that crossed the session's close must not leave an entry behind.
    if (this.host.sessionExists(sessionId)) this.owners.set(sessionId, server);
  }

  /** The session is gone (closed or expired). */
  forgetSession(sessionId: number): void {
    this.owners.delete(sessionId);
  }

  /** Leader: whether `server` may still write for `sessionId` (false once the session attached elsewhere). */
  ownedBy(sessionId: number, server: number): boolean {
    const owner = this.owners.get(sessionId);
    return owner === undefined || owner === server;
  }

  reportPings(leader: number, sessionIds: readonly number[]): void {
    for (let at = 0; at < sessionIds.length; at += this.limits.maxPingsPerBatch) {
      this.channel.sendForward(leader, encodeForwardPings(sessionIds.slice(at, at + this.limits.maxPingsPerBatch)), 0n);
      this.counters.pingBatchesSent++;
    }
  }

  /** Fails every write waiting for an answer (the leader changed or its link died). */
  failPending(reason: string, onlyLeader?: number): void {
    for (const [id, p] of this.pending) {
      if (onlyLeader !== undefined && p.leader !== onlyLeader) continue;
      this.pending.delete(id);
      this.counters.forwardsFailed++;
      p.reject(new ForwardFailed(reason));
    }
  }

  private expirePending(nowMs: number): void {
    for (const [id, p] of this.pending) {
      if (nowMs - p.sentMs < this.limits.timeoutMs) break; // insertion order = send order
      this.pending.delete(id);
      this.counters.forwardsFailed++;
      p.reject(new ForwardFailed(`no answer from leader ${p.leader} within ${this.limits.timeoutMs} ms`));
    }
  }

  // ------------------------------------------------------------ both sides

  /** A Forward frame from peer `from`. Malformed payloads are counted and dropped (the peer is authenticated, so it is a bug, not an attack). */
  receive(from: number, id: bigint, payload: Uint8Array): void {
    let message;
    try {
      message = decodeForward(payload, this.host.treeOptions, this.limits.maxPingsPerBatch);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      this.counters.malformed++;
      this.log.error({ peer: from, error: error.message }, `malformed forward from server ${from}: ${error.message}`);
      return;
    }
    switch (message.kind) {
      case 'reply': {
        const p = this.pending.get(id);
        if (p === undefined) return; // timed out or failed already
        this.pending.delete(id);
        this.counters.forwardReplies++;
        p.resolve(message.reply);
        return;
      }
      case 'pings':
        this.counters.pingBatchesReceived++;
        this.host.sessionsHeard(message.sessionIds);
        return;
      case 'attach':
        this.attached(message.sessionId, from);
        return;
      case 'write':
        this.counters.forwardedIn++;
        this.enqueue({ from, id, session: message.write.session, request: message.write.request, deferred: false });
        return;
    }
  }

  // ------------------------------------------------------------ leader side

  private enqueue(write: Queued): void {
    if (this.queued >= this.limits.maxLeaderQueue) {
      this.reply(write, { kind: 'rejected', error: ErrorCode.Throttled, multi: null });
      return;
    }
    if (write.session.id !== 0 && !this.ownedBy(write.session.id, write.from)) {
      this.reply(write, { kind: 'rejected', error: ErrorCode.SessionMoved, multi: null });
      return;
    }
    // createSession comes from no session yet: its own new id keeps it apart.
    const key = write.session.id !== 0 ? write.session.id : write.request.type === 'createSession' ? write.request.sessionId : 0;
    let queue = this.queues.get(key);
    if (queue === undefined) {
      queue = [];
      this.queues.set(key, queue);
    }
    queue.push(write);
    this.queued++;
    this.pump(key);
  }

  private pump(key: number): void {
    const queue = this.queues.get(key);
    if (queue === undefined) return;
    while (queue.length > 0 && !this.blocked.has(key)) {
      const head = queue[0];
      const outcome = this.host.proposeLocal(head.request, head.session, !head.deferred);
      if (outcome.kind === 'deferred') {
        head.deferred = true;
        this.blocked.add(key);
        void this.host.waitApplied(outcome.untilIndex).then(() => {
          this.blocked.delete(key);
          this.pump(key);
        });
        return;
      }
      queue.shift();
      this.queued--;
      if (outcome.kind === 'proposed') this.reply(head, { kind: 'proposed', index: outcome.index, term: outcome.term });
      else if (outcome.kind === 'rejected') this.reply(head, replyOfRejection(outcome.error, outcome.multi));
      else this.reply(head, { kind: 'unavailable', leader: outcome.leader });
    }
    if (queue.length === 0) this.queues.delete(key);
  }

  private reply(write: Queued, reply: ForwardReply): void {
    this.channel.sendForward(write.from, encodeForwardReply(reply), write.id);
  }

  /** This node stopped leading: every queued write is answered "unavailable" (none was proposed). */
  dropLeaderQueues(leader: number): void {
    for (const queue of this.queues.values()) {
      for (const write of queue) this.reply(write, { kind: 'unavailable', leader });
    }
    this.queues.clear();
    this.blocked.clear();
    this.queued = 0;
    this.owners.clear();
  }

  close(): void {
    clearInterval(this.sweepTimer);
    this.failPending('server shutting down');
  }
}
