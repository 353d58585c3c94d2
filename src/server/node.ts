// One zook server's state and its write path:
//   leader:   prepare (tree) -> encode the txn -> Raft propose (cluster/raft-host.ts)
//   follower: forward to the leader (cluster/forwarding.ts), which does the above
//   every node: committed entries applied in log order (tree) -> watch events out
//               -> the writer's promise resolves on the server its client is on.
// A single server is an ensemble of one voter: the same path, no peers.
// Transport-free: src/server/ws-server.ts feeds it decoded requests.
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfChangeType, EntryType, ProposalDropped, Role, type ConfChange, type Entry, type Membership, type Snapshot, type SoftState } from '../consensus/index.js';
import { NodeStorage, type StorageStall, type WriteAheadLog } from '../storage/index.js';
import { DataDirLock } from '../storage/data-dir-lock.js';
import {
  DataTree,
  WatchRegistry,
  ChangeHistory,
  Perm,
  entryAllows,
  apply,
  applyEmpty,
  decodeTxn,
  encodeTxn,
  findExpired,
  loadSnapshot,
  loadSnapshotAsync,
  prepare,
  writeSnapshot,
  ErrorCode,
  type Applied,
  type FailureCode,
  type MultiResult,
  type RequestSession,
  type TreeOptions,
  type Txn,
  type WatchEvent,
  type WriteRequest,
} from '../tree/index.js';
import { assert } from '../util/assert.js';
import { SILENT_LOG, type Log } from '../util/log.js';
import type { ServerConfig } from './config.js';
import { ensembleServer, initialMembership, type Ensemble } from './cluster/ensemble.js';
import { Forwarding, ForwardFailed, multiOfReply, type LocalProposal } from './cluster/forwarding.js';
import { RaftHost, concatChunks } from './cluster/raft-host.js';
import { PeerTransport } from './peer/index.js';
import { loadTls } from './tls.js';
import { SessionTable } from './sessions.js';

/** What a write came to. */
export type WriteOutcome =
  | { readonly kind: 'applied'; readonly index: number; readonly applied: Applied }
  | { readonly kind: 'rejected'; readonly error: FailureCode; readonly multi?: MultiResult };

/** A write that prepare refused while other writes were still in flight: retry once they are applied. */
export interface Deferred {
  readonly kind: 'deferred';
  readonly untilIndex: number;
}

export type Submitted =
  | { readonly kind: 'rejected'; readonly error: FailureCode; readonly multi?: MultiResult }
  | Deferred
  | { readonly kind: 'proposed'; readonly done: Promise<WriteOutcome> };

/**
 * A write whose outcome this server cannot know: the leader changed (its entry may
 * or may not be committed) or could not be reached. The client must reconnect and
 * look, as after ZooKeeper's ConnectionLoss.
 */
export class WriteAborted extends Error {
  override name = 'WriteAborted';
}

/** Chunk size of the snapshots this node builds (each about 2-3 ms of serializing on this hardware). */
const SNAPSHOT_CHUNK_BYTES = 256 * 1024;

export interface NodeCounters {
  txnsApplied: number;
  sessionsExpired: number;
  eventsSent: number;
  snapshots: number;
  writesAborted: number;
  /** Times this server's disk stopped taking writes (ENOSPC, EIO, ...). */
  storageStalls: number;
  /** setWatches / addWatch fromZxid answered from the change history, and those it no longer reached back for. */
  watchReplays: number;
  watchReplaysCompacted: number;
  /** Events sent by those replays. */
  watchEventsReplayed: number;
}

interface ApplyWaiter {
  readonly term: number;
  readonly resolve: (applied: Applied) => void;
  readonly reject: (error: Error) => void;
}

const SECRET_FILE = 'secret';

/** A per-data-dir random secret: session passwords are HMACs of session ids under it. */
function loadSecret(dataDir: string): Uint8Array {
  const path = join(dataDir, SECRET_FILE);
  if (existsSync(path)) return readFileSync(path);
  const secret = randomBytes(32);
  writeFileSync(path, secret, { mode: 0o600, flush: true });
  return secret;
}

/** In an ensemble a session resumes on any server, so every server derives the same password key. */
function ensembleSessionSecret(ensemble: Ensemble): Uint8Array {
  return createHmac('sha256', ensemble.secret).update(`zook session passwords/${ensemble.clusterId}`).digest();
}

/** A session id as ZooKeeper prints it (0x...). */
function sessionHex(id: number): string {
  return `0x${id.toString(16)}`;
}

