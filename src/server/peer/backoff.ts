// Reconnect delays: exponential, capped, with "equal jitter" so that nodes that
// lost a link at the same moment do not redial in lockstep. `random` is injected
// (Math.random in production, a seeded source in tests).

export interface BackoffOptions {
  readonly reconnectBaseDelayMs: number;
  readonly reconnectMaxDelayMs: number;
  /** Uniform in [0, 1). */
  readonly random: () => number;
}

/** Delay before redial number `attempt` (0 = the first retry after a failure), in ms. */
export function reconnectDelayMs(attempt: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.reconnectMaxDelayMs, options.reconnectBaseDelayMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + options.random() * (ceiling / 2));
}
