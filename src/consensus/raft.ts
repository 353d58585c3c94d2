// Raft (Ongaro's dissertation) as a pure state machine in the style of etcd's raft:
// no I/O, no clock (tick() is the clock), no randomness but the SeededRandom it
// is handed. The host drives it with tick/step/propose/readIndex and drains
// ready() -> persist, send, apply -> advance().
import { assert } from '../util/assert.js';
import type { BrokenVariant, RaftConfig, RaftLimits } from './config.js';
import { resolveLimits, validateConfig } from './config.js';
import { type ConfChange, applyConfChange, confChangeValid, decodeConfChange, encodeConfChange } from './confchange.js';
import { ProposalDropped } from './errors.js';
import { RaftLog } from './log.js';
import { Progress, ProgressState } from './progress.js';
import { VoteResult, committedIndex, hasQuorum, voteResult } from './quorum.js';
import { ReadOnlyQueue } from './readindex.js';
import {
  type Entry,
  EntryType,
  type HardState,
  type Membership,
  type Message,
  MessageType,
  NONE,
  type PersistedState,
  type ReadState,
  type Ready,
  Role,
  type Snapshot,
  type SnapshotMeta,
  entryBytes,
  message,
} from './types.js';

const EMPTY = new Uint8Array(0);

interface ReadyInFlight {
  readonly handedLast: number;
  readonly applyingTo: number;
  readonly committed: readonly Entry[];
  readonly snapshot: Snapshot | null;
  /** Messages that may leave only once this Ready is persisted. */
  readonly held: readonly HeldMessage[];
}

/**
 * A message that acknowledges persisted state: it may leave once the hard state
 * of the Ready that carried it is saved and, in async storage mode, once the log
 * is durable through `needsIndex` (0: nothing beyond the hard state).
 */
interface HeldMessage {
  readonly message: Message;
  readonly needsIndex: number;
}

interface IncomingSnapshot {
  readonly meta: SnapshotMeta;
  readonly totalBytes: number;
  readonly parts: Uint8Array[];
  received: number;
}

/** The zxid-style position of a proposal: (term = epoch, index = counter). */
export interface Proposed {
  readonly term: number;
  readonly index: number;
}

/** A snapshot of the node's volatile and persistent state, for hosts, tests and the simulator. */
export interface RaftStatus {
  readonly id: number;
  readonly role: Role;
  readonly term: number;
  readonly vote: number;
  readonly leader: number;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly lastTerm: number;
  readonly firstIndex: number;
  readonly membership: Membership;
  readonly leadTransferee: number;
}

export interface FollowerProgress {
  readonly id: number;
  readonly match: number;
  readonly next: number;
  readonly state: string;
  readonly learner: boolean;
  readonly recentActive: boolean;
}

export class RaftNode {
  readonly id: number;
  private readonly limits: RaftLimits;
  private readonly preVote: boolean;
  private readonly checkQuorum: boolean;
  private readonly variant: BrokenVariant | undefined;
  private readonly asyncStorageWrites: boolean;

  private term: number;
  private vote: number;
  private lead = NONE;
  private role: Role = Role.Follower;
  private readonly log: RaftLog;
  private membership: Membership;
  /** Conf change entries <= this index are reflected in membership. */
  private membershipIndex: number;

  private prs = new Map<number, Progress>();
  private readonly votes = new Map<number, boolean>();
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private leadTransferee = NONE;
  /** Leader: index of the latest conf change proposed; another waits until it is applied. */
  private pendingConfIndex = 0;

  private readonly readOnly = new ReadOnlyQueue();
  /** Leader: read requests waiting for the first commit of this term. */
  private pendingReadIndex: { from: number; context: Uint8Array }[] = [];
  private readStates: ReadState[] = [];
  private readHeartbeatPending = false;
  private broadcastPending = false;

  private msgs: Message[] = [];
  /** Responses that acknowledge state (entries, votes, snapshots) not yet persisted. */
  private msgsAfterPersist: HeldMessage[] = [];
  /** Async storage mode: held messages whose Ready advanced, waiting for persisted() to cover their index. */
  private msgsWaitingForLog: HeldMessage[] = [];
  private inFlight: ReadyInFlight | null = null;
  private persistedHardState: HardState;

  /** The latest snapshot this node holds (sent to followers that fell behind the log). */
  private snapshot: Snapshot | null;
  /** A snapshot received from the leader, to hand to the host. */
  private snapshotForHost: Snapshot | null = null;
  private incoming: IncomingSnapshot | null = null;

  /**
   * Builds a node from what the host persisted. A brand-new node that will join an
   * existing cluster passes an empty state (it waits to be contacted); a new cluster
   * persists bootstrapState(voters) on every member first.
   */
  constructor(
    readonly config: RaftConfig,
    state: PersistedState = EMPTY_STATE,
  ) {
    validateConfig(config);
    this.id = config.id;
    this.limits = resolveLimits(config.limits);
    this.preVote = config.preVote ?? true;
    this.checkQuorum = config.checkQuorum ?? true;
    this.variant = config.unsafeVariant;
    this.asyncStorageWrites = config.asyncStorageWrites ?? false;
    const hs = state.hardState;
    this.term = hs.term;
    this.vote = hs.vote;
    this.persistedHardState = hs;
    this.snapshot = state.snapshot;
    const snapIndex = state.snapshot?.meta.index ?? 0;
    const snapTerm = state.snapshot?.meta.term ?? 0;
    const entries = state.entries.filter((e) => e.index > snapIndex);
    const applied = Math.max(config.applied ?? snapIndex, snapIndex);
    const commit = Math.max(hs.commit, snapIndex); // a snapshot holds only committed entries
    this.log = new RaftLog(snapIndex, snapTerm, entries, commit, Math.min(applied, commit));
    this.membership = state.snapshot?.meta.membership ?? { voters: [], learners: [] };
    this.membershipIndex = snapIndex;
    for (const e of this.log.between(snapIndex, this.log.applied)) this.applyConfEntry(e);
    this.becomeFollower(this.term, NONE);
  }