/** A snapshot of the tree being exported (beginSnapshotExport): its chunks, and where in the log it stands. */
export interface SnapshotExport {
  readonly index: number;
  readonly term: number;
  readonly membership: Membership;
  readonly chunks: Iterator<Uint8Array, void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

export class ZookNode {
  tree: DataTree;
  /** The last changes applied, for replaying what reconnecting watches missed (tree/history.ts). */
  readonly watchHistory: ChangeHistory;
  readonly watches: WatchRegistry;
  readonly sessions: SessionTable;
  readonly counters: NodeCounters = { txnsApplied: 0, sessionsExpired: 0, eventsSent: 0, snapshots: 0, writesAborted: 0, storageStalls: 0, watchReplays: 0, watchReplaysCompacted: 0, watchEventsReplayed: 0 };
  private stalledSinceMs = 0;
  private handingOver = false;
  readonly forwarding: Forwarding | null;
  private appliedIndex: number;
  /** Writers waiting for their entry to be applied, by index. */
  private readonly applyWaiters = new Map<number, ApplyWaiter>();
  /** Callers waiting until everything up to an index is applied. */
  private appliedListeners: { index: number; resolve: () => void }[] = [];
  /** Called when clients must start over: the state was replaced by a snapshot, or this server lost the leader. */
  private readonly resetListeners = new Set<(reason: string) => void>();
  /** When a message from the current leader last arrived (followers). */
  /** Raft tick (RaftHost.ticks) of the last message from the leader. */
  private lastLeaderContactTick = 0;
  /** Clients were being served; cleared (and clients dropped) when the leader is lost. */
  private wasServing = false;
  /** The leader as of the last role change (0 = none). */
  private currentLeader = 0;
  /** The last leader this node knew of (for the lost-contact log line once it knows none). */
  private lastKnownLeader = 0;
  private sweepTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private snapshotIndex: number;
  private bytesSinceSnapshot = 0;
  /** A `zook snapshot save` export is pulling the tree's snapshot chunks (beginSnapshotExport). */
  private exportingSnapshot = false;
  private leaderSince = 0;
  /** Child loggers by component (the node's log is silent unless a server process passes one). */
  private readonly sessionLog: Log;
  private readonly storageLog: Log;
  /** Start-up until this node first serves: what recovery found and replayed (reported once, by reportRecovered). */
  private recovery: { startedMs: number; snapshotIndex: number; snapshotZnodes: number; logLastIndex: number } | null;

  private constructor(
    readonly config: ServerConfig,
    private readonly storage: NodeStorage,
    readonly raft: RaftHost,
    readonly transport: PeerTransport | null,
    readonly ensemble: Ensemble | null,
    tree: DataTree,
    secret: Uint8Array,
    /** This server's exclusive hold on its data dir, from open until close. */
    readonly dataDirLock: DataDirLock,
    /** This server's log (SILENT_LOG in library use and tests). */
    readonly log: Log,
    startedMs: number,
  ) {
    this.sessionLog = log.child({ component: 'sessions' });
    this.storageLog = log.child({ component: 'storage' });
    this.recovery = { startedMs, snapshotIndex: tree.lastZxid, snapshotZnodes: tree.nodeCount, logLastIndex: raft.lastIndex };
    this.tree = tree;
    this.appliedIndex = tree.lastZxid;
    this.snapshotIndex = tree.lastZxid;
    // Filled from here on: the log after the snapshot, replayed at start-up, included.
    this.watchHistory = new ChangeHistory({ maxChanges: config.watchReplayMaxChanges, maxBytes: config.watchReplayMaxBytes }, tree.lastZxid);
    this.watches = new WatchRegistry(this.watchHistory);
    this.sessions = new SessionTable(config.serverId, secret, Date.now(), config.maxSessions);
    // Sessions recovered get a fresh timeout, as ZooKeeper's new leader gives them:
    // nobody could ping while the server was down.
    this.resetSessionClocks(Date.now());
    this.forwarding =
      transport === null
        ? null
        : new Forwarding(this.forwardingHost(), transport, {
            timeoutMs: Math.max(2000, 4 * config.electionTicks * config.raftTickMs),
            maxPending: 100_000,
            maxLeaderQueue: 200_000,
            maxPingsPerBatch: 65_536,
          }, log.child({ component: 'forwarding' }));
  }

  /**
   * Takes the data dir (exclusively: throws DataDirLocked naming the live process
   * that holds it), recovers the tree (newest snapshot; Raft then hands the
   * committed log after it), joins the ensemble (or leads itself when alone).
   */
  static async open(config: ServerConfig, ensemble: Ensemble | null = null, log: Log = SILENT_LOG): Promise<ZookNode> {
    mkdirSync(config.dataDir, { recursive: true });
    // Before anything in the dir is read or written: two servers on one WAL corrupt it.
    const lock = await DataDirLock.acquire(config.dataDir, `zook server ${config.serverId}`);
    const opened: { storage?: NodeStorage; raft?: RaftHost; transport?: PeerTransport } = {};
    try {
      return await ZookNode.openLocked(config, ensemble, lock, opened, log);
    } catch (error) {
      // A server that fails to start lets go of what it opened, the dir last.
      await opened.transport?.close().catch(() => {});
      await opened.raft?.close().catch(() => {});
      await opened.storage?.close().catch(() => {});
      await lock.release();
      throw error;
    }
  }

