// The reference model for the model-based test: the ZooKeeper rules written the
// plainest way possible. Nodes in a Map by path; children found by scanning every
// path; a multi runs on a deep copy that replaces the model only if every op
// succeeded. Slow and obviously correct is the point.
import type { Acl, CreateMode, Id, MultiOpRequest, NodeData, Stat, WriteRequest } from '../../src/tree/index.js';

export const E = {
  Ok: 0,
  RuntimeInconsistency: -2,
  BadArguments: -8,
  NoNode: -101,
  NoAuth: -102,
  BadVersion: -103,
  NoChildrenForEphemerals: -108,
  NodeExists: -110,
  NotEmpty: -111,
  SessionExpired: -112,
  InvalidACL: -114,
} as const;

interface MNode {
  /** null: ZooKeeper's null data, kept apart from empty bytes (dataLength 0 for both). */
  data: NodeData;
  acl: Acl[];
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  owner: number;
  kind: 'persistent' | 'ephemeral' | 'container' | 'ttl';
  ttl: number;
  created: number;
}

export type MResult = { error: number; path?: string; stat?: Stat; results?: { error: number; path?: string; stat?: Stat }[] };

// The workload only makes names of these characters; "." and ".." as whole components are the bad ones.
const GOOD_PATH = { test: (p: string): boolean => /^\/([a-z0-9.-]+(\/[a-z0-9.-]+)*)?$/.test(p) && !p.split('/').some((c) => c === '.' || c === '..') };

export const SUPER = 'super:x';

class Failed extends Error {
  constructor(readonly code: number) {
    super(String(code));
  }
}

export class Model {
  nodes = new Map<string, MNode>();
  sessions = new Map<number, number>();
  zxid = 0;

  constructor(
    readonly maxDataBytes: number,
    readonly maxTtlMs: number,
  ) {
    // A new ZooKeeper 3.8 server, as measured: the root and the system nodes, all at
    // zxid 0. Reported cversion is 2 * creates - children (/ -1, /zookeeper -2);
    // /zookeeper/config is world:anyone:r with aversion -1.
    const open: Acl[] = [{ perms: 31, scheme: 'world', id: 'anyone' }];
    const system = (acl: Acl[], cversion: number, aversion: number): MNode => ({ data: new Uint8Array(), acl, czxid: 0, mzxid: 0, pzxid: 0, ctime: 0, mtime: 0, version: 0, cversion, aversion, owner: 0, kind: 'persistent', ttl: 0, created: 0 });
    this.nodes.set('/', system(open, -1, 0));
    this.nodes.set('/zookeeper', system(open, -2, 0));
    this.nodes.set('/zookeeper/config', system([{ perms: 1, scheme: 'world', id: 'anyone' }], 0, -1));
    this.nodes.set('/zookeeper/quota', system(open, 0, 0));
  }

  clone(): Model {
    const m = new Model(this.maxDataBytes, this.maxTtlMs);
    m.nodes = new Map([...this.nodes].map(([p, n]) => [p, { ...n, acl: [...n.acl] }]));
    m.sessions = new Map(this.sessions);
    m.zxid = this.zxid;
    return m;
  }

  static parent(path: string): string {
    const i = path.lastIndexOf('/');
    return i === 0 ? '/' : path.slice(0, i);
  }

  children(path: string): string[] {
    return [...this.nodes.keys()].filter((p) => p !== '/' && Model.parent(p) === path).map((p) => p.slice(p.lastIndexOf('/') + 1)).sort();
  }

  stat(path: string): Stat {
    const n = this.nodes.get(path)!;
    return { czxid: n.czxid, mzxid: n.mzxid, pzxid: n.pzxid, ctime: n.ctime, mtime: n.mtime, version: n.version, cversion: n.cversion, aversion: n.aversion, ephemeralOwner: n.owner, dataLength: n.data === null ? 0 : n.data.length, numChildren: this.children(path).length };
  }

  private allowed(acl: Acl[], perm: number, ids: readonly Id[]): boolean {
    if (ids.some((i) => i.scheme === 'digest' && i.id === SUPER)) return true;
    return acl.some((a) => (a.perms & perm) !== 0 && ((a.scheme === 'world' && a.id === 'anyone') || ids.some((i) => i.scheme === a.scheme && i.id === a.id)));
  }

