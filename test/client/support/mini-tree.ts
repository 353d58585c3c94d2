// A small in-memory znode tree for the fake server: enough ZooKeeper rules to
// exercise the client (versions, sequential names, ephemerals, multi all-or-none,
// paging), not a reference implementation (src/tree is that).
import { CreateMode, type Acl, type ClientResponse, type OpResult, type Stat, type WriteOp } from '../../../src/protocol/types.js';
import { ErrorCode } from '../../../src/tree/errors.js';
import { SYSTEM_NODES, isUndeletablePath } from '../../../src/tree/system.js';

export interface MiniNode {
  data: Uint8Array;
  acl: Acl[];
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: number;
  children: Set<string>;
  /** Children ever created: the next sequential suffix. */
  created: number;
}

/** A change a watch can see. */
export interface TreeEvent {
  readonly type: 'NodeCreated' | 'NodeDeleted' | 'NodeDataChanged' | 'NodeChildrenChanged';
  readonly path: string;
}

export interface Applied {
  readonly error: number;
  readonly response?: ClientResponse;
  readonly events: readonly TreeEvent[];
}

const fail = (error: number): Applied => ({ error, events: [] });

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}
function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export class MiniTree {
  zxid = 0;
  nodes = new Map<string, MiniNode>();
  private clock = 1_700_000_000_000;

  constructor() {
    // As a zook (and ZooKeeper) server starts: the root and the system nodes
    // /zookeeper, /zookeeper/config, /zookeeper/quota, at zxid 0 and time 0.
    this.nodes.set('/', { ...this.node(new Uint8Array(0), [], 0), ctime: 0, mtime: 0, cversion: -1 });
    for (const system of SYSTEM_NODES) {
      this.nodes.set(system.path, { ...this.node(new Uint8Array(0), [...system.acl], 0), ctime: 0, mtime: 0, cversion: system.cversion, aversion: system.aversion });
      this.nodes.get(parentOf(system.path))!.children.add(nameOf(system.path));
    }
  }

  private node(data: Uint8Array, acl: Acl[], owner: number): MiniNode {
    const t = this.clock++;
    return { data, acl, czxid: this.zxid, mzxid: this.zxid, pzxid: this.zxid, ctime: t, mtime: t, version: 0, cversion: 0, aversion: 0, ephemeralOwner: owner, children: new Set(), created: 0 };
  }

  stat(path: string): Stat | undefined {
    const n = this.nodes.get(path);
    if (n === undefined) return undefined;
    return {
      czxid: n.czxid,
      mzxid: n.mzxid,
      pzxid: n.pzxid,
      ctime: n.ctime,
      mtime: n.mtime,
      version: n.version,
      cversion: n.cversion,
      aversion: n.aversion,
      ephemeralOwner: n.ephemeralOwner,
      dataLength: n.data.length,
      numChildren: n.children.size,
    };
  }

  /** One write op, checked and applied (zxid already advanced by the caller). */
  write(op: WriteOp, session: number): Applied {
    switch (op.op) {
      case 'create': {
        const parentPath = op.path.endsWith('/') && op.path.length > 1 ? op.path.slice(0, -1) : parentOf(op.path);
        const parent = this.nodes.get(parentPath);
        if (parent === undefined) return fail(ErrorCode.NoNode);
        if (parent.ephemeralOwner !== 0) return fail(ErrorCode.NoChildrenForEphemerals);
        const sequential = op.mode === CreateMode.PERSISTENT_SEQUENTIAL || op.mode === CreateMode.EPHEMERAL_SEQUENTIAL || op.mode === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL;
        const path = sequential ? `${op.path}${String(parent.created).padStart(10, '0')}` : op.path;
        if (this.nodes.has(path)) return fail(ErrorCode.NodeExists);
        const ephemeral = op.mode === CreateMode.EPHEMERAL || op.mode === CreateMode.EPHEMERAL_SEQUENTIAL;
        this.nodes.set(path, this.node(op.data ?? new Uint8Array(0), [...op.acl], ephemeral ? session : 0));
        parent.children.add(nameOf(path));
        parent.created++;
        parent.cversion++;
        parent.pzxid = this.zxid;
        const stat = this.stat(path) as Stat;
        return {
          error: 0,
          response: op.returnStat ? { kind: 'create', path, stat } : { kind: 'create', path },
          events: [
            { type: 'NodeCreated', path },
            { type: 'NodeChildrenChanged', path: parentPath },
          ],
        };
      }
      case 'delete': {
        const n = this.nodes.get(op.path);
        if (isUndeletablePath(op.path)) return fail(ErrorCode.BadArguments);
        if (n === undefined) return fail(ErrorCode.NoNode);
        if (op.version !== -1 && op.version !== n.version) return fail(ErrorCode.BadVersion);
        if (n.children.size > 0) return fail(ErrorCode.NotEmpty);
        this.remove(op.path);
        return {
          error: 0,
          response: { kind: 'empty' },
          events: [
            { type: 'NodeDeleted', path: op.path },
            { type: 'NodeChildrenChanged', path: parentOf(op.path) },
          ],
        };
      }
      case 'setData': {
        const n = this.nodes.get(op.path);
        if (n === undefined) return fail(ErrorCode.NoNode);
        if (op.version !== -1 && op.version !== n.version) return fail(ErrorCode.BadVersion);
        n.data = op.data ?? new Uint8Array(0);
        n.version++;
        n.mzxid = this.zxid;
        n.mtime = this.clock++;
        return { error: 0, response: { kind: 'stat', stat: this.stat(op.path) as Stat }, events: [{ type: 'NodeDataChanged', path: op.path }] };
      }
      case 'check': {
        const n = this.nodes.get(op.path);
        if (n === undefined) return fail(ErrorCode.NoNode);
        if (op.version !== -1 && op.version !== n.version) return fail(ErrorCode.BadVersion);
        return { error: 0, response: { kind: 'empty' }, events: [] };
      }
    }
  }

  remove(path: string): void {
    this.nodes.delete(path);
    const parent = this.nodes.get(parentOf(path));
    if (parent !== undefined) {
      parent.children.delete(nameOf(path));
      parent.cversion++;
      parent.pzxid = this.zxid;
    }
  }

  /** All ops or none (ZooKeeper's per-op results on failure). */
  multi(ops: readonly WriteOp[], session: number): Applied {
    const saved = this.clone();
    const events: TreeEvent[] = [];
    const results: OpResult[] = [];
    for (let i = 0; i < ops.length; i++) {
      const r = this.write(ops[i], session);
      if (r.error !== 0) {
        this.nodes = saved;
        const failed = ops.map((_, j): OpResult => (j < i ? { error: 0 } : j === i ? { error: r.error } : { error: ErrorCode.RuntimeInconsistency }));
        return { error: r.error, response: { kind: 'multi', results: failed }, events: [] };
      }
      results.push(r.response === undefined ? { error: 0 } : { error: 0, response: r.response });
      events.push(...r.events);
    }
    return { error: 0, response: { kind: 'multi', results }, events };
  }

  getData(path: string): Applied {
    const n = this.nodes.get(path);
    if (n === undefined) return fail(ErrorCode.NoNode);
    return { error: 0, response: { kind: 'data', data: n.data, stat: this.stat(path) as Stat }, events: [] };
  }

  getChildren(path: string, withStat: boolean, after: string, limit: number): Applied {
    const n = this.nodes.get(path);
    if (n === undefined) return fail(ErrorCode.NoNode);
    let children = [...n.children];
    let nextAfter: string | undefined;
    if (limit > 0) {
      children = children.sort().filter((c) => after === '' || c > after);
      if (children.length > limit) {
        children = children.slice(0, limit);
        nextAfter = children[children.length - 1];
      }
    }
    return {
      error: 0,
      response: { kind: 'children', children, ...(withStat ? { stat: this.stat(path) as Stat } : {}), ...(nextAfter === undefined ? {} : { nextAfter }) },
      events: [],
    };
  }

  private clone(): Map<string, MiniNode> {
    const copy = new Map<string, MiniNode>();
    for (const [p, n] of this.nodes) copy.set(p, { ...n, children: new Set(n.children) });
    return copy;
  }
}
