// One ZooKeeper rule per test, named for the rule.
import { describe, expect, test } from 'vitest';
import {
  CreateMode,
  ErrorCode,
  OPEN_ACL_UNSAFE,
  findExpired,
  getChildren,
  getData,
  exists,
  getAllChildrenNumber,
  getEphemerals,
  multiRead,
  prepare,
  type Stat,
} from '../../src/tree/index.js';
import { bytes, harness } from './harness.js';

const anon = { id: 1, authIds: [] };

function statOf(h: ReturnType<typeof harness>, path: string): Stat {
  const r = exists(h.tree, path, anon);
  if (r.error !== 0) throw new Error(`${path} missing`);
  return r.stat;
}

describe('create', () => {
  test('a new node has czxid = mzxid = pzxid = its zxid, ctime = mtime = the prepare time, versions 0', () => {
    const h = harness();
    h.nowMs = 42_000;
    h.mustCreate('/a', 'hello');
    const s = statOf(h, '/a');
    expect(s).toEqual({ czxid: h.zxid, mzxid: h.zxid, pzxid: h.zxid, ctime: 42_000, mtime: 42_000, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0, dataLength: 5, numChildren: 0 });
  });

  test('create returns the path and the Stat of the new node', () => {
    const h = harness();
    const r = h.create('/a', 'xy');
    expect(r.error).toBe(0);
    if (r.error !== 0 || r.value.type !== 'create') throw new Error();
    expect(r.value.path).toBe('/a');
    expect(r.value.stat.dataLength).toBe(2);
  });

  test('creating a child bumps the parent cversion and sets its pzxid, not its mzxid or version', () => {
    const h = harness();
    h.mustCreate('/p');
    const before = statOf(h, '/p');
    h.mustCreate('/p/c');
    const after = statOf(h, '/p');
    expect(after.cversion).toBe(before.cversion + 1);
    expect(after.pzxid).toBe(h.zxid);
    expect(after.mzxid).toBe(before.mzxid);
    expect(after.version).toBe(0);
    expect(after.numChildren).toBe(1);
  });

  test('create under a missing parent gives NoNode', () => {
    expect(harness().create('/missing/child').error).toBe(ErrorCode.NoNode);
  });

  test('create of an existing path gives NodeExists', () => {
    const h = harness();
    h.mustCreate('/a');
    expect(h.create('/a').error).toBe(ErrorCode.NodeExists);
  });

  test('create("/") gives NodeExists (NOTES 8)', () => {
    expect(harness().create('/').error).toBe(ErrorCode.NodeExists);
  });

  test('ephemerals cannot have children: NoChildrenForEphemerals', () => {
    const h = harness();
    h.mustCreate('/e', '', CreateMode.Ephemeral, anon);
    expect(h.create('/e/c').error).toBe(ErrorCode.NoChildrenForEphemerals);
  });

  test('data larger than maxDataBytes gives BadArguments', () => {
    const h = harness({ maxDataBytes: 10 });
    expect(h.create('/ok', 'x'.repeat(10)).error).toBe(0);
    expect(h.create('/big', 'x'.repeat(11)).error).toBe(ErrorCode.BadArguments);
    expect(h.setData('/ok', 'x'.repeat(11)).error).toBe(ErrorCode.BadArguments);
  });

  test('an ephemeral records its owner session; a persistent node has ephemeralOwner 0', () => {
    const h = harness();
    h.openSession(77);
    h.mustCreate('/e', '', CreateMode.Ephemeral, { id: 77, authIds: [] });
    expect(statOf(h, '/e').ephemeralOwner).toBe(77);
    h.mustCreate('/p');
    expect(statOf(h, '/p').ephemeralOwner).toBe(0);
  });

  test('a request from a session the tree does not know gives SessionExpired', () => {
    const h = harness();
    expect(h.create('/a', '', CreateMode.Persistent, { id: 999, authIds: [] }).error).toBe(ErrorCode.SessionExpired);
  });

  test('an unknown create mode or a TTL on a non-TTL mode gives BadArguments', () => {
    const h = harness();
    expect(h.create('/a', '', 9 as CreateMode).error).toBe(ErrorCode.BadArguments);
    expect(h.create('/a', '', CreateMode.Persistent, undefined, OPEN_ACL_UNSAFE, 1000).error).toBe(ErrorCode.BadArguments);
    expect(h.create('/a', '', CreateMode.PersistentWithTtl, undefined, OPEN_ACL_UNSAFE, 0).error).toBe(ErrorCode.BadArguments);
  });
});

