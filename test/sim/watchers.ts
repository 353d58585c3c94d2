// Watches in the whole-cluster simulation (issue 19, "watches that miss nothing").
//
// Every simulated node keeps, beside its KvStore, a real znode tree (src/tree) with
// a WatchRegistry and a bounded ChangeHistory, fed by the log exactly as the server
// (src/server/node.ts) feeds them: a put of key k is a create of /k<k> (a setData once
// it exists), any other entry moves the tree's zxid with applyEmpty; the history
// starts at the snapshot index when the node starts and is reset when the node
// installs a snapshot from the leader.
//
// Simulated watchers hold a PERSISTENT_RECURSIVE watch on '/' through one node at a
// time, keep the client's bookkeeping (src/client/session.ts: lastZxid, completeZxid,
// the events of a half-received txn skipped when replayed), and move to another node
// when theirs crashes, installs a snapshot, loses the leader, or at random; events in
// flight on the old connection are lost. Reattaching asks replayWatches for what was
// missed since completeZxid, or falls back (Compacted) when the history no longer
// reaches back; the watcher then reads again and starts over from that node's state.
//
// The check (checkWatcher): the events a watcher received, concatenated over all its
// connections, are exactly the changes of the committed log's puts after the index it
// first attached at, in log order, with a gap only right after a Compacted marker.
import {
  AddWatchMode,
  ChangeHistory,
  DataTree,
  EventType,
  NodeKind,
  OPEN_ACL_UNSAFE,
  WatchRegistry,
  apply,
  applyEmpty,
  replayWatches,
  type ChangeHistoryLimits,
  type Txn,
  type WatchEvent,
  type WatchLists,
} from '../../src/tree/index.js';
import type { KvStore, PutOp } from './kv.js';

/** Session ids of the simulated watchers start here (watcher i is WATCHER_SESSION_BASE + i). */
export const WATCHER_SESSION_BASE = 1000;

const WATCHED: WatchLists = { dataWatches: [], existWatches: [], childWatches: [], persistentWatches: [], persistentRecursiveWatches: ['/'] };

export const keyPath = (key: number): string => `/k${key}`;

function valueBytes(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, true);
  return out;
}

function putTxn(tree: DataTree, key: number, value: number): Txn {
  const path = keyPath(key);
  const data = valueBytes(value);
  if (tree.nodes.has(path)) return { type: 'setData', path, data, version: -1, timeMs: 0 };
  return { type: 'create', path, sequentialPrefix: '', data, acl: OPEN_ACL_UNSAFE, kind: NodeKind.Persistent, ephemeralOwner: 0, ttlMs: 0, timeMs: 0 };
}

/**
 * The tree of a KV image (a snapshot): /k<k> for every key written, at zxids 1..n,
 * then the tree's zxid moved to the image's index (only existence and data matter
 * to the watch events; stats are not compared).
 */
function treeOf(kv: KvStore): DataTree {
  const tree = new DataTree();
  let zxid = 0;
  for (const [key, value] of kv.entries()) {
    const r = apply(tree, putTxn(tree, key, value), ++zxid);
    if (r.error !== 0) throw new Error(`sim tree: rebuilding ${keyPath(key)} failed with ${r.error}`);
  }
  if (zxid > kv.applied) throw new Error(`sim tree: ${zxid} keys in a snapshot at index ${kv.applied}`);
  if (kv.applied > zxid) applyEmpty(tree, kv.applied);
  return tree;
}

/** A node's znode tree with its per-server watch state. */
export class SimTree {
  tree: DataTree;
  readonly history: ChangeHistory;
  readonly registry: WatchRegistry;

  /** The state a node starts with: its snapshot (or nothing); the history starts there. */
  constructor(limits: ChangeHistoryLimits, kv: KvStore) {
    this.tree = treeOf(kv);
    this.history = new ChangeHistory(limits, this.tree.lastZxid);
    this.registry = new WatchRegistry(this.history);
  }

