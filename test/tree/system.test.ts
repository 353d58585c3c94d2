// ZooKeeper's system nodes (/zookeeper, /zookeeper/config, /zookeeper/quota), one
// behaviour per test. Expected values are those measured on a ZooKeeper 3.8.0
// standalone server with a fresh data dir (src/tree/system.ts).
import { describe, expect, test } from 'vitest';
import {
  DataTree,
  ErrorCode,
  OPEN_ACL_UNSAFE,
  Perm,
  READ_ACL_UNSAFE,
  ZOOKEEPER_CONFIG_PATH,
  ZOOKEEPER_PATH,
  ZOOKEEPER_QUOTA_PATH,
  apply,
  exists,
  getAcl,
  getChildren,
  loadSnapshot,
  writeSnapshot,
  type Stat,
} from '../../src/tree/index.js';
import { bytes, harness } from './harness.js';

const anon = { id: 1, authIds: [] };
const SUPER = 'super:x';
const superUser = { id: 1, authIds: [{ scheme: 'digest', id: SUPER }] };
const SYSTEM_PATHS = [ZOOKEEPER_PATH, ZOOKEEPER_CONFIG_PATH, ZOOKEEPER_QUOTA_PATH];

function childrenOf(tree: DataTree, path: string): readonly string[] {
  const r = getChildren(tree, path, anon);
  if (r.error !== 0) throw new Error(`getChildren ${path}: ${r.error}`);
  return r.children;
}

function statAt(tree: DataTree, path: string): Stat {
  const r = exists(tree, path, anon);
  if (r.error !== 0) throw new Error(`${path} missing`);
  return r.stat;
}

const zeroStat = { czxid: 0, mzxid: 0, pzxid: 0, ctime: 0, mtime: 0, version: 0, ephemeralOwner: 0, dataLength: 0 };

describe('system nodes in a new tree', () => {
  test('the paths are /zookeeper, /zookeeper/config and /zookeeper/quota', () => {
    expect(SYSTEM_PATHS).toEqual(['/zookeeper', '/zookeeper/config', '/zookeeper/quota']);
  });

  test('/ lists only zookeeper', () => {
    expect(childrenOf(new DataTree(), '/')).toEqual(['zookeeper']);
  });

  test('/zookeeper lists config and quota, which have no children', () => {
    const tree = new DataTree();
    expect(childrenOf(tree, ZOOKEEPER_PATH)).toEqual(['config', 'quota']);
    expect(childrenOf(tree, ZOOKEEPER_CONFIG_PATH)).toEqual([]);
    expect(childrenOf(tree, ZOOKEEPER_QUOTA_PATH)).toEqual([]);
  });

  test('the root and the system nodes have the Stat ZooKeeper 3.8 reports (zxids and times 0, / cversion -1, /zookeeper cversion -2, config aversion -1)', () => {
    const tree = new DataTree();
    expect(statAt(tree, '/')).toEqual({ ...zeroStat, cversion: -1, aversion: 0, numChildren: 1 });
    expect(statAt(tree, ZOOKEEPER_PATH)).toEqual({ ...zeroStat, cversion: -2, aversion: 0, numChildren: 2 });
    expect(statAt(tree, ZOOKEEPER_CONFIG_PATH)).toEqual({ ...zeroStat, cversion: 0, aversion: -1, numChildren: 0 });
    expect(statAt(tree, ZOOKEEPER_QUOTA_PATH)).toEqual({ ...zeroStat, cversion: 0, aversion: 0, numChildren: 0 });
  });

  test('/zookeeper and /zookeeper/quota are world:anyone:cdrwa', () => {
    const tree = new DataTree();
    for (const path of [ZOOKEEPER_PATH, ZOOKEEPER_QUOTA_PATH]) {
      const r = getAcl(tree, path, anon);
      expect(r.error === 0 && r.acl, path).toEqual([{ perms: Perm.All, scheme: 'world', id: 'anyone' }]);
    }
    expect(OPEN_ACL_UNSAFE).toEqual([{ perms: Perm.All, scheme: 'world', id: 'anyone' }]);
  });

  test('/zookeeper/config is world:anyone:r', () => {
    const r = getAcl(new DataTree(), ZOOKEEPER_CONFIG_PATH, anon);
    expect(r.error === 0 && r.acl).toEqual([{ perms: Perm.Read, scheme: 'world', id: 'anyone' }]);
    expect(READ_ACL_UNSAFE).toEqual([{ perms: Perm.Read, scheme: 'world', id: 'anyone' }]);
  });

  test('two new trees have the same digest, and it covers the system nodes', () => {
    const a = new DataTree();
    expect(a.digest).toBe(new DataTree().digest);
    expect(a.digest).toBe(a.recomputeDigest());
    expect(a.nodeCount).toBe(4);
  });
});

