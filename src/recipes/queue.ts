// A FIFO distributed queue (ZooKeeper's queue recipe, Curator's
// SimpleDistributedQueue): put() adds a persistent sequential node; take() reads
// the head and claims it with a versioned delete. Only one consumer's delete can
// succeed, and that consumer owns the item; the others move on to the next one.
import { isZookError, type Data, type ZookClient } from '../client/index.js';
import { checkPath, ensurePath, joinPath, sortBySequence, withLossRetry } from './paths.js';
import { deadlineOf, Wake, type WaitOptions } from './wake.js';

const ITEM_PREFIX = 'qn-';

export class DistributedQueue {
  readonly path: string;

  constructor(
    private readonly zk: ZookClient,
    path: string,
  ) {
    this.path = checkPath(path);
  }

  /** Adds an item at the tail; resolves with its node path. */
  async put(data: Data): Promise<string> {
    try {
      return await this.zk.create(joinPath(this.path, ITEM_PREFIX), data, { mode: 'PERSISTENT_SEQUENTIAL' });
    } catch (error) {
      if (!isZookError(error, 'NoNode')) throw error;
      await ensurePath(this.zk, this.path);
      return this.zk.create(joinPath(this.path, ITEM_PREFIX), data, { mode: 'PERSISTENT_SEQUENTIAL' });
    }
  }

  /** Items waiting. */
  async size(): Promise<number> {
    try {
      return (await withLossRetry(() => this.zk.getChildren(this.path))).length;
    } catch (error) {
      if (isZookError(error, 'NoNode')) return 0;
      throw error;
    }
  }

  /** Takes the head item if there is one, without waiting. */
  async poll(): Promise<Uint8Array | null> {
    return this.takeFrom(await this.list());
  }

  /** Takes the head item, waiting for one to arrive; null at the timeout. */
  async take(options: WaitOptions = {}): Promise<Uint8Array | null> {
    const deadlineMs = deadlineOf(options);
    for (;;) {
      options.signal?.throwIfAborted();
      const wake = new Wake();
      const item = await this.takeFrom(await this.list(wake));
      if (item !== null) return item;
      if ((await wake.wait(deadlineMs, options.signal)) === 'timeout') return null;
    }
  }

  private async list(wake?: Wake): Promise<string[]> {
    try {
      return sortBySequence(await withLossRetry(() => this.zk.getChildren(this.path, wake === undefined ? {} : { watch: wake.watcher })));
    } catch (error) {
      if (!isZookError(error, 'NoNode')) throw error;
      await ensurePath(this.zk, this.path);
      return sortBySequence(await withLossRetry(() => this.zk.getChildren(this.path, wake === undefined ? {} : { watch: wake.watcher })));
    }
  }

  /** Tries the items in order; the first whose delete succeeds is ours. */
  private async takeFrom(ordered: readonly string[]): Promise<Uint8Array | null> {
    for (const name of ordered) {
      const path = joinPath(this.path, name);
      try {
        const { data, stat } = await withLossRetry(() => this.zk.getData(path));
        // Not retried: after a ConnectionLoss we cannot tell whether our delete
        // won, so the error goes to the caller (the item may be lost: at most once).
        await this.zk.delete(path, { version: stat.version });
        return data;
      } catch (error) {
        if (!isZookError(error, 'NoNode')) throw error; // another consumer took it
      }
    }
    return null;
  }
}
