// Shared helpers for the recipe tests: a real server process with short ticks (so
// session expiry takes well under a second), clients direct or through a cuttable
// TCP proxy, and event waiting without fixed sleeps.
import { connect, isZookError, ZookError, type ConnectOptions, type ZookClient } from '../../src/index.js';
import { type ServerProcess, startServerProcess } from '../server/support/server-process.js';
import { TcpProxy } from '../support/tcp-proxy.js';

/** Session timeout for clients that must not expire while the machine is busy (the server's max at tickMs 100). */
export const STABLE_SESSION_MS = 2000;
/** Session timeout for clients a test cuts off to make their session expire. */
export const SHORT_SESSION_MS = 1000;

export interface TestServer {
  readonly server: ServerProcess;
  connect(options?: ConnectOptions): Promise<ZookClient>;
  /** A client behind its own proxy: `cut()` drops its link for good, as a killed process would. */
  connectCuttable(options?: ConnectOptions): Promise<{ zk: ZookClient; proxy: TcpProxy }>;
  stop(): Promise<void>;
}

export async function startTestServer(): Promise<TestServer> {
  const server = await startServerProcess({ tickMs: 100 });
  const clients: ZookClient[] = [];
  const proxies: TcpProxy[] = [];
  const base: ConnectOptions = { sessionTimeoutMs: STABLE_SESSION_MS, reconnectBaseDelayMs: 20, reconnectMaxDelayMs: 100 };
  return {
    server,
    async connect(options = {}) {
      const zk = await connect(server.url, { ...base, ...options });
      clients.push(zk);
      return zk;
    },
    async connectCuttable(options = {}) {
      const proxy = await TcpProxy.start(server.port);
      proxies.push(proxy);
      const zk = await connect(`ws://127.0.0.1:${proxy.port}`, { ...base, sessionTimeoutMs: SHORT_SESSION_MS, ...options });
      clients.push(zk);
      return { zk, proxy };
    },
    async stop() {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await Promise.all(proxies.map((p) => p.close()));
      await server.stop();
      server.cleanup();
    },
  };
}

/** A promise for the next call of a listener, with its arguments. */
export function nextCall<A extends unknown[]>(): { listener: (...args: A) => void; called: Promise<A> } {
  let resolve!: (args: A) => void;
  const called = new Promise<A>((r) => (resolve = r));
  return { listener: (...args: A) => resolve(args), called };
}

/** Resolves when `state` is reached by the client. */
export function clientState(zk: ZookClient, state: 'connected' | 'disconnected' | 'expired' | 'closed'): Promise<void> {
  return new Promise((resolve) => {
    const on = (s: string): void => {
      if (s === state) {
        zk.off('state', on);
        resolve();
      }
    };
    zk.on('state', on);
  });
}

export const LONG = process.env.ZOOK_LONG === '1';
export const text = (data: Uint8Array | undefined | null): string => (data == null ? '' : new TextDecoder().decode(data));

/** Resolves with the children of `path` once `ok` accepts them, re-checking on each child watch event. */
export async function waitForChildren(zk: ZookClient, path: string, ok: (children: string[]) => boolean): Promise<string[]> {
  for (;;) {
    let wake!: () => void;
    const fired = new Promise<void>((r) => (wake = r));
    let children: string[];
    try {
      children = await zk.getChildren(path, { watch: () => wake() });
    } catch (error) {
      if (!isZookError(error, 'NoNode')) throw error;
      // Not there yet: exists() on a missing node watches for its creation.
      if ((await zk.exists(path, { watch: () => wake() })) === null) await fired;
      continue;
    }
    if (ok(children)) return children;
    await fired;
  }
}

/**
 * A view of `client` whose `method` is applied by the server but, the first time
 * `when(args)` holds, reports ConnectionLoss instead of its result: what a client
 * sees when the link drops after the write went through. `calls()` counts the calls
 * `when` matched (the first of them is the one whose reply was lost).
 */
export function losingFirstReply<M extends 'create' | 'multi'>(
  client: ZookClient,
  method: M,
  when: (args: Parameters<ZookClient[M]>) => boolean = () => true,
): { client: ZookClient; calls: () => number } {
  let calls = 0;
  const flaky = new Proxy(client, {
    get(target, prop, receiver) {
      if (prop === method) {
        return async (...args: Parameters<ZookClient[M]>) => {
          const result = await (target[method] as (...a: Parameters<ZookClient[M]>) => Promise<unknown>).apply(target, args);
          if (when(args) && calls++ === 0) throw new ZookError(-4, 'simulated: reply lost');
          return result;
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { client: flaky, calls: () => calls };
}
