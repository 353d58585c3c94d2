// A whole Raft cluster on one thread: nodes with in-memory disks, a faulty
// network, crashes and restarts, membership changes, leader transfers, and
// clients running a key-value workload. Deterministic from one seed. Each node also
// keeps a znode tree with watch state, and simulated watchers check that watch replay
// across reconnects misses nothing (watchers.ts).
import {
  type BrokenVariant,
  ConfChangeType,
  type Entry,
  EntryType,
  type Message,
  ProposalDropped,
  RaftNode,
  type RaftLimits,
  type Ready,
  Role,
  bootstrapState,
  decodeConfChange,
  messageTypeName,
} from '../../src/consensus/index.js';
import { AssertionError } from '../../src/util/assert.js';
import { SeededRandom } from '../../src/util/random.js';
import { checkHistory } from './checker-linearizable.js';
import { EventQueue } from './events.js';
import { History, type HistoryOp } from './history.js';
import { SafetyChecker, SafetyViolation } from './invariants.js';
import { KvStore, type PutOp, decodePut, encodePut } from './kv.js';
import { Network } from './network.js';
import { MemoryStorage } from './storage.js';
import { Trace } from './trace.js';
import { SimTree, SimWatcher, WATCHER_SESSION_BASE, checkWatcher, expectedEvents } from './watchers.js';
import type { ChangeHistoryLimits } from '../../src/tree/index.js';

/** Simulated time units per Raft tick. */
export const TICK = 10;
const ELECTION_TICKS = 10;
const CLIENT_TIMEOUT_TICKS = 20;
/** Once faults stop: a leader within this many ticks... */
export const LIVENESS_LEADER_TICKS = 150;
/**
 * ...and within this many, every pending operation resolves, every client completes fresh
 * operations and all members apply the same log. (Generous: some seeds replicate one entry
 * per message with one message in flight and slow disks, and a restarted node may be far behind.)
 */
export const LIVENESS_DONE_TICKS = 1000;
/** Fresh operations each client must complete once a leader is back. */
const QUIET_OPS_PER_CLIENT = 3;

export interface SimOptions {
  readonly seed: number;
  readonly nodes: 3 | 5;
  /** Simulator steps (events: deliveries, ticks, disk writes, client ops, faults) in the fault phase. */
  readonly steps: number;
  readonly variant?: BrokenVariant;
  /** Record every message in the trace (slower; used when replaying a failure). */
  readonly verbose?: boolean;
  /** Record the trace only within this window of ticks [from, to]. */
  readonly traceTicks?: readonly [number, number];
  readonly clients?: number;
  readonly keys?: number;
  /**
   * How hosts persist: 'sync' (a Ready is durable before advance) or 'async' (the
   * core's asyncStorageWrites: entries go to an ordered disk queue and advance()
   * follows at once; persisted() reports them durable later). Default: async for
   * even seeds, sync for odd ones, so every seed range covers both.
   */
  readonly storageWrites?: 'sync' | 'async';
  /** Simulated watchers (recursive watch on '/', moving between nodes); default 2. */
  readonly watchers?: number;
}

export type FailureKind = 'safety' | 'assertion' | 'linearizability' | 'liveness' | 'convergence' | 'watches';

export interface SimResult {
  readonly ok: boolean;
  readonly seed: number;
  readonly nodes: number;
  readonly variant: BrokenVariant | null;
  readonly failure: {
    readonly kind: FailureKind;
    readonly message: string;
    readonly atTick: number;
    /** The ticks worth tracing to see the cause (around the offending operation for linearizability). */
    readonly window: readonly [number, number] | null;
  } | null;
  readonly steps: number;
  readonly ticks: number;
  readonly stats: SimStats;
  readonly trace: readonly string[];
}

export interface SimStats {
  leaders: number;
  opsOk: number;
  opsFailed: number;
  opsUnknown: number;
  messages: number;
  dropped: number;
  crashes: number;
  partitions: number;
  confChanges: number;
  transfers: number;
  snapshotsInstalled: number;
  snapshotsTaken: number;
  checkedOps: number;
  checkerStates: number;
  /** Keys whose history the checker gave up on (search budget exhausted): not proven either way. */
  checkerGaveUp: number;
  livenessLeaderTicks: number;
  /** Watchers reattached with every missed event replayed from the node's change history. */
  watchReplays: number;
  /** Reattaches past the history (Compacted: the watcher read again). */
  watchReplaysCompacted: number;
  /** Events those replays delivered. */
  watchEventsReplayed: number;
  /** Watch events compared with the committed log. */
  watchEventsChecked: number;
}

type SimEvent =
  | { readonly k: 'tick'; readonly node: number }
  | { readonly k: 'deliver'; readonly msg: Message }
  | { readonly k: 'disk'; readonly node: number; readonly inc: number }
  | { readonly k: 'diskJob'; readonly node: number; readonly inc: number }
  | { readonly k: 'client'; readonly client: number }
  | { readonly k: 'request'; readonly op: HistoryOp }
  | { readonly k: 'timeout'; readonly op: HistoryOp }
  | { readonly k: 'fault' }
  | { readonly k: 'restart'; readonly node: number; readonly inc: number }
  | { readonly k: 'heal'; readonly generation: number }
  | { readonly k: 'nemesis'; readonly node: number; readonly term: number };

interface PendingWrite {
  readonly op: HistoryOp;
  readonly term: number;
}

class SimNode {
  raft: RaftNode | null = null;
  kv = new KvStore();
  /** The znode tree beside the KV state, with this server's watch registry and change history. */
  tree: SimTree | null = null;
  inc = 0;
  disk: Ready | null = null;
  /** Async storage: writes queued for the disk, completed strictly in order (a crash loses them). */
  diskJobs: DiskJob[] = [];
  /** Jobs the disk's current fsync covers (the first ones queued); 0 when the disk is idle. */
  diskJobsInFsync = 0;
  readonly pendingWrites = new Map<number, PendingWrite>();
  readonly pendingReads = new Map<number, HistoryOp>();
  readsWaiting: { index: number; op: HistoryOp }[] = [];
  lastRole: Role = Role.Follower;
  lastTerm = 0;
  /** Leader: its commit index when elected, until the first commit of its term (then -1). */
  commitAtElection = -1;
  /** A paused process (GC, VM stall) handles nothing until then; work arriving meanwhile waits. */
  pausedUntil = 0;
  /** Time units between this node's ticks: a skewed clock runs slow. */
  tickInterval = TICK;
  /** Multiplies this node's disk latency (a degraded disk). */
  diskFactor = 1;
  constructor(
    readonly id: number,
    readonly storage: MemoryStorage,
  ) {}
}

