// Replaying missed watch events from the change history: for random workloads, the
// events a set of watches gets replayed after zxid Z are exactly the events the same
// watches got live after Z (same order, types, paths, zxids, ACLs), and the watches
// left registered afterwards are the same. And the history's bounds: whole txns are
// evicted, and covers() says when a replay would miss something.
import { describe, expect, test } from 'vitest';
import { ChangeHistory, WatchRegistry, WatcherType, replayWatches, type WatchEvent, type WatchLists } from '../../src/tree/index.js';
import type { SeededRandom } from '../../src/util/random.js';
import { seeded } from '../support/seeded.js';
import { Harness } from './harness.js';
import { SESSION_IDS, Workload, idsOf } from './workload.js';

/** A watcher that is no session of the workload, so no closeSession drops its watches. */
const WATCHER = 99;
const UNBOUNDED = { maxChanges: 1_000_000, maxBytes: 1 << 30 };

class HistoryHarness extends Harness {
  readonly history = new ChangeHistory(UNBOUNDED, 0);
  override readonly watches = new WatchRegistry(this.history);
}

type Listed = { kind: keyof WatchLists; path: string };

function randomWatches(rng: SeededRandom, workload: Workload): Listed[] {
  const kinds: (keyof WatchLists)[] = ['dataWatches', 'existWatches', 'childWatches', 'persistentWatches', 'persistentRecursiveWatches'];
  return Array.from({ length: 2 + rng.int(10) }, () => ({ kind: rng.pick(kinds), path: rng.int(8) === 0 ? '/' : workload.path() })).filter((w) => w.path.startsWith('/') && !w.path.includes('//') && !w.path.endsWith('/') || w.path === '/');
}

function listsOf(watches: readonly Listed[]): WatchLists {
  const lists = { dataWatches: [] as string[], existWatches: [] as string[], childWatches: [] as string[], persistentWatches: [] as string[], persistentRecursiveWatches: [] as string[] };
  for (const w of watches) lists[w.kind].push(w.path);
  return lists;
}

function register(registry: WatchRegistry, watches: readonly Listed[]): void {
  for (const w of watches) {
    if (w.kind === 'dataWatches' || w.kind === 'existWatches') registry.addDataWatch(w.path, WATCHER);
    else if (w.kind === 'childWatches') registry.addChildWatch(w.path, WATCHER);
    else registry.addPersistentWatch(w.path, WATCHER, w.kind === 'persistentWatches' ? 0 : 1);
  }
}

/** Which of `watches` are still registered in `registry`, per kind. */
function stillRegistered(registry: WatchRegistry, watches: readonly Listed[]): string[] {
  const type = (kind: keyof WatchLists): WatcherType =>
    kind === 'childWatches' ? WatcherType.Children : kind === 'persistentWatches' ? WatcherType.Persistent : kind === 'persistentRecursiveWatches' ? WatcherType.PersistentRecursive : WatcherType.Data;
  return watches.filter((w) => registry.hasWatch(w.path, WATCHER, type(w.kind))).map((w) => `${w.kind} ${w.path}`).sort();
}

/** One seed; returns how many events were compared. */
function run(rng: SeededRandom, stepsBefore: number, stepsAfter: number): number {
  const h = new HistoryHarness();
  for (const id of SESSION_IDS) h.openSession(id);
  const workload = new Workload(rng, () => [...h.tree.nodes.keys()]);
  const step = (): readonly WatchEvent[] => {
    const session = rng.pick(SESSION_IDS);
    return h.write(workload.request(), h.session(session, idsOf(session))).events;
  };
  for (let i = 0; i < stepsBefore; i++) step();

  const from = h.zxid;
  const watches = randomWatches(rng, workload);
  register(h.watches, watches);
  const live: WatchEvent[] = [];
  for (let i = 0; i < stepsAfter; i++) live.push(...step().filter((e) => e.watcher === WATCHER));

  const after = new WatchRegistry();
  const replayed = replayWatches(h.history, after, WATCHER, from, listsOf(watches));
  expect(replayed).not.toBeNull();
  expect(replayed).toEqual(live);
  for (let i = 0; i < replayed!.length; i++) expect(replayed![i].acl).toBe(live[i].acl);
  expect(stillRegistered(after, watches)).toEqual(stillRegistered(h.watches, watches));
  return live.length;
}

