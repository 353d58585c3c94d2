// One client connection: the connect handshake, then a FIFO pipeline of requests.
//
// Order is the contract (ZooKeeper's): replies leave in request order; a session's
// writes enter the log in request order; a read runs only after the session's
// earlier writes are applied (so it sees them); a watch event is sent when its
// change is applied, which is before the reply of any request that could show it.
// Writes are pipelined: many of a session's writes can wait on one fsync together.
import { type ClientFrame, type ClientRequest, type ServerFrame, PROTOCOL_VERSION } from '../protocol/index.js';
import { ErrorCode, type Id, type RequestSession } from '../tree/index.js';
import { WriteAborted, type ZookNode } from './node.js';
import { type Answer, appliedAnswer, authIdOf, executeRead, isWrite, rejectedAnswer, toWriteRequest } from './requests.js';
import type { LiveSession, SessionConnection } from './sessions.js';
import { setWatches } from './set-watches.js';

/** What a connection needs from its socket. */
export interface Transport {
  send(frame: Uint8Array): boolean;
  end(code: number, reason: string): void;
  bufferedBytes(): number;
}

/**
 * The protocol of one front door: how a server frame is written on its wire. zook's
 * WebSocket door writes FlatBuffers (frames.ts); ZooKeeper's TCP door writes jute
 * records (src/zookeeper). Null: this protocol has no such frame (nothing is sent).
 */
export interface ClientWire {
  encode(frame: ServerFrame): Uint8Array | null;
}

export interface ConnectionLimits {
  readonly maxInFlight: number;
  readonly maxBufferedBytes: number;
  /**
   * How long a handshake may wait for this server to have a leader or to catch up with
   * the zxid the client has seen. zook's client waits (up to its session timeout);
   * ZooKeeper's clients expect a prompt refusal so that they try the next server.
   */
  readonly maxHandshakeWaitMs?: number;
}

interface Slot {
  readonly xid: number;
  readonly request: ClientRequest;
  answer: Answer | null;
  zxid: number;
  /** Prepare refused it once while the log was busy; the retry answers for good. */
  deferred: boolean;
  /** A read that must be linearizable: it waits for a ReadIndex barrier first. */
  barrier: 'none' | 'needed' | 'passed';
  /** When it arrived, for the latency metric. */
  readonly arrivedMs: number;
}

export interface ConnectionEvents {
  /** Called once per answered request, for metrics. */
  answered(op: string, error: number, startedMs: number): void;
}

/** WebSocket close codes used on purpose. */
export const CLOSE_NORMAL = 1000;
export const CLOSE_PROTOCOL_ERROR = 1002;
export const CLOSE_POLICY = 1008;

export class ClientConnection implements SessionConnection {
  private state: 'handshake' | 'connecting' | 'open' | 'closed' = 'handshake';
  private session: LiveSession | null = null;
  private readonly queue: Slot[] = [];
  /** Index in `queue` of the first request not yet started. */
  private next = 0;
  /** This session's writes proposed but not yet applied. */
  private writesInFlight = 0;
  /** A deferred write is waiting for earlier writes: nothing after it may start. */
  private waitingForLog = false;
  private closeAfterFlush = false;

  constructor(
    private readonly node: ZookNode,
    private readonly wire: ClientWire,
    private readonly transport: Transport,
    private readonly remoteAddress: string,
    private readonly limits: ConnectionLimits,
    private readonly events: ConnectionEvents,
  ) {}

  get sessionId(): number {
    return this.session?.id ?? 0;
  }

  get inFlight(): number {
    return this.queue.length;
  }

  /** True until the connect frame was answered (requests sent before it wait for it). */
  get handshaking(): boolean {
    return this.state === 'handshake' || this.state === 'connecting';
  }

  /** Encodes and sends one frame; false if the socket is gone or the protocol has no such frame. */
  private send(frame: ServerFrame): boolean {
    const bytes = this.wire.encode(frame);
    return bytes !== null && this.transport.send(bytes);
  }

