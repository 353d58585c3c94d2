import { describe, expect, it } from 'vitest';
import { MessageType, RaftNode, message } from './support.js';
import { SeededRandom } from '../../src/util/random.js';
import { Harness, bytes } from './harness.js';

function compactLeader(h: Harness, id: number, image: Uint8Array): void {
  const n = h.node(id);
  const meta = n.createSnapshot(image);
  h.storage.get(id)?.saveOwnSnapshot({ meta, data: image });
}

describe('snapshots', () => {
  it('createSnapshot compacts the log up to the applied index', () => {
    const h = new Harness([1, 2, 3]);
    h.elect(1);
    for (let i = 0; i < 10; i++) h.node(1).propose(bytes(`e${i}`));
    h.settle();
    const applied = h.node(1).status().applied;
    compactLeader(h, 1, bytes('image'));
    expect(h.node(1).compactedIndex).toBe(applied);
    expect(h.node(1).status().firstIndex).toBe(applied + 1);
  });

  it('createSnapshot can retain recent entries for slow followers', () => {
    const h = new Harness([1, 2, 3]);
    h.elect(1);
    for (let i = 0; i < 10; i++) h.node(1).propose(bytes(`e${i}`));
    h.settle();
    const applied = h.node(1).status().applied;
    h.node(1).createSnapshot(bytes('image'), 4);
    expect(h.node(1).compactedIndex).toBe(applied - 4);
  });

  it('a follower behind the compacted log gets InstallSnapshot in bounded chunks and catches up', () => {
    const h = new Harness([1, 2, 3], { limits: { maxSnapshotChunkBytes: 7 } });
    h.elect(1);
    h.isolate(3);
    for (let i = 0; i < 20; i++) h.node(1).propose(bytes(`e${i}`));
    h.settle();
    const image = bytes('a state machine image of some forty bytes.');
    compactLeader(h, 1, image);
    h.heal();
    const mark = h.sent.length;
    h.tickAll(5);
    const chunks = h.sentSince(mark, (m) => m.type === MessageType.Snapshot && m.to === 3);
    expect(chunks.length).toBeGreaterThanOrEqual(Math.ceil(image.byteLength / 7));
    for (const c of chunks) expect(c.snapshot?.data.byteLength).toBeLessThanOrEqual(7);
    const installed = h.storage.get(3)?.snapshot;
    expect(installed?.data).toEqual(image);
    expect(h.node(3).lastIndex).toBe(h.node(1).lastIndex);
    h.node(1).propose(bytes('after'));
    h.settle();
    h.tickAll(1);
    expect(h.appliedData(3)).toEqual(['after']);
  });

  it('a lost snapshot chunk is sent again', () => {
    const h = new Harness([1, 2, 3], { limits: { maxSnapshotChunkBytes: 8 } });
    h.elect(1);
    h.isolate(3);
    for (let i = 0; i < 5; i++) h.node(1).propose(bytes(`e${i}`));
    h.settle();
    compactLeader(h, 1, bytes('0123456789abcdefghij'));
    let dropped = 0;
    h.filter = (m) => !(m.type === MessageType.Snapshot && m.snapshot?.offset === 8 && dropped++ === 0);
    h.tickAll(5);
    expect(dropped).toBeGreaterThan(0);
    expect(h.storage.get(3)?.snapshot?.meta.index).toBe(h.node(1).compactedIndex);
  });

  it('a burst of heartbeat replies (stale heartbeats queued while the link was down) resends the snapshot chunk once, not once per reply', () => {
    const h = new Harness([1, 2, 3]);
    h.elect(1);
    h.isolate(3);
    for (let i = 0; i < 5; i++) h.node(1).propose(bytes(`e${i}`));
    h.settle();
    compactLeader(h, 1, bytes('one chunk of snapshot'));
    // Heartbeats reach 3 again, its replies come back; the chunk never arrives (lost).
    h.heal();
    h.filter = (m) => !(m.type === MessageType.Snapshot && m.to === 3);
    h.tickAll(1);
    const leader = h.node(1);
    const term = leader.currentTerm;
    const mark = h.sent.length;
    for (let i = 0; i < 50; i++) leader.step(message({ type: MessageType.HeartbeatResponse, from: 3, to: 1, term }));
    h.cycle(1);
    expect(h.sentSince(mark, (m) => m.type === MessageType.Snapshot && m.to === 3).length).toBeLessThanOrEqual(1);
    // The next heartbeat's reply still resends it (a lost chunk is not left lost), and it arrives.
    h.filter = () => true;
    h.tickAll(2);
    expect(h.storage.get(3)?.snapshot?.meta.index).toBe(leader.compactedIndex);
  });

  it('a node restarts from its snapshot, later entries and hard state', () => {
    const h = new Harness([1, 2, 3]);
    h.elect(1);
    for (let i = 0; i < 6; i++) h.node(1).propose(bytes(`e${i}`));
    h.settle();
    h.tickAll(1);
    const n2 = h.node(2);
    const image = bytes('image');
    const meta = n2.createSnapshot(image);
    h.storage.get(2)?.saveOwnSnapshot({ meta, data: image });
    h.node(1).propose(bytes('later'));
    h.settle();
    h.tickAll(1);
    const before = n2.status();
    const state = h.storage.get(2)?.load();
    if (state === undefined) throw new Error('no storage');
    const restarted = new RaftNode({ id: 2, random: new SeededRandom(9), electionTicks: 10, heartbeatTicks: 1 }, state);
    expect(restarted.compactedIndex).toBe(meta.index);
    expect(restarted.lastIndex).toBe(before.lastIndex);
    expect(restarted.currentTerm).toBe(before.term);
    expect(restarted.status().membership.voters).toEqual([1, 2, 3]);
    const rd = restarted.ready();
    expect(rd.committedEntries.map((e) => e.index)[0]).toBe(meta.index + 1); // re-applies after the snapshot
  });
});
