// The dialing side of one peer link: a TCP (or mutual-TLS) client that answers the
// acceptor's Challenge with a Hello, checks the acceptor's HelloAck proof, and redials
// with capped, jittered backoff whenever the link fails or drops, until stop().
import { type Socket, connect, isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { NONCE_BYTES, computeProof, newNonce, verifyProof } from './auth.js';
import { backoffDelayMs } from '../../util/backoff.js';
import { linkOf } from './acceptor.js';
import { PeerProtocolError, decodePeerFrame, encodePeerFrame } from './codec.js';
import { PEER_PROTOCOL_VERSION, type PeerFrame } from './frames.js';
import { CloseCode, type Link, type LinkHost } from './link.js';
import { PeerSocket } from './peer-socket.js';

export interface PeerAddress {
  readonly id: number;
  readonly host: string;
  readonly port: number;
}

export interface DialerOptions {
  readonly reconnectBaseDelayMs: number;
  readonly reconnectMaxDelayMs: number;
  /** Uniform in [0, 1), for the backoff's jitter. */
  readonly random: () => number;
  readonly onDialAttempt: () => void;
  /** Silence after which the link counts as dead and is redialled (both sides ping at half of it). */
  readonly idleTimeoutMs: number;
  /** The transport's flush mark (see PeerSocketOptions.flushMarkBytes). */
  readonly flushMarkBytes: number;
}

/** How long after a peer's clean shutdown it is redialled at the base delay. */
const RESTART_REDIAL_WINDOW_MS = 30_000;

export class Dialer {
  private socket: PeerSocket | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Failed attempts since the last link came up; drives the backoff. */
  private failures = 0;
  private stopped = false;
  /** When the peer last closed a working link saying it shuts down (a restart, most likely); 0 otherwise. */
  private peerShutdownAtMs = 0;

  constructor(
    private readonly host: LinkHost,
    readonly peer: PeerAddress,
    private readonly options: DialerOptions,
  ) {}

  start(): void {
    if (!this.stopped && this.socket === null && this.timer === null) this.dial();
  }

  /** Stops for good: closes the socket and cancels any pending redial. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.socket?.destroy();
    this.socket = null;
  }

  private dial(): void {
    this.timer = null;
    if (this.stopped) return;
    this.options.onDialAttempt();
    const { host, peer } = this;
    const dialerNonce = newNonce();
    let acceptorNonce: Uint8Array | null = null;
    let link: Link | null = null;
    let refused = false;

    const refuse = (reason: string): void => {
      if (refused) return;
      refused = true;
      host.authFailure(reason);
      socket.close(CloseCode.AuthFailed, 'peer authentication failed');
    };
    const handshakeTimer = setTimeout(() => {
      if (link !== null || refused) return;
      host.handshakeTimeout();
      socket.destroy();
    }, host.handshakeTimeoutMs);

    const handshake = (frame: PeerFrame): void => {
      if (frame.kind === 'challenge' && acceptorNonce === null) {
        if (frame.nonce.length !== NONCE_BYTES) return refuse('bad challenge nonce');
        acceptorNonce = frame.nonce;
        const proof = computeProof(host.secret, { role: 'hello', clusterId: host.clusterId, from: host.nodeId, to: peer.id, acceptorNonce, dialerNonce });
        const hello = { kind: 'hello', protocolVersion: PEER_PROTOCOL_VERSION, clusterId: host.clusterId, from: host.nodeId, to: peer.id, nonce: dialerNonce, proof } as const;
        socket.send(encodePeerFrame(hello));
        return;
      }
      if (frame.kind === 'helloAck' && acceptorNonce !== null) {
        const input = { role: 'ack' as const, clusterId: host.clusterId, from: peer.id, to: host.nodeId, acceptorNonce, dialerNonce };
        if (frame.from !== peer.id || frame.to !== host.nodeId || !verifyProof(host.secret, input, frame.proof)) return refuse('bad hello ack');
        clearTimeout(handshakeTimer);
        this.failures = 0;
        link = linkOf(socket);
        host.linkUp(peer.id, link);
        return;
      }
      refuse(`unexpected ${frame.kind} during the handshake`);
    };

    const raw = this.open();
    /** Why the dial failed, for the log (ECONNREFUSED, ETIMEDOUT, ...). */
    let dialError: string | null = null;
    raw.once('error', (error: Error & { code?: string }) => (dialError = error.code ?? error.message));
    const socket: PeerSocket = new PeerSocket(
      raw,
      { maxFrameBytes: host.limits.maxFrameBytes, idleTimeoutMs: this.options.idleTimeoutMs, flushMarkBytes: this.options.flushMarkBytes },
      {
        frame: (bytes) => {
          if (refused) return;
          if (link !== null) return host.receive(peer.id, link, bytes);
          try {
            handshake(decodePeerFrame(bytes, host.limits));
          } catch (error) {
            if (error instanceof PeerProtocolError) return refuse(`undecodable handshake: ${error.message}`);
            throw error;
          }
        },
        drain: () => {
          if (link !== null) host.drained(peer.id);
        },
        closed: (code) => {
          clearTimeout(handshakeTimer);
          if (this.socket === socket) this.socket = null;
          if (link !== null) {
            if (code === CloseCode.Shutdown) this.peerShutdownAtMs = Date.now();
            host.linkDown(peer.id, link, code);
          } else {
            this.failures++;
            host.dialFailed?.(peer.id, this.failures, dialError, code);
          }
          this.scheduleRedial();
        },
      },
    );
    this.socket = socket;
  }

  /**
   * The connection: plain TCP, or TLS presenting this server's certificate and
   * accepting only an acceptor whose certificate chains to the CA and names the
   * host dialled. A TLS failure after the TCP connect is counted as a refusal.
   */
  private open(): Socket {
    const { host, peer } = this;
    const tls = host.tls;
    if (tls === null) return connect({ host: peer.host, port: peer.port });
    const raw = tlsConnect({
      host: peer.host,
      port: peer.port,
      // SNI takes host names only; an IP is still checked against the certificate's IP SANs.
      servername: isIP(peer.host) === 0 ? peer.host : undefined,
      cert: Buffer.from(tls.cert),
      key: Buffer.from(tls.key),
      ca: Buffer.from(tls.ca),
      minVersion: 'TLSv1.2',
      rejectUnauthorized: true,
    });
    let connected = false;
    raw.once('connect', () => (connected = true));
    raw.once('error', (error: Error & { syscall?: string }) => {
      // Network errors carry a syscall; TLS ones (unknown CA, wrong name, an alert from the acceptor) do not.
      if (connected && error.syscall === undefined) host.authFailure(`TLS with node ${peer.id}: ${error.message}`);
    });
    return raw;
  }

  private scheduleRedial(): void {
    if (this.stopped || this.timer !== null || this.socket !== null) return;
    // After a working link dropped (failures reset to 0) the first redial waits the base delay.
    // A peer that said it was shutting down is most likely restarting: redial it at the base
    // delay for a while instead of backing off, so the link is back within moments of its
    // return (only this side dials it, and a leader handing over to us needs it).
    const restarting = this.peerShutdownAtMs > 0 && Date.now() - this.peerShutdownAtMs < RESTART_REDIAL_WINDOW_MS;
    this.timer = setTimeout(() => this.dial(), backoffDelayMs(restarting ? 0 : Math.max(0, this.failures - 1), {
      baseDelayMs: this.options.reconnectBaseDelayMs,
      maxDelayMs: this.options.reconnectMaxDelayMs,
      random: this.options.random,
    }));
  }
}