describe('sequential nodes', () => {
  test('the suffix is 10 zero-padded digits counting children ever created, not cversion (NOTES 1)', () => {
    const h = harness();
    h.mustCreate('/p');
    h.mustCreate('/p/a');
    h.mustCreate('/p/b');
    h.delete('/p/a');
    expect(statOf(h, '/p').cversion).toBe(3);
    expect(h.mustCreate('/p/s-', '', CreateMode.PersistentSequential)).toBe('/p/s-0000000002');
    expect(h.mustCreate('/p/s-', '', CreateMode.EphemeralSequential, anon)).toBe('/p/s-0000000003');
  });

  test('a failed create uses no sequence number', () => {
    const h = harness();
    h.mustCreate('/p');
    h.mustCreate('/p/x');
    expect(h.create('/p/x').error).toBe(ErrorCode.NodeExists);
    expect(h.create('/p/x/y', '', CreateMode.PersistentSequential).error).toBe(0);
    expect(h.mustCreate('/p/s', '', CreateMode.PersistentSequential)).toBe('/p/s0000000001');
  });

  test('a failed multi uses no sequence number', () => {
    const h = harness();
    h.mustCreate('/p');
    const r = h.multi([
      { type: 'create', path: '/p/s', data: bytes(''), acl: OPEN_ACL_UNSAFE, mode: CreateMode.PersistentSequential },
      { type: 'check', path: '/p', version: 5 },
    ]);
    expect(r.error).toBe(ErrorCode.BadVersion);
    expect(h.mustCreate('/p/s', '', CreateMode.PersistentSequential)).toBe('/p/s0000000000');
  });

  test('two sequential creates prepared against the same state both succeed with distinct names at apply', () => {
    const h = harness();
    h.mustCreate('/q');
    const a = prepare(h.tree, { type: 'create', path: '/q/n', data: bytes(''), acl: OPEN_ACL_UNSAFE, mode: CreateMode.PersistentSequential }, anon, 1);
    const b = prepare(h.tree, { type: 'create', path: '/q/n', data: bytes(''), acl: OPEN_ACL_UNSAFE, mode: CreateMode.PersistentSequential }, anon, 1);
    if (a.error !== 0 || b.error !== 0) throw new Error('prepare failed');
    const ra = h.applyTxn(a.txn);
    const rb = h.applyTxn(b.txn);
    expect(ra.error === 0 && ra.value.type === 'create' && ra.value.path).toBe('/q/n0000000000');
    expect(rb.error === 0 && rb.value.type === 'create' && rb.value.path).toBe('/q/n0000000001');
  });

  test('sequential creates in one multi take consecutive numbers', () => {
    const h = harness();
    h.mustCreate('/q');
    const op = { type: 'create', path: '/q/n-', data: bytes(''), acl: OPEN_ACL_UNSAFE, mode: CreateMode.PersistentSequential } as const;
    const r = h.multi([op, op, op]);
    if (r.error !== 0 || r.value.type !== 'multi') throw new Error('multi failed');
    expect(r.value.results.map((x) => x.type === 'create' && x.path)).toEqual(['/q/n-0000000000', '/q/n-0000000001', '/q/n-0000000002']);
  });

  test('sequential children of the root are named under the root', () => {
    const h = harness();
    expect(h.mustCreate('/', '', CreateMode.PersistentSequential)).toBe('/0000000000');
  });
});