  private static async openLocked(
    config: ServerConfig,
    ensemble: Ensemble | null,
    lock: DataDirLock,
    opened: { storage?: NodeStorage; raft?: RaftHost; transport?: PeerTransport },
    log: Log,
  ): Promise<ZookNode> {
    const startedMs = Date.now();
    const recoveryLog = log.child({ component: 'recovery' });
    recoveryLog.info({ dataDir: config.dataDir }, `recovering from ${config.dataDir}`);
    const secret = ensemble === null ? loadSecret(config.dataDir) : ensembleSessionSecret(ensemble);
    const storageLog = log.child({ component: 'storage' });
    const storage = await NodeStorage.open(config.dataDir, {
      keepSnapshots: config.snapshotsKept,
      segmentBytes: config.walSegmentBytes,
      slowFsyncLogMs: config.slowFsyncLogMs,
      logger: (message, fields, level = 'warn') => storageLog[level](fields ?? {}, message),
    });
    opened.storage = storage;
    const options = { maxDataBytes: config.maxDataBytes, maxPathBytes: config.maxPathBytes, superDigest: config.superDigest };
    const stored = storage.recovered.snapshot;
    const chunks = stored === undefined ? null : await collect(stored.chunks());
    const tree = chunks === null ? new DataTree(options) : await loadSnapshotAsync(chunks, options);
    assert(stored === undefined || tree.lastZxid === stored.index, () => `recovery: snapshot ${stored?.file} holds zxid ${tree.lastZxid}, not ${stored?.index}`);
    recoveryLog.info(
      { snapshotIndex: stored?.index ?? 0, snapshotFile: stored?.file ?? null, znodes: tree.nodeCount, logFirstIndex: storage.log.firstIndex(), logLastIndex: storage.log.lastIndex(), loadMs: Date.now() - startedMs },
      stored === undefined ? 'no snapshot: the log is replayed from its start' : `loaded snapshot at index ${stored.index} (${tree.nodeCount} znodes); the log after it is replayed next`,
    );
    const raft = await RaftHost.open(
      storage,
      {
        id: config.serverId,
        tickMs: config.raftTickMs,
        electionTicks: config.electionTicks,
        heartbeatTicks: config.heartbeatTicks,
        // A server that joins later starts with an empty log and waits for the leader to add it.
        initialMembers: ensemble === null ? { voters: [config.serverId], learners: [] } : ensembleServer(ensemble, config.serverId).joining ? null : initialMembership(ensemble),
        retainEntries: Math.min(10_000, Math.floor(config.snapshotEveryEntries / 2)),
        readIndexTimeoutMs: Math.max(2000, 4 * config.electionTicks * config.raftTickMs),
        limits: { maxInflightMsgs: config.raftMaxInflightAppends },
        log,
      },
      chunks === null ? null : concatChunks(chunks),
    );
    opened.raft = raft;
    let transport: PeerTransport | null = null;
    if (ensemble !== null) {
      const me = ensembleServer(ensemble, config.serverId);
      // With tlsCertFile set, peers speak mutual TLS only (loadTls throws on any mistake: no plaintext fallback).
      const tls = loadTls(config, true);
      transport = new PeerTransport({
        nodeId: config.serverId,
        clusterId: ensemble.clusterId,
        secret: ensemble.secret,
        tls: tls === null ? null : { cert: tls.cert, key: tls.key, ca: tls.ca! },
        listenHost: me.host,
        listenPort: me.peerPort,
        log: log.child({ component: 'peer' }),
      });
      opened.transport = transport;
      lock.describe({ host: me.host, peerPort: await transport.listen() });
    }
    const node = new ZookNode(config, storage, raft, transport, ensemble, tree, secret, lock, log, startedMs);
    node.wire();
    if (ensemble === null) {
      raft.campaignIfAlone();
      await node.untilServing(30_000);
      node.reportRecovered();
    } else {
      recoveryLog.info({ logLastIndex: raft.lastIndex, applied: node.appliedIndex }, `the log holds through index ${raft.lastIndex}: entries are applied as the leader confirms them committed`);
    }
    node.startSweeps();
    return node;
  }

  private wire(): void {
    const transport = this.transport;
    this.raft.start(
      {
        applyEntry: (entry) => this.applyEntry(entry),
        restore: (snapshot) => this.restore(snapshot),
        roleChanged: (soft, term) => this.roleChanged(soft, term),
        snapshotDue: () => this.snapshotDue(),
        snapshotChunks: (applied) => this.snapshotChunks(applied),
      },
      (message) => transport?.send(message),
    );
    this.raft.onStorageStall((stall) => this.storageStallChanged(stall));
    if (transport === null || this.ensemble === null) return;
    transport.onMessage((message) => {
      if (message.from === this.raft.leader) this.lastLeaderContactTick = this.raft.ticks;
      this.raft.step(message);
    });
    transport.onForward((from, id, payload) => this.forwarding?.receive(from, id, payload));
    transport.onPeerDown((peer) => {
      if (peer === this.raft.leader) this.abortWrites(`lost the link to leader ${peer}`);
    });
    for (const server of this.ensemble.servers) {
      if (server.id !== this.config.serverId) transport.addPeer({ id: server.id, host: server.host, port: server.peerPort });
    }
  }

