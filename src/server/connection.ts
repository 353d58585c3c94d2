// One client connection: the connect handshake, then a FIFO pipeline of requests.
//
// Order is the contract (ZooKeeper's): replies leave in request order; a session's
// writes enter the log in request order; a read runs only after the session's
// earlier writes are applied (so it sees them); a watch event is sent when its
// change is applied, which is before the reply of any request that could show it.
// Writes are pipelined: many of a session's writes can wait on one fsync together.
//
// Bounded work per connection (every queue here has a limit in frames and bytes):
// - Nothing before the handshake: a request before the connect frame closes the
//   connection (nothing of it is kept); so does a connect frame that does not come
//   within `connectTimeoutMs`.
// - The request queue holds at most `maxInFlight` requests and `maxInFlightBytes` of
//   their frames; a request past either, or while more than `maxBufferedBytes` wait in
//   the socket for the client, is answered Throttled without running, and nothing of
//   it is kept but its xid and op (its answer may have to wait for earlier ones).
// - The outbox: frames that must wait their turn behind a burst (setWatches' events,
//   up to one frame's paths), sent a slice per event-loop turn while the socket holds
//   at most `maxBufferedBytes`, so one client's burst never stalls the others. While
//   it is not empty no request starts; they wait in the queue, within its bounds.
// - Bytes on their way to the client (the socket's buffer, the outbox, and the
//   Throttled answers still owed) past `maxBackpressureBytes` close the connection:
//   that client keeps sending while it does not read. Nothing else closes it for load.
import { type ClientFrame, type ClientRequest, type ClientResponse, type ServerFrame, EVENT_XID, PROTOCOL_VERSION } from '../protocol/index.js';
import { ErrorCode, type Id, type RequestSession } from '../tree/index.js';
import { WriteAborted, type ZookNode } from './node.js';
import { type Answer, appliedAnswer, authIdOf, executeRead, isWrite, rejectedAnswer, toWriteRequest } from './requests.js';
import type { LiveSession, SessionConnection } from './sessions.js';
import { addWatchFrom, setWatches } from './set-watches.js';

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
  /** Requests received and not yet answered; more are answered Throttled (maxInFlightPerConnection). */
  readonly maxInFlight: number;
  /** Frame bytes of those requests; a request arriving at or past it is answered Throttled (maxInFlightBytesPerConnection). */
  readonly maxInFlightBytes: number;
  /**
   * Bytes waiting to reach the client (socket buffer, owed answers) past which new
   * requests are answered Throttled and the outbox waits for the socket to drain
   * (maxBufferedBytesPerConnection).
   */
  readonly maxBufferedBytes: number;
  /** Those bytes and the outbox's, past which the connection is closed: the client does not read (maxBackpressureBytes). */
  readonly maxBackpressureBytes: number;
  /** A connection whose connect frame has not arrived by then is closed (connectTimeoutMs); none: the door has its own. */
  readonly connectTimeoutMs?: number;
  /**
   * How long a handshake may wait for this server to have a leader or to catch up with
   * the zxid the client has seen. zook's client waits (up to its session timeout);
   * ZooKeeper's clients expect a prompt refusal so that they try the next server.
   */
  readonly maxHandshakeWaitMs?: number;
}

interface Slot {
  readonly xid: number;
  readonly op: ClientRequest['op'];
  /** null: answered Throttled on arrival and never run; nothing of the request is kept. */
  readonly request: ClientRequest | null;
  /** The request's frame bytes, counted against maxInFlightBytes until it is answered (0 for a Throttled one). */
  readonly bytes: number;
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
  /** The server closed this connection (not the client), with why: zook_client_disconnects_total{reason}. */
  closedByServer?(reason: DisconnectReason, detail: string): void;
}

/** Why the server closed a client connection: the `reason` label of zook_client_disconnects_total. */
export type DisconnectReason =
  | 'session-expired'
  | 'session-moved'
  | 'connect-timeout'
  | 'idle-timeout'
  | 'protocol-error'
  | 'oversized-frame'
  | 'auth-failed'
  | 'backpressure'
  | 'max-sessions'
  | 'no-leader'
  | 'behind-client'
  | 'write-aborted'
  | 'disk-stalled'
  | 'reset'
  | 'shutdown'
  | 'server-error';

