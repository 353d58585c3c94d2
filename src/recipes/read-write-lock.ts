// A fair read/write lock (Curator's InterProcessReadWriteLock): readers and writers
// queue in one directory. A writer waits on whichever node is just before it; a
// reader waits only on the nearest writer before it, so readers share.
import type { ZookClient } from '../client/index.js';
import { OrderedLock, type LockOptions } from './lock.js';
import { firstInLine, type TurnPolicy } from './ordered-wait.js';

const READ = '__READ__';
const WRITE = '__WRITE__';

const readerPolicy: TurnPolicy = (ordered, index) => {
  for (let i = index - 1; i >= 0; i--) if (ordered[i].includes(WRITE)) return { through: false, watch: ordered[i] };
  return { through: true };
};

export class ReadWriteLock {
  /** Shared: many holders at once, while no writer is ahead of them. */
  readonly readLock: OrderedLock;
  /** Exclusive: waits for every node (reader or writer) ahead of it. */
  readonly writeLock: OrderedLock;

  constructor(zk: ZookClient, path: string, options: LockOptions = {}) {
    this.readLock = new OrderedLock(zk, path, READ, readerPolicy, options);
    this.writeLock = new OrderedLock(zk, path, WRITE, firstInLine, options);
  }
}