describe('delete', () => {
  test('version -1 deletes any version', () => {
    const h = harness();
    h.mustCreate('/a');
    h.setData('/a', 'x');
    expect(h.delete('/a', -1).error).toBe(0);
  });

  test('a wrong version gives BadVersion; -2 is compared like any other version (NOTES 7)', () => {
    const h = harness();
    h.mustCreate('/a');
    expect(h.delete('/a', 3).error).toBe(ErrorCode.BadVersion);
    expect(h.delete('/a', -2).error).toBe(ErrorCode.BadVersion);
    expect(h.delete('/a', 0).error).toBe(0);
  });

  test('a node with children gives NotEmpty', () => {
    const h = harness();
    h.mustCreate('/a');
    h.mustCreate('/a/b');
    expect(h.delete('/a').error).toBe(ErrorCode.NotEmpty);
  });

  test('the version is checked before emptiness: BadVersion, not NotEmpty (NOTES 6)', () => {
    const h = harness();
    h.mustCreate('/a');
    h.mustCreate('/a/b');
    expect(h.delete('/a', 7).error).toBe(ErrorCode.BadVersion);
  });

  test('delete("/") gives BadArguments (NOTES 8)', () => {
    expect(harness().delete('/').error).toBe(ErrorCode.BadArguments);
  });

  test('delete of a missing node gives NoNode', () => {
    expect(harness().delete('/nope').error).toBe(ErrorCode.NoNode);
  });

  test('deleting a child bumps the parent cversion and pzxid', () => {
    const h = harness();
    h.mustCreate('/p');
    h.mustCreate('/p/c');
    h.delete('/p/c');
    const s = statOf(h, '/p');
    expect(s.cversion).toBe(2);
    expect(s.pzxid).toBe(h.zxid);
    expect(s.numChildren).toBe(0);
  });
});

describe('setData', () => {
  test('bumps version, sets mzxid and mtime, keeps czxid and ctime', () => {
    const h = harness();
    h.nowMs = 1000;
    h.mustCreate('/a', 'one');
    const created = statOf(h, '/a');
    h.nowMs = 2000;
    expect(h.setData('/a', 'three', 0).error).toBe(0);
    const s = statOf(h, '/a');
    expect(s).toMatchObject({ version: 1, mzxid: h.zxid, mtime: 2000, czxid: created.czxid, ctime: 1000, dataLength: 5 });
    const r = getData(h.tree, '/a', anon);
    expect(r.error === 0 && new TextDecoder().decode(r.data)).toBe('three');
  });

  test('a wrong version gives BadVersion and changes nothing', () => {
    const h = harness();
    h.mustCreate('/a', 'one');
    const digest = h.tree.digest;
    expect(h.setData('/a', 'two', 5).error).toBe(ErrorCode.BadVersion);
    expect(h.tree.digest).toBe(digest);
  });

  test('setData of a missing node gives NoNode', () => {
    expect(harness().setData('/nope', 'x').error).toBe(ErrorCode.NoNode);
  });
});

describe('apply re-checks what the log may have changed', () => {
  test('a txn prepared before a conflicting one fails cleanly at apply with the right error', () => {
    const h = harness();
    h.mustCreate('/a');
    const first = prepare(h.tree, { type: 'setData', path: '/a', data: bytes('1'), version: 0 }, anon, 1);
    const second = prepare(h.tree, { type: 'setData', path: '/a', data: bytes('2'), version: 0 }, anon, 1);
    const del = prepare(h.tree, { type: 'delete', path: '/a', version: 0 }, anon, 1);
    if (first.error !== 0 || second.error !== 0 || del.error !== 0) throw new Error('prepare failed');
    expect(h.applyTxn(first.txn).error).toBe(0);
    const digest = h.tree.digest;
    expect(h.applyTxn(second.txn).error).toBe(ErrorCode.BadVersion);
    expect(h.applyTxn(del.txn).error).toBe(ErrorCode.BadVersion);
    expect(h.tree.digest).toBe(digest);
  });

  test('an ephemeral create applied after its session closed gives SessionExpired and creates nothing', () => {
    const h = harness();
    h.openSession(5);
    const p = prepare(h.tree, { type: 'create', path: '/e', data: bytes(''), acl: OPEN_ACL_UNSAFE, mode: CreateMode.Ephemeral }, { id: 5, authIds: [] }, 1);
    if (p.error !== 0) throw new Error('prepare failed');
    h.write({ type: 'closeSession', sessionId: 5 });
    expect(h.applyTxn(p.txn).error).toBe(ErrorCode.SessionExpired);
    expect(h.tree.nodes.has('/e')).toBe(false);
  });
});