  // SessionConnection: used by the node for watch events and expiry.
  sendEvent(type: number, path: string, zxid: number): boolean {
    if (this.state === 'closed') return false;
    return this.send({ kind: 'event', type, path, zxid });
  }

  closeWith(error: number, reason: string): void {
    if (this.state === 'closed') return;
    this.send({ kind: 'close', error, reason });
    this.detach();
    this.state = 'closed';
    this.transport.end(error === ErrorCode.SessionExpired ? CLOSE_NORMAL : CLOSE_POLICY, reason);
  }

  /** One decoded frame from the client (each front door decodes its own protocol). */
  receive(frame: ClientFrame): void {
    if (this.state === 'closed') return;
    if (frame.kind === 'connect') {
      if (this.state !== 'handshake') this.closeWith(ErrorCode.BadArguments, 'connect sent twice on one connection');
      else this.connect(frame);
      return;
    }
    this.enqueue(frame.xid, frame.request, frame.linearizable);
  }

  /**
   * A write's outcome is unknown here (leader changed or unreachable): like
   * ZooKeeper, drop the connection so the client reconnects and looks; answering
   * later requests would let them overtake it.
   */
  private writeFailed(error: unknown, what: string): void {
    if (error instanceof WriteAborted) this.closeWith(ErrorCode.ConnectionLoss, `${what}: ${error.message}; reconnect`);
    else this.closeWith(ErrorCode.SystemError, `${what}: ${error instanceof Error ? error.message : String(error)}`);
  }

  sessionEnded(): void {
    // The client's own closeSession answers and closes in order (flush); anything else is an expiry.
    if (this.closeAfterFlush) return;
    this.closeWith(ErrorCode.SessionExpired, 'session expired');
  }

  /** The socket is gone: the session stays (until it times out), this connection lets go of it. */
  onClosed(): void {
    this.detach();
    this.state = 'closed';
  }

  private detach(): void {
    if (this.session !== null && this.session.connection === this) this.session.connection = null;
  }

  private connect(frame: Extract<ClientFrame, { kind: 'connect' }>): void {
    if (frame.protocolVersion !== PROTOCOL_VERSION) {
      this.closeWith(ErrorCode.BadArguments, `protocol version ${frame.protocolVersion} is not supported (this server speaks ${PROTOCOL_VERSION})`);
      return;
    }
    const authIds: Id[] = [{ scheme: 'ip', id: this.remoteAddress }];
    for (const info of frame.auth) {
      const id = authIdOf(info.scheme, info.auth);
      if (id === null) {
        this.closeWith(ErrorCode.AuthFailed, `auth scheme ${info.scheme} rejected`);
        return;
      }
      authIds.push(id);
    }
    const config = this.node.config;
    const timeoutMs = Math.min(config.maxSessionTimeoutMs, Math.max(config.minSessionTimeoutMs, frame.sessionTimeoutMs));
    this.state = 'connecting';
    const proceed = (): void => {
      if (frame.sessionId === 0) this.createSession(timeoutMs, authIds);
      else this.resumeSession(frame.sessionId, frame.password, authIds);
    };
    if (this.node.serving && frame.lastZxidSeen <= this.node.lastApplied) {
      proceed();
      return;
    }
    // A server without a leader, or behind what the client has already seen, must not
    // answer from an older state: wait (within the session timeout) for it to catch up.
    void this.catchUp(frame.lastZxidSeen, Math.min(timeoutMs, this.limits.maxHandshakeWaitMs ?? timeoutMs)).then((caughtUp) => {
      if (this.state !== 'connecting') return;
      if (caughtUp) proceed();
      else if (!this.node.serving) this.closeWith(ErrorCode.ConnectionLoss, 'this server has no leader: try another');
      else this.closeWith(ErrorCode.ConnectionLoss, `client has seen zxid ${frame.lastZxidSeen} but this server is at ${this.node.lastApplied}`);
    });
  }

