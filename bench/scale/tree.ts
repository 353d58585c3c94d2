// What bench/scale does to a zook ensemble besides the measured load, all through
// its ZooKeeper-protocol port with node-zookeeper-client (the door the load uses):
//   fillTree     N persistent znodes under a root, 1,000 per parent, created by
//                multis of up to 1,000 creates with several multis in flight (a
//                multi that loses its connection is retried once the session is back)
//   holdWatches  sessions that each set a data watch (getData with a watcher) on
//                their share of a list of nodes, and keep them until closed
//   probeServing how long until a server accepts a session and answers a read
import zookeeper, { type Client } from 'node-zookeeper-client';

/** Children per parent in a filled tree (a flat million-child node is not what the dimension means). */
export const FANOUT = 1000;
/** Creates per multi (zook's and ZooKeeper's default limit is 1,000 ops). */
const MULTI_OPS = 1000;

export function openZooKeeperClient(connectString: string, options: { sessionTimeoutMs?: number; spinDelayMs?: number; timeoutMs?: number } = {}): Promise<Client> {
  const client = zookeeper.createClient(connectString, { sessionTimeout: options.sessionTimeoutMs ?? 20_000, spinDelay: options.spinDelayMs ?? 200, retries: 0 });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.close();
      reject(new Error(`no session with ${connectString} within ${options.timeoutMs ?? 30_000} ms`));
    }, options.timeoutMs ?? 30_000);
    client.once('connected', () => {
      clearTimeout(timer);
      resolve(client);
    });
    client.connect();
  });
}

export function closeZooKeeperClient(client: Client): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 2000);
    client.once('disconnected', () => {
      clearTimeout(timer);
      resolve();
    });
    client.close();
  });
}

/** Creates `paths` in one multi. A multi is atomic: NodeExists on its first path means an earlier try went through. */
function multiCreate(client: Client, paths: readonly string[], data: Buffer | null): Promise<void> {
  const tx = client.transaction();
  for (const p of paths) tx.create(p, data, zookeeper.CreateMode.PERSISTENT);
  return new Promise((resolve, reject) =>
    tx.commit((error) => {
      if (error === null || error.getCode() === zookeeper.Exception.NODE_EXISTS) resolve();
      else reject(Object.assign(new Error(`multi of ${paths.length} creates (${paths[0]}...): ${String(error)}`), { zkCode: error.getCode() }));
    }),
  );
}

/** Whether `client` is (or within `timeoutMs` gets) connected again; false once its session expired. */
function reconnected(client: Client, timeoutMs: number): Promise<boolean> {
  const state = client.getState().code;
  if (state === 3) return Promise.resolve(true);
  if (state === -122) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      client.removeListener('connected', onConnected);
      client.removeListener('expired', onExpired);
      resolve(ok);
    };
    const onConnected = (): void => done(true);
    const onExpired = (): void => done(false);
    const timer = setTimeout(() => done(false), timeoutMs);
    client.once('connected', onConnected);
    client.once('expired', onExpired);
  });
}

/**
 * The prefill's sessions. A multi that fails with a lost connection is retried once
 * the library has reconnected its session; a session that does not come back within
 * 15 s is replaced by a fresh one. (Filling 1M znodes on a 2-core machine, the
 * connections to the leader have dropped when it took a snapshot of about 950k
 * znodes and leadership moved.)
 */
class SessionPool {
  private readonly slots: Array<Promise<Client>>;
  /** Multis retried after a lost connection. */
  retried = 0;
  /** Sessions replaced because they did not reconnect. */
  replaced = 0;
  private readonly abandoned: Client[] = [];

  constructor(private readonly connectString: string, size: number) {
    this.slots = Array.from({ length: size }, () => openZooKeeperClient(connectString));
  }

  get size(): number {
    return this.slots.length;
  }

  client(slot: number): Promise<Client> {
    return this.slots[slot];
  }

  /** Replaces `failed` in `slot` (once, however many of its requests failed). */
  private replace(slot: number, failed: Client): Promise<Client> {
    return this.slots[slot].then((current) => {
      if (current !== failed) return current;
      this.replaced++;
      this.abandoned.push(failed);
      const next = openZooKeeperClient(this.connectString);
      this.slots[slot] = next;
      return next;
    });
  }

  async close(): Promise<void> {
    // node-zookeeper-client's close() of a session that is not connected keeps
    // reconnecting to send its close: only connected sessions are closed.
    const all = [...(await Promise.all(this.slots)), ...this.abandoned];
    await Promise.all(all.map((c) => (c.getState().code === 3 ? closeZooKeeperClient(c) : Promise.resolve())));
  }

  /** Runs a multi on `slot`'s session, again after a lost connection (up to 5 tries). */
  async multi(slot: number, paths: readonly string[], data: Buffer | null): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.client(slot);
      try {
        return await multiCreate(client, paths, data);
      } catch (error) {
        const code = (error as { zkCode?: number }).zkCode;
        // CONNECTION_LOSS -4, OPERATION_TIMEOUT -7, SESSION_EXPIRED -112
        if (attempt >= 5 || (code !== -4 && code !== -7 && code !== -112)) throw error;
        this.retried++;
        if (!(await reconnected(client, 15_000))) await this.replace(slot, client);
      }
    }
  }
}

