// Reconnect delays, for clients and for peer links alike: exponential in the number
// of failed attempts in a row, capped, with "equal jitter" so that many parties that
// lost the same server at the same moment do not come back in lockstep. The random
// source is injected so tests are reproducible.

export interface BackoffOptions {
  /** Delay scale for the first retry. */
  readonly baseDelayMs: number;
  /** No delay is ever longer than this. */
  readonly maxDelayMs: number;
  /** Uniform in [0, 1). */
  readonly random: () => number;
}

/**
 * The delay before the next attempt after `failures` failed attempts in a row
 * (0 for the first retry): uniform in [cap/2, cap] with
 * cap = min(maxDelayMs, baseDelayMs * 2^failures), rounded to whole ms.
 */
export function backoffDelayMs(failures: number, options: BackoffOptions): number {
  const cap = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.min(failures, 30));
  const r = Math.min(Math.max(options.random(), 0), 1);
  return Math.min(options.maxDelayMs, Math.round(cap / 2 + (r * cap) / 2));
}
