// The dialing side of one peer link: a `ws` client that answers the acceptor's
// Challenge with a Hello, checks the acceptor's HelloAck proof, and redials with
// capped, jittered backoff whenever the link fails or drops, until stop().
import WebSocket from 'ws';
import { NONCE_BYTES, computeProof, newNonce, verifyProof } from './auth.js';
import { backoffDelayMs } from '../../util/backoff.js';
import { PeerProtocolError, decodePeerFrame, encodePeerFrame } from './codec.js';
import { PEER_PROTOCOL_VERSION, type PeerFrame } from './frames.js';
import { CloseCode, type Link, type LinkHost } from './link.js';

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
  /**
   * The acceptor (uWebSockets.js) pings on its own; the dialing side pings every
   * this many ms and drops a link that answered no ping in between, so a half-open
   * connection (peer host gone without a FIN) is noticed and redialled.
   */
  readonly pingIntervalMs: number;
}

function asBytes(data: WebSocket.RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export class Dialer {
  private socket: WebSocket | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Failed attempts since the last link came up; drives the backoff. */
  private failures = 0;
  private stopped = false;

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
    this.socket?.terminate();
    this.socket = null;
  }

  private dial(): void {
    this.timer = null;
    if (this.stopped) return;
    this.options.onDialAttempt();
    const { host, peer } = this;
    const ws = new WebSocket(`ws://${peer.host}:${peer.port}/peer`, {
      maxPayload: host.limits.maxFrameBytes,
      perMessageDeflate: false,
      handshakeTimeout: host.handshakeTimeoutMs,
    });
    this.socket = ws;
    const dialerNonce = newNonce();
    let acceptorNonce: Uint8Array | null = null;
    let link: Link | null = null;
    let refused = false;
    let pinger: NodeJS.Timeout | null = null;
    let ponged = true;

    const refuse = (reason: string): void => {
      if (refused) return;
      refused = true;
      host.authFailure(reason);
      ws.close(CloseCode.AuthFailed, 'peer authentication failed');
      ws.terminate();
    };
    const handshakeTimer = setTimeout(() => {
      if (link !== null || refused) return;
      host.handshakeTimeout();
      ws.terminate();
    }, host.handshakeTimeoutMs);

    const handshake = (frame: PeerFrame): void => {
      if (frame.kind === 'challenge' && acceptorNonce === null) {
        if (frame.nonce.length !== NONCE_BYTES) return refuse('bad challenge nonce');
        acceptorNonce = frame.nonce;
        const proof = computeProof(host.secret, { role: 'hello', clusterId: host.clusterId, from: host.nodeId, to: peer.id, acceptorNonce, dialerNonce });
        const hello = { kind: 'hello', protocolVersion: PEER_PROTOCOL_VERSION, clusterId: host.clusterId, from: host.nodeId, to: peer.id, nonce: dialerNonce, proof } as const;
        ws.send(encodePeerFrame(hello));
        return;
      }
      if (frame.kind === 'helloAck' && acceptorNonce !== null) {
        const input = { role: 'ack' as const, clusterId: host.clusterId, from: peer.id, to: host.nodeId, acceptorNonce, dialerNonce };
        if (frame.from !== peer.id || frame.to !== host.nodeId || !verifyProof(host.secret, input, frame.proof)) return refuse('bad hello ack');
        clearTimeout(handshakeTimer);
        this.failures = 0;
        link = {
          send: (bytes) => {
            if (ws.readyState !== WebSocket.OPEN) return false;
            ws.send(bytes, { binary: true }, (error) => {
              if (error === undefined || error === null) host.drained(peer.id);
            });
            return true;
          },
          bufferedBytes: () => ws.bufferedAmount,
          close: (code, reason) => {
            ws.close(code, reason);
            ws.terminate();
          },
          cork: (sends) => {
            // ws corks per frame itself; an outer cork on its socket makes a burst one writev.
            const socket = (ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
            socket?.cork();
            try {
              sends();
            } finally {
              socket?.uncork();
            }
          },
        };
        ws.on('pong', () => {
          ponged = true;
        });
        pinger = setInterval(() => {
          if (!ponged) return ws.terminate();
          ponged = false;
          ws.ping();
        }, this.options.pingIntervalMs);
        host.linkUp(peer.id, link);
        return;
      }
      refuse(`unexpected ${frame.kind} during the handshake`);
    };

    ws.on('message', (data, isBinary) => {
      if (refused) return;
      const bytes = asBytes(data);
      if (link !== null) return host.receive(peer.id, link, bytes);
      if (!isBinary) return refuse('text frame on a peer link');
      try {
        handshake(decodePeerFrame(bytes, host.limits));
      } catch (error) {
        if (error instanceof PeerProtocolError) return refuse(`undecodable handshake: ${error.message}`);
        throw error;
      }
    });
    // 'close' always follows 'error' in ws; the redial happens there.
    ws.on('error', () => {});
    ws.on('close', () => {
      clearTimeout(handshakeTimer);
      if (pinger !== null) clearInterval(pinger);
      if (this.socket === ws) this.socket = null;
      if (link !== null) host.linkDown(peer.id, link);
      else this.failures++;
      this.scheduleRedial();
    });
  }

  private scheduleRedial(): void {
    if (this.stopped || this.timer !== null || this.socket !== null) return;
    // After a working link dropped (failures reset to 0) the first redial waits the base delay.
    this.timer = setTimeout(() => this.dial(), backoffDelayMs(Math.max(0, this.failures - 1), {
      baseDelayMs: this.options.reconnectBaseDelayMs,
      maxDelayMs: this.options.reconnectMaxDelayMs,
      random: this.options.random,
    }));
  }
}
