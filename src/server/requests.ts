// Translation between the client protocol (src/protocol) and the tree (src/tree):
// which protocol requests are writes, what tree request each becomes, and how tree
// results and read outcomes become protocol responses. No rules live here: the
// tree decides, this file only reshapes.
import type { ClientRequest, ClientResponse, OpResult, Stat, WriteOp } from '../protocol/index.js';
import {
  AddWatchMode,
  CreateMode,
  WatcherType,
  digestId,
  exists,
  getAcl,
  getAllChildrenNumber,
  getChildren,
  getData,
  getEphemerals,
  multiRead,
  ErrorCode,
  type Applied,
  type MultiOpRequest,
  type MultiOpResult,
  type RequestSession,
  type TxnResult,
  type WatchRegistry,
  type WriteRequest,
} from '../tree/index.js';

export interface Answer {
  readonly error: number;
  readonly response?: ClientResponse;
}

const WRITE_OPS: ReadonlySet<ClientRequest['op']> = new Set(['create', 'delete', 'setData', 'setACL', 'sync', 'multi']);

export function isWrite(request: ClientRequest): boolean {
  return WRITE_OPS.has(request.op);
}

function isTtl(mode: number): boolean {
  return mode === CreateMode.PersistentWithTtl || mode === CreateMode.PersistentSequentialWithTtl;
}

function multiOp(op: WriteOp): MultiOpRequest {
  switch (op.op) {
    case 'create':
      return { type: 'create', path: op.path, data: op.data, acl: op.acl, mode: op.mode, ...(isTtl(op.mode) ? { ttlMs: op.ttlMs } : {}) };
    case 'delete':
      return { type: 'delete', path: op.path, version: op.version };
    case 'setData':
      return { type: 'setData', path: op.path, data: op.data, version: op.version };
    case 'check':
      return { type: 'check', path: op.path, version: op.version };
  }
}

/** The tree request for a protocol write (isWrite(request) must hold). */
export function toWriteRequest(request: ClientRequest): WriteRequest {
  switch (request.op) {
    case 'create':
    case 'delete':
    case 'setData':
      // A create, delete or setData maps to the request of the same type, never to a check.
      return multiOp(request) as Exclude<MultiOpRequest, { type: 'check' }>;
    case 'setACL':
      return { type: 'setACL', path: request.path, acl: request.acl, version: request.version };
    case 'sync':
      return { type: 'sync', path: request.path };
    case 'multi':
      return { type: 'multi', ops: request.ops.map(multiOp) };
    default:
      throw new Error(`toWriteRequest: ${request.op} is not a write`);
  }
}

function multiResult(result: MultiOpResult, stats: boolean): OpResult {
  switch (result.type) {
    case 'create':
      return { error: 0, response: stats ? { kind: 'create', path: result.path, stat: result.stat } : { kind: 'create', path: result.path } };
    case 'setData':
      return { error: 0, response: { kind: 'stat', stat: result.stat } };
    case 'delete':
    case 'check':
      return { error: 0, response: { kind: 'empty' } };
    case 'error':
      return result.error === 0 ? { error: 0 } : { error: result.error };
  }
}

function txnResponse(request: ClientRequest, value: TxnResult): ClientResponse {
  switch (value.type) {
    case 'create':
      return request.op === 'create' && request.returnStat ? { kind: 'create', path: value.path, stat: value.stat } : { kind: 'create', path: value.path };
    case 'setData':
    case 'setACL':
      return { kind: 'stat', stat: value.stat };
    case 'sync':
      return { kind: 'sync', path: value.path };
    case 'multi':
      return { kind: 'multi', results: value.results.map((r) => multiResult(r, true)) };
    default:
      return { kind: 'empty' };
  }
}

/** The answer to a write the log applied. */
export function appliedAnswer(request: ClientRequest, applied: Applied): Answer {
  if (applied.error === 0) return { error: 0, response: txnResponse(request, applied.value) };
  if (applied.value !== undefined) return { error: applied.error, response: { kind: 'multi', results: applied.value.results.map((r) => multiResult(r, true)) } };
  return { error: applied.error };
}

/** The answer to a write prepare refused (a failed multi still lists every op's outcome). */
export function rejectedAnswer(error: number, multi?: { readonly results: readonly MultiOpResult[] }): Answer {
  return multi === undefined ? { error } : { error, response: { kind: 'multi', results: multi.results.map((r) => multiResult(r, true)) } };
}

