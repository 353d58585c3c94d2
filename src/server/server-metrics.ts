// The server's Prometheus metrics: requests by op, latency, sessions, watches,
// znodes, and the WAL's fsync latency and batch sizes.
import type { Log2Histogram } from '../storage/index.js';
import type { PeerLinkMetrics } from './peer/index.js';
import { Counter, CounterReading, Gauge, Histogram, LATENCY_BUCKETS_SECONDS, MetricsRegistry, RawMetrics, labelKey } from './metrics.js';
import type { ZookNode } from './node.js';
import { nodeStatus } from './node-status.js';

export interface ServerMetrics {
  readonly registry: MetricsRegistry;
  /** Counts an answered request and its latency; runs once per reply, so label keys are cached. */
  answered(op: string, error: number, seconds: number): void;
  readonly connectionsOpened: Counter;
  /** Connections refused at accept, by reason (max-connections, per-ip-limit) and port (ws, zk). */
  readonly connectionsRefused: Counter;
  readonly framesRejected: Counter;
}

function log2Histogram(name: string, help: string, h: Log2Histogram, scale: number): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
  for (const [upper, count] of h.cumulative()) {
    if (upper !== Infinity && count === h.count && upper > h.max * 2) continue; // trailing empty buckets
    lines.push(`${name}_bucket{le="${upper === Infinity ? '+Inf' : upper * scale}"} ${count}`);
  }
  if (!lines.some((l) => l.includes('le="+Inf"'))) lines.push(`${name}_bucket{le="+Inf"} ${h.count}`);
  lines.push(`${name}_sum ${h.sum * scale}`, `${name}_count ${h.count}`);
  return lines.join('\n');
}

