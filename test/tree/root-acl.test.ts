// setACL on the nodes that can never be deleted (/, /zookeeper, /zookeeper/quota):
// zook's one rule beyond ZooKeeper's (src/tree/system.ts). A new ACL must leave the
// caller ADMIN, or the answer is InvalidACL and nothing changes; everything else
// is as in ZooKeeper 3.8.
import { describe, expect, test } from 'vitest';
import {
  CreateMode,
  ErrorCode,
  OPEN_ACL_UNSAFE,
  Perm,
  READ_ACL_UNSAFE,
  ZOOKEEPER_PATH,
  ZOOKEEPER_QUOTA_PATH,
  digestId,
  exists,
  getAcl,
  type Acl,
  type Stat,
} from '../../src/tree/index.js';
import { harness } from './harness.js';

const SUPER = digestId('super', 'root');
const ALICE = digestId('alice', 'secret');
const BOB = digestId('bob', 'pw');
const anon = { id: 1, authIds: [] };
const alice = { id: 2, authIds: [{ scheme: 'digest', id: ALICE }] };
const superUser = { id: 3, authIds: [{ scheme: 'digest', id: SUPER }] };
const fromLocalhost = { id: 4, authIds: [{ scheme: 'ip', id: '127.0.0.1' }] };

function setup() {
  const h = harness({ superDigest: SUPER });
  h.openSession(2);
  h.openSession(3);
  h.openSession(4);
  return h;
}

function aclOf(h: ReturnType<typeof setup>, path: string): readonly Acl[] {
  const r = getAcl(h.tree, path, superUser);
  if (r.error !== 0) throw new Error(`getAcl ${path}: ${r.error}`);
  return r.acl;
}

function statOf(h: ReturnType<typeof setup>, path: string): Stat {
  const r = exists(h.tree, path, superUser);
  if (r.error !== 0) throw new Error(`${path} missing`);
  return r.stat;
}

const setAcl = (h: ReturnType<typeof setup>, path: string, acl: readonly Acl[], session: { id: number; authIds: readonly { scheme: string; id: string }[] }, version = -1) =>
  h.write({ type: 'setACL', path, acl, version }, session);

const UNDELETABLE = ['/', ZOOKEEPER_PATH, ZOOKEEPER_QUOTA_PATH];

describe('setACL on the root and the system nodes', () => {
  test.each(UNDELETABLE)('world:anyone:r on %s from an anonymous session is InvalidACL and changes nothing (it would lock everyone out for good)', (path) => {
    const h = setup();
    const before = statOf(h, path);
    expect(setAcl(h, path, READ_ACL_UNSAFE, anon).error).toBe(ErrorCode.InvalidACL);
    expect(aclOf(h, path)).toEqual(OPEN_ACL_UNSAFE);
    expect(statOf(h, path)).toEqual(before);
  });

  test('an ACL granting everything but ADMIN on / is InvalidACL', () => {
    const h = setup();
    expect(setAcl(h, '/', [{ perms: Perm.All & ~Perm.Admin, scheme: 'world', id: 'anyone' }], anon).error).toBe(ErrorCode.InvalidACL);
  });

  test("an ACL naming only someone else's digest on / is InvalidACL", () => {
    const h = setup();
    expect(setAcl(h, '/', [{ perms: Perm.All, scheme: 'digest', id: BOB }], alice).error).toBe(ErrorCode.InvalidACL);
  });

  test('restricting / to the caller works as in ZooKeeper (auth::cdrwa plus world read); others then get NoAuth, the caller can open it again', () => {
    const h = setup();
    const restricted = [{ perms: Perm.All, scheme: 'auth', id: '' }, { perms: Perm.Read, scheme: 'world', id: 'anyone' }];
    expect(setAcl(h, '/', restricted, alice).error).toBe(0);
    expect(aclOf(h, '/')).toEqual([{ perms: Perm.All, scheme: 'digest', id: ALICE }, { perms: Perm.Read, scheme: 'world', id: 'anyone' }]);
    expect(h.create('/x', '', CreateMode.Persistent, anon).error).toBe(ErrorCode.NoAuth);
    expect(setAcl(h, '/', OPEN_ACL_UNSAFE, anon).error).toBe(ErrorCode.NoAuth);
    expect(setAcl(h, '/', OPEN_ACL_UNSAFE, alice).error).toBe(0);
    expect(aclOf(h, '/')).toEqual(OPEN_ACL_UNSAFE);
  });

  test('an ip entry that matches the caller keeps its ADMIN: allowed', () => {
    const h = setup();
    expect(setAcl(h, '/', [{ perms: Perm.All, scheme: 'ip', id: '127.0.0.0/8' }, { perms: Perm.Read, scheme: 'world', id: 'anyone' }], fromLocalhost).error).toBe(0);
  });

  test('the super user may set any ACL on / (it can always undo it)', () => {
    const h = setup();
    expect(setAcl(h, '/', READ_ACL_UNSAFE, superUser).error).toBe(0);
    expect(setAcl(h, '/', OPEN_ACL_UNSAFE, anon).error).toBe(ErrorCode.NoAuth);
    expect(setAcl(h, '/', OPEN_ACL_UNSAFE, superUser).error).toBe(0);
  });

  test('an ordinary node takes an ACL without ADMIN, as in ZooKeeper (its parent can still delete it)', () => {
    const h = setup();
    h.mustCreate('/n');
    expect(setAcl(h, '/n', READ_ACL_UNSAFE, anon).error).toBe(0);
    expect(h.delete('/n', -1, anon).error).toBe(0);
  });

  test("ZooKeeper's own checks come first: a wrong aversion is BadVersion, a caller without ADMIN is NoAuth", () => {
    const h = setup();
    expect(setAcl(h, '/', READ_ACL_UNSAFE, anon, 5).error).toBe(ErrorCode.BadVersion);
    expect(setAcl(h, '/', [{ perms: Perm.All, scheme: 'digest', id: ALICE }], alice).error).toBe(0);
    expect(setAcl(h, '/', READ_ACL_UNSAFE, anon).error).toBe(ErrorCode.NoAuth);
  });

  test('a logged setACL that locks / (written before this rule) is applied as written on replay', () => {
    const h = setup();
    const r = h.applyTxn({ type: 'setACL', path: '/', acl: [...READ_ACL_UNSAFE], version: -1, timeMs: 1, authIds: [] });
    expect(r.error).toBe(0);
    expect(aclOf(h, '/')).toEqual(READ_ACL_UNSAFE);
  });
});
