// ZooKeeper's system nodes: `/zookeeper`, `/zookeeper/config` and
// `/zookeeper/quota`, there from the start in every tree (ZooKeeper clients and
// tools list and expect them). One place for their paths, ACLs and initial Stat;
// the tree creates them (tree.ts) and the delete rule refuses them (checks.ts).
//
// Measured on a ZooKeeper 3.8.0 standalone server, fresh data dir:
//   - `/` lists `zookeeper`; `/zookeeper` lists `config` and `quota`.
//   - All three (and the root): czxid = mzxid = pzxid = 0, ctime = mtime = 0,
//     version 0, ephemeralOwner 0, dataLength 0.
//   - ACLs: `/zookeeper` and `/zookeeper/quota` world:anyone:cdrwa;
//     `/zookeeper/config` world:anyone:r, so setData/setACL on it need super.
//   - cversion as reported: `/` -1, `/zookeeper` -2 (ZooKeeper reports
//     2 * creates - numChildren and never counted creating these), 0 for the
//     leaves; `/zookeeper/config` has aversion -1 (ZooKeeper sets its ACL with
//     version -1 at startup). zook stores the reported cversion and moves it by
//     one per child create or delete, which ZooKeeper's formula also does, so the
//     values stay equal after any history.
//   - delete of `/`, `/zookeeper`, `/zookeeper/config`, `/zookeeper/quota`:
//     BadArguments, whatever the version or ACL (PrepRequestProcessor's
//     getParentPathAndValidate / DataTree.isSpecialPath). Creating children
//     under `/zookeeper` and `/zookeeper/quota`, and setData on them, work as
//     anywhere else.
// zook gives them no further meaning: no quota enforcement, and `/zookeeper/config`
// holds no membership (README, "Where zook's tree differs").
//
// One rule beyond ZooKeeper's, for the nodes that can never be deleted (the root,
// `/zookeeper`, `/zookeeper/quota`; `/zookeeper/config` is read-only to all but the
// super user anyway): a setACL on one of them must leave the caller ADMIN on it.
// ZooKeeper 3.8 takes `setAcl / world:anyone:r` from anyone (the root is
// world:anyone:cdrwa) and after that nobody but a configured super user can ever
// change the root's ACL again; with no super user configured, not even that. On
// any other node the parent's owner can delete and re-create a node that locked
// everyone out; these cannot be. So zook answers InvalidACL (ZooKeeper's code for
// an ACL the server will not take) when the new ACL would not grant the caller
// ADMIN, and applies it otherwise: restricting the root to an operator's own id
// (`setAcl / auth::cdrwa` after addauth, or `digest:ops:...:cdrwa,world:anyone:r`
// as ops) works as in ZooKeeper. The super user is exempt: it can always undo.
// Checked at prepare only, after ZooKeeper's own checks (a request ZooKeeper
// refuses gets ZooKeeper's code); apply does not re-check it, so a log written
// before this rule replays as it was written.
import { OPEN_ACL_UNSAFE, Perm, READ_ACL_UNSAFE, hasPermission, isSuper, type Acl, type Id } from './acl.js';
import { ROOT } from './paths.js';

export const ZOOKEEPER_PATH = '/zookeeper';
export const ZOOKEEPER_CONFIG_PATH = '/zookeeper/config';
export const ZOOKEEPER_QUOTA_PATH = '/zookeeper/quota';

export const ZOOKEEPER_ACL: readonly Acl[] = OPEN_ACL_UNSAFE;
export const ZOOKEEPER_CONFIG_ACL: readonly Acl[] = READ_ACL_UNSAFE;
export const ZOOKEEPER_QUOTA_ACL: readonly Acl[] = OPEN_ACL_UNSAFE;

/** A system node as a new tree has it; every Stat field not named here is 0. */
export interface SystemNode {
  readonly path: string;
  readonly acl: readonly Acl[];
  readonly cversion: number;
  readonly aversion: number;
}

/** The root's reported cversion in a new tree: -1 (one child it never counted creating). */
export const ROOT_CVERSION = -1;

/** The system nodes below the root, parent before child, children in name order. */
export const SYSTEM_NODES: readonly SystemNode[] = Object.freeze([
  Object.freeze({ path: ZOOKEEPER_PATH, acl: ZOOKEEPER_ACL, cversion: -2, aversion: 0 }),
  Object.freeze({ path: ZOOKEEPER_CONFIG_PATH, acl: ZOOKEEPER_CONFIG_ACL, cversion: 0, aversion: -1 }),
  Object.freeze({ path: ZOOKEEPER_QUOTA_PATH, acl: ZOOKEEPER_QUOTA_ACL, cversion: 0, aversion: 0 }),
]);

/** Paths no delete may remove (BadArguments): the root and the system nodes (ZooKeeper's isSpecialPath). */
export function isUndeletablePath(path: string): boolean {
  return path === ROOT || path === ZOOKEEPER_PATH || path === ZOOKEEPER_CONFIG_PATH || path === ZOOKEEPER_QUOTA_PATH;
}

/**
 * True when a setACL of `newAcl` on `path` would leave the caller without ADMIN on a
 * node that can never be deleted (see the header): prepare refuses it with InvalidACL.
 */
export function setAclLocksOutCaller(path: string, newAcl: readonly Acl[], authIds: readonly Id[], superDigest: string | null): boolean {
  if (!isUndeletablePath(path) || isSuper(authIds, superDigest)) return false;
  return !hasPermission(newAcl, Perm.Admin, authIds, null);
}
