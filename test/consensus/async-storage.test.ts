// The core's asyncStorageWrites mode: Readies follow each other while entry
// writes are outstanding, and persisted(index, term) says what is durable.
// Each test holds some disks slow (their writes stay outstanding) to show what
// may and may not happen before the write completes.
import { describe, expect, it } from 'vitest';
import { MessageType, Role, message } from './support.js';
import { Harness, bytes } from './harness.js';

function cluster(): Harness {
  const h = new Harness([1, 2, 3], { asyncStorageWrites: true });
  h.elect(1);
  expect(h.leaders()).toEqual([1]);
  return h;
}

const appendsTo = (h: Harness, mark: number, to: number) =>
  h.sentSince(mark, (m) => m.type === MessageType.Append && m.from === 1 && m.to === to && m.entries.length > 0);

describe('async storage writes', () => {
  it('a leader sends new entries to its followers while its own write of earlier ones is outstanding', () => {
    const h = cluster();
    h.slowDisks.add(1);
    h.isolate(2, 3); // keep the appends in flight: only what the leader sends matters here
    const mark = h.sent.length;
    h.node(1).propose(bytes('a'));
    h.settle();
    h.node(1).propose(bytes('b'));
    h.settle();
    expect(h.diskQueue.get(1)?.length).toBe(2); // neither write has completed
    const sent = appendsTo(h, mark, 2).flatMap((m) => m.entries.map((e) => new TextDecoder().decode(e.data)));
    expect(sent).toEqual(['a', 'b']);
  });

  it('a follower acknowledges entries only once persisted() covers them', () => {
    const h = cluster();
    h.slowDisks.add(2);
    const mark = h.sent.length;
    const { index } = h.node(1).propose(bytes('a'));
    h.settle();
    const acks = () => h.sentSince(mark, (m) => m.type === MessageType.AppendResponse && m.from === 2 && !m.reject && m.index >= index);
    expect(acks()).toHaveLength(0);
    h.completeWrites(2);
    h.settle();
    expect(acks().length).toBeGreaterThan(0);
  });

  it('two followers durable commit an entry while the leader’s own write is still outstanding', () => {
    const h = cluster();
    h.slowDisks.add(1);
    const { index } = h.node(1).propose(bytes('a'));
    h.settle();
    expect(h.node(1).commitIndex).toBeGreaterThanOrEqual(index);
    expect(h.diskQueue.get(1)?.some((w) => w.some((e) => e.index === index))).toBe(true);
  });

  it('the leader counts itself toward the quorum only once its own write is durable', () => {
    const h = cluster();
    h.slowDisks.add(1);
    h.slowDisks.add(3);
    const { index } = h.node(1).propose(bytes('a'));
    h.settle();
    // Follower 2 is durable, the leader and follower 3 are not: one of three.
    expect(h.node(1).commitIndex).toBeLessThan(index);
    h.completeWrites(1);
    h.settle();
    expect(h.node(1).commitIndex).toBeGreaterThanOrEqual(index);
  });

  it('persisted() naming an entry the log no longer holds (another term) is ignored', () => {
    const h = cluster();
    h.slowDisks.add(2);
    const mark = h.sent.length;
    const { index, term } = h.node(1).propose(bytes('a'));
    h.settle();
    h.node(2).persisted(index, term + 1); // not the entry at that index
    h.settle();
    expect(h.sentSince(mark, (m) => m.type === MessageType.AppendResponse && m.from === 2 && !m.reject && m.index >= index)).toHaveLength(0);
  });

  it('the commit index a node records never passes its durable log', () => {
    const h = cluster();
    h.slowDisks.add(3);
    const { index } = h.node(1).propose(bytes('a'));
    h.settle();
    h.tickAll(1); // the heartbeat tells follower 3 the entry is committed
    expect(h.node(3).commitIndex).toBeGreaterThanOrEqual(index);
    expect(h.node(3).hardState().commit).toBeLessThan(index);
    expect(h.storage.get(3)?.hardState.commit ?? 0).toBeLessThan(index);
    h.completeWrites(3);
    h.settle();
    h.tickAll(1);
    expect(h.node(3).hardState().commit).toBeGreaterThanOrEqual(index);
  });

  it('a follower restarted before its write completed loses the entry but applies nothing wrong', () => {
    const h = cluster();
    h.slowDisks.add(3);
    const { index } = h.node(1).propose(bytes('a'));
    h.settle();
    h.tickAll(1);
    h.restart(3); // its outstanding write is gone with the process
    h.slowDisks.delete(3);
    h.settle();
    h.tickAll(2);
    expect(h.node(3).currentRole).toBe(Role.Follower);
    expect(h.appliedData(3)).toEqual(['a']);
    expect(h.node(3).commitIndex).toBeGreaterThanOrEqual(index);
  });

  it('followers learn a new commit index from the leader at once, not with the next entries or heartbeat', () => {
    const h = cluster();
    const { index } = h.node(1).propose(bytes('a'));
    h.settle(); // no tick: only what the acknowledgements themselves set off
    for (const id of [2, 3]) expect(h.node(id).commitIndex).toBeGreaterThanOrEqual(index);
    expect(h.appliedData(2)).toEqual(['a']);
  });

  it('the commit index reaches a follower whose appends flow control holds back', () => {
    const h = new Harness([1, 2, 3], { asyncStorageWrites: true, limits: { maxInflightMsgs: 1 } });
    h.elect(1);
    h.slowDisks.add(1); // the leader's own write never counts here: commits need both followers
    h.slowDisks.add(3);
    const a = h.node(1).propose(bytes('a'));
    h.settle(); // 2 acknowledges 'a'; 3 holds it
    h.slowDisks.add(2);
    h.node(1).propose(bytes('b'));
    h.settle(); // 'b' is in flight to 2, unacknowledged: its appends are paused
    expect(h.node(2).commitIndex).toBeLessThan(a.index);
    h.completeWrites(3);
    h.settle(); // 3 acknowledges 'a': committed by 2 and 3
    expect(h.node(1).commitIndex).toBeGreaterThanOrEqual(a.index);
    expect(h.node(2).commitIndex).toBeGreaterThanOrEqual(a.index);
    expect(h.appliedData(2)).toEqual(['a']);
  });

  it('a follower applies a committed entry it holds while its own write of it is still outstanding', () => {
    const h = cluster();
    h.slowDisks.add(3);
    const { index } = h.node(1).propose(bytes('a'));
    h.settle(); // the leader and 2 have it on disk: committed; 3 has it in memory only
    expect(h.diskQueue.get(3)?.length).toBe(1);
    expect(h.node(3).commitIndex).toBeGreaterThanOrEqual(index);
    expect(h.appliedData(3)).toEqual(['a']);
  });

  it('a commit notice naming an entry the follower does not hold is ignored', () => {
    const h = cluster();
    const follower = h.node(2);
    const before = follower.commitIndex;
    follower.step(message({ type: MessageType.Commit, from: 1, to: 2, term: follower.currentTerm, index: follower.lastIndex + 5, logTerm: follower.currentTerm, commit: follower.lastIndex + 5 }));
    expect(follower.commitIndex).toBe(before);
    follower.step(message({ type: MessageType.Commit, from: 1, to: 2, term: follower.currentTerm, index: follower.lastIndex, logTerm: follower.currentTerm + 1, commit: follower.lastIndex }));
    expect(follower.commitIndex).toBe(before);
  });

  it('a commit notice asks for no reply: one acknowledgement per follower per write', () => {
    const h = cluster();
    const mark = h.sent.length;
    const { index } = h.node(1).propose(bytes('a'));
    h.settle();
    for (const id of [2, 3]) {
      expect(h.node(id).commitIndex).toBeGreaterThanOrEqual(index);
      expect(h.sentSince(mark, (m) => m.type === MessageType.Commit && m.to === id).length).toBeGreaterThan(0);
      expect(h.sentSince(mark, (m) => m.type === MessageType.AppendResponse && m.from === id)).toHaveLength(1);
    }
  });
});
