// One ZooKeeper session driven through node-zookeeper-client (1.1.3, written for
// ZooKeeper 3.4), for the differential test: every call resolves with the error code
// and the raw answer (never rejects for a ZooKeeper error), and every watch
// notification the connection receives is recorded as it arrived, before the
// library's own one-shot bookkeeping.
//
// The library has no create2, createContainer, createTTL or sync. Those go through the same
// connection (so the same session) with a request whose header names the real
// opcode on the wire and, once written, an opcode the library knows how to read the
// reply of: Create2Response (path, Stat) reads exactly like GetDataResponse (buffer,
// Stat), and SyncResponse (path) like CreateResponse (path). Bytes on the wire are
// what ZooKeeper's own client sends.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- an untyped third-party CommonJS module
export const nzk: any = require('node-zookeeper-client');
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- its jute records, untyped
const jute: any = require('node-zookeeper-client/lib/jute');

export const OP = { create: 1, getData: 4, setData: 5, getACL: 6, sync: 9, create2: 15, createContainer: 19, createTTL: 21 } as const;

export interface RawStat {
  readonly czxid: bigint;
  readonly mzxid: bigint;
  readonly ctime: bigint;
  readonly mtime: bigint;
  readonly version: number;
  readonly cversion: number;
  readonly aversion: number;
  readonly ephemeralOwner: bigint;
  readonly dataLength: number;
  readonly numChildren: number;
  readonly pzxid: bigint;
}

export interface RawAcl {
  readonly perms: number;
  readonly scheme: string;
  readonly id: string;
}

export interface RawEvent {
  readonly type: number;
  readonly path: string;
}

/** One multi op as the library's Transaction takes it. */
export type TxnOp =
  | { readonly op: 'create'; readonly path: string; readonly data: Buffer | null; readonly acl: readonly RawAcl[]; readonly mode: number }
  | { readonly op: 'setData'; readonly path: string; readonly data: Buffer | null; readonly version: number }
  | { readonly op: 'delete'; readonly path: string; readonly version: number }
  | { readonly op: 'check'; readonly path: string; readonly version: number };

/** One op's outcome inside a multi, as the library reports it. */
export type TxnResult = { readonly err: number } | { readonly path: string } | { readonly stat: RawStat } | { readonly ok: 'delete' | 'check' };

const long = (b: Buffer | undefined): bigint => (b === undefined ? -1n : b.readBigInt64BE(0));

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the library's Stat record
export function rawStat(s: any): RawStat {
  return {
    czxid: long(s.czxid),
    mzxid: long(s.mzxid),
    ctime: long(s.ctime),
    mtime: long(s.mtime),
    version: s.version,
    cversion: s.cversion,
    aversion: s.aversion,
    ephemeralOwner: long(s.ephemeralOwner),
    dataLength: s.dataLength,
    numChildren: s.numChildren,
    pzxid: long(s.pzxid),
  };
}

