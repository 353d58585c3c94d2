// ACLs as ZooKeeper has them: (perms, scheme, id) entries, schemes world, auth,
// digest and ip, a super digest that passes everything. Nodes share interned
// ACL lists (ZooKeeper's ReferenceCountedACLCache) because almost every node in a
// real tree has one of a handful of lists: a pointer per node, not a list per node.
import { createHash } from 'node:crypto';
import { hash64 } from '../core/index.js';
import { assert } from '../util/assert.js';

export const Perm = {
  Read: 1,
  Write: 2,
  Create: 4,
  Delete: 8,
  Admin: 16,
  All: 31,
} as const;

export interface Id {
  readonly scheme: string;
  readonly id: string;
}

export interface Acl {
  readonly perms: number;
  readonly scheme: string;
  readonly id: string;
}

export const ANYONE_ID: Id = { scheme: 'world', id: 'anyone' };
export const OPEN_ACL_UNSAFE: readonly Acl[] = [{ perms: Perm.All, scheme: 'world', id: 'anyone' }];
export const READ_ACL_UNSAFE: readonly Acl[] = [{ perms: Perm.Read, scheme: 'world', id: 'anyone' }];
/** All permissions for whoever created the node (the "auth" scheme). */
export const CREATOR_ALL_ACL: readonly Acl[] = [{ perms: Perm.All, scheme: 'auth', id: '' }];

/** ZooKeeper's digest id: `user:base64(sha1("user:password"))`. */
export function digestId(user: string, password: string): string {
  return `${user}:${createHash('sha1').update(`${user}:${password}`).digest('base64')}`;
}

/**
 * An ACL as the session wrote it, made concrete: "auth" entries become one entry
 * per digest id the session holds (ZooKeeper's fixupACL; ip ids are not
 * "authenticated" ids and do not count). Returns null when the list is invalid
 * (InvalidACL): empty, unknown scheme, malformed id, auth with no digest identity.
 */
export function fixupAcl(acl: readonly Acl[], authIds: readonly Id[], maxEntries: number, maxIdBytes: number): Acl[] | null {
  if (acl.length === 0 || acl.length > maxEntries) return null;
  const out: Acl[] = [];
  for (const entry of acl) {
    if (!Number.isInteger(entry.perms) || entry.perms < 0 || entry.perms > Perm.All) return null;
    if (entry.scheme.length > maxIdBytes || entry.id.length > maxIdBytes) return null;
    switch (entry.scheme) {
      case 'world':
        if (entry.id !== 'anyone') return null;
        out.push(entry);
        break;
      case 'auth': {
        let found = false;
        for (const id of authIds) {
          if (id.scheme === 'digest') {
            out.push({ perms: entry.perms, scheme: 'digest', id: id.id });
            found = true;
          }
        }
        if (!found) return null;
        break;
      }
      case 'digest':
        if (!isValidDigestId(entry.id)) return null;
        out.push(entry);
        break;
      case 'ip':
        if (parseIpPattern(entry.id) === null) return null;
        out.push(entry);
        break;
      default:
        return null;
    }
  }
  return dedupe(out);
}

