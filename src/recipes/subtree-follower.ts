// Follows a subtree for the recipes that mirror one (ConfigWatcher, ServiceRing):
// one persistent recursive watch says "something changed below", and `load()` runs
// again: one load at a time, one more if anything arrived meanwhile (events
// coalesce, and an older read never overwrites a newer one), and again after a
// reconnect and on a Compacted event (the server could not replay everything that
// changed while the client was away): the view is complete either way. It ends
// with the session.
import type { ClientState, WatchEvent, ZookClient } from '../client/index.js';
import { isZookError } from '../client/index.js';
import { ensurePath, isRetryable, withLossRetry } from './paths.js';

export type StopReason = 'expired' | 'closed' | 'stopped';

export interface SubtreeHandlers {
  /** Reads the subtree and publishes what it found. */
  load(): Promise<void>;
  /** Sees each node event first (e.g. to note its zxid). */
  event?(event: WatchEvent): void;
  stopped(reason: StopReason): void;
  error(error: unknown): void;
}

export class SubtreeFollower {
  private running = false;
  private refreshing = false;
  private refreshAgain = false;

  constructor(
    private readonly zk: ZookClient,
    readonly path: string,
    private readonly handlers: SubtreeHandlers,
  ) {}

  get isRunning(): boolean {
    return this.running;
  }

  /** Creates the path if missing, watches it, and resolves after the first load. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`already following ${this.path}`);
    this.running = true;
    await ensurePath(this.zk, this.path);
    // Watch first, then read: a change between the two is both seen and read.
    await withLossRetry(() => this.zk.addWatch(this.path, this.onEvent, { mode: 'PERSISTENT_RECURSIVE' }));
    this.zk.on('state', this.onState);
    // Under the refresh guard: an event meanwhile queues one more load after this one.
    this.refreshing = true;
    try {
      await this.handlers.load();
    } finally {
      this.refreshing = false;
    }
    if (this.refreshAgain) this.refresh();
  }

  /** Stops following and drops the watch. */
  async close(): Promise<void> {
    if (!this.running) return;
    this.stop('stopped');
    try {
      await this.zk.removeWatches(this.path, { watcher: this.onEvent, type: 'any' });
    } catch {
      // The session may be gone already; the watch went with it.
    }
  }

  private readonly onEvent = (event: WatchEvent): void => {
    if (event.type === 'None') {
      if (event.state === 'expired' || event.state === 'closed') this.stop(event.state);
      return;
    }
    // Compacted: events were lost in a gap the server's history no longer covers; the load reads them.
    if (event.type !== 'Compacted') this.handlers.event?.(event);
    this.refresh();
  };

  private readonly onState = (state: ClientState): void => {
    if (state === 'connected') this.refresh();
    else if (state === 'expired' || state === 'closed') this.stop(state);
  };

  private stop(reason: StopReason): void {
    if (!this.running) return;
    this.running = false;
    this.zk.off('state', this.onState);
    this.handlers.stopped(reason);
  }

  private refresh(): void {
    if (!this.running) return;
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = true;
    void (async () => {
      try {
        do {
          this.refreshAgain = false;
          try {
            await this.handlers.load();
          } catch (error) {
            if (!isRetryable(error) && !isZookError(error, 'SessionExpired')) this.handlers.error(error);
          }
        } while (this.refreshAgain && this.running);
      } finally {
        this.refreshing = false;
      }
    })();
  }
}
