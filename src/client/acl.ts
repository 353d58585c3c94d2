// ZooKeeper's permission bits and its stock ACLs (ZooDefs.Perms, ZooDefs.Ids).
import type { Acl } from '../protocol/types.js';

export const Perms = { READ: 1, WRITE: 2, CREATE: 4, DELETE: 8, ADMIN: 16, ALL: 31 } as const;

/** Anyone may do anything. ZooKeeper's default for tests and open setups. */
export const OPEN_ACL_UNSAFE: readonly Acl[] = Object.freeze([{ perms: Perms.ALL, scheme: 'world', id: 'anyone' }]);
/** Anyone may read. */
export const READ_ACL_UNSAFE: readonly Acl[] = Object.freeze([{ perms: Perms.READ, scheme: 'world', id: 'anyone' }]);
/** Everything for the identities the creating session authenticated as. */
export const CREATOR_ALL_ACL: readonly Acl[] = Object.freeze([{ perms: Perms.ALL, scheme: 'auth', id: '' }]);
