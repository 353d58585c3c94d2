// Leader election as a latch (Curator's LeaderLatch): every participant keeps a
// protected ephemeral sequential node under `path`; the first in sequence order
// leads, each other one watches only its predecessor. Leadership is dropped
// ('follower') as soon as the connection is lost, because the session may be
// expiring unseen and another participant may take over; it comes back on
// reconnect with the same session if our node is still first.
import type { ClientState, WatchEvent, ZookClient } from '../client/index.js';
import { isZookError } from '../client/index.js';
import { TypedEmitter } from './emitter.js';
import { checkPath, deleteIfPresent, isRetryable, joinPath, nameOf, sortBySequence, withLossRetry } from './paths.js';
import { createProtected } from './protected-create.js';
import { deadlineOf, Wake, type WaitOptions } from './wake.js';

export type LatchState = 'latent' | 'started' | 'closed';

export interface LeaderLatchEvents {
  leader: [];
  follower: [];
  /** The session ended (expired or closed): the latch is closed; a new client and latch are needed. */
  closed: [reason: 'expired' | 'closed' | 'stopped'];
  /** A background step failed with something other than a connection problem. */
  error: [error: unknown];
}

export interface LeaderLatchOptions {
  /** This participant's id, stored in its node (see participants()). Default empty. */
  readonly id?: string;
}

export class LeaderLatch extends TypedEmitter<LeaderLatchEvents> {
  readonly path: string;
  readonly id: string;
  private stateNow: LatchState = 'latent';
  private leader = false;
  private ourPath: string | undefined;
  private checking = false;
  private checkAgain = false;

  constructor(
    private readonly zk: ZookClient,
    path: string,
    options: LeaderLatchOptions = {},
  ) {
    super();
    this.path = checkPath(path);
    this.id = options.id ?? '';
  }

  get state(): LatchState {
    return this.stateNow;
  }

  /** True only while this participant leads and its connection is up. */
  isLeader(): boolean {
    return this.leader;
  }

  /** Joins the election; resolves once our node exists (leadership is reported by events / isLeader()). */
  async start(): Promise<void> {
    if (this.stateNow !== 'latent') throw new Error('a LeaderLatch starts once');
    this.stateNow = 'started';
    this.zk.on('state', this.onState);
    await this.join();
  }

  /** Resolves true once leader, false at the timeout or if the latch closes first. */
  async waitForLeadership(options: WaitOptions = {}): Promise<boolean> {
    const deadlineMs = deadlineOf(options);
    while (!this.leader) {
      if (this.stateNow === 'closed') return false;
      const wake = new Wake();
      const fire = (): void => wake.watcher();
      this.once('leader', fire);
      this.once('closed', fire);
      try {
        if ((await wake.wait(deadlineMs, options.signal)) === 'timeout') return this.leader;
      } finally {
        this.off('leader', fire);
        this.off('closed', fire);
      }
    }
    return true;
  }

  /** Gives up leadership (or our place in line) and rejoins at the back. */
  async resign(): Promise<void> {
    if (this.stateNow !== 'started') throw new Error('resign() needs a started latch');
    const old = this.ourPath;
    this.ourPath = undefined;
    this.setLeader(false);
    if (old !== undefined) await deleteIfPresent(this.zk, old);
    await this.join();
  }

  /** Leaves the election for good (deletes our node); a leader hands over. */
  async close(): Promise<void> {
    if (this.stateNow === 'closed') return;
    const old = this.ourPath;
    this.finish('stopped');
    if (old !== undefined) await deleteIfPresent(this.zk, old);
  }

  /** The participants' ids in line order; the first leads. */
  async participants(): Promise<{ id: string; leader: boolean }[]> {
    const ordered = sortBySequence(await withLossRetry(() => this.zk.getChildren(this.path)));
    const result: { id: string; leader: boolean }[] = [];
    for (const name of ordered) {
      try {
        const { data } = await withLossRetry(() => this.zk.getData(joinPath(this.path, name)));
        result.push({ id: new TextDecoder().decode(data), leader: result.length === 0 });
      } catch (error) {
        if (!isZookError(error, 'NoNode')) throw error;
      }
    }
    return result;
  }

