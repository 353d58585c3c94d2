// Curator's "protected" create: the node's name starts with a fresh GUID, so when
// a create fails with ConnectionLoss (it may or may not have been applied) the
// client can look for its own node instead of leaving an orphan that would hold a
// lock forever, or creating a second one.
import { randomUUID } from './uuid.js';
import { isZookError, type Data, type ZookClient } from '../client/index.js';
import { ensurePath, isRetryable, joinPath, MAX_LOSS_RETRIES, withLossRetry } from './paths.js';

export const PROTECTED_PREFIX = '_c_';

export interface ProtectedNode {
  readonly path: string;
  readonly name: string;
}

/** Creates `<dir>/_c_<guid>-<prefix>` (sequential: plus ZooKeeper's counter) once, whatever the connection does. */
export async function createProtected(
  zk: ZookClient,
  dir: string,
  prefix: string,
  data: Data,
  mode: 'EPHEMERAL_SEQUENTIAL' | 'EPHEMERAL' | 'PERSISTENT_SEQUENTIAL',
): Promise<ProtectedNode> {
  const guidPrefix = `${PROTECTED_PREFIX}${randomUUID()}-`;
  for (let attempt = 0; ; attempt++) {
    try {
      const path = await zk.create(joinPath(dir, guidPrefix + prefix), data, { mode });
      return { path, name: path.slice(path.lastIndexOf('/') + 1) };
    } catch (error) {
      if (isZookError(error, 'NoNode') && attempt < MAX_LOSS_RETRIES) {
        await ensurePath(zk, dir);
        continue;
      }
      if (!isRetryable(error) || attempt >= MAX_LOSS_RETRIES) throw error;
      const found = await findProtected(zk, dir, guidPrefix);
      if (found !== undefined) return { path: joinPath(dir, found), name: found };
    }
  }
}

/** The child of `dir` whose name starts with `guidPrefix`, if the create was applied. */
async function findProtected(zk: ZookClient, dir: string, guidPrefix: string): Promise<string | undefined> {
  try {
    const children = await withLossRetry(() => zk.getChildren(dir));
    return children.find((name) => name.startsWith(guidPrefix));
  } catch (error) {
    if (isZookError(error, 'NoNode')) return undefined;
    throw error;
  }
}