  get applied(): number {
    return this.tree.lastZxid;
  }

  /** A snapshot from the leader replaced the state: nothing before it is known any more. */
  install(kv: KvStore): void {
    this.tree = treeOf(kv);
    this.history.reset(this.tree.lastZxid);
  }

  /** Applies log entry `index`; the watch events it fires, in order. */
  apply(index: number, put: PutOp | null): readonly WatchEvent[] {
    if (put === null) {
      applyEmpty(this.tree, index);
      return [];
    }
    const r = apply(this.tree, putTxn(this.tree, put.key, put.value), index, this.registry);
    if (r.error !== 0) throw new Error(`sim tree: put ${keyPath(put.key)} at ${index} failed with ${r.error}`);
    return r.events;
  }
}

export type Received = { readonly zxid: number; readonly type: number; readonly path: string } | { readonly compactedAt: number };

/** One simulated client session watching '/' recursively, with the client's zxid bookkeeping. */
export class SimWatcher {
  /** The node it is connected to (0: none), and that node's tree when it connected. */
  node = 0;
  tree: SimTree | null = null;
  /** Chance per simulator step that a detached watcher tries to connect. */
  attachRate = 0.02;
  /** Events the server sent that the client has not read yet (lost if the connection goes). */
  inFlight: WatchEvent[] = [];
  /** The applied index of the node it first attached to: the expected events start after it. */
  startIndex = -1;
  readonly received: Received[] = [];
  // src/client/session.ts's bookkeeping, the same rules:
  lastZxid = 0;
  completeZxid = 0;
  private eventZxid = 0;
  private readonly eventsAtZxid = new Map<string, number>();
  private alreadyDelivered: { readonly zxid: number; readonly keys: Map<string, number> } | null = null;

  constructor(readonly id: number) {}

  /** A reply (of zxid = the server's applied index) arrives after every event sent before it. */
  reply(zxid: number): void {
    this.flush();
    if (zxid > this.lastZxid) this.lastZxid = zxid;
    if (zxid > this.completeZxid) this.completeZxid = zxid;
  }

  /** The client reads every event in flight. */
  flush(): void {
    for (const e of this.inFlight) this.event(e.type, e.path, e.zxid);
    this.inFlight = [];
  }

  /** Session.firstDelivery: false for a replayed event of a txn delivered (in part) before the reconnect. */
  private event(type: number, path: string, zxid: number): void {
    if (zxid > this.lastZxid) this.lastZxid = zxid;
    const key = `${type} ${path}`;
    const delivered = this.alreadyDelivered;
    if (delivered !== null && zxid === delivered.zxid) {
      const left = delivered.keys.get(key) ?? 0;
      if (left > 0) {
        delivered.keys.set(key, left - 1);
        return;
      }
    }
    if (zxid > this.eventZxid) {
      this.eventZxid = zxid;
      this.eventsAtZxid.clear();
    }
    if (zxid === this.eventZxid) this.eventsAtZxid.set(key, (this.eventsAtZxid.get(key) ?? 0) + 1);
    if (zxid - 1 > this.completeZxid) this.completeZxid = zxid - 1;
    this.received.push({ zxid, type, path });
  }

  /** The connection is gone: what was in flight is lost; the server drops the watches. */
  detach(): void {
    this.tree?.registry.removeWatcher(this.id);
    this.node = 0;
    this.tree = null;
    this.inFlight = [];
  }