/** One write of an async-storage host: its entries and, for a Ready that waits on it, that Ready. */
interface DiskJob {
  readonly entries: readonly Entry[];
  readonly ready: Ready | null;
}

interface Client {
  readonly id: number;
  op: HistoryOp | null;
  leaderGuess: number;
  quietDone: number;
  /** Key of the client's last successful put, -1 otherwise. */
  lastPutKey: number;
}

class Failure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly window: readonly [number, number] | null = null,
  ) {
    super(message);
  }
}

export class Simulation {
  private readonly rng: SeededRandom;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly net: Network;
  private readonly nodes = new Map<number, SimNode>();
  private readonly clients: Client[] = [];
  private readonly history = new History();
  private readonly safety = new SafetyChecker();
  private readonly trace: Trace;
  private readonly limits: Partial<RaftLimits>;
  private readonly heartbeatTicks: number;
  private readonly snapshotEvery: number;
  private readonly retainEntries: number;
  private readonly diskMax: number;
  private readonly asyncStorage: boolean;
  private readonly keys: number;
  private readonly nemesisRate: number;
  private readonly nemesisDelay: number;
  private now = 0;
  private partitionGeneration = 0;
  private readonly rafts: RaftNode[] = [];
  private readonly incarnationOf = (id: number): number => this.node(id).inc;
  private steps = 0;
  private nextNodeId: number;
  private phase: 'faults' | 'quiet' = 'faults';
  private quietStart = 0;
  private quietLeaderAt = -1;
  private readonly stats: SimStats = {
    leaders: 0,
    opsOk: 0,
    opsFailed: 0,
    opsUnknown: 0,
    messages: 0,
    dropped: 0,
    crashes: 0,
    partitions: 0,
    confChanges: 0,
    transfers: 0,
    snapshotsInstalled: 0,
    snapshotsTaken: 0,
    checkedOps: 0,
    checkerStates: 0,
    checkerGaveUp: 0,
    livenessLeaderTicks: -1,
    watchReplays: 0,
    watchReplaysCompacted: 0,
    watchEventsReplayed: 0,
    watchEventsChecked: 0,
  };
  /** Watchers draw from their own stream, so the cluster's run is the same with or without them. */
  private readonly watchRng: SeededRandom;
  private readonly historyLimits: ChangeHistoryLimits;
  private readonly watchers: SimWatcher[] = [];
  /** The committed log as applied: the put's key at each index, -1 for other entries. */
  private readonly keyAt: (number | undefined)[] = [];

  constructor(readonly options: SimOptions) {
    this.rng = new SeededRandom(options.seed);
    this.watchRng = new SeededRandom((options.seed ^ 0x77a7c4) >>> 0);
    // Small histories in some seeds, so reattaching both replays and falls back to Compacted.
    this.historyLimits = {
      maxChanges: this.watchRng.pick([5, 20, 60, 100_000]),
      maxBytes: this.watchRng.pick([3_000, 1 << 24, 1 << 24]),
    };
    for (let i = 1; i <= (options.watchers ?? 2); i++) this.watchers.push(new SimWatcher(WATCHER_SESSION_BASE + i));
    const r = this.rng;
    const w = options.traceTicks;
    this.trace = new Trace(options.verbose === true ? (w === undefined ? 400 : 3000) : 200, options.verbose === true, w === undefined ? null : [w[0] * TICK, w[1] * TICK]);
    this.net = new Network(new SeededRandom(r.nextUint32()), {
      dropRate: r.pick([0, 0.02, 0.05, 0.1]),
      duplicateRate: r.pick([0, 0.02, 0.05]),
      minDelay: 1,
      maxDelay: r.pick([3, 8, 15]),
      longDelayRate: r.pick([0, 0.02, 0.05]),
      longDelay: 60,
    });
    this.heartbeatTicks = r.between(1, 3);
    this.limits = {
      maxEntriesPerMsg: r.pick([1, 2, 3, 64]),
      maxMsgBytes: r.pick([64, 256, 1 << 20]),
      maxInflightMsgs: r.pick([1, 2, 4, 16]),
      maxInflightBytes: r.pick([128, 1024, 1 << 20]),
      maxSnapshotChunkBytes: r.pick([16, 64, 1024]),
      maxProposalQueue: r.pick([16, 256]),
      maxReadIndexQueue: r.pick([8, 64]),
    };
    this.snapshotEvery = r.pick([15, 40, 200]);
    this.retainEntries = r.pick([0, 3, 20]);
    this.diskMax = r.pick([2, 8, 25]);
    this.asyncStorage = (options.storageWrites ?? (options.seed % 2 === 0 ? 'async' : 'sync')) === 'async';
    this.keys = options.keys ?? 3;
    this.nemesisRate = r.pick([0.1, 0.3, 0.6]);
    this.nemesisDelay = r.pick([3, 10, 30]);
    const voters = Array.from({ length: options.nodes }, (_, i) => i + 1);
    this.nextNodeId = options.nodes + 1;
    for (const id of voters) {
      const node = new SimNode(id, new MemoryStorage(bootstrapState(voters)));
      this.nodes.set(id, node);
      this.start(node);
      this.queue.push(r.int(TICK), { k: 'tick', node: id });
    }
    const clientCount = options.clients ?? 5;
    for (let c = 1; c <= clientCount; c++) {
      this.clients.push({ id: c, op: null, leaderGuess: r.between(1, options.nodes), quietDone: 0, lastPutKey: -1 });
      this.queue.push(r.between(TICK, 5 * TICK), { k: 'client', client: c });
    }
    this.queue.push(r.between(20 * TICK, 40 * TICK), { k: 'fault' });
  }

