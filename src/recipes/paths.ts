// Path and sequence-name helpers shared by the recipes.
import { isZookError, type ZookClient } from '../client/index.js';

export function joinPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

export function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Checks a recipe's base path early, with a clear message, rather than failing deep in a call. */
export function checkPath(path: string): string {
  if (!path.startsWith('/') || (path.length > 1 && path.endsWith('/'))) throw new TypeError(`recipe path must be absolute without a trailing slash, got "${path}"`);
  return path;
}

/** The 10-digit counter ZooKeeper appends to a sequential node's name (-1 if there is none). */
export function sequenceOf(name: string): number {
  const match = /(\d{10})$/.exec(name);
  return match === null ? -1 : Number(match[1]);
}

/**
 * The sequential names among `names`, sorted by sequence number, not by name
 * (protected names start with a random GUID). Anything else in the directory is
 * ignored, so a stray node cannot block a line for ever.
 */
export function sortBySequence(names: readonly string[]): string[] {
  return names.filter((n) => sequenceOf(n) >= 0).sort((a, b) => sequenceOf(a) - sequenceOf(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** Creates `path` and any missing parents as persistent nodes (mkdir -p); existing ones are fine. */
export async function ensurePath(zk: ZookClient, path: string): Promise<void> {
  if (path === '/') return;
  if ((await withLossRetry(() => zk.exists(path))) !== null) return;
  let at = '';
  for (const part of path.slice(1).split('/')) {
    at += `/${part}`;
    try {
      await withLossRetry(() => zk.create(at, ''));
    } catch (error) {
      if (!isZookError(error, 'NodeExists')) throw error;
    }
  }
}

/** Errors after which the session may still be alive and the call worth repeating. */
export function isRetryable(error: unknown): boolean {
  return isZookError(error, 'ConnectionLoss') || isZookError(error, 'OperationTimeout');
}

export const MAX_LOSS_RETRIES = 20;

/**
 * Repeats an idempotent call after ConnectionLoss / OperationTimeout (the client
 * waits for the reconnect before sending again). SessionExpired and every other
 * error go to the caller. Only for calls whose repetition is harmless: reads,
 * or writes whose second attempt's error the caller interprets (NodeExists, NoNode).
 */
export async function withLossRetry<T>(call: () => Promise<T>, maxRetries = MAX_LOSS_RETRIES): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!isRetryable(error) || attempt >= maxRetries) throw error;
    }
  }
}

/** Deletes a node, treating "already gone" (NoNode, or the session that owned it ended) as done. */
export async function deleteIfPresent(zk: ZookClient, path: string): Promise<void> {
  try {
    await withLossRetry(() => zk.delete(path));
  } catch (error) {
    if (isZookError(error, 'NoNode') || isZookError(error, 'SessionExpired')) return;
    throw error;
  }
}
