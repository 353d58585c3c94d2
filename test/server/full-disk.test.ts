// Issue 16 item 2: a full disk is an error clients see, not a crash. A real server
// process keeps its data dir on a real 32 MiB tmpfs that another file fills up.
import { afterAll, describe, expect, test } from 'vitest';
import { connect, type ZookClient } from '../../src/client/index.js';
import { isZookError } from '../../src/client/errors.js';
import { mountSmallFs, skipSmallFs, type SmallFs } from '../support/small-fs.js';
import { until } from '../support/until.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';

const VALUE = new Uint8Array(256 * 1024).fill(7);

interface Status {
  readonly storageStall: { readonly code: string; readonly operation: string } | null;
  readonly storageStalls: number;
}

async function status(server: ServerProcess): Promise<Status> {
  return (await (await fetch(`http://127.0.0.1:${server.port}/status`)).json()) as Status;
}

describe.skipIf(skipSmallFs)('a server whose disk fills up (real tmpfs)', () => {
  let fs: SmallFs | undefined;
  let server: ServerProcess | undefined;
  let client: ZookClient | undefined;
  afterAll(async () => {
    await client?.close().catch(() => undefined);
    await server?.kill9();
    fs?.unmount();
  });

  test('refuses writes with NotReadOnly while full, serves reads, resumes by itself when space returns, and loses nothing acknowledged across kill -9', async () => {
    fs = mountSmallFs(32 * 1024 * 1024);
    const dataDir = `${fs.dir}/data`;
    server = await startServerProcess({ dataDir });
    client = await connect(server.url, { sessionTimeoutMs: 20_000 });
    const c = client;
    fs.fill(0);

    // Writes go on into the preallocated segment, then the log needs a new one and cannot have it.
    // The write that hit the full disk may still commit once space returns, or not:
    // its client hears ConnectionLoss (outcome unknown) at once, reconnects, and from
    // then on writes are refused with NotReadOnly.
    const acked: number[] = [];
    let unknown = 0;
    let refused = false;
    for (let i = 0; !refused; i++) {
      expect(i).toBeLessThan(200);
      const outcome = await c.create(`/k-${i}`, VALUE).then(() => 'ok' as const, (error: unknown) => error);
      if (outcome === 'ok') acked.push(i);
      else if (isZookError(outcome, 'ConnectionLoss')) unknown++;
      else if (isZookError(outcome, 'NotReadOnly')) refused = true;
      else throw outcome;
    }
    expect(unknown).toBeLessThanOrEqual(1);
    expect(acked.length).toBeGreaterThan(5);
    expect((await status(server)).storageStall).toMatchObject({ code: 'ENOSPC' });
    expect(await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text()).toMatch(/^zook_storage_stalled 1$/m);
    // Reads and the session carry on.
    expect((await c.getData(`/k-${acked[0]}`)).data).toEqual(VALUE);

    fs.unfill();
    await until('the server to take writes again', async () => ((await status(server!)).storageStall === null ? true : undefined), 20_000);
    const after = acked.length + 1000;
    await c.create(`/k-${after}`, VALUE);
    acked.push(after);
    expect((await status(server)).storageStalls).toBe(1);
    await c.close();
    client = undefined;

    await server.kill9();
    server = await startServerProcess({ dataDir });
    client = await connect(server.url, { sessionTimeoutMs: 20_000 });
    for (const i of acked) expect((await client.getData(`/k-${i}`)).data.length).toBe(VALUE.length);
  });

  test('a restart with less free space than one segment (64 MiB) starts, serves reads and takes writes', async () => {
    await client?.close();
    client = undefined;
    await server!.kill9();
    fs!.fill(6 * 1024 * 1024);
    server = await startServerProcess({ dataDir: `${fs!.dir}/data` });
    client = await connect(server.url, { sessionTimeoutMs: 20_000 });
    expect((await client.getData('/k-0')).data.length).toBe(VALUE.length);
    for (let i = 0; i < 10; i++) await client.create(`/after-restart-${i}`, VALUE);
    expect((await status(server)).storageStalls).toBe(0);
    fs!.unfill();
  });
});
