// Plain data shapes shared by the consensus core, its host and the storage module.
// Nothing here does work: the rules live in raft.ts and its helpers.

/** Entry types, as persisted by src/storage (one byte in the WAL record header). */
export const EntryType = {
  /** Client data, opaque to Raft. */
  Normal: 1,
  /** A membership change (see confchange.ts for the payload). */
  ConfChange: 2,
  /** The empty entry a new leader appends at the start of its term. */
  NoOp: 3,
} as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

/**
 * One log entry. term/index are safe integers; (term, index) is what zook shows
 * clients as the zxid (term = epoch, index = counter). Entries are immutable once
 * created: the core passes them around by reference and never edits them.
 */
export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: number;
  readonly data: Uint8Array;
}

/** What must be durable before a node acknowledges anything. vote 0 = none. */
export interface HardState {
  readonly term: number;
  readonly vote: number;
  readonly commit: number;
}

/** Membership: voters decide elections and commitment; learners only receive the log. */
export interface Membership {
  readonly voters: readonly number[];
  readonly learners: readonly number[];
}

/** Describes a snapshot: the log up to and including index, and the membership at that point. */
export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly membership: Membership;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  /** The host's state-machine image at meta.index; opaque to Raft. */
  readonly data: Uint8Array;
}

export const Role = {
  Follower: 'follower',
  PreCandidate: 'pre-candidate',
  Candidate: 'candidate',
  Leader: 'leader',
} as const;
export type Role = (typeof Role)[keyof typeof Role];

export const MessageType = {
  /** Leader -> follower: entries after (index, logTerm), plus the leader's commit. */
  Append: 1,
  /** Follower -> leader: index acknowledged, or a rejection with a conflict hint. */
  AppendResponse: 2,
  Vote: 3,
  VoteResponse: 4,
  PreVote: 5,
  PreVoteResponse: 6,
  /** Leader -> follower: keeps followers from campaigning; may carry a ReadIndex context. */
  Heartbeat: 7,
  HeartbeatResponse: 8,
  /** Leader -> follower: one chunk of InstallSnapshot. */
  Snapshot: 9,
  /** Follower -> leader: how many snapshot bytes it holds (the offset of the next chunk it wants). */
  SnapshotResponse: 10,
  /** Leader -> transfer target: campaign now, skipping pre-vote and the lease. */
  TimeoutNow: 11,
  /** Follower -> leader: a ReadIndex request on behalf of the follower's client. */
  ReadIndex: 12,
  ReadIndexResponse: 13,
  /**
   * Leader -> follower: the commit index, as soon as it advances, whatever flow
   * control holds back. Names the last entry sent to that follower (index, logTerm):
   * the follower commits up to it only if its log holds that entry. No reply.
   */
  Commit: 14,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

export interface SnapshotChunk {
  readonly meta: SnapshotMeta;
  /** Byte offset of data within the whole snapshot image. */
  readonly offset: number;
  readonly data: Uint8Array;
  /** Total size of the snapshot image in bytes. */
  readonly totalBytes: number;
}

/**
 * One message between nodes. A flat record, like etcd's raftpb.Message: the
 * fields a type does not use hold their zero value.
 */
export interface Message {
  readonly type: MessageType;
  readonly from: number;
  readonly to: number;
  readonly term: number;
  /** Append: term of the entry before `entries`; Vote: last log term; AppendResponse rejection: hint term. */
  readonly logTerm: number;
  /** Append: index before `entries`; Vote: last log index; AppendResponse: matched index or the rejected index; Snapshot(Response): snapshot index. */
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly reject: boolean;
  /** AppendResponse rejection: the index the leader should probe next (paired with logTerm). */
  readonly rejectHint: number;
  /** ReadIndex / Heartbeat / ReadIndexResponse: the read request's context. */
  readonly context: Uint8Array | null;
  /** Vote: sent because of a leader transfer (ignore the leader lease). */
  readonly transfer: boolean;
  readonly snapshot: SnapshotChunk | null;
  /** SnapshotResponse: bytes of the snapshot the follower holds. */
  readonly offset: number;
}

/** A confirmed read: once the host has applied up to index, it may serve the read tagged context. */
export interface ReadState {
  readonly index: number;
  readonly context: Uint8Array;
}

/** Volatile state the host may want to show (not persisted). */
export interface SoftState {
  readonly leader: number;
  readonly role: Role;
}

/**
 * What the host must do, in this order: persist snapshot, entries and hardState
 * (entries replace any persisted entries at index >= entries[0].index); send
 * messages (they are safe to send before the persistence finished); install the
 * snapshot and apply committedEntries; serve readStates once applied; then call advance().
 */
export interface Ready {
  readonly softState: SoftState;
  /** Present when it changed since the last Ready. */
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
  /** A snapshot received from the leader: persist it and restore the state machine from it. */
  readonly snapshot: Snapshot | null;
  readonly messages: readonly Message[];
  readonly committedEntries: readonly Entry[];
  readonly readStates: readonly ReadState[];
}

/** What a restarted node was persisting. A brand-new node passes an empty state. */
export interface PersistedState {
  readonly hardState: HardState;
  readonly snapshot: Snapshot | null;
  /** Entries after the snapshot, contiguous. */
  readonly entries: readonly Entry[];
}

export const NONE = 0;

/** Size charged for one entry against message and in-flight byte budgets: payload + a 32-byte WAL record header. */
export const ENTRY_HEADER_BYTES = 32;
export function entryBytes(entry: Entry): number {
  return entry.data.byteLength + ENTRY_HEADER_BYTES;
}

const EMPTY_ENTRIES: readonly Entry[] = Object.freeze([]) as readonly Entry[];

/** A message with every field not given at its zero value. */
export function message(f: Pick<Message, 'type' | 'from' | 'to' | 'term'> & Partial<Message>): Message {
  // Every field spelled out, in one order: all messages share one hidden class.
  return {
    type: f.type,
    from: f.from,
    to: f.to,
    term: f.term,
    logTerm: f.logTerm ?? 0,
    index: f.index ?? 0,
    entries: f.entries ?? EMPTY_ENTRIES,
    commit: f.commit ?? 0,
    reject: f.reject ?? false,
    rejectHint: f.rejectHint ?? 0,
    context: f.context ?? null,
    transfer: f.transfer ?? false,
    snapshot: f.snapshot ?? null,
    offset: f.offset ?? 0,
  };
}

export function messageTypeName(type: MessageType): string {
  for (const [name, value] of Object.entries(MessageType)) if (value === type) return name;
  return `Unknown(${type})`;
}
