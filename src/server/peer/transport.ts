// PeerTransport: the authenticated, bounded, reconnecting links between the
// servers of one ensemble, as the Raft host needs them: fire-and-forget send of
// consensus Messages (Raft retries on its own, so loss is fine but unbounded
// memory is not), in-order delivery per link, and an opaque Forward channel.
// Links are TCP (or mutual TLS, with the `tls` option) with length-prefixed frames
// (peer-socket.ts), as ZooKeeper's and etcd's server links are; a turn's frames to
// one peer leave in one write.
//
// One link per peer pair: only the node with the LOWER id dials, the higher one
// accepts (and refuses a Hello from a higher id). Two nodes can therefore never
// race two connections into existence; a new authenticated connection from the
// same peer (it redialled before this side noticed the old one died) replaces
// the old one.
import type { Message } from '../../consensus/types.js';
import { MessageType } from '../../consensus/types.js';
import { assert } from '../../util/assert.js';
import { RateLimitedLog, SILENT_LOG, type Log } from '../../util/log.js';
import type { Server } from 'node:net';
import { acceptPeers } from './acceptor.js';
import { secretBytes } from './auth.js';
import { PeerProtocolError, decodePeerFrame, encodePeerFrame } from './codec.js';
import { Dialer, type PeerAddress } from './dialer.js';
import { DEFAULT_PEER_DECODE_LIMITS, type PeerDecodeLimits } from './frames.js';
import { CloseCode, type Link, type LinkHost, type PeerTls } from './link.js';
import { MutableLinkCounters, type PeerLinkMetrics, type PeerTransportMetrics } from './metrics.js';
import type { PeerSocket } from './peer-socket.js';
import { SendQueue } from './send-queue.js';

export type { PeerAddress } from './dialer.js';
export type { PeerTls } from './link.js';

export interface PeerTransportOptions {
  /** Where links going up, down or refused are logged (default: nowhere). */
  readonly log?: Log;
  /** This node's id (a positive u32). */
  readonly nodeId: number;
  /** Ensemble name; nodes of another cluster are refused even with the same secret. */
  readonly clusterId: string;
  /** Shared secret from the ensemble config (at least 16 bytes). */
  readonly secret: string | Uint8Array;
  /** Mutual TLS on every link, in addition to the secret (default: plain TCP). */
  readonly tls?: PeerTls | null;
  readonly listenHost?: string;
  /** 0 picks a free port (tests); listen() returns the one bound. */
  readonly listenPort?: number;
  /** Per peer: frames waiting for the link. */
  readonly maxQueuedMessages?: number;
  /** Per peer: bytes of frames waiting for the link. */
  readonly maxQueuedBytes?: number;
  /**
   * Per peer, while its link is down: droppable frames kept for a quick reconnect.
   * More would be stale by the time the peer is back (Raft resends from its own
   * state, or sends a snapshot), and replaying them wastes the peer's time.
   */
  readonly maxQueuedWhileDown?: number;
  /** Largest frame either way; must exceed Raft's max message size plus overhead. */
  readonly maxFrameBytes?: number;
  /** Stop handing frames to a socket while it holds this many unsent bytes (keeps the queue, and its drop policy, in charge). */
  readonly maxSocketBufferedBytes?: number;
  readonly reconnectBaseDelayMs?: number;
  readonly reconnectMaxDelayMs?: number;
  readonly handshakeTimeoutMs?: number;
  /** A link silent this long is dead; both ends ping every half of it. */
  readonly idleTimeoutSeconds?: number;
  /** Uniform in [0, 1), for backoff jitter; inject a seeded source in tests. */
  readonly random?: () => number;
}

export type MessageHandler = (message: Message) => void;
export type ForwardHandler = (from: number, id: bigint, payload: Uint8Array) => void;
export type PeerHandler = (peerId: number) => void;

interface PeerState {
  readonly id: number;
  readonly queue: SendQueue;
  readonly counters: MutableLinkCounters;
  link: Link | null;
  dialer: Dialer | null;
}

