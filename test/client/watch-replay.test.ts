// Issue 19 against a real server whose change history holds 50 changes
// (watchReplayMaxChanges): a watch can start from a zxid (addWatch fromZxid); a
// client away for less than the history gets every event it missed, in order; a
// client away for more is told Compacted, and a recipe that follows the subtree
// reads it again, so its view still equals the tree.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigWatcher, connect, type WatchEvent, type ZookClient } from '../../src/index.js';
import { startServerProcess, type ServerProcess } from '../server/support/server-process.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { untilTrue } from '../support/until.js';

const HISTORY_CHANGES = 50;
const OPTIONS = { sessionTimeoutMs: 10_000, reconnectBaseDelayMs: 20, reconnectMaxDelayMs: 100 };

describe('watch replay with a history of 50 changes', () => {
  let dir: string;
  let server: ServerProcess;
  let writer: ZookClient;
  const clients: ZookClient[] = [];
  const proxies: TcpProxy[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'zook-replay-'));
    const config = join(dir, 'zook.json');
    writeFileSync(config, JSON.stringify({ watchReplayMaxChanges: HISTORY_CHANGES }));
    server = await startServerProcess({ extraArgs: ['--config', config] });
    writer = await connect(server.url, OPTIONS);
  });
  afterAll(async () => {
    for (const c of [...clients, writer]) await c?.close().catch(() => {});
    for (const p of proxies) await p.close();
    await server?.stop();
    server?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A client behind its own proxy, whose link the test cuts and heals. */
  async function behindProxy(): Promise<{ zk: ZookClient; proxy: TcpProxy }> {
    const proxy = await TcpProxy.start(server.port);
    proxies.push(proxy);
    const zk = await connect(`ws://127.0.0.1:${proxy.port}`, OPTIONS);
    clients.push(zk);
    return { zk, proxy };
  }

  const summary = (events: readonly WatchEvent[]): string[] => events.map((e) => `${e.type} ${e.path}`);

  test('addWatch fromZxid first gives the events after that zxid, in order, then the live ones', async () => {
    await writer.create('/fz', '');
    for (let i = 0; i < 5; i++) await writer.create(`/fz/a${i}`, '');
    const from = writer.lastZxidSeen;
    await writer.setData('/fz/a0', 'x');
    await writer.create('/fz/b', '');
    await writer.delete('/fz/a1');
    const zk = await connect(server.url, OPTIONS);
    clients.push(zk);
    const events: WatchEvent[] = [];
    await zk.addWatch('/fz', (e) => events.push(e), { mode: 'PERSISTENT_RECURSIVE', fromZxid: from });
    // Replayed before the call resolved.
    expect(summary(events)).toEqual(['NodeDataChanged /fz/a0', 'NodeCreated /fz/b', 'NodeDeleted /fz/a1']);
    await writer.create('/fz/live', '');
    await untilTrue('the live event', () => events.length === 4);
    expect(summary(events.slice(3))).toEqual(['NodeCreated /fz/live']);
    expect(events.map((e) => e.zxid)).toEqual([...events.map((e) => e.zxid)].sort((a, b) => a - b));
  });

  test('addWatch fromZxid older than the history gives one Compacted event (with the oldest zxid it could replay from), then the live ones', async () => {
    await writer.create('/old', '');
    const from = writer.lastZxidSeen;
    for (let i = 0; i < HISTORY_CHANGES + 10; i++) await writer.setData('/old', String(i));
    const zk = await connect(server.url, OPTIONS);
    clients.push(zk);
    const events: WatchEvent[] = [];
    await zk.addWatch('/old', (e) => events.push(e), { mode: 'PERSISTENT', fromZxid: from });
    expect(summary(events)).toEqual(['Compacted /old']);
    expect(events[0].zxid).toBeGreaterThan(from);
    await writer.setData('/old', 'live');
    await untilTrue('the live event', () => events.length === 2);
    expect(summary(events.slice(1))).toEqual(['NodeDataChanged /old']);
  });

  test('a client away for fewer changes than the history holds gets every one it missed, in order, and nothing twice', async () => {
    await writer.create('/away', '');
    const { zk, proxy } = await behindProxy();
    const events: WatchEvent[] = [];
    await zk.addWatch('/away', (e) => events.push(e), { mode: 'PERSISTENT_RECURSIVE' });
    await writer.create('/away/before', '');
    await untilTrue('the first event', () => events.length === 1);
    proxy.cutLinks();
    await untilTrue('the client noticed', () => zk.state !== 'connected');
    const missed: string[] = [];
    for (let i = 0; i < 20; i++) {
      await writer.create(`/away/m${i}`, '');
      missed.push(`NodeCreated /away/m${i}`);
    }
    proxy.heal();
    await untilTrue('every missed event', () => events.length >= 21, 20_000);
    await writer.create('/away/after', '');
    await untilTrue('the live event', () => events.length >= 22);
    expect(summary(events)).toEqual(['NodeCreated /away/before', ...missed, 'NodeCreated /away/after']);
  });

  test('a client away for more changes than the history holds is told Compacted, and a ConfigWatcher on that subtree still ends equal to the tree', async () => {
    await writer.create('/cfg', '');
    for (let k = 0; k < 5; k++) await writer.create(`/cfg/k${k}`, '0');
    const { zk, proxy } = await behindProxy();
    const config = new ConfigWatcher(zk, '/cfg');
    await config.start();
    const events: WatchEvent[] = [];
    await zk.addWatch('/cfg', (e) => events.push(e), { mode: 'PERSISTENT_RECURSIVE' });
    proxy.cutLinks();
    await untilTrue('the client noticed', () => zk.state !== 'connected');
    // More changes than the history holds: the replay cannot reach back.
    for (let i = 1; i <= HISTORY_CHANGES + 20; i++) await writer.setData(`/cfg/k${i % 5}`, String(i));
    await writer.create('/cfg/new', 'n');
    await writer.delete('/cfg/k4');
    proxy.heal();
    await untilTrue('Compacted', () => events.some((e) => e.type === 'Compacted'), 20_000);
    expect(events.filter((e) => e.type === 'Compacted').map((e) => e.path)).toEqual(['/cfg']);
    const tree = new Map<string, string>();
    for (const child of await writer.getChildren('/cfg')) tree.set(child, new TextDecoder().decode((await writer.getData(`/cfg/${child}`)).data));
    const view = (): Map<string, string> => new Map((config.current?.keys() ?? []).map((k) => [k, config.current!.text(k)!]));
    await untilTrue('the config view equals the tree', () => JSON.stringify([...view()].sort()) === JSON.stringify([...tree].sort()), 20_000);
    expect(view().get('new')).toBe('n');
    expect(view().has('k4')).toBe(false);
    await config.close();
  });
});
