// Where a prepared txn goes to become durable and ordered. A single node is a
// cluster of one: its log is the local WAL, and an entry is committed once its
// fdatasync returned. The replicated cluster will put Raft behind the same
// interface, so the server's write path does not change.
import type { LogEntry, WriteAheadLog } from '../storage/index.js';
import { assert } from '../util/assert.js';

/** Log entry types (the WAL record's type byte). */
export const ENTRY_TXN = 1;

export interface Committed {
  readonly index: number;
  readonly term: number;
}

export interface CommitLog {
  /** Appends a txn; resolves once it is durable and committed, with its position. */
  propose(txn: Uint8Array): Promise<Committed>;
  /** The index the next proposal will get minus one: everything proposed so far. */
  proposedIndex(): number;
  /** The term (ZooKeeper's epoch) new entries are written in. */
  term(): number;
}

export class LocalCommitLog implements CommitLog {
  private nextIndex: number;

  constructor(
    private readonly wal: WriteAheadLog,
    private readonly currentTerm: number,
  ) {
    this.nextIndex = wal.lastIndex() + 1;
  }

  async propose(txn: Uint8Array): Promise<Committed> {
    const index = this.nextIndex++;
    const entry: LogEntry = { term: this.currentTerm, index, type: ENTRY_TXN, data: txn };
    await this.wal.append([entry]);
    assert(this.wal.durableIndex() >= index, () => `commit-log: append resolved before index ${index} was durable`);
    return { index, term: this.currentTerm };
  }

  proposedIndex(): number {
    return this.nextIndex - 1;
  }

  term(): number {
    return this.currentTerm;
  }
}