/** Why a link went down, by the Close frame's code, for the log. */
const CLOSE_CODE_NAMES: Readonly<Record<number, string>> = {
  [CloseCode.AuthFailed]: 'authentication failed',
  [CloseCode.ProtocolError]: 'protocol error',
  [CloseCode.Replaced]: 'replaced by a newer link',
  [CloseCode.HandshakeTimeout]: 'handshake timed out',
  [CloseCode.Shutdown]: 'the peer is shutting down',
  [CloseCode.NotAPeer]: 'not (or no longer) a member',
  [CloseCode.Idle]: 'nothing heard for the idle timeout',
};

const DEFAULTS = {
  listenHost: '127.0.0.1',
  listenPort: 0,
  maxQueuedMessages: 4096,
  maxQueuedBytes: 64 * 1024 * 1024,
  maxQueuedWhileDown: 64,
  maxFrameBytes: 16 * 1024 * 1024,
  maxSocketBufferedBytes: 4 * 1024 * 1024,
  reconnectBaseDelayMs: 50,
  // Only the lower id dials (see above), so this bounds how long a restarted
  // higher-id node waits for its lower-id peers: keep it under an election timeout.
  reconnectMaxDelayMs: 1000,
  handshakeTimeoutMs: 5000,
  idleTimeoutSeconds: 16,
} as const;

/**
 * Listener sets with unsubscribe functions: a tiny typed emitter. A throwing
 * handler must not leave a link half set up (or throw into a socket's data
 * callback), so each handler runs guarded and the first error is rethrown
 * from a microtask, where it still surfaces as an uncaught exception.
 */