  run(): SimResult {
    let failure: SimResult['failure'] = null;
    try {
      while (this.steps < this.options.steps) this.step();
      this.beginQuiet();
      while (!this.quietFinished()) this.step();
      this.finalChecks();
    } catch (error) {
      const kind: FailureKind =
        error instanceof Failure ? error.kind : error instanceof SafetyViolation ? 'safety' : error instanceof AssertionError ? 'assertion' : 'assertion';
      const message = error instanceof Error ? `${error.message}${error instanceof Failure || error instanceof SafetyViolation ? '' : `\n${error.stack ?? ''}`}` : String(error);
      failure = { kind, message, atTick: Math.floor(this.now / TICK), window: error instanceof Failure ? error.window : null };
      this.trace.add(this.now, `FAILURE (${kind}): ${message.split('\n')[0]}`);
    }
    this.stats.leaders = this.safety.leadersSeen;
    this.stats.messages = this.net.delivered;
    this.stats.dropped = this.net.dropped;
    for (const op of this.history.ops) {
      if (op.status === 'ok') this.stats.opsOk++;
      else if (op.status === 'failed') this.stats.opsFailed++;
      else this.stats.opsUnknown++;
    }
    return {
      ok: failure === null,
      seed: this.options.seed,
      nodes: this.options.nodes,
      variant: this.options.variant ?? null,
      failure,
      steps: this.steps,
      ticks: Math.floor(this.now / TICK),
      stats: this.stats,
      trace: this.trace.tail(this.options.verbose === true ? (this.options.traceTicks === undefined ? 400 : 3000) : 60),
    };
  }

  // ------------------------------------------------------------ the loop

  private step(): void {
    const next = this.queue.pop();
    if (next === undefined) throw new Failure('liveness', 'event queue ran dry');
    this.now = next.time;
    this.steps++;
    const e = next.event;
    switch (e.k) {
      case 'tick': {
        const node = this.node(e.node);
        if (node.raft !== null && node.pausedUntil <= this.now) {
          node.raft.tick();
          this.pump(node);
        }
        this.queue.push(this.now + node.tickInterval, e);
        break;
      }
      case 'deliver':
        if (this.deferIfPaused(e.msg.to, e)) break;
        this.deliver(e.msg);
        break;
      case 'diskJob':
        if (this.deferIfPaused(e.node, e)) break;
        this.diskJobDone(e.node, e.inc);
        break;
      case 'disk':
        if (this.deferIfPaused(e.node, e)) break;
        this.diskDone(e.node, e.inc);
        break;
      case 'request':
        if (this.deferIfPaused(e.op.node, e)) break;
        this.handleRequest(e.op);
        break;
      case 'nemesis':
        this.nemesis(e.node, e.term);
        break;
      case 'client':
        this.clientStep(this.clients[e.client - 1]);
        break;
      case 'timeout':
        this.clientTimeout(e.op);
        break;
      case 'restart': {
        const node = this.node(e.node);
        if (this.phase === 'faults' && node.raft === null && node.inc === e.inc) this.restart(node);
        break;
      }
      case 'heal':
        if (this.phase === 'faults' && this.partitionGeneration === e.generation) {
          this.net.heal();
          this.trace.add(this.now, 'HEAL network');
        }
        break;
      case 'fault':
        if (this.phase === 'faults') {
          this.injectFault();
          this.queue.push(this.now + this.rng.between(5, 40) * TICK, e);
        }
        break;
    }
    this.afterStep();
  }

  private deferIfPaused(id: number, e: SimEvent): boolean {
    const node = this.nodes.get(id);
    if (node === undefined || node.pausedUntil <= this.now) return false;
    this.queue.push(node.pausedUntil + this.rng.int(TICK), e);
    return true;
  }

  private afterStep(): void {
    const rafts = this.rafts;
    rafts.length = 0;
    for (const n of this.nodes.values()) {
      if (n.raft === null) continue;
      rafts.push(n.raft);
      const role = n.raft.currentRole;
      if (role === Role.Leader) {
        if (n.lastRole !== Role.Leader || n.raft.currentTerm !== n.lastTerm) {
          n.commitAtElection = n.raft.commitIndex;
        } else if (n.commitAtElection >= 0 && n.raft.commitIndex > n.commitAtElection) {
          // The leader's first commit of its term: strike right after it (timing faults near commit points).
          n.commitAtElection = -1;
          if (this.phase === 'faults' && this.rng.next() < this.nemesisRate) {
            this.queue.push(this.now + this.rng.int(4), { k: 'nemesis', node: n.id, term: n.raft.currentTerm });
          }
        }
      }
      n.lastTerm = n.raft.currentTerm;
      if (role !== n.lastRole) {
        n.lastRole = role;
        this.trace.add(this.now, `node ${n.id} -> ${role} term ${n.raft.currentTerm} (last ${n.raft.lastIndex}, commit ${n.raft.commitIndex})`);
        if (role === Role.Leader && this.phase === 'faults' && this.rng.next() < this.nemesisRate) {
          // A nemesis that strikes new leaders: their first entries stay on few nodes (Figure 8 material).
          this.queue.push(this.now + this.rng.int(this.nemesisDelay), { k: 'nemesis', node: n.id, term: n.raft.currentTerm });
        }
      }
    }
    this.safety.afterStep(rafts, this.incarnationOf);
    for (const w of this.watchers) this.watcherStep(w);
  }

  private node(id: number): SimNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  // ------------------------------------------------------------ hosts

