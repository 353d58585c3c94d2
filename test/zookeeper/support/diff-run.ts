// Runs one seed's ops against two servers (ZooKeeper, the reference, and zook) with
// two sessions on each, normalizes every answer and compares them op by op.
//
// Normalization (what may differ between two correct servers, and how it is folded):
// - zxids: zook numbers them by its Raft log index, ZooKeeper by epoch|counter, and
//   ZooKeeper also spends zxids on txns no Stat shows (failed writes, sessions). So
//   czxid/mzxid/pzxid are compared through a pairing built as the run goes: the
//   same ZooKeeper zxid must always meet the same zook zxid and order must agree
//   (a monotone bijection: equal ranks among the zxids the run has seen).
// - ctime/mtime: wall clocks. Per side, a time must be a function of its zxid (the
//   txn's time: ctime == mtime when czxid == mzxid, nodes made by one multi share it),
//   never go backwards as zxids grow, and be near now (ms since the epoch). Whether
//   two different txns landed in the same millisecond is chance, so it is not compared.
// - ephemeralOwner: 0, or which of this run's sessions (A1, B1, A2...), or else the
//   raw value (ZooKeeper shows 0 for containers and TTL nodes too).
// - getChildren: sorted (ZooKeeper keeps children in a HashSet and lists them in its
//   iteration order, which no client may rely on). ACLs too: an `auth` entry expands
//   into the session's ids in the order of ZooKeeper's HashSet of them.
// - the watch events a closing session's ephemerals fire are compared as a sorted
//   list (ZooKeeper deletes them in HashSet order; zook in path order).
import { DiffClient, OP, type RawAcl, type RawStat } from './diff-client.js';
import { ACLS, type MultiOp, type Op, OpGenerator, USERS, opText } from './diff-ops.js';
import { type KnownDifference, foldKnown } from './diff-known.js';

/** A zxid as one side reported it; compared through the run's pairing. */
class Zxid {
  constructor(readonly v: bigint) {}
  toJSON(): string {
    return `zxid:0x${this.v.toString(16)}`;
  }
}

interface Answer {
  readonly err: number;
  readonly [key: string]: unknown;
}

const SLOT = ['A', 'B'] as const;

/** ACL entries in a fixed order: an `auth` entry expands into one per id of the session, in ZooKeeper's HashSet order. */
function sortAcl(list: readonly RawAcl[]): RawAcl[] {
  const key = (a: RawAcl): string => `${a.scheme}\u0000${a.id}\u0000${a.perms}`;
  return [...list].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
}

/** One server: two sessions, their labels, and the per-side time checks. */
class Side {
  readonly clients: [DiffClient | null, DiffClient | null] = [null, null];
  private readonly labels = new Map<bigint, string>();
  private readonly generation: [number, number] = [0, 0];
  private readonly timeOf = new Map<bigint, bigint>();
  /** Problems with this side's own answers (times), reported with the op. */
  readonly problems: string[] = [];

  constructor(
    readonly name: string,
    private readonly connectString: string,
  ) {}

  async open(c: 0 | 1): Promise<void> {
    const client = await DiffClient.connect(this.connectString);
    this.generation[c] += 1;
    this.labels.set(client.sessionId, `${SLOT[c]}${this.generation[c]}`);
    this.clients[c] = client;
  }

