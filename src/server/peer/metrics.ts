// Counters the transport keeps for /metrics and tests. Plain numbers: the
// transport increments them, metrics() hands out copies.

export interface PeerLinkMetrics {
  readonly up: boolean;
  readonly messagesSent: number;
  readonly bytesSent: number;
  readonly messagesReceived: number;
  readonly bytesReceived: number;
  /** Frames dropped because the send queue was full (or a frame alone exceeded it). */
  readonly drops: number;
  /** Times the link came up again after its first time. */
  readonly reconnects: number;
  readonly queuedMessages: number;
  readonly queuedBytes: number;
}

export interface PeerTransportMetrics {
  readonly peers: ReadonlyMap<number, PeerLinkMetrics>;
  /** Handshakes refused: bad proof, wrong cluster or version, unknown node, or traffic before authenticating. */
  readonly authFailures: number;
  /** Authenticated peers that sent undecodable or misaddressed frames (their link is closed). */
  readonly protocolErrors: number;
  readonly handshakeTimeouts: number;
  /** Outbound connection attempts, first ones included. */
  readonly dialAttempts: number;
}

export class MutableLinkCounters {
  messagesSent = 0;
  bytesSent = 0;
  messagesReceived = 0;
  bytesReceived = 0;
  drops = 0;
  linkUps = 0;
}
