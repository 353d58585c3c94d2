// node-zookeeper-client (a third-party ZooKeeper client from npm, written for
// ZooKeeper 3.4) with promises, for tests that prove zook's ZooKeeper door works with
// clients it did not write.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The library's own module: it ships no types, and the tests use it as its README shows. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- an untyped third-party module
export const zookeeper: any = require('node-zookeeper-client');

export interface NzkStat {
  readonly version: number;
  readonly cversion: number;
  readonly aversion: number;
  readonly numChildren: number;
  readonly dataLength: number;
  readonly ephemeralOwner: Buffer;
}

export interface NzkEvent {
  readonly name: string;
  readonly path: string;
}

/** A connected client; `raw` is the library's own object. */
export interface Nzk {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the library's client object, untyped
  readonly raw: any;
  readonly states: string[];
  create(path: string, data?: string, mode?: number, acls?: unknown[]): Promise<string>;
  getData(path: string, watcher?: (event: NzkEvent) => void): Promise<{ data: string; stat: NzkStat }>;
  setData(path: string, data: string, version?: number): Promise<NzkStat>;
  exists(path: string, watcher?: (event: NzkEvent) => void): Promise<NzkStat | null>;
  getChildren(path: string, watcher?: (event: NzkEvent) => void): Promise<string[]>;
  remove(path: string, version?: number): Promise<void>;
  getACL(path: string): Promise<unknown[]>;
  setACL(path: string, acls: unknown[], version?: number): Promise<void>;
  sessionIdHex(): string;
  close(): Promise<void>;
}

/** The error code a rejected call carries (ZooKeeper's numbers: -101 NoNode, ...). */
export function codeOf(error: unknown): number {
  const e = error as { getCode?: () => number };
  if (typeof e?.getCode !== 'function') throw error;
  return e.getCode();
}

function call<T>(fn: (cb: (error: unknown, ...rest: unknown[]) => void) => void, pick: (...rest: unknown[]) => T): Promise<T> {
  return new Promise((resolve, reject) => fn((error, ...rest) => (error ? reject(error) : resolve(pick(...rest)))));
}

const toEvent = (event: { getName(): string; getPath(): string }): NzkEvent => ({ name: event.getName(), path: event.getPath() });

export async function connectNzk(connectString: string, options: { sessionTimeout?: number } = {}): Promise<Nzk> {
  const raw = zookeeper.createClient(connectString, { sessionTimeout: options.sessionTimeout ?? 10_000, spinDelay: 100, retries: 2 });
  const states: string[] = [];
  raw.on('state', (state: { getName(): string }) => states.push(state.getName()));
  await new Promise<void>((resolve) => {
    raw.once('connected', () => resolve());
    raw.connect();
  });
  const watcherOf = (watcher?: (event: NzkEvent) => void) => (watcher === undefined ? undefined : (e: { getName(): string; getPath(): string }) => watcher(toEvent(e)));
  return {
    raw,
    states,
    create: (path, data = '', mode = 0, acls = zookeeper.ACL.OPEN_ACL_UNSAFE) =>
      call((cb) => raw.create(path, Buffer.from(data), acls, mode, cb), (p) => p as string),
    getData: (path, watcher) =>
      call((cb) => raw.getData(path, watcherOf(watcher), cb), (d, s) => ({ data: (d as Buffer | null)?.toString() ?? '', stat: s as NzkStat })),
    setData: (path, data, version = -1) => call((cb) => raw.setData(path, Buffer.from(data), version, cb), (s) => s as NzkStat),
    exists: (path, watcher) => call((cb) => raw.exists(path, watcherOf(watcher), cb), (s) => (s ?? null) as NzkStat | null),
    getChildren: (path, watcher) => call((cb) => raw.getChildren(path, watcherOf(watcher), cb), (c) => [...(c as string[])].sort()),
    remove: (path, version = -1) => call((cb) => raw.remove(path, version, cb), () => undefined),
    getACL: (path) => call((cb) => raw.getACL(path, cb), (a) => a as unknown[]),
    setACL: (path, acls, version = -1) => call((cb) => raw.setACL(path, acls, version, cb), () => undefined),
    sessionIdHex: () => (raw.getSessionId() as Buffer).toString('hex'),
    // The library says 'disconnected' once closed; a client whose server is gone may never say it.
    close: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 3000);
        raw.once('disconnected', () => {
          clearTimeout(timer);
          resolve();
        });
        raw.close();
      }),
  };
}
