import { beforeAll, describe, expect, test } from 'vitest';
import { PROTOCOL_VERSION, encodeClientFrame } from '../../src/protocol/index.js';
import { ErrorCode } from '../../src/tree/errors.js';
import { RawClient, bytes, create, text } from './support/raw-client.js';
import { type ServerProcess, useServerProcess } from './support/server-process.js';

const fixture = useServerProcess();
let server: ServerProcess;
beforeAll(() => {
  server = fixture.current;
});

describe('a single-node server over the client protocol', () => {
  test('create, getData, setData, exists, getChildren and delete work end to end', async () => {
    const { client } = await RawClient.session(server.url);
    expect((await client.call(create('/crud', 'hi'))).response).toEqual({ kind: 'create', path: '/crud' });
    const got = await client.call({ op: 'getData', path: '/crud', watch: false });
    expect(got.error).toBe(0);
    expect(got.response?.kind === 'data' && text(got.response.data)).toBe('hi');
    const set = await client.call({ op: 'setData', path: '/crud', data: bytes('ho'), version: 0 });
    expect(set.response?.kind === 'stat' && set.response.stat.version).toBe(1);
    expect((await client.call({ op: 'exists', path: '/crud', watch: false })).error).toBe(0);
    await client.call(create('/crud/child'));
    const children = await client.call({ op: 'getChildren', path: '/crud', watch: false, withStat: true, after: '', limit: 0 });
    expect(children.response).toMatchObject({ kind: 'children', children: ['child'] });
    expect((await client.call({ op: 'delete', path: '/crud/child', version: -1 })).error).toBe(0);
    expect((await client.call({ op: 'delete', path: '/crud', version: -1 })).error).toBe(0);
    expect((await client.call({ op: 'exists', path: '/crud', watch: false })).error).toBe(ErrorCode.NoNode);
    client.close();
  });

  test('errors come back with ZooKeeper codes: NoNode, NodeExists, BadVersion, NotEmpty, BadArguments', async () => {
    const { client } = await RawClient.session(server.url);
    await client.call(create('/errs'));
    await client.call(create('/errs/x'));
    expect((await client.call({ op: 'getData', path: '/nope', watch: false })).error).toBe(ErrorCode.NoNode);
    expect((await client.call(create('/errs'))).error).toBe(ErrorCode.NodeExists);
    expect((await client.call({ op: 'setData', path: '/errs', data: bytes('v'), version: 7 })).error).toBe(ErrorCode.BadVersion);
    expect((await client.call({ op: 'delete', path: '/errs', version: -1 })).error).toBe(ErrorCode.NotEmpty);
    expect((await client.call(create('no-slash'))).error).toBe(ErrorCode.BadArguments);
    client.close();
  });

  test('pipelined writes keep session order: create a parent and its child back to back', async () => {
    const { client } = await RawClient.session(server.url);
    const xids = [client.send(create('/pipe')), client.send(create('/pipe/a')), client.send(create('/pipe/a/b'))];
    const replies = await Promise.all(xids.map((x) => client.reply(x)));
    expect(replies.map((r) => r.error)).toEqual([0, 0, 0]);
    // Replies arrive in request order with rising zxids.
    const order = client.frames.filter((f) => f.kind === 'reply').map((f) => (f.kind === 'reply' ? f.xid : 0));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(replies[0].zxid).toBeLessThan(replies[1].zxid);
    client.close();
  });

  test('a read after a write of the same session sees that write', async () => {
    const { client } = await RawClient.session(server.url);
    await client.call(create('/ryw', 'v0'));
    const writes = Array.from({ length: 20 }, (_, i) => client.send({ op: 'setData', path: '/ryw', data: bytes(`v${i + 1}`), version: -1 }));
    const read = client.send({ op: 'getData', path: '/ryw', watch: false });
    await Promise.all(writes.map((x) => client.reply(x)));
    const reply = await client.reply(read);
    expect(reply.response?.kind === 'data' && text(reply.response.data)).toBe('v20');
    client.close();
  });

  test("a watch event reaches the watcher before the watcher's read that shows the new data", async () => {
    const a = (await RawClient.session(server.url)).client;
    const b = (await RawClient.session(server.url)).client;
    await a.call(create('/watched', 'old'));
    await b.call({ op: 'getData', path: '/watched', watch: true });
    await a.call({ op: 'setData', path: '/watched', data: bytes('new'), version: -1 });
    const read = await b.call({ op: 'getData', path: '/watched', watch: false });
    const eventAt = b.frames.findIndex((f) => f.kind === 'event' && f.path === '/watched');
    const readAt = b.frames.indexOf(read);
    expect(eventAt).toBeGreaterThanOrEqual(0);
    expect(eventAt).toBeLessThan(readAt);
    expect(read.response?.kind === 'data' && text(read.response.data)).toBe('new');
    a.close();
    b.close();
  });

  test('ephemeral and sequential nodes: names count creations, ephemerals belong to the session', async () => {
    const { client, connected } = await RawClient.session(server.url);
    await client.call(create('/seq'));
    const first = await client.call(create('/seq/n-', '', 3));
    const second = await client.call(create('/seq/n-', '', 3));
    expect(first.response).toEqual({ kind: 'create', path: '/seq/n-0000000000' });
    expect(second.response).toEqual({ kind: 'create', path: '/seq/n-0000000001' });
    const eph = await client.call({ op: 'getEphemerals', prefix: '/seq' });
    expect(eph.response).toEqual({ kind: 'paths', paths: ['/seq/n-0000000000', '/seq/n-0000000001'] });
    const stat = await client.call({ op: 'exists', path: '/seq/n-0000000000', watch: false });
    expect(stat.response?.kind === 'stat' && stat.response.stat.ephemeralOwner).toBe(connected.sessionId);
    client.close();
  });

  test('closeSession removes the session\'s ephemerals and fires their watches', async () => {
    const owner = (await RawClient.session(server.url)).client;
    const watcher = (await RawClient.session(server.url)).client;
    await owner.call(create('/eph-owner', '', 1));
    await watcher.call({ op: 'exists', path: '/eph-owner', watch: true });
    await owner.call({ op: 'closeSession' });
    await owner.waitClosed();
    const event = await watcher.nextFrame((f) => f.kind === 'event' && f.path === '/eph-owner');
    expect(event).toMatchObject({ kind: 'event', type: 2 });
    expect((await watcher.call({ op: 'exists', path: '/eph-owner', watch: false })).error).toBe(ErrorCode.NoNode);
    watcher.close();
  });

  test('multi is all or nothing, with per-op results', async () => {
    const { client } = await RawClient.session(server.url);
    await client.call(create('/m'));
    const failed = await client.call({
      op: 'multi',
      ops: [
        { op: 'create', path: '/m/a', data: bytes(''), acl: [{ perms: 31, scheme: 'world', id: 'anyone' }], mode: 0, ttlMs: 0, returnStat: false },
        { op: 'check', path: '/m', version: 5 },
        { op: 'delete', path: '/m', version: -1 },
      ],
    });
    expect(failed.error).toBe(ErrorCode.BadVersion);
    expect(failed.response).toEqual({ kind: 'multi', results: [{ error: 0 }, { error: ErrorCode.BadVersion }, { error: ErrorCode.RuntimeInconsistency }] });
    expect((await client.call({ op: 'exists', path: '/m/a', watch: false })).error).toBe(ErrorCode.NoNode);
    const ok = await client.call({ op: 'multi', ops: [{ op: 'check', path: '/m', version: 0 }, { op: 'setData', path: '/m', data: bytes('x'), version: 0 }] });
    expect(ok.error).toBe(0);
    client.close();
  });

  test('GET /health answers JSON and GET /metrics answers Prometheus text', async () => {
    const health = (await (await fetch(`http://127.0.0.1:${server.port}/health`)).json()) as { status: string; znodes: number };
    expect(health.status).toBe('ok');
    expect(health.znodes).toBeGreaterThan(0);
    const metrics = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    expect(metrics).toMatch(/^zook_requests_total\{op="create",error="0"\} \d+$/m);
    expect(metrics).toMatch(/^zook_wal_fsync_duration_seconds_count \d+$/m);
    expect(metrics).toMatch(/^# TYPE zook_request_duration_seconds histogram$/m);
  });

  test('every metric named *_total is typed counter (rate() works on it)', async () => {
    const metrics = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    const types = [...metrics.matchAll(/^# TYPE (\S+) (\S+)$/gm)].filter((m) => m[1].endsWith('_total'));
    expect(types.length).toBeGreaterThan(5);
    expect(types.filter((m) => m[2] !== 'counter').map((m) => m[1])).toEqual([]);
  });
});

describe('bad input', () => {
  async function expectServerStillServes(): Promise<void> {
    const { client } = await RawClient.session(server.url);
    expect((await client.call({ op: 'exists', path: '/', watch: false })).error).toBe(0);
    client.close();
  }

  test('a text frame closes that connection with a reason; others keep working', async () => {
    const { client } = await RawClient.session(server.url);
    client.sendBytes('hello');
    await client.waitClosed();
    const notice = client.frames.find((f) => f.kind === 'close');
    expect(notice).toMatchObject({ kind: 'close', error: ErrorCode.MarshallingError });
    await expectServerStillServes();
  });

  test('random bytes and a truncated frame close the connection with a marshalling or bad-arguments error', async () => {
    for (const junk of [Uint8Array.of(1, 2, 3), new Uint8Array(64).fill(0xff)]) {
      const { client } = await RawClient.session(server.url);
      client.sendBytes(junk);
      await client.waitClosed();
      const notice = client.frames.find((f) => f.kind === 'close');
      expect([ErrorCode.MarshallingError, ErrorCode.BadArguments]).toContain(notice?.kind === 'close' ? notice.error : 0);
    }
    await expectServerStillServes();
  });

  test('an oversized frame closes the connection with a reason and leaves acknowledged data intact', async () => {
    const { client } = await RawClient.session(server.url);
    await client.call(create('/kept', 'safe'));
    client.sendBytes(new Uint8Array(3 * 1024 * 1024));
    await client.waitClosed();
    const notice = client.frames.find((f) => f.kind === 'close');
    expect(notice?.kind === 'close' && notice.reason).toMatch(/over maxFrameBytes/);
    const { client: other } = await RawClient.session(server.url);
    const got = await other.call({ op: 'getData', path: '/kept', watch: false });
    expect(got.response?.kind === 'data' && text(got.response.data)).toBe('safe');
    other.close();
  });

  test('data over 1 MiB is refused with BadArguments, and the connection stays', async () => {
    const { client } = await RawClient.session(server.url);
    const reply = await client.call({ op: 'create', path: '/big', data: new Uint8Array(1024 * 1024 + 1), acl: [{ perms: 31, scheme: 'world', id: 'anyone' }], mode: 0, ttlMs: 0, returnStat: false });
    expect(reply.error).toBe(ErrorCode.BadArguments);
    expect((await client.call({ op: 'exists', path: '/', watch: false })).error).toBe(0);
    client.close();
  });

  test('a request before the connect frame closes the connection with a reason, unanswered (nothing is kept for a session that may never come)', async () => {
    const client = await RawClient.open(server.url);
    client.send({ op: 'exists', path: '/', watch: false });
    await client.waitClosed();
    expect(client.frames).toEqual([{ kind: 'close', error: ErrorCode.BadArguments, reason: expect.stringMatching(/request before the connect frame/) }]);
    expect(client.closeCode).toBe(1008);
    expect(client.closeReason).toMatch(/request before the connect frame/);
  });

  test('a second connect frame on one connection is refused', async () => {
    const { client } = await RawClient.session(server.url);
    const connect = { kind: 'connect', protocolVersion: PROTOCOL_VERSION, sessionId: 0, password: new Uint8Array(0), sessionTimeoutMs: 10_000, lastZxidSeen: 0, auth: [] } as const;
    client.sendBytes(encodeClientFrame(connect).slice());
    await client.waitClosed();
    expect(client.frames.at(-1)).toEqual({ kind: 'close', error: ErrorCode.BadArguments, reason: 'connect sent twice on one connection' });
  });

  test('an unknown session id or a wrong password gets SessionExpired', async () => {
    const { client, connected } = await RawClient.session(server.url);
    client.close();
    const wrong = await RawClient.open(server.url);
    await expect(wrong.connect({ sessionId: connected.sessionId, password: new Uint8Array(16) })).rejects.toThrow(/SessionExpired|-112/);
    const unknown = await RawClient.open(server.url);
    await expect(unknown.connect({ sessionId: 12345, password: new Uint8Array(16) })).rejects.toThrow(/-112/);
  });
});

