// The payloads of the peer transport's opaque Forward frames: a follower's write
// for the leader, the leader's answer, and the follower's batch of session pings.
// First byte = kind; the rest uses the tree's varint primitives.
import {
  ByteReader,
  ByteWriter,
  DecodeError,
  decodeWriteRequest,
  writeWriteRequest,
  type FailureCode,
  type RequestSession,
  type SessionRequest,
  type TreeOptions,
  type WriteRequest,
} from '../../tree/index.js';

export const ForwardKind = {
  Write: 1,
  Reply: 2,
  Pings: 3,
  /** Follower -> leader: a session (re)attached to the sender; writes for it from elsewhere are now stale. */
  Attach: 4,
} as const;

/** The leader's answer to a forwarded write. */
export type ForwardReply =
  /** In the log at (index, term): the follower answers once it applied that entry. */
  | { readonly kind: 'proposed'; readonly index: number; readonly term: number }
  /** Refused by prepare: the answer is final. A refused multi carries where it failed. */
  | { readonly kind: 'rejected'; readonly error: FailureCode; readonly multi: { readonly count: number; readonly failedAt: number } | null }
  /** The receiver is not (or no longer) the leader: nothing was proposed. */
  | { readonly kind: 'unavailable'; readonly leader: number };

export type ForwardMessage =
  | { readonly kind: 'write'; readonly write: SessionRequest }
  | { readonly kind: 'reply'; readonly reply: ForwardReply }
  | { readonly kind: 'pings'; readonly sessionIds: readonly number[] }
  | { readonly kind: 'attach'; readonly sessionId: number };

const REPLY = { proposed: 0, rejected: 1, unavailable: 2 } as const;

/** Reused by every encode here (single-threaded); each result is a copy of exactly the bytes written. */
let scratch = new ByteWriter(4096);
const SCRATCH_KEEP_BYTES = 1 << 20;

function finish(w: ByteWriter): Uint8Array {
  const out = w.bytes().slice();
  // Do not keep a huge buffer around after one huge forwarded write.
  if (w.capacity > SCRATCH_KEEP_BYTES) scratch = new ByteWriter(4096);
  return out;
}

function start(kind: number): ByteWriter {
  scratch.reset();
  scratch.u8(kind);
  return scratch;
}

export function encodeForwardWrite(session: RequestSession, request: WriteRequest): Uint8Array {
  const w = start(ForwardKind.Write);
  writeWriteRequest(w, session, request);
  return finish(w);
}

export function encodeForwardReply(reply: ForwardReply): Uint8Array {
  const w = start(ForwardKind.Reply);
  switch (reply.kind) {
    case 'proposed':
      w.u8(REPLY.proposed);
      w.uvar(reply.index);
      w.uvar(reply.term);
      break;
    case 'rejected':
      w.u8(REPLY.rejected);
      w.svar(reply.error);
      w.uvar(reply.multi === null ? 0 : reply.multi.count + 1);
      if (reply.multi !== null) w.uvar(reply.multi.failedAt);
      break;
    case 'unavailable':
      w.u8(REPLY.unavailable);
      w.uvar(reply.leader);
      break;
  }
  return finish(w);
}

export function encodeForwardPings(sessionIds: readonly number[]): Uint8Array {
  const w = start(ForwardKind.Pings);
  w.uvar(sessionIds.length);
  for (const id of sessionIds) w.uvar(id);
  return finish(w);
}

export function encodeForwardAttach(sessionId: number): Uint8Array {
  const w = start(ForwardKind.Attach);
  w.uvar(sessionId);
  return finish(w);
}

/** Decodes a forward payload; throws DecodeError on anything malformed. */
export function decodeForward(bytes: Uint8Array, options: TreeOptions, maxPings: number): ForwardMessage {
  if (bytes.byteLength === 0) throw new DecodeError('empty forward payload');
  switch (bytes[0]) {
    case ForwardKind.Write:
      return { kind: 'write', write: decodeWriteRequest(bytes, options, 1) };
    case ForwardKind.Reply: {
      const r = new ByteReader(bytes, 1);
      const kind = r.u8();
      let reply: ForwardReply;
      if (kind === REPLY.proposed) reply = { kind: 'proposed', index: r.uvar(), term: r.uvar() };
      else if (kind === REPLY.rejected) {
        const error = r.svar() as FailureCode;
        const countPlusOne = r.uvar();
        reply = { kind: 'rejected', error, multi: countPlusOne === 0 ? null : { count: countPlusOne - 1, failedAt: r.uvar() } };
      } else if (kind === REPLY.unavailable) reply = { kind: 'unavailable', leader: r.uvar() };
      else throw new DecodeError(`unknown forward reply kind ${kind}`);
      if (r.remaining !== 0) throw new DecodeError('trailing bytes in a forward reply');
      return { kind: 'reply', reply };
    }
    case ForwardKind.Pings: {
      const r = new ByteReader(bytes, 1);
      const count = r.uvar();
      if (count > maxPings) throw new DecodeError(`${count} session pings in one batch (limit ${maxPings})`);
      const sessionIds: number[] = [];
      for (let i = 0; i < count; i++) sessionIds.push(r.uvar());
      if (r.remaining !== 0) throw new DecodeError('trailing bytes in a ping batch');
      return { kind: 'pings', sessionIds };
    }
    case ForwardKind.Attach: {
      const r = new ByteReader(bytes, 1);
      const sessionId = r.uvar();
      if (r.remaining !== 0) throw new DecodeError('trailing bytes in an attach');
      return { kind: 'attach', sessionId };
    }
    default:
      throw new DecodeError(`unknown forward kind ${bytes[0]}`);
  }
}
