// The server's Prometheus metrics, in one prom-client registry per server (the
// process and runtime families are shared by the process: see processMetrics):
// requests by op and their latency, outstanding requests, client connections and
// why the server dropped them, sessions, watches, znodes, ephemerals, data size,
// Raft (role, term, commit, follower lag, leader changes, proposal-to-commit time),
// peer links and their round trip, snapshots, and the WAL's fsync latency and
// batches. `/metrics` renders this registry and `mntr` reads its numbers from it.
import { Counter, Histogram, Registry } from 'prom-client';
import type { PeerLinkMetrics } from './peer/index.js';
import type { DisconnectReason } from './connection.js';
import { LATENCY_BUCKETS_SECONDS, ReadMetric, type Reading, RequestStats, SNAPSHOT_BUCKETS_SECONDS, log2HistogramReadings, processMetrics, registerRead, single } from './metrics.js';
import type { ZookNode } from './node.js';
import { type NodeStatus, nodeStatus } from './node-status.js';

export interface ServerMetrics {
  /** This server's families and the process's: what /metrics renders and mntr reads. */
  readonly registry: Registry;
  /** Counts an answered request and its latency; runs once per reply (allocation-free: see RequestStats). */
  answered(op: string, error: number, seconds: number): void;
  /** One request packet read (both doors): mntr's zk_packets_received. */
  readonly received: () => void;
  /** The server closed a client connection, with why. */
  readonly clientDisconnected: (reason: DisconnectReason) => void;
  readonly connectionsOpened: Counter;
  /** Connections refused at accept, by reason (max-connections, per-ip-limit) and port (ws, zk). */
  readonly connectionsRefused: Counter<'reason' | 'port'>;
  readonly framesRejected: Counter<'reason'>;
}

/** What the network face knows and the node does not. */
export interface ServerMetricSources {
  /** Open client connections, both doors. */
  readonly connections: () => number;
  /** Requests received and not yet answered, both doors. */
  readonly outstanding: () => number;
}

/** Bytes of paths and data in the tree, as ZooKeeper's zk_approximate_data_size counts them. Walks the tree: read at scrape time only. */
export function approximateDataSize(node: ZookNode): number {
  let bytes = 0;
  for (const [path, znode] of node.tree.nodes) bytes += path.length + (znode.data?.length ?? 0);
  return bytes;
}

export function ephemeralsCount(node: ZookNode): number {
  let n = 0;
  for (const session of node.tree.sessions.values()) n += session.ephemerals.size;
  return n;
}

/** Peer round trip buckets in seconds, 100 us to 5 s. */
const ROUND_TRIP_BUCKETS_SECONDS: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];

