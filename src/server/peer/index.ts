// The peer transport: authenticated, bounded, reconnecting links between ensemble members.
export { PeerTransport } from './transport.js';
export type { PeerTransportOptions, PeerAddress, MessageHandler, ForwardHandler, PeerHandler } from './transport.js';
export type { PeerLinkMetrics, PeerTransportMetrics } from './metrics.js';
export { PeerProtocolError, decodePeerFrame, encodePeerFrame } from './codec.js';
export { DEFAULT_PEER_DECODE_LIMITS, PEER_PROTOCOL_VERSION } from './frames.js';
export type { PeerFrame, PeerDecodeLimits } from './frames.js';
export { computeProof, verifyProof, newNonce, secretBytes, NONCE_BYTES, PROOF_BYTES } from './auth.js';
