// The mapping between the promise API's arguments and the protocol's requests and
// replies: pure functions, no I/O.
import { CreateMode, type ClientResponse, type CreateModeName, type CreateOp, type Stat, type WriteOp } from '../protocol/types.js';
import { ErrorCode, errorName } from '../protocol/error-codes.js';
import { isValidPath, isValidSequentialPrefix } from '../tree/paths.js';
import { isSequentialMode } from '../tree/types.js';
import { OPEN_ACL_UNSAFE } from './acl.js';
import { ZookError, type MultiOpOutcome, type ZookErrorCode } from './errors.js';
import type { ReplyFrame } from './requests.js';
import type { CreateOptions, Data, MultiOp, MultiReadResult, MultiResult } from './types.js';

const utf8 = new TextEncoder();

export function toBytes(data: Data | null | undefined): Uint8Array {
  if (data === null || data === undefined) return new Uint8Array(0);
  return typeof data === 'string' ? utf8.encode(data) : data;
}

function createMode(mode: CreateModeName | undefined): CreateOp['mode'] {
  const name = mode ?? 'PERSISTENT';
  const n = CreateMode[name];
  if (n === undefined) throw new TypeError(`unknown create mode "${String(mode)}"; expected one of ${Object.keys(CreateMode).join(', ')}`);
  return n;
}

export function createOp(path: string, data: Data | null | undefined, options: Omit<CreateOptions, 'stat'>, returnStat: boolean): CreateOp {
  return {
    op: 'create',
    path,
    data: toBytes(data),
    acl: options.acl ?? OPEN_ACL_UNSAFE,
    mode: createMode(options.mode),
    ttlMs: options.ttlMs ?? 0,
    returnStat,
  };
}

export function writeOp(op: MultiOp): WriteOp {
  switch (op.op) {
    case 'create':
      return createOp(op.path, op.data, op, false);
    case 'delete':
      return { op: 'delete', path: op.path, version: op.version ?? -1 };
    case 'setData':
      return { op: 'setData', path: op.path, data: toBytes(op.data), version: op.version ?? -1 };
    case 'check':
      return { op: 'check', path: op.path, version: op.version };
    default:
      throw new TypeError(`unknown multi op "${String((op as { op: unknown }).op)}"`);
  }
}

/**
 * A multi's paths, checked before anything is sent, as ZooKeeper's Java client
 * does (3.8, ZooKeeper.multi(ops, cb, ctx) -> validatePath(ops)): each op runs
 * Op.validate(), i.e. PathUtils.validatePath(path), of `path + "1"` for a
 * sequential create; if any op fails, the multi fails whole with BADARGUMENTS and
 * one ErrorResult per op, BadArguments for every invalid op and
 * RuntimeInconsistency for every other, and no request goes out. (Java's
 * synchronous multi(ops) throws IllegalArgumentException instead; a promise is the
 * callback form.) Measured on ZooKeeper 3.8: an invalid path in op 1 fails the
 * multi at op 1 even when op 0 would have failed on the server with BadVersion.
 * The validator is the tree's (ZooKeeper's rules char for char); the client
 * applies no byte limit (as ZooKeeper's client), the server applies its own.
 */
export function checkMultiPaths(ops: readonly WriteOp[]): void {
  const invalid = ops.map((op) => !isValidOpPath(op));
  const first = invalid.indexOf(true);
  if (first < 0) return;
  const results = ops.map((op, i): MultiOpOutcome => {
    const errno = invalid[i] ? ErrorCode.BadArguments : ErrorCode.RuntimeInconsistency;
    return { op: op.op, path: op.path, code: errorName(errno) as ZookErrorCode, errno };
  });
  const op = ops[first];
  throw new ZookError(ErrorCode.BadArguments, `multi: op ${first} (${op.op}) has an invalid path; nothing was sent`, { path: op.path, results });
}

function isValidOpPath(op: WriteOp): boolean {
  if (typeof op.path !== 'string') return false;
  return op.op === 'create' && isSequentialMode(op.mode) ? isValidSequentialPrefix(op.path, Infinity) : isValidPath(op.path, Infinity);
}

/** The error a reply carries, as a ZookError; undefined for Ok. */
export function replyError(reply: ReplyFrame, path: string | undefined): ZookError | undefined {
  if (reply.error === ErrorCode.Ok) return undefined;
  return new ZookError(reply.error, undefined, path === undefined ? {} : { path });
}

