// The record of client invocations and responses that the linearizability checker reads.

export type OpKind = 'put' | 'get';

export interface HistoryOp {
  readonly id: number;
  readonly client: number;
  readonly key: number;
  readonly kind: OpKind;
  /** put: the value written; get: the value read (set on completion). */
  value: number;
  /** Logical time of the invocation (a global event sequence number). */
  readonly invoke: number;
  /** Logical time of the response; null while pending or when the outcome is unknown. */
  complete: number | null;
  status: 'pending' | 'ok' | 'failed' | 'unknown';
  node: number;
  /** Simulated time of the invocation and of the response (for traces). */
  readonly invokedAt: number;
  completedAt: number | null;
}

export class History {
  readonly ops: HistoryOp[] = [];
  private clock = 0;

  now(): number {
    return ++this.clock;
  }

  invoke(client: number, key: number, kind: OpKind, value: number, node: number, simTime = 0): HistoryOp {
    const op: HistoryOp = { id: this.ops.length + 1, client, key, kind, value, invoke: this.now(), complete: null, status: 'pending', node, invokedAt: simTime, completedAt: null };
    this.ops.push(op);
    return op;
  }

  ok(op: HistoryOp, value?: number, simTime = 0): void {
    if (op.status !== 'pending') return;
    op.completedAt = simTime;
    op.status = 'ok';
    if (value !== undefined) op.value = value;
    op.complete = this.now();
  }

  /** The operation definitely did not take effect. */
  fail(op: HistoryOp): void {
    if (op.status !== 'pending') return;
    op.status = 'failed';
  }

  /** The client gave up without knowing whether the operation took effect. */
  unknown(op: HistoryOp): void {
    if (op.status !== 'pending') return;
    op.status = 'unknown';
  }
}