describe('system node rules', () => {
  test.each(SYSTEM_PATHS)('delete %s gives BadArguments and changes nothing', (path) => {
    const h = harness();
    const digest = h.tree.digest;
    expect(h.delete(path).error).toBe(ErrorCode.BadArguments);
    expect(h.tree.digest).toBe(digest);
    expect(statAt(h.tree, path).czxid).toBe(0);
  });

  test('delete of a system node is BadArguments even for super with the right version (checked before version and ACL)', () => {
    const h = harness({ superDigest: SUPER });
    expect(h.delete(ZOOKEEPER_QUOTA_PATH, 0, superUser).error).toBe(ErrorCode.BadArguments);
  });

  test('delete of a system node with a wrong version is BadArguments, not BadVersion', () => {
    const h = harness();
    expect(h.delete(ZOOKEEPER_QUOTA_PATH, 7).error).toBe(ErrorCode.BadArguments);
  });

  test('delete of a system node whose parent denies DELETE is BadArguments, not NoAuth', () => {
    const h = harness({ superDigest: SUPER });
    expect(h.write({ type: 'setACL', path: ZOOKEEPER_PATH, acl: READ_ACL_UNSAFE, version: -1 }, superUser).error).toBe(0);
    expect(h.delete(ZOOKEEPER_QUOTA_PATH).error).toBe(ErrorCode.BadArguments);
  });

  test('an invalid path is refused before the system-node rule: delete /zookeeper/ is BadArguments at prepare', () => {
    const h = harness();
    const r = h.delete('/zookeeper/');
    expect(r.error).toBe(ErrorCode.BadArguments);
    expect('stage' in r && r.stage).toBe('prepare');
  });

  test('apply refuses a logged delete of a system node with BadArguments', () => {
    const tree = new DataTree();
    const r = apply(tree, { type: 'delete', path: ZOOKEEPER_PATH, version: -1, timeMs: 1 }, 1);
    expect(r.error).toBe(ErrorCode.BadArguments);
    expect(childrenOf(tree, '/')).toEqual(['zookeeper']);
  });

  test('a multi deleting a system node fails whole with BadArguments at that op', () => {
    const h = harness();
    const r = h.multi([
      { type: 'create', path: '/a', data: bytes(''), acl: OPEN_ACL_UNSAFE, mode: 0 },
      { type: 'delete', path: ZOOKEEPER_QUOTA_PATH, version: -1 },
      { type: 'create', path: '/b', data: bytes(''), acl: OPEN_ACL_UNSAFE, mode: 0 },
    ]);
    expect(r.error).toBe(ErrorCode.BadArguments);
    // Measured on ZooKeeper 3.8: results 0, -8, -2.
    expect('multi' in r && r.multi).toEqual({
      type: 'multi',
      results: [
        { type: 'error', error: ErrorCode.Ok },
        { type: 'error', error: ErrorCode.BadArguments },
        { type: 'error', error: ErrorCode.RuntimeInconsistency },
      ],
    });
    expect(childrenOf(h.tree, '/')).toEqual(['zookeeper']);
  });

  test('a multi that first empties /zookeeper/quota still cannot delete it', () => {
    const h = harness();
    h.mustCreate('/zookeeper/quota/q');
    const r = h.multi([
      { type: 'delete', path: '/zookeeper/quota/q', version: -1 },
      { type: 'delete', path: ZOOKEEPER_QUOTA_PATH, version: -1 },
    ]);
    expect(r.error).toBe(ErrorCode.BadArguments);
    expect(childrenOf(h.tree, ZOOKEEPER_QUOTA_PATH)).toEqual(['q']);
  });

  test('creating children under /zookeeper and /zookeeper/quota works, and so does deleting them', () => {
    const h = harness();
    expect(h.mustCreate('/zookeeper/app')).toBe('/zookeeper/app');
    expect(h.mustCreate('/zookeeper/quota/app')).toBe('/zookeeper/quota/app');
    expect(childrenOf(h.tree, ZOOKEEPER_PATH)).toEqual(['app', 'config', 'quota']);
    expect(h.delete('/zookeeper/quota/app').error).toBe(0);
    expect(h.delete('/zookeeper/app').error).toBe(0);
    expect(childrenOf(h.tree, ZOOKEEPER_PATH)).toEqual(['config', 'quota']);
  });

  test('creating under /zookeeper/config needs CREATE, which its read-only ACL withholds (NoAuth)', () => {
    const h = harness();
    expect(h.create('/zookeeper/config/x').error).toBe(ErrorCode.NoAuth);
  });

  test('child creates and deletes move /zookeeper cversion by one each from -2, as ZooKeeper reports it', () => {
    const h = harness();
    h.mustCreate('/zookeeper/x');
    expect(statAt(h.tree, ZOOKEEPER_PATH).cversion).toBe(-1);
    expect(h.delete('/zookeeper/x').error).toBe(0);
    expect(statAt(h.tree, ZOOKEEPER_PATH).cversion).toBe(0);
  });

  test('the first sequential child of / and of /zookeeper/quota is numbered 0000000000', () => {
    const h = harness();
    expect(h.mustCreate('/s', '', 2)).toBe('/s0000000000');
    expect(h.mustCreate('/zookeeper/quota/s', '', 2)).toBe('/zookeeper/quota/s0000000000');
  });

  test('setData on /zookeeper and /zookeeper/quota works (open ACL)', () => {
    const h = harness();
    expect(h.setData(ZOOKEEPER_PATH, 'a').error).toBe(0);
    expect(h.setData(ZOOKEEPER_QUOTA_PATH, 'b').error).toBe(0);
    expect(statAt(h.tree, ZOOKEEPER_QUOTA_PATH).version).toBe(1);
  });

  test('setData on /zookeeper/config without super gives NoAuth', () => {
    const h = harness({ superDigest: SUPER });
    expect(h.setData(ZOOKEEPER_CONFIG_PATH, 'x').error).toBe(ErrorCode.NoAuth);
  });

  test('setData on /zookeeper/config as super works', () => {
    const h = harness({ superDigest: SUPER });
    expect(h.setData(ZOOKEEPER_CONFIG_PATH, 'x', -1, superUser).error).toBe(0);
  });
});