  private start(node: SimNode): void {
    node.inc++;
    const snap = node.storage.snapshot;
    node.kv = snap === null ? new KvStore() : KvStore.restore(snap.data);
    // As the server starts: the tree from the snapshot, the history from its index on.
    node.tree = new SimTree(this.historyLimits, node.kv);
    node.disk = null;
    node.diskJobs = [];
    node.diskJobsInFsync = 0;
    node.raft = new RaftNode(
      {
        id: node.id,
        random: new SeededRandom(this.rng.nextUint32()),
        electionTicks: ELECTION_TICKS,
        heartbeatTicks: this.heartbeatTicks,
        limits: this.limits,
        unsafeVariant: this.options.variant,
        asyncStorageWrites: this.asyncStorage,
      },
      node.storage.load(),
    );
    node.lastRole = Role.Follower;
    this.pump(node);
  }

  private crash(node: SimNode): void {
    if (node.raft === null) return;
    node.raft = null;
    node.disk = null;
    node.inc++;
    this.stats.crashes++;
    this.detachWatchers(node.id);
    for (const w of node.pendingWrites.values()) this.finish(w.op, 'unknown');
    for (const op of node.pendingReads.values()) this.finish(op, 'failed');
    for (const r of node.readsWaiting) this.finish(r.op, 'failed');
    node.pendingWrites.clear();
    node.pendingReads.clear();
    node.readsWaiting = [];
    this.trace.add(this.now, `CRASH node ${node.id} (persisted: term ${node.storage.hardState.term}, last ${node.storage.lastIndex()})`);
    this.queue.push(this.now + this.rng.between(3, 60) * TICK, { k: 'restart', node: node.id, inc: node.inc });
  }

  private restart(node: SimNode): void {
    this.start(node);
    this.trace.add(this.now, `RESTART node ${node.id} (term ${node.storage.hardState.term}, commit ${node.storage.hardState.commit})`);
  }

  /** The next Ready of a node that is up and not waiting for its disk, its messages sent; null when there is none. */
  private takeReady(node: SimNode): { raft: RaftNode; rd: Ready } | null {
    const raft = node.raft;
    if (raft === null || node.disk !== null || !raft.hasReady()) return null;
    const rd = raft.ready();
    this.safety.onAppend(raft, rd.entries);
    for (const m of rd.messages) this.send(m);
    return { raft, rd };
  }

  /** The host loop: take a Ready, send its messages, start the disk write. */
  private pump(node: SimNode): void {
    if (this.asyncStorage) return this.pumpAsync(node);
    for (;;) {
      const taken = this.takeReady(node);
      if (taken === null) return;
      const { raft, rd } = taken;
      node.disk = rd;
      if (rd.entries.length > 0 || rd.hardState !== null || rd.snapshot !== null) {
        this.queue.push(this.now + this.rng.between(0, this.diskMax * node.diskFactor), { k: 'disk', node: node.id, inc: node.inc });
        return;
      }
      this.complete(node, raft, rd, true); // nothing to persist: apply and advance at once
    }
  }

  /**
   * The async-storage host: entries join the node's ordered disk queue and the
   * Ready advances at once; only a Ready that changes term or vote, or installs a
   * snapshot, waits for the disk (its job) before advancing, as the real host
   * awaits its hard-state file and snapshot install.
   */
  private pumpAsync(node: SimNode): void {
    for (;;) {
      const taken = this.takeReady(node);
      if (taken === null) return;
      const { raft, rd } = taken;
      const hs = rd.hardState;
      const waits = rd.snapshot !== null || (hs !== null && (hs.term !== node.storage.hardState.term || hs.vote !== node.storage.hardState.vote));
      if (waits) {
        node.disk = rd;
        this.queueDiskJob(node, { entries: rd.entries, ready: rd });
        return;
      }
      if (rd.entries.length > 0) this.queueDiskJob(node, { entries: rd.entries, ready: null });
      this.complete(node, raft, rd, false);
    }
  }

  /**
   * Group commit, as the WAL does it: one fsync at a time; it covers every job queued
   * when it started, and jobs queued meanwhile wait for the next one.
   */
  private queueDiskJob(node: SimNode, job: DiskJob): void {
    node.diskJobs.push(job);
    if (node.diskJobsInFsync === 0) this.startFsync(node);
  }

  private startFsync(node: SimNode): void {
    node.diskJobsInFsync = node.diskJobs.length;
    this.queue.push(this.now + this.rng.between(0, this.diskMax * node.diskFactor), { k: 'diskJob', node: node.id, inc: node.inc });
  }

  /** The disk's fsync returned: its jobs are durable, in order. */
  private diskJobDone(id: number, inc: number): void {
    const node = this.node(id);
    const raft = node.raft;
    if (raft === null || inc !== node.inc) return;
    const jobs = node.diskJobs.splice(0, node.diskJobsInFsync);
    node.diskJobsInFsync = 0;
    if (node.diskJobs.length > 0) this.startFsync(node);
    for (const job of jobs) {
      if (job.ready !== null) {
        node.disk = null;
        this.complete(node, raft, job.ready, true);
      } else {
        node.storage.append(job.entries);
      }
      if (job.entries.length > 0) {
        const last = job.entries[job.entries.length - 1];
        raft.persisted(last.index, last.term);
      }
    }
    this.pump(node);
  }

  private diskDone(id: number, inc: number): void {
    const node = this.node(id);
    const raft = node.raft;
    const rd = node.disk;
    if (raft === null || rd === null || inc !== node.inc) return;
    this.complete(node, raft, rd, true);
    this.pump(node);
  }