  private forwardingHost(): ConstructorParameters<typeof Forwarding>[0] {
    return {
      proposeLocal: (request, session, mayDefer) => this.proposeLocal(request, session, mayDefer),
      waitApplied: (index) => this.waitApplied(index),
      sessionsHeard: (ids) => {
        const now = Date.now();
        for (const id of ids) this.sessions.touch(id, now);
      },
      sessionExists: (id) => this.tree.sessions.has(id),
      treeOptions: this.tree.options,
    };
  }

  get treeOptions(): TreeOptions {
    return this.tree.options;
  }

  /** The WAL's own counters (fsync latency, batch sizes, queue depth), for /metrics. */
  get walMetrics(): WriteAheadLog['metrics'] {
    return this.storage.log.metrics;
  }

  get lastApplied(): number {
    return this.appliedIndex;
  }

  /** The epoch clients see: the Raft term. */
  get term(): number {
    return this.raft.term;
  }

  get isLeader(): boolean {
    return this.raft.isLeader;
  }

  /** Entries proposed but not yet applied (meaningful on the leader). */
  get outstanding(): number {
    return Math.max(0, this.raft.lastIndex - this.appliedIndex);
  }

  private get electionTimeoutMs(): number {
    return this.config.electionTicks * this.config.raftTickMs;
  }

  /**
   * This server leads, or heard from its leader within an election timeout,
   * counted in Raft ticks rather than wall-clock time: after this process was held
   * up by synchronous work (a long GC, a big apply) the leader's heartbeats are still unread in
   * the socket when the timers run first, and a wall-clock check would drop every
   * client of a follower whose leader is alive and well.
   */
  get inContactWithLeader(): boolean {
    if (this.raft.isLeader) return true;
    return this.raft.leader !== 0 && this.raft.ticks - this.lastLeaderContactTick <= this.config.electionTicks;
  }

  /** Whether clients may be served: in contact with a leader, and this node applied what it had committed when it learned of it. */
  get serving(): boolean {
    return this.inContactWithLeader && this.appliedIndex >= this.leaderSince;
  }

  /** Resolves once `serving` (or after `timeoutMs`, with false). */
  async untilServing(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.serving) {
      const left = deadline - Date.now();
      if (this.closed || left <= 0) return false;
      // Always through a timer or a real apply: an already-resolved promise here would
      // spin on microtasks and starve the event loop (no ticks, no peer messages).
      const pause = sleep(Math.min(left, Math.max(5, this.config.raftTickMs / 2)));
      if (this.inContactWithLeader && this.appliedIndex < this.leaderSince) await Promise.race([this.waitApplied(this.leaderSince), pause]);
      else await pause;
    }
    return true;
  }

  onReset(listener: (reason: string) => void): () => void {
    this.resetListeners.add(listener);
    return () => this.resetListeners.delete(listener);
  }

  /**
   * Submits a write from a client. On the leader: prepares and proposes it, or answers
   * `deferred` when prepare refused it while earlier writes were in flight (prepare
   * saw a tree without them, so its "no" may be wrong: create /a then /a/b pipelined);
   * the caller waits for them and retries once with `mayDefer` false. A "yes" needs no
   * such care: apply re-checks every dynamic rule in log order.
   * On a follower: forwards it to the leader, which does the same.
   * `done` rejects with WriteAborted when the outcome cannot be known here.
   */
  submitWrite(request: WriteRequest, session: RequestSession, mayDefer = true): Submitted {
    // This server cannot apply what it cannot log: refused at once, its client may try another server.
    if (this.raft.storageStall !== null) return { kind: 'rejected', error: ErrorCode.NotReadOnly };
    if (this.raft.isLeader || this.forwarding === null) {
      if (session.id !== 0 && this.forwarding !== null && !this.forwarding.ownedBy(session.id, this.config.serverId)) {
        return { kind: 'rejected', error: ErrorCode.SessionMoved };
      }
      const local = this.proposeLocal(request, session, mayDefer);
      switch (local.kind) {
        case 'proposed':
          return { kind: 'proposed', done: this.awaitApplied(local.index, local.term) };
        case 'unavailable':
          this.counters.writesAborted++;
          return { kind: 'proposed', done: Promise.reject(new WriteAborted(`this server is not the leader (leader ${local.leader || 'unknown'})`)) };
        default:
          return local;
      }
    }
    const leader = this.raft.leader;
    if (leader === 0) {
      this.counters.writesAborted++;
      return { kind: 'proposed', done: Promise.reject(new WriteAborted('no leader')) };
    }
    const done = this.forwarding.forward(leader, session, request).then(
      (reply): WriteOutcome | Promise<WriteOutcome> => {
        switch (reply.kind) {
          case 'proposed':
            return this.awaitApplied(reply.index, reply.term);
          case 'rejected': {
            const multi = multiOfReply(reply);
            return multi === undefined ? { kind: 'rejected', error: reply.error } : { kind: 'rejected', error: reply.error, multi };
          }
          case 'unavailable':
            throw new WriteAborted(`server ${leader} is no longer the leader`);
        }
      },
      (error: unknown) => {
        this.counters.writesAborted++;
        throw error instanceof ForwardFailed ? new WriteAborted(error.message) : error;
      },
    );
    return { kind: 'proposed', done };
  }

