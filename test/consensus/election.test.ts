import { describe, expect, it } from 'vitest';
import { MessageType, RaftNode, Role, bootstrapState, message } from './support.js';
import { SeededRandom } from '../../src/util/random.js';
import { Harness } from './harness.js';

describe('leader election', () => {
  it('a single node elects itself and commits its no-op', () => {
    const h = new Harness([1]);
    h.elect(1);
    const n = h.node(1);
    expect(n.currentRole).toBe(Role.Leader);
    expect(n.commitIndex).toBe(n.lastIndex);
    expect(n.termAt(n.lastIndex)).toBe(n.currentTerm);
  });

  it('three nodes elect exactly one leader that every node recognises', () => {
    const h = new Harness([1, 2, 3]);
    h.elect(2);
    expect(h.leaders()).toEqual([2]);
    for (const id of [1, 3]) expect(h.node(id).leader).toBe(2);
  });

  it('ticking alone elects a leader within two election timeouts', () => {
    const h = new Harness([1, 2, 3], { electionTicks: 10 });
    let ticks = 0;
    while (h.leaders().length === 0 && ticks < 100) {
      h.tickAll();
      ticks++;
    }
    expect(h.leaders()).toHaveLength(1);
    expect(ticks).toBeLessThan(2 * 10 + 2);
  });

  it('election timeouts are randomized in [electionTicks, 2 * electionTicks)', () => {
    const seen = new Set<number>();
    for (let seed = 1; seed <= 40; seed++) {
      const n = new RaftNode({ id: 1, random: new SeededRandom(seed), electionTicks: 10, heartbeatTicks: 1, preVote: false }, bootstrapState([1, 2, 3]));
      n.ready();
      n.advance();
      let ticks = 0;
      while (n.currentRole === Role.Follower) {
        n.tick();
        ticks++;
      }
      expect(ticks).toBeGreaterThanOrEqual(10);
      expect(ticks).toBeLessThan(20);
      seen.add(ticks);
    }
    expect(seen.size).toBeGreaterThan(3);
  });

  it('a node grants at most one vote per term', () => {
    const h = new Harness([1, 2, 3]);
    const voter = h.node(3);
    const term = voter.currentTerm + 1;
    const req = (from: number) =>
      message({ type: MessageType.Vote, from, to: 3, term, index: voter.lastIndex, logTerm: voter.termAt(voter.lastIndex) });
    voter.step(req(1));
    voter.step(req(2));
    const rd = voter.ready();
    voter.advance();
    const after = voter.ready();
    voter.advance();
    const responses = [...rd.messages, ...after.messages].filter((m) => m.type === MessageType.VoteResponse);
    expect(responses.find((m) => m.to === 1)?.reject).toBe(false);
    expect(responses.find((m) => m.to === 2)?.reject).toBe(true);
    expect(voter.hardState().vote).toBe(1);
  });

  it('a vote is refused to a candidate whose log is less up to date', () => {
    const h = new Harness([1, 2, 3]);
    h.elect(1);
    h.node(1).propose(new Uint8Array([1]));
    h.settle();
    const voter = h.node(3);
    voter.step(message({ type: MessageType.Vote, from: 2, to: 3, term: voter.currentTerm + 1, index: 1, logTerm: 1, transfer: true }));
    const rd = voter.ready();
    voter.advance();
    expect(rd.messages.find((m) => m.type === MessageType.VoteResponse)?.reject).toBe(true);
  });

  it('a granted vote is sent only after the vote is persisted', () => {
    const h = new Harness([1, 2, 3]);
    const voter = h.node(3);
    voter.step(message({ type: MessageType.Vote, from: 1, to: 3, term: voter.currentTerm + 1, index: voter.lastIndex, logTerm: 1 }));
    const rd = voter.ready();
    expect(rd.hardState?.vote).toBe(1);
    expect(rd.messages.some((m) => m.type === MessageType.VoteResponse)).toBe(false);
    voter.advance();
    const next = voter.ready();
    voter.advance();
    expect(next.messages.some((m) => m.type === MessageType.VoteResponse && !m.reject)).toBe(true);
  });

  it('a candidate sends its vote requests only after its new term and self-vote are persisted', () => {
    const n = new RaftNode({ id: 1, random: new SeededRandom(1), electionTicks: 10, heartbeatTicks: 1, preVote: false }, bootstrapState([1, 2, 3]));
    n.ready();
    n.advance();
    n.campaign();
    const rd = n.ready();
    expect(rd.hardState).toEqual({ term: 2, vote: 1, commit: 3 });
    expect(rd.messages.filter((m) => m.type === MessageType.Vote)).toHaveLength(0);
    n.advance();
    const next = n.ready();
    n.advance();
    expect(next.messages.filter((m) => m.type === MessageType.Vote).map((m) => m.to)).toEqual([2, 3]);
  });

  it('a candidate counts its own vote only once it is persisted', () => {
    const n = new RaftNode({ id: 1, random: new SeededRandom(1), electionTicks: 10, heartbeatTicks: 1, preVote: false }, bootstrapState([1]));
    n.ready();
    n.advance();
    n.campaign();
    expect(n.currentRole).toBe(Role.Candidate);
    n.ready();
    expect(n.currentRole).toBe(Role.Candidate);
    n.advance();
    expect(n.currentRole).toBe(Role.Leader);
  });

  it('a restarted node keeps its term and vote', () => {
    const h = new Harness([1, 2, 3]);
    h.elect(1);
    const before = h.node(2).hardState();
    const restarted = h.restart(2);
    expect(restarted.currentTerm).toBe(before.term);
    expect(restarted.hardState().vote).toBe(before.vote);
  });
});