  /** The Ready is durable: apply it and advance. */
  private complete(node: SimNode, raft: RaftNode, rd: Ready, entriesDurable: boolean): void {
    const id = node.id;
    if (rd.snapshot !== null) node.storage.installSnapshot(rd.snapshot);
    // Async storage: a Ready that did not wait for the disk has its entries in a queued job.
    if (entriesDurable) node.storage.append(rd.entries);
    if (rd.hardState !== null) {
      // The real host saves term and vote, and the commit only as a hint it clamps on
      // recovery: never past the entries actually on this disk.
      const hs = rd.hardState;
      node.storage.setHardState({ term: hs.term, vote: hs.vote, commit: Math.min(hs.commit, node.storage.lastIndex()) });
    }
    if (rd.snapshot !== null) {
      node.kv = KvStore.restore(rd.snapshot.data);
      // As the server restores: sessions told to reconnect, the history starts over at the snapshot.
      this.detachWatchers(id);
      node.tree?.install(node.kv);
      this.safety.onSnapshotInstalled(id, rd.snapshot.meta);
      this.stats.snapshotsInstalled++;
      for (const [index, w] of node.pendingWrites) {
        if (index <= rd.snapshot.meta.index) {
          this.finish(w.op, 'unknown');
          node.pendingWrites.delete(index);
        }
      }
      if (this.trace.verbose) this.trace.add(this.now, `node ${id} installed snapshot at ${rd.snapshot.meta.index}`);
    }
    for (const e of rd.committedEntries) this.applyEntry(node, e);
    for (const rs of rd.readStates) {
      const opId = new DataView(rs.context.buffer, rs.context.byteOffset, 4).getUint32(0, true);
      const op = node.pendingReads.get(opId);
      if (op === undefined) continue;
      node.pendingReads.delete(opId);
      node.readsWaiting.push({ index: rs.index, op });
    }
    raft.advance();
    node.disk = null;
    this.serveReads(node);
    const applied = raft.status().applied;
    if (applied - raft.compactedIndex >= this.snapshotEvery && applied <= raft.durableIndex) {
      const meta = raft.createSnapshot(node.kv.serialize(), this.retainEntries);
      if (node.kv.applied !== meta.index) throw new Failure('safety', `node ${id}: snapshot at ${meta.index} but kv applied ${node.kv.applied}`);
      node.storage.saveOwnSnapshot({ meta, data: node.kv.serialize() });
      this.stats.snapshotsTaken++;
    }
  }

  private applyEntry(node: SimNode, e: Entry): void {
    this.safety.onApply(node.id, e);
    const put = e.type === EntryType.Normal ? decodePut(e.data) : null;
    node.kv.apply(e.index, put);
    this.applyToTree(node, e.index, put);
    if (e.type === EntryType.ConfChange && node.id === this.leaderId()) {
      const cc = decodeConfChange(e.data);
      this.trace.add(this.now, `conf change applied at ${e.index}: ${cc.type === 1 ? 'add voter' : cc.type === 2 ? 'add learner' : 'remove'} ${cc.node}`);
    }
    const w = node.pendingWrites.get(e.index);
    if (w !== undefined) {
      node.pendingWrites.delete(e.index);
      const mine = put !== null && put.opId === w.op.id && e.term === w.term;
      this.finish(w.op, mine ? 'ok' : 'failed');
    }
  }

  private serveReads(node: SimNode): void {
    if (node.readsWaiting.length === 0) return;
    const still: { index: number; op: HistoryOp }[] = [];
    for (const r of node.readsWaiting) {
      if (node.kv.applied >= r.index) this.finish(r.op, 'ok', node.kv.get(r.op.key));
      else still.push(r);
    }
    node.readsWaiting = still;
  }

  // ------------------------------------------------------------ watches

  /** The entry through the node's tree; its events go to their watchers' connections. */
  private applyToTree(node: SimNode, index: number, put: PutOp | null): void {
    if (this.keyAt[index] === undefined) this.keyAt[index] = put === null ? -1 : put.key;
    const tree = node.tree;
    if (tree === null) throw new Error(`node ${node.id} applies ${index} without a tree`);
    for (const event of tree.apply(index, put)) {
      const w = this.watchers[event.watcher - WATCHER_SESSION_BASE - 1];
      if (w === undefined || w.node !== node.id) throw new Failure('watches', `node ${node.id} fired an event for watcher ${event.watcher}, not connected to it`);
      w.inFlight.push(event);
    }
  }

  /** The node crashed or replaced its state: its watchers' connections are gone. */
  private detachWatchers(id: number): void {
    for (const w of this.watchers) {
      if (w.node !== id) continue;
      w.detach();
      // Away briefly, or long enough for a small history to move past what it saw.
      w.attachRate = this.watchRng.pick([0.02, 0.003, 0.0007]);
      if (this.trace.verbose) this.trace.add(this.now, `watcher ${w.id} loses node ${id} (complete ${w.completeZxid})`);
    }
  }

  /** One step of a watcher: read events, ping, lose its server, or connect to one. */
  private watcherStep(w: SimWatcher): void {
    const r = this.watchRng;
    if (w.node !== 0) {
      const tree = w.tree;
      if (tree === null) throw new Error(`watcher ${w.id} has no tree`);
      if (w.inFlight.length > 0 && r.next() < 0.3) w.flush();
      const roll = r.next();
      if (roll < 1 / 300) {
        w.reply(tree.applied); // a ping's reply
      } else if (roll < 1 / 300 + 1 / 1500) {
        this.detachWatchers(w.node);
      } else if (roll < 0.02) {
        // A server that lost the leader tells its clients to go elsewhere.
        const leader = this.leaderId();
        if (leader !== 0 && leader !== w.node && !this.net.linkUp(leader, w.node)) this.detachWatchers(w.node);
      }
      return;
    }
    if (r.next() >= w.attachRate) return;
    const up = [...this.nodes.values()].filter((n) => n.raft !== null);
    if (up.length === 0) return;
    this.attachWatcher(w, r.pick(up));
  }

  /** Connects if the node has applied what the client has seen (as the handshake waits). */
  private attachWatcher(w: SimWatcher, node: SimNode): boolean {
    const tree = node.tree;
    if (node.raft === null || tree === null || tree.applied < w.lastZxid) return false;
    const from = w.completeZxid;
    const result = w.attach(node.id, tree);
    if (result.kind === 'replayed') {
      this.stats.watchReplays++;
      this.stats.watchEventsReplayed += result.events;
    } else if (result.kind === 'compacted') {
      this.stats.watchReplaysCompacted++;
    }
    if (this.trace.verbose) {
      this.trace.add(this.now, `watcher ${w.id} -> node ${node.id} at ${tree.applied}: ${result.kind}${result.kind === 'first' ? '' : ` from ${from} (history from ${tree.history.oldestReplayableZxid}), ${result.events} events`}`);
    }
    return true;
  }

