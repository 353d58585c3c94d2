import { describe, expect, test } from 'vitest';
import { AddWatchMode, CreateMode, ErrorCode, EventType, WatchRegistry, WatcherType, exists, getChildren, getData, type WatchEvent } from '../../src/tree/index.js';
import { harness } from './harness.js';

const anon = { id: 1, authIds: [] };
const W = 9; // the watcher (a session id)
const brief = (events: readonly WatchEvent[]) => events.map((e) => [e.watcher, e.path, e.type]);

describe('watches', () => {
  test('an exists watch on a missing node fires NodeCreated (NOTES 9)', () => {
    const h = harness();
    expect(exists(h.tree, '/a', anon, { registry: h.watches, watcher: W }).error).toBe(ErrorCode.NoNode);
    const r = h.create('/a');
    expect(brief(r.events)).toEqual([[W, '/a', EventType.NodeCreated]]);
  });

  test('getData and getChildren on a missing node fail with NoNode and set no watch (NOTES 9)', () => {
    const h = harness();
    expect(getData(h.tree, '/a', anon, { registry: h.watches, watcher: W }).error).toBe(ErrorCode.NoNode);
    expect(getChildren(h.tree, '/a', anon, { registry: h.watches, watcher: W }).error).toBe(ErrorCode.NoNode);
    expect(h.watches.size).toBe(0);
    expect(h.create('/a').events).toEqual([]);
  });

  test('a read refused by its ACL sets no watch', () => {
    const h = harness();
    h.mustCreate('/a', '', CreateMode.Persistent, anon, [{ perms: 0, scheme: 'world', id: 'anyone' }]);
    expect(getData(h.tree, '/a', anon, { registry: h.watches, watcher: W }).error).toBe(ErrorCode.NoAuth);
    expect(h.watches.size).toBe(0);
  });

  test('data watches are one-shot: NodeDataChanged fires once', () => {
    const h = harness();
    h.mustCreate('/a');
    getData(h.tree, '/a', anon, { registry: h.watches, watcher: W });
    expect(brief(h.setData('/a', 'x').events)).toEqual([[W, '/a', EventType.NodeDataChanged]]);
    expect(h.setData('/a', 'y').events).toEqual([]);
  });

  test('a create fires the node own NodeCreated before the parent NodeChildrenChanged', () => {
    const h = harness();
    h.mustCreate('/p');
    getChildren(h.tree, '/p', anon, { registry: h.watches, watcher: 8 });
    exists(h.tree, '/p/c', anon, { registry: h.watches, watcher: 7 });
    const r = h.create('/p/c');
    expect(brief(r.events)).toEqual([
      [7, '/p/c', EventType.NodeCreated],
      [8, '/p', EventType.NodeChildrenChanged],
    ]);
  });

  test('a delete fires NodeDeleted on data and child watches of the node (once per watcher), then the parent NodeChildrenChanged', () => {
    const h = harness();
    h.mustCreate('/p');
    h.mustCreate('/p/c');
    getData(h.tree, '/p/c', anon, { registry: h.watches, watcher: 7 });
    getChildren(h.tree, '/p/c', anon, { registry: h.watches, watcher: 7 });
    getChildren(h.tree, '/p/c', anon, { registry: h.watches, watcher: 6 });
    getChildren(h.tree, '/p', anon, { registry: h.watches, watcher: 8 });
    const r = h.delete('/p/c');
    expect(brief(r.events)).toEqual([
      [7, '/p/c', EventType.NodeDeleted],
      [6, '/p/c', EventType.NodeDeleted],
      [8, '/p', EventType.NodeChildrenChanged],
    ]);
    expect(h.watches.size).toBe(0);
  });

  test('a multi fires its events in op order, after it succeeded', () => {
    const h = harness();
    h.mustCreate('/a');
    exists(h.tree, '/b', anon, { registry: h.watches, watcher: W });
    getData(h.tree, '/a', anon, { registry: h.watches, watcher: W });
    const r = h.multi([
      { type: 'create', path: '/b', data: new Uint8Array(), acl: [{ perms: 31, scheme: 'world', id: 'anyone' }], mode: CreateMode.Persistent },
      { type: 'setData', path: '/a', data: new Uint8Array([1]), version: -1 },
    ]);
    expect(brief(r.events)).toEqual([
      [W, '/b', EventType.NodeCreated],
      [W, '/a', EventType.NodeDataChanged],
    ]);
  });

  test('closeSession fires NodeDeleted for each ephemeral', () => {
    const h = harness();
    h.openSession(5);
    h.mustCreate('/e1', '', CreateMode.Ephemeral, { id: 5, authIds: [] });
    h.mustCreate('/e2', '', CreateMode.Ephemeral, { id: 5, authIds: [] });
    exists(h.tree, '/e1', anon, { registry: h.watches, watcher: W });
    exists(h.tree, '/e2', anon, { registry: h.watches, watcher: W });
    const r = h.write({ type: 'closeSession', sessionId: 5 });
    expect(brief(r.events)).toEqual([
      [W, '/e1', EventType.NodeDeleted],
      [W, '/e2', EventType.NodeDeleted],
    ]);
  });

  test('a persistent watch stays and sees data and child events of its node', () => {
    const h = harness();
    h.mustCreate('/a');
    h.watches.addPersistentWatch('/a', W, AddWatchMode.Persistent);
    expect(brief(h.setData('/a', '1').events)).toEqual([[W, '/a', EventType.NodeDataChanged]]);
    expect(brief(h.setData('/a', '2').events)).toEqual([[W, '/a', EventType.NodeDataChanged]]);
    expect(brief(h.create('/a/c').events)).toEqual([[W, '/a', EventType.NodeChildrenChanged]]);
    expect(h.create('/a/c/d').events).toEqual([]);
  });

  test('a persistent-recursive watch sees data events of every descendant, never NodeChildrenChanged', () => {
    const h = harness();
    h.mustCreate('/a');
    h.watches.addPersistentWatch('/a', W, AddWatchMode.PersistentRecursive);
    expect(brief(h.create('/a/b').events)).toEqual([[W, '/a/b', EventType.NodeCreated]]);
    expect(brief(h.create('/a/b/c').events)).toEqual([[W, '/a/b/c', EventType.NodeCreated]]);
    expect(brief(h.setData('/a/b/c', 'x').events)).toEqual([[W, '/a/b/c', EventType.NodeDataChanged]]);
    expect(brief(h.delete('/a/b/c').events)).toEqual([[W, '/a/b/c', EventType.NodeDeleted]]);
    expect(h.create('/other').events).toEqual([]);
  });

  test('a recursive watch is stored once, not per descendant', () => {
    const h = harness();
    h.mustCreate('/a');
    for (let i = 0; i < 50; i++) h.mustCreate(`/a/n${i}`);
    h.watches.addPersistentWatch('/a', W, AddWatchMode.PersistentRecursive);
    expect(h.watches.size).toBe(1);
  });

  test('removeWatches removes by type and reports whether something was removed (NoWatcher otherwise)', () => {
    const h = harness();
    h.mustCreate('/a');
    getData(h.tree, '/a', anon, { registry: h.watches, watcher: W });
    getChildren(h.tree, '/a', anon, { registry: h.watches, watcher: W });
    expect(h.watches.removeWatches('/a', W, WatcherType.Children)).toBe(true);
    expect(h.watches.removeWatches('/a', W, WatcherType.Children)).toBe(false);
    expect(h.watches.hasWatch('/a', W, WatcherType.Data)).toBe(true);
    h.watches.addPersistentWatch('/a', W, AddWatchMode.PersistentRecursive);
    expect(h.watches.removeWatches('/a', W, WatcherType.Any)).toBe(true);
    expect(h.watches.size).toBe(0);
    expect(h.setData('/a', 'x').events).toEqual([]);
  });

  test('removeWatcher drops every watch of a session', () => {
    const r = new WatchRegistry();
    r.addDataWatch('/a', 1);
    r.addDataWatch('/a', 2);
    r.addChildWatch('/b', 1);
    r.addPersistentWatch('/c', 1, AddWatchMode.PersistentRecursive);
    r.removeWatcher(1);
    expect(r.size).toBe(1);
    expect(r.hasWatch('/a', 2, WatcherType.Data)).toBe(true);
  });

  test('several watchers on one path all fire, one event each', () => {
    const h = harness();
    h.mustCreate('/a');
    for (const w of [3, 4, 5]) getData(h.tree, '/a', anon, { registry: h.watches, watcher: w });
    getData(h.tree, '/a', anon, { registry: h.watches, watcher: 3 });
    h.watches.addPersistentWatch('/', 3, AddWatchMode.PersistentRecursive);
    expect(brief(h.setData('/a', 'x').events)).toEqual([
      [3, '/a', EventType.NodeDataChanged],
      [4, '/a', EventType.NodeDataChanged],
      [5, '/a', EventType.NodeDataChanged],
    ]);
  });
});

