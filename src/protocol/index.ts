// The client protocol: plain values (types.ts) and their FlatBuffers encoding.
// Shared by the client and the server; knows nothing of either.
export * from './types.js';
export { ErrorCode, errorName } from './error-codes.js';
export { encodeClientFrame, encodeServerFrame } from './encode.js';
export { decodeClientFrame, decodeServerFrame, ProtocolError, DEFAULT_DECODE_LIMITS } from './decode.js';
export type { DecodeLimits } from './decode.js';