function dedupe(acl: Acl[]): Acl[] {
  const seen = new Set<string>();
  return acl.filter((a) => {
    const key = `${a.perms}\u0000${a.scheme}\u0000${a.id}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function isValidDigestId(id: string): boolean {
  // ZooKeeper's DigestAuthenticationProvider.isValid: exactly one ':' splitting two parts.
  const parts = id.split(':');
  return parts.length === 2 && parts[0].length > 0;
}

interface IpPattern {
  readonly address: number;
  readonly maskBits: number;
}

/** An IPv4 address, optionally "/bits" (ZooKeeper's ip scheme supports IPv4 CIDR). */
function parseIpPattern(text: string): IpPattern | null {
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  let maskBits = 32;
  if (slash >= 0) {
    const bitsText = text.slice(slash + 1);
    if (!/^\d{1,2}$/.test(bitsText)) return null;
    maskBits = Number(bitsText);
    if (maskBits > 32) return null;
  }
  const address = parseIpv4(addressText);
  return address === null ? null : { address, maskBits };
}

function parseIpv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const byte = Number(part);
    if (byte > 255) return null;
    value = value * 256 + byte;
  }
  return value;
}

function ipMatches(pattern: string, clientIp: string): boolean {
  const p = parseIpPattern(pattern);
  const client = parseIpv4(clientIp);
  if (p === null || client === null) return pattern === clientIp;
  if (p.maskBits === 0) return true;
  const shift = 32 - p.maskBits;
  return Math.floor(p.address / 2 ** shift) === Math.floor(client / 2 ** shift);
}

/** True when the session is the configured super user. */
export function isSuper(authIds: readonly Id[], superDigest: string | null): boolean {
  if (superDigest === null) return false;
  for (const id of authIds) if (id.scheme === 'digest' && id.id === superDigest) return true;
  return false;
}

/**
 * ZooKeeper's checkACL: the super user passes, an empty list passes, otherwise some
 * entry granting one of `perm`'s bits must match one of the session's ids.
 */
export function hasPermission(acl: readonly Acl[], perm: number, authIds: readonly Id[], superDigest: string | null): boolean {
  if (acl.length === 0) return true;
  for (const entry of acl) {
    if ((entry.perms & perm) === 0) continue;
    if (entry.scheme === 'world') {
      if (entry.id === 'anyone') return true;
      continue;
    }
    for (const id of authIds) {
      if (id.scheme !== entry.scheme) continue;
      if (entry.scheme === 'ip' ? ipMatches(entry.id, id.id) : id.id === entry.id) return true;
    }
  }
  return isSuper(authIds, superDigest);
}

/**
 * hasPermission over an interned entry, with the world:anyone fast path (no walk
 * over the list for the common open ACL). Reads and watch delivery use it.
 */
export function entryAllows(entry: AclEntry, perm: number, authIds: readonly Id[], superDigest: string | null): boolean {
  if ((entry.anyonePerms & perm) !== 0) return true;
  return hasPermission(entry.list, perm, authIds, superDigest);
}

/** getACL for a caller without ADMIN: digest hashes are hidden (ZooKeeper 3.6+ redaction). */
export function redactAcl(acl: readonly Acl[]): Acl[] {
  return acl.map((a) => (a.scheme === 'digest' ? { ...a, id: `${a.id.slice(0, a.id.indexOf(':'))}:x` } : a));
}

// ---------------------------------------------------------------------------
// Interning

/** One shared ACL list; `refs` counts the nodes using it. */
export class AclEntry {
  refs = 0;
  /** Perms granted to world:anyone: lets a read check pass without walking the list (fewer cache misses per read). */
  readonly anyonePerms: number;
  constructor(
    readonly key: string,
    readonly list: readonly Acl[],
    /** Stable across replicas and snapshots (a hash of the canonical text), for the digest. */
    readonly hash: bigint,
  ) {
    let perms = 0;
    for (const a of list) if (a.scheme === 'world' && a.id === 'anyone') perms |= a.perms;
    this.anyonePerms = perms;
  }
}

const textEncoder = new TextEncoder();

export function aclKey(acl: readonly Acl[]): string {
  return acl.map((a) => `${a.perms},${a.scheme},${a.id}`).join('\n');
}

export class AclTable {
  private readonly byKey = new Map<string, AclEntry>();

  /** The shared entry for `acl`, with one more reference. */
  acquire(acl: readonly Acl[]): AclEntry {
    const key = aclKey(acl);
    let entry = this.byKey.get(key);
    if (entry === undefined) {
      entry = new AclEntry(key, Object.freeze(acl.map((a) => Object.freeze({ perms: a.perms, scheme: a.scheme, id: a.id }))), hash64(textEncoder.encode(key), 0xacn));
      this.byKey.set(key, entry);
    }
    entry.refs++;
    return entry;
  }

  /** One more reference to an entry already in the table (the snapshot loader's fast path). */
  retain(entry: AclEntry): AclEntry {
    if (entry.refs === 0) assert(false, 'retain: entry not in the table');
    entry.refs++;
    return entry;
  }

  release(entry: AclEntry): void {
    assert(entry.refs > 0, 'ACL entry released more often than acquired');
    entry.refs--;
    if (entry.refs === 0) this.byKey.delete(entry.key);
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Entries in canonical (key) order, for snapshots. */
  sorted(): AclEntry[] {
    return [...this.byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
}