describe('multi', () => {
  const create = (path: string) => ({ type: 'create', path, data: bytes(''), acl: OPEN_ACL_UNSAFE, mode: CreateMode.Persistent }) as const;

  test('a successful multi applies every op with one shared zxid and returns per-op results', () => {
    const h = harness();
    const r = h.multi([create('/a'), create('/a/b'), { type: 'setData', path: '/a', data: bytes('x'), version: 0 }, { type: 'check', path: '/a/b', version: 0 }]);
    expect(r.error).toBe(0);
    if (r.error !== 0 || r.value.type !== 'multi') throw new Error();
    expect(r.value.results.map((x) => x.type)).toEqual(['create', 'create', 'setData', 'check']);
    expect(statOf(h, '/a').czxid).toBe(h.zxid);
    expect(statOf(h, '/a/b').czxid).toBe(h.zxid);
    expect(statOf(h, '/a').mzxid).toBe(h.zxid);
  });

  test('a failed multi reports Ok before the failing op, its error, RuntimeInconsistency after (NOTES 2)', () => {
    const h = harness();
    const r = h.multi([create('/a'), create('/b'), { type: 'delete', path: '/nope', version: -1 }, create('/c')]);
    expect(r.error).toBe(ErrorCode.NoNode);
    expect('multi' in r && r.multi).toEqual({
      type: 'multi',
      results: [
        { type: 'error', error: 0 },
        { type: 'error', error: 0 },
        { type: 'error', error: ErrorCode.NoNode },
        { type: 'error', error: ErrorCode.RuntimeInconsistency },
      ],
    });
  });

  test('multi rollback leaves no trace: nodes, stats, digest, sequence counters and watches unchanged', () => {
    const h = harness();
    h.mustCreate('/p');
    h.watches.addChildWatch('/p', 9);
    h.watches.addDataWatch('/p/new', 9);
    const digest = h.tree.digest;
    // Prepared while valid, then invalidated by an earlier log entry: fails at apply.
    const p = prepare(h.tree, { type: 'multi', ops: [create('/p/new'), { type: 'setData', path: '/p', data: bytes('x'), version: 0 }, { type: 'create', path: '/p/s', data: bytes(''), acl: OPEN_ACL_UNSAFE, mode: CreateMode.PersistentSequential }] }, anon, 1);
    if (p.error !== 0) throw new Error('prepare failed');
    h.setData('/p', 'changed');
    const afterConflict = h.tree.digest;
    expect(afterConflict).not.toBe(digest);
    const r = h.applyTxn(p.txn);
    expect(r.error).toBe(ErrorCode.BadVersion);
    expect(r.events).toEqual([]);
    expect(r.value).toEqual({ type: 'multi', results: [{ type: 'error', error: 0 }, { type: 'error', error: ErrorCode.BadVersion }, { type: 'error', error: ErrorCode.RuntimeInconsistency }] });
    expect(h.tree.digest).toBe(afterConflict);
    expect(h.tree.digest).toBe(h.tree.recomputeDigest());
    expect(h.tree.nodes.has('/p/new')).toBe(false);
    expect(h.watches.size).toBe(2);
    expect(h.mustCreate('/p/s', '', CreateMode.PersistentSequential)).toBe('/p/s0000000000');
  });

  test('later ops see earlier ops of the same multi (create then delete, delete then create)', () => {
    const h = harness();
    h.mustCreate('/x');
    const r = h.multi([create('/a'), { type: 'delete', path: '/a', version: 0 }, { type: 'delete', path: '/x', version: -1 }, create('/x')]);
    expect(r.error).toBe(0);
    expect(h.tree.nodes.has('/a')).toBe(false);
    expect(statOf(h, '/x').czxid).toBe(h.zxid);
  });

  test('more than maxMultiOps ops gives BadArguments', () => {
    const h = harness({ maxMultiOps: 2 });
    expect(h.multi([create('/a'), create('/b'), create('/c')]).error).toBe(ErrorCode.BadArguments);
  });

  test('an empty multi succeeds with no results', () => {
    const r = harness().multi([]);
    expect(r.error === 0 && r.value).toEqual({ type: 'multi', results: [] });
  });

  test('multiRead answers each op on its own', () => {
    const h = harness();
    h.mustCreate('/a', 'x');
    const r = multiRead(h.tree, [{ type: 'getData', path: '/a' }, { type: 'getChildren', path: '/nope' }, { type: 'getChildren', path: '/' }], anon);
    if (r.error !== 0) throw new Error();
    expect(r.results.map((x) => x.type)).toEqual(['getData', 'error', 'getChildren']);
  });
});