  client(c: 0 | 1): DiffClient {
    const client = this.clients[c];
    if (client === null) throw new Error(`${this.name}: session ${SLOT[c]} is not open`);
    return client;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.clients.map((client) => client?.close()));
    this.clients[0] = this.clients[1] = null;
  }

  stat(s: RawStat): Record<string, unknown> {
    this.time(s.czxid, s.ctime, 'ctime');
    this.time(s.mzxid, s.mtime, 'mtime');
    return {
      czxid: new Zxid(s.czxid),
      mzxid: new Zxid(s.mzxid),
      pzxid: new Zxid(s.pzxid),
      version: s.version,
      cversion: s.cversion,
      aversion: s.aversion,
      ephemeralOwner: s.ephemeralOwner === 0n ? '0' : (this.labels.get(s.ephemeralOwner) ?? `0x${BigInt.asUintN(64, s.ephemeralOwner).toString(16)}`),
      dataLength: s.dataLength,
      numChildren: s.numChildren,
    };
  }

  private time(zxid: bigint, t: bigint, field: string): void {
    const now = BigInt(Date.now());
    if (t < now - 600_000n || t > now + 600_000n) this.problems.push(`${this.name}: ${field} ${t} of zxid 0x${zxid.toString(16)} is not near now (${now})`);
    const seen = this.timeOf.get(zxid);
    if (seen !== undefined) {
      if (seen !== t) this.problems.push(`${this.name}: ${field} ${t} of zxid 0x${zxid.toString(16)}, but that zxid's time was ${seen} before`);
      return;
    }
    for (const [z, other] of this.timeOf) {
      if ((z < zxid && other > t) || (z > zxid && other < t)) {
        this.problems.push(`${this.name}: ${field} ${t} of zxid 0x${zxid.toString(16)} is out of order with time ${other} of zxid 0x${z.toString(16)}`);
        break;
      }
    }
    this.timeOf.set(zxid, t);
  }

  /** Runs one op; the answer is normalized (zxids still raw, wrapped). */
  async run(op: Op, root: string): Promise<Answer> {
    switch (op.kind) {
      case 'create': {
        const acl = ACLS[op.acl];
        if (op.api === 'create') {
          const res = await this.client(op.c).create(op.path, op.data, acl, op.mode);
          return res.err !== 0 ? { err: res.err } : { err: 0, path: res.value };
        }
        const opCode = op.api === 'create2' ? OP.create2 : op.api === 'createContainer' ? OP.createContainer : OP.createTTL;
        const res = await this.client(op.c).createWithStat(opCode, op.path, op.data, acl, op.mode, op.ttlMs ?? 0);
        return res.err !== 0 ? { err: res.err } : { err: 0, path: res.value!.path, stat: this.stat(res.value!.stat) };
      }
      case 'delete':
        return { err: (await this.client(op.c).remove(op.path, op.version)).err };
      case 'setData': {
        const res = await this.client(op.c).setData(op.path, op.data, op.version);
        return res.err !== 0 ? { err: res.err } : { err: 0, stat: this.stat(res.value!) };
      }
      case 'getData': {
        const res = await this.client(op.c).getData(op.path, op.watch);
        if (res.err !== 0) return { err: res.err };
        const data = res.value!.data;
        return { err: 0, data: data === null ? null : data.toString('hex'), stat: this.stat(res.value!.stat) };
      }
      case 'exists': {
        const res = await this.client(op.c).exists(op.path, op.watch);
        return res.err !== 0 ? { err: res.err } : { err: 0, stat: res.value ? this.stat(res.value) : null };
      }
      case 'getChildren': {
        const res = await this.client(op.c).getChildren(op.path, op.watch);
        return res.err !== 0 ? { err: res.err } : { err: 0, children: [...res.value!.children].sort(), stat: this.stat(res.value!.stat) };
      }
      case 'getACL': {
        const res = await this.client(op.c).getACL(op.path);
        return res.err !== 0 ? { err: res.err } : { err: 0, acl: sortAcl(res.value!.acl), stat: this.stat(res.value!.stat) };
      }
      case 'setACL': {
        const res = await this.client(op.c).setACL(op.path, ACLS[op.acl], op.version);
        return res.err !== 0 ? { err: res.err } : { err: 0, stat: this.stat(res.value!) };
      }
      case 'sync': {
        const res = await this.client(op.c).sync(op.path);
        return res.err !== 0 ? { err: res.err } : { err: 0, path: res.value };
      }
      case 'multi': {
        const ops = op.ops.map((o) => (o.op === 'create' ? { ...o, acl: ACLS[o.acl] } : o));
        const res = await this.client(op.c).multi(ops);
        const results = res.value?.map((r) => ('stat' in r ? { stat: this.stat(r.stat) } : r));
        return { err: res.err, results };
      }
      case 'addAuth':
        this.client(op.c).addAuth('digest', USERS[op.user]);
        return { err: 0 };
      case 'reopen':
        await this.client(op.c).close();
        this.clients[op.c] = null;
        await this.open(op.c);
        return { err: 0 };
      case 'dump':
        return { err: 0, nodes: await this.dump(root) };
    }
  }

  /** getChildren, getData and getACL of every node under root, depth first, as session A sees them. */
  private async dump(root: string): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    const client = this.client(0);
    const visit = async (path: string): Promise<void> => {
      const data = await client.getData(path, false);
      const acl = await client.getACL(path);
      const children = await client.getChildren(path, false);
      out[path] = {
        data: data.err !== 0 ? { err: data.err } : { data: data.value!.data?.toString('hex') ?? null, stat: this.stat(data.value!.stat) },
        acl: acl.err !== 0 ? { err: acl.err } : { acl: sortAcl(acl.value!.acl) },
        children: children.err !== 0 ? { err: children.err } : [...children.value!.children].sort(),
      };
      if (children.err === 0) for (const child of [...children.value!.children].sort()) await visit(`${path}/${child}`);
    };
    await visit(root);
    return out;
  }

  /** A round trip on every open session: any watch event a finished write fired reaches its client before this answer. */
  async settle(root: string): Promise<void> {
    for (const client of this.clients) if (client !== null) await client.exists(root, false);
  }

  eventCounts(): [number, number] {
    return [this.clients[0]?.events.length ?? 0, this.clients[1]?.events.length ?? 0];
  }

  /** Events since `from` per slot (a slot reopened during the op starts again at 0). */
  eventsSince(from: [number, number], reopened: 0 | 1 | null): Record<string, [number, string][]> {
    const out: Record<string, [number, string][]> = {};
    for (const c of [0, 1] as const) {
      const client = this.clients[c];
      const start = c === reopened ? 0 : from[c];
      out[SLOT[c]] = (client?.events.slice(start) ?? []).map((e) => [e.type, e.path]);
    }
    return out;
  }
}