  /** The leader's half of a write: prepare against this tree, propose to Raft. */
  proposeLocal(request: WriteRequest, session: RequestSession, mayDefer: boolean): LocalProposal {
    if (!this.raft.isLeader) return { kind: 'unavailable', leader: this.raft.leader };
    // A leader whose disk is full or failing takes no new entries (it hands leadership over: see the sweep).
    if (this.raft.storageStall !== null) return { kind: 'rejected', error: ErrorCode.NotReadOnly };
    const prepared = prepare(this.tree, request, session, Date.now());
    if (prepared.error !== 0) {
      // Once only: after the wait the tree holds every write proposed before this one
      // arrived, so a second "no" is a linearizable answer (and under steady load from
      // others, waiting for a quiet log again could starve this request).
      if (mayDefer && this.outstanding > 0) return { kind: 'deferred', untilIndex: this.raft.lastIndex };
      return prepared.multi === undefined ? { kind: 'rejected', error: prepared.error } : { kind: 'rejected', error: prepared.error, multi: prepared.multi };
    }
    return this.proposeTxn(prepared.txn);
  }

  private proposeTxn(txn: Txn): LocalProposal {
    try {
      const { index, term } = this.raft.propose(encodeTxn(txn));
      return { kind: 'proposed', index, term };
    } catch (error) {
      if (error instanceof ProposalDropped) return { kind: 'unavailable', leader: error.leaderHint };
      throw error;
    }
  }

  /** Resolves when the entry at `index` is applied, if it is still the one proposed in `term`. */
  private awaitApplied(index: number, term: number): Promise<WriteOutcome> {
    if (index <= this.appliedIndex) {
      // Applied before the answer got here (a fast leader, a slow forward reply): the result is gone.
      return Promise.reject(new WriteAborted(`entry ${index} was applied before its answer arrived`));
    }
    return new Promise<WriteOutcome>((resolve, reject) => {
      assert(!this.applyWaiters.has(index), () => `two writers wait for index ${index}`);
      this.applyWaiters.set(index, { term, resolve: (applied) => resolve({ kind: 'applied', index, applied }), reject });
    });
  }

  /** Resolves once everything up to `index` is applied. */
  waitApplied(index: number): Promise<void> {
    if (this.appliedIndex >= index) return Promise.resolve();
    return new Promise((resolve) => this.appliedListeners.push({ index, resolve }));
  }

  /**
   * A session opened (or resumed) on this server: the leader learns so before any
   * of its writes from here, and refuses late writes for it from its old server.
   */
  sessionAttached(sessionId: number): void {
    const forwarding = this.forwarding;
    if (forwarding === null) return;
    if (this.raft.isLeader) forwarding.attached(sessionId, this.config.serverId);
    else if (this.raft.leader !== 0) forwarding.attach(this.raft.leader, sessionId);
  }

  /**
   * For `zook snapshot save` (GET /admin/snapshot, snapshot-export.ts): a snapshot of
   * the tree as this server has applied it, fixed by this call, with the Raft index
   * and term it stands at. null while the tree's own snapshot is still being pulled
   * (the tree writes one at a time): ask again shortly. The caller pulls every chunk,
   * then calls endSnapshotExport(); until then the server's own snapshots wait.
   */
  beginSnapshotExport(): SnapshotExport | null {
    if (this.exportingSnapshot || this.tree.snapshotInProgress) return null;
    const index = this.tree.lastZxid;
    const term = this.raft.raft.termAt(index);
    if (term < 0) return null;
    this.exportingSnapshot = true;
    return { index, term, membership: this.raft.status().membership, chunks: writeSnapshot(this.tree) };
  }

  endSnapshotExport(): void {
    this.exportingSnapshot = false;
  }

  /** A linearizable read barrier: resolves once this node applied everything committed when it was called. */
  async readBarrier(): Promise<void> {
    const index = await this.raft.readIndex();
    await this.waitApplied(index);
  }

  // ------------------------------------------------------------ the state machine (called by the Raft host)

