// Side-by-side table from two bench:e2e outputs (zook first, ZooKeeper second):
// reads the JSON summary each run prints as its last line and prints ops/s,
// p50 and p99 per workload with the zook/ZooKeeper ratios. Reports, never asserts.
//   node dist/bench/zookeeper/compare.js zook.out zookeeper.out
import { compareTable, summaryFile } from './compare-table.js';

const [zookFile, zkFile] = process.argv.slice(2);
if (zookFile === undefined || zkFile === undefined) {
  console.error('usage: compare.js <zook run output> <ZooKeeper run output>');
  process.exit(2);
}
console.log(compareTable(summaryFile(zookFile), summaryFile(zkFile)));