/** Pairs the two sides' zxids: a monotone bijection, checked as pairs arrive. */
class ZxidPairing {
  private readonly zkToZook = new Map<bigint, bigint>();
  private readonly zookToZk = new Map<bigint, bigint>();
  private readonly sorted: bigint[] = [];

  check(zk: bigint, zook: bigint): string | null {
    const mapped = this.zkToZook.get(zk);
    if (mapped !== undefined) return mapped === zook ? null : `ZooKeeper zxid 0x${zk.toString(16)} was paired with zook's 0x${mapped.toString(16)} before, now 0x${zook.toString(16)}`;
    const back = this.zookToZk.get(zook);
    if (back !== undefined) return `zook zxid 0x${zook.toString(16)} was paired with ZooKeeper's 0x${back.toString(16)} before, now 0x${zk.toString(16)}`;
    let i = 0;
    while (i < this.sorted.length && this.sorted[i] < zk) i++;
    const below = i > 0 ? this.sorted[i - 1] : undefined;
    const above = i < this.sorted.length ? this.sorted[i] : undefined;
    if (below !== undefined && this.zkToZook.get(below)! > zook) return `zxid order differs: ZooKeeper 0x${below.toString(16)} < 0x${zk.toString(16)} but zook 0x${this.zkToZook.get(below)!.toString(16)} > 0x${zook.toString(16)}`;
    if (above !== undefined && this.zkToZook.get(above)! < zook) return `zxid order differs: ZooKeeper 0x${zk.toString(16)} < 0x${above.toString(16)} but zook 0x${zook.toString(16)} > 0x${this.zkToZook.get(above)!.toString(16)}`;
    this.sorted.splice(i, 0, zk);
    this.zkToZook.set(zk, zook);
    this.zookToZk.set(zook, zk);
    return null;
  }
}

