// Raft core throughput: entries committed per second through a 3-node cluster in
// one process, with no I/O (a Ready is "persisted" at once) and proposals batched.
import { type Message, RaftNode, Role, bootstrapState } from '../src/consensus/index.js';
import { SeededRandom } from '../src/util/random.js';
import { type BenchSuite, formatBytes, formatRate, markdownTable, measure } from './support.js';

const ENTRY_BYTES = 100;

class InProcessCluster {
  readonly nodes: RaftNode[];
  private readonly queue: Message[] = [];
  private head = 0;
  private proposed = 0;

  constructor(size: number) {
    const voters = Array.from({ length: size }, (_, i) => i + 1);
    this.nodes = voters.map(
      (id) =>
        new RaftNode(
          {
            id,
            random: new SeededRandom(id),
            electionTicks: 10,
            heartbeatTicks: 1,
            limits: { maxEntriesPerMsg: 4096, maxMsgBytes: 1 << 20, maxInflightMsgs: 256, maxProposalQueue: 1 << 20 },
          },
          bootstrapState(voters),
        ),
    );
    this.settle();
    this.nodes[0].campaign();
    this.settle();
    if (this.nodes[0].currentRole !== Role.Leader) throw new Error('bench cluster has no leader');
  }

  /** Runs every node's Ready loop and delivers messages until the cluster is idle. */
  settle(): void {
    for (;;) {
      let moved = false;
      for (const n of this.nodes) {
        while (n.hasReady()) {
          moved = true;
          const rd = n.ready();
          for (const m of rd.messages) this.queue.push(m);
          n.advance();
        }
      }
      while (this.head < this.queue.length) {
        const m = this.queue[this.head++];
        this.nodes[m.to - 1].step(m);
        moved = true;
      }
      this.queue.length = 0;
      this.head = 0;
      if (!moved) return;
    }
  }

  /** Proposes `count` entries (in proposals of `batch`) and runs until the leader committed them. */
  commit(count: number, batch: number, payload: Uint8Array): void {
    const leader = this.nodes[0];
    const datas = new Array<Uint8Array>(batch).fill(payload);
    let last = 0;
    for (let done = 0; done < count; done += batch) {
      last = batch === 1 ? leader.propose(payload).index : leader.proposeBatch(datas).index + batch - 1;
      this.settle();
    }
    if (leader.commitIndex < last) throw new Error(`not committed: ${leader.commitIndex} < ${last}`);
    this.proposed += count;
    if (this.proposed >= 50_000) {
      this.proposed = 0;
      for (const n of this.nodes) n.createSnapshot(new Uint8Array(0)); // keep memory flat
    }
  }
}

const suite: BenchSuite = {
  name: 'raft',
  async run() {
    const payload = new Uint8Array(ENTRY_BYTES).fill(7);
    const cases = [1, 16, 256, 1024].map((batch) => {
      const cluster = new InProcessCluster(3);
      const perCall = Math.max(batch, 256);
      return {
        name: `3 nodes, ${ENTRY_BYTES} B entries, ${batch} per proposal round`,
        fn: () => cluster.commit(perCall, batch, payload),
        itemsPerCall: perCall,
        bytesPerCall: perCall * ENTRY_BYTES,
      };
    });
    const rows = await measure(cases);
    console.log(
      markdownTable(
        ['case', 'entries committed/s', 'payload'],
        rows.map((r) => [r.name, formatRate(r.itemsPerSecond), r.bytesPerSecond === undefined ? '' : formatBytes(r.bytesPerSecond)]),
      ),
    );
  },
};

export default suite;
