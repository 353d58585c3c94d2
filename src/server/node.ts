// One zook server's state and its write path:
//   prepare (tree) -> encode the txn -> CommitLog.propose (durable, ordered)
//   -> apply in log order (tree) -> watch events out -> the writer's promise resolves.
// Transport-free: src/server/ws-server.ts feeds it decoded requests.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeStorage, type WriteAheadLog } from '../storage/index.js';
import {
  DataTree,
  WatchRegistry,
  apply,
  decodeTxn,
  encodeTxn,
  findExpired,
  loadSnapshotAsync,
  prepare,
  writeSnapshot,
  ErrorCode,
  type Applied,
  type FailureCode,
  type MultiResult,
  type RequestSession,
  type Txn,
  type WatchEvent,
  type WriteRequest,
} from '../tree/index.js';
import { assert } from '../util/assert.js';
import { type CommitLog, LocalCommitLog } from './commit-log.js';
import type { ServerConfig } from './config.js';
import { SessionTable } from './sessions.js';
import { serverFrameBytes } from './frames.js';

/** What a write came to. */
export type WriteOutcome =
  | { readonly kind: 'applied'; readonly index: number; readonly applied: Applied }
  | { readonly kind: 'rejected'; readonly error: FailureCode; readonly multi?: MultiResult };

/** A write that prepare refused while other writes were still in flight: retry once they are applied. */
export interface Deferred {
  readonly kind: 'deferred';
  readonly untilIndex: number;
}

export interface NodeCounters {
  txnsApplied: number;
  sessionsExpired: number;
  eventsSent: number;
  snapshots: number;
}

const SECRET_FILE = 'secret';
/** The term a single node writes in. The replicated cluster hands its Raft term instead. */
const SINGLE_NODE_TERM = 1;

/** A per-data-dir random secret: session passwords are HMACs of session ids under it. */
function loadSecret(dataDir: string): Uint8Array {
  const path = join(dataDir, SECRET_FILE);
  if (existsSync(path)) return readFileSync(path);
  const secret = randomBytes(32);
  writeFileSync(path, secret, { mode: 0o600, flush: true });
  return secret;
}

export class ZookNode {
  readonly tree: DataTree;
  readonly watches = new WatchRegistry();
  readonly sessions: SessionTable;
  readonly counters: NodeCounters = { txnsApplied: 0, sessionsExpired: 0, eventsSent: 0, snapshots: 0 };
  private appliedIndex: number;
  /** Committed entries that arrived ahead of a gap, by index. */
  private readonly committedAhead = new Map<number, Uint8Array>();
  /** Writers waiting for their entry to be applied, by index. */
  private readonly applyWaiters = new Map<number, (applied: Applied) => void>();
  /** Callers waiting until everything up to an index is applied. */
  private appliedListeners: { index: number; resolve: () => void }[] = [];
  private sweepTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Index of the newest snapshot on disk (the WAL holds nothing needed before it). */
  private snapshotIndex: number;
  private snapshotting: Promise<void> | null = null;

  private constructor(
    readonly config: ServerConfig,
    private readonly storage: NodeStorage,
    readonly log: CommitLog,
    tree: DataTree,
    secret: Uint8Array,
  ) {
    this.tree = tree;
    this.appliedIndex = tree.lastZxid;
    this.snapshotIndex = storage.recovered.snapshot?.index ?? 0;
    this.sessions = new SessionTable(config.serverId, secret, Date.now(), config.maxSessions);
    // Sessions recovered from the log get a fresh timeout, as ZooKeeper's new leader does:
    // nobody could ping while the server was down.
    const now = Date.now();
    for (const [id, state] of tree.sessions) this.sessions.add(id, state.timeoutMs, now);
  }

