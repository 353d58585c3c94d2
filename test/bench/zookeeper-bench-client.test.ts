// The same checks through node-zookeeper-client against a local Apache ZooKeeper.
// Skipped when Debian's zookeeper package is absent (CI need not have Java or it).
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { BenchClient } from '../../bench/e2e/bench-client.js';
import { ZooKeeperBenchClient } from '../../bench/e2e/zookeeper-bench-client.js';
import { type LocalZooKeeper, startLocalZooKeeper, zookeeperInstalled } from '../../bench/zookeeper/local-zookeeper.js';
import { checkContract, exerciseWorkloads } from './workloads-shared.js';

const installed = zookeeperInstalled();
const title = installed
  ? 'bench:e2e over Apache ZooKeeper (node-zookeeper-client adapter)'
  : 'bench:e2e over Apache ZooKeeper: skipped, Debian package `zookeeper` not installed (apt-get install -y zookeeper)';

describe.skipIf(!installed)(title, () => {
  let zk: LocalZooKeeper;
  const clients: BenchClient[] = [];

  beforeAll(async () => {
    zk = await startLocalZooKeeper();
    for (let i = 0; i < 3; i++) clients.push(await ZooKeeperBenchClient.open(zk.connectString, 10_000));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await zk?.stop();
  });

  it('keeps the adapter contract the workloads rely on', async () => {
    await checkContract(clients[0]);
  });

  it('runs W1-W4 a few ops each', async () => {
    await exerciseWorkloads(clients);
  });
});