/** The first difference between two normalized answers, or null. */
function difference(zk: unknown, zook: unknown, pairing: ZxidPairing, at = ''): string | null {
  if (zk instanceof Zxid || zook instanceof Zxid) {
    if (!(zk instanceof Zxid && zook instanceof Zxid)) return `${at}: one side has no zxid`;
    const problem = pairing.check(zk.v, zook.v);
    return problem === null ? null : `${at}: ${problem}`;
  }
  if (Array.isArray(zk) || Array.isArray(zook)) {
    if (!Array.isArray(zk) || !Array.isArray(zook)) return `${at}: not both lists`;
    if (zk.length !== zook.length) return `${at}: ${zk.length} items vs ${zook.length}`;
    for (let i = 0; i < zk.length; i++) {
      const d = difference(zk[i], zook[i], pairing, `${at}[${i}]`);
      if (d !== null) return d;
    }
    return null;
  }
  if (zk !== null && zook !== null && typeof zk === 'object' && typeof zook === 'object') {
    const keys = new Set([...Object.keys(zk), ...Object.keys(zook)]);
    for (const key of keys) {
      const d = difference((zk as Record<string, unknown>)[key], (zook as Record<string, unknown>)[key], pairing, `${at}.${key}`);
      if (d !== null) return d;
    }
    return null;
  }
  return Object.is(zk, zook) ? null : `${at}: ${JSON.stringify(zk)} vs ${JSON.stringify(zook)}`;
}

const show = (value: unknown): string => JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

export interface Servers {
  readonly zookeeper: string;
  readonly zook: string;
}

export interface SeedResult {
  readonly seed: number;
  readonly ops: number;
  /** How often each known difference was stepped around (none in strict mode). */
  readonly waived: ReadonlyMap<KnownDifference, number>;
  /** The first mismatch (the run stops there: after it the two trees may differ). */
  readonly mismatch: string | null;
}

/**
 * One seed: root /diff-<seed>, `count` generated ops, then the final dump.
 * `strict`: compare the known differences too, unfolded (support/diff-known.ts).
 * `trace`: print every op and ZooKeeper's answer (zook's too where they differ).
 * An exception (a client that lost its connection, a session that would not open)
 * ends the seed as a mismatch at the op it happened in.
 */
