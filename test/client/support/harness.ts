// Test set-up: fake servers and clients that are torn down after each test, and
// helpers that wait on events rather than on the clock.
import { expect, onTestFinished } from 'vitest';
import { connect, type ClientState, type ConnectOptions, type WatchEvent, type ZookClient, ZookError } from '../../../src/client/index.js';
import { FakeServer, FakeState } from './fake-server.js';

/** Fast, deterministic defaults for tests: servers in list order, short backoff. */
export const TEST_OPTIONS: ConnectOptions = {
  sessionTimeoutMs: 10_000,
  shuffleServers: false,
  reconnectBaseDelayMs: 5,
  reconnectMaxDelayMs: 40,
  random: () => 0.5,
  onListenerError: (error) => {
    throw error;
  },
};

/** Servers of the running test: a client's teardown lets them answer again so close() is quick. */
const live = new Set<FakeServer>();

export async function startServers(n = 1, state = new FakeState()): Promise<FakeServer[]> {
  const servers: FakeServer[] = [];
  for (let i = 0; i < n; i++) servers.push(await FakeServer.start(state));
  for (const s of servers) live.add(s);
  onTestFinished(async () => {
    for (const s of servers) live.delete(s);
    await Promise.all(servers.map((s) => s.stop()));
  });
  return servers;
}

export async function client(servers: string | readonly string[], options: ConnectOptions = {}): Promise<ZookClient> {
  const zk = await connect(servers, { ...TEST_OPTIONS, ...options });
  onTestFinished(async () => {
    for (const s of live) {
      s.onRequest = undefined;
      s.release();
    }
    await zk.close();
  });
  return zk;
}

/** One server and a client connected to it. */
export async function setup(options: ConnectOptions = {}): Promise<{ server: FakeServer; zk: ZookClient }> {
  const [server] = await startServers(1);
  return { server, zk: await client(server.url, options) };
}

/** Resolves at the client's next report of `state`. */
export function nextState(zk: ZookClient, state: ClientState): Promise<void> {
  return new Promise((resolve) => {
    const listener = (s: ClientState): void => {
      if (s !== state) return;
      zk.off('state', listener);
      resolve();
    };
    zk.on('state', listener);
  });
}

/**
 * A watcher that records its events. `next()` resolves with the first event not yet
 * taken by next() (now or when it comes); `nth(n)` with the n-th event (1-based).
 */
export function recorder(): { watcher: (e: WatchEvent) => void; events: WatchEvent[]; next: () => Promise<WatchEvent>; nth: (n: number) => Promise<WatchEvent> } {
  const events: WatchEvent[] = [];
  const waiting: { n: number; resolve: (e: WatchEvent) => void }[] = [];
  let taken = 0;
  const nth = (n: number): Promise<WatchEvent> =>
    events.length >= n ? Promise.resolve(events[n - 1]) : new Promise((resolve) => waiting.push({ n, resolve }));
  return {
    events,
    watcher: (e) => {
      events.push(e);
      for (const w of [...waiting]) {
        if (events.length < w.n) continue;
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(events[w.n - 1]);
      }
    },
    next: () => nth(++taken),
    nth,
  };
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
export const str = (b: Uint8Array): string => new TextDecoder().decode(b);

/** The ZookError a call fails with (the test fails if it resolves or throws anything else). */
export async function failure(p: Promise<unknown>): Promise<ZookError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ZookError);
  return error as ZookError;
}
