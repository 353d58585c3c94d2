// The differential test's ops and their seeded generator. An op is plain data (so a
// failure message can print it); the generator is a pure function of the seed and of
// what the reference server (ZooKeeper) answered so far, which it keeps in a small
// model only to aim its guesses (existing paths, current versions): a wrong guess is
// just another error case, both servers get the same op either way.
import { createHash } from 'node:crypto';
import { SeededRandom } from '../../../src/util/random.js';
import type { RawAcl, RawStat } from './diff-client.js';

/** ZooDefs.Perms. */
export const Perms = { READ: 1, WRITE: 2, CREATE: 4, DELETE: 8, ADMIN: 16, ALL: 31 } as const;

export const USERS = { u1: 'u1:secret-1', u2: 'u2:secret-2' } as const;
export type User = keyof typeof USERS;

/** The digest scheme's id for user:password: user:base64(sha1(user:password)). */
export function digestId(credentials: string): string {
  const user = credentials.slice(0, credentials.indexOf(':'));
  return `${user}:${createHash('sha1').update(credentials).digest('base64')}`;
}

const world = (perms: number): RawAcl => ({ perms, scheme: 'world', id: 'anyone' });
const digest = (user: User, perms: number): RawAcl => ({ perms, scheme: 'digest', id: digestId(USERS[user]) });

/** ACL lists by name (the name is what an op prints). */
export const ACLS = {
  open: [world(Perms.ALL)],
  worldRead: [world(Perms.READ)],
  noDelete: [world(Perms.ALL & ~Perms.DELETE)],
  noCreate: [world(Perms.ALL & ~Perms.CREATE)],
  noRead: [world(Perms.ALL & ~Perms.READ)],
  u1: [digest('u1', Perms.ALL)],
  u1WorldRead: [digest('u1', Perms.ALL), world(Perms.READ)],
  u2AdminWorldRest: [digest('u2', Perms.ADMIN), world(Perms.READ | Perms.WRITE | Perms.CREATE | Perms.DELETE)],
  creator: [{ perms: Perms.ALL, scheme: 'auth', id: '' }],
  localIp: [{ perms: Perms.ALL, scheme: 'ip', id: '127.0.0.1' }],
  otherNetWorldRead: [{ perms: Perms.ALL, scheme: 'ip', id: '10.0.0.0/8' }, world(Perms.READ)],
  badDigest: [{ perms: Perms.ALL, scheme: 'digest', id: 'no-colon' }],
  badScheme: [{ perms: Perms.ALL, scheme: 'nosuchscheme', id: 'x' }],
} as const satisfies Record<string, readonly RawAcl[]>;
export type AclName = keyof typeof ACLS;

export const Mode = { persistent: 0, ephemeral: 1, sequential: 2, ephemeralSequential: 3, container: 4, ttl: 5, sequentialTtl: 6 } as const;

/** EphemeralType.TTL's largest ttl (40 bits of ms). */
const MAX_TTL_MS = 2 ** 40 - 1;

/** create: opcode 1 (path only); create2: 15, createContainer: 19, createTTL: 21 (path + Stat). */
export type CreateApi = 'create' | 'create2' | 'createContainer' | 'createTTL';

export type MultiOp =
  | { readonly op: 'create'; readonly path: string; readonly data: Buffer | null; readonly acl: AclName; readonly mode: number }
  | { readonly op: 'setData'; readonly path: string; readonly data: Buffer | null; readonly version: number }
  | { readonly op: 'delete'; readonly path: string; readonly version: number }
  | { readonly op: 'check'; readonly path: string; readonly version: number };

/** `c`: which of the two sessions (0 = A, 1 = B) runs it. */
export type Op =
  | {
      readonly kind: 'create';
      readonly c: 0 | 1;
      readonly api: CreateApi;
      readonly path: string;
      readonly data: Buffer | null;
      readonly acl: AclName;
      /** The flags on the wire. */
      readonly mode: number;
      /** createTTL only. */
      readonly ttlMs?: number;
    }
  | { readonly kind: 'delete'; readonly c: 0 | 1; readonly path: string; readonly version: number }
  | { readonly kind: 'setData'; readonly c: 0 | 1; readonly path: string; readonly data: Buffer | null; readonly version: number }
  | { readonly kind: 'getData' | 'exists' | 'getChildren'; readonly c: 0 | 1; readonly path: string; readonly watch: boolean }
  | { readonly kind: 'getACL' | 'sync'; readonly c: 0 | 1; readonly path: string }
  | { readonly kind: 'setACL'; readonly c: 0 | 1; readonly path: string; readonly acl: AclName; readonly version: number }
  | { readonly kind: 'multi'; readonly c: 0 | 1; readonly ops: readonly MultiOp[] }
  | { readonly kind: 'addAuth'; readonly c: 0 | 1; readonly user: User }
  /** Close session c (its ephemerals go, the other session's watches on them fire) and open a new one in its place. */
  | { readonly kind: 'reopen'; readonly c: 0 | 1 }
  /** Every node under the root (getChildren + getData + getACL of each), read by session A: the final state. */
  | { readonly kind: 'dump'; readonly c: 0 };