describe('system nodes in snapshots', () => {
  test('a snapshot round trip keeps the system nodes, their ACLs and Stat, and the digest', () => {
    const h = harness({ superDigest: SUPER });
    h.mustCreate('/zookeeper/quota/app', 'q');
    h.setData(ZOOKEEPER_PATH, 'z');
    const restored = loadSnapshot([...writeSnapshot(h.tree, { maxChunkBytes: 64 })], { superDigest: SUPER });
    expect(restored.digest).toBe(h.tree.digest);
    expect(restored.digest).toBe(restored.recomputeDigest());
    expect(childrenOf(restored, '/')).toEqual(['zookeeper']);
    expect(childrenOf(restored, ZOOKEEPER_PATH)).toEqual(['config', 'quota']);
    for (const path of ['/', ...SYSTEM_PATHS, '/zookeeper/quota/app']) {
      expect(statAt(restored, path), path).toEqual(statAt(h.tree, path));
      expect(getAcl(restored, path, anon), path).toEqual(getAcl(h.tree, path, anon));
    }
  });

  test('a restored tree still refuses to delete the system nodes', () => {
    const restored = loadSnapshot([...writeSnapshot(new DataTree())]);
    const r = apply(restored, { type: 'delete', path: ZOOKEEPER_CONFIG_PATH, version: -1, timeMs: 1 }, 1);
    expect(r.error).toBe(ErrorCode.BadArguments);
  });
});