function aclObjects(list: readonly RawAcl[]): unknown[] {
  return list.map((a) => new nzk.ACL(a.perms, new nzk.Id(a.scheme, a.id)));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the library's ACL objects
const rawAcl = (a: any): RawAcl => ({ perms: a.permission, scheme: a.id.scheme, id: a.id.id });

/** The code a failed call carries; anything that is not a ZooKeeper error is rethrown. */
function codeOf(error: unknown): number {
  const e = error as { getCode?: () => number };
  if (typeof e?.getCode !== 'function') throw error;
  return e.getCode();
}

export class DiffClient {
  /** Every watch notification received, in arrival order. */
  readonly events: RawEvent[] = [];
  closed = false;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the library's client object
  private constructor(private readonly raw: any) {
    const wm = raw.connectionManager.watcherManager;
    const emit = wm.emit.bind(wm);
    wm.emit = (event: { type: number; path: string }) => {
      this.events.push({ type: event.type, path: event.path });
      return emit(event);
    };
  }

  static async connect(connectString: string): Promise<DiffClient> {
    // retries 0: an op is never sent twice; a lost connection fails the run instead.
    const raw = nzk.createClient(connectString, { sessionTimeout: 30_000, spinDelay: 100, retries: 0 });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no session from ${connectString} within 15 s`)), 15_000);
      raw.once('connected', () => {
        clearTimeout(timer);
        resolve();
      });
      raw.connect();
    });
    return new DiffClient(raw);
  }

  get sessionId(): bigint {
    return (this.raw.getSessionId() as Buffer).readBigInt64BE(0);
  }

  private call<T>(fn: (cb: (error: unknown, ...rest: unknown[]) => void) => void, pick: (...rest: unknown[]) => T): Promise<{ err: number; value?: T }> {
    return new Promise((resolve, reject) => {
      fn((error, ...rest) => {
        if (error) {
          try {
            resolve({ err: codeOf(error) });
          } catch (other) {
            reject(other);
          }
          return;
        }
        resolve({ err: 0, value: pick(...rest) });
      });
    });
  }

  /** create (opcode 1): the path alone. `mode` goes on the wire as given (flags). */
  create(path: string, data: Buffer | null, acl: readonly RawAcl[], mode: number): Promise<{ err: number; value?: string }> {
    return this.call((cb) => this.raw.create(path, data ?? undefined, aclObjects(acl), mode, cb), (p) => p as string);
  }

  /** create2 (15), createContainer (19) or createTTL (21, with `ttlMs`): path and Stat. */
  createWithStat(opCode: 15 | 19 | 21, path: string, data: Buffer | null, acl: readonly RawAcl[], mode: number, ttlMs = 0): Promise<{ err: number; value?: { path: string; stat: RawStat } }> {
    const create = new jute.protocol.CreateRequest();
    create.path = path;
    create.acl = acl.map((a) => new nzk.ACL(a.perms, new nzk.Id(a.scheme, a.id)).toRecord());
    create.flags = mode;
    if (data !== null) create.data = Buffer.from(data);
    // CreateTTLRequest is CreateRequest and then the ttl (a long); the library has no record for it.
    const payload =
      opCode !== OP.createTTL
        ? create
        : {
            setChrootPath: (root: string) => create.setChrootPath(root),
            byteLength: () => create.byteLength() + 8,
            serialize: (buffer: Buffer, offset: number) => {
              const n = create.serialize(buffer, offset);
              buffer.writeBigInt64BE(BigInt(ttlMs), offset + n);
              return n + 8;
            },
          };
    // The reply reads as a GetDataResponse: its buffer is the path's UTF-8.
    return this.aliased(opCode, OP.getData, payload, (p) => ({ path: (p.data as Buffer).toString('utf8'), stat: rawStat(p.stat) }));
  }

  sync(path: string): Promise<{ err: number; value?: string }> {
    // SyncRequest is a path alone, like GetACLRequest; SyncResponse reads like CreateResponse.
    const payload = new jute.protocol.GetACLRequest();
    payload.path = path;
    return this.aliased(OP.sync, OP.create, payload, (p) => p.path as string);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- jute records
  private aliased<T>(wireOp: number, readAs: number, payload: any, pick: (payload: any) => T): Promise<{ err: number; value?: T }> {
    const header = new jute.protocol.RequestHeader();
    header.type = readAs;
    const request = new jute.Request(header, payload);
    const toBuffer = request.toBuffer.bind(request);
    request.toBuffer = () => {
      header.type = wireOp;
      try {
        return toBuffer();
      } finally {
        header.type = readAs;
      }
    };
    return this.call(
      (cb) => this.raw.connectionManager.queue(request, (error: unknown, response: { payload: unknown }) => cb(error, response?.payload)),
      (p) => pick(p),
    );
  }

  remove(path: string, version: number): Promise<{ err: number }> {
    return this.call((cb) => this.raw.remove(path, version, cb), () => undefined);
  }

  /** setData; null data goes on the wire as a null buffer (-1). */
  setData(path: string, data: Buffer | null, version: number): Promise<{ err: number; value?: RawStat }> {
    if (data !== null) return this.call((cb) => this.raw.setData(path, data, version, cb), (s) => rawStat(s));
    // The library's setData reads data.length: a SetDataRequest with no data, which its record writes as -1.
    const payload = new jute.protocol.SetDataRequest();
    payload.path = path;
    payload.version = version;
    return this.aliased(OP.setData, OP.setData, payload, (p) => rawStat(p.stat));
  }

  getData(path: string, watch: boolean): Promise<{ err: number; value?: { data: Buffer | null; stat: RawStat } }> {
    const args: unknown[] = [path];
    if (watch) args.push(() => {});
    return this.call((cb) => this.raw.getData(...args, cb), (d, s) => ({ data: (d as Buffer | undefined) ?? null, stat: rawStat(s) }));
  }

  exists(path: string, watch: boolean): Promise<{ err: number; value?: RawStat | null }> {
    const args: unknown[] = [path];
    if (watch) args.push(() => {});
    return this.call((cb) => this.raw.exists(...args, cb), (s) => (s ? rawStat(s) : null));
  }

  /** getChildren2 (12), the only getChildren the library sends: children and Stat. */
  getChildren(path: string, watch: boolean): Promise<{ err: number; value?: { children: string[]; stat: RawStat } }> {
    const args: unknown[] = [path];
    if (watch) args.push(() => {});
    return this.call((cb) => this.raw.getChildren(...args, cb), (c, s) => ({ children: c as string[], stat: rawStat(s) }));
  }

  getACL(path: string): Promise<{ err: number; value?: { acl: RawAcl[]; stat: RawStat } }> {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the library's ACL objects
    return this.call((cb) => this.raw.getACL(path, cb), (a, s) => ({ acl: ((a as any[]) ?? []).map(rawAcl), stat: rawStat(s) }));
  }

  setACL(path: string, acl: readonly RawAcl[], version: number): Promise<{ err: number; value?: RawStat }> {
    return this.call((cb) => this.raw.setACL(path, aclObjects(acl), version, cb), (s) => rawStat(s));
  }

  /** multi: the outcome of every op (a failed multi still answers per op). */
  async multi(ops: readonly TxnOp[]): Promise<{ err: number; value?: TxnResult[] }> {
    const t = this.raw.transaction();
    for (const o of ops) {
      if (o.op === 'create') t.create(o.path, o.data ?? undefined, aclObjects(o.acl), o.mode);
      else if (o.op === 'setData') t.setData(o.path, o.data ?? undefined, o.version);
      else if (o.op === 'delete') t.remove(o.path, o.version);
      else t.check(o.path, o.version);
    }
    return new Promise((resolve, reject) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the library's result objects
      t.commit((error: unknown, results: any[] | undefined) => {
        let err = 0;
        if (error) {
          try {
            err = codeOf(error);
          } catch (other) {
            reject(other);
            return;
          }
        }
        if (results === undefined) {
          resolve({ err });
          return;
        }
        const value = results.map((r): TxnResult => {
          if (r.err !== undefined) return { err: r.err };
          if (r.path !== undefined) return { path: r.path };
          if (r.stat !== undefined) return { stat: rawStat(r.stat) };
          return { ok: r.type === 2 ? 'delete' : 'check' };
        });
        resolve({ err, value });
      });
    });
  }

  /** addAuthInfo: queued before anything sent after it; ZooKeeper answers only a failure. */
  addAuth(scheme: string, auth: string): void {
    this.raw.addAuthInfo(scheme, Buffer.from(auth));
  }

  /** closeSession; resolves once the server has closed the connection. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => resolve(), 10_000);
      this.raw.once('disconnected', () => {
        clearTimeout(timer);
        resolve();
      });
      this.raw.close();
    });
  }
}