/** The reply's response when it is of the expected kind; a MarshallingError otherwise. */
export function expectResponse<K extends ClientResponse['kind']>(reply: ReplyFrame, kind: K, path: string | undefined): Extract<ClientResponse, { kind: K }> {
  const r = reply.response;
  if (r === undefined || r.kind !== kind) {
    throw new ZookError(ErrorCode.MarshallingError, `expected a ${kind} response, got ${r === undefined ? 'none' : r.kind}`, path === undefined ? {} : { path });
  }
  return r as Extract<ClientResponse, { kind: K }>;
}

export function expectStat(stat: Stat | undefined, path: string): Stat {
  if (stat === undefined) throw new ZookError(ErrorCode.MarshallingError, 'the reply has no Stat', { path });
  return stat;
}

/**
 * A multi's reply as results, or the ZookError of a failed multi. The failing op
 * is the first whose error is neither Ok nor RuntimeInconsistency (ZooKeeper marks
 * the ops after the failing one RuntimeInconsistency).
 */
export function multiResults(ops: readonly WriteOp[], reply: ReplyFrame): MultiResult[] {
  const response = reply.response?.kind === 'multi' ? reply.response : undefined;
  const results = response?.results ?? [];
  const failedAt = results.findIndex((r) => r.error !== ErrorCode.Ok && r.error !== ErrorCode.RuntimeInconsistency);
  const anyFailed = failedAt >= 0 || results.some((r) => r.error !== ErrorCode.Ok);
  if (reply.error !== ErrorCode.Ok || anyFailed) {
    const errno = failedAt >= 0 ? results[failedAt].error : reply.error !== ErrorCode.Ok ? reply.error : ErrorCode.RuntimeInconsistency;
    const outcomes: MultiOpOutcome[] | undefined =
      response === undefined
        ? undefined
        : ops.map((op, i) => {
            const e = results[i]?.error ?? ErrorCode.RuntimeInconsistency;
            return { op: op.op, path: op.path, code: e === ErrorCode.Ok ? 'Ok' : (errorName(e) as ZookErrorCode), errno: e };
          });
    const path = failedAt >= 0 ? ops[failedAt]?.path : undefined;
    const which = failedAt >= 0 ? `op ${failedAt} (${ops[failedAt]?.op}) failed; nothing was applied` : 'nothing was applied';
    throw new ZookError(errno, `multi: ${which}`, { ...(path === undefined ? {} : { path }), ...(outcomes === undefined ? {} : { results: outcomes }) });
  }
  if (results.length !== ops.length) throw new ZookError(ErrorCode.MarshallingError, `multi: ${ops.length} ops but ${results.length} results`);
  return ops.map((op, i): MultiResult => {
    const r = results[i].response;
    switch (op.op) {
      case 'create':
        return r?.kind === 'create' ? { op: 'create', path: r.path, ...(r.stat === undefined ? {} : { stat: r.stat }) } : { op: 'create', path: op.path };
      case 'setData':
        return { op: 'setData', stat: expectStat(r?.kind === 'stat' ? r.stat : undefined, op.path) };
      case 'delete':
        return { op: 'delete' };
      case 'check':
        return { op: 'check' };
    }
  });
}

export function multiReadResults(ops: readonly { op: 'getData' | 'getChildren'; path: string }[], reply: ReplyFrame): MultiReadResult[] {
  const error = replyError(reply, undefined);
  if (error !== undefined) throw error;
  const { results } = expectResponse(reply, 'multi', undefined);
  if (results.length !== ops.length) throw new ZookError(ErrorCode.MarshallingError, `multiRead: ${ops.length} ops but ${results.length} results`);
  return ops.map((op, i): MultiReadResult => {
    const r = results[i];
    if (r.error !== ErrorCode.Ok) return { op: op.op, error: new ZookError(r.error, undefined, { path: op.path }) };
    const resp = r.response;
    if (op.op === 'getData' && resp?.kind === 'data') return { op: 'getData', data: resp.data ?? new Uint8Array(0), stat: resp.stat };
    if (op.op === 'getChildren' && resp?.kind === 'children') return { op: 'getChildren', children: [...resp.children] };
    return { op: op.op, error: new ZookError(ErrorCode.MarshallingError, `unexpected ${resp?.kind ?? 'missing'} result`, { path: op.path }) };
  });
}