export async function runSeed(servers: Servers, seed: number, count: number, strict: boolean, trace = false): Promise<SeedResult> {
  const root = `/diff-${seed}`;
  const gen = new OpGenerator(seed, root);
  const waived = new Map<KnownDifference, number>();
  const zk = new Side('ZooKeeper', servers.zookeeper);
  const zook = new Side('zook', servers.zook);
  const pairing = new ZxidPairing();
  let ran = 0;
  let at = 0;
  let op: Op | null = null;
  try {
    await Promise.all([zk.open(0), zk.open(1), zook.open(0), zook.open(1)]);
    for (let i = 0; i <= count + 1; i++) {
      at = i;
      op = i === 0 ? gen.rootOp() : i === count + 1 ? { kind: 'dump', c: 0 } : gen.next();
      const before = [zk.eventCounts(), zook.eventCounts()] as const;
      const [a, b] = await Promise.all([withTimeout(zk.run(op, root)), withTimeout(zook.run(op, root))]);
      const settled = await Promise.all([withTimeout(zk.settle(root)), withTimeout(zook.settle(root))]);
      settled.forEach((r, k) => {
        if (r !== undefined) (k === 0 ? zk : zook).problems.push(`${k === 0 ? 'ZooKeeper' : 'zook'}: the round trip after the op: ${(r as Answer).timedOut}`);
      });
      ran = i;
      const reopened = op.kind === 'reopen' ? op.c : null;
      const eventsZk = zk.eventsSince(before[0], reopened);
      const eventsZook = zook.eventsSince(before[1], reopened);
      if (op.kind === 'reopen') for (const list of [...Object.values(eventsZk), ...Object.values(eventsZook)]) list.sort((x, y) => (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : x[0] - y[0]));
      const zkAnswer = { ...a, events: eventsZk };
      const zookAnswer = strict ? { ...b, events: eventsZook } : foldKnown(op, zkAnswer, { ...b, events: eventsZook }, waived);
      const problem = [...zk.problems.splice(0), ...zook.problems.splice(0)][0] ?? difference(zkAnswer, zookAnswer, pairing);
      // Straight to stderr: one console.log per op would get a vitest header each.
      if (trace) process.stderr.write(`#${i} ${opText(op)}\n  ZooKeeper: ${show(zkAnswer)}${problem === null ? '' : `\n  zook:      ${show(zookAnswer)}`}\n`);
      if (problem !== null) {
        return {
          seed,
          ops: i,
          waived,
          mismatch: [`seed ${seed}, op #${i}: ${opText(op)}`, `  difference at ${problem}`, `  ZooKeeper: ${show(zkAnswer)}`, `  zook:      ${show(zookAnswer)}`].join('\n'),
        };
      }
      learn(gen, op, a);
      op = null;
    }
  } catch (error) {
    const where = op === null ? 'opening the sessions' : `op #${at}: ${opText(op)}`;
    return { seed, ops: ran, waived, mismatch: `seed ${seed}, ${where}\n  threw ${error instanceof Error ? (error.stack ?? error.message) : String(error)}` };
  } finally {
    await Promise.all([zk.closeAll(), zook.closeAll()]);
  }
  return { seed, ops: ran, waived, mismatch: null };
}

/** An answer that never comes is a failure of this op (the message names it), not a hung test. */
const OP_TIMEOUT_MS = 10_000;
async function withTimeout<T>(p: Promise<T>): Promise<T | Answer> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Answer>((resolve) => {
    timer = setTimeout(() => resolve({ err: 0, timedOut: `no answer within ${OP_TIMEOUT_MS} ms` }), OP_TIMEOUT_MS);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Feeds ZooKeeper's answer to the generator's model. */
function learn(gen: OpGenerator, op: Op, answer: Answer): void {
  const stat = answer.stat as Record<string, unknown> | null | undefined;
  const sawStat = (path: string, s: Record<string, unknown> | null | undefined): void => {
    if (s) gen.sawStat(path, { version: s.version, aversion: s.aversion } as RawStat);
  };
  switch (op.kind) {
    case 'create':
      // createContainer makes a container whatever the flags say.
      if (answer.err === 0) gen.sawCreated(answer.path as string, op.c, op.api === 'createContainer' ? 4 : op.mode);
      return;
    case 'delete':
      if (answer.err === 0 || answer.err === -101) gen.sawGone(op.path);
      return;
    case 'setData':
    case 'getData':
    case 'setACL':
    case 'getACL':
    case 'exists':
      if (answer.err === -101 || (op.kind === 'exists' && stat === null)) gen.sawGone(op.path);
      else sawStat(op.path, stat);
      return;
    case 'getChildren':
      if (answer.err === -101) gen.sawGone(op.path);
      else if (answer.err === 0) for (const child of answer.children as string[]) gen.sawChild(`${op.path}/${child}`);
      return;
    case 'multi': {
      if (answer.err !== 0) return;
      const results = answer.results as Record<string, unknown>[];
      op.ops.forEach((o: MultiOp, i) => {
        const r = results[i];
        if (o.op === 'create' && typeof r?.path === 'string') gen.sawCreated(r.path, op.c, o.mode);
        else if (o.op === 'delete') gen.sawGone(o.path);
        else if (o.op === 'setData') sawStat(o.path, r?.stat as Record<string, unknown>);
      });
      return;
    }
    case 'reopen':
      gen.sawReopen(op.c);
      return;
    default:
  }
}