export function serverMetrics(node: ZookNode, connections: () => number): ServerMetrics {
  const registry = new MetricsRegistry();
  const requests = registry.add(new Counter('zook_requests_total', 'Requests answered, by operation and ZooKeeper error code.'));
  const latency = registry.add(new Histogram('zook_request_duration_seconds', 'Time from a request arriving to its reply, by operation.', LATENCY_BUCKETS_SECONDS));
  const connectionsOpened = registry.add(new Counter('zook_connections_opened_total', 'Client connections accepted (WebSocket and ZooKeeper protocol).'));
  const framesRejected = registry.add(new Counter('zook_frames_rejected_total', 'Frames refused as malformed or over a limit, by reason.'));
  const connectionsRefused = registry.add(new Counter('zook_connections_refused_total', 'Client connections refused at accept (maxConnections, maxConnectionsPerIp), by reason and port.'));
  registry.add(new Gauge('zook_connections', 'Open client connections.', connections));
  registry.add(new Gauge('zook_sessions', 'Live sessions.', () => node.sessions.size));
  registry.add(new Gauge('zook_watches', 'Registered watches on this server.', () => node.watches.size));
  registry.add(new Gauge('zook_znodes', 'Znodes in the tree, the root included.', () => node.tree.nodeCount));
  registry.add(new Gauge('zook_last_applied_zxid', 'Index of the last applied log entry.', () => node.lastApplied));
  registry.add(new CounterReading('zook_txns_applied_total', 'Log entries applied since start.', () => node.counters.txnsApplied));
  registry.add(new CounterReading('zook_sessions_expired_total', 'Sessions closed by expiry since start.', () => node.counters.sessionsExpired));
  registry.add(new CounterReading('zook_snapshots_total', 'Tree snapshots written since start.', () => node.counters.snapshots));
  registry.add(new CounterReading('zook_watch_events_sent_total', 'Watch events sent since start.', () => node.counters.eventsSent));
  registry.add(
    new RawMetrics(() => {
      const st = nodeStatus(node);
      const lines: string[] = [];
      /** One metric family: HELP, TYPE, then its series (label set -> value). */
      const family = (name: string, type: 'gauge' | 'counter', help: string, series: Iterable<readonly [string, number]>): void => {
        lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
        for (const [labels, value] of series) lines.push(`${name}${labels} ${value}`);
      };
      const one = (value: number): [readonly [string, number]] => [['', value]];
      family('zook_raft_role', 'gauge', "This server's role (1 on the series of its current role).", (['standalone', 'leader', 'follower', 'learner', 'candidate'] as const).map((r) => [`{role="${r}"}`, st.role === r ? 1 : 0] as const));
      family('zook_raft_has_leader', 'gauge', '1 when this server knows a leader.', one(st.hasLeader ? 1 : 0));
      family('zook_raft_term', 'gauge', 'Current Raft term (the zxid epoch).', one(st.term));
      family('zook_raft_commit_index', 'gauge', 'Highest log index known committed.', one(st.commitIndex));
      family('zook_raft_last_index', 'gauge', "Highest index in this server's log.", one(st.lastIndex));
      family('zook_raft_elections_won_total', 'counter', 'Elections this server won since start.', one(st.electionsWon));
      family('zook_raft_leader_changes_total', 'counter', 'Times this server saw the leader change since start.', one(st.leaderChanges));
      family('zook_forwarded_writes_total', 'counter', 'Writes this server forwarded to the leader.', one(st.forwardedWrites));
      family('zook_forwarded_writes_received_total', 'counter', 'Writes other servers forwarded to this one as leader.', one(st.forwardedWritesReceived));
      family('zook_snapshot_build_slices_total', 'counter', 'Event-loop turns a snapshot being built yielded to (a tree is serialized 256 KiB at a time, so heartbeats and requests never wait behind it).', one(node.raft.counters.snapshotSlices));
      family('zook_storage_stalled', 'gauge', '1 while this server cannot write its disk (ENOSPC, EIO, ...) and refuses writes with NotReadOnly.', one(st.storageStall === null ? 0 : 1));
      family('zook_storage_stalls_total', 'counter', 'Times this server\'s disk stopped taking writes since start.', one(st.storageStalls));
      family('zook_writes_aborted_total', 'counter', 'Writes answered ConnectionLoss because the leader changed or was unreachable.', one(st.writesAborted));
      family('zook_raft_follower_lag_entries', 'gauge', 'Leader only: entries each follower has not acknowledged.', st.followers.map((f) => [`{follower="${f.id}"}`, f.lag] as const));
      const peers = node.transport?.metrics();
      if (peers !== undefined) {
        family('zook_peer_auth_failures_total', 'counter', 'Peer handshakes refused (bad proof, wrong cluster or version, unknown server).', one(peers.authFailures));
        family('zook_peer_protocol_errors_total', 'counter', 'Authenticated peers that sent undecodable or misaddressed frames.', one(peers.protocolErrors));
        family('zook_peer_handshake_timeouts_total', 'counter', 'Peer handshakes that did not finish in time.', one(peers.handshakeTimeouts));
        const perPeer = (name: string, type: 'gauge' | 'counter', help: string, value: (m: PeerLinkMetrics) => number): void =>
          family(name, type, help, [...peers.peers].map(([id, m]) => [`{peer="${id}"}`, value(m)] as const));
        perPeer('zook_peer_link_up', 'gauge', '1 while the link to this peer is up.', (m) => (m.up ? 1 : 0));
        perPeer('zook_peer_messages_sent_total', 'counter', 'Frames sent to this peer.', (m) => m.messagesSent);
        perPeer('zook_peer_messages_received_total', 'counter', 'Frames received from this peer.', (m) => m.messagesReceived);
        perPeer('zook_peer_drops_total', 'counter', 'Frames to this peer dropped (queue full, link down too long, oversized).', (m) => m.drops);
        perPeer('zook_peer_reconnects_total', 'counter', 'Times the link to this peer came back.', (m) => m.reconnects);
        perPeer('zook_peer_queued_messages', 'gauge', 'Frames waiting for this peer.', (m) => m.queuedMessages);
      }
      return lines.join('\n');
    }),
  );
  registry.add(
    new RawMetrics(() => {
      const wal = node.walMetrics;
      return [
        log2Histogram('zook_wal_fsync_duration_seconds', 'fdatasync latency of each WAL batch.', wal.fsyncMicros, 1e-6),
        log2Histogram('zook_wal_batch_records', 'Records per WAL batch (one write + one fdatasync).', wal.recordsPerBatch, 1),
        log2Histogram('zook_wal_batch_bytes', 'Bytes per WAL batch.', wal.bytesPerBatch, 1),
        `# HELP zook_wal_queued_records Records waiting for a WAL batch.\n# TYPE zook_wal_queued_records gauge\nzook_wal_queued_records ${wal.queuedRecords}`,
      ].join('\n');
    }),
  );
  const requestKeys = new Map<string, Map<number, string>>();
  const latencyKeys = new Map<string, string>();
  const answered = (op: string, error: number, seconds: number): void => {
    let byError = requestKeys.get(op);
    if (byError === undefined) requestKeys.set(op, (byError = new Map()));
    let key = byError.get(error);
    if (key === undefined) byError.set(error, (key = labelKey({ op, error: String(error) })));
    requests.incKey(key);
    let opKey = latencyKeys.get(op);
    if (opKey === undefined) latencyKeys.set(op, (opKey = labelKey({ op })));
    latency.observeKey(seconds, opKey);
  };
  return { registry, answered, connectionsOpened, connectionsRefused, framesRejected };
}
