// Watches under random workloads: the registry's events must match a naive
// reference (a flat list of registrations scanned on every change) written from
// ZooKeeper's rules: one-shot data/child watches removed when they fire, persistent
// ones kept, recursive ones matching every descendant but never
// NodeChildrenChanged, one event per watcher per trigger, a deleted node's child
// watchers told NodeDeleted, and its own event before its parent's.
import { describe, expect, test } from 'vitest';
import { SeededRandom } from '../../src/util/random.js';
import { AddWatchMode, EventType, WatcherType, getEphemerals, parentOf, type Applied, type WatchEvent } from '../../src/tree/index.js';
import { seeded } from '../support/seeded.js';
import { Harness } from './harness.js';
import { SESSION_IDS, Workload, idsOf } from './workload.js';

type Kind = 'data' | 'child' | 'persistent' | 'recursive';
interface Registration {
  kind: Kind;
  path: string;
  watcher: number;
}
type Change = { type: 'created' | 'deleted' | 'changed'; path: string };
type Ev = [number, string, number];

class ReferenceWatches {
  regs: Registration[] = [];

  add(kind: Kind, path: string, watcher: number): void {
    if (!this.regs.some((r) => r.kind === kind && r.path === path && r.watcher === watcher)) this.regs.push({ kind, path, watcher });
  }

  remove(kinds: Kind[], path: string, watcher: number): boolean {
    const before = this.regs.length;
    this.regs = this.regs.filter((r) => !(kinds.includes(r.kind) && r.path === path && r.watcher === watcher));
    return this.regs.length < before;
  }

  removeWatcher(watcher: number): void {
    this.regs = this.regs.filter((r) => r.watcher !== watcher);
  }

  private take(match: (r: Registration) => boolean, oneShot: (r: Registration) => boolean): number[] {
    const hit = this.regs.filter(match);
    this.regs = this.regs.filter((r) => !(match(r) && oneShot(r)));
    return hit.map((r) => r.watcher);
  }

  private data(path: string): number[] {
    return this.take(
      (r) => (r.path === path && (r.kind === 'data' || r.kind === 'persistent')) || (r.kind === 'recursive' && (r.path === path || r.path === '/' || path.startsWith(r.path + '/'))),
      (r) => r.kind === 'data',
    );
  }

  private child(path: string): number[] {
    return this.take((r) => r.path === path && (r.kind === 'child' || r.kind === 'persistent'), (r) => r.kind === 'child');
  }

  /** The expected events of one change, as groups (each group: one trigger, one event per watcher). */
  events(change: Change): Ev[][] {
    const group = (watchers: number[], path: string, type: number): Ev[] => [...new Set(watchers)].map((w): Ev => [w, path, type]);
    switch (change.type) {
      case 'created':
        return [group(this.data(change.path), change.path, EventType.NodeCreated), group(this.child(parentOf(change.path)), parentOf(change.path), EventType.NodeChildrenChanged)];
      case 'deleted':
        return [group([...this.data(change.path), ...this.child(change.path)], change.path, EventType.NodeDeleted), group(this.child(parentOf(change.path)), parentOf(change.path), EventType.NodeChildrenChanged)];
      case 'changed':
        return [group(this.data(change.path), change.path, EventType.NodeDataChanged)];
    }
  }
}

function changesOf(result: Applied, request: { type: string; path?: string }, closedEphemerals: readonly string[]): Change[] {
  if (result.error !== 0) return [];
  const v = result.value;
  switch (v.type) {
    case 'create':
      return [{ type: 'created', path: v.path }];
    case 'delete':
      return [{ type: 'deleted', path: request.path! }];
    case 'setData':
      return [{ type: 'changed', path: request.path! }];
    case 'closeSession':
      return closedEphemerals.map((path) => ({ type: 'deleted', path }));
    case 'multi': {
      const ops = (request as unknown as { ops: { path: string }[] }).ops;
      return v.results.flatMap((r, i): Change[] => (r.type === 'create' ? [{ type: 'created', path: r.path }] : r.type === 'delete' ? [{ type: 'deleted', path: ops[i].path }] : r.type === 'setData' ? [{ type: 'changed', path: ops[i].path }] : []));
    }
    default:
      return [];
  }
}

function run(rng: SeededRandom, steps: number): void {
  const h = new Harness({ superDigest: 'super:x' });
  for (const id of SESSION_IDS) h.openSession(id);
  const ref = new ReferenceWatches();
  const workload = new Workload(rng, () => [...h.tree.nodes.keys()]);
  const kinds: Kind[] = ['data', 'child', 'persistent', 'recursive'];
  for (let step = 0; step < steps; step++) {
    // Register or remove a few watches.
    for (let k = rng.int(4); k > 0; k--) {
      const path = rng.int(10) === 0 ? '/' : workload.path();
      if (!path.startsWith('/') || path.includes('\u0000')) continue;
      const watcher = rng.pick(SESSION_IDS);
      const kind = rng.pick(kinds);
      if (rng.int(6) === 0) {
        const type = kind === 'data' ? WatcherType.Data : kind === 'child' ? WatcherType.Children : kind === 'persistent' ? WatcherType.Persistent : WatcherType.PersistentRecursive;
        expect(h.watches.removeWatches(path, watcher, type), `removeWatches at step ${step}`).toBe(ref.remove([kind], path, watcher));
        continue;
      }
      ref.add(kind, path, watcher);
      if (kind === 'data') h.watches.addDataWatch(path, watcher);
      else if (kind === 'child') h.watches.addChildWatch(path, watcher);
      else h.watches.addPersistentWatch(path, watcher, kind === 'persistent' ? AddWatchMode.Persistent : AddWatchMode.PersistentRecursive);
    }
    const request = workload.request();
    const open = [...h.tree.sessions.keys()];
    const session = open.length > 0 ? rng.pick(open) : 1;
    let closed: string[] = [];
    if (request.type === 'closeSession') {
      const e = getEphemerals(h.tree, request.sessionId, '/');
      closed = e.error === 0 ? [...e.paths] : [];
      if (h.tree.sessions.has(request.sessionId)) ref.removeWatcher(request.sessionId);
    }
    const result = h.write(request, { id: session, authIds: idsOf(session) });
    if ('stage' in result) continue;
    const groups = changesOf(result, request as { type: string; path?: string }, closed).flatMap((c) => ref.events(c));
    const actual: Ev[] = result.events.map((e: WatchEvent): Ev => [e.watcher, e.path, e.type]);
    const sort = (evs: Ev[]) => [...evs].sort((a, b) => a[0] - b[0]);
    let at = 0;
    const regrouped = groups.map((g) => sort(actual.slice(at, (at += g.length))));
    expect(at, `event count at step ${step}: ${JSON.stringify(request, (_k, v) => (v instanceof Uint8Array ? 'bytes' : v))}`).toBe(actual.length);
    expect(regrouped, `events at step ${step}`).toEqual(groups.map(sort));
  }
  expect(h.watches.size).toBe(ref.regs.length);
}

describe('watches: the registry agrees with a naive reference under random workloads', () => {
  for (const seed of [41, 42, 43]) {
    test(`1,500 random writes with random watches, seed ${seed}`, () => {
      seeded(seed, (rng) => run(rng, 1500));
    });
  }
});