export interface ReadContext {
  readonly session: RequestSession;
  readonly watches: WatchRegistry;
}

const statResponse = (stat: Stat): ClientResponse => ({ kind: 'stat', stat });

/** Serves a read from the local tree (with watch registration); undefined if `request` is not a tree read. */
export function executeRead(tree: Parameters<typeof exists>[0], request: ClientRequest, ctx: ReadContext): Answer | undefined {
  const watch = { registry: ctx.watches, watcher: ctx.session.id };
  switch (request.op) {
    case 'exists': {
      const r = exists(tree, request.path, ctx.session, request.watch ? watch : undefined);
      return r.error === 0 ? { error: 0, response: statResponse(r.stat) } : { error: r.error };
    }
    case 'getData': {
      const r = getData(tree, request.path, ctx.session, request.watch ? watch : undefined);
      return r.error === 0 ? { error: 0, response: { kind: 'data', data: r.data, stat: r.stat } } : { error: r.error };
    }
    case 'getChildren': {
      const page = request.limit > 0 || request.after !== '' ? { ...(request.after === '' ? {} : { after: request.after }), ...(request.limit > 0 ? { limit: request.limit } : {}) } : undefined;
      const r = getChildren(tree, request.path, ctx.session, request.watch ? watch : undefined, page);
      if (r.error !== 0) return { error: r.error };
      return {
        error: 0,
        response: { kind: 'children', children: r.children, ...(request.withStat ? { stat: r.stat } : {}), ...(r.next === undefined ? {} : { nextAfter: r.next }) },
      };
    }
    case 'getAllChildrenNumber': {
      const r = getAllChildrenNumber(tree, request.path, ctx.session);
      return r.error === 0 ? { error: 0, response: { kind: 'count', count: r.count } } : { error: r.error };
    }
    case 'getEphemerals': {
      const r = getEphemerals(tree, ctx.session.id, request.prefix === '' ? '/' : request.prefix);
      return r.error === 0 ? { error: 0, response: { kind: 'paths', paths: r.paths } } : { error: r.error };
    }
    case 'getACL': {
      const r = getAcl(tree, request.path, ctx.session);
      return r.error === 0 ? { error: 0, response: { kind: 'acl', acl: r.acl, stat: r.stat } } : { error: r.error };
    }
    case 'multiRead': {
      const ops = request.ops.map((op) => ({ type: op.op, path: op.path }));
      const r = multiRead(tree, ops, ctx.session);
      if (r.error !== 0) return { error: r.error };
      const results: OpResult[] = r.results.map((result) => {
        if (result.type === 'error') return { error: result.error };
        if (result.type === 'getData') return { error: 0, response: { kind: 'data', data: result.data, stat: result.stat } };
        return { error: 0, response: { kind: 'children', children: result.children } };
      });
      return { error: 0, response: { kind: 'multi', results } };
    }
    case 'addWatch': {
      const mode = request.mode === 1 ? AddWatchMode.PersistentRecursive : AddWatchMode.Persistent;
      ctx.watches.addPersistentWatch(request.path, ctx.session.id, mode);
      return { error: 0, response: { kind: 'empty' } };
    }
    case 'removeWatches': {
      const type = request.watcherType === 1 ? WatcherType.Children : request.watcherType === 2 ? WatcherType.Data : WatcherType.Any;
      const removed = ctx.watches.removeWatches(request.path, ctx.session.id, type);
      return removed ? { error: 0, response: { kind: 'empty' } } : { error: ErrorCode.NoWatcher };
    }
    case 'whoAmI':
      return { error: 0, response: { kind: 'whoAmI', ids: ctx.session.authIds } };
    case 'ping':
      return { error: 0, response: { kind: 'empty' } };
    default:
      return undefined;
  }
}

/** The id an addAuth adds, or null when the scheme or credentials are not accepted. */
export function authIdOf(scheme: string, auth: Uint8Array): { scheme: string; id: string } | null {
  if (scheme !== 'digest') return null;
  const text = new TextDecoder().decode(auth);
  const colon = text.indexOf(':');
  if (colon <= 0) return null;
  return { scheme: 'digest', id: digestId(text.slice(0, colon), text.slice(colon + 1)) };
}
