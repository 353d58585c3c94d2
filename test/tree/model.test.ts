// Model-based test: long random sequences of writes (every create mode, versions,
// ACLs, multi, sessions opening and closing, expiry sweeps) applied to the tree and
// to the reference model in model.ts; results, errors, Stat fields, data, ACLs and
// children must agree at every step.
import { describe, expect, test } from 'vitest';
import { SeededRandom } from '../../src/util/random.js';
import { exists, findExpired, getAcl, getChildren, getData, prepare, type Stat, type WriteRequest } from '../../src/tree/index.js';
import { seeded } from '../support/seeded.js';
import { Harness } from './harness.js';
import { Model, SUPER } from './model.js';
import { SESSION_IDS, Workload, idsOf } from './workload.js';

const MAX_DATA = 10;
const MAX_TTL = 10_000;

function compareAll(h: Harness, m: Model, step: number): void {
  const treePaths = [...h.tree.nodes.keys()].sort();
  const modelPaths = [...m.nodes.keys()].sort();
  expect(treePaths, `paths at step ${step}`).toEqual(modelPaths);
  const su = { id: 0, authIds: [{ scheme: 'digest', id: SUPER }] };
  for (const path of modelPaths) {
    const e = exists(h.tree, path, su);
    expect(e.error === 0 && e.stat, `stat of ${path} at step ${step}`).toEqual(m.stat(path));
    const d = getData(h.tree, path, su);
    const want = m.read(path, su.authIds).data!;
    expect(d.error === 0 && (d.data === null ? null : [...d.data]), `data of ${path} at step ${step}`).toEqual(want === null ? null : [...want]);
    const c = getChildren(h.tree, path, su);
    expect(c.error === 0 && c.children, `children of ${path} at step ${step}`).toEqual(m.children(path));
    const a = getAcl(h.tree, path, su);
    expect(a.error === 0 && a.acl, `acl of ${path} at step ${step}`).toEqual(m.aclOf(path));
  }
  expect([...h.tree.sessions.keys()].sort(), `sessions at step ${step}`).toEqual([...m.sessions.keys()].sort());
  expect(h.tree.digest, `incremental digest at step ${step}`).toBe(h.tree.recomputeDigest());
}

function strip(stat: Stat | undefined): Stat | undefined {
  return stat;
}

function runModel(rng: SeededRandom, steps: number): void {
  const h = new Harness({ maxDataBytes: MAX_DATA, maxTtlMs: MAX_TTL, superDigest: SUPER });
  const m = new Model(MAX_DATA, MAX_TTL);
  const workload = new Workload(rng, () => [...m.nodes.keys()]);
  for (const id of SESSION_IDS.slice(0, 3)) {
    h.openSession(id);
    m.write({ type: 'createSession', sessionId: id, timeoutMs: 10_000 }, 0, [], h.nowMs);
  }
  for (let step = 0; step < steps; step++) {
    h.nowMs += rng.int(500);
    if (rng.int(25) === 0) {
      // An expiry sweep: the tree's proposal must match the model's, and applying it must agree.
      const txns = findExpired(h.tree, h.nowMs);
      expect(txns.map((t) => (t.type === 'delete' ? { path: t.path, version: t.version } : null)), `expired at step ${step}`).toEqual(m.expired(h.nowMs));
      for (const txn of txns) {
        if (txn.type !== 'delete') continue;
        expect(h.applyTxn(txn).error).toBe(0);
        expect(m.expire(txn.path, txn.version)).toBe(0);
      }
      continue;
    }
    if (rng.int(4) === 0 && m.sessions.size > 0) {
      pipelinedPair(h, m, workload, rng, step);
      continue;
    }
    const request = workload.request();
    const open = [...m.sessions.keys()];
    const session = rng.int(20) === 0 ? 99 : open.length > 0 && rng.int(10) < 9 ? rng.pick(open) : rng.pick(SESSION_IDS);
    const ids = idsOf(session);
    const expected = m.write(request, session, ids, h.nowMs);
    const actual = h.write(request, { id: session, authIds: ids });
    const where = `step ${step}: ${JSON.stringify(request, (_k, v) => (v instanceof Uint8Array ? `bytes(${v.length})` : v))} from session ${session}`;
    expect(actual.error, `error at ${where}`).toBe(expected.error);
    expect(h.zxid, `zxid at ${where}`).toBe(m.zxid);
    if (request.type === 'multi' && expected.results === undefined) {
      expect('multi' in actual && actual.multi !== undefined, `whole-multi failure at ${where}`).toBe(false);
    } else if (request.type === 'multi') {
      const results = actual.error === 0 ? ('value' in actual && actual.value?.type === 'multi' ? actual.value.results : []) : 'multi' in actual ? (actual.multi as { results: unknown[] }).results : 'value' in actual && actual.value?.type === 'multi' ? actual.value.results : [];
      const brief = (results as { type: string; error?: number; path?: string; stat?: Stat }[]).map((r) => ({ error: r.type === 'error' ? r.error : 0, path: r.type === 'create' ? r.path : undefined, stat: strip(r.stat) }));
      expect(brief, `multi results at ${where}`).toEqual(expected.results!.map((r) => ({ error: r.error, path: r.path, stat: r.stat })));
    } else if (actual.error === 0 && 'value' in actual && actual.value !== undefined) {
      const v = actual.value;
      if (v.type === 'create') expect({ path: v.path, stat: v.stat }, `create result at ${where}`).toEqual({ path: expected.path, stat: expected.stat });
      if (v.type === 'setData' || v.type === 'setACL') expect(v.stat, `stat at ${where}`).toEqual(expected.stat);
    }
    // Every step: one random node read back through the read API, as that session.
    const probe = rng.pick([...m.nodes.keys()]);
    const want = m.read(probe, ids);
    const got = getData(h.tree, probe, { id: session, authIds: ids });
    expect(got.error, `read ${probe} at ${where}`).toBe(want.error);
    if (got.error === 0) expect(got.stat).toEqual(want.stat);
    if (step % 50 === 0) compareAll(h, m, step);
  }
  compareAll(h, m, steps);
}

