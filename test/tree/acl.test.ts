import { describe, expect, test } from 'vitest';
import { CreateMode, ErrorCode, Perm, digestId, findExpired, getAcl, getChildren, getData, exists, prepare, type Acl } from '../../src/tree/index.js';
import { bytes, harness } from './harness.js';

const alice = { id: 2, authIds: [{ scheme: 'digest', id: digestId('alice', 'secret') }] };
const bob = { id: 3, authIds: [{ scheme: 'digest', id: digestId('bob', 'pw') }] };
const anon = { id: 1, authIds: [] };

function setup(acl: readonly Acl[]) {
  const h = harness({ superDigest: digestId('super', 'root') });
  h.openSession(2);
  h.openSession(3);
  h.openSession(4);
  h.mustCreate('/n', 'data', CreateMode.Persistent, alice, acl);
  return h;
}

describe('ACLs', () => {
  test('digest ids are user:base64(sha1(user:password)) as ZooKeeper computes them', () => {
    // Known value: ZooKeeper's DigestAuthenticationProvider.generateDigest("super:test").
    expect(digestId('super', 'test')).toBe('super:D/InIHSb7yEEbrWz8b9l71RjZJU=');
  });

  test('create needs CREATE on the parent', () => {
    const h = setup([{ perms: Perm.All & ~Perm.Create, scheme: 'world', id: 'anyone' }]);
    expect(h.create('/n/c', '', CreateMode.Persistent, anon).error).toBe(ErrorCode.NoAuth);
  });

  test('delete needs DELETE on the parent, not on the node', () => {
    const h = setup([{ perms: Perm.All & ~Perm.Delete, scheme: 'world', id: 'anyone' }]);
    h.mustCreate('/n/c', '', CreateMode.Persistent, anon, [{ perms: 0, scheme: 'world', id: 'anyone' }]);
    expect(h.delete('/n/c', -1, anon).error).toBe(ErrorCode.NoAuth);
    h.mustCreate('/m', '', CreateMode.Persistent, anon, [{ perms: Perm.Create | Perm.Delete, scheme: 'world', id: 'anyone' }]);
    h.mustCreate('/m/c', '', CreateMode.Persistent, anon, [{ perms: 0, scheme: 'world', id: 'anyone' }]);
    expect(h.delete('/m/c', -1, anon).error).toBe(0);
  });

  test("delete of a missing node whose parent denies DELETE gives NoAuth: the parent's ACL is checked before the node is looked up (ZooKeeper's order)", () => {
    const h = setup([{ perms: Perm.All & ~Perm.Delete, scheme: 'world', id: 'anyone' }]);
    expect(h.delete('/n/missing', -1, anon).error).toBe(ErrorCode.NoAuth);
  });

  test('delete of a missing node whose parent allows DELETE gives NoNode', () => {
    const h = setup([{ perms: Perm.Delete, scheme: 'world', id: 'anyone' }]);
    expect(h.delete('/n/missing', -1, anon).error).toBe(ErrorCode.NoNode);
  });

  test('delete under a missing parent gives NoNode (the parent is looked up before its ACL)', () => {
    const h = setup([{ perms: 0, scheme: 'world', id: 'anyone' }]);
    expect(h.delete('/n/missing/c', -1, anon).error).toBe(ErrorCode.NoNode);
  });

  test('in a multi, delete of a missing node whose parent denies DELETE fails that op with NoAuth', () => {
    const h = setup([{ perms: Perm.All & ~Perm.Delete, scheme: 'world', id: 'anyone' }]);
    const r = h.multi([{ type: 'check', path: '/n', version: -1 }, { type: 'delete', path: '/n/missing', version: -1 }], anon);
    expect(r.error).toBe(ErrorCode.NoAuth);
    expect('multi' in r && r.multi).toEqual({ type: 'multi', results: [{ type: 'error', error: 0 }, { type: 'error', error: ErrorCode.NoAuth }] });
  });

  test("apply re-checks delete in the same order: the node gone and the parent's DELETE revoked since prepare gives NoAuth", () => {
    const h = setup([{ perms: Perm.All, scheme: 'world', id: 'anyone' }]);
    h.mustCreate('/n/c', '', CreateMode.Persistent, anon);
    const late = prepare(h.tree, { type: 'delete', path: '/n/c', version: -1 }, bob, h.nowMs);
    if (late.error !== 0) throw new Error('prepare failed');
    expect(h.delete('/n/c', -1, anon).error).toBe(0);
    expect(h.write({ type: 'setACL', path: '/n', acl: [{ perms: Perm.All & ~Perm.Delete, scheme: 'world', id: 'anyone' }], version: -1 }, anon).error).toBe(0);
    expect(h.applyTxn(late.txn).error).toBe(ErrorCode.NoAuth);
  });

  test('setData needs WRITE, reads need READ, setACL needs ADMIN', () => {
    const h = setup([{ perms: Perm.All, scheme: 'digest', id: digestId('alice', 'secret') }]);
    expect(h.setData('/n', 'x', -1, bob).error).toBe(ErrorCode.NoAuth);
    expect(getData(h.tree, '/n', bob).error).toBe(ErrorCode.NoAuth);
    expect(getChildren(h.tree, '/n', bob).error).toBe(ErrorCode.NoAuth);
    expect(h.write({ type: 'setACL', path: '/n', acl: [{ perms: 31, scheme: 'world', id: 'anyone' }], version: -1 }, bob).error).toBe(ErrorCode.NoAuth);
    expect(h.setData('/n', 'x', -1, alice).error).toBe(0);
    expect(getData(h.tree, '/n', alice).error).toBe(0);
  });

  test('exists needs no permission (as ZooKeeper)', () => {
    const h = setup([{ perms: 0, scheme: 'world', id: 'anyone' }]);
    expect(exists(h.tree, '/n', bob).error).toBe(0);
  });

  test('the "auth" scheme becomes the creator digest ids', () => {
    const h = setup([{ perms: Perm.All, scheme: 'auth', id: '' }]);
    const r = getAcl(h.tree, '/n', alice);
    expect(r.error === 0 && r.acl).toEqual([{ perms: Perm.All, scheme: 'digest', id: digestId('alice', 'secret') }]);
  });

  test('the "auth" scheme without an authenticated id gives InvalidACL', () => {
    const h = harness();
    expect(h.create('/x', '', CreateMode.Persistent, anon, [{ perms: Perm.All, scheme: 'auth', id: '' }]).error).toBe(ErrorCode.InvalidACL);
  });

  test('an empty ACL, an unknown scheme, world with another id, or a malformed ip give InvalidACL', () => {
    const h = harness();
    for (const acl of [[], [{ perms: 31, scheme: 'sasl', id: 'x' }], [{ perms: 31, scheme: 'world', id: 'me' }], [{ perms: 31, scheme: 'ip', id: '10.0.0/8' }], [{ perms: 31, scheme: 'digest', id: 'nocolon' }]]) {
      expect(h.create('/x', '', CreateMode.Persistent, anon, acl).error).toBe(ErrorCode.InvalidACL);
    }
  });

  test('ip ACLs match an address or a CIDR range', () => {
    const h = setup([{ perms: Perm.Read, scheme: 'ip', id: '10.1.0.0/16' }, { perms: Perm.Read, scheme: 'ip', id: '192.168.1.7' }]);
    const from = (ip: string) => ({ id: 4, authIds: [{ scheme: 'ip', id: ip }] });
    expect(getData(h.tree, '/n', from('10.1.200.3')).error).toBe(0);
    expect(getData(h.tree, '/n', from('10.2.0.1')).error).toBe(ErrorCode.NoAuth);
    expect(getData(h.tree, '/n', from('192.168.1.7')).error).toBe(0);
    expect(getData(h.tree, '/n', from('192.168.1.8')).error).toBe(ErrorCode.NoAuth);
  });

  test('the super digest passes every check', () => {
    const h = setup([{ perms: 0, scheme: 'world', id: 'anyone' }]);
    const root = { id: 4, authIds: [{ scheme: 'digest', id: digestId('super', 'root') }] };
    expect(getData(h.tree, '/n', root).error).toBe(0);
    expect(h.setData('/n', 'x', -1, root).error).toBe(0);
    expect(h.delete('/n', -1, root).error).toBe(0);
  });

  test('setACL checks aversion and bumps it; it does not change version or mzxid', () => {
    const h = setup([{ perms: Perm.All, scheme: 'world', id: 'anyone' }]);
    const before = exists(h.tree, '/n', anon);
    expect(h.write({ type: 'setACL', path: '/n', acl: [{ perms: Perm.Read, scheme: 'world', id: 'anyone' }], version: 1 }, anon).error).toBe(ErrorCode.BadVersion);
    expect(h.write({ type: 'setACL', path: '/n', acl: [{ perms: Perm.Read, scheme: 'world', id: 'anyone' }], version: 0 }, anon).error).toBe(0);
    const after = exists(h.tree, '/n', anon);
    if (before.error !== 0 || after.error !== 0) throw new Error();
    expect(after.stat.aversion).toBe(1);
    expect(after.stat.version).toBe(before.stat.version);
    expect(after.stat.mzxid).toBe(before.stat.mzxid);
    expect(h.setData('/n', 'x', -1, anon).error).toBe(ErrorCode.NoAuth);
  });

  test('getACL without ADMIN hides digest hashes', () => {
    const h = setup([{ perms: Perm.Read, scheme: 'world', id: 'anyone' }, { perms: Perm.All, scheme: 'digest', id: digestId('alice', 'secret') }]);
    const r = getAcl(h.tree, '/n', bob);
    expect(r.error === 0 && r.acl[1]).toEqual({ perms: Perm.All, scheme: 'digest', id: 'alice:x' });
  });

  test('a check op in a multi needs READ', () => {
    const h = setup([{ perms: Perm.All & ~Perm.Read, scheme: 'world', id: 'anyone' }]);
    expect(h.multi([{ type: 'check', path: '/n', version: -1 }], anon).error).toBe(ErrorCode.NoAuth);
    expect(h.multi([{ type: 'setData', path: '/n', data: bytes('y'), version: -1 }], anon).error).toBe(0);
  });

  test('apply re-checks ACLs: a write prepared before a committed setACL that revoked the right fails with NoAuth', () => {
    const h = setup([{ perms: Perm.All, scheme: 'world', id: 'anyone' }]);
    const write = prepare(h.tree, { type: 'setData', path: '/n', data: bytes('late'), version: -1 }, bob, h.nowMs);
    if (write.error !== 0) throw new Error('prepare failed');
    expect(h.write({ type: 'setACL', path: '/n', acl: [{ perms: Perm.All, scheme: 'digest', id: digestId('alice', 'secret') }], version: -1 }, alice).error).toBe(0);
    const digest = h.tree.digest;
    expect(h.applyTxn(write.txn).error).toBe(ErrorCode.NoAuth);
    expect(h.tree.digest).toBe(digest);
  });

  test('expiry deletes are system txns: no ACL stops them', () => {
    const h = harness();
    h.mustCreate('/locked', '', CreateMode.Persistent, anon, [{ perms: Perm.Create | Perm.Read, scheme: 'world', id: 'anyone' }]);
    h.mustCreate('/locked/c', '', CreateMode.Container, anon);
    h.mustCreate('/locked/c/x', '', CreateMode.Persistent, anon);
    expect(h.delete('/locked/c/x', -1, anon).error).toBe(0);
    expect(h.delete('/locked/c', -1, anon).error).toBe(ErrorCode.NoAuth);
    const txns = findExpired(h.tree, h.nowMs);
    expect(txns).toHaveLength(1);
    expect(h.applyTxn(txns[0]).error).toBe(0);
    expect(h.tree.nodes.has('/locked/c')).toBe(false);
  });

  test('nodes share interned ACL lists, released when the last user goes', () => {
    const h = harness();
    const before = h.tree.acls.size;
    // Read + Write: a list no node of a new tree has (/zookeeper/config already holds world:anyone:r).
    const acl = [{ perms: Perm.Read | Perm.Write, scheme: 'world', id: 'anyone' }];
    h.mustCreate('/a', '', CreateMode.Persistent, anon, acl);
    h.mustCreate('/b', '', CreateMode.Persistent, anon, acl);
    expect(h.tree.acls.size).toBe(before + 1);
    h.delete('/a');
    h.delete('/b');
    expect(h.tree.acls.size).toBe(before);
  });
});