  // ---------------------------------------------------------------- host API

  /** Advances the logical clock by one tick. */
  tick(): void {
    if (this.role === Role.Leader) this.tickHeartbeat();
    else this.tickElection();
  }

  /** Starts an election now (if this node may). */
  campaign(): void {
    this.hup(false);
  }

  /** Proposes client data; throws ProposalDropped when this node cannot take it. */
  propose(data: Uint8Array): Proposed {
    return this.appendProposal(EntryType.Normal, data, 1);
  }

  /** Proposes several entries at once (they share Append messages). Returns the first's position. */
  proposeBatch(datas: readonly Uint8Array[]): Proposed {
    assert(datas.length > 0, 'empty batch');
    this.checkCanPropose(datas.length);
    const first = this.log.lastIndex() + 1;
    for (const d of datas) this.appendLocal(EntryType.Normal, d);
    return { term: this.term, index: first };
  }

  /** Proposes a membership change: one at a time, each waits until the previous one is applied. */
  proposeConfChange(change: ConfChange): Proposed {
    this.checkCanPropose(1);
    if (this.pendingConfIndex > this.log.applied) throw new ProposalDropped('conf change already pending', this.lead);
    if (!confChangeValid(this.membership, change)) throw new ProposalDropped('invalid conf change', this.lead);
    const p = this.appendProposal(EntryType.ConfChange, encodeConfChange(change), 1);
    this.pendingConfIndex = p.index;
    return p;
  }

  /**
   * Asks for a linearizable read. A ReadState with this context comes out of a
   * later ready(); the host serves the read once it has applied up to its index.
   * Contexts must be unique among pending reads.
   */
  readIndex(context: Uint8Array): void {
    if (this.role === Role.Leader) {
      this.handleReadRequest(this.id, context, true);
      return;
    }
    if (this.lead === NONE) throw new ProposalDropped('no leader known', NONE);
    this.send(message({ type: MessageType.ReadIndex, from: this.id, to: this.lead, term: this.term, context }));
  }

  /** Leader only: hands leadership to another voter (it catches up first, then gets TimeoutNow). */
  transferLeader(to: number): void {
    if (this.role !== Role.Leader) throw new ProposalDropped('not leader', this.lead);
    if (to === this.id || this.leadTransferee === to) return;
    if (!this.membership.voters.includes(to)) throw new ProposalDropped('not a member', this.lead);
    this.leadTransferee = to;
    this.electionElapsed = 0;
    const pr = this.progress(to);
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(to);
    else this.sendAppend(to, true);
  }

