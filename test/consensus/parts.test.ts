// Unit tests of the core's pure helpers: the log, flow control, quorum arithmetic, conf changes.
import { describe, expect, it } from 'vitest';
import { ConfChangeType, type Entry, EntryType, type Membership, applyConfChange, decodeConfChange, encodeConfChange } from './support.js';
import { RaftLog } from '../../src/consensus/log.js';
import { Inflights, Progress, ProgressState } from '../../src/consensus/progress.js';
import { committedIndex, quorumSize, voteResult, VoteResult } from '../../src/consensus/quorum.js';

const e = (index: number, term: number): Entry => ({ index, term, type: EntryType.Normal, data: new Uint8Array(4) });
const log = (...terms: number[]): RaftLog => new RaftLog(0, 0, terms.map((t, i) => e(i + 1, t)), 0, 0);

describe('RaftLog', () => {
  it('appending a conflicting suffix truncates at the first conflict and keeps the rest', () => {
    const l = log(1, 1, 2, 2);
    const last = l.maybeAppend(2, [e(3, 2), e(4, 3), e(5, 3)]);
    expect(last).toBe(5);
    expect([1, 2, 3, 4, 5].map((i) => l.term(i))).toEqual([1, 1, 2, 3, 3]);
  });

  it('an Append of entries already present changes nothing (idempotent)', () => {
    const l = log(1, 1, 2);
    l.maybeAppend(0, [e(1, 1), e(2, 1)]);
    expect(l.lastIndex()).toBe(3);
  });

  it('refuses to truncate committed entries', () => {
    const l = log(1, 1, 2);
    l.commitTo(3);
    expect(() => l.maybeAppend(1, [e(2, 5)])).toThrow(/committed/);
  });

  it('findConflictByTerm skips a whole stale term in one step', () => {
    const l = log(1, 2, 2, 2, 2, 2);
    expect(l.findConflictByTerm(6, 1)).toEqual([1, 1]);
    expect(l.findConflictByTerm(6, 3)).toEqual([6, 2]);
  });

  it('a truncation below the persisted index lowers it, so the host rewrites those entries', () => {
    const l = log(1, 1, 1);
    expect(l.stable).toBe(3);
    l.maybeAppend(1, [e(2, 2)]);
    expect(l.stable).toBe(1);
    expect(l.takeUnstable().map((x) => x.index)).toEqual([2]);
  });

  it('compaction keeps the term of the compaction point', () => {
    const l = log(1, 2, 3);
    l.commitTo(3);
    l.applied = 3;
    l.compact(2);
    expect(l.firstIndex()).toBe(3);
    expect(l.term(2)).toBe(2);
    expect(l.term(1)).toBe(-1);
  });

  it('a slice respects the byte budget but always carries one entry', () => {
    const l = log(1, 1, 1, 1);
    expect(l.slice(1, 10, 36 * 2).length).toBe(2); // 4 data + 32 header bytes each
    expect(l.slice(1, 10, 1).length).toBe(1);
    expect(l.slice(1, 3, 1 << 20).length).toBe(3);
  });

  it('commit never moves backwards', () => {
    const l = log(1, 1, 1);
    l.commitTo(3);
    l.commitTo(2);
    expect(l.committed).toBe(3);
  });
});

describe('flow control', () => {
  it('Inflights is full at the message count or the byte budget', () => {
    const byCount = new Inflights(2, 1000);
    byCount.add(1, 10);
    byCount.add(2, 10);
    expect(byCount.full()).toBe(true);
    byCount.freeLE(1);
    expect(byCount.full()).toBe(false);
    const byBytes = new Inflights(100, 50);
    byBytes.add(1, 30);
    expect(byBytes.full()).toBe(false);
    byBytes.add(2, 30);
    expect(byBytes.full()).toBe(true);
    byBytes.freeLE(2);
    expect(byBytes.bytes()).toBe(0);
  });

  it('a rejection in replicate state falls back to just after the match', () => {
    const pr = new Progress(11, false, 4, 1 << 20);
    pr.maybeUpdate(10);
    pr.becomeReplicate();
    pr.sentEntries(15, 100);
    expect(pr.next).toBe(16);
    expect(pr.maybeDecrTo(13, 12)).toBe(true);
    expect(pr.next).toBe(11);
  });

  it('a stale rejection (for an index already matched) is ignored', () => {
    const pr = new Progress(11, false, 4, 1 << 20);
    pr.maybeUpdate(10);
    pr.becomeReplicate();
    expect(pr.maybeDecrTo(9, 5)).toBe(false);
  });

  it('a probe jumps to the follower\'s hint instead of stepping back one entry', () => {
    const pr = new Progress(51, false, 4, 1 << 20);
    expect(pr.state).toBe(ProgressState.Probe);
    expect(pr.maybeDecrTo(50, 7)).toBe(true);
    expect(pr.next).toBe(8);
  });
});

describe('quorum', () => {
  it('majority sizes', () => {
    expect([1, 2, 3, 4, 5].map(quorumSize)).toEqual([1, 2, 2, 3, 3]);
  });

  it('the committed index is the highest index a majority has', () => {
    const match = new Map([[1, 10], [2, 7], [3, 4], [4, 9], [5, 1]]);
    expect(committedIndex([1, 2, 3, 4, 5], (id) => match.get(id) ?? 0)).toBe(7);
  });

  it('an election is lost once a majority refused', () => {
    expect(voteResult([1, 2, 3], new Map([[1, true], [2, false]]))).toBe(VoteResult.Pending);
    expect(voteResult([1, 2, 3], new Map([[1, true], [2, false], [3, false]]))).toBe(VoteResult.Lost);
    expect(voteResult([1, 2, 3], new Map([[1, true], [3, true]]))).toBe(VoteResult.Won);
  });
});

describe('membership changes', () => {
  it('a conf change survives encoding', () => {
    const cc = { type: ConfChangeType.AddLearner, node: 123456 };
    expect(decodeConfChange(encodeConfChange(cc))).toEqual(cc);
  });

  it('adding a voter promotes a learner; removing drops either', () => {
    let m: Membership = { voters: [1, 2, 3], learners: [4] };
    m = applyConfChange(m, { type: ConfChangeType.AddVoter, node: 4 });
    expect(m).toEqual({ voters: [1, 2, 3, 4], learners: [] });
    m = applyConfChange(m, { type: ConfChangeType.RemoveNode, node: 2 });
    expect(m).toEqual({ voters: [1, 3, 4], learners: [] });
  });

  it('removing the last voter is refused', () => {
    const m = { voters: [1], learners: [] };
    expect(applyConfChange(m, { type: ConfChangeType.RemoveNode, node: 1 })).toBe(m);
  });
});
