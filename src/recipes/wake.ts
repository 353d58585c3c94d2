// Waiting for a watch to fire, bounded by a deadline and an AbortSignal, without
// polling or fixed sleeps.
import type { WatchEvent } from '../client/index.js';

/** A one-shot wake-up a watcher can trigger; `wait` resolves 'woken', or 'timeout' at the deadline, and rejects on abort. */
export class Wake {
  private fired = false;
  private resolve: (() => void) | undefined;

  /** Pass as a client watcher: any event (including the session's end) wakes the waiter, who re-checks. */
  readonly watcher = (_event?: WatchEvent): void => {
    this.fired = true;
    this.resolve?.();
  };

  wait(deadlineMs: number, signal?: AbortSignal): Promise<'woken' | 'timeout'> {
    if (this.fired) return Promise.resolve('woken');
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.resolve = undefined;
      };
      const onAbort = (): void => {
        cleanup();
        reject(signal?.reason);
      };
      this.resolve = () => {
        cleanup();
        resolve('woken');
      };
      if (Number.isFinite(deadlineMs)) {
        timer = setTimeout(() => {
          cleanup();
          resolve('timeout');
        }, Math.max(0, deadlineMs - Date.now()));
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

export interface WaitOptions {
  /** Give up (resolve false / null) after this long; default: wait for ever. */
  readonly timeoutMs?: number;
  /** Abort the wait: the call rejects with the signal's reason, and cleans up what it created. */
  readonly signal?: AbortSignal;
}

export function deadlineOf(options: WaitOptions): number {
  const { timeoutMs } = options;
  if (timeoutMs === undefined) return Number.POSITIVE_INFINITY;
  if (!(timeoutMs >= 0)) throw new RangeError(`timeoutMs must be >= 0, got ${timeoutMs}`);
  return Date.now() + timeoutMs;
}
