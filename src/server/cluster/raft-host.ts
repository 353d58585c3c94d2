// The host around the pure Raft core (src/consensus): the clock, the disk and the
// network. It runs the Ready loop of the core's contract, in the core's async
// storage mode:
//
//   ready() -> send messages (they never acknowledge unpersisted state)
//           -> install a leader's snapshot, apply committed entries (already on a quorum's disks)
//           -> queue new entries on the WAL (the Raft log: ordered, group-committed
//              fdatasync) without waiting for them; save the hard state when term or
//              vote changed (waited for: votes must be durable before they count)
//           -> serve read states -> advance()
//   WAL batch durable -> persisted(index, term): acknowledgements for those entries
//              leave, and a leader counts itself toward the quorum.
//
// So a Ready never waits for the disk: while one batch is being fsynced the next
// Ready already sends newer entries to the followers (Raft thesis 10.2.1), and the
// only fsync on a write's critical path is the quorum's. Proposals and messages
// arriving during one turn of the event loop leave together in one Ready. The state
// machine (the tree) stays behind StateMachine.
import { randomInt } from 'node:crypto';
import {
  ConfChangeType,
  EntryType,
  MessageType,
  decodeConfChange,
  ProposalDropped,
  RaftNode,
  Role,
  encodeConfChange,
  type ConfChange,
  type Entry,
  type HardState,
  type Membership,
  type Message,
  type PersistedState,
  type RaftLimits,
  type RaftStatus,
  type ReadState,
  type Snapshot,
  type SnapshotMeta,
  type SoftState,
} from '../../consensus/index.js';
import { SILENT_LOG, type Log } from '../../util/log.js';
import { isStallError, type NodeStorage, type StorageStall } from '../../storage/index.js';
import { retryWhileStalled, type StallTracker } from '../../storage/stall.js';
import { assert } from '../../util/assert.js';
import { SeededRandom } from '../../util/random.js';
import { drainInSlices } from '../../util/slices.js';
import { HostTimings } from './host-timings.js';

/** What the host needs from the replicated state machine. */
export interface StateMachine {
  /** A committed entry, strictly in index order (every type: the tree skips the ones without a txn). */
  applyEntry(entry: Entry): void;
  /** The leader's snapshot replaces the whole state (this node was too far behind). */
  restore(snapshot: Snapshot): void;
  /** Leader or role changed (from the Ready's soft state). */
  roleChanged(soft: SoftState, term: number): void;
  /** Whether a snapshot is due (by entries or bytes applied since the last one). */
  snapshotDue(): boolean;
  /**
   * Asked after each Ready: the chunks of a snapshot of the state at `appliedIndex`,
   * or null for not now. The state is fixed by this call; the host pulls the chunks
   * over several event-loop turns while entries go on being applied.
   */
  snapshotChunks(appliedIndex: number): Iterator<Uint8Array, void> | null;
}

export interface RaftTiming {
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
}

/** Sends a Raft message to its `to`; loss is fine (Raft retries). */
export type MessageSink = (message: Message) => void;

export interface RaftHostOptions extends RaftTiming {
  readonly id: number;
  /** Members of a brand-new ensemble: written to an empty log as its first entries, identically on every member. */
  readonly initialMembers: Membership | null;
  readonly limits?: Partial<RaftLimits>;
  /** Entries kept in memory below a snapshot so a follower a little behind catches up from the log, not a snapshot. */
  readonly retainEntries: number;
  /** A read that got no confirmation from the leader within this long fails. */
  readonly readIndexTimeoutMs: number;
  /** The server's root log: elections, leader changes, snapshots and membership changes are logged in child loggers (default: nowhere). */
  readonly log?: Log;
}

/** A read barrier failed: no leader, or no confirmation in time. The client may retry. */
export class ReadIndexFailed extends Error {
  override name = 'ReadIndexFailed';
}

/** ConfChangeType values as words, for log lines. */
const CONF_CHANGE_NAMES: Readonly<Record<number, string>> = { [ConfChangeType.AddVoter]: 'add voter', [ConfChangeType.AddLearner]: 'add learner', [ConfChangeType.RemoveNode]: 'remove' };

const MEMBERSHIP_MAGIC = 'zook-membership-v1';
/** A ReadIndex context: this node's id (u32), then a per-host counter (f64). */
const READ_CONTEXT_BYTES = 12;

