import { describe, expect, it } from 'vitest';
import { MessageType, ProposalDropped, Role } from './support.js';
import { Harness, bytes } from './harness.js';

describe('leader transfer', () => {
  it('transfer to an up-to-date follower makes it leader at once (TimeoutNow)', () => {
    const h = new Harness([1, 2, 3]);
    h.elect(1);
    h.node(1).transferLeader(3);
    h.settle();
    expect(h.leaders()).toEqual([3]);
    expect(h.sent.some((m) => m.type === MessageType.TimeoutNow && m.to === 3)).toBe(true);
  });

  it('a lagging target is caught up before it gets TimeoutNow', () => {
    const h = new Harness([1, 2, 3]);
    h.elect(1);
    h.isolate(3);
    for (let i = 0; i < 5; i++) h.node(1).propose(bytes(`e${i}`));
    h.settle();
    h.heal();
    const last = h.node(1).lastIndex;
    const mark = h.sent.length;
    h.node(1).transferLeader(3);
    h.settle();
    const after = h.sent.slice(mark);
    const timeoutNow = after.findIndex((m) => m.type === MessageType.TimeoutNow);
    const caughtUp = after.findIndex((m) => m.type === MessageType.AppendResponse && m.from === 3 && !m.reject && m.index === last);
    expect(caughtUp).toBeGreaterThanOrEqual(0);
    expect(timeoutNow).toBeGreaterThan(caughtUp);
    expect(h.leaders()).toEqual([3]);
    expect(h.node(3).lastIndex).toBeGreaterThan(5);
  });

  it('proposals are refused while a transfer is in progress', () => {
    const h = new Harness([1, 2, 3]);
    h.elect(1);
    h.isolate(3);
    h.node(1).transferLeader(3);
    expect(() => h.node(1).propose(bytes('x'))).toThrow(ProposalDropped);
  });

  it('a transfer that does not finish within an election timeout is abandoned', () => {
    const h = new Harness([1, 2, 3], { electionTicks: 10 });
    h.elect(1);
    h.isolate(3);
    h.node(1).transferLeader(3);
    h.tick(1, 11);
    expect(h.node(1).currentRole).toBe(Role.Leader);
    expect(h.node(1).status().leadTransferee).toBe(0);
    expect(() => h.node(1).propose(bytes('x'))).not.toThrow();
  });

  it('the transfer target campaigns despite the followers\' leader lease', () => {
    const h = new Harness([1, 2, 3, 4, 5]);
    h.elect(1);
    h.node(1).propose(bytes('x'));
    h.settle();
    h.node(1).transferLeader(4);
    h.settle();
    expect(h.leaders()).toEqual([4]);
    expect(h.sent.some((m) => m.type === MessageType.Vote && m.transfer)).toBe(true);
  });
});
