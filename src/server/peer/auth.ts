// Peer authentication with the ensemble's shared secret: a mutual challenge-response.
//
//   acceptor -> dialer   Challenge{nonceA}                      (fresh per link)
//   dialer   -> acceptor Hello{version, cluster, from D, to A, nonceD,
//                              proof = HMAC(secret, "hello" | cluster | D | A | nonceA | nonceD)}
//   acceptor -> dialer   HelloAck{from A, to D,
//                              proof = HMAC(secret, "ack" | cluster | A | D | nonceA | nonceD)}
//
// A stranger without the secret cannot produce either proof, so it can neither
// join (acceptor check) nor impersonate a node that others dial (dialer check).
// The acceptor's nonce is fresh on every link, so a recorded Hello fails on a new
// one; the distinct labels stop a node's own proof from being reflected back to it.
// Proofs are compared in constant time.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { assert } from '../../util/assert.js';

export const NONCE_BYTES = 32;
/** HMAC-SHA256 output. */
export const PROOF_BYTES = 32;
/** Shorter secrets are refused: the secret is the whole of the ensemble's peer security. */
export const MIN_SECRET_BYTES = 16;

export type ProofRole = 'hello' | 'ack';

export interface ProofInput {
  readonly role: ProofRole;
  readonly clusterId: string;
  /** The node that computes the proof. */
  readonly from: number;
  /** The node it proves itself to. */
  readonly to: number;
  readonly acceptorNonce: Uint8Array;
  readonly dialerNonce: Uint8Array;
}

/** Normalises a configured secret to bytes, refusing one too short to be a secret. */
export function secretBytes(secret: string | Uint8Array): Uint8Array {
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  if (bytes.length < MIN_SECRET_BYTES) throw new RangeError(`peer secret must be at least ${MIN_SECRET_BYTES} bytes`);
  return bytes;
}

export function newNonce(): Uint8Array {
  return new Uint8Array(randomBytes(NONCE_BYTES));
}

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/** Length-prefixes every variable field so no two distinct inputs hash the same bytes. */
function field(h: ReturnType<typeof createHmac>, bytes: Uint8Array): void {
  h.update(u32(bytes.length));
  h.update(bytes);
}

export function computeProof(secret: Uint8Array, input: ProofInput): Uint8Array {
  assert(input.acceptorNonce.length === NONCE_BYTES && input.dialerNonce.length === NONCE_BYTES, () => 'proofs need two full nonces');
  const h = createHmac('sha256', secret);
  field(h, new TextEncoder().encode(`zook-peer-${input.role}`));
  field(h, new TextEncoder().encode(input.clusterId));
  h.update(u32(input.from));
  h.update(u32(input.to));
  field(h, input.acceptorNonce);
  field(h, input.dialerNonce);
  return new Uint8Array(h.digest());
}

/** Constant-time check of a received proof; false for wrong lengths or nonces too (never throws). */
export function verifyProof(secret: Uint8Array, input: ProofInput, proof: Uint8Array): boolean {
  if (proof.length !== PROOF_BYTES) return false;
  if (input.acceptorNonce.length !== NONCE_BYTES || input.dialerNonce.length !== NONCE_BYTES) return false;
  return timingSafeEqual(computeProof(secret, input), proof);
}
