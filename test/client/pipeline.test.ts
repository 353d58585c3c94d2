// Many requests on one connection: matched by xid, bounded in flight, with
// per-request timeouts and AbortSignal.
import { describe, expect, test } from 'vitest';
import type { ZookError } from '../../src/client/index.js';
import type { FakeConn, RequestFrame } from './support/fake-server.js';
import { setup, str } from './support/harness.js';

/** Lets a test answer requests itself, in any order. */
function capture(server: Awaited<ReturnType<typeof setup>>['server']): { frames: { conn: FakeConn; frame: RequestFrame }[]; answer: (i: number) => void } {
  const frames: { conn: FakeConn; frame: RequestFrame }[] = [];
  server.onRequest = (frame, conn) => {
    frames.push({ conn, frame });
    return true;
  };
  return { frames, answer: (i) => server.answer(frames[i].conn, frames[i].frame) };
}

describe('pipelining', () => {
  test('many requests are in flight at once and replies in any order reach their callers by xid', async () => {
    const { server, zk } = await setup();
    const n = 50;
    await Promise.all(Array.from({ length: n }, (_, i) => zk.create(`/n${i}`, `v${i}`)));
    const cap = capture(server);
    const reads = Array.from({ length: n }, (_, i) => zk.getData(`/n${i}`));
    await server.waitForCount(n, (r) => r.frame.kind === 'request' && r.frame.request.op === 'getData');
    expect(zk.inFlight).toBe(n);
    expect(new Set(cap.frames.map((f) => f.frame.xid)).size).toBe(n);
    for (let i = n - 1; i >= 0; i--) cap.answer(i);
    const values = await Promise.all(reads);
    expect(values.map((v) => str(v.data))).toEqual(Array.from({ length: n }, (_, i) => `v${i}`));
  });

  test('no more than maxInFlight are outstanding; the rest wait and go out as replies come back', async () => {
    const { server, zk } = await setup({ maxInFlight: 4 });
    const cap = capture(server);
    let answered = 0;
    let maxOutstanding = 0;
    server.onRequest = (frame, conn) => {
      cap.frames.push({ conn, frame });
      maxOutstanding = Math.max(maxOutstanding, cap.frames.length - answered);
      return true;
    };
    const calls = Array.from({ length: 10 }, (_, i) => zk.exists(`/x${i}`));
    expect(zk.inFlight).toBe(4);
    await server.waitForCount(4, (r) => r.frame.kind === 'request');
    for (let i = 0; i < 10; i++) {
      await server.waitForCount(i + 1, (r) => r.frame.kind === 'request');
      cap.answer(i);
      answered++;
    }
    expect(await Promise.all(calls)).toEqual(Array(10).fill(null));
    expect(maxOutstanding).toBe(4);
    // FIFO: sent in call order.
    expect(cap.frames.map((f) => (f.frame.request as { path: string }).path)).toEqual(Array.from({ length: 10 }, (_, i) => `/x${i}`));
  });

  test('calls beyond maxQueuedRequests fail at once with Throttled', async () => {
    const { server, zk } = await setup({ maxInFlight: 1, maxQueuedRequests: 2 });
    server.hold();
    const waiting = [zk.sync('/1'), zk.sync('/2'), zk.sync('/3')];
    await expect(zk.sync('/4')).rejects.toMatchObject({ code: 'Throttled' });
    server.release();
    await Promise.all(waiting);
  });
});

describe('per-request timeout and AbortSignal', () => {
  test('a request with no reply within timeoutMs fails with OperationTimeout; a late reply is ignored', async () => {
    const { server, zk } = await setup();
    server.hold();
    const error = (await zk.getData('/slow', { timeoutMs: 30 }).catch((e: unknown) => e)) as ZookError;
    expect([error.code, error.path]).toEqual(['OperationTimeout', '/slow']);
    expect(error.message).toContain('may or may not have been applied');
    server.release();
    await zk.create('/after');
    expect(await zk.exists('/after')).not.toBeNull();
  });

  test('the client-wide requestTimeoutMs applies when a call gives none', async () => {
    const { server, zk } = await setup({ requestTimeoutMs: 30 });
    server.hold();
    await expect(zk.sync('/')).rejects.toMatchObject({ code: 'OperationTimeout' });
  });

  test('a timed-out request keeps its in-flight slot until its reply arrives', async () => {
    const { server, zk } = await setup({ maxInFlight: 1 });
    server.hold();
    await expect(zk.sync('/a', { timeoutMs: 20 })).rejects.toMatchObject({ code: 'OperationTimeout' });
    const next = zk.sync('/b');
    // /a still holds the only slot, so /b was not sent.
    expect(zk.inFlight).toBe(1);
    await server.waitFor((r) => r.frame.kind === 'request' && r.frame.request.op === 'sync');
    expect(server.heldCount).toBe(1);
    server.release();
    await next;
    expect(server.requests('sync').map((f) => (f.request as { path: string }).path)).toEqual(['/a', '/b']);
  });

  test('aborting a sent request rejects it with the signal reason', async () => {
    const { server, zk } = await setup();
    server.hold();
    const controller = new AbortController();
    const call = zk.getData('/a', { signal: controller.signal });
    await server.waitFor((r) => r.frame.kind === 'request' && r.frame.request.op === 'getData');
    const reason = new Error('user gave up');
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    server.release();
  });

  test('a call aborted while queued is never sent', async () => {
    const { server, zk } = await setup({ maxInFlight: 1 });
    server.hold();
    const first = zk.sync('/first');
    const controller = new AbortController();
    const aborted = zk.sync('/aborted', { signal: controller.signal });
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    const last = zk.sync('/last');
    server.release();
    await Promise.all([first, last]);
    expect(server.requests('sync').map((f) => (f.request as { path: string }).path)).toEqual(['/first', '/last']);
  });

  test('an already-aborted signal rejects without sending', async () => {
    const { server, zk } = await setup();
    await expect(zk.sync('/x', { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(server.requests('sync')).toEqual([]);
  });
});
