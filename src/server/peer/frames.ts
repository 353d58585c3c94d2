// Plain values for the peer protocol (schema/peer.fbs). codec.ts is the only
// place that knows the wire layout; everything else uses these shapes.
import type { Message } from '../../consensus/types.js';

/** The peer protocol version this build speaks (PeerProtocolVersion.Current). */
export const PEER_PROTOCOL_VERSION = 1;

/** Acceptor -> dialer, first frame of a link: the acceptor's fresh nonce. */
export interface ChallengeFrame {
  readonly kind: 'challenge';
  readonly nonce: Uint8Array;
}

/** Dialer -> acceptor: identity, the dialer's nonce and its proof over both nonces. */
export interface HelloFrame {
  readonly kind: 'hello';
  readonly protocolVersion: number;
  readonly clusterId: string;
  readonly from: number;
  readonly to: number;
  readonly nonce: Uint8Array;
  readonly proof: Uint8Array;
}

/** Acceptor -> dialer: the acceptor's proof over both nonces. */
export interface HelloAckFrame {
  readonly kind: 'helloAck';
  readonly from: number;
  readonly to: number;
  readonly proof: Uint8Array;
}

export interface RaftFrame {
  readonly kind: 'raft';
  readonly message: Message;
}

/** Opaque payload for the cluster layer; `id` (u64) correlates replies with requests. */
export interface ForwardFrame {
  readonly kind: 'forward';
  readonly id: bigint;
  readonly payload: Uint8Array;
}

export type PeerFrame = ChallengeFrame | HelloFrame | HelloAckFrame | RaftFrame | ForwardFrame;

/** Bounds the decoder enforces on untrusted bytes (counts, not bytes, except where named). */
export interface PeerDecodeLimits {
  /** Whole frame; the TCP framing refuses longer ones before reading them. */
  readonly maxFrameBytes: number;
  /** Entries in one Append. */
  readonly maxEntriesPerMessage: number;
  /** Voters plus learners in one snapshot's membership. */
  readonly maxMembers: number;
  /** Nonces and proofs. */
  readonly maxHandshakeFieldBytes: number;
  /** Cluster id, in UTF-16 code units. */
  readonly maxClusterIdChars: number;
}

export const DEFAULT_PEER_DECODE_LIMITS: PeerDecodeLimits = {
  maxFrameBytes: 16 * 1024 * 1024,
  maxEntriesPerMessage: 100_000,
  maxMembers: 1024,
  maxHandshakeFieldBytes: 64,
  maxClusterIdChars: 256,
};