  private fixAcl(acl: readonly Acl[], ids: readonly Id[]): Acl[] {
    if (acl.length === 0) throw new Failed(E.InvalidACL);
    const out: Acl[] = [];
    for (const a of acl) {
      if (a.scheme === 'world' && a.id === 'anyone') out.push(a);
      else if (a.scheme === 'digest' && a.id.includes(':')) out.push(a);
      else if (a.scheme === 'auth') {
        const digests = ids.filter((i) => i.scheme === 'digest');
        if (digests.length === 0) throw new Failed(E.InvalidACL);
        for (const d of digests) out.push({ perms: a.perms, scheme: 'digest', id: d.id });
      } else throw new Failed(E.InvalidACL);
    }
    return out.filter((a, i) => out.findIndex((b) => b.perms === a.perms && b.scheme === a.scheme && b.id === a.id) === i);
  }

  private version(expected: number, actual: number): void {
    if (expected !== -1 && expected !== actual) throw new Failed(E.BadVersion);
  }

  private get(path: string): MNode {
    const n = this.nodes.get(path);
    if (n === undefined) throw new Failed(E.NoNode);
    return n;
  }

  /** One write, as prepare + apply would do it back to back. */
  write(req: WriteRequest, sessionId: number, ids: readonly Id[], now: number): MResult {
    if (req.type === 'createSession') {
      if (this.sessions.has(req.sessionId)) return { error: E.BadArguments };
      this.sessions.set(req.sessionId, req.timeoutMs);
      this.zxid++;
      return { error: 0 };
    }
    if (req.type === 'closeSession') {
      this.zxid++;
      for (const [p, n] of [...this.nodes]) if (n.kind === 'ephemeral' && n.owner === req.sessionId) this.remove(p);
      this.sessions.delete(req.sessionId);
      return { error: 0 };
    }
    if (!this.sessions.has(sessionId)) return { error: E.SessionExpired };
    if (req.type === 'multi') {
      const copy = this.clone();
      copy.zxid++;
      const results: { error: number; path?: string; stat?: Stat }[] = [];
      for (let i = 0; i < req.ops.length; i++) {
        try {
          results.push({ error: 0, ...copy.op(req.ops[i], sessionId, ids, now) });
        } catch (e) {
          if (!(e instanceof Failed)) throw e;
          return { error: e.code, results: req.ops.map((_, j) => ({ error: j < i ? 0 : j === i ? e.code : E.RuntimeInconsistency })) };
        }
      }
      Object.assign(this, { nodes: copy.nodes, sessions: copy.sessions, zxid: copy.zxid });
      return { error: 0, results };
    }
    try {
      const copy = this.clone();
      copy.zxid++;
      const r = req.type === 'setACL' ? copy.setAcl(req.path, req.acl, req.version, ids) : req.type === 'sync' ? copy.sync(req.path) : copy.op(req, sessionId, ids, now);
      Object.assign(this, { nodes: copy.nodes, sessions: copy.sessions, zxid: copy.zxid });
      return { error: 0, ...r };
    } catch (e) {
      if (!(e instanceof Failed)) throw e;
      return { error: e.code };
    }
  }

  private sync(path: string): object {
    if (!GOOD_PATH.test(path)) throw new Failed(E.BadArguments);
    return {};
  }

  private setAcl(path: string, acl: readonly Acl[], version: number, ids: readonly Id[]): { stat: Stat } {
    if (!GOOD_PATH.test(path)) throw new Failed(E.BadArguments);
    const fixed = this.fixAcl(acl, ids);
    const n = this.get(path);
    if (!this.allowed(n.acl, 16, ids)) throw new Failed(E.NoAuth);
    this.version(version, n.aversion);
    // zook's rule beyond ZooKeeper's: a node that can never be deleted keeps ADMIN for the (non-super) caller.
    if (['/', '/zookeeper', '/zookeeper/config', '/zookeeper/quota'].includes(path) && !this.allowed(fixed, 16, ids)) throw new Failed(E.InvalidACL);
    n.acl = fixed;
    n.aversion++;
    return { stat: this.stat(path) };
  }

