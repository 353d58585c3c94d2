/** Thrown when an invariant the code relies on is broken: a bug, never bad input. */
export class AssertionError extends Error {
  override name = 'AssertionError';
}

/**
 * Crashes loudly when an invariant does not hold. Use for bugs, not for validating
 * input. On hot paths pass the message as a function: a template string is built on
 * every call even when the assertion holds.
 */
export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new AssertionError(typeof message === 'string' ? message : message());
}
