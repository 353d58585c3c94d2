// Peer frames <-> FlatBuffers bytes (schema/peer.fbs). Decoding treats the bytes
// as hostile: the FlatBuffers TypeScript runtime has no verifier and reads garbage
// from a damaged buffer instead of failing, so every vector length is bounded by a
// limit and by the frame size, every union tag and enum checked, every u64 kept
// within the safe-integer range the consensus core uses, and any throw from the
// runtime becomes a PeerProtocolError. Byte fields are copied out because the
// frame is a view into the socket's read buffer, valid only during its callback.
import * as flatbuffers from 'flatbuffers';
import * as fb from '../../../schema/generated/peer_generated.js';
import { EntryType, MessageType } from '../../consensus/types.js';
import type { Entry, Membership, Message, SnapshotChunk } from '../../consensus/types.js';
import { DEFAULT_PEER_DECODE_LIMITS, type PeerDecodeLimits, type PeerFrame } from './frames.js';

/** Bytes from a peer that are not a valid frame. The link that sent them is closed. */
export class PeerProtocolError extends Error {
  override name = 'PeerProtocolError';
}

// ---------------------------------------------------------------- encode

type Builder = flatbuffers.Builder;
type Offset = flatbuffers.Offset;

/** Encodes with BigInt, refusing what a u64 cannot hold (a caller bug, not bad input). */
function u64(n: number, what: string): bigint {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a non-negative safe integer, got ${n}`);
  return BigInt(n);
}

function u32(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) throw new RangeError(`${what} must be a u32, got ${n}`);
  return n;
}

// Byte vectors go in with createByteVector (one copy): the generated create*Vector
// helpers add one byte at a time, which for a 256 KiB snapshot chunk is 256 Ki calls.
function entry(b: Builder, e: Entry): Offset {
  const data = b.createByteVector(e.data);
  return fb.Entry.createEntry(b, u64(e.term, 'entry term'), u64(e.index, 'entry index'), e.type, data);
}

function membership(b: Builder, m: Membership): Offset {
  const voters = fb.Membership.createVotersVector(b, m.voters.map((id) => u32(id, 'voter')));
  const learners = fb.Membership.createLearnersVector(b, m.learners.map((id) => u32(id, 'learner')));
  return fb.Membership.createMembership(b, voters, learners);
}

function snapshotChunk(b: Builder, s: SnapshotChunk): Offset {
  const members = membership(b, s.meta.membership);
  fb.SnapshotMeta.startSnapshotMeta(b);
  fb.SnapshotMeta.addIndex(b, u64(s.meta.index, 'snapshot index'));
  fb.SnapshotMeta.addTerm(b, u64(s.meta.term, 'snapshot term'));
  fb.SnapshotMeta.addMembership(b, members);
  const meta = fb.SnapshotMeta.endSnapshotMeta(b);
  const data = b.createByteVector(s.data);
  return fb.SnapshotChunk.createSnapshotChunk(b, meta, u64(s.offset, 'snapshot offset'), data, u64(s.totalBytes, 'snapshot total bytes'));
}

function raftMessage(b: Builder, m: Message): Offset {
  const entries = m.entries.length === 0 ? 0 : fb.RaftMessage.createEntriesVector(b, m.entries.map((e) => entry(b, e)));
  const context = m.context === null ? 0 : b.createByteVector(m.context);
  const snapshot = m.snapshot === null ? 0 : snapshotChunk(b, m.snapshot);
  fb.RaftMessage.startRaftMessage(b);
  fb.RaftMessage.addType(b, m.type);
  fb.RaftMessage.addFrom(b, u32(m.from, 'from'));
  fb.RaftMessage.addTo(b, u32(m.to, 'to'));
  fb.RaftMessage.addTerm(b, u64(m.term, 'term'));
  fb.RaftMessage.addLogTerm(b, u64(m.logTerm, 'logTerm'));
  fb.RaftMessage.addIndex(b, u64(m.index, 'index'));
  if (entries !== 0) fb.RaftMessage.addEntries(b, entries);
  fb.RaftMessage.addCommit(b, u64(m.commit, 'commit'));
  fb.RaftMessage.addReject(b, m.reject);
  fb.RaftMessage.addRejectHint(b, u64(m.rejectHint, 'rejectHint'));
  if (context !== 0) fb.RaftMessage.addContext(b, context);
  fb.RaftMessage.addTransfer(b, m.transfer);
  if (snapshot !== 0) fb.RaftMessage.addSnapshot(b, snapshot);
  fb.RaftMessage.addOffset(b, u64(m.offset, 'offset'));
  return fb.RaftMessage.endRaftMessage(b);
}

function body(b: Builder, frame: PeerFrame): [fb.PeerMessage, Offset] {
  switch (frame.kind) {
    case 'challenge':
      return [fb.PeerMessage.Challenge, fb.Challenge.createChallenge(b, b.createByteVector(frame.nonce))];
    case 'hello': {
      const clusterId = b.createString(frame.clusterId);
      const nonce = b.createByteVector(frame.nonce);
      const proof = b.createByteVector(frame.proof);
      return [
        fb.PeerMessage.Hello,
        fb.Hello.createHello(b, frame.protocolVersion, clusterId, u32(frame.from, 'from'), u32(frame.to, 'to'), nonce, proof),
      ];
    }
    case 'helloAck': {
      const proof = b.createByteVector(frame.proof);
      return [fb.PeerMessage.HelloAck, fb.HelloAck.createHelloAck(b, u32(frame.from, 'from'), u32(frame.to, 'to'), proof)];
    }
    case 'raft':
      return [fb.PeerMessage.RaftMessage, raftMessage(b, frame.message)];
    case 'forward': {
      if (frame.id < 0n || frame.id >= 1n << 64n) throw new RangeError(`forward id must be a u64, got ${frame.id}`);
      const payload = b.createByteVector(frame.payload);
      return [fb.PeerMessage.Forward, fb.Forward.createForward(b, frame.id, payload)];
    }
  }
}

/**
 * One builder for every frame: a frame waits in a send queue, so its bytes are
 * copied out, but a builder of its own per frame (and its growth) cost an
 * ArrayBuffer each, and their allocation and sweeping were a visible share of a
 * server's CPU under writes. Small copies come from Node's buffer pool.
 */
const SHARED_BUILDER_BYTES = 64 * 1024;
let shared = new flatbuffers.Builder(SHARED_BUILDER_BYTES);

/** Encodes one frame. Throws RangeError for values the wire cannot carry (a caller bug). */
export function encodePeerFrame(frame: PeerFrame): Uint8Array {
  const b = shared;
  b.clear();
  try {
    const [type, offset] = body(b, frame);
    b.finish(fb.PeerFrame.createPeerFrame(b, type, offset));
  } catch (error) {
    b.clear();
    throw error;
  }
  const out = Buffer.from(b.asUint8Array());
  // A snapshot chunk grew it: do not keep megabytes around for small frames.
  if (b.dataBuffer().capacity() > 16 * SHARED_BUILDER_BYTES) shared = new flatbuffers.Builder(SHARED_BUILDER_BYTES);
  return out;
}

// ---------------------------------------------------------------- decode

/** Smallest encoded frame: root offset plus a table's vtable offset. */
const MIN_FRAME_BYTES = 8;
const MESSAGE_TYPES = new Set<number>(Object.values(MessageType));
const ENTRY_TYPES = new Set<number>(Object.values(EntryType));
const EMPTY = new Uint8Array(0);

class Reader {
  constructor(
    private readonly bb: flatbuffers.ByteBuffer,
    readonly limits: PeerDecodeLimits,
  ) {}

  /** A vector length, bounded by `max` and by what the frame could hold (`minBytesEach` an element). */
  count(length: number, max: number, minBytesEach: number, what: string): number {
    if (!Number.isInteger(length) || length < 0) throw new PeerProtocolError(`bad ${what} length`);
    if (length > max) throw new PeerProtocolError(`too many ${what}: ${length} > ${max}`);
    if (length * minBytesEach > this.bb.capacity()) throw new PeerProtocolError(`${what} length ${length} runs past the frame`);
    return length;
  }

  /** Copies a byte vector out; a null view (absent field) is empty. */
  bytes(view: Uint8Array | null, max: number, what: string): Uint8Array {
    if (view === null) return EMPTY;
    this.count(view.length, max, 1, what);
    return view.slice();
  }

  safe(value: bigint, what: string): number {
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new PeerProtocolError(`${what} ${value} is past 2^53 - 1`);
    return Number(value);
  }

  ids(length: number, at: (i: number) => number | null, what: string): number[] {
    const n = this.count(length, this.limits.maxMembers, 4, what);
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const id = at(i);
      if (id === null) throw new PeerProtocolError(`missing ${what} entry`);
      out.push(id);
    }
    return out;
  }
}

function table<T>(value: T | null, what: string): T {
  if (value === null) throw new PeerProtocolError(`missing ${what}`);
  return value;
}

function entries(r: Reader, m: fb.RaftMessage): Entry[] {
  // An Entry table is at least 4 bytes of offset plus its own vtable/fields.
  const n = r.count(m.entriesLength(), r.limits.maxEntriesPerMessage, 8, 'entries');
  const out: Entry[] = [];
  const holder = new fb.Entry();
  for (let i = 0; i < n; i++) {
    const e = table(m.entries(i, holder), 'entry');
    const type = e.type();
    if (!ENTRY_TYPES.has(type)) throw new PeerProtocolError(`unknown entry type ${type}`);
    out.push({
      term: r.safe(e.term(), 'entry term'),
      index: r.safe(e.index(), 'entry index'),
      type,
      data: r.bytes(e.dataArray(), r.limits.maxFrameBytes, 'entry data'),
    });
  }
  return out;
}

function snapshot(r: Reader, s: fb.SnapshotChunk): SnapshotChunk {
  const meta = table(s.meta(), 'snapshot meta');
  const m = table(meta.membership(), 'snapshot membership');
  const voters = r.ids(m.votersLength(), (i) => m.voters(i), 'voters');
  const learners = r.ids(m.learnersLength(), (i) => m.learners(i), 'learners');
  if (voters.length + learners.length > r.limits.maxMembers) throw new PeerProtocolError('too many members');
  return {
    meta: { index: r.safe(meta.index(), 'snapshot index'), term: r.safe(meta.term(), 'snapshot term'), membership: { voters, learners } },
    offset: r.safe(s.offset(), 'snapshot offset'),
    data: r.bytes(s.dataArray(), r.limits.maxFrameBytes, 'snapshot data'),
    totalBytes: r.safe(s.totalBytes(), 'snapshot total bytes'),
  };
}

function readRaftMessage(r: Reader, m: fb.RaftMessage): Message {
  const type = m.type();
  if (!MESSAGE_TYPES.has(type)) throw new PeerProtocolError(`unknown raft message type ${type}`);
  const s = m.snapshot();
  return {
    type: type as MessageType,
    from: m.from(),
    to: m.to(),
    term: r.safe(m.term(), 'term'),
    logTerm: r.safe(m.logTerm(), 'logTerm'),
    index: r.safe(m.index(), 'index'),
    entries: entries(r, m),
    commit: r.safe(m.commit(), 'commit'),
    reject: m.reject(),
    rejectHint: r.safe(m.rejectHint(), 'rejectHint'),
    // Absent means null: Heartbeats without a read context differ from an empty context.
    context: m.contextArray() === null ? null : r.bytes(m.contextArray(), r.limits.maxFrameBytes, 'context'),
    transfer: m.transfer(),
    snapshot: s === null ? null : snapshot(r, s),
    offset: r.safe(m.offset(), 'offset'),
  };
}

function frame(r: Reader, f: fb.PeerFrame): PeerFrame {
  const handshake = r.limits.maxHandshakeFieldBytes;
  switch (f.messageType()) {
    case fb.PeerMessage.Challenge: {
      const c = table(f.message(new fb.Challenge()) as fb.Challenge | null, 'challenge');
      return { kind: 'challenge', nonce: r.bytes(c.nonceArray(), handshake, 'nonce') };
    }
    case fb.PeerMessage.Hello: {
      const h = table(f.message(new fb.Hello()) as fb.Hello | null, 'hello');
      const clusterId = h.clusterId() ?? '';
      if (clusterId.length > r.limits.maxClusterIdChars) throw new PeerProtocolError('cluster id too long');
      return {
        kind: 'hello',
        protocolVersion: h.protocolVersion(),
        clusterId,
        from: h.from(),
        to: h.to(),
        nonce: r.bytes(h.nonceArray(), handshake, 'nonce'),
        proof: r.bytes(h.proofArray(), handshake, 'proof'),
      };
    }
    case fb.PeerMessage.HelloAck: {
      const a = table(f.message(new fb.HelloAck()) as fb.HelloAck | null, 'hello ack');
      return { kind: 'helloAck', from: a.from(), to: a.to(), proof: r.bytes(a.proofArray(), handshake, 'proof') };
    }
    case fb.PeerMessage.RaftMessage:
      return { kind: 'raft', message: readRaftMessage(r, table(f.message(new fb.RaftMessage()) as fb.RaftMessage | null, 'raft message')) };
    case fb.PeerMessage.Forward: {
      const w = table(f.message(new fb.Forward()) as fb.Forward | null, 'forward');
      return { kind: 'forward', id: w.id(), payload: r.bytes(w.payloadArray(), r.limits.maxFrameBytes, 'payload') };
    }
    default:
      throw new PeerProtocolError(`unknown peer message type ${f.messageType()}`);
  }
}

/** Decodes bytes from a peer. Throws PeerProtocolError, and only that, for anything malformed or over a limit. */
export function decodePeerFrame(bytes: Uint8Array, limits: PeerDecodeLimits = DEFAULT_PEER_DECODE_LIMITS): PeerFrame {
  if (bytes.length < MIN_FRAME_BYTES) throw new PeerProtocolError(`frame of ${bytes.length} bytes is too short`);
  if (bytes.length > limits.maxFrameBytes) throw new PeerProtocolError(`frame of ${bytes.length} bytes is over maxFrameBytes ${limits.maxFrameBytes}`);
  try {
    const bb = new flatbuffers.ByteBuffer(bytes);
    return frame(new Reader(bb, limits), fb.PeerFrame.getRootAsPeerFrame(bb));
  } catch (error) {
    if (error instanceof PeerProtocolError) throw error;
    throw new PeerProtocolError(`malformed frame: ${error instanceof Error ? error.message : String(error)}`);
  }
}
