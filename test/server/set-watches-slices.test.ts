// Bounded amplification: one setWatches frame may name 100,000 paths, and each
// missing one fires an event at once (ZooKeeper's rule, which applies when the
// client's zxid is older than the server's change history reaches: here the history
// holds one change, watchReplayMaxChanges 1, and two were written). Those events leave a slice per event-loop
// turn (other connections are served in between) and only while the socket has
// room; the setWatches reply and everything after it follow them, in order.
// In process (one ZookNode, one ClientConnection on a recording socket) to count
// what leaves per turn; then on a real server with a client that reads slowly.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type ClientRequest, type ServerFrame, EventType, PROTOCOL_VERSION } from '../../src/protocol/index.js';
import { resolveConfig } from '../../src/server/config.js';
import { ClientConnection, type Transport } from '../../src/server/connection.js';
import { ZookNode } from '../../src/server/node.js';
import { untilTrue } from '../support/until.js';
import { RawClient } from './support/raw-client.js';
import { startServerProcess } from './support/server-process.js';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function setWatches(paths: string[]): ClientRequest {
  return { op: 'setWatches', relativeZxid: 0, dataWatches: paths, existWatches: [], childWatches: [], persistentWatches: [], persistentRecursiveWatches: [] };
}

/** Two writes, so that a change history of one change no longer reaches back to zxid 0. */
const PAST_THE_HISTORY: ClientRequest[] = ['/past-1', '/past-2'].map((path) => ({
  op: 'create',
  path,
  data: new Uint8Array(0),
  acl: [{ perms: 31, scheme: 'world', id: 'anyone' }],
  mode: 0,
  ttlMs: 0,
  returnStat: false,
}));

describe('in process', () => {
  let dir: string;
  let node: ZookNode;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'zook-slices-'));
    node = await ZookNode.open(resolveConfig({ dataDir: dir, watchReplayMaxChanges: 1 }));
  });

  afterEach(async () => {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A connection whose socket records every frame and reports `buffered` as its unsent bytes. */
  async function connection(): Promise<{ conn: ClientConnection; frames: ServerFrame[]; socket: { buffered: number } }> {
    const frames: ServerFrame[] = [];
    const socket = { buffered: 0 };
    const transport: Transport = { send: () => true, end: () => {}, bufferedBytes: () => socket.buffered };
    const wire = {
      encode: (frame: ServerFrame): Uint8Array => {
        frames.push(frame);
        return new Uint8Array(1);
      },
    };
    const limits = { maxInFlight: 1000, maxInFlightBytes: 32 << 20, maxBufferedBytes: 1 << 20, maxBackpressureBytes: 64 << 20 };
    const conn = new ClientConnection(node, wire, transport, '127.0.0.1', limits, { answered: () => {} });
    conn.receive({ kind: 'connect', protocolVersion: PROTOCOL_VERSION, sessionId: 0, password: new Uint8Array(0), sessionTimeoutMs: 10_000, lastZxidSeen: 0, auth: [] });
    await untilTrue('the session', () => frames.some((f) => f.kind === 'connected'));
    PAST_THE_HISTORY.forEach((request, i) => conn.receive({ kind: 'request', xid: 1000 + i, linearizable: false, request }, 100));
    await untilTrue('the writes', () => frames.filter((f) => f.kind === 'reply' && f.error === 0).length === PAST_THE_HISTORY.length);
    frames.length = 0;
    return { conn, frames, socket };
  }

  test('100,000 watches on missing paths fire a bounded slice per turn, then the reply, then the next request\'s', async () => {
    const { conn, frames } = await connection();
    const paths = Array.from({ length: 100_000 }, (_, i) => `/missing/${i}`);
    conn.receive({ kind: 'request', xid: 1, linearizable: false, request: setWatches(paths) }, 1_000_000);
    conn.receive({ kind: 'request', xid: 2, linearizable: false, request: { op: 'exists', path: '/', watch: false } }, 100);
    expect(frames.length).toBe(0); // nothing in the turn that received the frame
    let turns = 0;
    let most = 0;
    while (!frames.some((f) => f.kind === 'reply' && f.xid === 2)) {
      const before = frames.length;
      await nextTurn();
      most = Math.max(most, frames.length - before);
      if (++turns > 10_000) throw new Error(`not done after ${turns} turns: ${frames.length} frames`);
    }
    expect(most).toBeLessThanOrEqual(1024);
    expect(turns).toBeGreaterThan(50);
    // ZooKeeper's order: every event, then the setWatches reply, then the next reply.
    expect(frames.length).toBe(100_002);
    expect(frames.slice(0, 100_000).every((f, i) => f.kind === 'event' && f.type === EventType.NodeDeleted && f.path === paths[i])).toBe(true);
    expect(frames[100_000]).toMatchObject({ kind: 'reply', xid: 1, error: 0 });
    expect(frames[100_001]).toMatchObject({ kind: 'reply', xid: 2, error: 0 });
  });

  test('the events wait while the socket holds more than maxBufferedBytes, and go on when it drains', async () => {
    const { conn, frames, socket } = await connection();
    conn.receive({ kind: 'request', xid: 1, linearizable: false, request: setWatches(Array.from({ length: 5000 }, (_, i) => `/gone/${i}`)) }, 100_000);
    await nextTurn();
    const first = frames.length;
    expect(first).toBeGreaterThan(0);
    socket.buffered = 2 << 20; // the client stopped reading
    for (let i = 0; i < 20; i++) await nextTurn();
    expect(frames.length).toBe(first);
    socket.buffered = 0;
    conn.drained();
    await untilTrue('the rest of the events and the reply', () => frames.some((f) => f.kind === 'reply'));
    expect(frames.length).toBe(5001);
  });
});

describe('a real server', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('a client that names 100,000 missing paths and reads slowly gets every event and then the reply, is not disconnected, and another client is served meanwhile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zook-slices-'));
    dirs.push(dir);
    const config = join(dir, 'zook.json');
    // Before, all 100,000 events (about 5 MB) were written at once, past maxBackpressureBytes: the client was dropped.
    writeFileSync(config, JSON.stringify({ maxBufferedBytesPerConnection: 256 * 1024, maxBackpressureBytes: 1024 * 1024, watchReplayMaxChanges: 1 }));
    const server = await startServerProcess({ extraArgs: ['--config', config] });
    const { client } = await RawClient.session(server.url);
    const other = await RawClient.session(server.url);
    for (const request of PAST_THE_HISTORY) expect((await other.client.call(request)).error).toBe(0);
    const socket = (client.ws as unknown as { _socket: Socket })._socket;
    socket.pause();
    const paths = Array.from({ length: 100_000 }, (_, i) => `/${i.toString(36)}`);
    const xid = client.send(setWatches(paths));
    // Served while this client's events wait for it to read.
    expect((await other.client.call({ op: 'exists', path: '/', watch: false })).error).toBe(0);
    socket.resume();
    await client.reply(xid);
    expect(client.frames.length).toBe(100_002); // connected, the events, the reply
    expect(client.frames.slice(1, -1).every((f, i) => f.kind === 'event' && f.type === EventType.NodeDeleted && f.path === paths[i])).toBe(true);
    expect(client.frames.at(-1)).toMatchObject({ kind: 'reply', xid, error: 0 });
    expect((await client.call({ op: 'exists', path: '/', watch: false })).error).toBe(0);
    expect(client.closeCode).toBeNull();
    client.close();
    other.client.close();
    await server.stop();
    server.cleanup();
  }, 60_000);
});