describe('sessions and ephemerals', () => {
  test('closeSession removes all of the session ephemerals and nothing else', () => {
    const h = harness();
    h.openSession(5);
    const s5 = { id: 5, authIds: [] };
    h.mustCreate('/d');
    h.mustCreate('/d/e1', '', CreateMode.Ephemeral, s5);
    h.mustCreate('/d/e2', '', CreateMode.EphemeralSequential, s5);
    h.mustCreate('/d/other', '', CreateMode.Ephemeral, anon);
    expect(getEphemerals(h.tree, 5, '/d/e').error === 0 && getEphemerals(h.tree, 5, '/d/e')).toMatchObject({ paths: ['/d/e1', '/d/e20000000001'] });
    expect(h.write({ type: 'closeSession', sessionId: 5 }).error).toBe(0);
    const r = getChildren(h.tree, '/d', anon);
    expect(r.error === 0 && r.children).toEqual(['other']);
    expect(h.tree.sessions.has(5)).toBe(false);
  });

  test('closing an unknown session is a no-op', () => {
    const h = harness();
    const digest = h.tree.digest;
    expect(h.write({ type: 'closeSession', sessionId: 12345 }).error).toBe(0);
    expect(h.tree.digest).toBe(digest);
  });

  test('creating a session that exists gives BadArguments', () => {
    const h = harness();
    expect(h.write({ type: 'createSession', sessionId: 1, timeoutMs: 1000 }).error).toBe(ErrorCode.BadArguments);
  });
});

describe('containers and TTL nodes', () => {
  test('containers show ephemeralOwner 0 (NOTES 3)', () => {
    const h = harness();
    h.mustCreate('/c', '', CreateMode.Container);
    expect(statOf(h, '/c').ephemeralOwner).toBe(0);
  });

  test('a container that never had a child is never expired (NOTES 3)', () => {
    const h = harness();
    h.mustCreate('/c', '', CreateMode.Container);
    expect(findExpired(h.tree, h.nowMs + 1e9)).toEqual([]);
  });

  test('a container that had children and became empty is found, and the delete removes it', () => {
    const h = harness();
    h.mustCreate('/c', '', CreateMode.Container);
    h.mustCreate('/c/x');
    expect(findExpired(h.tree, h.nowMs)).toEqual([]);
    h.delete('/c/x');
    const txns = findExpired(h.tree, h.nowMs);
    expect(txns).toEqual([{ type: 'delete', path: '/c', version: 0, timeMs: h.nowMs }]);
    expect(h.applyTxn(txns[0]).error).toBe(0);
    expect(h.tree.nodes.has('/c')).toBe(false);
  });

  test('a TTL node unmodified for longer than its TTL and childless is found; a modification restarts it', () => {
    const h = harness();
    h.nowMs = 10_000;
    h.create('/t', '', CreateMode.PersistentWithTtl, undefined, OPEN_ACL_UNSAFE, 5_000);
    expect(findExpired(h.tree, 15_000)).toEqual([]);
    expect(findExpired(h.tree, 15_001).map((t) => t.type === 'delete' && t.path)).toEqual(['/t']);
    h.nowMs = 14_000;
    h.setData('/t', 'touch');
    expect(findExpired(h.tree, 15_001)).toEqual([]);
  });

  test('a TTL node with children is not expired', () => {
    const h = harness();
    h.create('/t', '', CreateMode.PersistentWithTtl, undefined, OPEN_ACL_UNSAFE, 10);
    h.mustCreate('/t/c');
    expect(findExpired(h.tree, h.nowMs + 1000)).toEqual([]);
  });

  test('an expiry delete fails cleanly if the node changed before it committed', () => {
    const h = harness();
    h.create('/t', '', CreateMode.PersistentSequentialWithTtl, undefined, OPEN_ACL_UNSAFE, 10);
    const txns = findExpired(h.tree, h.nowMs + 1000);
    expect(txns).toHaveLength(1);
    h.setData('/t0000000000', 'x');
    expect(h.applyTxn(txns[0]).error).toBe(ErrorCode.BadVersion);
    expect(h.tree.nodes.has('/t0000000000')).toBe(true);
  });
});

