// The session engine: one ZooKeeper session over a sequence of connections. It
// picks servers, reconnects with backoff, resumes the session (id + password +
// last zxid seen), re-registers watches, numbers and pipelines requests, matches
// replies by xid, dispatches watch events in order with replies, and ends the
// session on expiry or close(). The promise API (client.ts) sits on top.
import { encodeClientFrame } from '../protocol/index.js';
import { PROTOCOL_VERSION, type AuthInfo, type ClientFrame, type ClientRequest } from '../protocol/types.js';
import { ErrorCode, errorName } from '../protocol/error-codes.js';
import { backoffDelayMs } from '../util/backoff.js';
import { Connection, type ConnectedFrame, type SessionFrame } from './connection.js';
import { connectionLoss, operationTimeout, sessionExpired, ZookError } from './errors.js';
import { RequestTable, type EventFrame, type PendingRequest, type ReplyFrame } from './requests.js';
import { ServerList } from './servers.js';
import type { TransportFactory } from './transport.js';
import type { ClientState, WatchEvent, Watcher } from './types.js';
import { eventTypeName, WatchRegistry } from './watches.js';

/** Every option resolved to a value. */
export interface SessionConfig {
  readonly servers: readonly string[];
  readonly sessionTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxInFlight: number;
  readonly maxQueuedRequests: number;
  readonly reconnectBaseDelayMs: number;
  readonly reconnectMaxDelayMs: number;
  readonly closeTimeoutMs: number;
  readonly shuffleServers: boolean;
  readonly random: () => number;
  readonly auth: readonly AuthInfo[];
  readonly transport: TransportFactory;
  readonly onListenerError: (error: unknown) => void;
}

export interface SubmitOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly linearizable?: boolean;
  /** Runs synchronously when the reply is processed (before any later frame); not for a call already given up on. */
  readonly onReply?: (reply: ReplyFrame) => void;
  /** Runs for each watch event replayed for this call (addWatch fromZxid), before its reply. */
  readonly onEvent?: (event: EventFrame) => void;
}

type Phase = 'connecting' | 'connected' | 'disconnected' | 'closing' | 'expired' | 'closed';

const MAX_XID = 0x7fff_ffff;

/** The path a request is about, for error messages. */
export function pathOf(request: ClientRequest): string | undefined {
  if ('path' in request) return request.path;
  if (request.op === 'getEphemerals') return request.prefix;
  return undefined;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('aborted');
}

export class Session {
  private phase: Phase = 'connecting';
  private sessionIdValue = 0;
  private passwordValue: Uint8Array = new Uint8Array(0);
  private negotiatedTimeoutMs = 0;
  private lastZxid = 0;
  /**
   * Every watch event of the txns up to here has arrived: the server sends a reply of
   * zxid Z after the events of every txn up to Z, and an event of zxid E after those
   * of every txn before E. What reconnecting asks the server to replay after.
   */
  private completeZxid = 0;
  /** The newest event's zxid, and its events received so far ("type path" -> count): its txn may have more. */
  private eventZxid = 0;
  private readonly eventsAtZxid = new Map<string, number>();
  /** While reconnected watches are replayed: the events of that txn already delivered, skipped when sent again. */
  private alreadyDelivered: { readonly zxid: number; readonly keys: Map<string, number> } | null = null;
  /** The last setWatches of a reconnect: its reply ends the replay. */
  private lastSetWatchesXid = 0;
  private conn: Connection | undefined;
  private nextXid = 1;
  /** Failed attempts in a row: drives the backoff. */
  private failures = 0;
  private lastError = 'no attempt yet';
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private firstConnect: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  private closing: Promise<void> | undefined;
  /** Ends close()'s wait for the closeSession reply early (the connection went). */
  private stopWaitingForClose: (() => void) | undefined;
  private readonly auth: AuthInfo[];
  private readonly servers: ServerList;
  private readonly requests: RequestTable;
  private readonly stateListeners = new Set<(state: ClientState) => void>();
  readonly watches = new WatchRegistry();

  constructor(readonly config: SessionConfig) {
    this.servers = new ServerList(config.servers, config.shuffleServers, config.random);
    this.requests = new RequestTable(config.maxInFlight, config.maxQueuedRequests);
    this.auth = [...config.auth];
  }

  get state(): Phase {
    return this.phase;
  }
  get sessionId(): number {
    return this.sessionIdValue;
  }
  get sessionPassword(): Uint8Array {
    return this.passwordValue.slice();
  }
  get sessionTimeoutMs(): number {
    return this.negotiatedTimeoutMs;
  }
  get lastZxidSeen(): number {
    return this.lastZxid;
  }
  get currentServer(): string | undefined {
    return this.phase === 'connected' ? this.conn?.url : undefined;
  }
  get inFlight(): number {
    return this.requests.inFlight;
  }

