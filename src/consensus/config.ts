// Configuration of one Raft node: timing in ticks, and every bound with its unit.
import { assert } from '../util/assert.js';
import type { SeededRandom } from '../util/random.js';

/**
 * Deliberately broken behaviours, for proving that the simulator's checks bite.
 * TEST ONLY: never set in production.
 */
export const BROKEN_VARIANTS = [
  /** The leader commits entries of earlier terms by counting replicas (Figure 8 of the paper). */
  'commit-previous-term',
  /** A node grants a second vote in a term it already voted in. */
  'double-vote',
  /** A node grants its vote without the log up-to-date check. */
  'vote-ignores-log',
  /** The leader answers ReadIndex at once, without a heartbeat round confirming it still leads. */
  'read-without-heartbeat',
  /** Followers acknowledge entries (and the leader counts its own) before they are persisted. */
  'ack-before-persist',
  /** A candidate asks for votes before its new term and self-vote are persisted. */
  'campaign-before-persist',
  /** Liveness bug: a probe lost on the network is never retried (heartbeat replies do not unpause it). */
  'stuck-probe',
] as const;
export type BrokenVariant = (typeof BROKEN_VARIANTS)[number];

export interface RaftLimits {
  /** Append messages in flight per follower in the replicate state. */
  readonly maxInflightMsgs: number;
  /** Entry bytes in flight per follower. */
  readonly maxInflightBytes: number;
  /** Entry bytes in one Append message (at least one entry is always sent). */
  readonly maxMsgBytes: number;
  /** Entries in one Append message. */
  readonly maxEntriesPerMsg: number;
  /** Entries appended but not yet committed on the leader; further proposals are dropped. */
  readonly maxProposalQueue: number;
  /** Bytes of snapshot image in one InstallSnapshot chunk. */
  readonly maxSnapshotChunkBytes: number;
  /** Pending ReadIndex requests on the leader (waiting for a term commit or a heartbeat quorum). */
  readonly maxReadIndexQueue: number;
  /** Entry bytes of committed entries handed out in one Ready. */
  readonly maxCommittedBytesPerReady: number;
}

export const DEFAULT_LIMITS: RaftLimits = {
  maxInflightMsgs: 256,
  maxInflightBytes: 32 * 1024 * 1024,
  maxMsgBytes: 1024 * 1024,
  maxEntriesPerMsg: 4096,
  maxProposalQueue: 100_000,
  maxSnapshotChunkBytes: 1024 * 1024,
  maxReadIndexQueue: 10_000,
  maxCommittedBytesPerReady: 64 * 1024 * 1024,
};

export interface RaftConfig {
  /** This node's id (a positive integer). */
  readonly id: number;
  /** The only randomness the core uses (election timeout jitter). */
  readonly random: SeededRandom;
  /** Base election timeout; each node waits a random time in [electionTicks, 2 * electionTicks). */
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  /** Default true. */
  readonly preVote?: boolean;
  /** Default true: a leader that has not heard from a quorum for electionTicks steps down. */
  readonly checkQuorum?: boolean;
  readonly limits?: Partial<RaftLimits>;
  /** Index the host's state machine has applied on restart (default: the snapshot's index). */
  readonly applied?: number;
  /**
   * Default false: the host persists a Ready's entries before advance(), and
   * advance() marks them durable. True: the host may call advance() as soon as
   * it has queued the entries for its (ordered) log and saved any hard-state
   * change, and reports durability later with persisted(index, term). Readies
   * then follow each other while earlier entries are still being written: a
   * leader sends new entries to followers during its own fsync (Raft thesis
   * 10.2.1), and acknowledgements wait only for the entries they cover.
   */
  readonly asyncStorageWrites?: boolean;
  /** TEST ONLY: a deliberately broken behaviour (see BROKEN_VARIANTS). */
  readonly unsafeVariant?: BrokenVariant;
}

export function resolveLimits(partial: Partial<RaftLimits> | undefined): RaftLimits {
  const limits = { ...DEFAULT_LIMITS, ...partial };
  for (const [name, value] of Object.entries(limits)) {
    assert(Number.isSafeInteger(value) && value > 0, `limit ${name} must be a positive integer, got ${value}`);
  }
  return limits;
}

export function validateConfig(config: RaftConfig): void {
  assert(Number.isSafeInteger(config.id) && config.id > 0, `node id must be a positive integer, got ${config.id}`);
  assert(Number.isSafeInteger(config.heartbeatTicks) && config.heartbeatTicks > 0, 'heartbeatTicks must be positive');
  assert(config.electionTicks > config.heartbeatTicks, 'electionTicks must exceed heartbeatTicks');
}