  /** Opens the data dir, recovers the tree (newest snapshot, then the log after it), and starts the session clock. */
  static async open(config: ServerConfig): Promise<ZookNode> {
    mkdirSync(config.dataDir, { recursive: true });
    const secret = loadSecret(config.dataDir);
    const storage = await NodeStorage.open(config.dataDir);
    const options = { maxDataBytes: config.maxDataBytes, maxPathBytes: config.maxPathBytes, superDigest: config.superDigest };
    const snapshot = storage.recovered.snapshot;
    const tree = snapshot === undefined ? new DataTree(options) : await loadSnapshotAsync(snapshot.chunks(), options);
    assert(snapshot === undefined || tree.lastZxid === snapshot.index, () => `recovery: snapshot ${snapshot?.file} holds zxid ${tree.lastZxid}, not ${snapshot?.index}`);
    // Replay: every entry in the WAL was committed (a single node commits on fsync).
    for await (const entry of storage.replay(Math.max(storage.log.firstIndex(), tree.lastZxid + 1))) {
      if (entry.index > tree.lastZxid) apply(tree, decodeTxn(entry.data, tree.options), entry.index);
    }
    const node = new ZookNode(config, storage, new LocalCommitLog(storage.log, SINGLE_NODE_TERM), tree, secret);
    node.startSweeps();
    return node;
  }

  /** The WAL's own counters (fsync latency, batch sizes, queue depth), for /metrics. */
  get walMetrics(): WriteAheadLog['metrics'] {
    return this.storage.log.metrics;
  }

  get lastApplied(): number {
    return this.appliedIndex;
  }

  /** Entries proposed but not yet applied, from every session. */
  get outstanding(): number {
    return this.log.proposedIndex() - this.appliedIndex;
  }

  /**
   * Prepares and proposes a write. Answers `deferred` when prepare refused it while
   * earlier writes were in flight: prepare saw a tree without them, so its "no" may
   * be wrong (create /a then /a/b pipelined); the caller waits for them and retries
   * once with `mayDefer` false.
   * A "yes" needs no such care: apply re-checks every dynamic rule in log order.
   */
  submitWrite(
    request: WriteRequest,
    session: RequestSession,
    mayDefer = true,
  ): { kind: 'rejected'; error: FailureCode; multi?: MultiResult } | Deferred | { kind: 'proposed'; done: Promise<WriteOutcome> } {
    const prepared = prepare(this.tree, request, session, Date.now());
    if (prepared.error !== 0) {
      // Once only: after the wait the tree holds every write proposed before this one
      // arrived, so a second "no" is a linearizable answer (and under steady load from
      // others, waiting for a quiet log again could starve this request).
      if (mayDefer && this.outstanding > 0) return { kind: 'deferred', untilIndex: this.log.proposedIndex() };
      return prepared.multi === undefined ? { kind: 'rejected', error: prepared.error } : { kind: 'rejected', error: prepared.error, multi: prepared.multi };
    }
    return { kind: 'proposed', done: this.proposeTxn(prepared.txn) };
  }

  private proposeTxn(txn: Txn): Promise<WriteOutcome> {
    const bytes = encodeTxn(txn);
    return new Promise<WriteOutcome>((resolve, reject) => {
      this.log.propose(bytes).then(
        ({ index }) => {
          this.applyWaiters.set(index, (applied) => resolve({ kind: 'applied', index, applied }));
          this.committed(index, bytes);
        },
        (error: unknown) => {
          // The log could not make the entry durable: nothing after it can be
          // trusted to be ordered, so this server must stop (recovery sorts it out).
          reject(error);
          this.fatal(error);
        },
      );
    });
  }

  /** Resolves once everything up to `index` is applied. */
  waitApplied(index: number): Promise<void> {
    if (this.appliedIndex >= index) return Promise.resolve();
    return new Promise((resolve) => this.appliedListeners.push({ index, resolve }));
  }

  /** Applies committed entries strictly in index order, whatever order they were acknowledged in. */
  private committed(index: number, bytes: Uint8Array): void {
    this.committedAhead.set(index, bytes);
    for (let next = this.appliedIndex + 1; this.committedAhead.has(next); next++) {
      const txnBytes = this.committedAhead.get(next)!;
      this.committedAhead.delete(next);
      this.applyEntry(next, txnBytes);
    }
    if (this.appliedListeners.length > 0) {
      const ready = this.appliedListeners.filter((l) => l.index <= this.appliedIndex);
      this.appliedListeners = this.appliedListeners.filter((l) => l.index > this.appliedIndex);
      for (const l of ready) l.resolve();
    }
  }