/** Leader: how often (in Raft ticks) followers' catch-up is looked at for the log. */
const CATCH_UP_CHECK_TICKS = 10;
/** A follower this many entries behind (or not replicating) is catching up, and logged as such (busy followers trail by a few batches of 4,096 at most)... */
const CATCH_UP_LAG_ENTRIES = 20_000;
/** ...at most once per this many checks while it stays behind. */
const CATCH_UP_LOG_EVERY_CHECKS = 5;
/** Leader: a snapshot sent in full to a follower and started over after this long is logged again. */
const SNAPSHOT_RESEND_LOG_MS = 10_000;
/**
 * A snapshot image yields to the event loop after every chunk the machine hands
 * out (the tree's are 256 KiB, about 2-3 ms of serializing here): a rule in work,
 * not in time, so a slow machine is held no longer than a fast one per slice.
 */
const SNAPSHOT_SLICE_MS = 0;

/** Entries applied at once outside the Ready loop (a catching-up follower gets the rest through it). */
const MAX_EARLY_APPLY_ENTRIES = 4096;
/** WAL appends queued and not yet durable before the Ready loop waits for the oldest (the WAL's own queue bounds bytes). */
const MAX_WRITES_IN_FLIGHT = 64;

export function encodeMembership(m: Membership): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ format: MEMBERSHIP_MAGIC, voters: m.voters, learners: m.learners }));
}

export function decodeMembership(bytes: Uint8Array): Membership {
  const parsed = JSON.parse(new TextDecoder().decode(bytes)) as { format?: string; voters?: unknown; learners?: unknown };
  assert(parsed.format === MEMBERSHIP_MAGIC && Array.isArray(parsed.voters) && Array.isArray(parsed.learners), 'snapshot metadata is not a zook membership');
  return { voters: parsed.voters as number[], learners: parsed.learners as number[] };
}

/** The first entries of a new ensemble's log: one membership change per member, committed at term 1. */
export function bootstrapEntries(members: Membership): Entry[] {
  const changes: ConfChange[] = [
    ...members.voters.map((node) => ({ type: ConfChangeType.AddVoter, node })),
    ...members.learners.map((node) => ({ type: ConfChangeType.AddLearner, node })),
  ];
  return changes.map((change, i) => ({ term: 1, index: i + 1, type: EntryType.ConfChange, data: encodeConfChange(change) }));
}

