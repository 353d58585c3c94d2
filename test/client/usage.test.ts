// The usage the issue promises, word for word, through the package entry.
import { expect, test } from 'vitest';
import { connect, ZookError, type ClientState, type WatchEvent } from '../../src/index.js';
import { startServers, TEST_OPTIONS } from './support/harness.js';

test('the documented example runs through the package entry', async () => {
  const [server] = await startServers(1);
  const zk = await connect(server.url, { ...TEST_OPTIONS, sessionTimeoutMs: 10_000 });
  const states: ClientState[] = [];
  zk.on('state', (s) => states.push(s));
  const data = new TextEncoder().encode('d');
  await zk.create('/app');
  await zk.create('/app/config', 'v1');
  await zk.create('/a');
  const path = await zk.create('/app/lock-', data, { mode: 'EPHEMERAL_SEQUENTIAL' });
  const events: WatchEvent[] = [];
  const { data: value, stat } = await zk.getData('/app/config', { watch: (event) => events.push(event) });
  expect(new TextDecoder().decode(value)).toBe('v1');
  await zk.setData('/app/config', new TextEncoder().encode('v2'), { version: stat.version });
  expect(events.map((e) => e.type)).toEqual(['NodeDataChanged']);
  await zk.delete(path, { version: -1 });
  const children = await zk.getChildren('/app');
  expect(children).toEqual(['config']);
  await expect(zk.multi([{ op: 'check', path: '/a', version: 1 }, { op: 'create', path: '/b', data }])).rejects.toBeInstanceOf(ZookError);
  await zk.multi([{ op: 'check', path: '/a', version: 0 }, { op: 'create', path: '/b', data }]);
  await zk.close();
  expect(states).toEqual(['closed']);
});