  /** Every watcher's events against the committed log. */
  private checkWatchers(): void {
    const expected = expectedEvents(this.keyAt);
    if (expected.hole >= 0) throw new Failure('watches', `no node applied index ${expected.hole} of the committed log`);
    const leader = this.leaderId();
    for (const w of this.watchers) {
      if (w.node === 0 && leader !== 0 && !this.attachWatcher(w, this.node(leader))) {
        throw new Failure('watches', `watcher ${w.id} cannot connect to leader ${leader}: it saw ${w.lastZxid}`);
      }
      w.flush();
      if (w.tree === null || w.startIndex < 0) continue;
      const { error, checked } = checkWatcher(expected.events, w.received, w.startIndex, w.tree.applied);
      this.stats.watchEventsChecked += checked;
      if (error !== null) throw new Failure('watches', `watcher ${w.id} (from ${w.startIndex}, ${w.received.length} received, history limits ${this.historyLimits.maxChanges} changes / ${this.historyLimits.maxBytes} bytes): ${error}`);
    }
  }

  private leaderId(): number {
    let best = 0;
    let bestTerm = -1;
    for (const n of this.nodes.values()) {
      if (n.raft !== null && n.raft.currentRole === Role.Leader && n.raft.currentTerm > bestTerm) {
        best = n.id;
        bestTerm = n.raft.currentTerm;
      }
    }
    return best;
  }

  // ------------------------------------------------------------ network

  private send(m: Message): void {
    for (const d of this.net.delays()) this.queue.push(this.now + d, { k: 'deliver', msg: m });
  }

  private deliver(m: Message): void {
    const node = this.nodes.get(m.to);
    if (node === undefined || node.raft === null || !this.net.linkUp(m.from, m.to)) {
      this.net.dropped++;
      return;
    }
    this.net.delivered++;
    if (this.trace.verbose) this.trace.add(this.now, describe(m));
    node.raft.step(m);
    this.pump(node);
  }

  // ------------------------------------------------------------ clients

  private clientStep(c: Client): void {
    if (c.op !== null) return;
    if (this.phase === 'quiet' && c.quietDone >= QUIET_OPS_PER_CLIENT) return; // done: let the cluster settle
    // After a write, often read the same key back through another server: the pattern that exposes stale reads.
    const readBack = c.lastPutKey >= 0 && this.rng.next() < 0.5;
    const kind = readBack || this.rng.next() < 0.5 ? 'get' : 'put';
    const key = readBack ? c.lastPutKey : this.rng.int(this.keys);
    c.lastPutKey = -1;
    const ids = [...this.nodes.keys()];
    let target = c.leaderGuess;
    if (!this.nodes.has(target) || this.node(target).raft === null || (kind === 'get' && this.rng.next() < 0.5)) target = this.rng.pick(ids);
    const op = this.history.invoke(c.id, key, kind, 0, target, this.now);
    c.op = op;
    this.queue.push(this.now + CLIENT_TIMEOUT_TICKS * TICK, { k: 'timeout', op });
    this.queue.push(this.now + this.rng.between(1, 3), { k: 'request', op });
  }

  /** A client request reaches its server. */
  private handleRequest(op: HistoryOp): void {
    if (op.status !== 'pending') return;
    const node = this.node(op.node);
    const raft = node.raft;
    const c = this.clients[op.client - 1];
    const ids = [...this.nodes.keys()];
    const key = op.key;
    if (raft === null) {
      this.finish(op, 'failed');
      c.leaderGuess = this.rng.pick(ids);
      return;
    }
    try {
      if (op.kind === 'put') {
        op.value = op.id;
        const p = raft.propose(encodePut({ opId: op.id, key, value: op.id }));
        node.pendingWrites.set(p.index, { op, term: p.term });
      } else {
        const ctx = new Uint8Array(4);
        new DataView(ctx.buffer).setUint32(0, op.id, true);
        raft.readIndex(ctx);
        node.pendingReads.set(op.id, op);
      }
    } catch (error) {
      if (!(error instanceof ProposalDropped)) throw error;
      this.finish(op, 'failed');
      c.leaderGuess = error.leaderHint !== 0 ? error.leaderHint : this.rng.pick(ids);
      return;
    }
    this.pump(node);
  }

  private clientTimeout(op: HistoryOp): void {
    if (op.status !== 'pending') return;
    const c = this.clients[op.client - 1];
    if (c.op === op) c.leaderGuess = this.rng.pick([...this.nodes.keys()]); // try another server next
    this.finish(op, op.kind === 'put' ? 'unknown' : 'failed');
  }

  private finish(op: HistoryOp, outcome: 'ok' | 'failed' | 'unknown', value?: number): void {
    if (op.status !== 'pending') return;
    if (outcome === 'ok') this.history.ok(op, value, this.now);
    else if (outcome === 'failed') this.history.fail(op);
    else this.history.unknown(op);
    if (this.trace.verbose || outcome === 'ok') {
      this.trace.add(this.now, `client ${op.client} ${op.kind} k${op.key}${op.kind === 'put' || outcome === 'ok' ? `=${op.value}` : ''} via node ${op.node}: ${outcome} (op ${op.id}, invoked ${op.invoke})`);
    }
    const c = this.clients[op.client - 1];
    if (c.op !== op) return;
    c.op = null;
    if (outcome === 'ok') {
      c.leaderGuess = op.kind === 'put' ? op.node : c.leaderGuess;
      if (op.kind === 'put') c.lastPutKey = op.key;
      if (this.phase === 'quiet' && this.quietLeaderAt >= 0 && op.invoke > this.quietLeaderAt) c.quietDone++;
    }
    // Think time; back off after a failure so clients do not spin on a leaderless cluster.
    const pause = outcome === 'ok' ? this.rng.between(0, 2 * TICK) : this.rng.between(TICK, 3 * TICK);
    this.queue.push(this.now + pause, { k: 'client', client: c.id });
  }

  // ------------------------------------------------------------ faults

