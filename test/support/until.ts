// Waiting for something in a test: poll with a deadline, never sleep a fixed time.

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` until it returns a value other than undefined, or throws after
 * `timeoutMs` naming `what` (and the last error the probe threw, if any).
 */
export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError === null ? '' : ` (last error: ${String(lastError)})`}`);
    await sleep(intervalMs);
  }
}

/** `until` for a condition: resolves once `ok()` is true. */
export async function untilTrue(what: string, ok: () => boolean, timeoutMs = 10_000, intervalMs = 10): Promise<void> {
  await until(what, () => (ok() ? true : undefined), timeoutMs, intervalMs);
}