/** The reason a close with this error code has when the caller names none. */
export function disconnectReasonOf(error: number): DisconnectReason {
  switch (error) {
    case ErrorCode.SessionExpired:
      return 'session-expired';
    case ErrorCode.SessionMoved:
      return 'session-moved';
    case ErrorCode.OperationTimeout:
      return 'connect-timeout';
    case ErrorCode.BadArguments:
    case ErrorCode.MarshallingError:
      return 'protocol-error';
    case ErrorCode.AuthFailed:
      return 'auth-failed';
    case ErrorCode.Throttled:
      return 'backpressure';
    case ErrorCode.ConnectionLoss:
      return 'write-aborted';
    default:
      return 'server-error';
  }
}

/** WebSocket close codes used on purpose. */
export const CLOSE_NORMAL = 1000;
export const CLOSE_PROTOCOL_ERROR = 1002;
export const CLOSE_POLICY = 1008;
/** The server is at a limit (connections): try again later. */
export const CLOSE_TRY_AGAIN_LATER = 1013;

/**
 * What a Throttled answer waiting behind an earlier request costs, charged against the
 * outgoing bytes: its slot's memory (more than its 20-50 bytes on the wire), so
 * maxBackpressureBytes bounds the memory owed answers take as well.
 */
const OWED_ANSWER_BYTES = 128;
const THROTTLED: Answer = { error: ErrorCode.Throttled };
/** Outbox frames sent per event-loop turn at most (other connections are served in between). */
const OUTBOX_FRAMES_PER_TURN = 512;
/**
 * While the socket holds more than maxBufferedBytes the outbox waits for the door's
 * drained() signal; this re-check covers a buffer that emptied without one (a batch
 * still queued in the door when the slice stopped, say).
 */
const OUTBOX_RECHECK_MS = 25;

/** Roughly a response's bytes on the wire (strings counted at 3 bytes a UTF-16 unit), for the outbox's accounting. */
function responseBytesBound(r: ClientResponse): number {
  const strings = (list: readonly string[]): number => list.reduce((n, c) => n + 8 + 3 * c.length, 0);
  switch (r.kind) {
    case 'data':
      return 128 + (r.data?.length ?? 0);
    case 'children':
      return 128 + strings(r.children);
    case 'paths':
      return 32 + strings(r.paths);
    case 'create':
    case 'sync':
      return 128 + 3 * r.path.length;
    case 'acl':
      return 128 + r.acl.reduce((n, a) => n + 16 + 3 * (a.scheme.length + a.id.length), 0);
    case 'whoAmI':
      return 32 + r.ids.reduce((n, a) => n + 16 + 3 * (a.scheme.length + a.id.length), 0);
    case 'multi':
      return 32 + r.results.reduce((n, o) => n + 16 + (o.response === undefined ? 0 : responseBytesBound(o.response)), 0);
    default:
      return 128;
  }
}

/** Roughly a frame's bytes on the wire: the outbox counts frames before they are encoded. */
function frameBytesBound(frame: ServerFrame): number {
  switch (frame.kind) {
    case 'event':
      return 48 + 3 * frame.path.length;
    case 'close':
      return 48 + 3 * frame.reason.length;
    case 'connected':
      return 96 + frame.password.length;
    case 'reply':
      return 48 + (frame.response === undefined ? 0 : responseBytesBound(frame.response));
  }
}

