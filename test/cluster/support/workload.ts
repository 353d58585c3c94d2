// Client workloads for the fault tests: writers that remember exactly which writes
// were acknowledged, the check that none of them was lost, and a register workload
// recorded as a History for the simulator's linearizability checker.
import { connect, isZookError, type ZookClient } from '../../../src/client/index.js';
import { History, type HistoryOp } from '../../sim/history.js';
import { until } from './cluster.js';

/** Client settings for fault tests: fast reconnects, bounded calls, a session that outlives a failover. */
export const CLIENT_OPTIONS = {
  sessionTimeoutMs: 6000,
  connectTimeoutMs: 20_000,
  requestTimeoutMs: 4000,
  reconnectBaseDelayMs: 50,
  reconnectMaxDelayMs: 500,
} as const;

export function connectAll(connectString: string, options: Parameters<typeof connect>[1] = {}): Promise<ZookClient> {
  return connect(connectString, { ...CLIENT_OPTIONS, ...options });
}

/** A failure whose outcome is unknown (the write may or may not have been applied). */
export function unknownOutcome(error: unknown): boolean {
  return isZookError(error, 'ConnectionLoss') || isZookError(error, 'OperationTimeout');
}

const text = (data: Uint8Array): string => new TextDecoder().decode(data);

/**
 * K clients, each looping sequentially: create /tag/acked/c{k}-{n} = "c{k}-{n}", then
 * setData /tag/reg/c{k} = n (n grows with every attempt), then getData /tag/reg/c{k}. Every
 * acknowledged create and setData is remembered; every read is checked against the
 * client's own last acknowledged setData (ZooKeeper's read-your-writes guarantee).
 */
export class Writers {
  readonly ackedCreates = new Map<string, string>();
  /** Per client: the highest n whose setData was acknowledged. */
  readonly ackedReg = new Map<number, number>();
  readonly errors = new Map<string, number>();
  readonly readViolations: string[] = [];
  acks = 0;
  private running = true;
  private readonly loops: Promise<void>[] = [];
  readonly clients: ZookClient[] = [];

  private constructor(
    private readonly connectString: string,
    private readonly root: string,
  ) {}

  /** `tag` names this workload's subtree (/tag/acked, /tag/reg), so several can run on one ensemble. */
  static async start(connectString: string, count: number, tag = 'w'): Promise<Writers> {
    const w = new Writers(connectString, `/${tag}`);
    const setup = await connectAll(connectString);
    for (const path of [w.root, `${w.root}/acked`, `${w.root}/reg`]) {
      try {
        await setup.create(path, '');
      } catch (error) {
        if (!isZookError(error, 'NodeExists')) throw error;
      }
    }
    for (let k = 0; k < count; k++) {
      try {
        await setup.create(`${w.root}/reg/c${k}`, '-1');
      } catch (error) {
        if (!isZookError(error, 'NodeExists')) throw error;
      }
    }
    await setup.close();
    for (let k = 0; k < count; k++) {
      const zk = await connectAll(connectString);
      w.clients.push(zk);
      w.loops.push(w.loop(k, zk));
    }
    return w;
  }

