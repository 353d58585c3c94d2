import { describe, expect, it } from 'vitest';
import { MessageType, ProposalDropped } from './support.js';
import { Harness, bytes } from './harness.js';

describe('ReadIndex', () => {
  it('the leader answers a read only after a quorum acknowledged a heartbeat carrying it', () => {
    const h = new Harness([1, 2, 3]);
    h.elect(1);
    h.node(1).propose(bytes('x'));
    h.settle();
    const leader = h.node(1);
    leader.readIndex(bytes('r1'));
    const rd = leader.ready();
    leader.advance();
    expect(rd.readStates).toHaveLength(0);
    const beats = rd.messages.filter((m) => m.type === MessageType.Heartbeat);
    expect(beats.length).toBe(2);
    expect(new TextDecoder().decode(beats[0].context ?? new Uint8Array())).toBe('r1');
    for (const m of rd.messages) h.node(m.to).step(m);
    h.settle();
    const states = h.readStates.get(1) ?? [];
    expect(states.map((s) => new TextDecoder().decode(s.context))).toEqual(['r1']);
    expect(states[0].index).toBe(leader.commitIndex);
  });

  it('a leader cut off from the quorum never answers a read', () => {
    const h = new Harness([1, 2, 3]);
    h.elect(1);
    h.isolate(1);
    h.node(1).readIndex(bytes('r'));
    h.tick(1, 5);
    expect(h.readStates.get(1)).toHaveLength(0);
  });

  it('a read through a follower is forwarded and answered with the leader\'s commit index', () => {
    const h = new Harness([1, 2, 3]);
    h.elect(1);
    h.node(1).propose(bytes('x'));
    h.settle();
    h.node(3).readIndex(bytes('f'));
    h.settle();
    const states = h.readStates.get(3) ?? [];
    expect(states).toHaveLength(1);
    expect(states[0].index).toBe(h.node(1).commitIndex);
  });

  it('a new leader holds reads until an entry of its term has committed', () => {
    const h = new Harness([1, 2, 3]);
    h.filter = (m) => !(m.type === MessageType.Append && m.entries.length > 0);
    h.elect(1);
    h.node(1).readIndex(bytes('early'));
    h.settle();
    expect(h.readStates.get(1)).toHaveLength(0);
    h.heal();
    h.tickAll(2);
    expect((h.readStates.get(1) ?? []).map((s) => new TextDecoder().decode(s.context))).toEqual(['early']);
  });

  it('reads beyond maxReadIndexQueue are refused', () => {
    const h = new Harness([1, 2, 3], { limits: { maxReadIndexQueue: 2 } });
    h.elect(1);
    h.isolate(1);
    h.node(1).readIndex(bytes('a'));
    h.node(1).readIndex(bytes('b'));
    expect(() => h.node(1).readIndex(bytes('c'))).toThrow(ProposalDropped);
  });

  it('a follower with no known leader refuses a read', () => {
    const h = new Harness([1, 2, 3]);
    expect(() => h.node(2).readIndex(bytes('r'))).toThrow(/no leader/);
  });

  it('a single-node cluster answers reads at once', () => {
    const h = new Harness([1]);
    h.elect(1);
    h.node(1).readIndex(bytes('solo'));
    h.settle();
    expect(h.readStates.get(1)).toHaveLength(1);
  });
});
