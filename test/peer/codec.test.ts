import { describe, expect, test } from 'vitest';
import { EntryType, type Message, MessageType, message as consensusMessage } from '../../src/consensus/types.js';
import { DEFAULT_PEER_DECODE_LIMITS, type PeerFrame, PeerProtocolError, decodePeerFrame, encodePeerFrame } from '../../src/server/peer/index.js';
import { seeded } from '../support/seeded.js';

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

/** A heartbeat 1 -> 2 at term 0 unless `over` says otherwise (the core's own constructor fills the rest). */
function message(over: Partial<Message>): Message {
  return consensusMessage({ type: MessageType.Heartbeat, from: 1, to: 2, term: 0, ...over });
}

const MESSAGES: Message[] = [
  message({
    type: MessageType.Append,
    term: 7,
    logTerm: 6,
    index: 2 ** 40,
    commit: 2 ** 40 - 3,
    entries: [
      { term: 7, index: 2 ** 40 + 1, type: EntryType.Normal, data: bytes(1, 2, 3) },
      { term: 7, index: 2 ** 40 + 2, type: EntryType.ConfChange, data: bytes() },
      { term: 7, index: 2 ** 40 + 3, type: EntryType.NoOp, data: bytes(9) },
    ],
  }),
  message({ type: MessageType.AppendResponse, from: 2, to: 1, term: 7, index: 99, reject: true, rejectHint: 42, logTerm: 5 }),
  message({ type: MessageType.Vote, term: 8, logTerm: 7, index: 100, transfer: true }),
  message({ type: MessageType.VoteResponse, term: 8, reject: true }),
  message({ type: MessageType.PreVote, term: 9, logTerm: 7, index: 100 }),
  message({ type: MessageType.PreVoteResponse, term: 9 }),
  message({ type: MessageType.Heartbeat, term: 9, commit: 50, context: bytes(4, 5) }),
  message({ type: MessageType.Heartbeat, term: 9, commit: 50, context: bytes() }),
  message({ type: MessageType.HeartbeatResponse, term: 9, context: null }),
  message({
    type: MessageType.Snapshot,
    term: 9,
    index: 500,
    snapshot: { meta: { index: 500, term: 8, membership: { voters: [1, 2, 3], learners: [4] } }, offset: 65536, data: bytes(7, 7, 7), totalBytes: 1 << 20 },
  }),
  message({
    type: MessageType.Snapshot,
    snapshot: { meta: { index: 1, term: 1, membership: { voters: [], learners: [] } }, offset: 0, data: bytes(), totalBytes: 0 },
  }),
  message({ type: MessageType.SnapshotResponse, term: 9, index: 500, offset: 131072 }),
  message({ type: MessageType.TimeoutNow, term: 10 }),
  message({ type: MessageType.ReadIndex, term: 10, context: bytes(0xff) }),
  message({ type: MessageType.ReadIndexResponse, term: 10, index: 77, context: bytes(0xfe) }),
  message({ type: MessageType.Commit, term: 10, index: 77, logTerm: 9, commit: 76 }),
];

const FRAMES: PeerFrame[] = [
  { kind: 'challenge', nonce: new Uint8Array(32).fill(1) },
  { kind: 'hello', protocolVersion: 1, clusterId: 'prod-east', from: 1, to: 3, nonce: new Uint8Array(32).fill(2), proof: new Uint8Array(32).fill(3) },
  { kind: 'helloAck', from: 3, to: 1, proof: new Uint8Array(32).fill(4) },
  { kind: 'forward', id: 2n ** 64n - 1n, payload: bytes(1, 2, 3) },
  { kind: 'forward', id: 0n, payload: bytes() },
  ...MESSAGES.map((m): PeerFrame => ({ kind: 'raft', message: m })),
];

describe('peer codec', () => {
  test('every message type is covered', () => {
    const types = new Set(MESSAGES.map((m) => m.type));
    expect([...types].sort((a, b) => a - b)).toEqual(Object.values(MessageType).sort((a, b) => a - b));
  });

  test.each(FRAMES.map((f, i) => [i, f.kind, f] as const))('round trip %i (%s)', (_i, _kind, frame) => {
    expect(decodePeerFrame(encodePeerFrame(frame))).toEqual(frame);
  });

  test('decoded bytes are copies, not views of the frame', () => {
    const encoded = encodePeerFrame({ kind: 'forward', id: 1n, payload: bytes(5, 6) });
    const decoded = decodePeerFrame(encoded);
    encoded.fill(0);
    expect(decoded).toEqual({ kind: 'forward', id: 1n, payload: bytes(5, 6) });
  });

  test('limits: too many entries, oversize frame, u64 past 2^53', () => {
    const many = message({ type: MessageType.Append, entries: Array.from({ length: 5 }, (_, i) => ({ term: 1, index: i + 1, type: EntryType.Normal, data: bytes() })) });
    const encoded = encodePeerFrame({ kind: 'raft', message: many });
    expect(() => decodePeerFrame(encoded, { ...DEFAULT_PEER_DECODE_LIMITS, maxEntriesPerMessage: 4 })).toThrow(PeerProtocolError);
    expect(() => decodePeerFrame(encoded, { ...DEFAULT_PEER_DECODE_LIMITS, maxFrameBytes: encoded.length - 1 })).toThrow(PeerProtocolError);
    expect(() => encodePeerFrame({ kind: 'raft', message: message({ term: 2 ** 53 }) })).toThrow(RangeError);
  });

  test('an unknown raft message type or entry type is refused', () => {
    const bad = encodePeerFrame({ kind: 'raft', message: message({ type: 99 as MessageType }) });
    expect(() => decodePeerFrame(bad)).toThrow(/unknown raft message type/);
    const badEntry = encodePeerFrame({ kind: 'raft', message: message({ type: MessageType.Append, entries: [{ term: 1, index: 1, type: 200, data: bytes() }] }) });
    expect(() => decodePeerFrame(badEntry)).toThrow(/unknown entry type/);
  });

  test('damaged and random frames only ever raise PeerProtocolError', () => {
    const originals = FRAMES.map((f) => encodePeerFrame(f));
    seeded(7, (rng) => {
      const check = (input: Uint8Array): void => {
        try {
          decodePeerFrame(input);
        } catch (error) {
          if (!(error instanceof PeerProtocolError)) throw new Error(`non-protocol error ${String(error)} for ${Buffer.from(input).toString('hex')}`);
        }
      };
      for (let round = 0; round < 4000; round++) {
        const original = originals[rng.int(originals.length)]!;
        const damaged = original.slice();
        const flips = 1 + rng.int(4);
        for (let i = 0; i < flips; i++) damaged[rng.int(damaged.length)] = rng.nextUint32() & 0xff;
        check(damaged);
        check(damaged.subarray(0, rng.int(damaged.length + 1)));
        check(rng.bytes(rng.int(64)));
      }
    });
  });
});
