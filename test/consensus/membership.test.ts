import { describe, expect, it } from 'vitest';
import { ConfChangeType, MessageType, ProposalDropped, Role } from './support.js';
import { Harness, bytes } from './harness.js';

/** A 3-voter cluster led by node 1, plus an empty node 4 that can join. */
function withSpareNode(): Harness {
  const h = new Harness([1, 2, 3]);
  h.add(4, { hardState: { term: 0, vote: 0, commit: 0 }, snapshot: null, entries: [] });
  h.elect(1);
  return h;
}

describe('membership changes', () => {
  it('a new node with an empty log never campaigns before it is added', () => {
    const h = withSpareNode();
    h.tick(4, 100);
    expect(h.node(4).currentRole).toBe(Role.Follower);
    expect(h.node(4).currentTerm).toBe(0);
  });

  it('a learner receives the whole log but neither votes nor counts toward commit', () => {
    const h = withSpareNode();
    h.node(1).proposeConfChange({ type: ConfChangeType.AddLearner, node: 4 });
    h.settle();
    h.tickAll(2);
    expect(h.node(1).status().membership.learners).toEqual([4]);
    h.node(1).propose(bytes('x'));
    h.settle();
    h.tickAll(1);
    expect(h.appliedData(4)).toEqual(['x']);
    // with both other voters gone, the learner's acknowledgement does not make a quorum
    h.filter = (m) => m.to !== 2 && m.to !== 3 && m.from !== 2 && m.from !== 3;
    const { index } = h.node(1).propose(bytes('y'));
    h.settle();
    expect(h.node(4).lastIndex).toBe(index);
    expect(h.node(1).commitIndex).toBeLessThan(index);
    h.tick(4, 100);
    expect(h.node(4).currentRole).toBe(Role.Follower);
  });

  it('a learner promoted to voter counts toward the quorum', () => {
    const h = withSpareNode();
    h.node(1).proposeConfChange({ type: ConfChangeType.AddLearner, node: 4 });
    h.settle();
    h.tickAll(2);
    h.node(1).proposeConfChange({ type: ConfChangeType.AddVoter, node: 4 });
    h.settle();
    h.tickAll(2);
    expect(h.node(1).status().membership.voters).toEqual([1, 2, 3, 4]);
    h.isolate(2); // 1, 3, 4 are 3 of 4: still a quorum
    const { index } = h.node(1).propose(bytes('z'));
    h.settle();
    expect(h.node(1).commitIndex).toBeGreaterThanOrEqual(index);
  });

  it('a second membership change is refused while one is pending', () => {
    const h = withSpareNode();
    h.isolate(2, 3);
    h.node(1).proposeConfChange({ type: ConfChangeType.AddLearner, node: 4 });
    expect(() => h.node(1).proposeConfChange({ type: ConfChangeType.RemoveNode, node: 3 })).toThrow(ProposalDropped);
  });

  it('a membership change is refused until the leader has committed an entry of its term', () => {
    const h = new Harness([1, 2, 3]);
    h.isolate(2, 3);
    h.filter = (m) => !(m.type === MessageType.Append && m.entries.length > 0);
    h.elect(1);
    expect(h.node(1).currentRole).toBe(Role.Leader);
    expect(() => h.node(1).proposeConfChange({ type: ConfChangeType.AddLearner, node: 4 })).toThrow(/pending/);
  });

  it('removing a voter shrinks the quorum', () => {
    const h = new Harness([1, 2, 3]);
    h.elect(1);
    h.node(1).proposeConfChange({ type: ConfChangeType.RemoveNode, node: 3 });
    h.settle();
    h.tickAll(2);
    expect(h.node(1).status().membership.voters).toEqual([1, 2]);
    h.isolate(3);
    const { index } = h.node(1).propose(bytes('after'));
    h.settle();
    expect(h.node(1).commitIndex).toBeGreaterThanOrEqual(index);
  });

  it('a leader that removes itself steps down and the rest elect a new leader', () => {
    const h = new Harness([1, 2, 3]);
    h.elect(1);
    h.node(1).proposeConfChange({ type: ConfChangeType.RemoveNode, node: 1 });
    h.settle();
    h.tickAll(2);
    expect(h.node(1).currentRole).toBe(Role.Follower);
    h.isolate(1);
    h.tickAll(40);
    const leaders = h.leaders();
    expect(leaders).toHaveLength(1);
    expect(leaders[0]).not.toBe(1);
    expect(h.node(leaders[0]).status().membership.voters).toEqual([2, 3]);
  });
});
