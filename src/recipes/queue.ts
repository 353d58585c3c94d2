// A FIFO distributed queue (ZooKeeper's queue recipe, Curator's
// SimpleDistributedQueue): put() adds a persistent sequential node (ordered by its
// sequence number; the name starts with a GUID, see put()); take() reads
// the head and claims it with a versioned delete. Only one consumer's delete can
// succeed, and that consumer owns the item; the others move on to the next one.
//
// Unlike SimpleDistributedQueue, a take survives a ConnectionLoss on its delete:
// the delete goes in one multi with the create of an ephemeral claim node named
// after the item, so after a lost reply the consumer asks "does my session own the
// claim?" instead of guessing. Items are delivered exactly once while sessions live.
import { isZookError, type Data, type ZookClient } from '../client/index.js';
import { checkPath, deleteIfPresent, ensurePath, isRetryable, joinPath, MAX_LOSS_RETRIES, sortBySequence, withLossRetry } from './paths.js';
import { createProtected } from './protected-create.js';
import { deadlineOf, Wake, type WaitOptions } from './wake.js';

const ITEM_PREFIX = 'qn-';
const CLAIMS = 'claims';

export class DistributedQueue {
  readonly path: string;
  private readonly claimsPath: string;
  private prepared = false;

  constructor(
    private readonly zk: ZookClient,
    path: string,
  ) {
    this.path = checkPath(path);
    this.claimsPath = joinPath(this.path, CLAIMS);
  }

  /**
   * Adds an item at the tail; resolves with its node path. The node's name carries
   * a GUID (a protected create), so a put whose reply is lost is found again rather
   * than added twice or left in doubt.
   */
  async put(data: Data): Promise<string> {
    await this.prepare();
    return (await createProtected(this.zk, this.path, ITEM_PREFIX, data, 'PERSISTENT_SEQUENTIAL')).path;
  }

  /** Items waiting. */
  async size(): Promise<number> {
    await this.prepare();
    return (await this.list()).length;
  }

  /** Takes the head item if there is one, without waiting. */
  async poll(): Promise<Uint8Array | null> {
    await this.prepare();
    return this.takeFrom(await this.list());
  }

  /** Takes the head item, waiting for one to arrive; null at the timeout. */
  async take(options: WaitOptions = {}): Promise<Uint8Array | null> {
    const deadlineMs = deadlineOf(options);
    await this.prepare();
    for (;;) {
      options.signal?.throwIfAborted();
      const wake = new Wake();
      const item = await this.takeFrom(await this.list(wake));
      if (item !== null) return item;
      if ((await wake.wait(deadlineMs, options.signal)) === 'timeout') return null;
    }
  }

  private async prepare(): Promise<void> {
    if (this.prepared) return;
    await ensurePath(this.zk, this.claimsPath);
    this.prepared = true;
  }

  private async list(wake?: Wake): Promise<string[]> {
    const names = await withLossRetry(() => this.zk.getChildren(this.path, wake === undefined ? {} : { watch: wake.watcher }));
    return sortBySequence(names.filter((n) => n.includes(ITEM_PREFIX)));
  }

  /** Tries the items in order; the first one we manage to claim is ours. */
  private async takeFrom(ordered: readonly string[]): Promise<Uint8Array | null> {
    for (const name of ordered) {
      let item: { data: Uint8Array; stat: { version: number } };
      try {
        item = await withLossRetry(() => this.zk.getData(joinPath(this.path, name)));
      } catch (error) {
        if (isZookError(error, 'NoNode')) continue; // another consumer took it
        throw error;
      }
      if (await this.claim(name, item.stat.version)) return item.data;
    }
    return null;
  }

  /** Deletes the item and creates our claim in one multi; true if that multi was ours. */
  private async claim(name: string, version: number): Promise<boolean> {
    const itemPath = joinPath(this.path, name);
    const claimPath = joinPath(this.claimsPath, name);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.zk.multi([
          { op: 'delete', path: itemPath, version },
          { op: 'create', path: claimPath, data: '', mode: 'EPHEMERAL' },
        ]);
        break;
      } catch (error) {
        if (isZookError(error, 'NoNode') || isZookError(error, 'BadVersion') || isZookError(error, 'NodeExists')) return false; // someone else won
        if (!isRetryable(error) || attempt >= MAX_LOSS_RETRIES) throw error;
        // The reply was lost: did our multi happen?
        const claim = await withLossRetry(() => this.zk.exists(claimPath));
        if (claim !== null) {
          if (claim.ephemeralOwner === this.zk.sessionId) break;
          return false;
        }
        if ((await withLossRetry(() => this.zk.exists(itemPath))) === null) return false; // taken and its claim already cleared
      }
    }
    // The claim only matters while a reply may be in doubt; clear it in the background.
    void deleteIfPresent(this.zk, claimPath).catch(() => undefined);
    return true;
  }
}
