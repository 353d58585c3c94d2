// Watch events obey ACLs (CVE-2024-23944; ZooKeeper 3.8.4 / 3.9.2): an event is
// delivered only to a session that may READ under the ACL ZooKeeper's DataTree
// passes with it (the node's own for data events, the deleted node's as it was for
// NodeDeleted, the parent's for NodeChildrenChanged); super passes everything.
// Events arrive in order, so once a later event on an open node (the marker) is in,
// a withheld earlier event would have been there already.
import { beforeAll, expect, test } from 'vitest';
import { digestId } from '../../src/tree/acl.js';
import type { ClientRequest, ServerFrame } from '../../src/protocol/index.js';
import { RawClient, bytes, create } from './support/raw-client.js';
import { type ServerProcess, useServerProcess } from './support/server-process.js';

const fixture = useServerProcess({ env: { ZOOK_SUPER_DIGEST: digestId('super', 'root-pw') } });
let server: ServerProcess;
beforeAll(() => {
  server = fixture.current;
});

const ALICE = [{ perms: 31, scheme: 'digest', id: digestId('alice', 'pw') }];
const OPEN = [{ perms: 31, scheme: 'world', id: 'anyone' }];
const NodeCreated = 1;
const NodeDeleted = 2;
const NodeDataChanged = 3;
const NodeChildrenChanged = 4;

const createWith = (path: string, acl: readonly { perms: number; scheme: string; id: string }[]): ClientRequest => ({
  op: 'create',
  path,
  data: bytes(''),
  acl,
  mode: 0,
  ttlMs: 0,
  returnStat: false,
});

async function session(auth?: string): Promise<RawClient> {
  const { client } = await RawClient.session(server.url);
  if (auth !== undefined) expect((await client.call({ op: 'addAuth', scheme: 'digest', auth: bytes(auth) })).error).toBe(0);
  return client;
}

async function ok(client: RawClient, request: ClientRequest): Promise<void> {
  expect((await client.call(request)).error).toBe(0);
}

const events = (client: RawClient, prefix: string) =>
  client.frames.filter((f): f is Extract<ServerFrame, { kind: 'event' }> => f.kind === 'event' && f.path.startsWith(prefix)).map((f) => [f.path, f.type]);

/** An exists watch on the (missing) marker: NoNode, watch set. */
async function watchMarker(client: RawClient, marker: string): Promise<void> {
  expect((await client.call({ op: 'exists', path: marker, watch: true })).error).toBe(-101);
}

/** Creates `marker` (open) and waits until `watcher` has its NodeCreated. */
async function barrier(writer: RawClient, watcher: RawClient, marker: string): Promise<void> {
  await ok(writer, create(marker));
  await watcher.nextFrame((f) => f.kind === 'event' && f.path === marker && f.type === NodeCreated);
}

test("a recursive watch on / does not see NodeCreated, NodeDataChanged or NodeDeleted of a node whose ACL denies it READ", async () => {
  const alice = await session('alice:pw');
  const anon = await session();
  await ok(anon, { op: 'addWatch', path: '/', mode: 1 });
  await ok(alice, createWith('/r1-hidden-name-42', ALICE));
  await ok(alice, { op: 'setData', path: '/r1-hidden-name-42', data: bytes('x'), version: -1 });
  await ok(alice, { op: 'delete', path: '/r1-hidden-name-42', version: -1 });
  await barrier(alice, anon, '/r1-marker');
  expect(events(anon, '/r1-')).toEqual([['/r1-marker', NodeCreated]]);
  alice.close();
  anon.close();
});

test('the same recursive watch sees those events once the session has added the digest the ACL names', async () => {
  const alice = await session('alice:pw');
  const other = await session();
  await ok(other, { op: 'addWatch', path: '/', mode: 1 });
  await ok(other, { op: 'addAuth', scheme: 'digest', auth: bytes('alice:pw') });
  await ok(alice, createWith('/r2-hidden', ALICE));
  await ok(alice, { op: 'setData', path: '/r2-hidden', data: bytes('x'), version: -1 });
  await ok(alice, { op: 'delete', path: '/r2-hidden', version: -1 });
  await barrier(alice, other, '/r2-marker');
  expect(events(other, '/r2-')).toEqual([
    ['/r2-hidden', NodeCreated],
    ['/r2-hidden', NodeDataChanged],
    ['/r2-hidden', NodeDeleted],
    ['/r2-marker', NodeCreated],
  ]);
  alice.close();
  other.close();
});

