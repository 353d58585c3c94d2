// What the transport needs from one authenticated connection, whichever side
// opened it (accepted or dialled: both are a PeerSocket over TCP or TLS), and what the
// two connection handlers need from the transport.
import type { PeerDecodeLimits } from './frames.js';

export interface Link {
  /** Queues bytes on the socket; false if the socket dropped them (closed or over its limit). */
  send(bytes: Uint8Array): boolean;
  /** Bytes the socket holds that the kernel has not taken yet. */
  bufferedBytes(): number;
  close(code: number, reason: string): void;
  /** Runs `sends` with the socket corked: the frames it sends leave in one write. */
  cork(sends: () => void): void;
}

/**
 * Mutual TLS for peer links: each side presents `cert` and accepts only a peer
 * whose certificate chains to `ca` (the dialer also checks the acceptor's name
 * against the host it dialled). The shared-secret handshake runs inside it.
 */
export interface PeerTls {
  readonly cert: Uint8Array;
  readonly key: Uint8Array;
  readonly ca: Uint8Array;
}

export interface LinkHost {
  readonly nodeId: number;
  /** null: plain TCP. */
  readonly tls: PeerTls | null;
  readonly clusterId: string;
  readonly secret: Uint8Array;
  readonly limits: PeerDecodeLimits;
  readonly handshakeTimeoutMs: number;
  isPeer(id: number): boolean;
  linkUp(peerId: number, link: Link): void;
  /** `code`: the Close frame's code when the peer sent one (CloseCode), null when the socket just ended. */
  linkDown(peerId: number, link: Link, code?: number | null): void;
  /** An authenticated frame arrived on `link`. */
  receive(peerId: number, link: Link, bytes: Uint8Array): void;
  /** The socket can take more: send what is queued. */
  drained(peerId: number): void;
  authFailure(reason: string): void;
  handshakeTimeout(): void;
  /**
   * A dial of `peerId` ended before a link was up (`failures` in a row): `error` is the
   * socket error's code (ECONNREFUSED...), `code` the Close frame's code when the peer refused.
   */
  dialFailed?(peerId: number, failures: number, error: string | null, code: number | null): void;
}

/** Close codes a Close frame carries (peer-socket.ts); the numbers follow WebSocket's application range. */
export const CloseCode = {
  AuthFailed: 4001,
  ProtocolError: 4002,
  Replaced: 4003,
  HandshakeTimeout: 4004,
  /** This server is stopping (a restart, most likely): the dialer redials it promptly. */
  Shutdown: 1001,
  /** The peer is no longer (or not) a member of this server's ensemble. */
  NotAPeer: 4005,
  /** Nothing heard from the peer, not even a ping, for the idle timeout. */
  Idle: 4006,
} as const;
