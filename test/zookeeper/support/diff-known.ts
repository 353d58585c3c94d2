// Differences between zook and ZooKeeper 3.8 that the differential test found and
// that live in zook's server core (src/tree), not in its ZooKeeper door. Until they
// are settled there, the default run steps around them (each is recognised in the
// answers, folded to ZooKeeper's and counted), so that the test keeps guarding
// everything else. ZOOK_DIFF_STRICT=1 turns all of this off.
import type { RawAcl } from './diff-client.js';
import { ACLS, type AclName, type Op, Perms, USERS, type User, digestId } from './diff-ops.js';

/** `folded`: recognised in the answers and folded to ZooKeeper's; otherwise never generated. */
export const KNOWN_DIFFERENCES = {
  watchNeedsRead: {
    folded: true,
    text: 'watch events on a node the watching session may not READ at trigger time: ZooKeeper does not deliver them (the CVE-2024-23944 fix: ServerCnxn.process checks READ; in Debian 3.8.0-11+deb12u2, upstream 3.8.4 / 3.9.2), zook delivers them',
  },
} as const;
export type KnownDifference = keyof typeof KNOWN_DIFFERENCES;

const LOCAL_IP = '127.0.0.1';

/**
 * What ACL each path has and which users each session added, as ZooKeeper's
 * successful answers say: enough to tell whether a session may READ a node.
 */
export class AclModel {
  private readonly acl = new Map<string, readonly RawAcl[]>();
  private readonly users: [Set<User>, Set<User>] = [new Set(), new Set()];

  /** ZooKeeper's fixupACL: an `auth` entry becomes one entry per digest id the session added. */
  private expand(name: AclName, c: 0 | 1): RawAcl[] {
    const out: RawAcl[] = [];
    for (const a of ACLS[name]) {
      if (a.scheme === 'auth') for (const user of this.users[c]) out.push({ perms: a.perms, scheme: 'digest', id: digestId(USERS[user]) });
      else out.push(a);
    }
    return out;
  }

  set(path: string, name: AclName, c: 0 | 1): void {
    this.acl.set(path, this.expand(name, c));
  }

  addUser(c: 0 | 1, user: User): void {
    this.users[c].add(user);
  }

  newSession(c: 0 | 1): void {
    this.users[c].clear();
  }

  /** True when session c may READ path (a path never seen counts as readable). */
  canRead(c: 0 | 1, path: string): boolean {
    const list = this.acl.get(path);
    if (list === undefined) return true;
    const ids = new Set([...this.users[c]].map((u) => digestId(USERS[u])));
    return list.some(
      (a) =>
        (a.perms & Perms.READ) !== 0 &&
        ((a.scheme === 'world' && a.id === 'anyone') || (a.scheme === 'digest' && ids.has(a.id)) || (a.scheme === 'ip' && a.id === LOCAL_IP)),
    );
  }
}

interface Answer {
  readonly err: number;
  readonly [key: string]: unknown;
}

/**
 * zook's answer with the known differences ZooKeeper's answer shows folded to
 * ZooKeeper's form; `waived` counts each use.
 */
export function foldKnown(op: Op, zk: Answer, zook: Answer, model: AclModel, waived: Map<KnownDifference, number>): Answer {
  const count = (k: KnownDifference, n = 1): void => void waived.set(k, (waived.get(k) ?? 0) + n);
  let out: Answer = zook;
  const events = zook.events as Record<string, [number, string][]> | undefined;
  if (events !== undefined) {
    const kept: Record<string, [number, string][]> = {};
    for (const [slot, list] of Object.entries(events)) {
      const c = slot === 'A' ? 0 : 1;
      kept[slot] = list.filter(([, path]) => model.canRead(c, path));
      if (kept[slot].length !== list.length) count('watchNeedsRead', list.length - kept[slot].length);
    }
    out = { ...out, events: kept };
  }
  return out;
}