describe('replaying watch events from the change history', () => {
  test('gives exactly the events the same watches got live, and leaves the same watches registered (200 seeds)', () => {
    let compared = 0;
    for (let seed = 1; seed <= 200; seed++) seeded(seed, (rng) => (compared += run(rng, 50 + rng.int(100), 1 + rng.int(300))));
    // The workloads do reach the watches (a check that compares nothing proves nothing).
    expect(compared).toBeGreaterThan(1000);
  });

  test('from the newest zxid replays nothing and registers every watch', () => {
    const h = new HistoryHarness();
    h.openSession(1);
    h.mustCreate('/a');
    const after = new WatchRegistry();
    expect(replayWatches(h.history, after, WATCHER, h.zxid, listsOf([{ kind: 'dataWatches', path: '/a' }, { kind: 'persistentRecursiveWatches', path: '/' }]))).toEqual([]);
    expect(after.hasWatch('/a', WATCHER, WatcherType.Data)).toBe(true);
    expect(after.hasWatch('/', WATCHER, WatcherType.PersistentRecursive)).toBe(true);
  });
});

/** A harness whose registry records into `history` (session 1 open first, so zxid 1 is its createSession). */
function harnessWith(limits: { maxChanges: number; maxBytes: number }): { h: Harness; history: ChangeHistory } {
  const h = new Harness();
  h.openSession(1);
  const history = new ChangeHistory(limits, h.zxid);
  Object.defineProperty(h, 'watches', { value: new WatchRegistry(history) });
  return { h, history };
}

describe('the change history stays within its bounds', () => {
  test('past maxChanges the oldest txns go, and a replay from before them is refused (null)', () => {
    const { h, history } = harnessWith({ maxChanges: 3, maxBytes: 1 << 20 });
    h.mustCreate('/a'); // zxid 2
    h.mustCreate('/b'); // zxid 3
    h.mustCreate('/c'); // zxid 4
    expect([history.size, history.oldestReplayableZxid, history.covers(1)]).toEqual([3, 1, true]);
    h.mustCreate('/d'); // zxid 5: /a's change goes
    expect([history.size, history.oldestReplayableZxid, history.covers(1), history.covers(2)]).toEqual([3, 2, false, true]);
    expect(replayWatches(history, new WatchRegistry(), WATCHER, 1, listsOf([{ kind: 'persistentRecursiveWatches', path: '/' }]))).toBeNull();
    expect(replayWatches(history, new WatchRegistry(), WATCHER, 2, listsOf([{ kind: 'persistentRecursiveWatches', path: '/' }]))!.map((e) => e.path)).toEqual(['/b', '/c', '/d']);
  });

  test('a txn goes whole: a multi of three creates is never half replayable', () => {
    const { h, history } = harnessWith({ maxChanges: 4, maxBytes: 1 << 20 });
    h.mustCreate('/x'); // zxid 2
    const multi = h.multi(['/m1', '/m2', '/m3'].map((path) => ({ type: 'create' as const, path, data: new Uint8Array(0), acl: [{ perms: 31, scheme: 'world', id: 'anyone' }], mode: 0 as const })));
    expect(multi.error).toBe(0); // zxid 3: 3 changes, 4 held
    h.mustCreate('/y'); // zxid 4: 5 > 4, so zxid 2 goes (1 change), 4 held
    expect([history.size, history.oldestReplayableZxid]).toEqual([4, 2]);
    h.mustCreate('/z'); // zxid 5: zxid 3 goes with all three of its changes
    expect([history.size, history.oldestReplayableZxid]).toEqual([2, 3]);
  });

  test('past maxBytes the oldest txns go too (64 bytes plus the path each)', () => {
    const { h, history } = harnessWith({ maxChanges: 1000, maxBytes: 2 * (64 + 4) });
    h.mustCreate('/aaa'); // zxid 2
    h.mustCreate('/bbb');
    expect([history.size, history.bytes]).toEqual([2, 136]);
    h.mustCreate('/ccc');
    expect([history.size, history.bytes, history.oldestReplayableZxid]).toEqual([2, 136, 2]);
  });

  test('reset (a snapshot replaced the tree) forgets everything before its zxid', () => {
    const { h, history } = harnessWith(UNBOUNDED);
    h.mustCreate('/a');
    history.reset(500);
    expect([history.size, history.covers(1), history.covers(500)]).toEqual([0, false, true]);
  });
});
