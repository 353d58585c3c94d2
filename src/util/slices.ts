// Long synchronous work (serializing a whole tree) cut into slices, so the event
// loop still runs heartbeats, acknowledgements and client requests in between.

export interface SliceOptions<T> {
  /** Longest stretch of work between two yields to the event loop. */
  readonly sliceMs: number;
  /** Checked at each yield: true closes `source` and stops. */
  readonly stop?: () => boolean;
  /** Told at each yield (a counter of slices). */
  readonly onYield?: () => void;
  /** The first result, when the caller already started `source` (so that closing it runs its finally). */
  readonly first?: IteratorResult<T, void>;
}

/**
 * Hands every value of `source` to `take`, yielding to the event loop once each
 * stretch of work reaches `sliceMs`. Returns false, having closed `source`, when
 * `stop()` is true at a yield; true once `source` is exhausted.
 */
export async function drainInSlices<T>(source: Iterator<T, void>, take: (value: T) => void | Promise<void>, options: SliceOptions<T>): Promise<boolean> {
  let next = options.first ?? source.next();
  for (;;) {
    const sliceStart = performance.now();
    while (next.done !== true) {
      await take(next.value);
      if (performance.now() - sliceStart >= options.sliceMs) break;
      next = source.next();
    }
    if (next.done === true) return true;
    options.onYield?.();
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (options.stop?.() === true) {
      source.return?.();
      return false;
    }
    next = source.next();
  }
}
