// A shared integer (Curator's DistributedAtomicLong, optimistic mode): read the
// value and its version, write value + delta only if the version is unchanged,
// retry when another client got in first.
import { isZookError, type ZookClient } from '../client/index.js';
import { checkPath, ensurePath, withLossRetry } from './paths.js';

export interface CounterOptions {
  /** Give up (throw BadVersion) after this many lost races. Default 100. */
  readonly maxAttempts?: number;
}

export class AtomicCounter {
  readonly path: string;
  private readonly maxAttempts: number;

  constructor(
    private readonly zk: ZookClient,
    path: string,
    options: CounterOptions = {},
  ) {
    this.path = checkPath(path);
    this.maxAttempts = options.maxAttempts ?? 100;
  }

  /** The current value (0 if the counter was never written). */
  async get(): Promise<number> {
    return (await this.read()).value;
  }

  /**
   * Adds `delta` and resolves with the new value. A ConnectionLoss on the write is
   * passed on: the add may or may not have happened (re-read with get()).
   */
  async add(delta: number): Promise<number> {
    if (!Number.isSafeInteger(delta)) throw new RangeError(`delta must be a safe integer, got ${delta}`);
    for (let attempt = 1; ; attempt++) {
      const { value, version } = await this.read();
      const next = value + delta;
      try {
        await this.zk.setData(this.path, String(next), { version });
        return next;
      } catch (error) {
        if (!isZookError(error, 'BadVersion') || attempt >= this.maxAttempts) throw error;
      }
    }
  }

  increment(): Promise<number> {
    return this.add(1);
  }

  decrement(): Promise<number> {
    return this.add(-1);
  }

  private async read(): Promise<{ value: number; version: number }> {
    for (;;) {
      try {
        const { data, stat } = await withLossRetry(() => this.zk.getData(this.path));
        const text = new TextDecoder().decode(data);
        const value = text === '' ? 0 : Number(text);
        if (!Number.isSafeInteger(value)) throw new Error(`counter ${this.path} holds "${text}", not an integer`);
        return { value, version: stat.version };
      } catch (error) {
        if (!isZookError(error, 'NoNode')) throw error;
        const parent = this.path.slice(0, this.path.lastIndexOf('/')) || '/';
        await ensurePath(this.zk, parent);
        try {
          await withLossRetry(() => this.zk.create(this.path, '0'));
        } catch (e) {
          if (!isZookError(e, 'NodeExists')) throw e;
        }
      }
    }
  }
}