  private op(req: MultiOpRequest, sessionId: number, ids: readonly Id[], now: number): { path?: string; stat?: Stat } {
    const zxid = this.zxid;
    switch (req.type) {
      case 'create': {
        const mode: CreateMode = req.mode;
        const seq = mode === 2 || mode === 3 || mode === 6;
        const ttlMode = mode === 5 || mode === 6;
        const ttl = req.ttlMs ?? 0;
        if (mode < 0 || mode > 6) throw new Failed(E.BadArguments);
        if (ttlMode ? ttl <= 0 || ttl > this.maxTtlMs : ttl !== 0) throw new Failed(E.BadArguments);
        if (req.data !== null && req.data.length > this.maxDataBytes) throw new Failed(E.BadArguments);
        if (!GOOD_PATH.test(seq ? req.path + '1' : req.path)) throw new Failed(E.BadArguments);
        const acl = this.fixAcl(req.acl, ids);
        if (req.path === '/' && !seq) throw new Failed(E.NodeExists);
        const parentPath = Model.parent(seq ? req.path + '1' : req.path);
        const parent = this.get(parentPath);
        if (!this.allowed(parent.acl, 4, ids)) throw new Failed(E.NoAuth);
        const path = seq ? req.path + String(parent.created).padStart(10, '0') : req.path;
        if (this.nodes.has(path)) throw new Failed(E.NodeExists);
        if (parent.kind === 'ephemeral') throw new Failed(E.NoChildrenForEphemerals);
        const kind = mode === 1 || mode === 3 ? 'ephemeral' : mode === 4 ? 'container' : ttlMode ? 'ttl' : 'persistent';
        this.nodes.set(path, { data: req.data, acl, czxid: zxid, mzxid: zxid, pzxid: zxid, ctime: now, mtime: now, version: 0, cversion: 0, aversion: 0, owner: kind === 'ephemeral' ? sessionId : 0, kind, ttl: ttlMode ? ttl : 0, created: 0 });
        parent.created++;
        parent.cversion++;
        parent.pzxid = zxid;
        return { path, stat: this.stat(path) };
      }
      case 'delete': {
        if (!GOOD_PATH.test(req.path)) throw new Failed(E.BadArguments);
        // ZooKeeper never deletes the root or its system nodes, whatever the ACL or version.
        if (['/', '/zookeeper', '/zookeeper/config', '/zookeeper/quota'].includes(req.path)) throw new Failed(E.BadArguments);
        // ZooKeeper's order: the parent exists, the parent grants DELETE, then the node exists.
        const parent = this.get(Model.parent(req.path));
        if (!this.allowed(parent.acl, 8, ids)) throw new Failed(E.NoAuth);
        const n = this.get(req.path);
        this.version(req.version, n.version);
        if (this.children(req.path).length > 0) throw new Failed(E.NotEmpty);
        this.remove(req.path);
        return {};
      }
      case 'setData': {
        if (!GOOD_PATH.test(req.path) || (req.data !== null && req.data.length > this.maxDataBytes)) throw new Failed(E.BadArguments);
        const n = this.get(req.path);
        if (!this.allowed(n.acl, 2, ids)) throw new Failed(E.NoAuth);
        this.version(req.version, n.version);
        n.data = req.data;
        n.version++;
        n.mzxid = zxid;
        n.mtime = now;
        return { stat: this.stat(req.path) };
      }
      case 'check': {
        if (!GOOD_PATH.test(req.path)) throw new Failed(E.BadArguments);
        const n = this.get(req.path);
        if (!this.allowed(n.acl, 1, ids)) throw new Failed(E.NoAuth);
        this.version(req.version, n.version);
        return {};
      }
    }
  }

  private remove(path: string): void {
    this.nodes.delete(path);
    const parent = this.nodes.get(Model.parent(path))!;
    parent.cversion++;
    parent.pzxid = Math.max(parent.pzxid, this.zxid);
  }

  /** An expiry delete (a system txn: no session, no ACL). */
  expire(path: string, version: number): number {
    const n = this.nodes.get(path);
    if (n === undefined) return E.NoNode;
    if (n.version !== version) return E.BadVersion;
    if (this.children(path).length > 0) return E.NotEmpty;
    this.zxid++;
    this.remove(path);
    return 0;
  }

  /** Containers that had children and have none; TTL nodes childless and unmodified for over their TTL. */
  expired(now: number): { path: string; version: number }[] {
    return [...this.nodes]
      .filter(([p, n]) => this.children(p).length === 0 && ((n.kind === 'container' && n.cversion > 0) || (n.kind === 'ttl' && now - n.mtime > n.ttl)))
      .map(([path, n]) => ({ path, version: n.version }))
      .sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  read(path: string, ids: readonly Id[]): { error: number; data?: NodeData; stat?: Stat; children?: string[] } {
    const n = this.nodes.get(path);
    if (n === undefined) return { error: E.NoNode };
    if (!this.allowed(n.acl, 1, ids)) return { error: E.NoAuth };
    return { error: 0, data: n.data, stat: this.stat(path), children: this.children(path) };
  }

  aclOf(path: string): Acl[] {
    return this.nodes.get(path)!.acl;
  }
}
