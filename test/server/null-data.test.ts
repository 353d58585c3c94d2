// Null data (ZooKeeper's null buffer) on one node, in process: it goes into the Raft
// log and snapshots, and a restart (WAL replay, or snapshot + WAL) still answers null.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { resolveConfig } from '../../src/server/config.js';
import { ZookNode } from '../../src/server/node.js';
import { OPEN_ACL_UNSAFE, getData, type CreateRequest, type NodeData, type RequestSession, type WriteRequest } from '../../src/tree/index.js';

let dir: string;
let node: ZookNode | undefined;
const system: RequestSession = { id: 0, authIds: [] };
const session: RequestSession = { id: 7, authIds: [] };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'zook-null-data-'));
});

afterEach(async () => {
  await node?.close();
  node = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function open(settings: { snapshotEveryEntries?: number } = {}): Promise<ZookNode> {
  node = await ZookNode.open(resolveConfig({ dataDir: dir, ...settings }));
  return node;
}

async function write(n: ZookNode, request: WriteRequest, as: RequestSession = session): Promise<void> {
  const submitted = n.submitWrite(request, as);
  if (submitted.kind !== 'proposed') throw new Error(`not proposed: ${JSON.stringify(submitted)}`);
  const outcome = await submitted.done;
  expect(outcome.kind === 'applied' ? outcome.applied.error : outcome.error, `${request.type} failed`).toBe(0);
}

const create = (path: string, data: NodeData): CreateRequest => ({ type: 'create', path, data, acl: OPEN_ACL_UNSAFE, mode: 0 });

/** The data as text ('' for empty bytes), or null for null data. */
function dataOf(n: ZookNode, path: string): string | null | undefined {
  const r = getData(n.tree, path, session);
  if (r.error !== 0) return undefined;
  return r.data === null ? null : Buffer.from(r.data).toString('latin1');
}

async function writeNullData(n: ZookNode): Promise<void> {
  await write(n, { type: 'createSession', sessionId: session.id, timeoutMs: 60_000 }, system);
  await write(n, create('/null', null));
  await write(n, create('/empty', new Uint8Array(0)));
  await write(n, create('/set', Buffer.from('bytes')));
  await write(n, { type: 'setData', path: '/set', data: null, version: -1 });
  await write(n, { type: 'multi', ops: [create('/multi', null)] });
}

const EXPECTED = { '/null': null, '/empty': '', '/set': null, '/multi': null };
const readAll = (n: ZookNode) => Object.fromEntries(Object.keys(EXPECTED).map((p) => [p, dataOf(n, p)]));

test('null data survives a restart that replays the WAL', async () => {
  const first = await open();
  await writeNullData(first);
  expect(readAll(first)).toEqual(EXPECTED);
  expect(first.counters.snapshots).toBe(0);
  const digest = first.tree.digest;
  await first.close();
  node = undefined;
  const second = await open();
  expect(readAll(second)).toEqual(EXPECTED);
  expect(second.tree.digest).toBe(digest);
});

test('null data survives a restart from a snapshot', async () => {
  const first = await open({ snapshotEveryEntries: 3 });
  await writeNullData(first);
  expect(first.counters.snapshots).toBeGreaterThan(0);
  const digest = first.tree.digest;
  await first.close();
  node = undefined;
  const second = await open({ snapshotEveryEntries: 3 });
  expect(readAll(second)).toEqual(EXPECTED);
  expect(second.tree.digest).toBe(digest);
});