/**
 * A pipelining leader: A and B are both prepared against the same state, then
 * applied in order. B's prepare verdict is the model's answer on that state; if
 * B was accepted, its apply must match the model's answer on the state after A
 * (apply re-checks everything), failing cleanly when A got in its way.
 */
function pipelinedPair(h: Harness, m: Model, workload: Workload, rng: SeededRandom, step: number): void {
  const requests: WriteRequest[] = [];
  while (requests.length < 2) {
    const r = workload.request();
    if (r.type !== 'createSession' && r.type !== 'closeSession') requests.push(r);
  }
  // Aim B at A's node most of the time, with the version it has now, so A often gets in B's way.
  const [a, b] = requests;
  if ('path' in a && 'path' in b && rng.int(10) < 7) {
    const version = m.nodes.get(a.path)?.version ?? 0;
    requests[1] = 'version' in b ? { ...b, path: a.path, version: b.type === 'setACL' ? b.version : version } : { ...b, path: a.path };
  }
  const open = [...m.sessions.keys()];
  const sessions = requests.map(() => rng.pick(open));
  const prepared = requests.map((r, i) => prepare(h.tree, r, { id: sessions[i], authIds: idsOf(sessions[i]) }, h.nowMs));
  const verdicts = requests.map((r, i) => m.clone().write(r, sessions[i], idsOf(sessions[i]), h.nowMs).error);
  for (let i = 0; i < 2; i++) {
    const where = `step ${step} (pipelined ${i}): ${JSON.stringify(requests[i], (_k, v) => (v instanceof Uint8Array ? `bytes(${v.length})` : v))}`;
    const p = prepared[i];
    expect(p.error, `prepare at ${where}`).toBe(verdicts[i]);
    if (p.error !== 0) continue;
    const expected = m.write(requests[i], sessions[i], idsOf(sessions[i]), h.nowMs);
    if (expected.error !== 0) m.zxid++; // a txn that fails at apply still used its log entry
    const actual = h.applyTxn(p.txn);
    expect(actual.error, `apply at ${where}`).toBe(expected.error);
    expect(h.zxid).toBe(m.zxid);
    if (actual.error === 0 && actual.value.type === 'create') expect(actual.value.path, `path at ${where}`).toBe(expected.path);
    if (actual.error !== 0) expect(actual.events).toEqual([]);
  }
}

describe('model-based: the tree agrees with the reference model', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    test(`2,500 random steps (writes, pipelined pairs, expiry sweeps), seed ${seed}`, () => {
      seeded(seed, (rng) => runModel(rng, 2500));
    });
  }
});