  /** Feeds a message from the network. Messages for other nodes are a host bug. */
  step(m: Message): void {
    assert(m.to === this.id, `message for ${m.to} stepped on ${this.id}`);
    if (m.term > this.term) {
      if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
        const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.config.electionTicks;
        if (!m.transfer && inLease) return; // a live leader exists: do not let a partitioned node disrupt it
      }
      if (m.type === MessageType.PreVote) {
        // never change term for a pre-vote
      } else if (m.type === MessageType.PreVoteResponse && !m.reject) {
        // granted pre-votes carry the term we would campaign at
      } else if (m.type === MessageType.Append || m.type === MessageType.Heartbeat || m.type === MessageType.Snapshot || m.type === MessageType.Commit) {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === MessageType.Heartbeat || m.type === MessageType.Append || m.type === MessageType.Commit)) {
        // a stale leader: tell it our term so it steps down
        this.send(message({ type: MessageType.AppendResponse, from: this.id, to: m.from, term: this.term }));
      } else if (m.type === MessageType.PreVote) {
        this.send(message({ type: MessageType.PreVoteResponse, from: this.id, to: m.from, term: this.term, reject: true }));
      }
      return;
    }

    if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
      this.handleVoteRequest(m);
      return;
    }
    switch (this.role) {
      case Role.Leader:
        this.stepLeader(m);
        break;
      case Role.Candidate:
      case Role.PreCandidate:
        this.stepCandidate(m);
        break;
      case Role.Follower:
        this.stepFollower(m);
        break;
    }
  }

  hasReady(): boolean {
    if (this.inFlight !== null) return false;
    return (
      this.msgs.length > 0 ||
      this.msgsAfterPersist.length > 0 ||
      this.broadcastPending ||
      this.readHeartbeatPending ||
      this.log.hasUnstable() ||
      this.snapshotForHost !== null ||
      this.log.hasNextCommitted() ||
      this.readStates.length > 0 ||
      this.term !== this.persistedHardState.term ||
      this.vote !== this.persistedHardState.vote ||
      this.durableCommit() !== this.persistedHardState.commit
    );
  }

  /** Everything the host must do now. Call advance() when done, before the next ready(). */
  ready(): Ready {
    assert(this.inFlight === null, 'ready() called again before advance()');
    this.flushBroadcast();
    const snapshot = this.snapshotForHost;
    this.snapshotForHost = null;
    const entries = this.log.takeUnstable();
    const hs = this.hardState();
    const prev = this.persistedHardState;
    const hsChanged = !sameHardState(hs, prev);
    assert(hs.term >= prev.term, `term went backwards: ${prev.term} -> ${hs.term}`);
    assert(hs.term > prev.term || prev.vote === NONE || hs.vote === prev.vote || this.variant === 'double-vote', `node ${this.id} changed its vote in term ${hs.term}: ${prev.vote} -> ${hs.vote}`);
    assert(hs.commit >= prev.commit, `commit went backwards: ${prev.commit} -> ${hs.commit}`);
    const persists = entries.length > 0 || hsChanged || snapshot !== null;

    let messages = this.msgs;
    this.msgs = [];
    let held: HeldMessage[] = [];
    if (this.msgsAfterPersist.length > 0) {
      // Responses from an older term may acknowledge entries this Ready no longer holds: drop them.
      const current = this.msgsAfterPersist.filter((h) => h.message.term === this.term);
      this.msgsAfterPersist = [];
      if (persists || this.asyncStorageWrites) held = current;
      else {
        for (const h of current) {
          if (h.message.to === this.id) held.push(h);
          else messages.push(h.message);
        }
      }
    }
    const committed = this.log.nextCommitted(this.limits.maxCommittedBytesPerReady);
    assert(committed.length === 0 || committed[0].index === this.log.applying + 1, 'committed entries must follow the applied ones');
    const applyingTo = committed.length > 0 ? committed[committed.length - 1].index : this.log.applying;
    this.log.applying = applyingTo;
    const readStates = this.readStates;
    this.readStates = [];
    this.inFlight = { handedLast: this.log.inProgress, applyingTo, committed, snapshot, held };
    this.persistedHardState = hs;
    return {
      softState: { leader: this.lead, role: this.role },
      hardState: hsChanged ? hs : null,
      entries,
      snapshot,
      messages,
      committedEntries: committed,
      readStates,
    };
  }

  /** The host persisted, sent and applied the last Ready. */
  advance(): void {
    const rd = this.inFlight;
    assert(rd !== null, 'advance() without ready()');
    this.inFlight = null;
    if (!this.asyncStorageWrites) this.log.stableTo(rd.handedLast);
    if (rd.snapshot !== null && rd.snapshot.meta.index > this.log.applied) this.log.applied = rd.snapshot.meta.index;
    if (rd.applyingTo > this.log.applied) this.log.applied = rd.applyingTo;
    for (const e of rd.committed) this.applyConfEntry(e);
    this.selfStable();
    if (!this.asyncStorageWrites) {
      for (const h of rd.held) this.release(h.message);
      return;
    }
    for (const h of rd.held) this.msgsWaitingForLog.push(h);
    this.releaseDurable();
  }

  /**
   * Async storage mode: the host's log is durable through `index`, whose entry has
   * `term` (what the host wrote). Ignored when the log no longer holds that entry
   * (a newer leader's entries replaced it meanwhile, or a snapshot covers it):
   * by log matching, an (index, term) pair that still matches means every entry
   * up to it is the one on disk.
   */
  persisted(index: number, term: number): void {
    assert(this.asyncStorageWrites, 'persisted() is for asyncStorageWrites mode');
    if (index <= this.log.stable || index > this.log.inProgress || !this.log.matchTerm(index, term)) return;
    this.log.stableTo(index);
    this.selfStable();
    this.releaseDurable();
  }

  /** Leader: its own durable log counts toward the commit quorum. */
  private selfStable(): void {
    if (this.role !== Role.Leader) return;
    const self = this.prs.get(this.id);
    if (self !== undefined && self.maybeUpdate(this.log.stable)) this.maybeCommitAndBroadcast();
  }

  /**
   * Sends the waiting acknowledgements the durable log now covers, in order. Those
   * of an older term are dropped: they may vouch for entries a newer leader
   * replaced, whose index the log may never reach again.
   */
  private releaseDurable(): void {
    if (this.msgsWaitingForLog.length === 0) return;
    const still: HeldMessage[] = [];
    const ready: Message[] = [];
    for (const h of this.msgsWaitingForLog) {
      if (h.message.term !== this.term) continue;
      if (h.needsIndex <= this.log.stable) ready.push(h.message);
      else still.push(h);
    }
    this.msgsWaitingForLog = still;
    for (const m of ready) this.release(m);
  }

  private release(m: Message): void {
    if (m.to === this.id) this.step(m);
    else this.msgs.push(m);
  }

  /**
   * Takes a snapshot at the applied index (or at `begun`, from snapshotMeta() when
   * the host started the image) with the host's state-machine image and compacts
   * the log, keeping retainEntries entries before it for slow followers.
   */
  createSnapshot(data: Uint8Array, retainEntries = 0, begun?: SnapshotMeta): SnapshotMeta {
    const meta = begun ?? this.snapshotMeta();
    const index = meta.index;
    if (this.snapshot !== null && this.snapshot.meta.index >= index) return this.snapshot.meta;
    assert(index <= this.log.applied && index <= this.log.stable, () => `snapshot at ${index} past applied ${this.log.applied} or durable ${this.log.stable}`);
    this.snapshot = { meta, data };
    this.log.compact(Math.min(index, this.log.stable, Math.max(this.log.snapshotIndex, index - retainEntries)));
    return meta;
  }

  /**
   * The metadata of a snapshot of the state at the applied index, for a host that
   * builds the image over several turns (applying meanwhile) and hands it to
   * createSnapshot with this meta once done.
   */
  snapshotMeta(): SnapshotMeta {
    const index = this.log.applied;
    // A snapshot beyond this node's durable log could be followed on disk by older
    // entries a pending write has yet to replace: recovery would find the log's terms
    // going backwards after it. Hosts wait until durableIndex covers the applied index.
    assert(index <= this.log.stable, () => `snapshot at ${index} beyond the durable log (${this.log.stable})`);
    assert(this.membershipIndex >= index || !this.hasConfEntry(this.membershipIndex, index), 'membership lags applied');
    const meta: SnapshotMeta = { index, term: this.log.term(index), membership: this.membership };
    assert(meta.term >= 0, `no term for snapshot index ${index}`);
    return meta;
  }

  status(): RaftStatus {
    return {
      id: this.id,
      role: this.role,
      term: this.term,
      vote: this.vote,
      leader: this.lead,
      commit: this.log.committed,
      applied: this.log.applied,
      lastIndex: this.log.lastIndex(),
      lastTerm: this.log.lastTerm(),
      firstIndex: this.log.firstIndex(),
      membership: this.membership,
      leadTransferee: this.leadTransferee,
    };
  }

  /** Leader only (empty otherwise): how far each other member's log matches, for status and lag metrics. */
  followers(): FollowerProgress[] {
    if (this.role !== Role.Leader) return [];
    const out: FollowerProgress[] = [];
    for (const [id, pr] of this.prs) {
      if (id === this.id) continue;
      out.push({ id, match: pr.match, next: pr.next, state: (['probe', 'replicate', 'snapshot'] as const)[pr.state], learner: pr.isLearner, recentActive: pr.recentActive });
    }
    return out.sort((a, b) => a.id - b.id);
  }

  get currentRole(): Role {
    return this.role;
  }
  get currentTerm(): number {
    return this.term;
  }
  get leader(): number {
    return this.lead;
  }
  get commitIndex(): number {
    return this.log.committed;
  }
  /** The last index of this node's log that its host has made durable (and that still matches). */
  get durableIndex(): number {
    return this.log.stable;
  }
  get lastIndex(): number {
    return this.log.lastIndex();
  }
  /** Term of the entry at index in this node's log, -1 when absent or compacted. */
  termAt(index: number): number {
    return this.log.term(index);
  }
  /** Index of the log's compaction point (entries after it are in memory). */
  get compactedIndex(): number {
    return this.log.snapshotIndex;
  }
  /** Entries in (after, upTo], for inspection (after must not be compacted). */
  entriesBetween(after: number, upTo: number): readonly Entry[] {
    return this.log.between(after, upTo);
  }
  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.durableCommit() };
  }

  /**
   * The commit index as persisted state may record it. In async storage mode the
   * committed entries may not all be on this node's disk yet (a quorum has them),
   * and the disk may still hold older entries at those indexes: a restart must not
   * take those for committed, so the recorded commit never passes the durable log.
   * Non-decreasing: a conflict only ever cuts entries above the commit index.
   */
  private durableCommit(): number {
    return this.asyncStorageWrites ? Math.min(this.log.committed, this.log.stable) : this.log.committed;
  }

  // ------------------------------------------------------------ proposals

  private checkCanPropose(count: number): void {
    if (this.role !== Role.Leader) throw new ProposalDropped(this.lead === NONE ? 'no leader known' : 'not leader', this.lead);
    if (this.leadTransferee !== NONE) throw new ProposalDropped('leader transfer in progress', this.lead);
    if (this.log.lastIndex() - this.log.committed + count > this.limits.maxProposalQueue) {
      throw new ProposalDropped('proposal queue full', this.lead);
    }
  }

  private appendProposal(type: EntryType, data: Uint8Array, count: number): Proposed {
    this.checkCanPropose(count);
    const e = this.appendLocal(type, data);
    return { term: e.term, index: e.index };
  }

  private appendLocal(type: EntryType, data: Uint8Array): Entry {
    const e: Entry = { term: this.term, index: this.log.lastIndex() + 1, type, data };
    this.log.appendNew(e);
    this.broadcastPending = true;
    if (this.variant === 'ack-before-persist') {
      this.prs.get(this.id)?.maybeUpdate(e.index);
      this.maybeCommitAndBroadcast();
    }
    return e;
  }

  // ------------------------------------------------------------ timers

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.config.electionTicks) {
      this.electionElapsed = 0;
      if (this.checkQuorum) {
        const active = hasQuorum(this.membership.voters, (id) => id === this.id || this.prs.get(id)?.recentActive === true);
        for (const [id, pr] of this.prs) if (id !== this.id) pr.recentActive = false;
        if (!active) {
          this.becomeFollower(this.term, NONE);
          return;
        }
      }
      this.leadTransferee = NONE; // a transfer that did not finish within an election timeout is abandoned
    }
    if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat(this.readOnly.lastContext());
    }
  }

  // ------------------------------------------------------------ roles

  private promotable(): boolean {
    return this.membership.voters.includes(this.id);
  }

  private reset(term: number): void {
    assert(term >= this.term, `term would go backwards: ${this.term} -> ${term}`);
    if (term !== this.term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.config.electionTicks + this.config.random.int(this.config.electionTicks);
    this.leadTransferee = NONE;
    this.votes.clear();
    this.prs = new Map();
    this.readOnly.clear();
    this.pendingReadIndex = [];
    this.readHeartbeatPending = false;
    this.broadcastPending = false;
    this.pendingConfIndex = 0;
  }

  private becomeFollower(term: number, lead: number): void {
    this.reset(term);
    this.role = Role.Follower;
    this.lead = lead;
  }

  private becomePreCandidate(): void {
    assert(this.role !== Role.Leader, 'leader cannot become pre-candidate');
    this.votes.clear();
    this.prs = new Map();
    this.lead = NONE;
    this.role = Role.PreCandidate;
  }

  private becomeCandidate(): void {
    assert(this.role !== Role.Leader, 'leader cannot become candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = Role.Candidate;
  }

  private becomeLeader(): void {
    assert(this.role === Role.Candidate, `only a candidate becomes leader, not a ${this.role}`);
    assert(this.vote === this.id, 'a leader voted for itself');
    this.reset(this.term);
    this.role = Role.Leader;
    this.lead = this.id;
    this.syncProgress();
    const self = this.prs.get(this.id);
    if (self !== undefined) self.maybeUpdate(this.log.stable);
    this.appendLocal(EntryType.NoOp, EMPTY);
    // No membership change until the no-op (and all before it) is applied: the fix for the
    // single-server change bug (a leader must commit an entry of its term first).
    this.pendingConfIndex = this.log.lastIndex();
  }

  private hup(transfer: boolean): void {
    if (this.role === Role.Leader || !this.promotable()) return;
    if (this.hasConfEntry(this.log.applied, this.log.committed)) return; // apply pending membership first
    if (this.preVote && !transfer) this.campaignPre();
    else this.campaignElection(transfer);
  }

  private campaignPre(): void {
    this.becomePreCandidate();
    this.votes.set(this.id, true);
    if (voteResult(this.membership.voters, this.votes) === VoteResult.Won) {
      this.campaignElection(false);
      return;
    }
    for (const id of this.membership.voters) {
      if (id === this.id) continue;
      this.send(
        message({ type: MessageType.PreVote, from: this.id, to: id, term: this.term + 1, index: this.log.lastIndex(), logTerm: this.log.lastTerm() }),
      );
    }
  }

  private campaignElection(transfer: boolean): void {
    this.becomeCandidate();
    // Our own vote counts once it is durable: it comes back to us after the next persist.
    this.sendAfterPersist(message({ type: MessageType.VoteResponse, from: this.id, to: this.id, term: this.term }));
    // The vote requests wait for that persist too: a candidate that won on the others' votes
    // alone, crashed and came back with its older term could otherwise win the same term twice.
    for (const id of this.membership.voters) {
      if (id === this.id) continue;
      (this.variant === 'campaign-before-persist' ? this.send : this.sendAfterPersist).call(
        this,
        message({
          type: MessageType.Vote,
          from: this.id,
          to: id,
          term: this.term,
          index: this.log.lastIndex(),
          logTerm: this.log.lastTerm(),
          transfer,
        }),
      );
    }
  }

  private handleVoteRequest(m: Message): void {
    const pre = m.type === MessageType.PreVote;
    const respType = pre ? MessageType.PreVoteResponse : MessageType.VoteResponse;
    const canVote =
      this.vote === m.from ||
      (this.vote === NONE && this.lead === NONE) ||
      (pre && m.term > this.term) ||
      (!pre && this.variant === 'double-vote' && this.lead === NONE && this.role === Role.Follower);
    const upToDate = this.log.isUpToDate(m.index, m.logTerm) || this.variant === 'vote-ignores-log';
    if (canVote && upToDate) {
      const resp = message({ type: respType, from: this.id, to: m.from, term: m.term });
      if (pre) {
        this.send(resp);
      } else {
        assert(this.vote === NONE || this.vote === m.from || this.variant === 'double-vote', `node ${this.id} voting twice in term ${this.term}`);
        this.electionElapsed = 0;
        this.vote = m.from;
        this.sendAfterPersist(resp);
      }
    } else {
      this.send(message({ type: respType, from: this.id, to: m.from, term: this.term, reject: true }));
    }
  }

  // ------------------------------------------------------------ per-role steps

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.Append:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppend(m);
        break;
      case MessageType.Heartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        break;
      case MessageType.Commit:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleCommit(m);
        break;
      case MessageType.Snapshot:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshotChunk(m);
        break;
      case MessageType.TimeoutNow:
        this.hup(true);
        break;
      case MessageType.ReadIndexResponse:
        if (m.context !== null) this.readStates.push({ index: m.index, context: m.context });
        break;
      default:
        break; // stale responses meant for an earlier role
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case MessageType.Append:
        this.becomeFollower(m.term, m.from);
        this.handleAppend(m);
        break;
      case MessageType.Heartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        break;
      case MessageType.Commit:
        this.becomeFollower(m.term, m.from);
        this.handleCommit(m);
        break;
      case MessageType.Snapshot:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshotChunk(m);
        break;
      case MessageType.VoteResponse:
      case MessageType.PreVoteResponse: {
        const mine = this.role === Role.PreCandidate ? MessageType.PreVoteResponse : MessageType.VoteResponse;
        if (m.type !== mine) return;
        if (!this.votes.has(m.from)) this.votes.set(m.from, !m.reject);
        const result = voteResult(this.membership.voters, this.votes);
        if (result === VoteResult.Won) {
          if (this.role === Role.PreCandidate) this.campaignElection(false);
          else this.becomeLeader();
        } else if (result === VoteResult.Lost) {
          this.becomeFollower(this.term, NONE);
        }
        break;
      }
      default:
        break;
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case MessageType.AppendResponse:
        this.handleAppendResponse(m);
        break;
      case MessageType.HeartbeatResponse:
        this.handleHeartbeatResponse(m);
        break;
      case MessageType.SnapshotResponse:
        this.handleSnapshotResponse(m);
        break;
      case MessageType.ReadIndex:
        if (m.context !== null) this.handleReadRequest(m.from, m.context, false);
        break;
      default:
        break;
    }
  }

  // ------------------------------------------------------------ follower side

  private handleAppend(m: Message): void {
    assert(this.role !== Role.Leader, `leader ${this.id} got an Append for its own term ${m.term}`); // election safety
    if (m.index < this.log.committed) {
      this.sendAfterPersist(message({ type: MessageType.AppendResponse, from: this.id, to: m.from, term: this.term, index: this.log.committed }));
      return;
    }
    if (this.log.matchTerm(m.index, m.logTerm)) {
      const lastNew = this.log.maybeAppend(m.index, m.entries);
      this.log.commitTo(Math.min(m.commit, lastNew));
      const resp = message({ type: MessageType.AppendResponse, from: this.id, to: m.from, term: this.term, index: lastNew });
      if (this.variant === 'ack-before-persist') this.send(resp);
      else this.sendAfterPersist(resp);
      return;
    }
    const hintIndex = Math.min(m.index, this.log.lastIndex());
    const [index, term] = this.log.findConflictByTerm(hintIndex, m.logTerm);
    this.send(
      message({ type: MessageType.AppendResponse, from: this.id, to: m.from, term: this.term, index: m.index, reject: true, rejectHint: index, logTerm: term }),
    );
  }

  /** No reply: a Commit whose entry this log does not hold (yet) is dropped; appends and heartbeats carry the commit too. */
  private handleCommit(m: Message): void {
    if (this.log.matchTerm(m.index, m.logTerm)) this.log.commitTo(Math.min(m.commit, m.index));
  }

  private handleHeartbeat(m: Message): void {
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send(message({ type: MessageType.HeartbeatResponse, from: this.id, to: m.from, term: this.term, context: m.context }));
  }

  private handleSnapshotChunk(m: Message): void {
    const c = m.snapshot;
    assert(c !== null, 'snapshot message without a chunk');
    const reply = (offset: number): void =>
      this.send(message({ type: MessageType.SnapshotResponse, from: this.id, to: m.from, term: this.term, index: c.meta.index, offset }));
    if (c.meta.index <= this.log.committed) {
      this.incoming = null;
      this.sendAfterPersist(message({ type: MessageType.AppendResponse, from: this.id, to: m.from, term: this.term, index: this.log.committed }));
      return;
    }
    let inc = this.incoming;
    if (inc === null || inc.meta.index !== c.meta.index || inc.meta.term !== c.meta.term) {
      if (c.offset !== 0) {
        reply(0);
        return;
      }
      inc = { meta: c.meta, totalBytes: c.totalBytes, parts: [], received: 0 };
      this.incoming = inc;
    }
    if (c.offset !== inc.received) {
      reply(inc.received);
      return;
    }
    inc.parts.push(c.data);
    inc.received += c.data.byteLength;
    assert(inc.received <= inc.totalBytes, 'snapshot chunks overflow the announced size');
    if (inc.received < inc.totalBytes) {
      reply(inc.received);
      return;
    }
    this.incoming = null;
    const data = new Uint8Array(inc.totalBytes);
    let at = 0;
    for (const p of inc.parts) {
      data.set(p, at);
      at += p.byteLength;
    }
    this.restore({ meta: inc.meta, data });
    this.sendAfterPersist(message({ type: MessageType.AppendResponse, from: this.id, to: m.from, term: this.term, index: this.log.committed }));
  }

  private restore(s: Snapshot): void {
    if (this.log.matchTerm(s.meta.index, s.meta.term)) {
      this.log.commitTo(s.meta.index); // we have the entries: fast-forward instead
      return;
    }
    this.log.restore(s.meta.index, s.meta.term);
    this.log.applying = s.meta.index;
    this.membership = s.meta.membership;
    this.membershipIndex = s.meta.index;
    this.snapshot = s;
    this.snapshotForHost = s;
  }

  // ------------------------------------------------------------ leader side

  private progress(id: number): Progress {
    const pr = this.prs.get(id);
    assert(pr !== undefined, `no progress for ${id}`);
    return pr;
  }

  /** Makes the progress map match the membership (leader only). */
  private syncProgress(): void {
    const learners = new Set(this.membership.learners);
    const members = new Set([...this.membership.voters, ...this.membership.learners]);
    for (const id of [...this.prs.keys()]) if (!members.has(id)) this.prs.delete(id);
    for (const id of members) {
      let pr = this.prs.get(id);
      if (pr === undefined) {
        pr = new Progress(this.log.lastIndex() + 1, learners.has(id), this.limits.maxInflightMsgs, this.limits.maxInflightBytes);
        pr.recentActive = true;
        this.prs.set(id, pr);
      }
      pr.isLearner = learners.has(id);
    }
  }

  private maybeCommit(): boolean {
    const mci = committedIndex(this.membership.voters, (id) => this.prs.get(id)?.match ?? 0);
    if (mci <= this.log.committed) return false;
    // Only entries of the current term commit by counting; earlier ones commit with them (Figure 8).
    if (this.log.term(mci) !== this.term && this.variant !== 'commit-previous-term') return false;
    const wasCommittedInTerm = this.committedInTerm();
    this.log.commitTo(mci);
    if (!wasCommittedInTerm && this.committedInTerm()) this.releasePendingReads();
    return true;
  }

  private maybeCommitAndBroadcast(): void {
    if (this.role === Role.Leader && this.maybeCommit()) this.broadcastPending = true;
  }

  private committedInTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  private flushBroadcast(): void {
    if (this.role !== Role.Leader) {
      this.broadcastPending = false;
      this.readHeartbeatPending = false;
      return;
    }
    if (this.broadcastPending) {
      this.broadcastPending = false;
      for (const [id, pr] of this.prs) {
        if (id === this.id) continue;
        if (pr.state !== ProgressState.Replicate) {
          if (this.sendAppend(id, true)) while (this.sendAppend(id, false));
          continue;
        }
        // New entries carry the commit; otherwise (nothing new, or the follower's
        // appends paused by flow control) a Commit tells it without waiting for them.
        while (this.sendAppend(id, false));
        this.sendCommit(id, pr);
      }
    }
    if (this.readHeartbeatPending) {
      this.readHeartbeatPending = false;
      this.bcastHeartbeat(this.readOnly.lastContext());
    }
  }

  /** Sends entries (or a snapshot) to a follower unless flow control pauses it. Returns whether it sent. */
  private sendAppend(to: number, sendIfEmpty: boolean): boolean {
    const pr = this.prs.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    if (prevTerm < 0) {
      this.sendSnapshot(to, pr);
      return true;
    }
    const entries = pr.next <= this.log.lastIndex() ? this.log.slice(pr.next, this.limits.maxEntriesPerMsg, this.limits.maxMsgBytes) : [];
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.send(
      message({ type: MessageType.Append, from: this.id, to, term: this.term, index: prevIndex, logTerm: prevTerm, entries, commit: this.log.committed }),
    );
    if (entries.length > 0) {
      let bytes = 0;
      for (const e of entries) bytes += entryBytes(e);
      const last = entries[entries.length - 1].index;
      pr.sentEntries(last, bytes);
      // The follower commits up to min(commit, last) once it takes these entries.
      if (pr.state === ProgressState.Replicate) pr.commitSent = Math.max(pr.commitSent, Math.min(this.log.committed, last));
    } else if (pr.state === ProgressState.Probe) {
      pr.probeSent = true;
    }
    return true;
  }

  /**
   * Tells a replicating follower the commit index, up to the last entry sent to it
   * (acknowledged or not: an entry it holds in memory may be applied once committed,
   * before its own write of it is durable), unless it was told already. The Commit
   * names that entry (index, logTerm) and the follower takes it only if its log has
   * that entry: then, by log matching, its log is the leader's up to there.
   */
  private sendCommit(to: number, pr: Progress): void {
    const upTo = Math.min(this.log.committed, pr.next - 1);
    if (upTo <= pr.commitSent) return;
    const logTerm = this.log.term(upTo);
    if (logTerm < 0) return; // compacted away: the next heartbeat tells it
    pr.commitSent = upTo;
    this.send(message({ type: MessageType.Commit, from: this.id, to, term: this.term, index: upTo, logTerm, commit: this.log.committed }));
  }

  private sendSnapshot(to: number, pr: Progress): void {
    const snap = this.snapshot;
    assert(snap !== null && snap.meta.index >= this.log.snapshotIndex, `log compacted to ${this.log.snapshotIndex} without a snapshot`);
    pr.becomeSnapshot(snap.meta.index);
    this.sendSnapshotChunk(to, pr);
  }

  private sendSnapshotChunk(to: number, pr: Progress): void {
    const snap = this.snapshot;
    assert(snap !== null, 'no snapshot to send');
    if (snap.meta.index !== pr.pendingSnapshot) {
      pr.pendingSnapshot = snap.meta.index; // we took a newer snapshot meanwhile: start it over
      pr.snapshotOffset = 0;
    }
    const offset = Math.min(pr.snapshotOffset, snap.data.byteLength);
    const end = Math.min(snap.data.byteLength, offset + this.limits.maxSnapshotChunkBytes);
    pr.snapshotChunkSentThisBeat = true;
    this.send(
      message({
        type: MessageType.Snapshot,
        from: this.id,
        to,
        term: this.term,
        index: snap.meta.index,
        commit: this.log.committed,
        snapshot: { meta: snap.meta, offset, data: snap.data.subarray(offset, end), totalBytes: snap.data.byteLength },
      }),
    );
  }

  private bcastHeartbeat(context: Uint8Array | null): void {
    for (const [id, pr] of this.prs) {
      if (id === this.id) continue;
      pr.snapshotChunkSentThisBeat = false;
      this.send(
        message({ type: MessageType.Heartbeat, from: this.id, to: id, term: this.term, commit: Math.min(pr.match, this.log.committed), context }),
      );
    }
  }

  private sendTimeoutNow(to: number): void {
    this.send(message({ type: MessageType.TimeoutNow, from: this.id, to, term: this.term }));
  }

  private handleAppendResponse(m: Message): void {
    const pr = this.prs.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    if (m.reject) {
      let nextProbe = m.rejectHint;
      if (m.logTerm > 0) [nextProbe] = this.log.findConflictByTerm(m.rejectHint, m.logTerm);
      if (pr.maybeDecrTo(m.index, nextProbe)) {
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        this.sendAppend(m.from, true);
      }
      return;
    }
    if (!pr.maybeUpdate(m.index)) return;
    if (pr.state === ProgressState.Probe) {
      pr.becomeReplicate();
    } else if (pr.state === ProgressState.Snapshot) {
      if (pr.match >= pr.pendingSnapshot) {
        pr.becomeProbe();
        pr.becomeReplicate();
      }
    } else {
      pr.inflights.freeLE(m.index);
    }
    if (this.maybeCommit()) this.broadcastPending = true;
    while (this.sendAppend(m.from, false));
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.sendTimeoutNow(m.from);
  }

  private handleHeartbeatResponse(m: Message): void {
    const pr = this.prs.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    if (this.variant !== 'stuck-probe') pr.probeSent = false;
    if (pr.state === ProgressState.Replicate && pr.inflights.full()) pr.inflights.freeFirstOne();
    if (pr.state === ProgressState.Snapshot) {
      if (!pr.snapshotChunkSentThisBeat) this.sendSnapshotChunk(m.from, pr);
    } else if (pr.match < this.log.lastIndex()) this.sendAppend(m.from, true);

    if (m.context === null || pr.isLearner) return;
    const acks = this.readOnly.ack(m.from, m.context);
    if (acks === null) return;
    if (!hasQuorum(this.membership.voters, (id) => id === this.id || acks.has(id))) return;
    for (const req of this.readOnly.release(m.context)) this.serveRead(req.from, req.index, req.context);
  }

  private handleSnapshotResponse(m: Message): void {
    const pr = this.prs.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    if (pr.state !== ProgressState.Snapshot || m.index !== pr.pendingSnapshot) return;
    if (m.offset > pr.snapshotOffset || m.offset === 0) {
      pr.snapshotOffset = m.offset;
      this.sendSnapshotChunk(m.from, pr);
    }
  }

  private handleReadRequest(from: number, context: Uint8Array, local: boolean): void {
    const drop = (): void => {
      if (local) throw new ProposalDropped('read index queue full', this.lead);
    };
    if (this.membership.voters.length === 1 && this.membership.voters[0] === this.id) {
      this.serveRead(from, this.log.committed, context);
      return;
    }
    if (this.readOnly.size() + this.pendingReadIndex.length >= this.limits.maxReadIndexQueue) return drop();
    if (!this.committedInTerm()) {
      // The commit index is only known to be current once an entry of this term committed.
      this.pendingReadIndex.push({ from, context });
      return;
    }
    if (this.variant === 'read-without-heartbeat') {
      this.serveRead(from, this.log.committed, context);
      return;
    }
    if (this.readOnly.add(this.log.committed, from, context)) this.readHeartbeatPending = true;
  }

  private releasePendingReads(): void {
    const pending = this.pendingReadIndex;
    this.pendingReadIndex = [];
    for (const r of pending) this.handleReadRequest(r.from, r.context, false);
  }

  private serveRead(from: number, index: number, context: Uint8Array): void {
    if (from === this.id) this.readStates.push({ index, context });
    else this.send(message({ type: MessageType.ReadIndexResponse, from: this.id, to: from, term: this.term, index, context }));
  }

  // ------------------------------------------------------------ membership

  private hasConfEntry(after: number, upTo: number): boolean {
    const from = Math.max(after, this.log.snapshotIndex);
    const to = Math.min(upTo, this.log.lastIndex());
    for (let i = from + 1; i <= to; i++) if (this.log.entry(i).type === EntryType.ConfChange) return true;
    return false;
  }

  private applyConfEntry(e: Entry): void {
    if (e.type !== EntryType.ConfChange || e.index <= this.membershipIndex) return;
    this.membershipIndex = e.index;
    this.membership = applyConfChange(this.membership, decodeConfChange(e.data));
    if (this.role !== Role.Leader) return;
    if (!this.membership.voters.includes(this.id)) {
      this.becomeFollower(this.term, NONE); // removed or demoted: step down, the others elect a leader
      return;
    }
    this.syncProgress();
    if (this.leadTransferee !== NONE && !this.membership.voters.includes(this.leadTransferee)) this.leadTransferee = NONE;
    this.maybeCommit();
    this.broadcastPending = true;
  }

  // ------------------------------------------------------------ output

  private send(m: Message): void {
    assert(m.to !== this.id, `node ${this.id} sending ${m.type} to itself`);
    this.msgs.push(m);
  }

  /**
   * Sends m once its Ready is persisted. An append acknowledgement (its index is
   * the last entry it vouches for) also waits, in async storage mode, for the log
   * to be durable through that index.
   */
  private sendAfterPersist(m: Message): void {
    const needsIndex = m.type === MessageType.AppendResponse && !m.reject ? m.index : 0;
    this.msgsAfterPersist.push({ message: m, needsIndex });
  }
}

const EMPTY_STATE: PersistedState = { hardState: { term: 0, vote: NONE, commit: 0 }, snapshot: null, entries: [] };

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/**
 * The state every member of a brand-new cluster persists before its first start:
 * one AddVoter entry per voter at term 1, all committed.
 */
export function bootstrapState(voters: readonly number[]): PersistedState {
  assert(voters.length > 0, 'a cluster needs a voter');
  const entries: Entry[] = voters.map((node, i) => ({
    term: 1,
    index: i + 1,
    type: EntryType.ConfChange,
    data: encodeConfChange({ type: 1, node }),
  }));
  return { hardState: { term: 1, vote: NONE, commit: entries.length }, snapshot: null, entries };
}