function createIfMissing(client: Client, path: string): Promise<void> {
  return new Promise((resolve, reject) =>
    client.create(path, null, zookeeper.CreateMode.PERSISTENT, (error) => (error === null || error.getCode() === zookeeper.Exception.NODE_EXISTS ? resolve() : reject(error))),
  );
}

/** The path of node `i` of a tree filled under `root`. */
export function treeNodePath(root: string, i: number): string {
  return `${root}/d${Math.floor(i / FANOUT)}/n${i % FANOUT}`;
}

/** Runs `tasks` with at most `window` of them in flight. */
async function inWindows(tasks: ReadonlyArray<() => Promise<void>>, window: number): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < tasks.length) await tasks[next++]();
  };
  await Promise.all(Array.from({ length: Math.min(window, tasks.length) }, lane));
}

export interface FillOptions {
  /** Bytes of data per leaf (default 100). */
  readonly valueBytes?: number;
  /** Multis in flight (default 8). */
  readonly window?: number;
  /** Sessions the multis are dealt over (default 2). */
  readonly sessions?: number;
}

export interface Filled {
  readonly seconds: number;
  /** Multis retried after their session lost its connection. */
  readonly multisRetried: number;
  /** Sessions replaced because they did not reconnect. */
  readonly sessionsReplaced: number;
}

/**
 * Creates `count` leaves under `root` (its parents included) through `connectString`:
 * root/d<k>/n<j>, FANOUT leaves per d<k>, in multis of up to 1,000 creates dealt
 * over a few sessions.
 */
export async function fillTree(connectString: string, root: string, count: number, options: FillOptions = {}): Promise<Filled> {
  const started = performance.now();
  if (count <= 0) return { seconds: 0, multisRetried: 0, sessionsReplaced: 0 };
  const pool = new SessionPool(connectString, options.sessions ?? 2);
  try {
    const first = await pool.client(0);
    const parts = root.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) await createIfMissing(first, `/${parts.slice(0, i).join('/')}`);
    const dirs = Math.ceil(count / FANOUT);
    const data = Buffer.alloc(options.valueBytes ?? 100, 0x62);
    const window = options.window ?? 8;
    const dirPaths = Array.from({ length: dirs }, (_, k) => `${root}/d${k}`);
    const batches: string[][] = [];
    for (let i = 0; i < dirPaths.length; i += MULTI_OPS) batches.push(dirPaths.slice(i, i + MULTI_OPS));
    await inWindows(batches.map((b, i) => () => pool.multi(i % pool.size, b, null)), window);
    const leafBatches: string[][] = [];
    for (let i = 0; i < count; i += MULTI_OPS) leafBatches.push(Array.from({ length: Math.min(MULTI_OPS, count - i) }, (_, j) => treeNodePath(root, i + j)));
    await inWindows(leafBatches.map((b, i) => () => pool.multi(i % pool.size, b, data)), window);
    return { seconds: (performance.now() - started) / 1000, multisRetried: pool.retried, sessionsReplaced: pool.replaced };
  } finally {
    await pool.close();
  }
}

export interface HeldWatches {
  /** Watches set (one per node and session that read it). */
  readonly watches: number;
  readonly seconds: number;
  /** Watch events that fired while held (none expected: nothing writes these nodes). */
  readonly fired: () => number;
  close(): Promise<void>;
}

/**
 * Opens one session per entry of `connectStrings` and sets a data watch on each of
 * `paths`, the paths dealt out round-robin over the sessions; `window` reads in flight
 * per session. The watches stay until close().
 */
export async function holdWatches(connectStrings: readonly string[], paths: readonly string[], window = 256): Promise<HeldWatches> {
  const started = performance.now();
  const clients = await Promise.all(connectStrings.map((c) => openZooKeeperClient(c)));
  let fired = 0;
  const onEvent = (): void => void fired++;
  await Promise.all(
    clients.map((client, s) => {
      const mine = paths.filter((_, i) => i % clients.length === s);
      return inWindows(
        mine.map((p) => () => new Promise<void>((resolve, reject) => client.getData(p, onEvent, (error) => (error === null ? resolve() : reject(new Error(`getData ${p}: ${String(error)}`)))))),
        window,
      );
    }),
  );
  return {
    watches: paths.length,
    seconds: (performance.now() - started) / 1000,
    fired: () => fired,
    close: async () => void (await Promise.all(clients.map(closeZooKeeperClient))),
  };
}

/**
 * Waits until `hostPort` gives a session (zook holds the handshake until the server
 * has a leader and has applied what it had committed) and answers getData of `path`;
 * retries every few ms while the server is not listening yet. Returns the
 * performance.now() of the answer.
 */
export async function probeServing(hostPort: string, path: string, timeoutMs = 300_000): Promise<number> {
  const client = await openZooKeeperClient(hostPort, { spinDelayMs: 10, timeoutMs });
  try {
    await new Promise<void>((resolve, reject) => client.getData(path, (error) => (error === null ? resolve() : reject(error))));
    return performance.now();
  } finally {
    await closeZooKeeperClient(client);
  }
}
