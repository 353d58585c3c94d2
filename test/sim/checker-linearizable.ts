// Linearizability checker for a history of register operations (put / get), one
// key at a time (linearizability is compositional): Wing & Gong's search as
// improved by Lowe and used by Knossos/Porcupine, with memoization of
// (set of linearized operations, register value) states already explored.
import type { HistoryOp } from './history.js';

export interface CheckOp {
  readonly id: number;
  readonly kind: 'put' | 'get';
  readonly value: number;
  readonly invoke: number;
  /** null: the outcome is unknown (a put that may or may not have happened). */
  readonly complete: number | null;
  /** For reports only: who asked which server. */
  readonly client?: number;
  readonly node?: number;
}

function show(o: CheckOp): string {
  const who = o.client === undefined ? '' : ` client ${o.client} via node ${o.node}`;
  return `op ${o.id}${who}: ${o.kind} ${o.value} [${o.invoke}..${o.complete ?? '?'}]`;
}

export type CheckResult =
  | { readonly ok: true; readonly explored: number }
  | { readonly ok: false; readonly explored: number; readonly reason: string; readonly opId?: number }
  | { readonly ok: 'unknown'; readonly explored: number; readonly reason: string };

/** Checks one register's history; initialValue is the register's value before any op. */
export function checkRegister(ops: readonly CheckOp[], initialValue = 0, maxExplored = 2_000_000): CheckResult {
  const r = searchRegister(ops, initialValue, maxExplored);
  if (r.ok !== false) return r;
  const why = describeFailure(ops, initialValue);
  return { ok: false, explored: r.explored, reason: why.text, opId: why.opId };
}

function searchRegister(ops: readonly CheckOp[], initialValue: number, maxExplored: number): CheckResult {
  // Reads without a response never took effect: leave them out.
  const list = ops.filter((o) => o.kind === 'put' || o.complete !== null).slice();
  list.sort((a, b) => a.invoke - b.invoke);
  const n = list.length;
  const mustCount = list.filter((o) => o.complete !== null).length;
  const done = new Uint8Array(n);
  const words = new Uint32Array(Math.ceil(n / 32) + 1);
  const memo = new Set<string>();
  let explored = 0;
  let aborted = false;
  let linearizedMust = 0;

  const stateKey = (value: number): string => `${value}:${words.join(',')}`;

  const search = (value: number): boolean => {
    if (linearizedMust === mustCount) return true;
    if (explored++ > maxExplored) {
      aborted = true;
      return false;
    }
    const key = stateKey(value);
    if (memo.has(key)) return false;
    // The first response among pending completed ops bounds which ops may go next.
    let minComplete = Infinity;
    for (let i = 0; i < n; i++) {
      const c = list[i].complete;
      if (done[i] === 0 && c !== null && c < minComplete) minComplete = c;
    }
    for (let i = 0; i < n; i++) {
      if (done[i] !== 0) continue;
      const op = list[i];
      if (op.invoke > minComplete) break; // sorted by invoke: nothing later can go first
      if (op.kind === 'get' && op.value !== value) continue;
      const next = op.kind === 'put' ? op.value : value;
      done[i] = 1;
      words[i >> 5] |= 1 << (i & 31);
      if (op.complete !== null) linearizedMust++;
      if (search(next)) return true;
      done[i] = 0;
      words[i >> 5] &= ~(1 << (i & 31));
      if (op.complete !== null) linearizedMust--;
      if (aborted) return false;
    }
    memo.add(key);
    return false;
  };

  const ok = search(initialValue);
  if (ok) return { ok: true, explored };
  if (aborted) return { ok: 'unknown', explored, reason: `gave up after ${maxExplored} states` };
  return { ok: false, explored, reason: 'no linearization' };
}

/** A short explanation: the longest prefix (by response time) that still linearizes, and the op after it. */
function describeFailure(ops: readonly CheckOp[], initialValue: number): { text: string; opId?: number } {
  const list = ops.filter((o) => o.kind === 'put' || o.complete !== null);
  const completed = list.filter((o) => o.complete !== null).sort((a, b) => (a.complete ?? 0) - (b.complete ?? 0));
  let lo = 0;
  let hi = completed.length;
  // binary search the first completed op whose inclusion breaks linearizability (ops before their cut only)
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const cut = completed[mid].complete ?? 0;
    const prefix = list.filter((o) => o.invoke <= cut).map((o) => (o.complete !== null && o.complete > cut ? { ...o, complete: null } : o));
    const r = searchRegister(prefix, initialValue, 200_000);
    if (r.ok === false) hi = mid;
    else lo = mid + 1;
  }
  const bad = completed[Math.min(lo, completed.length - 1)];
  if (bad === undefined) return { text: 'no linearization' };
  // Context: what completed just before it was invoked, and what overlapped it.
  const before = list.filter((o) => o.complete !== null && o.complete < bad.invoke).sort((a, b) => (a.complete ?? 0) - (b.complete ?? 0)).slice(-4);
  const overlapping = list.filter((o) => o !== bad && o.invoke < (bad.complete ?? Infinity) && (o.complete === null || o.complete > bad.invoke));
  const text = [
    `no linearization once ${show(bad)} is included`,
    `  completed just before it: ${before.map(show).join('; ') || 'none'}`,
    `  concurrent with it (latest first): ${overlapping.sort((a, b) => b.invoke - a.invoke).slice(0, 6).map(show).join('; ') || 'none'}`,
  ].join('\n');
  return { text, opId: bad.id };
}

export interface HistoryCheck {
  readonly ok: boolean;
  readonly keys: number;
  readonly ops: number;
  readonly explored: number;
  readonly unknownKeys: number;
  readonly failure: string | null;
  /** The operation that cannot be linearized, when one was found. */
  readonly failingOp: number | null;
}

/** Checks a whole client history, key by key. */
export function checkHistory(history: readonly HistoryOp[]): HistoryCheck {
  const byKey = new Map<number, CheckOp[]>();
  let count = 0;
  for (const op of history) {
    if (op.status === 'failed' || op.status === 'pending') continue; // pending: treat as unknown below
    const list = byKey.get(op.key) ?? [];
    byKey.set(op.key, list);
    list.push({ id: op.id, kind: op.kind, value: op.value, invoke: op.invoke, complete: op.status === 'ok' ? op.complete : null, client: op.client, node: op.node });
    count++;
  }
  for (const op of history) {
    if (op.status !== 'pending' || op.kind !== 'put') continue;
    const list = byKey.get(op.key) ?? [];
    byKey.set(op.key, list);
    list.push({ id: op.id, kind: op.kind, value: op.value, invoke: op.invoke, complete: null, client: op.client, node: op.node });
    count++;
  }
  let explored = 0;
  let unknownKeys = 0;
  for (const key of [...byKey.keys()].sort((a, b) => a - b)) {
    const r = checkRegister(byKey.get(key) ?? []);
    explored += r.explored;
    if (r.ok === false) return { ok: false, keys: byKey.size, ops: count, explored, unknownKeys, failure: `key ${key}: ${r.reason}`, failingOp: r.opId ?? null };
    if (r.ok === 'unknown') unknownKeys++;
  }
  return { ok: true, keys: byKey.size, ops: count, explored, unknownKeys, failure: null, failingOp: null };
}
