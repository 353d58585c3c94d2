// Random write requests over a small namespace (so names collide, versions match
// and miss, parents exist and vanish), for the model and determinism tests.
import type { SeededRandom } from '../../src/util/random.js';
import { digestId, type Acl, type CreateMode, type CreateRequest, type Id, type MultiOpRequest, type NodeData, type WriteRequest } from '../../src/tree/index.js';

export const ALICE: Id = { scheme: 'digest', id: digestId('alice', 'secret') };
/** Session ids used by the workload; session 2 is authenticated as alice. */
export const SESSION_IDS = [1, 2, 3, 4];
export const idsOf = (session: number): readonly Id[] => (session === 2 ? [ALICE] : []);

const NAMES = ['a', 'b', 'c', 's-', 'x'];
const BAD_PATHS = ['', 'a', '/a/', '//a', '/a/./b', '/..', '/a\u0000'];
const ACLS: readonly (readonly Acl[])[] = [
  [{ perms: 31, scheme: 'world', id: 'anyone' }],
  [{ perms: 31, scheme: 'world', id: 'anyone' }],
  [{ perms: 31, scheme: 'world', id: 'anyone' }],
  [{ perms: 1, scheme: 'world', id: 'anyone' }],
  [{ perms: 31 & ~4, scheme: 'world', id: 'anyone' }],
  [{ perms: 31 & ~8, scheme: 'world', id: 'anyone' }],
  [{ perms: 1, scheme: 'world', id: 'anyone' }, { perms: 31, scheme: 'digest', id: ALICE.id }],
  [{ perms: 31, scheme: 'auth', id: '' }],
  [],
  [{ perms: 31, scheme: 'digest', id: 'nocolon' }],
];

export class Workload {
  constructor(
    private readonly rng: SeededRandom,
    /** Existing paths, to aim most ops at real nodes. */
    private readonly existing: () => readonly string[],
  ) {}

  path(): string {
    const rng = this.rng;
    if (rng.int(40) === 0) return rng.pick(BAD_PATHS);
    const paths = this.existing();
    if (rng.int(10) < 7 && paths.length > 0) {
      const p = rng.pick(paths);
      // an existing node, or a new child of one
      if (rng.int(2) === 0) return p;
      return (p === '/' ? '' : p) + '/' + rng.pick(NAMES);
    }
    const depth = rng.between(1, 3);
    let p = '';
    for (let i = 0; i < depth; i++) p += '/' + rng.pick(NAMES);
    return p;
  }

  version(): number {
    const r = this.rng.int(10);
    return r < 5 ? -1 : r < 9 ? this.rng.int(3) : -2;
  }

  /** Bytes, sometimes none, sometimes null (ZooKeeper's null buffer). */
  data(): NodeData {
    const n = this.rng.int(13);
    return n === 12 ? null : this.rng.bytes(n);
  }

  create(): CreateRequest {
    const rng = this.rng;
    const mode = rng.int(7) as CreateMode;
    const ttl = mode === 5 || mode === 6 ? (rng.int(20) === 0 ? 0 : rng.between(1, 5000)) : rng.int(50) === 0 ? 100 : undefined;
    const path = mode === 2 || mode === 3 || mode === 6 ? this.path().replace(/\/$/, '') + (rng.int(3) === 0 ? '/' : '') : this.path();
    return { type: 'create', path: path === '' ? '/' : path, data: this.data(), acl: rng.pick(ACLS), mode, ttlMs: ttl };
  }

  op(): MultiOpRequest {
    switch (this.rng.int(4)) {
      case 0:
        return this.create();
      case 1:
        return { type: 'delete', path: this.path(), version: this.version() };
      case 2:
        return { type: 'setData', path: this.path(), data: this.data(), version: this.version() };
      default:
        return { type: 'check', path: this.path(), version: this.version() };
    }
  }

  request(): WriteRequest {
    const rng = this.rng;
    const r = rng.int(100);
    if (r < 30) return this.create();
    if (r < 45) return { type: 'delete', path: this.path(), version: this.version() };
    if (r < 65) return { type: 'setData', path: this.path(), data: this.data(), version: this.version() };
    if (r < 72) return { type: 'setACL', path: this.path(), acl: rng.pick(ACLS), version: rng.int(4) === 0 ? rng.int(3) : -1 };
    if (r < 88) return { type: 'multi', ops: Array.from({ length: rng.int(5) }, () => this.op()) };
    if (r < 90) return { type: 'sync', path: this.path() };
    if (r < 92) return { type: 'closeSession', sessionId: rng.pick(SESSION_IDS) };
    return { type: 'createSession', sessionId: rng.pick(SESSION_IDS), timeoutMs: rng.between(1000, 30000) };
  }
}
