// One ZooKeeper-protocol TCP connection: splits the byte stream into length-prefixed
// packets, decodes them into the server's request shape and hands them to the same
// ClientConnection that serves WebSocket clients (sessions, order, watches, writes
// through Raft); its frames come back here and are written as jute records.
//
// Order: replies leave in request order. Most requests run in the server core; the few
// this door answers itself (checkWatches, opcodes zook does not run) wait in the same
// FIFO, so their answers take their turn too.
import type { Socket } from 'node:net';
import { type ServerFrame, ErrorCode, EventType } from '../protocol/index.js';
import type { ClientWire, ConnectionEvents, DisconnectReason } from '../server/connection.js';
import { ClientConnection } from '../server/connection.js';
import type { ZookNode } from '../server/node.js';
import { WatcherType } from '../tree/index.js';
import { assert } from '../util/assert.js';
import { flushAtEndOfTurn, type TurnFlushable } from '../util/turn-flush.js';
import { JuteError, JuteWriter } from './jute.js';
import { OutgoingBytes } from './outgoing-bytes.js';
import {
  type ReplyShape,
  type ZkDecodeLimits,
  OpCode,
  Xid,
  decodeConnectRequest,
  decodeRequestPacket,
  encodeConnectResponse,
  encodeReply,
  encodeWatcherEvent,
} from './records.js';

export interface ZkConnectionLimits {
  /** Largest packet accepted (ZooKeeper's jute.maxbuffer); a bigger length closes the connection. */
  readonly maxFrameBytes: number;
  /** Requests in flight before this connection stops reading from its socket (backpressure). */
  readonly maxInFlight: number;
  /** Packet bytes of the requests in flight before reading stops. */
  readonly maxInFlightBytes: number;
  /** Bytes queued towards the client before reading stops until they drain. */
  readonly maxBufferedBytes: number;
  /** Bytes queued towards a client that does not read before the connection is dropped. */
  readonly maxBackpressureBytes: number;
  /** A connection that has not sent its ConnectRequest by then is closed. */
  readonly connectTimeoutMs: number;
  /** How long a handshake may wait for a leader or for this server to catch up. */
  readonly maxHandshakeWaitMs: number;
  readonly decode: ZkDecodeLimits;
}

/** Why a connection was closed by the server, for logs and metrics. */
export type CloseReason = 'framing' | 'oversized' | 'connect-timeout' | 'backpressure' | 'protocol' | 'server';

interface Pending {
  readonly xid: number;
  readonly shape: ReplyShape;
  /** Answered by this door when its turn comes (null: the core answers it). */
  readonly local: (() => Uint8Array) | null;
}

const EMPTY_PASSWORD = new Uint8Array(16);

export class ZkConnection implements ClientWire, TurnFlushable {
  private readonly core: ClientConnection;
  private readonly writer = new JuteWriter();
  /** Requests whose replies have not been written yet, oldest first: at most maxInFlight (mustWait). */
  private readonly pending: Pending[] = [];
  /**
   * Bytes read and not yet taken as packets: at most one packet being completed
   * (zkMaxFrameBytes, checked from its length) plus what one socket read brought
   * after it, since reading stops (pause) as soon as a limit is reached.
   */
  private chunks: Buffer[] = [];
  private buffered = 0;
  private connectSeen = false;
  private open = false;
  private readOnlyFlag: boolean | null = null;
  private closed = false;
  private paused = false;
  /** Replies of this turn, written in one socket write when the turn ends. */
  private readonly outgoing = new OutgoingBytes();
  private flushQueued = false;
  private readonly connectTimer: NodeJS.Timeout;