  private applyEntry(index: number, bytes: Uint8Array): void {
    const txn = decodeTxn(bytes, this.tree.options);
    const applied = apply(this.tree, txn, index, this.watches);
    this.appliedIndex = index;
    this.counters.txnsApplied++;
    this.deliverEvents(applied.events);
    if (txn.type === 'closeSession' && applied.error === 0) this.sessionClosed(txn.sessionId);
    const waiter = this.applyWaiters.get(index);
    if (waiter !== undefined) {
      this.applyWaiters.delete(index);
      waiter(applied);
    }
    if (index - this.snapshotIndex >= this.config.snapshotEveryEntries) this.snapshot();
  }

  /**
   * Writes a snapshot of the tree as it is now and compacts the WAL below it, so
   * restarts replay a bounded log and the disk does not fill. The tree keeps
   * applying while the chunks are written (it copies nodes changed meanwhile).
   */
  snapshot(): Promise<void> {
    if (this.snapshotting !== null) return this.snapshotting;
    const index = this.appliedIndex;
    const meta = { index, term: this.log.term(), meta: new Uint8Array(0) };
    this.snapshotting = this.storage
      .saveSnapshot(meta, writeSnapshot(this.tree))
      .then(
        () => {
          this.snapshotIndex = index;
          this.counters.snapshots++;
        },
        (error: unknown) => {
          // Not fatal: every entry is still in the WAL. Say so loudly; the next trigger retries.
          console.error(`zook: snapshot at index ${index} failed: ${String(error)}`);
          this.snapshotIndex = index;
        },
      )
      .finally(() => {
        this.snapshotting = null;
      });
    return this.snapshotting;
  }

  private deliverEvents(events: readonly WatchEvent[]): void {
    for (const event of events) {
      const connection = this.sessions.get(event.watcher)?.connection;
      if (connection == null) continue;
      connection.sendFrame(serverFrameBytes({ kind: 'event', type: event.type, path: event.path, zxid: event.zxid }));
      this.counters.eventsSent++;
    }
  }

  private sessionClosed(sessionId: number): void {
    this.watches.removeWatcher(sessionId);
    const session = this.sessions.remove(sessionId);
    // An expiry (not the client's own closeSession) tells the client and drops it.
    if (session?.closing === true && session.connection !== null) {
      session.connection.closeWith(ErrorCode.SessionExpired, 'session expired');
    }
  }

  /** Proposes closeSession for every session not heard from within its timeout. */
  expireSessions(nowMs: number): void {
    for (const session of this.sessions.expired(nowMs)) {
      session.closing = true;
      this.counters.sessionsExpired++;
      const submitted = this.submitWrite({ type: 'closeSession', sessionId: session.id }, { id: 0, authIds: [] });
      // A failed log append already stopped the server (fatal); nothing to add here.
      if (submitted.kind === 'proposed') void submitted.done.catch(() => {});
    }
  }

  /** Proposes the deletes of containers that emptied and TTL nodes that expired. */
  expireNodes(nowMs: number): void {
    // As above: a failed append is fatal inside proposeTxn.
    for (const txn of findExpired(this.tree, nowMs)) void this.proposeTxn(txn).catch(() => {});
  }

  private startSweeps(): void {
    let lastNodeSweepMs = Date.now();
    this.sweepTimer = setInterval(() => {
      const now = Date.now();
      this.expireSessions(now);
      if (now - lastNodeSweepMs >= this.config.expirySweepMs) {
        lastNodeSweepMs = now;
        this.expireNodes(now);
      }
    }, Math.max(50, Math.floor(Math.min(this.config.tickMs, this.config.expirySweepMs) / 2)));
    this.sweepTimer.unref();
  }

  private fatal(error: unknown): void {
    console.error(`zook: FATAL: the log failed; stopping so recovery can restore a consistent state: ${String(error)}`);
    process.exit(70);
  }

  /** Stops the clocks, waits for every proposed write to be applied, closes the WAL. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    await this.waitApplied(this.log.proposedIndex());
    if (this.snapshotting !== null) await this.snapshotting;
    await this.storage.close();
  }
}