describe('reads', () => {
  test('getChildren returns names in sorted order with the parent Stat', () => {
    const h = harness();
    h.mustCreate('/p');
    for (const n of ['b', 'a', 'c']) h.mustCreate(`/p/${n}`);
    const r = getChildren(h.tree, '/p', anon);
    expect(r.error === 0 && r.children).toEqual(['a', 'b', 'c']);
    expect(r.error === 0 && r.stat.numChildren).toBe(3);
  });

  test('paged getChildren walks every child once in order, with a continuation', () => {
    const h = harness();
    h.mustCreate('/p');
    for (let i = 0; i < 25; i++) h.mustCreate(`/p/n${String(i).padStart(2, '0')}`);
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const r = getChildren(h.tree, '/p', anon, undefined, { after, limit: 7 });
      if (r.error !== 0) throw new Error();
      seen.push(...r.children);
      if (r.next === undefined) break;
      after = r.next;
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `n${String(i).padStart(2, '0')}`));
  });

  test('paging the root lists names, not paths', () => {
    const h = harness();
    for (const n of ['b', 'a', 'c']) h.mustCreate(`/${n}`);
    const first = getChildren(h.tree, '/', anon, undefined, { limit: 2 });
    expect(first.error === 0 && [first.children, first.next]).toEqual([['a', 'b'], 'b']);
    // The root also holds ZooKeeper's system node `zookeeper`.
    const second = getChildren(h.tree, '/', anon, undefined, { after: 'b', limit: 2 });
    expect(second.error === 0 && [second.children, second.next]).toEqual([['c', 'zookeeper'], undefined]);
  });

  test('a page limit out of range gives BadArguments', () => {
    const h = harness({ maxChildrenPageSize: 10 });
    expect(getChildren(h.tree, '/', anon, undefined, { limit: 11 }).error).toBe(ErrorCode.BadArguments);
    expect(getChildren(h.tree, '/', anon, undefined, { limit: 0 }).error).toBe(ErrorCode.BadArguments);
  });

  test('getAllChildrenNumber counts all descendants', () => {
    const h = harness();
    h.mustCreate('/a');
    h.mustCreate('/a/b');
    h.mustCreate('/a/b/c');
    h.mustCreate('/z');
    expect(getAllChildrenNumber(h.tree, '/a', anon)).toEqual({ error: 0, count: 2 });
    // The root counts the system nodes too (/zookeeper, /zookeeper/config, /zookeeper/quota), as ZooKeeper does.
    expect(getAllChildrenNumber(h.tree, '/', anon)).toEqual({ error: 0, count: 4 + 3 });
    expect(getAllChildrenNumber(h.tree, '/zookeeper', anon)).toEqual({ error: 0, count: 2 });
  });

  test('sync succeeds on any valid path and changes nothing', () => {
    const h = harness();
    const d = h.tree.digest;
    expect(h.write({ type: 'sync', path: '/whatever' }).error).toBe(0);
    expect(h.tree.digest).toBe(d);
  });
});