  /**
   * Connects to `node` (whose applied index is >= lastZxid) and registers the watch:
   * the first time as addWatch (nothing to replay), later as setWatches from
   * completeZxid. 'replayed' with the count of events, or 'compacted'.
   */
  attach(node: number, tree: SimTree): { kind: 'first' | 'replayed' | 'compacted'; events: number } {
    if (tree.applied < this.lastZxid) throw new Error(`watcher ${this.id}: node ${node} at ${tree.applied} is behind the client's ${this.lastZxid}`);
    this.node = node;
    this.tree = tree;
    if (this.startIndex < 0) {
      this.startIndex = tree.applied;
      tree.registry.addPersistentWatch('/', this.id, AddWatchMode.PersistentRecursive);
      this.reply(tree.applied);
      return { kind: 'first', events: 0 };
    }
    this.alreadyDelivered = this.eventZxid > this.completeZxid ? { zxid: this.eventZxid, keys: new Map(this.eventsAtZxid) } : null;
    const replayed = replayWatches(tree.history, tree.registry, this.id, this.completeZxid, WATCHED);
    if (replayed === null) {
      // The server's fallback: the watch registered live, Compacted sent; the client reads
      // the subtree again (a read of zxid = the applied index) and follows from there.
      tree.registry.addPersistentWatch('/', this.id, AddWatchMode.PersistentRecursive);
      this.alreadyDelivered = null;
      this.received.push({ compactedAt: tree.applied });
      this.reply(tree.applied);
      return { kind: 'compacted', events: 0 };
    }
    this.inFlight.push(...replayed);
    this.reply(tree.applied); // the setWatches reply, after the replayed events
    this.alreadyDelivered = null;
    return { kind: 'replayed', events: replayed.length };
  }
}

/**
 * The watch events the committed log implies: for each index, the put's change
 * (NodeCreated for a key's first put, NodeDataChanged after), or null.
 * `keyAt[index]` is the put's key, -1 for another entry, undefined if never applied.
 */
export function expectedEvents(keyAt: readonly (number | undefined)[]): { events: ({ type: number; path: string } | null)[]; hole: number } {
  const seen = new Set<number>();
  const events: ({ type: number; path: string } | null)[] = [null];
  for (let i = 1; i < keyAt.length; i++) {
    const key = keyAt[i];
    if (key === undefined) return { events, hole: i };
    if (key < 0) events.push(null);
    else {
      events.push({ type: seen.has(key) ? EventType.NodeDataChanged : EventType.NodeCreated, path: keyPath(key) });
      seen.add(key);
    }
  }
  return { events, hole: -1 };
}

/**
 * Null if `received` is exactly the expected events after `startIndex` up to
 * `endIndex` (gaps only right after a Compacted marker); else what is wrong.
 * `checked` counts the events compared.
 */
export function checkWatcher(
  expected: readonly ({ type: number; path: string } | null)[],
  received: readonly Received[],
  startIndex: number,
  endIndex: number,
): { error: string | null; checked: number } {
  let cursor = startIndex;
  let checked = 0;
  const nextPut = (after: number, upTo: number): number => {
    for (let i = after + 1; i <= upTo && i < expected.length; i++) if (expected[i] !== null) return i;
    return -1;
  };
  for (let n = 0; n < received.length; n++) {
    const r = received[n];
    if ('compactedAt' in r) {
      if (r.compactedAt < cursor) return { error: `Compacted (#${n}) resumes at ${r.compactedAt}, before ${cursor} already seen`, checked };
      cursor = r.compactedAt;
      continue;
    }
    const at = nextPut(cursor, r.zxid);
    if (at !== r.zxid) {
      const what = `event #${n} ${r.type} ${r.path} @${r.zxid}`;
      return { error: at < 0 ? `${what}: no put after ${cursor} up to it (a duplicate or a change that never happened)` : `${what}: missed the put at ${at} (after ${cursor})`, checked };
    }
    const e = expected[at];
    if (e === null || e.type !== r.type || e.path !== r.path) return { error: `event #${n} @${r.zxid} is ${r.type} ${r.path}, the log says ${e?.type} ${e?.path}`, checked };
    cursor = at;
    checked++;
  }
  const missed = nextPut(cursor, endIndex);
  if (missed >= 0) return { error: `the put at ${missed} (after ${cursor}, up to ${endIndex}) never arrived`, checked };
  return { error: null, checked };
}