  private injectFault(): void {
    const ids = [...this.nodes.keys()];
    const up = ids.filter((id) => this.node(id).raft !== null);
    const down = ids.filter((id) => this.node(id).raft === null);
    const leader = this.leaderId();
    const roll = this.rng.next();
    if (roll < 0.22) {
      this.partition(ids, leader);
    } else if (roll < 0.3) {
      this.net.heal();
      this.partitionGeneration++;
      this.trace.add(this.now, 'HEAL network');
    } else if (roll < 0.48) {
      if (up.length > 0) this.crash(this.node(this.rng.next() < 0.3 && leader !== 0 ? leader : this.rng.pick(up)));
    } else if (roll < 0.5) {
      if (down.length > 0) this.restart(this.node(this.rng.pick(down)));
    } else if (roll < 0.62) {
      this.membershipChange(leader);
    } else if (roll < 0.67) {
      // a degraded disk: this node's writes take much longer (acknowledgements wait for them)
      const x = this.rng.pick(ids);
      this.node(x).diskFactor = this.rng.pick([1, 1, 5, 20]);
      this.trace.add(this.now, `DISK node ${x} writes ${this.node(x).diskFactor}x slower`);
    } else if (roll < 0.72) {
      // clock drift: a node (often the leader) ticks slower, so its timeouts stretch
      const x = this.rng.next() < 0.5 && leader !== 0 ? leader : this.rng.pick(ids);
      const slow = this.rng.next() < 0.5;
      this.node(x).tickInterval = slow ? TICK * this.rng.between(2, 4) : TICK;
      this.trace.add(this.now, `CLOCK node ${x} ticks every ${this.node(x).tickInterval} units`);
    } else if (roll < 0.8) {
      const x = this.rng.next() < 0.5 && leader !== 0 ? leader : this.rng.pick(ids);
      const ticks = this.rng.between(5, 40);
      this.node(x).pausedUntil = this.now + ticks * TICK;
      this.trace.add(this.now, `PAUSE node ${x} for ${ticks} ticks`);
    } else if (roll < 0.85) {
      this.powerCut();
    } else if (leader !== 0) {
      const raft = this.node(leader).raft;
      if (raft === null) return;
      const others = raft.status().membership.voters.filter((id) => id !== leader);
      if (others.length === 0) return;
      const to = this.rng.pick(others);
      try {
        raft.transferLeader(to);
        this.stats.transfers++;
        this.trace.add(this.now, `TRANSFER leadership ${leader} -> ${to}`);
      } catch (error) {
        if (!(error instanceof ProposalDropped)) throw error;
      }
      this.pump(this.node(leader));
    }
  }

  /** Every node loses power at once: only what each had persisted survives. */
  private powerCut(): void {
    this.trace.add(this.now, 'POWER CUT: every node crashes');
    for (const n of this.nodes.values()) this.crash(n);
  }

  private nemesis(id: number, term: number): void {
    const node = this.node(id);
    if (this.phase !== 'faults' || node.raft === null || node.raft.currentRole !== Role.Leader || node.raft.currentTerm !== term) return;
    const roll = this.rng.next();
    if (roll < 0.1) {
      this.powerCut();
    } else if (roll < 0.25) {
      this.crash(node);
    } else if (roll < 0.4) {
      // bounce: the process dies and its supervisor restarts it at once
      this.crash(node);
      this.queue.push(this.now + this.rng.between(1, 2 * TICK), { k: 'restart', node: id, inc: node.inc });
    } else if (roll < 0.8) {
      this.net.heal();
      const generation = ++this.partitionGeneration;
      this.queue.push(this.now + this.rng.between(10, 80) * TICK, { k: 'heal', generation });
      this.net.separate([id], [...this.nodes.keys()]);
      this.trace.add(this.now, `NEMESIS isolates new leader ${id}`);
    } else {
      const ticks = this.rng.between(5, 40);
      node.pausedUntil = this.now + ticks * TICK;
      this.trace.add(this.now, `NEMESIS pauses new leader ${id} for ${ticks} ticks`);
    }
  }

  private partition(ids: number[], leader: number): void {
    this.net.heal();
    const generation = ++this.partitionGeneration;
    this.queue.push(this.now + this.rng.between(10, 80) * TICK, { k: 'heal', generation });
    this.stats.partitions++;
    const shape = this.rng.int(5);
    const shuffled = ids.slice();
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = this.rng.int(i + 1); // Fisher-Yates: the same order on every engine
      [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
    }
    if (shape === 0) {
      const x = this.rng.pick(ids);
      this.net.separate([x], ids);
    } else if (shape === 1) {
      const x = leader !== 0 ? leader : this.rng.pick(ids);
      this.net.separate([x], ids);
      if (this.rng.next() < 0.5) {
        // ...while its clock runs slow: it keeps believing it leads well past the others' election
        this.node(x).tickInterval = TICK * this.rng.between(3, 5);
        this.trace.add(this.now, `CLOCK node ${x} ticks every ${this.node(x).tickInterval} units`);
      }
    } else if (shape === 2) {
      const k = this.rng.between(1, Math.floor(ids.length / 2));
      this.net.separate(shuffled.slice(0, k), shuffled.slice(k));
    } else if (shape === 3) {
      // asymmetric: x hears everyone, nobody hears x (or the reverse)
      const x = this.rng.next() < 0.5 && leader !== 0 ? leader : this.rng.pick(ids);
      const deaf = this.rng.next() < 0.5;
      for (const y of ids) if (y !== x) (deaf ? this.net.cutLink(y, x) : this.net.cutLink(x, y));
    } else {
      for (const a of ids) for (const b of ids) if (a !== b && this.rng.next() < 0.3) this.net.cutLink(a, b);
    }
    this.trace.add(this.now, `PARTITION shape ${['isolate-one', 'isolate-leader', 'split', 'asymmetric', 'random-links'][shape]}: cut ${this.net.describeCuts()}`);
  }

