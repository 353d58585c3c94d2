import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { DEFAULT_CONFIG, configFromEnv, readConfigFile, resolveConfig } from '../../src/server/config.js';

describe('server configuration', () => {
  test('defaults suit one machine: ZooKeeper clients on 127.0.0.1:2181, zook WebSocket/HTTP on 8181, ./zook-data, sessions of 2 to 20 ticks', () => {
    const config = resolveConfig({});
    expect(config).toMatchObject({ host: '127.0.0.1', zkPort: 2181, port: 8181, dataDir: './zook-data', tickMs: 1000, minSessionTimeoutMs: 2000, maxSessionTimeoutMs: 20_000 });
    expect(config).toEqual({ ...DEFAULT_CONFIG });
  });

  test('the leader keeps one append in flight per follower unless told otherwise, and never zero', () => {
    expect(resolveConfig({}).raftMaxInflightAppends).toBe(1);
    expect(resolveConfig({ raftMaxInflightAppends: 64 }).raftMaxInflightAppends).toBe(64);
    expect(() => resolveConfig({ raftMaxInflightAppends: 0 })).toThrow(/raftMaxInflightAppends/);
  });

  test('snapshotsKept (default 3) is at least 1; walSegmentBytes (default 64 MiB) holds the largest WAL write and two frames', () => {
    expect(resolveConfig({})).toMatchObject({ snapshotsKept: 3, walSegmentBytes: 64 * 1024 * 1024 });
    expect(resolveConfig({ snapshotsKept: 1, walSegmentBytes: 8 * 1024 * 1024 })).toMatchObject({ snapshotsKept: 1, walSegmentBytes: 8 * 1024 * 1024 });
    expect(() => resolveConfig({ snapshotsKept: 0 })).toThrow(/snapshotsKept/);
    expect(() => resolveConfig({ walSegmentBytes: 1024 * 1024 })).toThrow(/walSegmentBytes must be at least/);
    expect(() => resolveConfig({ walSegmentBytes: 5 * 1024 * 1024, maxFrameBytes: 4 * 1024 * 1024 })).toThrow(/twice maxFrameBytes/);
  });

  test('session bounds follow the tick unless set explicitly', () => {
    expect(resolveConfig({ tickMs: 500 })).toMatchObject({ minSessionTimeoutMs: 1000, maxSessionTimeoutMs: 10_000 });
    expect(resolveConfig({ tickMs: 500, maxSessionTimeoutMs: 60_000 })).toMatchObject({ maxSessionTimeoutMs: 60_000 });
  });

  test('a JSON file, then the environment, then flags: later sources win', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zook-config-'));
    const file = join(dir, 'zook.json');
    writeFileSync(file, JSON.stringify({ port: 3000, dataDir: '/var/zook', serverId: 4 }));
    const config = resolveConfig({ ...readConfigFile(file), ...configFromEnv({ ZOOK_PORT: '4000' }), ...{ serverId: '5' } });
    expect(config).toMatchObject({ port: 4000, dataDir: '/var/zook', serverId: 5 });
  });

  test('the WebSocket port and the ZooKeeper port cannot be the same', () => {
    expect(() => resolveConfig({ port: 5000, zkPort: 5000 })).toThrow(/port and zkPort are both 5000/);
    expect(() => resolveConfig({ zkPort: 70_000 })).toThrow(/zkPort must be 0..65535/);
    expect(resolveConfig({ port: 0, zkPort: 0 })).toMatchObject({ port: 0, zkPort: 0 });
  });

  test('unknown settings and bad values are refused with the setting named', () => {
    expect(() => resolveConfig({ prot: 1 } as never)).toThrow(/unknown setting "prot"/);
    expect(() => resolveConfig({ port: 'many' })).toThrow(/port must be a number/);
    expect(() => resolveConfig({ serverId: 200 })).toThrow(/serverId/);
    expect(() => resolveConfig({ maxFrameBytes: 1000 })).toThrow(/maxFrameBytes/);
    expect(() => resolveConfig({ minSessionTimeoutMs: 5000, maxSessionTimeoutMs: 4000 })).toThrow(/minSessionTimeoutMs/);
  });

  test('a config file that is not a JSON object is refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zook-config-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, '[1, 2]');
    expect(() => readConfigFile(file)).toThrow(/JSON object/);
  });
});