  private applyEntry(entry: Entry): void {
    const index = entry.index;
    let applied: Applied | null = null;
    if (entry.type === EntryType.Normal) {
      const txn = decodeTxn(entry.data, this.tree.options);
      applied = apply(this.tree, txn, index, this.watches);
      this.counters.txnsApplied++;
      this.deliverEvents(applied.events);
      if (applied.error === 0) {
        if (txn.type === 'createSession') {
          if (this.sessions.get(txn.sessionId) === undefined) this.sessions.add(txn.sessionId, txn.timeoutMs, Date.now());
          this.sessionLog.debug({ session: sessionHex(txn.sessionId), timeoutMs: txn.timeoutMs, zxid: index }, 'session created');
        }
        if (txn.type === 'closeSession') {
          this.sessionLog.debug({ session: sessionHex(txn.sessionId), zxid: index }, 'session closed');
          this.sessionClosed(txn.sessionId);
        }
      }
    } else {
      applyEmpty(this.tree, index);
    }
    this.appliedIndex = index;
    this.bytesSinceSnapshot += entry.data.byteLength;
    const waiter = this.applyWaiters.get(index);
    if (waiter !== undefined) {
      this.applyWaiters.delete(index);
      if (applied !== null && entry.term === waiter.term) waiter.resolve(applied);
      else waiter.reject(new WriteAborted(`entry ${index} of term ${waiter.term} was replaced by a new leader's`));
    }
    this.notifyApplied();
  }

  private notifyApplied(): void {
    if (this.appliedListeners.length === 0) return;
    const ready = this.appliedListeners.filter((l) => l.index <= this.appliedIndex);
    if (ready.length === 0) return;
    this.appliedListeners = this.appliedListeners.filter((l) => l.index > this.appliedIndex);
    for (const l of ready) l.resolve();
  }

  /** The leader's snapshot replaces the tree: this node was too far behind for the log. */
  private restore(snapshot: Snapshot): void {
    const tree = loadSnapshot([snapshot.data], this.tree.options);
    assert(tree.lastZxid === snapshot.meta.index, () => `snapshot from the leader holds zxid ${tree.lastZxid}, not ${snapshot.meta.index}`);
    this.tree = tree;
    this.appliedIndex = tree.lastZxid;
    this.snapshotIndex = tree.lastZxid;
    this.bytesSinceSnapshot = 0;
    // Watches and connections were made against a tree that jumped: clients reconnect
    // and re-register with their last zxid (setWatches fires what they missed).
    for (const session of this.sessions.values()) this.watches.removeWatcher(session.id);
    this.watchHistory.reset(tree.lastZxid);
    for (const session of [...this.sessions.values()]) if (!tree.sessions.has(session.id)) this.sessions.remove(session.id);
    for (const [id, state] of tree.sessions) if (this.sessions.get(id) === undefined) this.sessions.add(id, state.timeoutMs, Date.now());
    this.abortWrites('state replaced by a snapshot from the leader');
    this.reset('server state replaced by a snapshot from the leader: reconnect');
    this.notifyApplied();
  }

  private reset(reason: string): void {
    for (const listener of this.resetListeners) listener(reason);
  }

  /**
   * Once, when this node first serves after start: what the data dir held after the
   * log replay (znodes, zxid), how much of the log was replayed, and how long it took.
   */
  reportRecovered(): void {
    const r = this.recovery;
    if (r === null || !this.serving) return;
    this.recovery = null;
    this.log.child({ component: 'recovery' }).info(
      {
        znodes: this.tree.nodeCount,
        zxid: this.appliedIndex,
        snapshotIndex: r.snapshotIndex,
        snapshotZnodes: r.snapshotZnodes,
        entriesReplayed: Math.max(0, Math.min(r.logLastIndex, this.appliedIndex) - r.snapshotIndex),
        durationMs: Date.now() - r.startedMs,
      },
      `recovered: ${this.tree.nodeCount} znodes at zxid ${this.appliedIndex}`,
    );
  }

  /**
   * A server cut off from its leader must not keep serving: its clients' sessions
   * may expire on the majority side while they think all is well (a lock holder
   * that is no longer one). Drop them, as a ZooKeeper follower does, so they
   * reconnect to a server that has a leader; refuse handshakes until then.
   */
  private checkLeaderContact(): void {
    if (this.ensemble === null) return;
    const serving = this.serving;
    if (this.wasServing && !this.inContactWithLeader) {
      const leader = this.raft.leader;
      const why =
        leader === 0
          ? `no leader known in term ${this.raft.term} (the last one was server ${this.lastKnownLeader})`
          : `no message from leader ${leader} (term ${this.raft.term}) for ${this.raft.ticks - this.lastLeaderContactTick} ticks of ${this.config.raftTickMs} ms (limit ${this.config.electionTicks})`;
      this.log.child({ component: 'raft' }).warn(
        { leader, term: this.raft.term, ticksSinceContact: this.raft.ticks - this.lastLeaderContactTick, electionTicks: this.config.electionTicks, clients: this.sessions.size },
        `lost contact with the leader: ${why}; dropping this server's clients so they reconnect elsewhere`,
      );
      this.reset('this server lost contact with the leader: reconnect to another');
    }
    this.wasServing = serving;
  }