  private membershipChange(leader: number): void {
    if (leader === 0) return;
    const node = this.node(leader);
    const raft = node.raft;
    if (raft === null) return;
    const { voters, learners } = raft.status().membership;
    const n = this.options.nodes;
    let change: { type: 1 | 2 | 3; node: number } | null = null;
    if (learners.length > 0 && voters.length <= n) change = { type: ConfChangeType.AddVoter, node: this.rng.pick(learners) };
    else if (voters.length >= n && this.rng.next() < 0.6) change = { type: ConfChangeType.RemoveNode, node: this.rng.pick(voters) };
    else if (this.nextNodeId <= n + 3) {
      const id = this.nextNodeId++;
      const fresh = new SimNode(id, new MemoryStorage());
      this.nodes.set(id, fresh);
      this.start(fresh);
      this.queue.push(this.now + this.rng.int(TICK), { k: 'tick', node: id });
      change = { type: ConfChangeType.AddLearner, node: id };
    }
    if (change === null) return;
    try {
      raft.proposeConfChange(change);
      this.stats.confChanges++;
      this.trace.add(this.now, `MEMBERSHIP propose ${['', 'add voter', 'add learner', 'remove'][change.type]} ${change.node} at leader ${leader}`);
    } catch (error) {
      if (!(error instanceof ProposalDropped)) throw error;
    }
    this.pump(node);
  }

  // ------------------------------------------------------------ quiet phase and final checks

  private beginQuiet(): void {
    this.phase = 'quiet';
    this.quietStart = this.now;
    this.net.heal();
    this.net.faults = { ...this.net.faults, dropRate: 0, duplicateRate: 0, longDelayRate: 0 };
    for (const n of this.nodes.values()) {
      n.pausedUntil = 0;
      n.tickInterval = TICK;
      n.diskFactor = 1;
      if (n.raft === null) this.start(n);
    }
    this.trace.add(this.now, 'QUIET: faults stop, network healed, every node restarted');
  }

  /** The voters and learners of the newest leader's membership. */
  private members(): SimNode[] {
    const leader = this.leaderId();
    const raft = leader === 0 ? null : this.node(leader).raft;
    if (raft === null) return [];
    const m = raft.status().membership;
    return [...m.voters, ...m.learners].map((id) => this.node(id));
  }

  private quietFinished(): boolean {
    const elapsedTicks = (this.now - this.quietStart) / TICK;
    if (this.quietLeaderAt < 0) {
      const leader = this.leaderId();
      const raft = leader === 0 ? null : this.node(leader).raft;
      if (raft !== null) {
        this.quietLeaderAt = this.history.now();
        this.stats.livenessLeaderTicks = Math.ceil(elapsedTicks);
        this.trace.add(this.now, `QUIET: leader ${leader} of term ${raft.currentTerm} after ${Math.ceil(elapsedTicks)} ticks`);
      } else if (elapsedTicks > LIVENESS_LEADER_TICKS) {
        throw new Failure('liveness', `no leader ${LIVENESS_LEADER_TICKS} ticks after faults stopped`);
      }
      return false;
    }
    if (elapsedTicks > LIVENESS_DONE_TICKS) {
      const stuck = this.clients.filter((c) => c.quietDone < QUIET_OPS_PER_CLIENT).map((c) => `client ${c.id} (${c.quietDone} ops done)`);
      const lagging = this.members()
        .filter((n) => n.raft === null || n.kv.applied !== this.node(this.leaderId()).raft?.commitIndex)
        .map((n) => `node ${n.id} applied ${n.kv.applied}${n.raft === null ? ' (down)' : `, commit ${n.raft.commitIndex}, durable ${n.raft.durableIndex}, last ${n.raft.lastIndex}`}`);
      const detail = stuck.length > 0 ? stuck.join(', ') : `members not converged: ${lagging.join('; ')}; leader ${this.leaderId()} commit ${this.node(this.leaderId()).raft?.commitIndex}`;
      throw new Failure('liveness', `cluster did not settle ${LIVENESS_DONE_TICKS} ticks after faults stopped: ${detail}`);
    }
    if (this.clients.some((c) => c.quietDone < QUIET_OPS_PER_CLIENT || c.op !== null)) return false;
    const members = this.members();
    if (members.length === 0) return false;
    const leader = this.node(this.leaderId()).raft;
    if (leader === null) return false;
    return members.every((n) => n.raft !== null && n.kv.applied === leader.commitIndex);
  }

  private finalChecks(): void {
    const members = this.members();
    const first = members[0];
    for (const n of members) {
      if (!n.kv.equals(first.kv)) throw new Failure('convergence', `node ${n.id} and node ${first.id} applied the same index ${n.kv.applied} but hold different data`);
    }
    const check = checkHistory(this.history.ops);
    this.stats.checkedOps = check.ops;
    this.stats.checkerStates = check.explored;
    this.stats.checkerGaveUp = check.unknownKeys;
    if (!check.ok) {
      const op = check.failingOp === null ? undefined : this.history.ops[check.failingOp - 1];
      const window: [number, number] | null =
        op === undefined ? null : [Math.floor(op.invokedAt / TICK) - 30, Math.ceil((op.completedAt ?? op.invokedAt) / TICK) + 2];
      throw new Failure('linearizability', `client history is not linearizable: ${check.failure ?? ''}`, window);
    }
    this.checkWatchers();
  }
}

function describe(m: Message): string {
  const parts = [`${m.from}->${m.to} ${messageTypeName(m.type)} t${m.term}`];
  if (m.index !== 0 || m.logTerm !== 0) parts.push(`i${m.index}/lt${m.logTerm}`);
  if (m.entries.length > 0) parts.push(`entries ${m.entries[0].index}..${m.entries[m.entries.length - 1].index}`);
  if (m.commit !== 0) parts.push(`commit ${m.commit}`);
  if (m.reject) parts.push(`REJECT hint ${m.rejectHint}/${m.logTerm}`);
  if (m.transfer) parts.push('transfer');
  if (m.snapshot !== null) parts.push(`snap@${m.snapshot.meta.index} off ${m.snapshot.offset}+${m.snapshot.data.byteLength}/${m.snapshot.totalBytes}`);
  return parts.join(' ');
}

export function runSimulation(options: SimOptions): SimResult {
  return new Simulation(options).run();
}