  constructor(
    private readonly node: ZookNode,
    private readonly socket: Socket,
    readonly remote: string,
    private readonly limits: ZkConnectionLimits,
    private readonly events: ConnectionEvents & { readonly received: () => void },
    private readonly onServerClose: (reason: CloseReason, detail: string) => void,
  ) {
    this.core = new ClientConnection(
      node,
      this,
      {
        send: (bytes) => this.write(bytes),
        end: (_code, reason) => this.end('server', reason),
        bufferedBytes: () => socket.writableLength + this.outgoing.byteLength,
      },
      socket.remoteAddress ?? 'unknown',
      // The same limits the core answers Throttled past; this door stops reading before a
      // request would cross one (mustWait), so ZooKeeper clients never see Throttled: as
      // ZooKeeper's own server past globalOutstandingLimit, it just reads no more for a while.
      {
        maxInFlight: limits.maxInFlight,
        maxInFlightBytes: limits.maxInFlightBytes,
        maxBufferedBytes: limits.maxBufferedBytes,
        maxBackpressureBytes: limits.maxBackpressureBytes,
        maxHandshakeWaitMs: limits.maxHandshakeWaitMs,
      },
      events,
    );
    this.connectTimer = setTimeout(() => {
      if (!this.connectSeen) this.end('connect-timeout', `no ConnectRequest within ${limits.connectTimeoutMs} ms`);
    }, limits.connectTimeoutMs).unref();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      this.core.drained();
      this.resumeIfRoom();
    });
    socket.on('close', () => this.onClosed());
    socket.on('error', () => {}); // 'close' follows; a reset by the client is not the server's problem
  }

  get sessionId(): number {
    return this.core.sessionId;
  }

  get inFlight(): number {
    return this.core.inFlight;
  }

  /** Closes the connection from the server side (shutdown, leader lost, tree reset). */
  closeWith(error: number, reason: string, cause?: DisconnectReason): void {
    this.core.closeWith(error, reason, cause);
  }

  // ---- ClientWire: the core's frames as jute ----

  encode(frame: ServerFrame): Uint8Array | null {
    const w = this.writer;
    switch (frame.kind) {
      case 'connected':
        this.open = true;
        return encodeConnectResponse(w, frame.sessionTimeoutMs, frame.sessionId, frame.password, this.readOnlyFlag);
      case 'reply': {
        const head = this.pending.shift();
        // The core answers in request order and only what it was given: anything else is a bug here.
        assert(head !== undefined && head.local === null && head.xid === frame.xid, () => `zookeeper door: reply for xid ${frame.xid} out of order`);
        if (head.shape.opCode === OpCode.auth && frame.error !== 0) {
          // ZooKeeper answers a refused auth packet and then closes the connection.
          setImmediate(() => this.end('protocol', 'auth failed'));
        }
        return encodeReply(w, frame.xid, frame.zxid, frame.error, head.shape, frame.response);
      }
      case 'event':
        // Compacted (a replay the change history no longer reaches back for) is zook's
        // own: ZooKeeper's clients know no such event type, so this door leaves it out.
        if (frame.type === EventType.Compacted) return null;
        return encodeWatcherEvent(w, frame.type, frame.path, frame.zxid);
      case 'close':
        // ZooKeeper has no close frame; an unknown or expired session is told by a
        // ConnectResponse with timeout 0 (the client then reports SessionExpired).
        if (!this.open && frame.error === ErrorCode.SessionExpired) return encodeConnectResponse(w, 0, 0, EMPTY_PASSWORD, this.readOnlyFlag);
        return null;
    }
  }

  // ---- the socket ----

  /** `bytes` may be a view of the writer (the encoders' frameView): copied before anything else encodes. */
  private write(bytes: Uint8Array): boolean {
    if (this.closed) return false;
    this.outgoing.append(bytes);
    if (!this.flushQueued) {
      this.flushQueued = true;
      flushAtEndOfTurn(this);
    }
    const queued = this.socket.writableLength + this.outgoing.byteLength;
    if (queued > this.limits.maxBackpressureBytes) {
      this.end('backpressure', `client stopped reading: ${queued} bytes queued`);
      return false;
    }
    this.answerLocal();
    return true;
  }

  /** End of the turn: this turn's replies leave in one socket write. */
  flushTurn(): void {
    this.flushQueued = false;
    const bytes = this.outgoing.take();
    if (bytes !== null && !this.closed) this.socket.write(bytes);
  }

  /** Writes every answer this door owns that has reached the head of the FIFO. */
  private answerLocal(): void {
    if (!this.open) return;
    while (this.pending.length > 0 && this.pending[0].local !== null) {
      const head = this.pending.shift()!;
      this.write(head.local!());
    }
    this.resumeIfRoom();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    while (!this.closed && !this.paused && this.buffered >= 4) {
      // Backpressure: past a limit no further request is read (TCP pushes back on the client).
      if (this.connectSeen && this.mustWait()) {
        this.pause();
        break;
      }
      const head = this.peek(4);
      const length = head.readInt32BE(0);
      if (!this.connectSeen && this.chunks.length > 0 && this.onFirstWord(head)) return;
      if (length < 0 || length > this.limits.maxFrameBytes) {
        this.end(length < 0 ? 'framing' : 'oversized', `packet length ${length} outside 0..${this.limits.maxFrameBytes} (jute.maxbuffer)`);
        return;
      }
      if (this.buffered < 4 + length) break;
      const packet = this.take(4 + length).subarray(4);
      this.onPacket(packet);
    }
  }

  /** A four-letter word instead of a ConnectRequest: handled by the listener's hook. */
  onFirstWord: (head: Buffer) => boolean = () => false;

  private peek(n: number): Buffer {
    // A packet split over several chunks is joined once, when it is needed whole.
    if (this.chunks[0].length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0].subarray(0, n);
  }

  private take(n: number): Buffer {
    if (this.chunks[0].length < n) this.chunks = [Buffer.concat(this.chunks)];
    const first = this.chunks[0];
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return out;
  }

  private onPacket(packet: Buffer): void {
    if (!this.connectSeen) {
      this.connectSeen = true;
      clearTimeout(this.connectTimer);
      let connect;
      try {
        connect = decodeConnectRequest(packet);
      } catch (error) {
        this.end('protocol', `malformed ConnectRequest: ${error instanceof Error ? error.message : String(error)}`);
        return;
      }
      this.readOnlyFlag = connect.readOnly;
      this.core.receive({
        kind: 'connect',
        // ZooKeeper's protocol version (0) is not zook's: the core checks its own.
        protocolVersion: 1,
        sessionId: connect.sessionId,
        password: connect.password,
        sessionTimeoutMs: connect.timeoutMs,
        lastZxidSeen: connect.lastZxidSeen,
        auth: [],
      });
      return;
    }
    this.events.received();
    let decoded;
    try {
      decoded = decodeRequestPacket(packet, this.limits.decode);
    } catch (error) {
      // Only a header cut short gets here: the client's stream cannot be trusted.
      if (error instanceof JuteError) this.end('protocol', error.message);
      else throw error;
      return;
    }
    const { xid, shape } = decoded;
    if (xid === Xid.notification) {
      // ZooKeeper would answer it with xid -1, which its clients take for a watch event.
      this.end('protocol', `xid ${Xid.notification} is reserved for watch events (opcode ${shape.opCode}): a request may not use it`);
      return;
    }
    if (decoded.request !== undefined) {
      this.pending.push({ xid, shape, local: null });
      this.core.receive({ kind: 'request', xid, linearizable: false, request: decoded.request }, packet.length);
    } else {
      const local =
        decoded.checkWatches !== undefined
          ? this.checkWatches(xid, shape, decoded.checkWatches.path, decoded.checkWatches.watcherType)
          : () => encodeReply(this.writer, xid, this.node.lastApplied, decoded.error, shape);
      this.pending.push({ xid, shape, local });
      if (this.pending.length === 1) this.answerLocal();
    }
  }

  /**
   * True while one more request must not be read: `pending` counts every unanswered
   * request, the core's and this door's, so it bounds both; the core's own counts
   * never reach its Throttled limits while this says no.
   */
  private mustWait(): boolean {
    return this.pending.length >= this.limits.maxInFlight || this.core.inFlightBytes >= this.limits.maxInFlightBytes || this.core.outgoingBytes > this.limits.maxBufferedBytes;
  }

  private checkWatches(xid: number, shape: ReplyShape, path: string, type: 1 | 2 | 3): () => Uint8Array {
    return () => {
      const kind = type === 1 ? WatcherType.Children : type === 2 ? WatcherType.Data : WatcherType.Any;
      const found = this.node.watches.hasWatch(path, this.core.sessionId, kind);
      return encodeReply(this.writer, xid, this.node.lastApplied, found ? 0 : ErrorCode.NoWatcher, shape);
    };
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  private resumeIfRoom(): void {
    if (!this.paused || this.closed) return;
    const l = this.limits;
    if (this.pending.length > l.maxInFlight / 2 || this.core.inFlightBytes > l.maxInFlightBytes / 2 || this.core.outgoingBytes > l.maxBufferedBytes / 2) return;
    this.paused = false;
    this.socket.resume();
    // Packets that arrived before the pause are still buffered here.
    setImmediate(() => this.onData(Buffer.alloc(0)));
  }

  private end(reason: CloseReason, detail: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.connectTimer);
    if (reason !== 'server') this.core.onClosed();
    this.onServerClose(reason, detail);
    const owed = this.outgoing.take(); // replies of this turn go before the end
    if (owed !== null) this.socket.write(owed);
    this.socket.end();
    // A client that never closes its side is cut off after a grace period.
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  private onClosed(): void {
    this.closed = true;
    clearTimeout(this.connectTimer);
    this.core.onClosed();
  }
}