  private roleChanged(soft: SoftState, term: number): void {
    if (soft.leader !== 0) this.lastKnownLeader = soft.leader;
    if (soft.leader !== 0) this.lastLeaderContactTick = this.raft.ticks;
    const leaderChanged = soft.leader !== this.currentLeader;
    this.currentLeader = soft.leader;
    if (leaderChanged) {
      // Writes in flight may be lost or reordered with writes sent to the next leader:
      // their clients must reconnect and look (ZooKeeper drops them too).
      this.abortWrites(`leader changed to ${soft.leader || 'none'} in term ${term}`);
      this.forwarding?.dropLeaderQueues(soft.leader);
      // A new leader serves once its own no-op (the last entry now) is applied: by then it holds every committed write.
      this.leaderSince = soft.role === Role.Leader ? this.raft.lastIndex : this.raft.commitIndex;
    }
    if (soft.role === Role.Leader && leaderChanged) {
      // Nobody could report pings to this node before: every session starts a fresh timeout.
      this.resetSessionClocks(Date.now());
    }
  }

  private abortWrites(reason: string): void {
    this.forwarding?.failPending(reason);
    if (this.applyWaiters.size === 0) return;
    const waiters = [...this.applyWaiters.values()];
    this.applyWaiters.clear();
    this.counters.writesAborted += waiters.length;
    for (const w of waiters) w.reject(new WriteAborted(reason));
  }

  private resetSessionClocks(nowMs: number): void {
    for (const [id, state] of this.tree.sessions) {
      const live = this.sessions.get(id) ?? this.sessions.add(id, state.timeoutMs, nowMs);
      live.lastHeardMs = nowMs;
      live.closing = false;
    }
  }

  private snapshotDue(): boolean {
    return this.appliedIndex - this.snapshotIndex >= this.config.snapshotEveryEntries || this.bytesSinceSnapshot >= this.config.snapshotEveryBytes;
  }

  private snapshotChunks(applied: number): Iterator<Uint8Array, void> | null {
    // The tree writes one snapshot at a time: an export being pulled goes first (the next Ready asks again).
    if (this.exportingSnapshot) return null;
    if (!this.snapshotDue()) return null;
    assert(this.tree.lastZxid === applied, () => `snapshot: tree at ${this.tree.lastZxid}, Raft applied ${applied}`);
    this.snapshotIndex = applied;
    this.bytesSinceSnapshot = 0;
    this.counters.snapshots++;
    // The tree keeps a copy of each node changed while these chunks are pulled (SnapshotView).
    // Small chunks: the Raft host yields to the event loop after each one.
    return writeSnapshot(this.tree, { maxChunkBytes: SNAPSHOT_CHUNK_BYTES });
  }


  private deliverEvents(events: readonly WatchEvent[]): void {
    const superDigest = this.tree.options.superDigest;
    for (const event of events) {
      const session = this.sessions.get(event.watcher);
      if (session === undefined) continue;
      const connection = session.connection;
      if (connection == null) continue;
      // Watch events obey ACLs (CVE-2024-23944, as ZooKeeper 3.8.4 / 3.9.2's
      // ServerCnxn.process(event, acl)): only a session that may READ under the
      // event's ACL gets it. The one-shot watch is already consumed either way.
      if (!entryAllows(event.acl, Perm.Read, session.authIds, superDigest)) continue;
      connection.sendEvent(event.type, event.path, event.zxid);
      this.counters.eventsSent++;
    }
  }

  private sessionClosed(sessionId: number): void {
    this.watches.removeWatcher(sessionId);
    this.forwarding?.forgetSession(sessionId);
    const session = this.sessions.remove(sessionId);
    // An expiry (not the client's own closeSession) tells the client and drops it.
    session?.connection?.sessionEnded();
  }

  /**
   * The disk of this server filled up or failed (storage/stall.ts), or came back.
   * Said once each way on stderr; /status and /metrics show it meanwhile.
   */
  private storageStallChanged(stall: StorageStall | null): void {
    if (stall !== null) {
      this.counters.storageStalls++;
      this.storageLog.error(
        { operation: stall.operation, code: stall.code, leader: this.raft.isLeader },
        `${stall.operation} failed: ${stall.message}. ` +
          `Writes are refused (NotReadOnly) and retried until the disk takes them again; reads and sessions go on.` +
          (this.raft.isLeader ? ' Handing leadership to another server.' : ''),
      );
      this.stalledSinceMs = stall.sinceMs;
      // Writes waiting here may still commit once the disk takes them, or not: their
      // outcome is unknown, so their clients hear ConnectionLoss now rather than wait
      // behind a full disk (their pings queue behind them too) until they time out.
      this.abortWrites(`this server's disk stopped taking writes (${stall.code})`);
    } else {
      this.storageLog.info({ stalledMs: Date.now() - this.stalledSinceMs }, `the disk takes writes again after ${Date.now() - this.stalledSinceMs} ms; writes accepted`);
    }
  }

  /** A leader that cannot write its log hands over to a follower that can (tried each sweep until it worked). */
  private handOverIfStalled(): void {
    if (!this.raft.isLeader || this.raft.storageStall === null || this.handingOver || this.ensemble === null) return;
    this.handingOver = true;
    void this.transferLeadership().finally(() => (this.handingOver = false));
  }

