// A configuration subtree kept current in memory (Curator's CuratorCache, made
// consistent): a persistent recursive watch on the root says "something changed";
// the watcher then reads the whole subtree in ONE multiRead, which the server
// answers from a single state of its tree, so a snapshot is never a mix of two
// versions. If that read shows nodes it did not ask for (created since), it reads
// again with the larger set, until one read covers the whole subtree.
import { isZookError, type Data, type MultiOp, type MultiReadOp, type Stat, type ZookClient } from '../client/index.js';
import { TypedEmitter } from './emitter.js';
import { checkPath, joinPath, withLossRetry } from './paths.js';
import { SubtreeFollower } from './subtree-follower.js';

export interface ConfigEntry {
  readonly data: Uint8Array;
  /** The node's data version: what write() checks. */
  readonly version: number;
  readonly stat: Stat;
}

/** One consistent version of the subtree. Keys are paths relative to the root ('' is the root itself, 'db/host'). */
export class ConfigSnapshot {
  constructor(
    /** The zxid of the last change inside the subtree that this snapshot includes (max mzxid / pzxid). */
    readonly zxid: number,
    readonly entries: ReadonlyMap<string, ConfigEntry>,
  ) {}

  get(key: string): Uint8Array | undefined {
    return this.entries.get(key)?.data;
  }

  text(key: string): string | undefined {
    const data = this.get(key);
    return data === undefined ? undefined : new TextDecoder().decode(data);
  }

  keys(): string[] {
    return [...this.entries.keys()].filter((k) => k !== '').sort();
  }
}

export interface ConfigWatcherEvents {
  /** A new consistent version (its zxid is higher than the previous one's). */
  change: [snapshot: ConfigSnapshot];
  /** The session ended: no more changes will come; the last snapshot stays readable. */
  stopped: [reason: 'expired' | 'closed' | 'stopped'];
  error: [error: unknown];
}

export interface ConfigWatcherOptions {
  /** Most nodes in the subtree (two reads each must fit one multiRead of at most 1,000 ops). Default 500. */
  readonly maxNodes?: number;
  /** Give up one refresh after this many re-reads that kept finding new nodes. Default 50. */
  readonly maxReadRounds?: number;
}

/** Key -> new data, or null to delete the key's node. */
export type ConfigChanges = Readonly<Record<string, Data | null>>;

export class ConfigWatcher extends TypedEmitter<ConfigWatcherEvents> {
  readonly root: string;
  private readonly maxNodes: number;
  private readonly maxReadRounds: number;
  private snapshot: ConfigSnapshot | undefined;
  private readonly follower: SubtreeFollower;
  private lastEventZxid = 0;

  constructor(
    private readonly zk: ZookClient,
    root: string,
    options: ConfigWatcherOptions = {},
  ) {
    super();
    this.root = checkPath(root);
    this.maxNodes = options.maxNodes ?? 500;
    this.maxReadRounds = options.maxReadRounds ?? 50;
    if (!Number.isInteger(this.maxNodes) || this.maxNodes < 1 || this.maxNodes > 500) throw new RangeError('maxNodes must be an integer in [1, 500]');
    this.follower = new SubtreeFollower(zk, this.root, {
      load: async () => this.publish(await this.readConsistent()),
      event: (event) => {
        this.lastEventZxid = Math.max(this.lastEventZxid, event.zxid);
      },
      stopped: (reason) => this.emit('stopped', reason),
      error: (error) => this.emit('error', error),
    });
  }

  /** The latest consistent snapshot (undefined before start() resolved). */
  get current(): ConfigSnapshot | undefined {
    return this.snapshot;
  }

  /** Creates the root if missing, starts watching, and resolves with the first snapshot. */
  async start(): Promise<ConfigSnapshot> {
    await this.follower.start();
    return this.snapshot!;
  }

  /** Stops watching. */
  async close(): Promise<void> {
    await this.follower.close();
  }