  onState(listener: (state: ClientState) => void): void {
    this.stateListeners.add(listener);
  }
  offState(listener: (state: ClientState) => void): void {
    this.stateListeners.delete(listener);
  }

  /** Remembers credentials to send with every later ConnectRequest (as ZooKeeper re-sends its auth info). */
  rememberAuth(info: AuthInfo): void {
    this.auth.push(info);
  }

  /** Opens the first connection; resolves once a server granted a session. */
  start(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => fail(connectionLoss(`no server of ${this.config.servers.join(',')} gave a session within ${this.config.connectTimeoutMs} ms; last error: ${this.lastError}`)),
        this.config.connectTimeoutMs,
      );
      const onAbort = (): void => fail(abortReason(signal as AbortSignal));
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.firstConnect = undefined;
      };
      const fail = (error: unknown): void => {
        cleanup();
        this.shutDown('closed', () => connectionLoss('connect failed'), () => connectionLoss('connect failed'));
        reject(error);
      };
      if (signal?.aborted) {
        fail(abortReason(signal));
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.firstConnect = {
        resolve: () => {
          cleanup();
          resolve();
        },
        reject: (error) => {
          cleanup();
          reject(error);
        },
      };
      this.openNext();
    });
  }

  /** Sends a request (now, or when connected and below maxInFlight) and resolves with its reply, error or not. */
  submit(request: ClientRequest, options: SubmitOptions = {}): Promise<ReplyFrame> {
    const path = pathOf(request);
    if (this.phase === 'expired') return Promise.reject(sessionExpired('the session has expired', path));
    if (this.phase === 'closing' || this.phase === 'closed') return Promise.reject(sessionExpired('the client is closed', path));
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<ReplyFrame>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = (): void => this.giveUp(p, abortReason(signal as AbortSignal));
      const finish = (): boolean => {
        if (p.settled) return false;
        p.settled = true;
        p.cleanup();
        return true;
      };
      const p: PendingRequest = {
        request,
        linearizable: options.linearizable ?? false,
        counted: true,
        onReply: options.onReply,
        onEvent: options.onEvent,
        xid: 0,
        settled: false,
        resolve: (reply) => {
          if (finish()) resolve(reply);
        },
        reject: (error) => {
          if (finish()) reject(error);
        },
        cleanup: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      if (!this.requests.enqueue(p)) {
        p.reject(new ZookError(ErrorCode.Throttled, `${this.requests.maxQueuedRequests} calls already wait to be sent (maxQueuedRequests)`, path === undefined ? {} : { path }));
        return;
      }
      const timeoutMs = options.timeoutMs ?? this.config.requestTimeoutMs;
      if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => {
          const where = p.xid === 0 ? (this.phase === 'connected' ? 'waiting for an in-flight slot' : `waiting for a connection (${this.lastError})`) : 'sent, no reply; it may or may not have been applied';
          this.giveUp(p, operationTimeout(`no reply within ${timeoutMs} ms: ${where}`, path));
        }, timeoutMs);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pump();
    });
  }

  /** Ends the session: closeSession (bounded wait) when connected, then the socket; state 'closed'. */
  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  private async closeNow(): Promise<void> {
    if (this.phase === 'closed') return;
    if (this.phase === 'expired') {
      this.phase = 'closed';
      this.emitState('closed');
      return;
    }
    const wasConnected = this.phase === 'connected' && this.conn !== undefined;
    this.phase = 'closing';
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.firstConnect?.reject(sessionExpired('the client was closed before it connected'));
    if (wasConnected) {
      // Through the queue, so calls made before close() go out first (FIFO, as in ZooKeeper).
      let timer: ReturnType<typeof setTimeout> | undefined;
      const reply = new Promise<void>((done) => {
        const p: PendingRequest = {
          request: { op: 'closeSession' },
          linearizable: false,
          counted: true,
          onReply: undefined,
          xid: 0,
          settled: false,
          resolve: () => done(),
          reject: () => done(),
          cleanup: () => undefined,
        };
        if (!this.requests.enqueue(p)) done();
        timer = setTimeout(done, this.config.closeTimeoutMs);
        this.stopWaitingForClose = done;
      });
      this.pump();
      await reply;
      clearTimeout(timer);
      this.stopWaitingForClose = undefined;
    }
    this.shutDown(
      'closed',
      (path) => connectionLoss('the client was closed before the reply came', path),
      (path) => sessionExpired('the client was closed before the call was sent', path),
    );
  }

  // ---------------------------------------------------------------- connections

  private openNext(): void {
    const url = this.servers.next();
    const frame: Extract<ClientFrame, { kind: 'connect' }> = {
      kind: 'connect',
      protocolVersion: PROTOCOL_VERSION,
      sessionId: this.sessionIdValue,
      password: this.passwordValue,
      sessionTimeoutMs: this.config.sessionTimeoutMs,
      lastZxidSeen: this.lastZxid,
      auth: this.auth,
    };
    const conn: Connection = new Connection(
      url,
      this.config.transport,
      frame,
      { handshakeTimeoutMs: this.config.handshakeTimeoutMs },
      {
        onConnected: (f) => this.handleConnected(conn, f),
        onFrame: (f) => this.handleFrame(conn, f),
        onClosed: (reason, expired) => this.handleClosed(conn, reason, expired),
      },
    );
    this.conn = conn;
  }

  private handleConnected(conn: Connection, frame: ConnectedFrame): void {
    if (conn !== this.conn) return;
    // ZooKeeper answers a reconnect to an expired session with a zero timeout; a
    // different session id would mean our ephemerals and watches are gone as well.
    if (frame.sessionTimeoutMs <= 0 || (this.sessionIdValue !== 0 && frame.sessionId !== this.sessionIdValue)) {
      this.expire(`${conn.url} reports session 0x${this.sessionIdValue.toString(16)} expired`);
      return;
    }
    this.sessionIdValue = frame.sessionId;
    this.passwordValue = frame.password;
    this.negotiatedTimeoutMs = frame.sessionTimeoutMs;
    this.failures = 0;
    this.phase = 'connected';
    // As ZooKeeper: ping after a third of the timeout idle; give up on the server after two thirds silent.
    const t = frame.sessionTimeoutMs;
    conn.startKeepAlive(Math.max(1, Math.floor(t / 3)), Math.max(2, Math.floor((t * 2) / 3)), () => this.sendInternal(conn, { op: 'ping' }));
    // Re-register watches before anything queued, so no event after lastZxid is missed:
    // the server replays every event since completeZxid (or says Compacted). Of the txn
    // whose events were arriving when the link went, those already delivered are skipped.
    this.alreadyDelivered = this.eventZxid > this.completeZxid ? { zxid: this.eventZxid, keys: new Map(this.eventsAtZxid) } : null;
    this.lastSetWatchesXid = 0;
    for (const request of this.watches.setWatchesRequests(this.completeZxid)) this.lastSetWatchesXid = this.sendInternal(conn, request);
    if (this.lastSetWatchesXid === 0) this.alreadyDelivered = null;
    this.pump();
    this.emitState('connected');
    this.firstConnect?.resolve();
  }

  private handleFrame(conn: Connection, frame: SessionFrame): void {
    if (conn !== this.conn) return;
    switch (frame.kind) {
      case 'reply': {
        this.seeZxid(frame.zxid);
        if (frame.zxid > this.completeZxid) this.completeZxid = frame.zxid;
        if (frame.xid === this.lastSetWatchesXid) {
          this.lastSetWatchesXid = 0;
          this.alreadyDelivered = null;
        }
        const p = this.requests.complete(frame.xid);
        if (p === undefined) return;
        if (!p.settled) {
          if (p.onReply !== undefined) this.guard(() => p.onReply?.(frame));
          p.resolve(frame);
        }
        this.pump();
        return;
      }
      case 'event': {
        if (frame.forXid !== undefined) {
          // Replayed for one addWatch call, for its watcher only: older than what this session saw.
          const p = this.requests.sentCall(frame.forXid);
          if (p !== undefined && !p.settled) this.guard(() => p.onEvent?.(frame));
          return;
        }
        this.seeZxid(frame.zxid);
        if (!this.firstDelivery(frame)) return;
        const type = eventTypeName(frame.type);
        if (type === undefined) return;
        const event: WatchEvent = { type, path: frame.path, zxid: frame.zxid, state: 'connected' };
        // Synchronously, so every watcher has run before a later reply resolves its promise.
        for (const watcher of this.watches.take(frame.type, frame.path)) this.callWatcher(watcher, event);
        return;
      }
      case 'close':
        if (frame.error === ErrorCode.SessionExpired) this.expire(`${conn.url}: ${frame.reason || 'session expired'}`);
        else conn.close(`${conn.url} closed the connection: ${errorName(frame.error)}${frame.reason === '' ? '' : ` (${frame.reason})`}`);
        return;
    }
  }

  private handleClosed(conn: Connection, reason: string, expired: boolean): void {
    if (conn !== this.conn) return;
    this.conn = undefined;
    this.lastError = reason;
    if (expired) {
      this.expire(reason);
      return;
    }
    for (const p of this.requests.takeAllSent()) p.reject(connectionLoss(`${reason}; the request may or may not have been applied`, pathOf(p.request)));
    if (this.phase === 'closing') this.stopWaitingForClose?.();
    if (this.phase === 'closing' || this.phase === 'closed' || this.phase === 'expired') return;
    if (this.phase === 'connected') {
      this.phase = 'disconnected';
      this.failures = 0;
      this.emitState('disconnected');
    } else {
      this.failures++;
    }
    // A state listener may have closed the client.
    if (this.phase !== 'disconnected' && this.phase !== 'connecting') return;
    const delayMs = backoffDelayMs(this.failures, {
      baseDelayMs: this.config.reconnectBaseDelayMs,
      maxDelayMs: this.config.reconnectMaxDelayMs,
      random: this.config.random,
    });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.phase === 'disconnected' || this.phase === 'connecting') this.openNext();
    }, delayMs);
  }

  private expire(reason: string): void {
    if (this.phase === 'expired' || this.phase === 'closed') return;
    const err = (path?: string): ZookError => sessionExpired(reason, path);
    this.shutDown('expired', err, err);
  }

  /** Final: stop connecting, fail every call, tell every watcher, report the state. */
  private shutDown(state: 'expired' | 'closed', sentError: (path?: string) => ZookError, queuedError: (path?: string) => ZookError): void {
    this.phase = state;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const conn = this.conn;
    this.conn = undefined;
    conn?.close(state === 'expired' ? 'session expired' : 'client closed');
    for (const p of this.requests.takeAllSent()) p.reject(sentError(pathOf(p.request)));
    for (const p of this.requests.takeAllQueued()) p.reject(queuedError(pathOf(p.request)));
    const event: WatchEvent = { type: 'None', path: '', zxid: this.lastZxid, state };
    for (const watcher of this.watches.drain()) this.callWatcher(watcher, event);
    this.emitState(state);
    this.firstConnect?.reject(sentError());
  }

  // ---------------------------------------------------------------- sending

  private pump(): void {
    const conn = this.conn;
    if (conn === undefined || (this.phase !== 'connected' && this.phase !== 'closing')) return;
    while (this.conn === conn && !conn.isClosed) {
      const p = this.requests.takeSendable();
      if (p === undefined) return;
      this.sendOn(conn, p);
    }
  }

  /**
   * The client's own requests (ping, setWatches): sent at once, outside maxInFlight.
   * Not tracked: their replies carry nothing the client acts on, and an unknown xid
   * in a reply is ignored, so a server that never answers a ping leaks nothing.
   */
  private sendInternal(conn: Connection, request: ClientRequest): number {
    const xid = this.allocateXid();
    conn.send(encodeClientFrame({ kind: 'request', xid, linearizable: false, request }));
    return xid;
  }

  private sendOn(conn: Connection, p: PendingRequest): void {
    const xid = this.allocateXid();
    this.requests.markSent(p, xid);
    conn.send(encodeClientFrame({ kind: 'request', xid, linearizable: p.linearizable, request: p.request }));
  }

  private allocateXid(): number {
    let xid: number;
    do {
      xid = this.nextXid;
      this.nextXid = xid >= MAX_XID ? 1 : xid + 1;
    } while (this.requests.hasXid(xid));
    return xid;
  }

  private giveUp(p: PendingRequest, error: unknown): void {
    if (p.settled) return;
    this.requests.dropQueued(p);
    p.reject(error);
  }

  private seeZxid(zxid: number): void {
    if (zxid > this.lastZxid) this.lastZxid = zxid;
  }

  /** Notes a session event; false if it is one a replay sends again that was delivered before the reconnect. */
  private firstDelivery(frame: EventFrame): boolean {
    const key = `${frame.type} ${frame.path}`;
    const delivered = this.alreadyDelivered;
    if (delivered !== null && frame.zxid === delivered.zxid) {
      const left = delivered.keys.get(key) ?? 0;
      if (left > 0) {
        delivered.keys.set(key, left - 1);
        return false;
      }
    }
    // Several setWatches (over 10,000 watched paths) replay one after another: zxids may step back between them.
    if (frame.zxid > this.eventZxid) {
      this.eventZxid = frame.zxid;
      this.eventsAtZxid.clear();
    }
    if (frame.zxid === this.eventZxid) this.eventsAtZxid.set(key, (this.eventsAtZxid.get(key) ?? 0) + 1);
    if (frame.zxid - 1 > this.completeZxid) this.completeZxid = frame.zxid - 1;
    return true;
  }

  // ---------------------------------------------------------------- listeners

  private emitState(state: ClientState): void {
    for (const listener of [...this.stateListeners]) this.guard(() => listener(state));
  }

  private callWatcher(watcher: Watcher, event: WatchEvent): void {
    this.guard(() => watcher(event));
  }

  /** Runs user code so that a throw cannot break the session's bookkeeping. */
  private guard(run: () => void): void {
    try {
      run();
    } catch (error) {
      this.config.onListenerError(error);
    }
  }
}
