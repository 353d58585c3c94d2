// The JSON answers of GET /status (one server) and GET /ensemble (every member), as
// types only, with no imports: the server builds them (node-status.ts,
// console-files.ts) and the web console (console/src) reads them, from one declaration.

export interface FollowerStatus {
  readonly id: number;
  readonly matchIndex: number;
  /** Entries the leader has that this follower has not acknowledged. */
  readonly lag: number;
  readonly state: string;
  readonly learner: boolean;
  readonly linkUp: boolean;
}

export interface NodeStatus {
  readonly serverId: number;
  /** standalone (a single server), leader, follower, learner (non-voting), candidate. */
  readonly role: 'standalone' | 'leader' | 'follower' | 'learner' | 'candidate';
  readonly hasLeader: boolean;
  readonly leader: number;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  /** First index still in the in-memory Raft log (entries before it are only in a snapshot). */
  readonly firstIndex: number;
  readonly snapshotsTaken: number;
  readonly voters: readonly number[];
  readonly learners: readonly number[];
  readonly followers: readonly FollowerStatus[];
  readonly sessions: number;
  readonly znodes: number;
  readonly electionsWon: number;
  readonly leaderChanges: number;
  readonly forwardedWrites: number;
  readonly forwardedWritesReceived: number;
  readonly writesAborted: number;
  readonly snapshotsInstalled: number;
  /** The tree's 64-bit digest (hex) at appliedIndex: replicas at the same index must agree. */
  readonly digest: string;
  /** Set while this server's disk takes no writes (ENOSPC, EIO, ...): it refuses writes with NotReadOnly meanwhile. */
  readonly storageStall: { readonly operation: string; readonly code: string; readonly sinceMs: number } | null;
  /** Times the disk stopped taking writes since start. */
  readonly storageStalls: number;
}

export interface MemberStatus {
  readonly id: number;
  readonly host: string;
  readonly clientPort: number;
  /** Its base URL as this server reaches it (http or https). */
  readonly url: string;
  /** In the ensemble file as a voter or a learner; 'unlisted' for a member the file does not name. */
  readonly listedAs: 'voter' | 'learner' | 'unlisted';
  readonly status: NodeStatus | null;
  /** Why status is null: unreachable, timed out, not JSON. */
  readonly error: string | null;
}

export interface EnsembleStatus {
  /** The id of the server that answered. */
  readonly self: number;
  readonly secure: boolean;
  readonly members: readonly MemberStatus[];
}