  private count(error: unknown): void {
    const code = isZookError(error) ? error.code : String(error);
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  private async loop(k: number, first: ZookClient): Promise<void> {
    let zk = first;
    let n = 0;
    while (this.running) {
      n++;
      const path = `${this.root}/acked/c${k}-${n}`;
      try {
        await zk.create(path, `c${k}-${n}`);
        this.ackedCreates.set(path, `c${k}-${n}`);
        this.acks++;
        await zk.setData(`${this.root}/reg/c${k}`, String(n));
        this.ackedReg.set(k, n);
        this.acks++;
        const floor = this.ackedReg.get(k) ?? -1;
        const read = Number(text((await zk.getData(`${this.root}/reg/c${k}`)).data));
        if (read < floor) this.readViolations.push(`client ${k} read ${this.root}/reg/c${k} = ${read} after its setData ${floor} was acknowledged`);
      } catch (error) {
        this.count(error);
        if (isZookError(error, 'SessionExpired') && this.running) {
          // A new session; the old one's acknowledged writes still count.
          zk = await connectAll(this.connectString);
          this.clients[k] = zk;
        } else if (!unknownOutcome(error) && !isZookError(error, 'NotReadOnly')) {
          // NotReadOnly: a server whose disk is full refused the write before logging it (not written).
          throw error;
        }
      }
    }
  }

  /** Waits until `more` further writes were acknowledged. */
  async waitAcks(more: number, timeoutMs = 20_000): Promise<void> {
    const target = this.acks + more;
    await until(`${more} more acknowledged writes (at ${this.acks}, errors ${JSON.stringify(Object.fromEntries(this.errors))})`, timeoutMs, () => (this.acks >= target ? true : undefined), 20);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    await Promise.all(this.clients.map((c) => c.close().catch(() => undefined)));
  }

  /** Reads back every acknowledged write through a fresh session; returns what is missing or wrong. */
  async lostWrites(): Promise<string[]> {
    const zk = await connectAll(this.connectString);
    const problems: string[] = [];
    try {
      await zk.sync('/');
      const entries = [...this.ackedCreates];
      for (let i = 0; i < entries.length; i += 200) {
        await Promise.all(
          entries.slice(i, i + 200).map(async ([path, value]) => {
            try {
              const got = text((await zk.getData(path, { linearizable: true })).data);
              if (got !== value) problems.push(`${path} = ${got}, acknowledged ${value}`);
            } catch (error) {
              problems.push(`${path}: ${isZookError(error) ? error.code : String(error)} (acknowledged ${value})`);
            }
          }),
        );
      }
      for (const [k, n] of this.ackedReg) {
        const got = Number(text((await zk.getData(`${this.root}/reg/c${k}`, { linearizable: true })).data));
        if (got < n) problems.push(`${this.root}/reg/c${k} = ${got}, but setData ${n} was acknowledged`);
      }
    } finally {
      await zk.close();
    }
    return problems;
  }
}

/** Creates `count` znodes under `prefix` through `zk`, `window` at a time; returns how many were acknowledged. */
export async function bulkCreate(zk: ZookClient, prefix: string, count: number, window = 100): Promise<number> {
  let acked = 0;
  for (let i = 0; i < count; i += window) {
    const batch = Array.from({ length: Math.min(window, count - i) }, (_, j) => zk.create(`${prefix}-${i + j}`, `v${i + j}`).then(() => acked++));
    await Promise.all(batch);
  }
  return acked;
}

/**
 * The register workload: `clients` sessions on one znode holding a number, each
 * looping: setData(next unique increasing value) or getData({ linearizable: true }),
 * every op recorded in a History (invoke before sending, complete on the reply; a
 * write that failed with ConnectionLoss / OperationTimeout has an unknown outcome,
 * a read that failed is left out: reads change nothing).
 */
export class RegisterWorkload {
  readonly history = new History();
  private running = true;
  private next = 1;
  private readonly loops: Promise<void>[] = [];
  readonly clients: ZookClient[] = [];
  completed = 0;
  readonly errors = new Map<string, number>();

  private constructor(readonly path: string) {}

  static async start(connectString: string, clients: number, path = '/lin'): Promise<RegisterWorkload> {
    const w = new RegisterWorkload(path);
    const setup = await connectAll(connectString);
    await setup.create(path, '0');
    await setup.close();
    for (let c = 0; c < clients; c++) {
      const zk = await connectAll(connectString);
      w.clients.push(zk);
      w.loops.push(w.loop(c, zk));
    }
    return w;
  }

  private async loop(c: number, zk: ZookClient): Promise<void> {
    let i = 0;
    while (this.running) {
      i++;
      const put = (i + c) % 2 === 0;
      const op: HistoryOp = put ? this.history.invoke(c, 0, 'put', this.next++, 0) : this.history.invoke(c, 0, 'get', 0, 0);
      try {
        if (put) {
          await zk.setData(this.path, String(op.value));
          this.history.ok(op);
        } else {
          const { data } = await zk.getData(this.path, { linearizable: true });
          this.history.ok(op, Number(text(data)));
        }
        this.completed++;
      } catch (error) {
        const code = isZookError(error) ? error.code : String(error);
        this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
        // Any failed setData is counted as unknown (ConnectionLoss, OperationTimeout, even
        // SessionExpired: it may have been applied); a failed read is left out.
        if (put) this.history.unknown(op);
        else this.history.fail(op);
      }
    }
  }

  async waitCompleted(more: number, timeoutMs = 20_000): Promise<void> {
    const target = this.completed + more;
    await until(`${more} more completed register ops`, timeoutMs, () => (this.completed >= target ? true : undefined), 20);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    await Promise.all(this.clients.map((c) => c.close().catch(() => undefined)));
  }
}