test('one-shot getData and exists watches set while the node was readable get no event after setACL takes READ away', async () => {
  const alice = await session('alice:pw');
  const anon = await session();
  await ok(alice, create('/o1-node'));
  await ok(anon, { op: 'getData', path: '/o1-node', watch: true });
  await ok(anon, { op: 'exists', path: '/o1-node', watch: true });
  await ok(alice, { op: 'setACL', path: '/o1-node', acl: ALICE, version: -1 });
  await ok(alice, { op: 'setData', path: '/o1-node', data: bytes('x'), version: -1 });
  await watchMarker(anon, '/o1-marker');
  await barrier(alice, anon, '/o1-marker');
  expect(events(anon, '/o1-')).toEqual([['/o1-marker', NodeCreated]]);
  alice.close();
  anon.close();
});

test('a one-shot watch whose event was withheld is consumed, as in ZooKeeper (no event after READ comes back)', async () => {
  const alice = await session('alice:pw');
  const anon = await session();
  await ok(alice, create('/o2-node'));
  await ok(anon, { op: 'getData', path: '/o2-node', watch: true });
  await ok(alice, { op: 'setACL', path: '/o2-node', acl: ALICE, version: -1 });
  await ok(alice, { op: 'setData', path: '/o2-node', data: bytes('x'), version: -1 });
  await ok(alice, { op: 'setACL', path: '/o2-node', acl: OPEN, version: -1 });
  await ok(alice, { op: 'setData', path: '/o2-node', data: bytes('y'), version: -1 });
  await watchMarker(anon, '/o2-marker');
  await barrier(alice, anon, '/o2-marker');
  expect(events(anon, '/o2-')).toEqual([['/o2-marker', NodeCreated]]);
  alice.close();
  anon.close();
});

test("NodeChildrenChanged follows the parent's ACL, not the child's", async () => {
  const alice = await session('alice:pw');
  const anon = await session();
  await ok(alice, create('/c1-open'));
  await ok(alice, create('/c1-closed'));
  await ok(anon, { op: 'getChildren', path: '/c1-open', watch: true, withStat: false, after: '', limit: 0 });
  await ok(anon, { op: 'getChildren', path: '/c1-closed', watch: true, withStat: false, after: '', limit: 0 });
  await ok(alice, { op: 'setACL', path: '/c1-closed', acl: ALICE, version: -1 });
  await ok(alice, createWith('/c1-open/secret-child', ALICE));
  await ok(alice, createWith('/c1-closed/open-child', OPEN));
  await watchMarker(anon, '/c1-marker');
  await barrier(alice, anon, '/c1-marker');
  expect(events(anon, '/c1-')).toEqual([
    ['/c1-open', NodeChildrenChanged],
    ['/c1-marker', NodeCreated],
  ]);
  alice.close();
  anon.close();
});

test('a super session sees every event, whatever the ACL', async () => {
  const alice = await session('alice:pw');
  const root = await session('super:root-pw');
  await ok(root, { op: 'addWatch', path: '/', mode: 1 });
  await ok(alice, create('/s1-parent'));
  await ok(root, { op: 'getChildren', path: '/s1-parent', watch: true, withStat: false, after: '', limit: 0 });
  await ok(alice, { op: 'setACL', path: '/s1-parent', acl: ALICE, version: -1 });
  await ok(alice, createWith('/s1-parent/hidden', ALICE));
  await ok(alice, { op: 'setData', path: '/s1-parent/hidden', data: bytes('x'), version: -1 });
  await ok(alice, { op: 'delete', path: '/s1-parent/hidden', version: -1 });
  await barrier(alice, root, '/s1-marker');
  expect(events(root, '/s1-')).toEqual([
    ['/s1-parent', NodeCreated],
    ['/s1-parent/hidden', NodeCreated],
    ['/s1-parent', NodeChildrenChanged],
    ['/s1-parent/hidden', NodeDataChanged],
    ['/s1-parent/hidden', NodeDeleted],
    ['/s1-marker', NodeCreated],
  ]);
  alice.close();
  root.close();
});

test('watches re-registered by setWatches obey the ACL when they fire', async () => {
  const alice = await session('alice:pw');
  const anon = await session();
  await ok(alice, create('/w1-node'));
  const at = (await anon.call({ op: 'exists', path: '/w1-node', watch: false })).zxid;
  await ok(alice, { op: 'setACL', path: '/w1-node', acl: ALICE, version: -1 });
  await ok(anon, {
    op: 'setWatches',
    relativeZxid: at,
    dataWatches: ['/w1-node'],
    existWatches: ['/w1-marker'],
    childWatches: [],
    persistentWatches: [],
    persistentRecursiveWatches: ['/'],
  });
  await ok(alice, { op: 'setData', path: '/w1-node', data: bytes('x'), version: -1 });
  await ok(alice, createWith('/w1-hidden', ALICE));
  await barrier(alice, anon, '/w1-marker');
  expect(events(anon, '/w1-')).toEqual([['/w1-marker', NodeCreated]]);
  alice.close();
  anon.close();
});
