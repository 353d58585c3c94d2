// One connection to one server: open the socket, send the ConnectRequest, wait
// (bounded) for the ConnectResponse, then hand every frame on, in order and
// synchronously, to the session. Once established it keeps itself alive: a ping
// when nothing was sent for pingIntervalMs, and the socket dropped when nothing
// was received for readTimeoutMs (a dead server or a half-open TCP connection).
import { decodeServerFrame, encodeClientFrame, ProtocolError } from '../protocol/index.js';
import type { ClientFrame, ServerFrame } from '../protocol/types.js';
import type { Transport, TransportFactory } from './transport.js';

export type ConnectedFrame = Extract<ServerFrame, { kind: 'connected' }>;
export type SessionFrame = Exclude<ServerFrame, { kind: 'connected' }>;

export interface ConnectionHandlers {
  /** The server accepted the ConnectRequest. */
  onConnected(frame: ConnectedFrame): void;
  /** A reply, watch event or close notice, in the order the server sent them. */
  onFrame(frame: SessionFrame): void;
  /**
   * The connection is gone; called once, also after close(). `reason` says why (for
   * errors and logs); `sessionExpired` when the server's WebSocket close reason said so.
   */
  onClosed(reason: string, sessionExpired: boolean): void;
}

export interface ConnectionLimits {
  readonly handshakeTimeoutMs: number;
}

/** Monotonic milliseconds. */
const now = (): number => performance.now();

/** A WebSocket close whose reason names SessionExpired ends the session, like a CloseNotice with that error. */
const SESSION_EXPIRED_REASON = /\bSessionExpired\b/;

/** WebSocket close code for a normal close. */
const NORMAL_CLOSURE = 1000;

export class Connection {
  private readonly transport: Transport;
  private closed = false;
  private established = false;
  private handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  private keepAliveTimer: ReturnType<typeof setTimeout> | undefined;
  private lastSendMs = now();
  private lastReceiveMs = now();

  constructor(
    readonly url: string,
    factory: TransportFactory,
    connectFrame: Extract<ClientFrame, { kind: 'connect' }>,
    limits: ConnectionLimits,
    private readonly handlers: ConnectionHandlers,
  ) {
    this.handshakeTimer = setTimeout(() => this.abort(`no session from ${url} within ${limits.handshakeTimeoutMs} ms`), limits.handshakeTimeoutMs);
    let transport: Transport;
    try {
      transport = factory(url, {
        onOpen: () => this.send(encodeClientFrame(connectFrame)),
        onMessage: (data) => this.receive(data),
        onClose: (code, reason) =>
          this.finish(`connection to ${url} closed (${code}${reason === '' ? '' : `: ${reason}`})`, SESSION_EXPIRED_REASON.test(reason)),
      });
    } catch (error) {
      // A bad URL throws synchronously in both ws and browsers; report it like any failed attempt.
      transport = { send: () => undefined, close: () => undefined, abort: () => undefined };
      queueMicrotask(() => this.finish(`cannot open ${url}: ${error instanceof Error ? error.message : String(error)}`));
    }
    this.transport = transport;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(frame: Uint8Array): void {
    if (this.closed) return;
    this.lastSendMs = now();
    try {
      this.transport.send(frame);
    } catch (error) {
      this.abort(`send to ${this.url} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * Starts the keep-alive once the session is established. One timer, re-armed
   * for the next deadline when it fires, rather than on every send.
   */
  startKeepAlive(pingIntervalMs: number, readTimeoutMs: number, sendPing: () => void): void {
    const check = (): void => {
      this.keepAliveTimer = undefined;
      if (this.closed) return;
      const t = now();
      if (t - this.lastReceiveMs >= readTimeoutMs) {
        this.abort(`nothing from ${this.url} for ${Math.round(t - this.lastReceiveMs)} ms (read timeout ${readTimeoutMs} ms)`);
        return;
      }
      if (t - this.lastSendMs >= pingIntervalMs) sendPing();
      const next = Math.min(this.lastSendMs + pingIntervalMs, this.lastReceiveMs + readTimeoutMs) - now();
      this.keepAliveTimer = setTimeout(check, Math.max(1, Math.ceil(next)));
    };
    this.keepAliveTimer = setTimeout(check, Math.max(1, Math.min(pingIntervalMs, readTimeoutMs)));
  }

  /** Closes gracefully; onClosed runs now, not when the socket is done. */
  close(reason: string): void {
    if (this.closed) return;
    try {
      this.transport.close(NORMAL_CLOSURE, reason.slice(0, 120));
    } catch {
      this.transport.abort();
    }
    this.finish(reason);
  }

  /** Drops the socket without a close handshake (the peer is not answering or misbehaved). */
  abort(reason: string): void {
    if (this.closed) return;
    try {
      this.transport.abort();
    } finally {
      this.finish(reason);
    }
  }

  private receive(data: Uint8Array | string): void {
    if (this.closed) return;
    this.lastReceiveMs = now();
    if (typeof data === 'string') {
      this.abort(`${this.url} sent a text message`);
      return;
    }
    let frame: ServerFrame;
    try {
      frame = decodeServerFrame(data);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.abort(`${this.url} sent a frame that does not decode: ${error.message}`);
      return;
    }
    if (!this.established) {
      if (frame.kind === 'connected') {
        this.established = true;
        clearTimeout(this.handshakeTimer);
        this.handlers.onConnected(frame);
        return;
      }
      if (frame.kind !== 'close') {
        this.abort(`${this.url} sent a ${frame.kind} frame before the ConnectResponse`);
        return;
      }
    } else if (frame.kind === 'connected') {
      this.abort(`${this.url} sent a second ConnectResponse`);
      return;
    }
    this.handlers.onFrame(frame);
  }

  private finish(reason: string, sessionExpired = false): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.handshakeTimer);
    clearTimeout(this.keepAliveTimer);
    this.handlers.onClosed(reason, sessionExpired);
  }
}