/** One buffer of all chunks (a snapshot image is one Uint8Array for the Raft core). */
export function concatChunks(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  let total = 0;
  for (const c of chunks) total += c.byteLength;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

export interface HostCounters {
  readies: number;
  entriesPersisted: number;
  hardStateSaves: number;
  snapshotsTaken: number;
  /** Event-loop turns snapshot images yielded to while being built. */
  snapshotSlices: number;
  snapshotsInstalled: number;
  leaderChanges: number;
  electionsWon: number;
  readIndexFailed: number;
}

export class RaftHost {
  readonly raft: RaftNode;
  readonly counters: HostCounters = {
    readies: 0,
    entriesPersisted: 0,
    hardStateSaves: 0,
    snapshotsTaken: 0,
    snapshotSlices: 0,
    snapshotsInstalled: 0,
    leaderChanges: 0,
    electionsWon: 0,
    readIndexFailed: 0,
  };
  private sink: MessageSink = () => {};
  private machine: StateMachine | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private scheduled = false;
  private running: Promise<void> | null = null;
  private closed = false;
  private savedHardState: HardState;
  private soft: SoftState = { leader: 0, role: Role.Follower };
  /** Reads waiting for the leader's confirmation, by the counter in their context. */
  private readonly pendingReads = new Map<number, { resolve: (index: number) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();
  private readCounter = 0;
  private snapshotSaving: Promise<void> | null = null;
  private campaignWhenAlone = false;
  /** The last index handed to the state machine (it may run ahead of the core's `applied`: see applyCommittedEarly). */
  private machineApplied: number;
  /** WAL appends queued and not yet reported durable, oldest first. */
  private readonly writesInFlight = new Set<Promise<void>>();
  /** A hard-state save or snapshot install retried after a disk error (the WAL keeps its own). */
  private readonly hostStall: StallTracker = { stall: null, stallChanged: () => this.stallChanged() };
  private ticksElapsed = 0;
  /** Clocks for the metrics (proposal to commit, peer round trip, snapshots): the core has none. */
  readonly timings: HostTimings;
  private stallListener: (stall: StorageStall | null) => void = () => {};
  private readonly log: Log;
  private readonly snapshotLog: Log;
  private readonly storageLog: Log;
  private readonly membershipLog: Log;
  /** The membership last logged (voters/learners as text), to log each change once. */
  private loggedMembership = '';
  /** A conf change or snapshot was applied (or the host just started): log the membership after the next advance(). */
  private membershipMayHaveChanged = true;
  /** Raft ticks at the last message from the current leader (why an election started). */
  private leaderHeardTick = 0;
  /** A TimeoutNow arrived: the next campaign is a leader transfer, not a timeout. */
  private transferAsked = false;
  /** Snapshot chunks streaming in from the leader: when the first one came (for the install line). */
  private snapshotReceiving: { index: number; totalBytes: number; startedMs: number; nextLogBytes: number } | null = null;
  /** Leader: the snapshot being sent to each follower (to log its start and end once). */
  private readonly snapshotsOut = new Map<number, { index: number; startedMs: number; done: boolean; doneMs: number }>();
  /** Leader: followers reported behind, with the checks since their last progress line (to log them caught up once). */
  private readonly behind = new Map<number, number>();

  private constructor(
    private readonly storage: NodeStorage,
    private readonly options: RaftHostOptions,
    persisted: PersistedState,
    applied: number,
  ) {
    this.savedHardState = persisted.hardState;
    this.machineApplied = applied;
    this.timings = new HostTimings(options.tickMs * options.heartbeatTicks);
    const root = options.log ?? SILENT_LOG;
    this.log = root.child({ component: 'raft' });
    this.snapshotLog = root.child({ component: 'snapshot' });
    this.storageLog = root.child({ component: 'storage' });
    this.membershipLog = root.child({ component: 'membership' });
    this.raft = new RaftNode(
      {
        id: options.id,
        random: new SeededRandom(randomInt(0, 2 ** 31)),
        electionTicks: options.electionTicks,
        heartbeatTicks: options.heartbeatTicks,
        applied,
        asyncStorageWrites: true,
        ...(options.limits === undefined ? {} : { limits: options.limits }),
      },
      persisted,
    );
  }

  /**
   * Builds the core from what `storage` recovered (bootstrapping an empty log of a
   * new ensemble first). `snapshotData` is the recovered snapshot's image, which
   * the caller already loaded into its state machine.
   */
  static async open(storage: NodeStorage, options: RaftHostOptions, snapshotData: Uint8Array | null): Promise<RaftHost> {
    const log = storage.log;
    let hardState = storage.recovered.hardState;
    const stored = storage.recovered.snapshot;
    const fresh = hardState.term === 0 && stored === undefined && log.lastIndex() === 0;
    if (fresh && options.initialMembers !== null) {
      const entries = bootstrapEntries(options.initialMembers);
      await log.append(entries);
      hardState = { term: 1, vote: 0, commit: entries.length };
      await storage.hardState.save(hardState);
    }
    const entries: Entry[] = [];
    for await (const entry of storage.replay(Math.max(log.firstIndex(), (stored?.index ?? 0) + 1))) entries.push(entry);
    // The saved commit is a hint (a restarted node relearns it from the leader): it must
    // not point past the recovered log, whatever wrote it (a torn tail cut at recovery).
    const lastRecovered = entries.length > 0 ? entries[entries.length - 1].index : (stored?.index ?? 0);
    if (hardState.commit > lastRecovered) hardState = { term: hardState.term, vote: hardState.vote, commit: lastRecovered };
    const snapshot: Snapshot | null =
      stored === undefined || snapshotData === null
        ? null
        : { meta: { index: stored.index, term: stored.term, membership: decodeMembership(stored.meta) }, data: snapshotData };
    return new RaftHost(storage, options, { hardState, snapshot, entries }, stored?.index ?? 0);
  }

  /**
   * Set while this node cannot write to its disk (ENOSPC, EIO, ...: see
   * storage/stall.ts): its log, hard state or snapshot install is being retried.
   * The node then takes no new writes; Raft itself carries on (a stalled follower
   * just does not acknowledge, a stalled vote is not cast).
   */
  get storageStall(): StorageStall | null {
    return this.storage.log.stall ?? this.hostStall.stall;
  }

  /** `listener` hears when storageStall turns non-null and back to null. */
  onStorageStall(listener: (stall: StorageStall | null) => void): void {
    this.stallListener = listener;
  }

  private stallChanged(): void {
    this.stallListener(this.storageStall);
  }

  /** Runs a disk operation until it succeeds; a disk error (ENOSPC, EIO, ...) stalls and retries it. */
  private retryStalled(operation: string, run: () => Promise<void>): Promise<void> {
    return retryWhileStalled(operation, run, this.hostStall, () => this.closed);
  }

  /** Connects the outputs and starts the clock. Entries committed before a restart are applied from here on. */
  start(machine: StateMachine, sink: MessageSink): void {
    this.machine = machine;
    this.sink = (message) => {
      this.timings.sent(message);
      sink(message);
    };
    this.storage.log.onStallChange(() => this.stallChanged());
    this.tickTimer = setInterval(() => {
      this.ticksElapsed++;
      this.raft.tick();
      if (this.ticksElapsed % CATCH_UP_CHECK_TICKS === 0) this.logCatchUp();
      this.kick();
    }, this.options.tickMs);
    this.kick();
  }

  /**
   * The only voter (a single server) need not wait an election timeout to lead. The
   * membership is known once the recovered conf changes are applied, so the check
   * runs after the Ready that applies them.
   */
  campaignIfAlone(): void {
    this.campaignWhenAlone = true;
    this.kick();
  }

  private maybeCampaignAlone(): void {
    if (!this.campaignWhenAlone) return;
    const status = this.raft.status();
    if (status.applied < status.commit) return; // membership may still change
    this.campaignWhenAlone = false;
    const m = status.membership;
    if (m.voters.length === 1 && m.voters[0] === this.options.id && status.role !== Role.Leader) {
      this.raft.campaign();
      this.kick();
    }
  }

  get leader(): number {
    return this.soft.leader;
  }

  /**
   * Raft ticks since start. A stalled event loop (GC, a burst of work, a paused
   * process) delivers one late tick, not the ones it missed: time measured in ticks
   * stretches with the loop's lag, as the core's own election timeout does.
   */
  get ticks(): number {
    return this.ticksElapsed;
  }

  get isLeader(): boolean {
    return this.raft.currentRole === Role.Leader;
  }

  get term(): number {
    return this.raft.currentTerm;
  }

  get lastIndex(): number {
    return this.raft.lastIndex;
  }

  get commitIndex(): number {
    return this.raft.commitIndex;
  }

  status(): RaftStatus {
    return this.raft.status();
  }

  /** Appends data to the log as leader; throws ProposalDropped when this node cannot. */
  propose(data: Uint8Array): { index: number; term: number } {
    const proposed = this.raft.propose(data);
    this.timings.proposed(proposed.index);
    this.kick();
    return proposed;
  }

  proposeConfChange(change: ConfChange): { index: number; term: number } {
    const proposed = this.raft.proposeConfChange(change);
    this.kick();
    return proposed;
  }

  transferLeader(to: number): void {
    this.raft.transferLeader(to);
    this.kick();
  }

  /** A message from a peer. */
  step(message: Message): void {
    if (this.closed) return;
    if (message.from === this.soft.leader) this.leaderHeardTick = this.ticksElapsed;
    if (message.type === MessageType.TimeoutNow) this.transferAsked = true;
    if (message.type === MessageType.Snapshot && message.snapshot !== null) this.snapshotChunkIn(message);
    this.timings.received(message);
    this.raft.step(message);
    this.kick();
  }

  /**
   * Applies entries the moment they are known committed, instead of in the next
   * Ready: that one may wait behind the fdatasync of the Ready in flight, which would
   * add a whole disk flush to every write's latency (on the leader when an ack
   * arrives, on a follower when the commit index does). Committed entries are
   * immutable and already on a quorum's disks, so applying them now is as safe as
   * applying them later; the Ready loop skips what was applied here.
   * Runs from kick()'s setImmediate, never inside step(): by then the microtasks
   * of the frames that came before (a forwarded write's answer registering its
   * waiter) have run, so no entry is applied before its writer waits for it.
   */
  private applyCommittedEarly(): void {
    const machine = this.machine;
    if (machine === null) return;
    const commit = this.raft.commitIndex;
    if (commit <= this.machineApplied) return;
    // A snapshot is taken at the core's applied index, so the state must not run ahead
    // of it then: under steady load it always would, and no snapshot would ever be taken.
    if (machine.snapshotDue()) return;
    // Entries below the log's start: a snapshot is on its way through the Ready loop.
    if (this.raft.compactedIndex > this.machineApplied) return;
    const upTo = Math.min(commit, this.machineApplied + MAX_EARLY_APPLY_ENTRIES);
    for (const entry of this.raft.entriesBetween(this.machineApplied, upTo)) this.applyOne(machine, entry);
  }

  private applyOne(machine: StateMachine, entry: Entry): void {
    assert(entry.index === this.machineApplied + 1, () => `apply out of order: ${entry.index} after ${this.machineApplied}`);
    machine.applyEntry(entry);
    this.machineApplied = entry.index;
    if (entry.type === EntryType.ConfChange) {
      this.membershipMayHaveChanged = true;
      this.logMembership(entry);
    }
  }

  /** A committed membership change, with the membership it leaves (the core's, once it applied the entry). */
  private logMembership(entry: Entry): void {
    let change: ConfChange | null = null;
    try {
      change = decodeConfChange(entry.data);
    } catch {
      // the core already refused what it cannot decode; the line still says the entry applied
    }
    this.membershipLog.info({ index: entry.index, term: entry.term, change: change === null ? null : `${CONF_CHANGE_NAMES[change.type] ?? change.type} ${change.node}` }, 'membership change committed');
  }

  /** After the core applied entries: the membership it now has, when it differs from the one last logged. */
  private logMembershipNow(): void {
    this.membershipMayHaveChanged = false;
    const m = this.raft.status().membership;
    const text = `${m.voters.join(',')}|${m.learners.join(',')}`;
    if (text === this.loggedMembership) return;
    this.loggedMembership = text;
    this.membershipLog.info({ voters: [...m.voters], learners: [...m.learners] }, `members: voters [${m.voters.join(', ')}]${m.learners.length > 0 ? `, learners [${m.learners.join(', ')}]` : ''}`);
  }

  /** Elections and leader changes, with the term and why (derived here: the core is pure and logs nothing). */
  private logRoleChange(before: SoftState, after: SoftState): void {
    const term = this.raft.currentTerm;
    const fields = { term, role: after.role, leader: after.leader, previousLeader: before.leader, previousRole: before.role };
    if (after.role === Role.PreCandidate || after.role === Role.Candidate) {
      const reason = this.campaignReason(before);
      this.transferAsked = false;
      this.log.info({ ...fields, reason }, after.role === Role.PreCandidate ? 'starting a pre-vote' : 'starting an election');
    } else if (after.role === Role.Leader) {
      this.log.info(fields, `became leader in term ${term}`);
    } else if (before.role === Role.Leader) {
      const reason = after.leader !== 0 ? `server ${after.leader} leads term ${term}` : 'a newer term or lost contact with a majority (check quorum)';
      this.log.warn({ ...fields, reason }, `stepped down as leader (term ${term})`);
    } else if (after.leader !== before.leader) {
      if (after.leader === 0) this.log.warn(fields, `leader ${before.leader} is gone (term ${term}): no leader known`);
      else this.log.info(fields, `leader is server ${after.leader} in term ${term}`);
    }
    if (after.leader !== before.leader) this.leaderHeardTick = this.ticksElapsed;
  }

  /**
   * Leader: a follower far behind (a restarted one, a new learner) is logged as it
   * catches up (match index, lag, the core's progress state: probe, replicate or
   * snapshot), then once when it has caught up.
   */
  private logCatchUp(): void {
    if (this.soft.role !== Role.Leader) {
      this.behind.clear();
      this.snapshotsOut.clear();
      return;
    }
    const last = this.raft.lastIndex;
    for (const f of this.raft.followers()) {
      const lag = last - f.match;
      const checks = this.behind.get(f.id);
      // A follower that is down is not catching up: its link going down was logged.
      if (f.recentActive && (lag >= CATCH_UP_LAG_ENTRIES || f.state !== 'replicate')) {
        if (checks === undefined || checks >= CATCH_UP_LOG_EVERY_CHECKS) {
          this.log.info({ follower: f.id, match: f.match, lastIndex: last, lag, state: f.state }, `server ${f.id} is catching up: at index ${f.match} of ${last} (${lag} behind, ${f.state})`);
          this.behind.set(f.id, 1);
        } else this.behind.set(f.id, checks + 1);
      } else if (checks !== undefined && f.state === 'replicate') {
        this.behind.delete(f.id);
        this.log.info({ follower: f.id, match: f.match, lastIndex: last, lag }, `server ${f.id} caught up (at index ${f.match} of ${last})`);
      }
    }
  }

  /** Why this server campaigns, as far as the host can tell from outside the core. */
  private campaignReason(before: SoftState): string {
    if (this.transferAsked) return 'the leader handed leadership over (TimeoutNow)';
    if (before.role === Role.PreCandidate) return 'won the pre-vote: a majority would vote for this server';
    if (before.leader === 0) return 'no leader known and the election timeout passed';
    return `no word from leader ${before.leader} for ${this.ticksElapsed - this.leaderHeardTick} ticks of ${this.options.tickMs} ms (election timeout)`;
  }

  /**
   * Leader: a follower too far behind for the log gets the snapshot. Logged once as it
   * starts and once as its last chunk leaves (chunks are sent again while the follower
   * does not acknowledge them: those are debug lines).
   */
  private snapshotChunkOut(m: Message): void {
    const chunk = m.snapshot!;
    const end = chunk.offset + chunk.data.byteLength;
    const now = Date.now();
    const fields = { follower: m.to, index: chunk.meta.index, term: chunk.meta.term, totalBytes: chunk.totalBytes, sentBytes: end };
    let out = this.snapshotsOut.get(m.to);
    if (out === undefined || out.index !== chunk.meta.index || (chunk.offset === 0 && out.done && now - out.doneMs > SNAPSHOT_RESEND_LOG_MS)) {
      out = { index: chunk.meta.index, startedMs: now, done: false, doneMs: 0 };
      this.snapshotsOut.set(m.to, out);
      this.snapshotLog.info(fields, `sending snapshot to server ${m.to} (too far behind for the log)`);
    }
    if (end >= chunk.totalBytes && !out.done) {
      out.done = true;
      out.doneMs = now;
      this.snapshotLog.info({ ...fields, durationMs: now - out.startedMs }, `sent the last snapshot chunk to server ${m.to}`);
    } else this.snapshotLog.debug(fields, `snapshot chunk to server ${m.to}`);
  }

  /** Follower: chunks of the leader's snapshot arriving (first, then about every quarter, at info). */
  private snapshotChunkIn(m: Message): void {
    const chunk = m.snapshot!;
    const end = chunk.offset + chunk.data.byteLength;
    if (chunk.meta.index <= this.machineApplied) return; // installed already: a chunk sent again
    if (this.snapshotReceiving?.index !== chunk.meta.index) {
      this.snapshotReceiving = { index: chunk.meta.index, totalBytes: chunk.totalBytes, startedMs: Date.now(), nextLogBytes: chunk.totalBytes / 4 };
      this.snapshotLog.info({ leader: m.from, index: chunk.meta.index, term: chunk.meta.term, totalBytes: chunk.totalBytes }, `receiving a snapshot from leader ${m.from}`);
    }
    const receiving = this.snapshotReceiving;
    if (end >= receiving.nextLogBytes && end < chunk.totalBytes) {
      receiving.nextLogBytes = end + chunk.totalBytes / 4;
      this.snapshotLog.info({ leader: m.from, index: chunk.meta.index, receivedBytes: end, totalBytes: chunk.totalBytes }, `snapshot from leader ${m.from}: ${Math.floor((100 * end) / chunk.totalBytes)}% received`);
    }
  }

  /**
   * Resolves with an index such that serving a read after applying it is
   * linearizable (Raft's ReadIndex: the leader confirmed it still leads).
   */
  readIndex(): Promise<number> {
    const context = new Uint8Array(READ_CONTEXT_BYTES);
    const view = new DataView(context.buffer);
    view.setUint32(0, this.options.id, true);
    const key = ++this.readCounter;
    view.setFloat64(4, key, true);
    try {
      this.raft.readIndex(context);
    } catch (error) {
      this.counters.readIndexFailed++;
      if (error instanceof ProposalDropped) return Promise.reject(new ReadIndexFailed(`read barrier refused: ${error.reason}`));
      throw error;
    }
    this.kick();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingReads.delete(key);
        this.counters.readIndexFailed++;
        reject(new ReadIndexFailed(`no read confirmation from the leader within ${this.options.readIndexTimeoutMs} ms`));
      }, this.options.readIndexTimeoutMs);
      this.pendingReads.set(key, { resolve, reject, timer });
    });
  }

  /** Runs the Ready loop soon (once per event-loop turn, so a turn's proposals share one Ready). */
  kick(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.timings.committed(this.raft.commitIndex);
      if (this.running === null) this.running = this.runReadyLoop().finally(() => (this.running = null));
      else this.applyCommittedEarly();
    });
  }

  private async runReadyLoop(): Promise<void> {
    const machine = this.machine;
    assert(machine !== null, 'raft host: ready loop before start()');
    while (!this.closed && this.raft.hasReady()) {
      const rd = this.raft.ready();
      this.counters.readies++;
      if (rd.softState.leader !== this.soft.leader || rd.softState.role !== this.soft.role) {
        const wasLeader = this.soft.role === Role.Leader;
        if (rd.softState.leader !== this.soft.leader) this.counters.leaderChanges++;
        const before = this.soft;
        this.soft = rd.softState;
        if (!wasLeader && rd.softState.role === Role.Leader) this.counters.electionsWon++;
        this.logRoleChange(before, rd.softState);
        machine.roleChanged(rd.softState, this.raft.currentTerm);
        this.timings.roleChanged();
      }
      for (const m of rd.messages) {
        if (m.type === MessageType.Snapshot && m.snapshot !== null) this.snapshotChunkOut(m);
        this.sink(m);
      }
      if (rd.snapshot !== null) {
        const startedMs = Date.now();
        const meta = rd.snapshot.meta;
        this.log.info({ index: meta.index, term: meta.term, bytes: rd.snapshot.data.byteLength, behindBy: meta.index - this.machineApplied }, 'installing the leader\'s snapshot (this server was too far behind to catch up from the log)');
        const installStarted = this.timings.start();
        await this.storage.log.flush(); // the WAL's queued writes land before the log is replaced
        await this.installSnapshot(rd.snapshot);
        machine.restore(rd.snapshot);
        this.machineApplied = rd.snapshot.meta.index;
        this.counters.snapshotsInstalled++;
        this.timings.snapshotInstalled(installStarted, rd.snapshot.data.byteLength);
        this.membershipMayHaveChanged = true;
        const received = this.snapshotReceiving;
        this.snapshotReceiving = null;
        this.log.info(
          { index: meta.index, term: meta.term, bytes: rd.snapshot.data.byteLength, installMs: Date.now() - startedMs, ...(received === null ? {} : { transferMs: startedMs - received.startedMs }) },
          'installed the leader\'s snapshot',
        );
      }
      // Committed means on a quorum's disks: safe to apply while this node's own copy is still being written.
      for (const entry of rd.committedEntries) if (entry.index > this.machineApplied) this.applyOne(machine, entry);
      if (rd.entries.length > 0) await this.persistEntries(rd.entries);
      // Term and vote are saved before advance(): a vote counts (or is answered) only once durable.
      if (rd.hardState !== null) await this.persistHardState(rd.hardState);
      for (const rs of rd.readStates) this.readConfirmed(rs);
      this.raft.advance();
      if (this.membershipMayHaveChanged) this.logMembershipNow();
      this.maybeSnapshot(machine);
      this.maybeCampaignAlone();
    }
    this.maybeCampaignAlone();
  }

  /**
   * Queues entries on the WAL and returns without waiting for their fdatasync (only
   * when MAX_WRITES_IN_FLIGHT are outstanding does it wait for the oldest). The WAL
   * applies its appends and cuts in the order they are issued, so when this batch
   * is durable, the disk holds exactly the core's log up to its last entry, which
   * persisted() checks by (index, term). A full or failing disk stalls the WAL,
   * which retries the write until it succeeds (storageStall says so meanwhile); any
   * other failed write is fatal: nothing more can be promised about this log.
   */
  private async persistEntries(entries: readonly Entry[]): Promise<void> {
    const log = this.storage.log;
    const first = entries[0].index;
    const last = entries[entries.length - 1];
    // A conflicting suffix (a new leader's history wins): the cut is queued ahead of the append.
    const cut = first <= log.lastIndex() ? log.truncateSuffix(first) : null;
    const appended = log.append(entries);
    const durable: Promise<void> = (cut === null ? appended : Promise.all([cut, appended])).then(
      () => {
        this.writesInFlight.delete(durable);
        this.counters.entriesPersisted += entries.length;
        if (this.closed) return;
        this.raft.persisted(last.index, last.term);
        this.kick();
      },
      (error: unknown) => {
        this.writesInFlight.delete(durable);
        // Closing while the disk was stalled: these entries were never acknowledged.
        if (this.closed && isStallError(error)) return;
        // Thrown outside any promise chain, it stops the process as an uncaught exception.
        queueMicrotask(() => {
          throw error;
        });
      },
    );
    this.writesInFlight.add(durable);
    if (this.writesInFlight.size >= MAX_WRITES_IN_FLIGHT) await this.writesInFlight.values().next().value;
  }

  /**
   * Term and vote must be durable before anything that depends on them leaves (the
   * core holds those messages until advance). Commit alone is not saved: a restarted
   * node learns it again from the leader, and a replaced file per commit would cost
   * more than the WAL's own fsync.
   */
  private async persistHardState(hs: HardState): Promise<void> {
    if (hs.term === this.savedHardState.term && hs.vote === this.savedHardState.vote) return;
    await this.retryStalled('hard state', () => this.storage.hardState.save(hs));
    this.savedHardState = hs;
    this.counters.hardStateSaves++;
  }

  private async installSnapshot(snapshot: Snapshot): Promise<void> {
    const log = this.storage.log;
    // The core replaced its whole log with the snapshot: so does the disk.
    if (log.lastIndex() >= log.firstIndex() && log.lastIndex() > 0) await log.truncateSuffix(log.firstIndex());
    await this.retryStalled('snapshot install', () => this.storage.saveSnapshot({ index: snapshot.meta.index, term: snapshot.meta.term, meta: encodeMembership(snapshot.meta.membership) }, [snapshot.data]).then(() => undefined));
  }

  private maybeSnapshot(machine: StateMachine): void {
    if (this.snapshotSaving !== null) return;
    const applied = this.raft.status().applied;
    // The image must be the state at the core's applied index: not while applies ran ahead.
    if (this.machineApplied !== applied) return;
    // Nor past this node's durable log (see RaftNode.createSnapshot): the next Ready retries.
    if (applied > this.raft.durableIndex) return;
    const chunks = machine.snapshotChunks(applied);
    if (chunks === null) return;
    const begun = this.raft.snapshotMeta();
    this.snapshotSaving = this.buildSnapshot(begun, chunks)
      .then(
        () => {},
        (error: unknown) => {
          // Not fatal: every entry is still in the WAL. Say so loudly; the next trigger retries.
          this.snapshotLog.error({ index: begun.index, err: error }, `snapshot at index ${begun.index} failed (every entry is still in the WAL; the next trigger retries)`);
        },
      )
      .finally(() => {
        this.snapshotSaving = null;
      });
  }

  /**
   * Pulls the image's chunks one by one, yielding to the event loop between them,
   * so a large tree's snapshot never holds heartbeats, acknowledgements or client
   * requests for long (on a leader, a whole-tree pause
   * longer than an election timeout cost it leadership). Then the core takes the
   * image (it serves followers that need a snapshot) and the disk gets it.
   */
  private async buildSnapshot(begun: SnapshotMeta, chunks: Iterator<Uint8Array, void>): Promise<void> {
    const startedMs = Date.now();
    this.snapshotLog.info({ index: begun.index, term: begun.term }, `snapshot at index ${begun.index} started`);
    const buildStarted = this.timings.start();
    const parts: Uint8Array[] = [];
    const whole = await drainInSlices(chunks, (chunk) => void parts.push(chunk), {
      sliceMs: SNAPSHOT_SLICE_MS,
      stop: () => this.closed,
      onYield: () => this.counters.snapshotSlices++,
    });
    if (!whole) return;
    const image = concatChunks(parts);
    const meta = this.raft.createSnapshot(image, this.options.retainEntries, begun);
    if (meta.index !== begun.index) return; // a newer snapshot (the leader's) was installed meanwhile
    this.counters.snapshotsTaken++;
    const builtMs = Date.now();
    await this.storage.saveSnapshot({ index: meta.index, term: meta.term, meta: encodeMembership(meta.membership) }, [image]);
    this.timings.snapshotBuilt(buildStarted, image.byteLength);
    this.snapshotLog.info(
      { index: meta.index, term: meta.term, bytes: image.byteLength, buildMs: builtMs - startedMs, writeMs: Date.now() - builtMs, durationMs: Date.now() - startedMs },
      `snapshot at index ${meta.index} written (${image.byteLength} bytes)`,
    );
  }

  private readConfirmed(rs: ReadState): void {
    // Contexts are this host's own (a leader answers each node only for its requests): id, then the counter.
    if (rs.context.byteLength !== READ_CONTEXT_BYTES) return;
    const key = new DataView(rs.context.buffer, rs.context.byteOffset, READ_CONTEXT_BYTES).getFloat64(4, true);
    const pending = this.pendingReads.get(key);
    if (pending === undefined) return; // timed out already
    this.pendingReads.delete(key);
    clearTimeout(pending.timer);
    pending.resolve(rs.index);
  }

  /** Stops the clock and the loop; waits for the Ready in flight and a snapshot being written. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.tickTimer !== null) clearInterval(this.tickTimer);
    for (const pending of this.pendingReads.values()) {
      clearTimeout(pending.timer);
      pending.reject(new ReadIndexFailed('server shutting down'));
    }
    this.pendingReads.clear();
    if (this.running !== null) await this.running;
    await Promise.allSettled(this.writesInFlight);
    if (this.snapshotSaving !== null) await this.snapshotSaving;
    // A clean stop saves the commit index, so a restart applies everything at once;
    // but never past the disk's log: entries the core took in after its last Ready
    // were not written, and the commit index may already cover them.
    const current = this.raft.hardState();
    const hs = { term: current.term, vote: current.vote, commit: Math.min(current.commit, this.storage.log.durableIndex()) };
    if (hs.commit > this.savedHardState.commit || hs.term !== this.savedHardState.term || hs.vote !== this.savedHardState.vote) {
      try {
        await this.storage.hardState.save(hs);
      } catch (error) {
        // A full disk at shutdown: nothing sent depended on this save (messages wait
        // for their hard state), it only spares a restart relearning the commit index.
        if (!isStallError(error)) throw error;
        this.storageLog.error({ code: error.code }, `the final hard state was not saved (${error.code}); a restart relearns the commit index from the leader`);
      }
    }
  }
}