  /** Leader: proposes closeSession for every session not heard from within its timeout. */
  expireSessions(nowMs: number): void {
    if (!this.raft.isLeader || this.raft.storageStall !== null) return;
    for (const session of this.sessions.expired(nowMs)) {
      const proposed = this.proposeTxnRequest({ type: 'closeSession', sessionId: session.id });
      if (!proposed) break;
      session.closing = true;
      this.counters.sessionsExpired++;
      this.sessionLog.info({ session: sessionHex(session.id), timeoutMs: session.timeoutMs, silentMs: nowMs - session.lastHeardMs }, `session ${sessionHex(session.id)} expired: not heard from for ${nowMs - session.lastHeardMs} ms (timeout ${session.timeoutMs} ms)`);
    }
  }

  private proposeTxnRequest(request: WriteRequest): boolean {
    const local = this.proposeLocal(request, { id: 0, authIds: [] }, false);
    return local.kind === 'proposed' || local.kind === 'rejected';
  }

  /** Leader: proposes the deletes of containers that emptied and TTL nodes that expired. */
  expireNodes(nowMs: number): void {
    if (!this.raft.isLeader || this.raft.storageStall !== null) return;
    for (const txn of findExpired(this.tree, nowMs)) if (this.proposeTxn(txn).kind !== 'proposed') break;
  }

  private startSweeps(): void {
    let lastNodeSweepMs = Date.now();
    this.sweepTimer = setInterval(() => {
      const now = Date.now();
      this.expireSessions(now);
      this.checkLeaderContact();
      this.handOverIfStalled();
      if (now - lastNodeSweepMs >= this.config.expirySweepMs) {
        lastNodeSweepMs = now;
        this.expireNodes(now);
      }
      // Followers tell the leader which of their sessions were heard from.
      if (this.recovery !== null) this.reportRecovered();
      const heard = this.sessions.takeHeard();
      const leader = this.raft.leader;
      if (heard.length > 0 && !this.raft.isLeader && leader !== 0) this.forwarding?.reportPings(leader, heard);
    }, Math.max(50, Math.floor(Math.min(this.config.tickMs, this.config.expirySweepMs) / 2)));
    this.sweepTimer.unref();
  }

  /**
   * Leader only: proposes a membership change and resolves once it is applied here
   * (in effect). Throws ProposalDropped when this server is not the leader, another
   * change is pending, or the change means nothing (adding a voter twice).
   */
  async changeMembership(change: ConfChange): Promise<{ index: number; voters: readonly number[]; learners: readonly number[] }> {
    if (change.type !== ConfChangeType.RemoveNode && this.ensemble !== null && !this.ensemble.servers.some((s) => s.id === change.node)) {
      throw new ProposalDropped('not a member', this.raft.leader);
    }
    const { index } = this.raft.proposeConfChange(change);
    await this.waitApplied(index);
    // The core takes the change into its membership when the Ready that applied it is advanced.
    const deadline = Date.now() + this.electionTimeoutMs;
    while (this.raft.status().applied < index && Date.now() < deadline) await sleep(1);
    const m = this.raft.status().membership;
    return { index, voters: m.voters, learners: m.learners };
  }

  /**
   * Leader only: hands leadership to the most up-to-date other voter and waits (up
   * to an election timeout) until it took over, so a restart costs no election.
   */
  async transferLeadership(to?: number): Promise<boolean> {
    if (!this.raft.isLeader) return false;
    const status = this.raft.status();
    const match = new Map(this.raft.raft.followers().map((f) => [f.id, f.match]));
    const others = status.membership.voters
      .filter((id) => id !== this.config.serverId && this.transport?.isUp(id) === true)
      .sort((a, b) => (match.get(b) ?? 0) - (match.get(a) ?? 0));
    const target = to ?? others[0];
    if (target === undefined) return false;
    try {
      this.raft.transferLeader(target);
    } catch (error) {
      if (error instanceof ProposalDropped) return false;
      throw error;
    }
    // Done when another server is known to lead (not merely when this one stepped down).
    const deadline = Date.now() + 2 * this.electionTimeoutMs;
    const moved = (): boolean => !this.raft.isLeader && this.raft.leader !== 0 && this.raft.leader !== this.config.serverId;
    while (!moved() && Date.now() < deadline) await sleep(Math.max(1, this.config.raftTickMs / 4));
    return moved();
  }

  /** Stops the clocks, waits (bounded) for this server's writes in flight, stops Raft, closes the WAL. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    const deadline = Date.now() + 2 * this.config.electionTicks * this.config.raftTickMs;
    while (this.applyWaiters.size > 0 && Date.now() < deadline) await sleep(5);
    this.abortWrites('server shutting down');
    this.forwarding?.close();
    await this.raft.close();
    await this.transport?.close();
    await this.storage.close();
    await this.dataDirLock.release();
  }
}
