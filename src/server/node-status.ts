// What one server reports about itself and (when it leads) its followers: the
// body of GET /status and /health, the source of the cluster gauges in /metrics,
// and what `zook admin status` prints for each server.
import { Role } from '../consensus/index.js';
import type { ZookNode } from './node.js';

export type { FollowerStatus, NodeStatus } from './status-types.js';
import type { NodeStatus } from './status-types.js';

export function nodeStatus(node: ZookNode): NodeStatus {
  const raft = node.raft.status();
  const membership = raft.membership;
  let role: NodeStatus['role'];
  if (node.ensemble === null) role = 'standalone';
  else if (raft.role === Role.Leader) role = 'leader';
  else if (membership.learners.includes(raft.id)) role = 'learner';
  else if (raft.role === Role.Follower) role = 'follower';
  else role = 'candidate';
  const followers = node.raft.raft.followers().map((f) => ({
    id: f.id,
    matchIndex: f.match,
    lag: Math.max(0, raft.lastIndex - f.match),
    state: f.state,
    learner: f.learner,
    linkUp: node.transport?.isUp(f.id) ?? false,
  }));
  const counters = node.raft.counters;
  const forwarding = node.forwarding?.counters;
  const stall = node.raft.storageStall;
  return {
    serverId: node.config.serverId,
    role,
    hasLeader: raft.leader !== 0,
    leader: raft.leader,
    term: raft.term,
    commitIndex: raft.commit,
    appliedIndex: node.lastApplied,
    lastIndex: raft.lastIndex,
    firstIndex: raft.firstIndex,
    snapshotsTaken: counters.snapshotsTaken,
    voters: membership.voters,
    learners: membership.learners,
    followers,
    sessions: node.sessions.size,
    znodes: node.tree.nodeCount,
    electionsWon: counters.electionsWon,
    leaderChanges: counters.leaderChanges,
    forwardedWrites: forwarding?.forwarded ?? 0,
    forwardedWritesReceived: forwarding?.forwardedIn ?? 0,
    writesAborted: node.counters.writesAborted,
    snapshotsInstalled: counters.snapshotsInstalled,
    digest: node.tree.digest.toString(16),
    storageStall: stall === null ? null : { operation: stall.operation, code: stall.code, sinceMs: stall.sinceMs },
    storageStalls: node.counters.storageStalls,
  };
}
