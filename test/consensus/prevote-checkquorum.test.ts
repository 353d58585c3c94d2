import { describe, expect, it } from 'vitest';
import { MessageType, Role } from './support.js';
import { Harness, bytes } from './harness.js';

describe('pre-vote', () => {
  it('an isolated node keeps pre-voting without raising its term', () => {
    const h = new Harness([1, 2, 3]);
    h.elect(1);
    const term = h.node(3).currentTerm;
    h.isolate(3);
    h.tick(3, 100);
    expect(h.node(3).currentTerm).toBe(term);
    expect(h.node(3).currentRole).toBe(Role.PreCandidate);
  });

  it('a node rejoining after isolation does not depose a healthy leader', () => {
    const h = new Harness([1, 2, 3]);
    h.elect(1);
    h.isolate(3);
    h.tick(3, 100);
    h.heal();
    h.tickAll(30);
    expect(h.leaders()).toEqual([1]);
    expect(h.node(1).currentTerm).toBe(h.node(3).currentTerm);
  });

  it('without pre-vote, an isolated node inflates its term and disrupts the leader on return', () => {
    const h = new Harness([1, 2, 3], { preVote: false, checkQuorum: false });
    h.elect(1);
    const term = h.node(1).currentTerm;
    h.isolate(3);
    h.tick(3, 100);
    expect(h.node(3).currentTerm).toBeGreaterThan(term + 2);
    h.heal();
    h.tickAll(25);
    expect(h.node(1).currentTerm).toBeGreaterThan(term + 2);
  });

  it('a pre-vote grant leaves the voter\'s term and vote unchanged', () => {
    const h = new Harness([1, 2, 3]);
    const before = h.node(2).hardState();
    h.elect(1);
    expect(h.sent.some((m) => m.type === MessageType.PreVoteResponse && m.from === 2 && !m.reject)).toBe(true);
    expect(h.node(2).hardState().term).toBe(before.term + 1); // from the real vote that followed
  });
});

describe('check-quorum and the leader lease', () => {
  it('a leader that hears from no quorum for an election timeout steps down', () => {
    const h = new Harness([1, 2, 3], { electionTicks: 10 });
    h.elect(1);
    h.isolate(1);
    h.tick(1, 21);
    expect(h.node(1).currentRole).toBe(Role.Follower);
  });

  it('a leader that keeps a quorum stays leader', () => {
    const h = new Harness([1, 2, 3], { electionTicks: 10 });
    h.elect(1);
    h.isolate(3);
    h.tickAll(50);
    expect(h.node(1).currentRole).toBe(Role.Leader);
  });

  it('followers that heard from the leader within an election timeout ignore vote requests', () => {
    const h = new Harness([1, 2, 3]);
    h.elect(1);
    h.node(1).propose(bytes('x'));
    h.settle();
    // node 2 campaigns without pre-vote through a forced election
    const term = h.node(1).currentTerm;
    h.node(3).step({ ...h.sent[h.sent.length - 1], type: MessageType.Vote, from: 2, to: 3, term: term + 1, index: 100, logTerm: term, entries: [], transfer: false, reject: false, context: null, snapshot: null });
    expect(h.node(3).currentTerm).toBe(term);
    expect(h.node(1).currentRole).toBe(Role.Leader);
  });

  it('a majority side elects a new leader after the old leader is partitioned away', () => {
    const h = new Harness([1, 2, 3, 4, 5]);
    h.elect(1);
    h.isolate(1, 2);
    h.tickAll(60);
    const leaders = h.leaders().filter((id) => id !== 1 && id !== 2);
    expect(leaders).toHaveLength(1);
    expect(h.node(1).currentRole).not.toBe(Role.Leader);
  });
});