/** An op as one line: data as its length and first bytes. */
export function opText(op: Op): string {
  return JSON.stringify(op, (_k, v: unknown) => {
    if (v !== null && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
      const bytes = (v as { data: number[] }).data;
      return `<${bytes.length} bytes ${Buffer.from(bytes).toString('hex').slice(0, 16)}${bytes.length > 8 ? '..' : ''}>`;
    }
    return v;
  });
}

interface Known {
  version: number;
  aversion: number;
  /** The session serial that owns it (ephemeral), or null. */
  owner: number | null;
}

const NAMES = ['a', 'b', 'c', 'd'];

/**
 * Seeded ops for one run under `root`. `next()` gives the next op; the `saw*` methods
 * feed the reference server's answers back so later guesses (paths, versions) aim well.
 */
export class OpGenerator {
  private readonly rng: SeededRandom;
  private readonly known = new Map<string, Known>();
  /** Each slot's current session serial (bumped by reopen), for ephemeral owners. */
  private readonly serial: [number, number] = [0, 1];
  private nextSerial = 2;
  /** The path the last pickPath chose, for the version guess that follows it. */
  private lastPath = '';

  constructor(
    seed: number,
    private readonly root: string,
  ) {
    this.rng = new SeededRandom(seed);
  }

  /** The first op of every run: the run's root, persistent and open. */
  rootOp(): Op {
    return { kind: 'create', c: 0, api: 'create', path: this.root, data: Buffer.from('root'), acl: 'open', mode: 0 };
  }

  next(): Op {
    const r = this.rng;
    const c = r.int(2) as 0 | 1;
    const roll = r.int(100);
    if (roll < 24) return this.create(c);
    if (roll < 33) return { kind: 'delete', c, path: this.pickPath(false), version: this.version(this.lastPath) };
    if (roll < 45) return { kind: 'setData', c, path: this.pickPath(true), data: this.data(), version: this.version(this.lastPath) };
    if (roll < 55) return { kind: 'getData', c, path: this.pickPath(true), watch: r.next() < 0.6 };
    if (roll < 65) return { kind: 'exists', c, path: this.pickPath(true), watch: r.next() < 0.6 };
    if (roll < 75) return { kind: 'getChildren', c, path: this.pickPath(true), watch: r.next() < 0.6 };
    if (roll < 79) return { kind: 'getACL', c, path: this.pickPath(true) };
    if (roll < 84) return { kind: 'setACL', c, path: this.pickPath(false), acl: this.acl(0.3), version: this.aversion(this.lastPath) };
    if (roll < 93) return this.multi(c);
    if (roll < 95) return { kind: 'sync', c, path: this.pickPath(true) };
    if (roll < 98) return { kind: 'addAuth', c, user: r.pick(['u1', 'u2'] as const) };
    return { kind: 'reopen', c };
  }

  private create(c: 0 | 1): Op {
    const r = this.rng;
    const path = this.pickPath(true, true);
    const data = this.data();
    const acl = this.acl(0.75);
    const roll = r.int(100);
    // ZooKeeper's own client sends CONTAINER (4) with createContainer and the TTL modes
    // with createTTL, but the opcode decides (see test/zookeeper/create-mode.test.ts),
    // and node-zookeeper-client passes any number as an opcode-1 create's flags: the
    // other pairings are generated too.
    if (roll < 10) {
      const mode = r.pick([Mode.container, Mode.container, Mode.persistent, Mode.ephemeral, Mode.sequential, Mode.ephemeralSequential]);
      return { kind: 'create', c, api: 'createContainer', path, data, acl, mode };
    }
    if (roll < 16) {
      const mode = r.pick([Mode.ttl, Mode.ttl, Mode.ttl, Mode.sequentialTtl, Mode.persistent, Mode.container]);
      // An hour: nothing expires during a run (and the sweeps are off, see the test).
      // Never a negative ttl with a mode that is not TTL: ZooKeeper 3.8 takes that
      // create, then fails to apply it and stops serving (EphemeralType.TTL.toEphemeralOwner
      // throws in the txn's apply).
      const ttls = mode === Mode.ttl || mode === Mode.sequentialTtl ? [3_600_000, 3_600_000, 3_600_000, 3_600_000, 3_600_000, 0, -5, MAX_TTL_MS, MAX_TTL_MS + 1] : [0, 3_600_000];
      const ttlMs = r.pick(ttls);
      return { kind: 'create', c, api: 'createTTL', path, data, acl, mode, ttlMs };
    }
    if (roll < 20) return { kind: 'create', c, api: r.pick(['create', 'create2'] as const), path, data, acl, mode: r.pick([Mode.container, Mode.ttl, Mode.sequentialTtl]) };
    const mode = r.pick([Mode.persistent, Mode.persistent, Mode.ephemeral, Mode.sequential, Mode.ephemeralSequential]);
    return { kind: 'create', c, api: roll < 60 ? 'create2' : 'create', path, data, acl, mode };
  }

