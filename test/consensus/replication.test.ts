import { describe, expect, it } from 'vitest';
import { type Entry, EntryType, MessageType, type PersistedState, ProposalDropped, Role, bootstrapState } from './support.js';
import { Harness, bytes } from './harness.js';

function logState(termOfEntries: number[], hardTerm: number, commit: number): PersistedState {
  const boot = bootstrapState([1, 2, 3]);
  const entries: Entry[] = [...boot.entries];
  for (const t of termOfEntries) entries.push({ term: t, index: entries.length + 1, type: EntryType.Normal, data: bytes(`t${t}`) });
  return { hardState: { term: hardTerm, vote: 0, commit }, snapshot: null, entries };
}

/** Three nodes whose logs diverge after the 3 bootstrap entries, as given. */
function divergent(logs: Record<number, number[]>, hardTerm: number, options = {}): Harness {
  const h = new Harness([1, 2, 3], options);
  for (const id of [1, 2, 3]) h.add(id, logState(logs[id] ?? [], hardTerm, 3));
  h.settle();
  return h;
}

describe('log replication', () => {
  it('a proposal commits on every node and is applied in order', () => {
    const h = new Harness([1, 2, 3]);
    h.elect(1);
    for (const s of ['a', 'b', 'c']) h.node(1).propose(bytes(s));
    h.settle();
    h.tickAll(1); // a heartbeat carries the final commit index
    for (const id of [1, 2, 3]) expect(h.appliedData(id)).toEqual(['a', 'b', 'c']);
  });

  it('the leader counts its own entries toward commit only once they are persisted', () => {
    const h = new Harness([1]);
    h.elect(1);
    const n = h.node(1);
    const { index } = n.propose(bytes('x'));
    const rd = n.ready();
    expect(rd.entries.map((e) => e.index)).toContain(index);
    expect(n.commitIndex).toBeLessThan(index);
    n.advance();
    expect(n.commitIndex).toBe(index);
  });

  it('a follower acknowledges entries only after persisting them', () => {
    const h = new Harness([1, 2]);
    h.elect(1);
    h.node(1).propose(bytes('x'));
    const rd1 = h.node(1).ready();
    h.node(1).advance();
    const follower = h.node(2);
    for (const m of rd1.messages) if (m.to === 2) follower.step(m);
    const rd2 = follower.ready();
    expect(rd2.entries.length).toBeGreaterThan(0);
    expect(rd2.messages.some((m) => m.type === MessageType.AppendResponse && !m.reject)).toBe(false);
    follower.advance();
    const rd3 = follower.ready();
    follower.advance();
    expect(rd3.messages.some((m) => m.type === MessageType.AppendResponse && !m.reject)).toBe(true);
  });

  it('a conflicting follower tail is repaired using the conflict term hint in few round trips', () => {
    // Node 3 holds 30 entries of a stale term 2; the leader (node 1) has term-3 entries there.
    const h = divergent({ 1: Array(30).fill(3), 2: Array(30).fill(3), 3: Array(30).fill(2) }, 3);
    h.elect(1);
    const mark = h.sent.length;
    h.node(1).propose(bytes('after'));
    h.settle();
    h.tickAll(2);
    const rejections = h.sentSince(0, (m) => m.type === MessageType.AppendResponse && m.reject && m.from === 3);
    expect(rejections.length).toBeLessThanOrEqual(3);
    expect(rejections[0].logTerm).toBe(2);
    expect(h.node(3).termAt(33)).toBe(3);
    expect(h.node(3).lastIndex).toBe(h.node(1).lastIndex);
    expect(mark).toBeGreaterThan(0);
  });

  it('a leader does not commit an entry of an earlier term by counting replicas (Figure 8)', () => {
    // Node 1 has index 4 from term 2, node 3 has index 4 from term 3. Node 1 wins term 4
    // with node 2's vote and copies index 4 to node 2, but its term-4 no-op never arrives.
    const h = divergent({ 1: [2], 3: [3] }, 3, { limits: { maxEntriesPerMsg: 1 } });
    h.filter = (m) =>
      m.to !== 3 && m.from !== 3 && !(m.type === MessageType.Append && h.node(2).lastIndex >= 4 && m.entries.some((e) => e.index >= 5));
    h.elect(1);
    expect(h.node(1).currentRole).toBe(Role.Leader);
    expect(h.node(2).termAt(4)).toBe(2); // a majority (1, 2) holds index 4
    expect(h.node(1).commitIndex).toBe(3);
  });

  it('the commit-previous-term broken variant does commit it (the switch the simulator must catch)', () => {
    const h = divergent({ 1: [2], 3: [3] }, 3, { limits: { maxEntriesPerMsg: 1 }, variant: 'commit-previous-term' });
    h.filter = (m) =>
      m.to !== 3 && m.from !== 3 && !(m.type === MessageType.Append && h.node(2).lastIndex >= 4 && m.entries.some((e) => e.index >= 5));
    h.elect(1);
    expect(h.node(1).commitIndex).toBe(4);
  });

  it('entries of earlier terms commit indirectly once a current-term entry commits', () => {
    const h = divergent({ 1: [2], 3: [3] }, 3, { limits: { maxEntriesPerMsg: 1 } });
    h.isolate(3);
    h.elect(1);
    expect(h.node(1).commitIndex).toBe(5);
    expect(h.node(1).termAt(4)).toBe(2);
  });

  it('several Appends are pipelined to a follower, bounded by maxInflightMsgs', () => {
    const h = new Harness([1, 2], { limits: { maxEntriesPerMsg: 1, maxInflightMsgs: 4 } });
    h.elect(1);
    h.filter = () => false; // nothing is acknowledged
    const mark = h.sent.length;
    for (let i = 0; i < 10; i++) h.node(1).propose(bytes(`e${i}`));
    h.settle();
    const appends = h.sentSince(mark, (m) => m.type === MessageType.Append && m.to === 2 && m.entries.length > 0);
    expect(appends).toHaveLength(4);
  });

  it('in-flight Appends are bounded by maxInflightBytes', () => {
    // each entry charges 100 + 32 header bytes; 300 bytes admit 3 messages (the third crosses the budget)
    const h = new Harness([1, 2], { limits: { maxEntriesPerMsg: 1, maxInflightMsgs: 100, maxInflightBytes: 300 } });
    h.elect(1);
    h.filter = () => false;
    const mark = h.sent.length;
    for (let i = 0; i < 10; i++) h.node(1).propose(new Uint8Array(100));
    h.settle();
    const appends = h.sentSince(mark, (m) => m.type === MessageType.Append && m.to === 2 && m.entries.length > 0);
    expect(appends).toHaveLength(3);
  });

  it('proposals made between two Ready cycles are batched into one Append', () => {
    const h = new Harness([1, 2, 3]);
    h.elect(1);
    const mark = h.sent.length;
    for (let i = 0; i < 50; i++) h.node(1).propose(bytes(`e${i}`));
    h.cycle(1);
    const appends = h.sentSince(mark, (m) => m.type === MessageType.Append && m.to === 2);
    expect(appends).toHaveLength(1);
    expect(appends[0].entries).toHaveLength(50);
  });

  it('an Append carries at most maxMsgBytes of entries (but always one entry)', () => {
    const h = new Harness([1, 2], { limits: { maxMsgBytes: 400 } });
    h.elect(1);
    const mark = h.sent.length;
    for (let i = 0; i < 10; i++) h.node(1).propose(new Uint8Array(100));
    h.node(1).propose(new Uint8Array(1000));
    h.settle();
    const appends = h.sentSince(mark, (m) => m.type === MessageType.Append && m.entries.length > 0);
    for (const m of appends) {
      const size = m.entries.reduce((s, e) => s + e.data.byteLength + 32, 0);
      expect(m.entries.length === 1 || size <= 400).toBe(true);
    }
    expect(h.node(2).lastIndex).toBe(h.node(1).lastIndex);
  });

  it('proposals beyond maxProposalQueue uncommitted entries are dropped with ProposalDropped', () => {
    const h = new Harness([1, 2, 3], { limits: { maxProposalQueue: 5 } });
    h.elect(1);
    h.isolate(2, 3);
    const n = h.node(1);
    for (let i = 0; i < 5; i++) n.propose(bytes('x'));
    expect(() => n.propose(bytes('y'))).toThrow(ProposalDropped);
    try {
      n.propose(bytes('y'));
    } catch (e) {
      expect((e as ProposalDropped).reason).toBe('proposal queue full');
    }
  });

  it('a follower refuses proposals with ProposalDropped naming the leader', () => {
    const h = new Harness([1, 2, 3]);
    h.elect(1);
    try {
      h.node(2).propose(bytes('x'));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ProposalDropped);
      expect((e as ProposalDropped).leaderHint).toBe(1);
    }
  });

  it('duplicated and reordered Appends leave the follower log unchanged', () => {
    const h = new Harness([1, 2, 3], { limits: { maxEntriesPerMsg: 1 } });
    h.elect(1);
    const mark = h.sent.length;
    for (let i = 0; i < 4; i++) h.node(1).propose(bytes(`e${i}`));
    h.settle();
    h.tickAll(1);
    const before = h.node(2).lastIndex;
    const appends = h.sentSince(mark, (m) => m.type === MessageType.Append && m.to === 2 && m.entries.length > 0);
    for (const m of [...appends].reverse()) h.node(2).step(m);
    h.settle();
    expect(h.node(2).lastIndex).toBe(before);
    expect(h.appliedData(2)).toEqual(['e0', 'e1', 'e2', 'e3']);
  });

  it('a deposed leader learns the newer term from a follower reply and steps down', () => {
    const h = new Harness([1, 2, 3]);
    h.elect(1);
    h.isolate(1);
    for (let i = 0; i < 40 && h.leaders().length < 2; i++) {
      h.node(2).tick(); // node 1 does not tick: it never notices on its own
      h.node(3).tick();
      h.settle();
    }
    expect(h.leaders()).toHaveLength(2);
    expect(h.node(1).currentRole).toBe(Role.Leader);
    h.heal();
    h.tick(1, 1); // its heartbeat is answered with the newer term
    expect(h.node(1).currentRole).toBe(Role.Follower);
    expect(h.leaders()).toHaveLength(1);
  });

  it('a restarted follower loses unpersisted entries but keeps what it acknowledged', () => {
    const h = new Harness([1, 2, 3]);
    h.elect(1);
    h.node(1).propose(bytes('a'));
    h.settle();
    const acked = h.node(2).lastIndex;
    const n2 = h.restart(2);
    expect(n2.lastIndex).toBe(acked);
    h.settle();
    h.tickAll(1);
    expect(h.appliedData(2)).toEqual(['a']);
  });
});