export function serverMetrics(node: ZookNode, sources: ServerMetricSources): ServerMetrics {
  const registry = new Registry();
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> => new Counter<L>({ name, help, labelNames, registers });
  const read = (name: string, type: 'counter' | 'gauge' | 'histogram', help: string, values: () => readonly Reading[]): void => void registerRead(registry, new ReadMetric(name, help, type, values));
  const gauge = (name: string, help: string, value: () => number): void => read(name, 'gauge', help, () => single(value()));
  const counted = (name: string, help: string, value: () => number): void => read(name, 'counter', help, () => single(value()));

  // ---- requests ----
  const stats = new RequestStats(LATENCY_BUCKETS_SECONDS);
  read('zook_requests_total', 'counter', 'Requests answered, by operation and ZooKeeper error code.', () => stats.counts());
  read('zook_request_duration_seconds', 'histogram', 'Time from a request arriving to its reply, by operation.', () => stats.latency('zook_request_duration_seconds'));
  let received = 0; // once per packet: a plain number, read at scrape time
  counted('zook_requests_received_total', 'Request packets read from clients (both ports), as mntr zk_packets_received.', () => received);
  gauge('zook_request_duration_min_seconds', 'Shortest request latency since start (mntr zk_min_latency).', () => (stats.minSeconds === Infinity ? 0 : stats.minSeconds));
  gauge('zook_request_duration_max_seconds', 'Longest request latency since start (mntr zk_max_latency).', () => stats.maxSeconds);
  gauge('zook_outstanding_requests', 'Requests received and not yet answered, both client ports.', sources.outstanding);

  // ---- connections ----
  const connectionsOpened = counter('zook_connections_opened_total', 'Client connections accepted (WebSocket and ZooKeeper protocol).');
  const framesRejected = counter('zook_frames_rejected_total', 'Frames refused as malformed or over a limit, by reason.', ['reason']);
  const connectionsRefused = counter('zook_connections_refused_total', 'Client connections refused at accept (maxConnections, maxConnectionsPerIp), by reason and port.', ['reason', 'port']);
  const disconnects = counter('zook_client_disconnects_total', 'Client connections the server closed, by reason (session-expired, protocol-error, connect-timeout, backpressure, no-leader, reset, shutdown, ...).', ['reason']);
  gauge('zook_connections', 'Open client connections.', sources.connections);

  // ---- the tree and sessions ----
  gauge('zook_sessions', 'Live sessions.', () => node.sessions.size);
  gauge('zook_watches', 'Registered watches on this server.', () => node.watches.size);
  gauge('zook_znodes', 'Znodes in the tree, the root included.', () => node.tree.nodeCount);
  gauge('zook_ephemerals', 'Ephemeral znodes in the tree.', () => ephemeralsCount(node));
  gauge('zook_approximate_data_size_bytes', 'Bytes of znode paths and data in the tree (mntr zk_approximate_data_size).', () => approximateDataSize(node));
  gauge('zook_last_applied_zxid', 'Index of the last applied log entry.', () => node.lastApplied);
  counted('zook_txns_applied_total', 'Log entries applied since start.', () => node.counters.txnsApplied);
  counted('zook_sessions_expired_total', 'Sessions closed by expiry since start.', () => node.counters.sessionsExpired);
  counted('zook_snapshots_total', 'Tree snapshots written since start.', () => node.counters.snapshots);
  counted('zook_watch_events_sent_total', 'Watch events sent since start.', () => node.counters.eventsSent);
  // How far back reconnecting watches can be replayed (tree/history.ts).
  gauge('zook_watch_replay_oldest_zxid', 'Oldest zxid a reconnecting watch (or addWatch fromZxid) can be replayed from; older ones get Compacted.', () => node.watchHistory.oldestReplayableZxid);
  gauge('zook_watch_replay_changes', 'Changes held for watch replay (watchReplayMaxChanges bounds it).', () => node.watchHistory.size);
  gauge('zook_watch_replay_bytes', 'Bytes held for watch replay (watchReplayMaxBytes bounds it).', () => node.watchHistory.bytes);
  read('zook_watch_replays_total', 'counter', 'setWatches and addWatch fromZxid answered: replayed from the history, or compacted (it did not reach back).', () => [
    { labels: { outcome: 'replayed' }, value: node.counters.watchReplays },
    { labels: { outcome: 'compacted' }, value: node.counters.watchReplaysCompacted },
  ]);
  counted('zook_watch_replayed_events_total', 'Watch events sent by replays since start.', () => node.counters.watchEventsReplayed);

  // ---- Raft ----
  // One status per scrape: the registry reads every family in one synchronous pass.
  let status: NodeStatus | null = null;
  const st = (): NodeStatus => {
    if (status === null) {
      status = nodeStatus(node);
      queueMicrotask(() => (status = null));
    }
    return status;
  };
  read('zook_raft_role', 'gauge', "This server's role (1 on the series of its current role).", () => (['standalone', 'leader', 'follower', 'learner', 'candidate'] as const).map((role) => ({ labels: { role }, value: st().role === role ? 1 : 0 })));
  gauge('zook_raft_has_leader', '1 when this server knows a leader.', () => (st().hasLeader ? 1 : 0));
  gauge('zook_raft_term', 'Current Raft term (the zxid epoch).', () => st().term);
  gauge('zook_raft_commit_index', 'Highest log index known committed.', () => st().commitIndex);
  gauge('zook_raft_last_index', "Highest index in this server's log.", () => st().lastIndex);
  counted('zook_raft_elections_won_total', 'Elections this server won since start.', () => st().electionsWon);
  counted('zook_raft_leader_changes_total', 'Times this server saw the leader change since start.', () => st().leaderChanges);
  counted('zook_forwarded_writes_total', 'Writes this server forwarded to the leader.', () => st().forwardedWrites);
  counted('zook_forwarded_writes_received_total', 'Writes other servers forwarded to this one as leader.', () => st().forwardedWritesReceived);
  counted('zook_writes_aborted_total', 'Writes answered ConnectionLoss because the leader changed or was unreachable.', () => st().writesAborted);
  read('zook_raft_follower_lag_entries', 'gauge', 'Leader only: entries each follower has not acknowledged.', () => st().followers.map((f) => ({ labels: { follower: String(f.id) }, value: f.lag })));
  const proposalCommit = new Histogram({ name: 'zook_proposal_commit_duration_seconds', help: 'Leader only: time from a proposal entering the log to its commit (a quorum has it on disk).', buckets: [...LATENCY_BUCKETS_SECONDS], registers });
  const roundTrip = new Histogram<'peer'>({ name: 'zook_peer_round_trip_seconds', help: 'Leader only: time from a Raft heartbeat to a follower until its answer (network, both queues and event loops), by peer.', labelNames: ['peer'], buckets: [...ROUND_TRIP_BUCKETS_SECONDS], registers });
  const roundTripByPeer = new Map<number, Histogram.Internal<'peer'>>();

  // ---- storage and snapshots ----
  gauge('zook_storage_stalled', '1 while this server cannot write its disk (ENOSPC, EIO, ...) and refuses writes with NotReadOnly.', () => (st().storageStall === null ? 0 : 1));
  counted('zook_storage_stalls_total', "Times this server's disk stopped taking writes since start.", () => st().storageStalls);
  counted('zook_snapshot_build_slices_total', 'Event-loop turns a snapshot being built yielded to (a tree is serialized 256 KiB at a time, so heartbeats and requests never wait behind it).', () => node.raft.counters.snapshotSlices);
  counted('zook_snapshots_installed_total', "Leader's snapshots this server installed (it was too far behind for the log).", () => st().snapshotsInstalled);
  const snapshotBuild = new Histogram({ name: 'zook_snapshot_build_duration_seconds', help: 'Time to serialize the tree and write a snapshot file.', buckets: [...SNAPSHOT_BUCKETS_SECONDS], registers });
  const snapshotInstall = new Histogram({ name: 'zook_snapshot_install_duration_seconds', help: "Time to install a leader's snapshot (log replaced, file written, tree restored).", buckets: [...SNAPSHOT_BUCKETS_SECONDS], registers });
  let snapshotBytes = 0;
  gauge('zook_snapshot_size_bytes', 'Size of the last snapshot this server built or installed (0: none since start).', () => snapshotBytes);
  const wal = (): ZookNode['walMetrics'] => node.walMetrics;
  read('zook_wal_fsync_duration_seconds', 'histogram', 'fdatasync latency of each WAL batch.', () => log2HistogramReadings('zook_wal_fsync_duration_seconds', wal().fsyncMicros, 1e-6));
  read('zook_wal_batch_records', 'histogram', 'Records per WAL batch (one write + one fdatasync).', () => log2HistogramReadings('zook_wal_batch_records', wal().recordsPerBatch, 1));
  read('zook_wal_batch_bytes', 'histogram', 'Bytes per WAL batch.', () => log2HistogramReadings('zook_wal_batch_bytes', wal().bytesPerBatch, 1));
  gauge('zook_wal_queued_records', 'Records waiting for a WAL batch.', () => wal().queuedRecords);

  node.raft.timings.observer = {
    proposalCommitted: (seconds) => proposalCommit.observe(seconds),
    peerRoundTrip: (peer, seconds) => {
      let child = roundTripByPeer.get(peer);
      if (child === undefined) roundTripByPeer.set(peer, (child = roundTrip.labels({ peer: String(peer) })));
      child.observe(seconds);
    },
    snapshotBuilt: (seconds, bytes) => {
      snapshotBuild.observe(seconds);
      snapshotBytes = bytes;
    },
    snapshotInstalled: (seconds, bytes) => {
      snapshotInstall.observe(seconds);
      snapshotBytes = bytes;
    },
  };

  // ---- peer links (ensembles only) ----
  const transport = node.transport;
  if (transport !== undefined && transport !== null) {
    const peers = (): ReturnType<typeof transport.metrics> => transport.metrics();
    counted('zook_peer_auth_failures_total', 'Peer handshakes refused (bad proof, wrong cluster or version, unknown server).', () => peers().authFailures);
    counted('zook_peer_protocol_errors_total', 'Authenticated peers that sent undecodable or misaddressed frames.', () => peers().protocolErrors);
    counted('zook_peer_handshake_timeouts_total', 'Peer handshakes that did not finish in time.', () => peers().handshakeTimeouts);
    const perPeer = (name: string, type: 'gauge' | 'counter', help: string, value: (m: PeerLinkMetrics) => number): void =>
      read(name, type, help, () => [...peers().peers].map(([id, m]) => ({ labels: { peer: String(id) }, value: value(m) })));
    perPeer('zook_peer_link_up', 'gauge', '1 while the link to this peer is up.', (m) => (m.up ? 1 : 0));
    perPeer('zook_peer_messages_sent_total', 'counter', 'Frames sent to this peer.', (m) => m.messagesSent);
    perPeer('zook_peer_messages_received_total', 'counter', 'Frames received from this peer.', (m) => m.messagesReceived);
    perPeer('zook_peer_drops_total', 'counter', 'Frames to this peer dropped (queue full, link down too long, oversized).', (m) => m.drops);
    perPeer('zook_peer_reconnects_total', 'counter', 'Times the link to this peer came back.', (m) => m.reconnects);
    perPeer('zook_peer_queued_messages', 'gauge', 'Frames waiting for this peer.', (m) => m.queuedMessages);
  }

  const disconnectsByReason = new Map<DisconnectReason, Counter.Internal>();
  return {
    registry: Registry.merge([processMetrics(), registry]),
    answered: (op, error, seconds) => stats.answered(op, error, seconds),
    received: () => {
      received++;
    },
    clientDisconnected: (reason) => {
      let child = disconnectsByReason.get(reason);
      if (child === undefined) disconnectsByReason.set(reason, (child = disconnects.labels({ reason })));
      child.inc();
    },
    connectionsOpened,
    connectionsRefused,
    framesRejected,
  };
}
