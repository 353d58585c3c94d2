// A tiny server stand-in for tree tests: prepare on the "leader", the txn through
// the codec (as the log would carry it), apply with the next zxid.
import {
  DataTree,
  WatchRegistry,
  apply,
  decodeTxn,
  encodeTxn,
  prepare,
  OPEN_ACL_UNSAFE,
  CreateMode,
  type Acl,
  type Applied,
  type Id,
  type MultiOpRequest,
  type RequestSession,
  type TreeOptions,
  type WriteRequest,
  type Txn,
} from '../../src/tree/index.js';
import type { FailureCode } from '../../src/tree/errors.js';

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

export type WriteOutcome = Applied | { readonly error: FailureCode; readonly stage: 'prepare'; readonly multi?: unknown; readonly events: readonly [] };

export class Harness {
  readonly tree: DataTree;
  readonly watches = new WatchRegistry();
  zxid = 0;
  nowMs = 1_000_000;
  readonly txns: Txn[] = [];

  constructor(options: Partial<TreeOptions> = {}) {
    this.tree = new DataTree(options);
  }

  session(id: number, authIds: readonly Id[] = []): RequestSession {
    return { id, authIds };
  }

  /** Prepares and applies; a prepare error is returned as it is. */
  write(request: WriteRequest, session: RequestSession = { id: 1, authIds: [] }): WriteOutcome {
    const prepared = prepare(this.tree, request, session, this.nowMs);
    if (prepared.error !== 0) return { ...prepared, stage: 'prepare', events: [] };
    return this.applyTxn(prepared.txn);
  }

  applyTxn(txn: Txn): Applied {
    const logged = decodeTxn(encodeTxn(txn), this.tree.options);
    this.txns.push(logged);
    return apply(this.tree, logged, ++this.zxid, this.watches);
  }

  openSession(id: number, timeoutMs = 10_000): void {
    const r = this.write({ type: 'createSession', sessionId: id, timeoutMs });
    if (r.error !== 0) throw new Error(`createSession ${id} failed: ${r.error}`);
  }

  create(path: string, data = '', mode: CreateMode = CreateMode.Persistent, session?: RequestSession, acl: readonly Acl[] = OPEN_ACL_UNSAFE, ttlMs?: number): WriteOutcome {
    return this.write({ type: 'create', path, data: bytes(data), acl, mode, ttlMs }, session);
  }

  /** Creates and returns the final path, throwing on failure (for setting up a test). */
  mustCreate(path: string, data = '', mode: CreateMode = CreateMode.Persistent, session?: RequestSession, acl: readonly Acl[] = OPEN_ACL_UNSAFE): string {
    const r = this.create(path, data, mode, session, acl);
    if (r.error !== 0 || !('value' in r) || r.value?.type !== 'create') throw new Error(`create ${path} failed: ${r.error}`);
    return r.value.path;
  }

  delete(path: string, version = -1, session?: RequestSession): WriteOutcome {
    return this.write({ type: 'delete', path, version }, session);
  }

  setData(path: string, data: string, version = -1, session?: RequestSession): WriteOutcome {
    return this.write({ type: 'setData', path, data: bytes(data), version }, session);
  }

  multi(ops: readonly MultiOpRequest[], session?: RequestSession): WriteOutcome {
    return this.write({ type: 'multi', ops }, session);
  }
}

/** A harness with session 1 open, the default for most tests. */
export function harness(options: Partial<TreeOptions> = {}): Harness {
  const h = new Harness(options);
  h.openSession(1);
  return h;
}