  private async catchUp(lastZxidSeen: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    if (!(await this.node.untilServing(timeoutMs))) return false;
    if (this.node.lastApplied >= lastZxidSeen) return true;
    const wait = this.node.waitApplied(lastZxidSeen).then(() => true);
    const timer = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), Math.max(0, deadline - Date.now())).unref());
    return Promise.race([wait, timer]);
  }

  private createSession(timeoutMs: number, authIds: Id[]): void {
    const node = this.node;
    if (node.sessions.size >= node.config.maxSessions) {
      this.closeWith(ErrorCode.Throttled, `server holds its maximum of ${node.config.maxSessions} sessions`);
      return;
    }
    const id = node.sessions.nextId((candidate) => node.tree.sessions.has(candidate));
    const submitted = node.submitWrite({ type: 'createSession', sessionId: id, timeoutMs }, { id: 0, authIds: [] });
    if (submitted.kind !== 'proposed') {
      this.closeWith(ErrorCode.SystemError, 'could not create a session');
      return;
    }
    submitted.done.then(
      (outcome) => {
        if (outcome.kind !== 'applied' || outcome.applied.error !== 0) {
          this.closeWith(ErrorCode.SystemError, 'could not create a session');
          return;
        }
        const session = node.sessions.get(id) ?? node.sessions.add(id, timeoutMs, Date.now());
        if (this.state === 'closed') return; // the client left; the session will time out
        this.open(session, authIds);
      },
      (error: unknown) => this.writeFailed(error, 'could not create a session'),
    );
  }

  private resumeSession(id: number, password: Uint8Array, authIds: Id[]): void {
    const node = this.node;
    const session = node.sessions.get(id);
    if (session === undefined || session.closing || !node.tree.sessions.has(id) || !node.sessions.passwordMatches(id, password)) {
      this.closeWith(ErrorCode.SessionExpired, 'session expired or unknown');
      return;
    }
    const previous = session.connection;
    if (previous !== null && previous !== this) previous.closeWith(ErrorCode.SessionMoved, 'session moved to a new connection');
    this.open(session, authIds);
  }

  private open(session: LiveSession, authIds: Id[]): void {
    const node = this.node;
    session.connection = this;
    session.authIds = authIds;
    node.sessions.heardFrom(session, Date.now());
    node.sessionAttached(session.id);
    this.session = session;
    this.state = 'open';
    this.send({
      kind: 'connected',
      protocolVersion: PROTOCOL_VERSION,
      sessionId: session.id,
      password: node.sessions.passwordOf(session.id),
      sessionTimeoutMs: session.timeoutMs,
      serverId: node.config.serverId,
      epoch: node.term,
    });
    this.pump();
  }

  private enqueue(xid: number, request: ClientRequest, linearizable: boolean): void {
    if (this.queue.length >= 2 * this.limits.maxInFlight) {
      this.closeWith(ErrorCode.Throttled, `more than ${2 * this.limits.maxInFlight} requests in flight`);
      return;
    }
    const nowMs = Date.now();
    const slot: Slot = { xid, request, answer: null, zxid: 0, deferred: false, barrier: linearizable && !isWrite(request) ? 'needed' : 'none', arrivedMs: nowMs };
    this.queue.push(slot);
    if (this.session !== null) this.node.sessions.heardFrom(this.session, nowMs);
    // Over a limit: answer Throttled, in order, without running it.
    if (this.queue.length > this.limits.maxInFlight || this.transport.bufferedBytes() > this.limits.maxBufferedBytes) {
      slot.answer = { error: ErrorCode.Throttled };
    }
    this.pump();
  }

  private requestSession(): RequestSession {
    const session = this.session!;
    return { id: session.id, authIds: session.authIds };
  }

  /** Starts every request that may start now, in order. */
  private pump(): void {
    if (this.state !== 'open') return; // requests sent during the handshake wait for it
    while (!this.waitingForLog && this.next < this.queue.length) {
      const slot = this.queue[this.next];
      if (slot.answer !== null) {
        this.next++;
        continue;
      }
      const request = slot.request;
      if (isWrite(request) || request.op === 'closeSession') {
        if (!this.startWrite(slot)) break;
      } else {
        if (this.writesInFlight > 0) break; // a read must see this session's own writes
        if (slot.barrier === 'needed') {
          this.startBarrier(slot);
          break;
        }
        slot.answer = this.runRead(request);
        slot.zxid = this.node.lastApplied;
      }
      this.next++;
    }
    // Always: answers that are ready go out now, not when the next write lands.
    this.flush();
  }

  /** Returns false when the write must wait for the log (nothing after it may start). */
  private startWrite(slot: Slot): boolean {
    const request = slot.request;
    const treeRequest = request.op === 'closeSession' ? { type: 'closeSession' as const, sessionId: this.session!.id } : toWriteRequest(request);
    const submitted = this.node.submitWrite(treeRequest, this.requestSession(), !slot.deferred);
    switch (submitted.kind) {
      case 'deferred':
        slot.deferred = true;
        this.waitingForLog = true;
        void this.node.waitApplied(submitted.untilIndex).then(() => {
          this.waitingForLog = false;
          this.pump();
        });
        return false;
      case 'rejected':
        slot.answer = rejectedAnswer(submitted.error, submitted.multi);
        slot.zxid = this.node.lastApplied;
        return true;
      case 'proposed':
        this.writesInFlight++;
        if (request.op === 'closeSession') this.closeAfterFlush = true;
        submitted.done.then(
          (outcome) => {
            this.writesInFlight--;
            slot.answer = outcome.kind === 'applied' ? appliedAnswer(request, outcome.applied) : rejectedAnswer(outcome.error, outcome.multi);
            slot.zxid = outcome.kind === 'applied' ? outcome.index : this.node.lastApplied;
            this.pump();
          },
          (error: unknown) => {
            this.writesInFlight--;
            slot.answer = { error: ErrorCode.ConnectionLoss };
            this.writeFailed(error, 'write failed');
          },
        );
        return true;
    }
  }

  /** A linearizable read waits until this server applied everything the leader had committed when it arrived. */
  private startBarrier(slot: Slot): void {
    this.waitingForLog = true;
    this.node.readBarrier().then(
      () => {
        slot.barrier = 'passed';
        this.waitingForLog = false;
        this.pump();
      },
      () => {
        // No leader confirmed the read: nothing is ambiguous, so answer it and go on.
        slot.barrier = 'passed';
        slot.answer = { error: ErrorCode.ConnectionLoss };
        slot.zxid = this.node.lastApplied;
        this.waitingForLog = false;
        this.pump();
      },
    );
  }

  private runRead(request: ClientRequest): Answer {
    const session = this.session!;
    switch (request.op) {
      case 'addAuth': {
        const id = authIdOf(request.scheme, request.auth);
        if (id === null) return { error: ErrorCode.AuthFailed };
        if (!session.authIds.some((a) => a.scheme === id.scheme && a.id === id.id)) session.authIds = [...session.authIds, id];
        return { error: 0, response: { kind: 'empty' } };
      }
      case 'setWatches':
        setWatches(this.node, session.id, request);
        return { error: 0, response: { kind: 'empty' } };
      default: {
        const answer = executeRead(this.node.tree, request, { session: this.requestSession(), watches: this.node.watches });
        return answer ?? { error: ErrorCode.Unimplemented };
      }
    }
  }

  /** Sends every answered request at the head of the queue, in order. */
  private flush(): void {
    while (this.queue.length > 0 && this.queue[0].answer !== null) {
      const slot = this.queue.shift()!;
      this.next--;
      const answer = slot.answer!;
      if (this.state !== 'closed') {
        this.send({ kind: 'reply', xid: slot.xid, zxid: slot.zxid, error: answer.error, ...(answer.response === undefined ? {} : { response: answer.response }) });
      }
      this.events.answered(slot.request.op, answer.error, slot.arrivedMs);
      if (slot.request.op === 'closeSession' && this.closeAfterFlush && this.state !== 'closed') {
        this.detach();
        this.state = 'closed';
        this.transport.end(CLOSE_NORMAL, 'session closed');
      }
    }
  }
}
