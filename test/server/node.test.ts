// The write path of one node, in process: prepare's "no" while other writes are in
// flight is deferred once, and only once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { resolveConfig } from '../../src/server/config.js';
import { ZookNode } from '../../src/server/node.js';
import { ErrorCode, OPEN_ACL_UNSAFE, type RequestSession, type WriteRequest } from '../../src/tree/index.js';

let dir: string;
let node: ZookNode;
const system: RequestSession = { id: 0, authIds: [] };

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'zook-node-'));
  node = await ZookNode.open(resolveConfig({ dataDir: dir }));
});

afterEach(async () => {
  await node.close();
  rmSync(dir, { recursive: true, force: true });
});

const create = (path: string): WriteRequest => ({ type: 'create', path, data: new Uint8Array(0), acl: OPEN_ACL_UNSAFE, mode: 0 });

async function write(request: WriteRequest, session: RequestSession): Promise<void> {
  const submitted = node.submitWrite(request, session);
  if (submitted.kind !== 'proposed') throw new Error(`not proposed: ${JSON.stringify(submitted)}`);
  await submitted.done;
}

test('a refused write is deferred while other writes are in flight, and answered for good on the retry even if the log is busy again', async () => {
  await write({ type: 'createSession', sessionId: 7, timeoutMs: 10_000 }, system);
  const session: RequestSession = { id: 7, authIds: [] };
  await write(create('/taken'), session);
  // Keep the log busy: proposed, not yet applied.
  const busy = node.submitWrite(create('/other-1'), session);
  const first = node.submitWrite(create('/taken'), session);
  expect(first.kind).toBe('deferred');
  await node.waitApplied(first.kind === 'deferred' ? first.untilIndex : 0);
  const busyAgain = node.submitWrite(create('/other-2'), session);
  expect(node.outstanding).toBeGreaterThan(0);
  const retry = node.submitWrite(create('/taken'), session, false);
  expect(retry).toMatchObject({ kind: 'rejected', error: ErrorCode.NodeExists });
  for (const s of [busy, busyAgain]) if (s.kind === 'proposed') await s.done;
});

test('with nothing in flight a refused write is answered at once', async () => {
  await write({ type: 'createSession', sessionId: 8, timeoutMs: 10_000 }, system);
  const session: RequestSession = { id: 8, authIds: [] };
  await write(create('/x'), session);
  expect(node.outstanding).toBe(0);
  expect(node.submitWrite(create('/x'), session)).toMatchObject({ kind: 'rejected', error: ErrorCode.NodeExists });
});