export class ClientConnection implements SessionConnection {
  private state: 'handshake' | 'connecting' | 'open' | 'closed' = 'handshake';
  private session: LiveSession | null = null;
  private readonly queue: Slot[] = [];
  /** Index in `queue` of the first request not yet started. */
  private next = 0;
  /** Slots in `queue` that hold a request (all but the Throttled ones): bounded by maxInFlight. */
  private accepted = 0;
  /** Frame bytes of those requests: bounded by maxInFlightBytes (plus the one that crossed it). */
  private acceptedBytes = 0;
  /** Throttled answers in `queue`, each waiting for the requests before it. */
  private owedAnswers = 0;
  /** This session's writes proposed but not yet applied. */
  private writesInFlight = 0;
  /** A deferred write is waiting for earlier writes: nothing after it may start. */
  private waitingForLog = false;
  private closeAfterFlush = false;
  /**
   * Frames waiting their turn behind a burst: while it is not empty every frame joins it,
   * so order holds, and no request starts (their replies would only join it too).
   */
  private outbox: (ServerFrame | undefined)[] = [];
  private outboxHead = 0;
  /**
   * The burst at the head of the outbox (a setWatches' events, which start an empty
   * outbox since no request runs while it is busy): bounded by the frame it answers,
   * so it does not count against maxBackpressureBytes. What joins after it does.
   */
  private burstLeft = 0;
  /** Bytes of the outbox frames after the burst. */
  private outboxBytes = 0;
  private outboxScheduled = false;
  private outboxTimer: NodeJS.Timeout | null = null;
  /** The session closed on the client's request while the outbox still held its reply: end once it is out. */
  private endAfterOutbox = false;
  private connectTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly node: ZookNode,
    private readonly wire: ClientWire,
    private readonly transport: Transport,
    private readonly remoteAddress: string,
    private readonly limits: ConnectionLimits,
    private readonly events: ConnectionEvents,
  ) {
    const timeoutMs = limits.connectTimeoutMs;
    if (timeoutMs !== undefined) {
      this.connectTimer = setTimeout(() => {
        this.connectTimer = null;
        if (this.state === 'handshake') this.closeWith(ErrorCode.OperationTimeout, `no connect frame within ${timeoutMs} ms (connectTimeoutMs)`);
      }, timeoutMs);
      this.connectTimer.unref();
    }
  }

  get sessionId(): number {
    return this.session?.id ?? 0;
  }

  /** Requests received and not yet answered (Throttled answers still owed included). */
  get inFlight(): number {
    return this.queue.length;
  }

  /** Frame bytes of the requests held (received, not yet answered). */
  get inFlightBytes(): number {
    return this.acceptedBytes;
  }

  /** Bytes on their way to the client: the socket's buffer, owed answers, and what joined the outbox after its burst. */
  get outgoingBytes(): number {
    return this.transport.bufferedBytes() + this.outboxBytes + this.owedAnswers * OWED_ANSWER_BYTES;
  }

  /** True until the connect frame was answered. */
  get handshaking(): boolean {
    return this.state === 'handshake' || this.state === 'connecting';
  }

  private get outboxBusy(): boolean {
    return this.outboxHead < this.outbox.length;
  }

  /** Sends one frame, or queues it behind the outbox; false if the socket is gone or the protocol has no such frame. */
  private send(frame: ServerFrame): boolean {
    if (this.outboxBusy) return this.toOutbox(frame);
    return this.sendNow(frame);
  }

  /** Encodes and sends one frame now. */
  private sendNow(frame: ServerFrame): boolean {
    const bytes = this.wire.encode(frame);
    return bytes !== null && this.transport.send(bytes);
  }

  /** Queues a frame behind the outbox; `burst`: part of a burst that starts an empty outbox. */
  private toOutbox(frame: ServerFrame, burst = false): boolean {
    if (burst && this.outbox.length - this.outboxHead === this.burstLeft) {
      this.outbox.push(frame);
      this.burstLeft++;
      this.scheduleOutbox();
      return true;
    }
    this.outbox.push(frame);
    this.outboxBytes += frameBytesBound(frame);
    if (this.outgoingBytes > this.limits.maxBackpressureBytes) {
      this.closeWith(ErrorCode.Throttled, `client does not read: ${this.outgoingBytes} bytes wait for it (maxBackpressureBytes ${this.limits.maxBackpressureBytes})`);
      return false;
    }
    this.scheduleOutbox();
    return true;
  }

  private scheduleOutbox(): void {
    if (this.outboxScheduled || this.outboxTimer !== null) return;
    this.outboxScheduled = true;
    setImmediate(this.sendOutboxSlice);
  }

  /** One turn's slice of the outbox: at most OUTBOX_FRAMES_PER_TURN frames, and only while the socket has room. */
  private readonly sendOutboxSlice = (): void => {
    this.outboxScheduled = false;
    if (!this.outboxBusy) return;
    for (let sent = 0; sent < OUTBOX_FRAMES_PER_TURN && this.outboxBusy; sent++) {
      if (this.transport.bufferedBytes() > this.limits.maxBufferedBytes) {
        // Wait for the door's drained(), or the re-check.
        this.outboxTimer = setTimeout(() => this.drained(), OUTBOX_RECHECK_MS);
        return;
      }
      const frame = this.outbox[this.outboxHead]!;
      this.outbox[this.outboxHead++] = undefined;
      if (this.burstLeft > 0) this.burstLeft--;
      else this.outboxBytes -= frameBytesBound(frame);
      this.sendNow(frame);
      if (this.state === 'closed' && !this.endAfterOutbox) return; // closed meanwhile (the socket's own limit)
    }
    if (this.outboxBusy) {
      if (this.outboxHead >= 4096) {
        this.outbox = this.outbox.slice(this.outboxHead);
        this.outboxHead = 0;
      }
      this.scheduleOutbox();
      return;
    }
    this.clearOutbox();
    if (this.endAfterOutbox) {
      this.endAfterOutbox = false;
      this.transport.end(CLOSE_NORMAL, 'session closed');
      return;
    }
    this.pump();
  };

  private clearOutbox(): void {
    this.outbox = [];
    this.outboxHead = 0;
    this.outboxBytes = 0;
    this.burstLeft = 0;
    if (this.outboxTimer !== null) clearTimeout(this.outboxTimer);
    this.outboxTimer = null;
  }

  /** The door's socket drained its buffer: the outbox may go on. */
  drained(): void {
    if (this.outboxTimer === null) return;
    clearTimeout(this.outboxTimer);
    this.outboxTimer = null;
    this.scheduleOutbox();
  }

  // SessionConnection: used by the node for watch events and expiry.
  sendEvent(type: number, path: string, zxid: number): boolean {
    if (this.state === 'closed') return false;
    return this.send({ kind: 'event', type, path, zxid });
  }

  closeWith(error: number, reason: string, cause: DisconnectReason = disconnectReasonOf(error)): void {
    if (this.state === 'closed') return;
    this.events.closedByServer?.(cause, reason);
    // What waited in the outbox is dropped: the client learns why, and reconnects.
    this.clearOutbox();
    this.sendNow({ kind: 'close', error, reason });
    this.detach();
    this.state = 'closed';
    this.release();
    this.transport.end(error === ErrorCode.SessionExpired ? CLOSE_NORMAL : CLOSE_POLICY, reason);
  }

  /** One decoded frame from the client (each front door decodes its own protocol) and its size on the wire. */
  receive(frame: ClientFrame, frameBytes = 0): void {
    if (this.state === 'closed') return;
    if (frame.kind === 'connect') {
      if (this.state !== 'handshake') this.closeWith(ErrorCode.BadArguments, 'connect sent twice on one connection');
      else {
        this.stopConnectTimer();
        this.connect(frame);
      }
      return;
    }
    // Nothing before the handshake: a request would have to be kept for a session that may never come.
    if (this.state === 'handshake') {
      this.closeWith(ErrorCode.BadArguments, 'request before the connect frame: a connection starts with its connect frame');
      return;
    }
    // Its reply would read as a watch event (both protocols give events xid -1).
    if (frame.xid === EVENT_XID) {
      this.closeWith(ErrorCode.BadArguments, `xid ${EVENT_XID} is reserved for watch events: a request may not use it`);
      return;
    }
    this.enqueue(frame.xid, frame.request, frame.linearizable, frameBytes);
  }

  private stopConnectTimer(): void {
    if (this.connectTimer === null) return;
    clearTimeout(this.connectTimer);
    this.connectTimer = null;
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

  /**
   * The door's socket layer closed this connection at one of its own limits (a frame
   * far over maxFrameBytes, an idle timeout): reported like closeWith's closes; onClosed follows.
   */
  closedByLimit(reason: DisconnectReason, detail: string): void {
    if (this.state !== 'closed') this.events.closedByServer?.(reason, detail);
  }

  /** The socket is gone: the session stays (until it times out), this connection lets go of it. */
  onClosed(): void {
    this.detach();
    this.state = 'closed';
    this.release();
  }

  /** Closed: drops what it held (requests not yet answered, the outbox), so none of it outlives the socket. */
  private release(): void {
    this.stopConnectTimer();
    this.clearOutbox();
    this.endAfterOutbox = false;
    // Writes in flight keep their own slots until they settle; pump does nothing once closed.
    this.queue.length = 0;
    this.next = 0;
    this.accepted = 0;
    this.acceptedBytes = 0;
    this.owedAnswers = 0;
  }

  /**
   * Lets go of the session. Its watches on this server go too, as in ZooKeeper (they
   * belong to the connection): a client that comes back re-registers them with
   * setWatches, which replays what they missed. Left in place, they would deliver
   * live events between the reconnect and its setWatches that the replay then sends again.
   */
  private detach(): void {
    if (this.session !== null && this.session.connection === this) {
      this.session.connection = null;
      this.node.watches.removeWatcher(this.session.id);
    }
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
      else if (!this.node.serving) this.closeWith(ErrorCode.ConnectionLoss, 'this server has no leader: try another', 'no-leader');
      else this.closeWith(ErrorCode.ConnectionLoss, `client has seen zxid ${frame.lastZxidSeen} but this server is at ${this.node.lastApplied}`, 'behind-client');
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
      this.closeWith(ErrorCode.Throttled, `server holds its maximum of ${node.config.maxSessions} sessions`, 'max-sessions');
      return;
    }
    const id = node.sessions.nextId((candidate) => node.tree.sessions.has(candidate));
    const submitted = node.submitWrite({ type: 'createSession', sessionId: id, timeoutMs }, { id: 0, authIds: [] });
    if (submitted.kind === 'rejected' && submitted.error === ErrorCode.NotReadOnly) {
      // A session is a write: a server whose disk is full cannot log one. Another server can.
      this.closeWith(ErrorCode.ConnectionLoss, "this server's disk takes no writes (full or failing): try another server", 'disk-stalled');
      return;
    }
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

  private enqueue(xid: number, request: ClientRequest, linearizable: boolean, frameBytes: number): void {
    const nowMs = Date.now();
    if (this.session !== null) this.node.sessions.heardFrom(this.session, nowMs);
    // Unread by the client: what waits in its socket and the answers it is owed.
    const unread = this.transport.bufferedBytes() + this.owedAnswers * OWED_ANSWER_BYTES;
    if (unread + this.outboxBytes > this.limits.maxBackpressureBytes) {
      this.closeWith(ErrorCode.Throttled, `client sends but does not read: ${unread + this.outboxBytes} bytes wait for it (maxBackpressureBytes ${this.limits.maxBackpressureBytes})`);
      return;
    }
    // Over a limit: answered Throttled, in order, without running; only its xid and op are kept.
    // (The outbox does not count here: while it drains no request starts, so they wait in
    // the queue, bounded by maxInFlight and maxInFlightBytes.)
    if (this.accepted >= this.limits.maxInFlight || this.acceptedBytes >= this.limits.maxInFlightBytes || unread > this.limits.maxBufferedBytes) {
      this.queue.push({ xid, op: request.op, request: null, bytes: 0, answer: THROTTLED, zxid: 0, deferred: false, barrier: 'none', arrivedMs: nowMs });
      this.owedAnswers++;
      this.pump(); // sends it now if nothing before it waits (and once the handshake is done)
      return;
    }
    this.queue.push({ xid, op: request.op, request, bytes: frameBytes, answer: null, zxid: 0, deferred: false, barrier: linearizable && !isWrite(request) ? 'needed' : 'none', arrivedMs: nowMs });
    this.accepted++;
    this.acceptedBytes += frameBytes;
    this.pump();
  }

  private requestSession(): RequestSession {
    const session = this.session!;
    return { id: session.id, authIds: session.authIds };
  }

  /** Starts every request that may start now, in order. */
  private pump(): void {
    if (this.state !== 'open') return; // requests sent during the handshake wait for it
    // While the outbox drains no request starts: its reply would only wait there too.
    while (this.state === 'open' && !this.waitingForLog && !this.outboxBusy && this.next < this.queue.length) {
      const slot = this.queue[this.next];
      if (slot.answer !== null) {
        this.next++;
        continue;
      }
      const request = slot.request!;
      if (isWrite(request) || request.op === 'closeSession') {
        if (!this.startWrite(slot, request)) break;
      } else {
        if (this.writesInFlight > 0) break; // a read must see this session's own writes
        if (slot.barrier === 'needed') {
          this.startBarrier(slot);
          break;
        }
        slot.answer = this.runRead(request, slot.xid);
        slot.zxid = this.node.lastApplied;
      }
      this.next++;
    }
    // Always: answers that are ready go out now, not when the next write lands.
    this.flush();
  }

  /** Returns false when the write must wait for the log (nothing after it may start). */
  private startWrite(slot: Slot, request: ClientRequest): boolean {
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

  private runRead(request: ClientRequest, xid: number): Answer {
    const session = this.session!;
    switch (request.op) {
      case 'addAuth': {
        const id = authIdOf(request.scheme, request.auth);
        if (id === null) return { error: ErrorCode.AuthFailed };
        if (!session.authIds.some((a) => a.scheme === id.scheme && a.id === id.id)) session.authIds = [...session.authIds, id];
        return { error: 0, response: { kind: 'empty' } };
      }
      case 'setWatches': {
        // The watches that fire at once (possibly one per path named, or every change the
        // history replays: bounded by watchReplayMaxChanges) leave through the outbox, a
        // slice per turn, before this reply and anything after it.
        setWatches(this.node, session.id, request, (type, path, zxid) => {
          if (this.state === 'closed') return;
          this.toOutbox({ kind: 'event', type, path, zxid }, true);
        });
        return { error: 0, response: { kind: 'empty' } };
      }
      case 'addWatch': {
        if (request.fromZxid === undefined) return this.runTreeRead(request);
        // Replayed events go to this request's watcher only (forXid), before its reply.
        addWatchFrom(this.node, session.id, request.path, request.mode === 1, request.fromZxid, (type, path, zxid) => {
          if (this.state === 'closed') return;
          this.toOutbox({ kind: 'event', type, path, zxid, forXid: xid }, true);
        });
        return { error: 0, response: { kind: 'empty' } };
      }
      default:
        return this.runTreeRead(request);
    }
  }

  private runTreeRead(request: ClientRequest): Answer {
    return executeRead(this.node.tree, request, { session: this.requestSession(), watches: this.node.watches }) ?? { error: ErrorCode.Unimplemented };
  }

  /** Sends every answered request at the head of the queue, in order. */
  private flush(): void {
    let head = 0;
    while (head < this.queue.length && this.queue[head].answer !== null) {
      const slot = this.queue[head++];
      const answer = slot.answer!;
      if (slot.request === null) this.owedAnswers--;
      else {
        this.accepted--;
        this.acceptedBytes -= slot.bytes;
      }
      if (this.state !== 'closed') {
        // A Throttled answer carries the zxid of when it leaves: never below an earlier reply's.
        const zxid = slot.request === null ? this.node.lastApplied : slot.zxid;
        this.send({ kind: 'reply', xid: slot.xid, zxid, error: answer.error, ...(answer.response === undefined ? {} : { response: answer.response }) });
      }
      this.events.answered(slot.op, answer.error, slot.arrivedMs);
      if (slot.op === 'closeSession' && this.closeAfterFlush && this.state !== 'closed') {
        this.detach();
        this.state = 'closed';
        // The reply may wait in the outbox: the socket ends once it is out.
        if (this.outboxBusy) this.endAfterOutbox = true;
        else this.transport.end(CLOSE_NORMAL, 'session closed');
      }
    }
    if (head === 0) return;
    // One splice for the whole run (shift per slot is quadratic on a long queue of owed answers).
    this.queue.splice(0, head);
    this.next = Math.max(0, this.next - head);
  }
}