describe('watch events carry the ACL that decides their delivery (CVE-2024-23944, as ZooKeeper DataTree passes it)', () => {
  const SECRET = [{ perms: 31, scheme: 'digest', id: 'alice:hash' }];
  const alice = { id: 1, authIds: [{ scheme: 'digest', id: 'alice:hash' }] };
  const aclOf = (events: readonly WatchEvent[]) => events.map((e) => [e.path, e.type, e.acl.list]);

  test("NodeCreated and NodeDataChanged carry the node's ACL, the parent's NodeChildrenChanged the parent's", () => {
    const h = harness();
    h.mustCreate('/p');
    h.watches.addPersistentWatch('/', W, AddWatchMode.PersistentRecursive);
    getChildren(h.tree, '/p', anon, { registry: h.watches, watcher: 8 });
    const created = h.create('/p/s', '', CreateMode.Persistent, undefined, SECRET);
    expect(aclOf(created.events)).toEqual([
      ['/p/s', EventType.NodeCreated, SECRET],
      ['/p', EventType.NodeChildrenChanged, OPEN],
    ]);
    expect(aclOf(h.setData('/p/s', 'x', -1, alice).events)).toEqual([['/p/s', EventType.NodeDataChanged, SECRET]]);
  });

  test("NodeDeleted carries the deleted node's ACL as it was, also on its own child watches; the parent's event the parent's ACL", () => {
    const h = harness();
    h.mustCreate('/p', '', CreateMode.Persistent, undefined, SECRET);
    h.mustCreate('/p/s', '', CreateMode.Persistent, alice, SECRET);
    h.watches.addChildWatch('/p/s', 7);
    h.watches.addChildWatch('/p', 8);
    const deleted = h.delete('/p/s', -1, alice);
    expect(deleted.error).toBe(0);
    expect(aclOf(deleted.events)).toEqual([
      ['/p/s', EventType.NodeDeleted, SECRET],
      ['/p', EventType.NodeChildrenChanged, SECRET],
    ]);
    expect(h.tree.nodes.has('/p/s')).toBe(false);
  });
});

const OPEN = [{ perms: 31, scheme: 'world', id: 'anyone' }];
