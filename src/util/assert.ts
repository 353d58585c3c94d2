/** Thrown when an invariant the code relies on is broken: a bug, never bad input. */
export class AssertionError extends Error {
  override name = 'AssertionError';
}

/** Crashes loudly when an invariant does not hold. Use for bugs, not for validating input. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}