  private multi(c: 0 | 1): Op {
    const r = this.rng;
    const n = r.between(1, 5);
    const ops: MultiOp[] = [];
    const made: string[] = [];
    for (let i = 0; i < n; i++) {
      const reuse = made.length > 0 && r.next() < 0.35;
      const roll = r.int(100);
      if (roll < 35) {
        const path = reuse ? `${r.pick(made)}/${r.pick(NAMES)}` : this.pickPath(true, true);
        made.push(path);
        const mode = r.pick([Mode.persistent, Mode.persistent, Mode.ephemeral, Mode.sequential]);
        ops.push({ op: 'create', path, data: this.data(), acl: this.acl(0.85), mode });
        continue;
      }
      // Mostly nodes that exist, so that more multis get past their first op.
      const existing = this.existing();
      const path = reuse ? r.pick(made) : existing.length > 0 && r.next() < 0.6 ? r.pick(existing) : this.pickPath(roll < 60);
      const version = reuse ? r.pick([-1, 0, 1]) : this.version(path);
      if (roll < 60) ops.push({ op: 'setData', path, data: this.data(), version });
      else if (roll < 80) ops.push({ op: 'delete', path, version });
      else ops.push({ op: 'check', path, version });
    }
    return { kind: 'multi', c, ops };
  }

  /**
   * A path under the root: often a node known to exist, else a new name under one,
   * else any path of depth 1..3 (whose parent may not exist). The root itself is
   * picked only with `allowRoot` (reads, setData) and is always a possible parent for
   * a create; never a delete or setACL target, so a run keeps its root and can always
   * create under it.
   */
  private pickPath(allowRoot: boolean, forCreate = false): string {
    const r = this.rng;
    const existing = this.existing();
    const roll = r.next();
    let path: string;
    if (!forCreate && roll < 0.6 && existing.length > 0) path = r.pick(existing);
    else if (roll < (forCreate ? 0.7 : 0.85) && (existing.length > 0 || allowRoot || forCreate)) {
      const parents = forCreate || allowRoot ? [this.root, ...existing] : existing;
      path = `${r.pick(parents)}/${r.pick(NAMES)}`;
      if (path.split('/').length > 6) path = `${this.root}/${r.pick(NAMES)}`;
    } else {
      const depth = r.between(1, 3);
      path = this.root;
      for (let i = 0; i < depth; i++) path += `/${r.pick(NAMES)}`;
    }
    if (!forCreate && allowRoot && r.next() < 0.05) path = this.root;
    this.lastPath = path;
    return path;
  }

  /** Known nodes under the root (not the root), sorted: the order must not depend on history. */
  private existing(): string[] {
    return [...this.known.keys()].filter((p) => p !== this.root).sort();
  }

  private version(path: string): number {
    const k = this.known.get(path);
    const right = k?.version ?? 0;
    const roll = this.rng.int(100);
    return roll < 45 ? right : roll < 70 ? -1 : right + 1 + this.rng.int(2);
  }

  private aversion(path: string): number {
    const k = this.known.get(path);
    const right = k?.aversion ?? 0;
    const roll = this.rng.int(100);
    return roll < 50 ? right : roll < 80 ? -1 : right + 1;
  }

  /** 0..64 random bytes, or sometimes null (no data at all: -1 on the wire), for creates and setData. */
  private data(): Buffer | null {
    if (this.rng.next() < 0.1) return null;
    return Buffer.from(this.rng.bytes(this.rng.between(0, 64)));
  }

  private acl(openShare: number): AclName {
    if (this.rng.next() < openShare) return 'open';
    return this.rng.pick(Object.keys(ACLS) as AclName[]);
  }

  // ---- what the reference answered ----

  /** A node exists with this stat (from any answer that carried one). */
  sawStat(path: string, stat: RawStat): void {
    const k = this.known.get(path);
    if (k === undefined) this.known.set(path, { version: stat.version, aversion: stat.aversion, owner: null });
    else {
      k.version = stat.version;
      k.aversion = stat.aversion;
    }
  }

  sawCreated(path: string, c: 0 | 1, mode: number): void {
    const ephemeral = mode === Mode.ephemeral || mode === Mode.ephemeralSequential;
    this.known.set(path, { version: 0, aversion: 0, owner: ephemeral ? this.serial[c] : null });
  }

  sawChild(path: string): void {
    if (!this.known.has(path)) this.known.set(path, { version: 0, aversion: 0, owner: null });
  }

  sawGone(path: string): void {
    this.known.delete(path);
  }

  sawReopen(c: 0 | 1): void {
    const gone = this.serial[c];
    for (const [path, k] of this.known) if (k.owner === gone) this.known.delete(path);
    this.serial[c] = this.nextSerial++;
  }
}
