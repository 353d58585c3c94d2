// Issue 18, metrics: one real server process's /metrics has prom-client's process and
// runtime families next to zook's own, every family is typed (every *_total a counter),
// snapshots and the server's client closes are measured, and the four-letter word
// mntr reports the same numbers as /metrics (both read one registry).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { type Exposition, familyOf, scrape, sumOf } from '../support/prometheus.js';
import { until } from '../support/until.js';
import { fourLetterWord } from '../zookeeper/support/raw-zk.js';
import { RawClient, create } from './support/raw-client.js';
import { useServerProcess } from './support/server-process.js';

const configDir = mkdtempSync(join(tmpdir(), 'zook-metrics-'));
const configFile = join(configDir, 'zook.json');
// Small frames, so that a test can send one over maxFrameBytes (refused by the server)
// and one over twice that (dropped by uWebSockets.js itself) cheaply.
const MAX_FRAME_BYTES = 70_000;
writeFileSync(configFile, JSON.stringify({ snapshotEveryEntries: 50, maxDataBytes: 1024, maxFrameBytes: MAX_FRAME_BYTES }));
afterAll(() => rmSync(configDir, { recursive: true, force: true }));

const server = useServerProcess({ extraArgs: ['--config', configFile] });
const metrics = (): Promise<Exposition> => scrape(server.current.port);

/** mntr's `key\tvalue` lines. */
async function mntr(): Promise<Map<string, string>> {
  const text = await fourLetterWord(server.current.zkPort, 'mntr');
  return new Map(text.trim().split('\n').map((line) => line.split('\t') as [string, string]));
}

describe('/metrics of a running server', () => {
  test("has prom-client's default process and runtime families: memory, CPU, open files, event-loop lag, GC, heap", async () => {
    const m = await metrics();
    expect(sumOf(m, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(sumOf(m, 'process_open_fds')).toBeGreaterThan(0);
    expect(m.types.get('process_cpu_seconds_total')).toBe('counter');
    expect(m.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect(m.types.get('nodejs_gc_duration_seconds')).toBe('histogram');
    expect(sumOf(m, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  });

  test('every sample belongs to a typed family, and every family named *_total is a counter', async () => {
    const m = await metrics();
    expect(m.samples.filter((s) => familyOf(m, s.name) === undefined).map((s) => s.name)).toEqual([]);
    const totals = [...m.types].filter(([name]) => name.endsWith('_total'));
    expect(totals.length).toBeGreaterThan(10);
    expect(totals.filter(([, type]) => type !== 'counter').map(([name]) => name)).toEqual([]);
  });

  test('a snapshot is timed and sized: zook_snapshot_build_duration_seconds_count and zook_snapshot_size_bytes', async () => {
    const { client } = await RawClient.session(server.current.url);
    const replies = await Promise.all(Array.from({ length: 120 }, (_, k) => client.call(create(`/snap-${k}`, 'x'.repeat(100)))));
    expect(replies.every((r) => r.error === 0)).toBe(true);
    client.close();
    const m = await until('a snapshot in /metrics', async () => {
      const now = await metrics();
      return sumOf(now, 'zook_snapshot_build_duration_seconds_count') >= 1 ? now : undefined;
    });
    expect(sumOf(m, 'zook_snapshots_total')).toBeGreaterThanOrEqual(1);
    // The first snapshot (at about 50 entries) holds some of the znodes' 100-byte data.
    expect(sumOf(m, 'zook_snapshot_size_bytes')).toBeGreaterThan(1000);
    expect(sumOf(m, 'zook_snapshot_build_duration_seconds_sum')).toBeGreaterThan(0);
  });

  test('client connections the server closes are counted by reason (a WebSocket text frame, a ZooKeeper packet of negative length)', async () => {
    const before = sumOf(await metrics(), 'zook_client_disconnects_total', { reason: 'protocol-error' });
    const ws = await RawClient.open(server.current.url);
    ws.sendBytes('a text frame is not part of the protocol');
    await ws.waitClosed();
    const socket = connect({ host: '127.0.0.1', port: server.current.zkPort });
    socket.on('error', () => {});
    socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const after = await until('both closes counted', async () => {
      const n = sumOf(await metrics(), 'zook_client_disconnects_total', { reason: 'protocol-error' });
      return n >= before + 2 ? n : undefined;
    });
    expect(after).toBe(before + 2);
  });

  test('oversized WebSocket frames are counted as oversized-frame, whether the server refuses them or uWebSockets.js drops them (over twice maxFrameBytes)', async () => {
    const count = async (): Promise<number> => sumOf(await metrics(), 'zook_client_disconnects_total', { reason: 'oversized-frame' });
    const before = await count();
    for (const size of [MAX_FRAME_BYTES + 1000, 2 * MAX_FRAME_BYTES + 1000]) {
      const ws = await RawClient.open(server.current.url);
      ws.sendBytes(new Uint8Array(size));
      await ws.waitClosed();
    }
    expect(await until('both closes counted', async () => ((await count()) >= before + 2 ? count() : undefined))).toBe(before + 2);
  });

  test('mntr reports what /metrics reports: znodes, watches, ephemerals, data size, packets, latency, outstanding, sessions', async () => {
    const { client } = await RawClient.session(server.current.url);
    expect((await client.call(create('/agree-ephemeral', 'data', 1))).error).toBe(0);
    expect((await client.call({ op: 'exists', path: '/agree-watched', watch: true })).error).not.toBe(0);
    // Idle now (the raw client sends no pings), so neither read changes what the other sees.
    const words = await mntr();
    const m = await metrics();
    expect(Number(words.get('zk_znode_count'))).toBe(sumOf(m, 'zook_znodes'));
    expect(Number(words.get('zk_watch_count'))).toBe(sumOf(m, 'zook_watches'));
    expect(Number(words.get('zk_watch_count'))).toBeGreaterThanOrEqual(1);
    expect(Number(words.get('zk_ephemerals_count'))).toBe(sumOf(m, 'zook_ephemerals'));
    expect(Number(words.get('zk_ephemerals_count'))).toBeGreaterThanOrEqual(1);
    expect(Number(words.get('zk_approximate_data_size'))).toBe(sumOf(m, 'zook_approximate_data_size_bytes'));
    expect(Number(words.get('zk_packets_received'))).toBe(sumOf(m, 'zook_requests_received_total'));
    expect(Number(words.get('zk_packets_sent'))).toBe(sumOf(m, 'zook_request_duration_seconds_count'));
    expect(Number(words.get('zk_packets_sent'))).toBe(sumOf(m, 'zook_requests_total'));
    const avgMs = (1000 * sumOf(m, 'zook_request_duration_seconds_sum')) / sumOf(m, 'zook_request_duration_seconds_count');
    expect(words.get('zk_avg_latency')).toBe(avgMs.toFixed(4));
    expect(Number(words.get('zk_max_latency'))).toBe(Math.round(1000 * sumOf(m, 'zook_request_duration_max_seconds')));
    expect(Number(words.get('zk_outstanding_requests'))).toBe(sumOf(m, 'zook_outstanding_requests'));
    expect(Number(words.get('zk_global_sessions'))).toBe(sumOf(m, 'zook_sessions'));
    expect(Number(words.get('zk_num_alive_connections'))).toBe(sumOf(m, 'zook_connections'));
    client.close();
  });
});