  private async join(): Promise<void> {
    const node = await createProtected(this.zk, this.path, 'latch-', this.id, 'EPHEMERAL_SEQUENTIAL');
    if (this.stateNow !== 'started') {
      await deleteIfPresent(this.zk, node.path);
      return;
    }
    this.ourPath = node.path;
    this.check();
  }

  /** Re-evaluates our place; runs one at a time, again if asked while running. */
  private check(): void {
    if (this.checking) {
      this.checkAgain = true;
      return;
    }
    this.checking = true;
    void this.checkLoop();
  }

  private async checkLoop(): Promise<void> {
    // The flag is cleared in this same function, right after the loop's last test
    // (no await in between), so a check() asked for meanwhile is never lost.
    try {
      do {
        this.checkAgain = false;
        try {
          await this.checkOnce();
        } catch (error) {
          if (isRetryable(error)) {
            // Disconnected: the 'connected' state re-runs the check. Still connected (a
            // slow reply timed out): run it again now rather than stall in line.
            if (this.zk.state === 'connected') this.checkAgain = true;
          } else if (!isZookError(error, 'SessionExpired')) {
            this.emit('error', error); // expiry arrives as a state
          }
        }
      } while (this.checkAgain && this.stateNow === 'started');
    } finally {
      this.checking = false;
    }
  }

  private async checkOnce(): Promise<void> {
    for (;;) {
      const ourPath = this.ourPath;
      if (this.stateNow !== 'started' || ourPath === undefined) return;
      const ordered = sortBySequence(await this.zk.getChildren(this.path));
      if (this.ourPath !== ourPath) return; // resigned meanwhile; the new node runs its own check
      const index = ordered.indexOf(nameOf(ourPath));
      if (index < 0) {
        // Our node was deleted under us (by an operator): rejoin rather than stall.
        this.setLeader(false);
        this.ourPath = undefined;
        await this.join();
        return;
      }
      if (index === 0) {
        // The leader watches its own node: if an operator deletes it, the next in
        // line takes over, and this one must step down rather than lead alongside.
        try {
          await this.zk.getData(ourPath, { watch: this.onOwnNode });
        } catch (error) {
          if (isZookError(error, 'NoNode')) continue; // gone already: the list shows it
          throw error;
        }
        if (this.ourPath === ourPath) this.setLeader(this.zk.state === 'connected');
        return;
      }
      this.setLeader(false);
      const wake = (): void => this.check();
      try {
        await this.zk.getData(joinPath(this.path, ordered[index - 1]), { watch: wake });
        return;
      } catch (error) {
        if (!isZookError(error, 'NoNode')) throw error;
      }
    }
  }

  private readonly onOwnNode = (event: WatchEvent): void => {
    if (event.type === 'None') return; // the session's end arrives as a state
    if (event.type === 'NodeDeleted' && event.path === this.ourPath) this.setLeader(false);
    this.check();
  };

  private readonly onState = (state: ClientState): void => {
    if (this.stateNow !== 'started') return;
    if (state === 'disconnected') this.setLeader(false);
    else if (state === 'connected') this.check();
    else this.finish(state);
  };

  private finish(reason: 'expired' | 'closed' | 'stopped'): void {
    if (this.stateNow === 'closed') return;
    this.stateNow = 'closed';
    this.ourPath = undefined;
    this.zk.off('state', this.onState);
    this.setLeader(false);
    this.emit('closed', reason);
  }

  private setLeader(leader: boolean): void {
    if (this.leader === leader) return;
    this.leader = leader;
    this.emit(leader ? 'leader' : 'follower');
  }
}