  /**
   * Writes `changes` in one multi, each checked against the version in `basedOn`
   * (default: the current snapshot): BadVersion / NodeExists / NoNode mean someone
   * else wrote first. A ConnectionLoss leaves it unknown whether the write happened.
   * Resolves once `current` includes the write (read your own writes): its 'change'
   * event has been emitted by then, so code after `await write()` sees it.
   */
  async write(changes: ConfigChanges, options: { readonly basedOn?: ConfigSnapshot } = {}): Promise<void> {
    const base = options.basedOn ?? this.snapshot;
    if (base === undefined) throw new Error('write() needs a snapshot: call start() first or pass basedOn');
    const ops: MultiOp[] = [];
    const creating = new Set<string>();
    for (const [key, value] of Object.entries(changes)) {
      const path = this.pathOf(key);
      const entry = base.entries.get(key);
      if (value === null) {
        if (entry !== undefined) ops.push({ op: 'delete', path, version: entry.version });
      } else if (entry !== undefined) {
        ops.push({ op: 'setData', path, data: value, version: entry.version });
      } else {
        // Parents missing from the snapshot are created first, in path order.
        const parts = key.split('/');
        for (let i = 1; i < parts.length; i++) {
          const parentKey = parts.slice(0, i).join('/');
          if (!base.entries.has(parentKey) && !creating.has(parentKey)) {
            creating.add(parentKey);
            ops.push({ op: 'create', path: this.pathOf(parentKey), data: '' });
          }
        }
        creating.add(key);
        ops.push({ op: 'create', path, data: value });
      }
    }
    if (ops.length === 0) return;
    await this.zk.multi(ops);
    // The watch event for this write may still be on its way; a read after the
    // multi's reply sees it (or newer), and publish() keeps snapshots moving forward.
    // The write itself succeeded: a failing read is reported as 'error', never as a failed write.
    if (!this.follower.isRunning) return;
    try {
      this.publish(await this.readConsistent());
    } catch (error) {
      if (this.follower.isRunning) this.emit('error', error);
    }
  }

  /**
   * Read-modify-write: `compute` gets a fresh consistent snapshot and returns the
   * changes; retried when another writer got in between. Resolves with the attempts used.
   */
  async update(compute: (snapshot: ConfigSnapshot) => ConfigChanges, options: { readonly maxAttempts?: number } = {}): Promise<number> {
    const maxAttempts = options.maxAttempts ?? 20;
    for (let attempt = 1; ; attempt++) {
      const base = await this.readConsistent();
      try {
        await this.write(compute(base), { basedOn: base });
        return attempt;
      } catch (error) {
        const conflict = isZookError(error, 'BadVersion') || isZookError(error, 'NodeExists') || isZookError(error, 'NoNode') || isZookError(error, 'NotEmpty');
        if (!conflict || attempt >= maxAttempts) throw error;
      }
    }
  }

  /** Reads the subtree until one multiRead covers all of it. */
  async readConsistent(): Promise<ConfigSnapshot> {
    let wanted = this.snapshot === undefined ? [this.root] : [...this.snapshot.entries.keys()].map((k) => this.pathOf(k));
    if (!wanted.includes(this.root)) wanted.unshift(this.root);
    for (let round = 0; round < this.maxReadRounds; round++) {
      if (wanted.length > this.maxNodes) throw new RangeError(`config subtree ${this.root} has more than ${this.maxNodes} nodes`);
      const ops: MultiReadOp[] = wanted.flatMap((path) => [
        { op: 'getData' as const, path },
        { op: 'getChildren' as const, path },
      ]);
      const results = await withLossRetry(() => this.zk.multiRead(ops));
      const read = new Map<string, { data: Uint8Array; stat: Stat; children: string[] }>();
      wanted.forEach((path, i) => {
        const d = results[2 * i];
        const c = results[2 * i + 1];
        if ('data' in d && 'children' in c) read.set(path, { data: d.data, stat: d.stat, children: c.children });
      });
      // Walk from the root through what this one read saw; everything it reaches must have been read.
      const entries = new Map<string, ConfigEntry>();
      const missing: string[] = [];
      const reached: string[] = [];
      let zxid = 0;
      const stack = [this.root];
      while (stack.length > 0) {
        const path = stack.pop()!;
        reached.push(path);
        const node = read.get(path);
        if (node === undefined) {
          if (!wanted.includes(path)) missing.push(path);
          continue; // asked for and absent: deleted, consistently, in this read
        }
        entries.set(this.keyOf(path), { data: node.data, version: node.stat.version, stat: node.stat });
        zxid = Math.max(zxid, node.stat.mzxid, node.stat.pzxid);
        for (const child of node.children) stack.push(joinPath(path, child));
      }
      if (missing.length === 0) {
        // No root: the subtree was deleted. Its zxid is no node's; the deletion's
        // watch event reached us before this read's reply did, so the latest event
        // zxid is a zxid at which the subtree is gone.
        if (!read.has(this.root)) zxid = Math.max(this.lastEventZxid, this.snapshot?.zxid ?? 0);
        return new ConfigSnapshot(zxid, entries);
      }
      wanted = reached;
    }
    throw new Error(`config subtree ${this.root} kept changing shape for ${this.maxReadRounds} reads`);
  }

  private pathOf(key: string): string {
    return key === '' ? this.root : joinPath(this.root, key);
  }

  private keyOf(path: string): string {
    return path === this.root ? '' : path.slice(this.root === '/' ? 1 : this.root.length + 1);
  }

  private publish(snapshot: ConfigSnapshot): void {
    const previous = this.snapshot;
    if (previous !== undefined && snapshot.zxid <= previous.zxid) return;
    this.snapshot = snapshot;
    this.emit('change', snapshot);
  }
}
