// The Raft host on one server: what it writes to disk and what a restart applies.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { bootstrapEntries } from '../../../src/server/cluster/raft-host.js';
import { resolveConfig } from '../../../src/server/config.js';
import { ZookNode } from '../../../src/server/node.js';
import { NodeStorage } from '../../../src/storage/index.js';
import { OPEN_ACL_UNSAFE, type RequestSession, type WriteRequest } from '../../../src/tree/index.js';

let dir: string;
const system: RequestSession = { id: 0, authIds: [] };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'zook-raft-host-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const session: RequestSession = { id: 77, authIds: [] };

async function write(node: ZookNode, request: WriteRequest): Promise<void> {
  if (!node.tree.sessions.has(session.id)) await submit(node, { type: 'createSession', sessionId: session.id, timeoutMs: 60_000 }, system);
  await submit(node, request, session);
}

async function submit(node: ZookNode, request: WriteRequest, from: RequestSession): Promise<void> {
  const submitted = node.submitWrite(request, from);
  if (submitted.kind !== 'proposed') throw new Error(`not proposed: ${JSON.stringify(submitted)}`);
  await submitted.done;
}

const create = (path: string): WriteRequest => ({ type: 'create', path, data: new Uint8Array(0), acl: OPEN_ACL_UNSAFE, mode: 0 });

test('the hard state is written when term or vote change, not once per commit', async () => {
  const node = await ZookNode.open(resolveConfig({ dataDir: dir }));
  const afterElection = node.raft.counters.hardStateSaves;
  for (let i = 0; i < 50; i++) await write(node, create(`/n${i}`));
  expect(node.raft.counters.hardStateSaves).toBe(afterElection);
  expect(node.raft.counters.entriesPersisted).toBeGreaterThanOrEqual(50);
  await node.close();
});

test('a clean stop saves the commit index, so a restart has every write applied before it serves', async () => {
  const node = await ZookNode.open(resolveConfig({ dataDir: dir }));
  for (let i = 0; i < 20; i++) await write(node, create(`/c${i}`));
  const applied = node.lastApplied;
  await node.close();
  const storage = await NodeStorage.open(dir);
  expect(storage.recovered.hardState.commit).toBe(applied);
  await storage.close();
  const again = await ZookNode.open(resolveConfig({ dataDir: dir }));
  expect(again.lastApplied).toBeGreaterThanOrEqual(applied);
  expect(again.tree.get('/c19')).toBeDefined();
  expect(again.term).toBeGreaterThan(1);
  await again.close();
});

test('a single server leads at once: it does not wait an election timeout', async () => {
  const node = await ZookNode.open(resolveConfig({ dataDir: dir, electionTicks: 1000 }));
  // With a 100 s election timeout, only the immediate campaign of a lone voter can have made it leader.
  expect(node.isLeader).toBe(true);
  expect(node.serving).toBe(true);
  await node.close();
});

test('a saved commit index past the end of the recovered log is taken as a hint: the server starts and applies the log it has', async () => {
  const storage = await NodeStorage.open(dir);
  await storage.log.append(bootstrapEntries({ voters: [1], learners: [] }));
  await storage.hardState.save({ term: 1, vote: 0, commit: 10 });
  await storage.close();
  const node = await ZookNode.open(resolveConfig({ dataDir: dir }));
  expect(node.isLeader).toBe(true);
  expect(node.lastApplied).toBeGreaterThanOrEqual(1);
  await node.close();
  const again = await NodeStorage.open(dir);
  expect(again.recovered.hardState.commit).toBeLessThanOrEqual(again.log.durableIndex());
  await again.close();
});
