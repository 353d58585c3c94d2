import { describe, expect, test } from 'vitest';
import { NONCE_BYTES, computeProof, newNonce, secretBytes, verifyProof } from '../../src/server/peer/auth.js';
import { backoffDelayMs as reconnectDelayMs } from '../../src/util/backoff.js';
import { SendQueue } from '../../src/server/peer/send-queue.js';
import { isUrgent } from '../../src/server/peer/transport.js';
import { EntryType, MessageType, type Message } from '../../src/consensus/index.js';

const frame = (n: number, droppable = true, size = 10) => ({ bytes: new Uint8Array(size).fill(n), droppable });

describe('SendQueue', () => {
  test('by count: drops the oldest droppable frame, keeps snapshot chunks', () => {
    const q = new SendQueue({ maxQueuedMessages: 3, maxQueuedBytes: 1000 });
    expect(q.push(frame(1, false))).toBe(0);
    expect(q.push(frame(2))).toBe(0);
    expect(q.push(frame(3))).toBe(0);
    expect(q.push(frame(4))).toBe(1);
    expect([q.shift(), q.shift(), q.shift()].map((f) => f!.bytes[0])).toEqual([1, 3, 4]);
    expect(q.length).toBe(0);
    expect(q.bytes).toBe(0);
  });

  test('by bytes, and a frame that cannot fit is itself dropped', () => {
    const q = new SendQueue({ maxQueuedMessages: 100, maxQueuedBytes: 25 });
    q.push(frame(1));
    q.push(frame(2));
    expect(q.push(frame(3))).toBe(1);
    expect(q.bytes).toBe(20);
    expect(q.push(frame(4, true, 26))).toBe(1);
    const full = new SendQueue({ maxQueuedMessages: 2, maxQueuedBytes: 100 });
    full.push(frame(1, false));
    full.push(frame(2, false));
    expect(full.push(frame(3))).toBe(1);
    expect(full.length).toBe(2);
  });
});

describe('SendQueue lanes', () => {
  const urgent = (n: number) => ({ ...frame(n), urgent: true });

  test('an urgent frame (a heartbeat) leaves before bulk frames queued earlier; each lane keeps its order', () => {
    const q = new SendQueue({ maxQueuedMessages: 100, maxQueuedBytes: 10_000 });
    q.push(frame(1, false, 1000)); // a snapshot chunk
    q.push(frame(2, true, 1000)); // an append with entries
    q.push(urgent(3));
    q.push(frame(4));
    q.push(urgent(5));
    expect(q.peek()!.bytes[0]).toBe(3);
    expect(Array.from({ length: 5 }, () => q.shift()!.bytes[0])).toEqual([3, 5, 1, 2, 4]);
    expect(q.bytes).toBe(0);
  });

  test('when full, bulk frames are evicted before urgent ones', () => {
    const q = new SendQueue({ maxQueuedMessages: 3, maxQueuedBytes: 1000 });
    q.push(urgent(1));
    q.push(frame(2));
    q.push(frame(3));
    expect(q.push(urgent(4))).toBe(1);
    expect(Array.from({ length: 3 }, () => q.shift()!.bytes[0])).toEqual([1, 4, 3]);
  });
});

describe('which peer messages are urgent', () => {
  const base = { from: 1, to: 2, term: 3, logTerm: 0, index: 0, commit: 0, reject: false, rejectHint: 0, context: new Uint8Array(0), snapshot: null };
  test('heartbeats, votes and acknowledgements are; appends (even entry-less: they must not overtake one in flight), commit notices (they name an entry an earlier append carried) and snapshot chunks are not', () => {
    const entry = { term: 3, index: 1, type: EntryType.Normal, data: new Uint8Array(1) };
    const urgentTypes = [MessageType.Heartbeat, MessageType.HeartbeatResponse, MessageType.Vote, MessageType.VoteResponse, MessageType.PreVote, MessageType.PreVoteResponse, MessageType.AppendResponse, MessageType.TimeoutNow, MessageType.ReadIndex, MessageType.ReadIndexResponse, MessageType.SnapshotResponse];
    for (const type of urgentTypes) expect(isUrgent({ ...base, type, entries: [] } as unknown as Message)).toBe(true);
    expect(isUrgent({ ...base, type: MessageType.Append, entries: [] } as unknown as Message)).toBe(false);
    expect(isUrgent({ ...base, type: MessageType.Append, entries: [entry] } as unknown as Message)).toBe(false);
    expect(isUrgent({ ...base, type: MessageType.Snapshot, entries: [] } as unknown as Message)).toBe(false);
    expect(isUrgent({ ...base, type: MessageType.Commit, entries: [] } as unknown as Message)).toBe(false);
  });
});

describe('auth', () => {
  const secret = secretBytes('0123456789abcdef-secret');
  const input = { role: 'hello' as const, clusterId: 'c', from: 1, to: 2, acceptorNonce: newNonce(), dialerNonce: newNonce() };

  test('a proof verifies only for the same secret, role, ids, cluster and nonces', () => {
    const proof = computeProof(secret, input);
    expect(verifyProof(secret, input, proof)).toBe(true);
    expect(verifyProof(secretBytes('another-secret-of-16+'), input, proof)).toBe(false);
    expect(verifyProof(secret, { ...input, role: 'ack' }, proof)).toBe(false);
    expect(verifyProof(secret, { ...input, from: 3 }, proof)).toBe(false);
    expect(verifyProof(secret, { ...input, clusterId: 'd' }, proof)).toBe(false);
    expect(verifyProof(secret, { ...input, acceptorNonce: newNonce() }, proof)).toBe(false);
    expect(verifyProof(secret, input, proof.subarray(0, 31))).toBe(false);
    expect(verifyProof(secret, { ...input, dialerNonce: new Uint8Array(NONCE_BYTES - 1) }, proof)).toBe(false);
  });

  test('short secrets are refused', () => {
    expect(() => secretBytes('short')).toThrow(RangeError);
  });
});

describe('backoff', () => {
  test('grows, is capped, and jitters within [ceiling/2, ceiling]', () => {
    const opts = (r: number) => ({ baseDelayMs: 10, maxDelayMs: 100, random: () => r });
    expect(reconnectDelayMs(0, opts(0))).toBe(5);
    expect(reconnectDelayMs(0, opts(0.999))).toBe(10);
    expect(reconnectDelayMs(3, opts(0))).toBe(40);
    expect(reconnectDelayMs(50, opts(0))).toBe(50);
    expect(reconnectDelayMs(50, opts(0.999))).toBe(100);
  });
});
