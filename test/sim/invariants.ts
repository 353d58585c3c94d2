// Raft's safety properties (dissertation Figure 3.2), checked by the simulator
// against every node after every step.
import type { Entry, RaftNode, SnapshotMeta } from '../../src/consensus/index.js';
import { Role } from '../../src/consensus/index.js';

export class SafetyViolation extends Error {
  override name = 'SafetyViolation';
}

interface Committed {
  readonly index: number;
  readonly term: number;
}

export class SafetyChecker {
  /** Election safety: term -> the one leader of that term, and the incarnation (process lifetime) it led in. */
  private readonly leaders = new Map<number, number>();
  private readonly leaderIncarnation = new Map<number, number>();
  /** Log matching: "index:term" -> the entry and the term of the entry before it. */
  private readonly logEntries = new Map<string, { entry: Entry; prevTerm: number }>();
  /** State-machine safety: index -> the entry applied there (by anyone). */
  private readonly applied: Entry[] = [];
  /** Leader completeness: leader term -> highest (index, term) that leader committed. */
  private readonly committedByTerm = new Map<number, Committed>();
  /** Commit index each leader last reported, to check it never goes backwards within a term. */
  private readonly leaderCommit = new Map<number, number>();
  checks = 0;
  leadersSeen = 0;

  /** After every simulator step: leaders, their commit progress, leader completeness. */
  afterStep(nodes: readonly RaftNode[], incarnationOf: (id: number) => number): void {
    this.checks++;
    for (const n of nodes) {
      if (n.currentRole !== Role.Leader) continue;
      const term = n.currentTerm;
      const known = this.leaders.get(term);
      const inc = incarnationOf(n.id);
      if (known === undefined) {
        this.leaders.set(term, n.id);
        this.leaderIncarnation.set(term, inc);
        this.leadersSeen++;
        this.checkLeaderCompleteness(n);
      } else if (known !== n.id) {
        throw new SafetyViolation(`election safety: nodes ${known} and ${n.id} are both leader of term ${term}`);
      } else if (this.leaderIncarnation.get(term) !== inc) {
        throw new SafetyViolation(`election safety: node ${n.id} won term ${term} twice (before and after a restart)`);
      }
      const commit = n.commitIndex;
      const prev = this.leaderCommit.get(term) ?? 0;
      if (commit < prev) throw new SafetyViolation(`leader ${n.id} of term ${term}: commit went back from ${prev} to ${commit}`);
      if (commit > prev) {
        this.leaderCommit.set(term, commit);
        const t = n.termAt(commit);
        if (t >= 0) this.committedByTerm.set(term, { index: commit, term: t });
      }
    }
  }

  private checkLeaderCompleteness(n: RaftNode): void {
    for (const [leaderTerm, c] of this.committedByTerm) {
      if (leaderTerm >= n.currentTerm || c.index <= n.compactedIndex) continue;
      const t = n.termAt(c.index);
      if (t !== c.term) {
        throw new SafetyViolation(
          `leader completeness: leader ${n.id} of term ${n.currentTerm} has term ${t} at index ${c.index}, committed in term ${leaderTerm} with term ${c.term}`,
        );
      }
    }
  }

  /** Entries a node hands to its storage: every (index, term) names one entry with one predecessor term. */
  onAppend(node: RaftNode, entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    let prevTerm = node.termAt(entries[0].index - 1);
    for (const e of entries) {
      const key = `${e.index}:${e.term}`;
      const known = this.logEntries.get(key);
      if (known === undefined) {
        this.logEntries.set(key, { entry: e, prevTerm });
      } else {
        if (known.entry !== e && !sameEntry(known.entry, e)) {
          throw new SafetyViolation(`log matching: node ${node.id} holds a different entry at index ${e.index} term ${e.term}`);
        }
        if (prevTerm >= 0 && known.prevTerm >= 0 && known.prevTerm !== prevTerm) {
          throw new SafetyViolation(
            `log matching: node ${node.id} has term ${prevTerm} before (${e.index}, ${e.term}); another node has ${known.prevTerm}`,
          );
        }
      }
      prevTerm = e.term;
    }
  }

  /** State-machine safety: no two nodes apply different entries at the same index. */
  onApply(node: number, e: Entry): void {
    const known = this.applied[e.index];
    if (known === undefined) this.applied[e.index] = e;
    else if (known !== e && !sameEntry(known, e)) {
      throw new SafetyViolation(
        `state-machine safety: node ${node} applied (${e.index}, term ${e.term}) but (${known.index}, term ${known.term}) was applied there before`,
      );
    }
  }

  onSnapshotInstalled(node: number, meta: SnapshotMeta): void {
    const known = this.applied[meta.index];
    if (known !== undefined && known.term !== meta.term) {
      throw new SafetyViolation(`state-machine safety: node ${node} installed a snapshot at (${meta.index}, term ${meta.term}) but term ${known.term} was applied there`);
    }
  }

  appliedCount(): number {
    return this.applied.length;
  }
}

function sameEntry(a: Entry, b: Entry): boolean {
  if (a.index !== b.index || a.term !== b.term || a.type !== b.type || a.data.byteLength !== b.data.byteLength) return false;
  for (let i = 0; i < a.data.byteLength; i++) if (a.data[i] !== b.data[i]) return false;
  return true;
}
