// Issue 7: the simulator's linearizability checker over a real-process history.
import { afterAll, expect, test } from 'vitest';
import { checkHistory } from '../sim/checker-linearizable.js';
import { Cluster } from './support/cluster.js';
import { RegisterWorkload } from './support/workload.js';

let cluster: Cluster | undefined;
afterAll(async () => {
  await cluster?.stopAll();
});

// What is checked: one znode used as a register by 4 sessions, spread over all
// servers: setData(unique increasing value) and getData({ linearizable: true })
// (ReadIndex on the leader). Invoke/complete times are the test process's own event
// order. A setData that failed (ConnectionLoss, OperationTimeout) may or may not have
// happened: the checker may place it anywhere after its invoke, or nowhere. Reads that
// failed are left out. Plain (non-linearizable) getData is NOT checked here: it may be stale.
test('setData + getData(linearizable: true) on one znode from 4 sessions stays linearizable across a leader kill -9 and its restart', async () => {
  const c = (cluster = await Cluster.start({ size: 3 }));
  const first = await c.leader();
  const w = await RegisterWorkload.start(c.connectString(), 4);
  await w.waitCompleted(150);
  await c.kill9(first);
  await c.leader(15_000, [first]);
  await w.waitCompleted(150);
  await c.restart(first);
  await w.waitCompleted(100);
  await w.stop();

  const ops = w.history.ops;
  const unknown = ops.filter((o) => o.status === 'unknown').length;
  const result = checkHistory(ops);
  console.log(`linearizable: ${ops.length} ops (${ops.filter((o) => o.status === 'ok').length} ok, ${unknown} unknown-outcome writes), explored ${result.explored}, errors ${JSON.stringify(Object.fromEntries(w.errors))}`);
  expect(result.failure).toBeNull();
  expect(result.unknownKeys).toBe(0);
  expect(result.ok).toBe(true);
  // The history spans the kill: some ops completed after the new leader took over.
  expect(ops.filter((o) => o.status === 'ok').length).toBeGreaterThan(300);
});