class Listeners<F extends (...args: never[]) => void> {
  private readonly set = new Set<F>();
  add(f: F): () => void {
    this.set.add(f);
    return () => this.set.delete(f);
  }
  emit(...args: Parameters<F>): void {
    let failure: { error: unknown } | null = null;
    for (const f of [...this.set]) {
      try {
        f(...args);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== null) {
      const { error } = failure;
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}

/**
 * Messages that keep leadership moving, small by nature: they skip ahead of
 * appends, snapshot chunks and forwarded writes in a peer's send queue (see
 * SendQueue). Appends stay in order among themselves, even entry-less ones (a
 * commit notice or a probe): one that overtook an append in flight would name a
 * previous index the follower does not have yet, be rejected, and send the leader
 * back to probing. Commit notices stay in order with appends too (they name an
 * entry an earlier append carried). A heartbeat's commit never exceeds what the
 * follower matched, so it can overtake anything.
 */
export function isUrgent(message: Message): boolean {
  // A Commit names an entry sent to the follower before it: it must not overtake that append.
  return message.type !== MessageType.Append && message.type !== MessageType.Snapshot && message.type !== MessageType.Commit;
}

export class PeerTransport {
  readonly nodeId: number;
  readonly clusterId: string;
  private readonly secret: Uint8Array;
  private readonly tls: PeerTls | null;
  private readonly options: Required<Omit<PeerTransportOptions, 'nodeId' | 'clusterId' | 'secret' | 'random' | 'tls' | 'log'>>;
  private readonly log: Log;
  /** Refused handshakes can come in a flood (anyone can connect to the peer port): at most 10 lines a second. */
  private readonly refusalLog: RateLimitedLog;
  private readonly random: () => number;
  private readonly limits: PeerDecodeLimits;
  private readonly peers = new Map<number, PeerState>();
  private readonly sockets = new Set<PeerSocket>();
  private readonly server: Server;
  private readonly host: LinkHost;
  private listening = false;
  private closed = false;
  private authFailures = 0;
  private protocolErrors = 0;
  private handshakeTimeouts = 0;
  private dialAttempts = 0;
  private readonly messageListeners = new Listeners<MessageHandler>();
  private readonly forwardListeners = new Listeners<ForwardHandler>();
  private readonly upListeners = new Listeners<PeerHandler>();
  private readonly downListeners = new Listeners<PeerHandler>();
  private readonly authFailureListeners = new Listeners<(reason: string) => void>();

  constructor(options: PeerTransportOptions) {
    assert(Number.isInteger(options.nodeId) && options.nodeId > 0 && options.nodeId <= 0xffff_ffff, () => `bad node id ${options.nodeId}`);
    this.nodeId = options.nodeId;
    this.clusterId = options.clusterId;
    this.secret = secretBytes(options.secret);
    this.tls = options.tls ?? null;
    this.log = options.log ?? SILENT_LOG;
    this.refusalLog = new RateLimitedLog(this.log, 10, 'peer handshakes refused');
    this.random = options.random ?? Math.random;
    this.options = {
      listenHost: options.listenHost ?? DEFAULTS.listenHost,
      listenPort: options.listenPort ?? DEFAULTS.listenPort,
      maxQueuedMessages: options.maxQueuedMessages ?? DEFAULTS.maxQueuedMessages,
      maxQueuedBytes: options.maxQueuedBytes ?? DEFAULTS.maxQueuedBytes,
      maxQueuedWhileDown: options.maxQueuedWhileDown ?? DEFAULTS.maxQueuedWhileDown,
      maxFrameBytes: options.maxFrameBytes ?? DEFAULTS.maxFrameBytes,
      maxSocketBufferedBytes: options.maxSocketBufferedBytes ?? DEFAULTS.maxSocketBufferedBytes,
      reconnectBaseDelayMs: options.reconnectBaseDelayMs ?? DEFAULTS.reconnectBaseDelayMs,
      reconnectMaxDelayMs: options.reconnectMaxDelayMs ?? DEFAULTS.reconnectMaxDelayMs,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs,
      idleTimeoutSeconds: options.idleTimeoutSeconds ?? DEFAULTS.idleTimeoutSeconds,
    };
    this.limits = { ...DEFAULT_PEER_DECODE_LIMITS, maxFrameBytes: this.options.maxFrameBytes };
    this.host = this.linkHost();
    this.server = acceptPeers(
      this.host,
      { idleTimeoutMs: this.options.idleTimeoutSeconds * 1000, flushMarkBytes: this.options.maxSocketBufferedBytes },
      this.sockets,
    );
  }

  /** Binds the peer port (exclusively: a second server on it fails); resolves with the port number. */
  listen(): Promise<number> {
    assert(!this.listening && !this.closed, () => 'listen() once, before close()');
    this.listening = true;
    return new Promise((resolve, reject) => {
      const failed = (error: Error): void => reject(new Error(`peer transport cannot listen on ${this.options.listenHost}:${this.options.listenPort}: ${error.message}`));
      this.server.once('error', failed);
      this.server.listen({ host: this.options.listenHost, port: this.options.listenPort, exclusive: true }, () => {
        this.server.off('error', failed);
        const address = this.server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
  }

  /**
   * Adds a peer (or updates its address). Peers with a higher id are dialled at
   * `address`; lower ids dial this node, so their address is not used.
   */
  addPeer(address: PeerAddress): void {
    assert(!this.closed, () => 'addPeer after close');
    assert(address.id !== this.nodeId && Number.isInteger(address.id) && address.id > 0, () => `bad peer id ${address.id}`);
    let peer = this.peers.get(address.id);
    if (peer === undefined) {
      peer = { id: address.id, queue: new SendQueue(this.options), counters: new MutableLinkCounters(), link: null, dialer: null };
      this.peers.set(address.id, peer);
    }
    if (address.id > this.nodeId) {
      peer.dialer?.stop();
      peer.dialer = new Dialer(this.host, address, {
        reconnectBaseDelayMs: this.options.reconnectBaseDelayMs,
        reconnectMaxDelayMs: this.options.reconnectMaxDelayMs,
        random: this.random,
        onDialAttempt: () => this.dialAttempts++,
        idleTimeoutMs: this.options.idleTimeoutSeconds * 1000,
        flushMarkBytes: this.options.maxSocketBufferedBytes,
      });
      peer.dialer.start();
    }
  }

  /** Forgets a peer: closes its link, stops dialling it, drops what was queued for it. */
  removePeer(id: number): void {
    const peer = this.peers.get(id);
    if (peer === undefined) return;
    this.peers.delete(id);
    peer.dialer?.stop();
    peer.queue.clear();
    const link = peer.link;
    peer.link = null;
    if (link !== null) {
      link.close(CloseCode.NotAPeer, 'peer removed');
      this.downListeners.emit(id);
    }
  }

  /** Queues a Raft message for message.to. Never throws for a down or unknown peer: Raft copes with loss. */
  send(message: Message): void {
    assert(message.from === this.nodeId, () => `message from ${message.from} sent by node ${this.nodeId}`);
    this.enqueue(message.to, encodePeerFrame({ kind: 'raft', message }), message.type !== MessageType.Snapshot, isUrgent(message));
  }

  /** Queues an opaque payload for `to`, correlated by `id` (a u64). */
  sendForward(to: number, payload: Uint8Array, id: bigint): void {
    this.enqueue(to, encodePeerFrame({ kind: 'forward', id, payload }), true);
  }

  onMessage(handler: MessageHandler): () => void {
    return this.messageListeners.add(handler);
  }

  onForward(handler: ForwardHandler): () => void {
    return this.forwardListeners.add(handler);
  }

  onPeerUp(handler: PeerHandler): () => void {
    return this.upListeners.add(handler);
  }

  onPeerDown(handler: PeerHandler): () => void {
    return this.downListeners.add(handler);
  }

  /** A handshake was refused (reason is for logs; never shown to the peer). */
  onAuthFailure(handler: (reason: string) => void): () => void {
    return this.authFailureListeners.add(handler);
  }

  isUp(peerId: number): boolean {
    return this.peers.get(peerId)?.link != null;
  }

  metrics(): PeerTransportMetrics {
    const peers = new Map<number, PeerLinkMetrics>();
    for (const p of this.peers.values()) {
      const c = p.counters;
      peers.set(p.id, {
        up: p.link !== null,
        messagesSent: c.messagesSent,
        bytesSent: c.bytesSent,
        messagesReceived: c.messagesReceived,
        bytesReceived: c.bytesReceived,
        drops: c.drops,
        reconnects: Math.max(0, c.linkUps - 1),
        queuedMessages: p.queue.length,
        queuedBytes: p.queue.bytes,
      });
    }
    return {
      peers,
      authFailures: this.authFailures,
      protocolErrors: this.protocolErrors,
      handshakeTimeouts: this.handshakeTimeouts,
      dialAttempts: this.dialAttempts,
    };
  }

  /** Stops dialling, closes every link and the peer port. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const peer of this.peers.values()) {
      peer.dialer?.stop();
      peer.dialer = null;
      peer.link = null;
      peer.queue.clear();
    }
    const stopped = this.listening ? new Promise<void>((resolve) => this.server.close(() => resolve())) : Promise.resolve();
    for (const socket of [...this.sockets]) socket.close(CloseCode.Shutdown, 'server shutting down');
    this.sockets.clear();
    await stopped;
  }

  private enqueue(to: number, bytes: Uint8Array, droppable: boolean, urgent = false): void {
    const peer = this.peers.get(to);
    if (peer === undefined || this.closed) return;
    if (bytes.length > this.options.maxFrameBytes) {
      // The receiver would refuse it; count it as a drop rather than killing the link.
      peer.counters.drops++;
      return;
    }
    peer.counters.drops += peer.queue.push({ bytes, droppable, urgent });
    if (peer.link === null) peer.counters.drops += peer.queue.trimTo(this.options.maxQueuedWhileDown);
    // Flushed once at the end of this turn of the event loop: a Ready's messages and a
    // burst of forwards leave corked together, one socket write instead of one per frame.
    if (!this.flushScheduled.has(peer)) {
      this.flushScheduled.add(peer);
      if (this.flushScheduled.size === 1) setImmediate(() => this.flushScheduledPeers());
    }
  }

  private readonly flushScheduled = new Set<PeerState>();

  private flushScheduledPeers(): void {
    const peers = [...this.flushScheduled];
    this.flushScheduled.clear();
    for (const peer of peers) if (this.peers.get(peer.id) === peer) this.flush(peer);
  }

  private flush(peer: PeerState): void {
    const link = peer.link;
    if (link === null || peer.queue.length === 0) return;
    link.cork(() => {
      while (peer.queue.length > 0 && link.bufferedBytes() < this.options.maxSocketBufferedBytes) {
        const frame = peer.queue.shift()!;
        if (!link.send(frame.bytes)) {
          peer.counters.drops++;
          return;
        }
        peer.counters.messagesSent++;
        peer.counters.bytesSent += frame.bytes.length;
      }
    });
  }

  private linkHost(): LinkHost {
    return {
      nodeId: this.nodeId,
      clusterId: this.clusterId,
      secret: this.secret,
      tls: this.tls,
      limits: this.limits,
      handshakeTimeoutMs: this.options.handshakeTimeoutMs,
      isPeer: (id) => this.peers.has(id),
      linkUp: (peerId, link) => this.linkUp(peerId, link),
      linkDown: (peerId, link, code) => this.linkDown(peerId, link, code ?? null),
      receive: (peerId, link, bytes) => this.receive(peerId, link, bytes),
      drained: (peerId) => {
        const peer = this.peers.get(peerId);
        if (peer !== undefined) this.flush(peer);
      },
      authFailure: (reason) => {
        this.authFailures++;
        this.refusalLog.warn({ reason }, `peer link refused: ${reason}`);
        this.authFailureListeners.emit(reason);
      },
      dialFailed: (peerId, failures, error, code) => {
        // The first failure of an outage at warn (say, a peer that never came up), the retries at debug.
        const level = failures === 1 ? 'warn' : 'debug';
        const dialer = this.peers.get(peerId)?.dialer;
        const address = dialer == null ? '' : ` at ${dialer.peer.host}:${dialer.peer.port}`;
        const reason = error ?? (code === null ? 'closed before the handshake' : `refused: ${CLOSE_CODE_NAMES[code] ?? `close code ${code}`}`);
        this.log[level]({ peer: peerId, failures, reason }, `cannot link to server ${peerId}${address}: ${reason} (retrying)`);
      },
      handshakeTimeout: () => {
        this.handshakeTimeouts++;
        this.refusalLog.warn({ handshakeTimeoutMs: this.options.handshakeTimeoutMs }, `peer handshake timed out after ${this.options.handshakeTimeoutMs} ms`);
      },
    };
  }

  private linkUp(peerId: number, link: Link): void {
    const peer = this.peers.get(peerId);
    if (peer === undefined || this.closed) {
      link.close(CloseCode.NotAPeer, 'not a peer');
      return;
    }
    const old = peer.link;
    if (old !== null) {
      peer.link = null;
      old.close(CloseCode.Replaced, 'replaced by a newer link');
      this.downListeners.emit(peerId);
    }
    peer.link = link;
    peer.counters.linkUps++;
    this.log.info({ peer: peerId, replaced: old !== null }, `link to server ${peerId} up`);
    this.upListeners.emit(peerId);
    this.flush(peer);
  }

  private linkDown(peerId: number, link: Link, code: number | null): void {
    const peer = this.peers.get(peerId);
    // A replaced or removed link going away is old news.
    if (peer === undefined || peer.link !== link) return;
    peer.link = null;
    const reason = code === null ? 'connection ended' : (CLOSE_CODE_NAMES[code] ?? `close code ${code}`);
    this.log.warn({ peer: peerId, code, reason }, `link to server ${peerId} down: ${reason}`);
    peer.counters.drops += peer.queue.trimTo(this.options.maxQueuedWhileDown);
    this.downListeners.emit(peerId);
  }

  private receive(peerId: number, link: Link, bytes: Uint8Array): void {
    const peer = this.peers.get(peerId);
    if (peer === undefined || peer.link !== link) return;
    let frame;
    try {
      frame = decodePeerFrame(bytes, this.limits);
    } catch (error) {
      if (!(error instanceof PeerProtocolError)) throw error;
      return this.protocolError(peer, link);
    }
    peer.counters.messagesReceived++;
    peer.counters.bytesReceived += bytes.length;
    if (frame.kind === 'raft') {
      // The link is authenticated as peerId: a message claiming another sender is forged or a bug.
      if (frame.message.from !== peerId || frame.message.to !== this.nodeId) return this.protocolError(peer, link);
      this.messageListeners.emit(frame.message);
    } else if (frame.kind === 'forward') {
      this.forwardListeners.emit(peerId, frame.id, frame.payload);
    } else {
      this.protocolError(peer, link);
    }
  }

  private protocolError(peer: PeerState, link: Link): void {
    this.protocolErrors++;
    this.log.warn({ peer: peer.id }, `link to server ${peer.id} closed: peer protocol error`);
    peer.link = null;
    link.close(CloseCode.ProtocolError, 'peer protocol error');
    this.downListeners.emit(peer.id);
  }
}
