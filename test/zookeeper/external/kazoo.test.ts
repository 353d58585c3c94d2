// kazoo 2.8 (Python's ZooKeeper client and recipes; Debian's python3-kazoo, run with
// /usr/bin/python3) against real zook servers over ZooKeeper's TCP protocol. The
// scripts under py/ do the work and print what they saw as JSON; these tests assert
// on it. Every scenario gives the same answers against Apache ZooKeeper 3.8 (checked:
// checks.py and expiry against a standalone one, failover against a 3-node ensemble).
//
// Needs kazoo: `bash test/zookeeper/external/install-deps.sh` (skipped with a warning
// without it, failing on CI).
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Cluster } from '../../cluster/support/cluster.js';
import { type ServerProcess, startServerProcess } from '../../server/support/server-process.js';
import { TcpProxy } from '../../support/tcp-proxy.js';
import { PythonProcess, describeWith, python } from './support.js';

type Result = Record<string, unknown>;

describeWith(['kazoo'], 'kazoo against a zook server', () => {
  let server: ServerProcess;
  let hosts: string;

  beforeAll(async () => {
    server = await startServerProcess();
    hosts = `127.0.0.1:${server.zkPort}`;
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  const check = (scenario: string): Promise<Result> => python('checks.py', [scenario, hosts, `/kazoo-${scenario}`]);

  test('CRUD with versions: set/delete with a stale version raise BadVersionError, sequence nodes count up, a transaction is all or nothing', async () => {
    const r = await check('crud');
    const root = '/kazoo-crud';
    expect(r).toEqual({
      created: `${root}/node`,
      get: ['v0', 0],
      set_version_0: 1,
      set_stale_version: 'BadVersionError',
      after_stale_set: 'v1',
      set_any_version: 2,
      create_existing: 'NodeExistsError',
      get_missing: 'NoNodeError',
      exists_missing: true,
      sequential: [`${root}/seq-0000000001`, `${root}/seq-0000000002`, `${root}/seq-0000000003`],
      children: ['node', 'seq-0000000001', 'seq-0000000002', 'seq-0000000003'],
      delete_not_empty: 'NotEmptyError',
      delete_stale_version: 'BadVersionError',
      exists_after_delete: false,
      transaction: [`${root}/t1`, true, 'ZnodeStat'],
      failed_transaction: ['RolledBackError', 'BadVersionError'],
      t2_exists: false,
      seq_data: 'changed',
      root_exists_after_recursive_delete: false,
    });
  });

  test('ACL with digest auth: only the right user:password reads a digest-protected node; world:anyone:r is read-only', async () => {
    const r = await check('acl');
    expect(r.acl).toEqual([{ perms: 31, scheme: 'digest', id: r.expected_id }]);
    expect(r.expected_id).toBe('user:smGaoVKd/cQkjm7b88GyorAUz20=');
    expect(r).toMatchObject({
      owner_get: 'hidden',
      anonymous_get: 'NoAuthError',
      anonymous_set: 'NoAuthError',
      anonymous_children: 'NoAuthError',
      wrong_password_get: 'NoAuthError',
      added_auth_get: 'hidden',
      anonymous_read_public: 'p',
      anonymous_write_public: 'NoAuthError',
      set_acls_stale_version: 'BadVersionError',
      set_acls: 1,
      anonymous_write_after_open: 'ok',
      invalid_acl: 'InvalidACLError',
    });
  });

  test("ephemeral nodes vanish when their session is closed, and an exists watch sees the delete", async () => {
    const r = await check('ephemeral-close');
    expect(r).toEqual({
      owner_is_session: true,
      children_before: ['e', 'es-0000000001'],
      child_of_ephemeral: 'NoChildrenForEphemeralsError',
      events: [['DELETED', '/kazoo-ephemeral-close/e']],
      children_after: [],
    });
  });

  test('ephemeral nodes vanish when their session expires (connection cut past the 2 s timeout); kazoo then reports LOST and starts a new session', async () => {
    const proxy = await TcpProxy.start(server.zkPort);
    const py = PythonProcess.start('session.py', ['expiry', `127.0.0.1:${proxy.port}`, hosts, '/kazoo-expiry']);
    try {
      await py.next('connected');
      proxy.cutLinks();
      py.send('cut');
      await py.next('expired', 45_000);
      proxy.heal();
      py.send('healed');
      const r = await py.next('the result', 45_000);
      await py.finish();
      expect(r.observer_events).toEqual([['DELETED', '/kazoo-expiry/e']]);
      expect(r.states_while_cut).toEqual(['SUSPENDED']);
      expect(r.states).toEqual(['SUSPENDED', 'LOST', 'CONNECTED']);
      expect(r).toMatchObject({ new_session_differs: true, ephemeral_after: false, new_session_owns: true });
    } finally {
      py.kill();
      await proxy.close();
    }
  });

  test('DataWatch and ChildrenWatch see every change made by another client; a plain watch fires once', async () => {
    const r = await check('watches');
    expect(r.data_seen).toEqual([
      ['', 0, null],
      ['one', 1, 'CHANGED'],
      ['two', 2, 'CHANGED'],
      [null, null, 'DELETED'],
    ]);
    expect(r.children_seen).toEqual([['d'], ['c1', 'd'], ['d'], []]);
    expect(r.one_shot).toEqual([['CHANGED', '/kazoo-watches/plain']]);
    expect(r.later).toEqual(['CHANGED']);
    expect(r.exists_watch).toEqual([['CREATED', '/kazoo-watches/later-node']]);
  });

  test('TreeCache mirrors a subtree: initial nodes, then adds, updates and removes by another client', async () => {
    const r = await check('tree-cache');
    const root = '/kazoo-tree-cache';
    expect(r).toMatchObject({ initial: ['x'], children: ['x'], x: '1b', x_version: 2, y: '2', x_children: ['y'] });
    // TreeCache fetches nodes concurrently: each node's own events are in order, not those of different nodes.
    const events = r.events as [string, string | null][];
    const initialized = events.findIndex(([type]) => type === 'INITIALIZED');
    expect(events.slice(0, initialized).sort()).toEqual([
      ['NODE_ADDED', root],
      ['NODE_ADDED', `${root}/x`],
    ]);
    const byPath = new Map<string, string[]>();
    for (const [type, path] of events.slice(initialized + 1)) byPath.set(path!, [...(byPath.get(path!) ?? []), type]);
    expect(Object.fromEntries(byPath)).toEqual({
      [`${root}/x/y`]: ['NODE_ADDED'],
      [`${root}/z`]: ['NODE_ADDED', 'NODE_REMOVED'],
      [`${root}/x`]: ['NODE_UPDATED'],
    });
  });

  test('Lock: three clients incrementing under the lock lose no update and never overlap; a contender waits until release', async () => {
    const r = await check('lock');
    expect(r).toEqual({
      failures: [],
      value: 30,
      expected: 30,
      most_holders_at_once: 1,
      holder_acquired: true,
      second_nonblocking: false,
      contenders_while_held: ['holder', 'waiter'],
      waiter_holds_while_held: false,
      waiter_acquired_after_release: true,
      contenders_after: ['waiter'],
    });
  });

  test('Election: the second candidate leads only after the first one ends its term', async () => {
    expect(await check('election')).toEqual({ contenders: ['candidate-0', 'candidate-1'], leaders_while_first_leads: [0], leaders: [0, 1] });
  });

  test('Barrier holds a waiter until removed; DoubleBarrier lets nobody in until both participants arrive', async () => {
    expect(await check('barrier')).toEqual({
      passed_while_up: false,
      passed_after_remove: true,
      wait_result: true,
      entered_with_one_arrived: [],
      entered: [0, 1],
      left: [0, 1],
    });
  });

  test('Counter: 25 increments from each of two clients at once sum to 50', async () => {
    expect(await check('counter')).toEqual({ value: 50, expected: 50, after_minus_5: 45, float: 0.75 });
  });

  test('Party and ShallowParty: members join and leave, and a closed session leaves by itself', async () => {
    expect(await check('party')).toEqual({
      members: ['alice', 'bob'],
      size: 2,
      after_leave: ['alice'],
      shallow_members: ['carol', 'dave'],
      shallow_after_close: ['dave'],
    });
  });

  test('Queue is FIFO by priority; LockingQueue hands each item to one consumer only', async () => {
    const r = await check('queue');
    expect(r).toEqual({
      queue_len: 7,
      fifo: ['urgent', 'item-0', 'item-1', 'item-2', 'item-3', 'item-4', 'late'],
      empty_get: null,
      held_apart: ['job-0', 'job-1'],
      released: true,
      after_release: 'job-0',
      consumed: ['job-2', 'job-3', 'job-4', 'job-5', 'job-6', 'job-7', 'job-8', 'job-9'],
      consumed_twice: 0,
      failures: [],
      locking_len_after: 0,
    });
  });
});

describeWith(['kazoo'], 'kazoo across kill -9 of its server in a 3-node zook ensemble', () => {
  let cluster: Cluster | undefined;

  afterAll(async () => {
    await cluster?.stopAll();
  });

  test('kazoo keeps its session (same id) on another server: its ephemeral survives, a DataWatch still fires, a held Lock stays held until released', async () => {
    const c = (cluster = await Cluster.start({ size: 3 }));
    const leader = await c.leader();
    const hosts = c.ids.map((id) => `127.0.0.1:${c.zkPort.get(id)}`).join(',');
    const py = PythonProcess.start('session.py', ['failover', hosts, '/kazoo-failover']);
    try {
      const ready = await py.next<{ session: string; port: number }>('ready');
      const victim = c.ids.find((id) => c.zkPort.get(id) === ready.port);
      expect(victim, `kazoo is connected to port ${ready.port}, none of ${hosts}`).toBeDefined();
      console.log(`kazoo session ${ready.session} on server ${victim} (${victim === leader ? 'the leader' : 'a follower'}): kill -9`);
      await c.kill9(victim!);
      py.send('killed');
      const r = await py.next('the result', 60_000);
      await py.finish();
      expect(r.states).not.toContain('LOST');
      expect((r.states as string[])[0]).toBe('SUSPENDED');
      expect((r.states as string[]).at(-1)).toBe('CONNECTED');
      expect(r.port_after).not.toBe(ready.port);
      expect(r).toMatchObject({
        acquired: true,
        same_session: true,
        ephemeral_survives: true,
        lock_is_acquired: true,
        contenders_after_failover: ['holder'],
        other_nonblocking: false,
        seen: ['v0', 'after-failover'],
        waiter_holds_while_held: false,
        waiter_acquired_after_release: true,
      });
    } finally {
      py.kill();
    }
  }, 120_000);
});
