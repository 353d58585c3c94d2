// Issue 16 item 2, ensemble side: one server's disk fills up (a real tmpfs under
// its data dir, filled by another file). The ensemble carries on without it: the
// full server hands leadership over, refuses writes from its own clients with
// NotReadOnly, and catches up once space returns. No acknowledged write is lost.
import { afterAll, expect, test } from 'vitest';
import { isZookError } from '../../src/client/index.js';
import { mountSmallFs, skipSmallFs, type SmallFs } from '../support/small-fs.js';
import { Cluster, until } from './support/cluster.js';
import { Writers, connectAll } from './support/workload.js';

const FULL = 2;
const BIG = new Uint8Array(256 * 1024).fill(3);

let cluster: Cluster | undefined;
let fs: SmallFs | undefined;
afterAll(async () => {
  await cluster?.stopAll();
  fs?.unmount();
});

test.skipIf(skipSmallFs)('3 servers: the leader\'s disk fills up; it hands leadership over and refuses writes while writes go on through the others; freed, it catches up with no acknowledged write lost', async () => {
  fs = mountSmallFs(32 * 1024 * 1024);
  const small = fs;
  const c = (cluster = await Cluster.start({ size: 3, dataDirOf: (id) => (id === FULL ? `${small.dir}/data` : undefined) }));
  let leader = await c.leader();
  if (leader !== FULL) {
    expect((await c.admin(leader, `/admin/transfer-leader?to=${FULL}`)).code).toBe(200);
    leader = await c.leader(15_000);
  }
  expect(leader).toBe(FULL);
  const others = c.ids.filter((id) => id !== FULL);
  const w = await Writers.start(c.connectString(others), 2);
  await w.waitAcks(20);
  const local = await connectAll(c.url(FULL)); // a session on the server whose disk will fill

  // Fill the disk, then push big entries until server 2 needs a segment it cannot have.
  small.fill(0);
  const pusher = await connectAll(c.connectString(others));
  await pusher.create('/big', '');
  let stalled = false;
  for (let i = 0; !stalled; i++) {
    expect(i).toBeLessThan(400);
    await pusher.create(`/big/n-${i}`, BIG).catch((error: unknown) => {
      if (!isZookError(error, 'ConnectionLoss') && !isZookError(error, 'OperationTimeout')) throw error;
    });
    stalled = (await c.status(FULL))?.storageStall?.code === 'ENOSPC';
  }
  const newLeader = await c.leader(15_000, [FULL]);
  expect(newLeader).not.toBe(FULL);
  const before = w.acks;
  await w.waitAcks(40); // writes go on through the other two
  expect(w.acks).toBeGreaterThanOrEqual(before + 40);

  // The full server's own clients are told it takes no writes, and still read; a new session goes elsewhere.
  await expect(local.create('/on-the-full-server', 'x')).rejects.toMatchObject({ code: 'NotReadOnly' });
  expect((await local.getData('/big/n-0')).data.length).toBe(BIG.length);
  await local.close();
  await expect(connectAll(c.url(FULL), { connectTimeoutMs: 2000 })).rejects.toThrow(/disk takes no writes/);
  expect(await c.metrics(FULL)).toMatch(/^zook_storage_stalled 1$/m);

  small.unfill();
  await until('server 2 to take writes again', 30_000, async () => ((await c.status(FULL))?.storageStall === null ? true : undefined));
  await w.waitAcks(20);
  await w.stop();
  await pusher.close();
  await c.waitConverged(30_000);
  expect(await w.lostWrites()).toEqual([]);
  expect(w.readViolations).toEqual([]);
});
