// Apache ZooKeeper's own CLI (zkCli.sh 3.8, Debian's `zookeeper` package) against a real
// zook server over ZooKeeper's TCP protocol, plus the four-letter words over a plain
// socket. Every assertion is on the lines zkCli.sh prints, which are what ZooKeeper
// 3.8 prints for the same commands (checked against a real one).
//
// Needs zkCli.sh: `bash test/zookeeper/external/install-deps.sh` (skipped with a
// warning without it, failing on CI).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type ServerProcess, startServerProcess } from '../../server/support/server-process.js';
import { until } from '../../support/until.js';
import { ZkCliSession, describeWith, fourLetterWord, zkCli, zkCliScript } from './support.js';

/** `[a, b]` as zkCli prints a list -> ['a', 'b']. */
function list(line: string | undefined): string[] {
  const m = /^\[(.*)\]$/.exec(line ?? '');
  if (m === null) throw new Error(`not a list: ${line}`);
  return m[1] === '' ? [] : m[1].split(', ');
}

/** Stat fields that change from run to run (zxids, times). */
const VOLATILE = ['cZxid', 'ctime', 'mZxid', 'mtime', 'pZxid'];
/** A zkCli output line other than a volatile Stat field. */
const STABLE = (line: string): boolean => !VOLATILE.some((key) => line.startsWith(`${key} = `));

/** `key<sep>value` lines -> a map. */
function keyValues(text: string, sep: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(sep);
    if (i > 0) out.set(line.slice(0, i), line.slice(i + sep.length));
  }
  return out;
}

const event = (type: string, path: string): string => `WatchedEvent state:SyncConnected type:${type} path:${path}`;

describeWith(['zkCli.sh'], 'zkCli.sh (ZooKeeper 3.8) against a zook server', () => {
  let server: ServerProcess;
  let port: number;
  let configDir: string;
  const sessions: ZkCliSession[] = [];

  beforeAll(async () => {
    configDir = mkdtempSync(join(tmpdir(), 'zook-zkcli-'));
    const config = join(configDir, 'zook.json');
    // Containers and TTL nodes are looked for every 100 ms (default 5 s), so their deletes come quickly.
    writeFileSync(config, JSON.stringify({ expirySweepMs: 100 }));
    server = await startServerProcess({ extraArgs: ['--config', config] });
    port = server.zkPort;
  });
  afterAll(async () => {
    await Promise.all(sessions.map((s) => s.quit()));
    await server?.stop();
    server?.cleanup();
    rmSync(configDir, { recursive: true, force: true });
  });

  async function session(): Promise<ZkCliSession> {
    const s = await ZkCliSession.open(port);
    sessions.push(s);
    return s;
  }

  // ---- the tree ----

  test('ls / lists the /zookeeper system node; ls /zookeeper lists its config and quota children', async () => {
    const root = await zkCli(port, 'ls', '/');
    expect(root.code).toBe(0);
    expect(list(root.out.at(-1))).toContain('zookeeper');
    const system = await zkCli(port, 'ls', '/zookeeper');
    expect(system.out).toEqual(['[config, quota]']);
  });

  test('create makes a persistent node whose data get reads back, from the same and from another session', async () => {
    expect(await zkCliScript(port, ['create /crud hello', 'get /crud', 'ls /'])).toEqual(['Created /crud', 'hello', expect.stringMatching(/^\[.*\bcrud\b.*\]$/)]);
    const again = await zkCli(port, 'get', '/crud');
    expect(again.out).toEqual(['hello']);
  });

  test('create of an existing node fails with NodeExists; get of a missing one with NoNode (exit code 1, message on stderr)', async () => {
    await zkCli(port, 'create', '/exists', 'x');
    const dup = await zkCli(port, 'create', '/exists', 'y');
    expect(dup.code).toBe(1);
    expect(dup.err).toEqual(['Node already exists: /exists']);
    const missing = await zkCli(port, 'get', '/no/such/node');
    expect(missing.code).toBe(1);
    expect(missing.err).toEqual(['Node does not exist: /no/such/node']);
  });

  test('create -e makes an ephemeral node owned by the session, gone once that zkCli has quit', async () => {
    const lines = await zkCliScript(port, ['create /eph', 'create -e /eph/mine x', 'stat /eph/mine', 'ls /eph']);
    expect(lines).toContain('Created /eph/mine');
    expect(lines).toContainEqual(expect.stringMatching(/^ephemeralOwner = 0x[0-9a-f]*[1-9a-f][0-9a-f]*$/));
    expect(lines.at(-1)).toBe('[mine]');
    // quit closes the session, and its ephemerals go with it.
    expect((await zkCli(port, 'ls', '/eph')).out).toEqual(['[]']);
  });

  test('create -e refuses a child under an ephemeral node', async () => {
    const lines = await zkCliScript(port, ['create -e /eph-parent', 'create /eph-parent/child']);
    expect(lines).toEqual(['Created /eph-parent', 'Ephemerals cannot have children: /eph-parent/child']);
  });

  test("create -s appends a 10-digit counter taken from the parent's child-change count", async () => {
    const lines = await zkCliScript(port, ['create /seq', 'create -s /seq/n- a', 'create -s /seq/n- b', 'create /seq/plain', 'create -s /seq/n- c', 'ls /seq']);
    expect(lines).toEqual(['Created /seq', 'Created /seq/n-0000000000', 'Created /seq/n-0000000001', 'Created /seq/plain', 'Created /seq/n-0000000003', '[n-0000000000, n-0000000001, n-0000000003, plain]']);
  });

  test('create -c makes a container node, which the server deletes once its last child is gone', async () => {
    expect(await zkCliScript(port, ['create -c /box', 'create /box/item x', 'ls /box', 'delete /box/item'])).toEqual(['Created /box', 'Created /box/item', '[item]']);
    await until('the emptied container /box to be deleted', async () => ((await zkCli(port, 'stat', '/box')).err.includes('Node does not exist: /box') ? true : undefined), 20_000, 200);
  });

  test('create -t 10000 makes a TTL node (zook needs no extendedTypesEnabled, ZooKeeper does)', async () => {
    // Deleted again here: its expiry 10 s later would change the node count under later tests.
    const lines = await zkCliScript(port, ['create -t 10000 /ttl x', 'get -s /ttl', 'delete /ttl']);
    expect(lines.filter(STABLE)).toEqual(['Created /ttl', 'x', 'cversion = 0', 'dataVersion = 0', 'aclVersion = 0', 'ephemeralOwner = 0x0', 'dataLength = 1', 'numChildren = 0']);
  });

  test('create -t: a TTL node left unmodified past its TTL is deleted by the server', async () => {
    expect(await zkCliScript(port, ['create -t 300 /ttl-short x'])).toEqual(['Created /ttl-short']);
    await until('the TTL node /ttl-short to expire', async () => ((await zkCli(port, 'stat', '/ttl-short')).err.includes('Node does not exist: /ttl-short') ? true : undefined), 20_000, 200);
  });

  test('set -v with the current version succeeds and bumps dataVersion; a stale version is refused (BadVersion) and changes nothing', async () => {
    const lines = await zkCliScript(port, ['create /ver a', 'set -v 0 /ver b', 'get -s /ver', 'set -v 0 /ver c', 'get /ver']);
    expect(lines.filter(STABLE)).toEqual([
      'Created /ver',
      'b',
      'cversion = 0',
      'dataVersion = 1',
      'aclVersion = 0',
      'ephemeralOwner = 0x0',
      'dataLength = 1',
      'numChildren = 0',
      'version No is not valid : /ver',
      'b',
    ]);
    const stale = await zkCli(port, 'set', '-v', '0', '/ver', 'd');
    expect(stale.code).toBe(1);
    expect(stale.err).toEqual(['version No is not valid : /ver']);
  });

  test('stat prints every Stat field, counting children and data bytes; zxids are hex', async () => {
    const lines = await zkCliScript(port, ['create /st abc', 'create /st/child', 'stat /st']);
    const stat = keyValues(lines.slice(2).join('\n'), ' = ');
    expect([...stat.keys()]).toEqual(['cZxid', 'ctime', 'mZxid', 'mtime', 'pZxid', 'cversion', 'dataVersion', 'aclVersion', 'ephemeralOwner', 'dataLength', 'numChildren']);
    expect(stat.get('cZxid')).toMatch(/^0x[0-9a-f]+$/);
    expect(stat.get('mZxid')).toBe(stat.get('cZxid'));
    // pZxid: the zxid of the child's create, after the node's own.
    expect(BigInt(stat.get('pZxid')!)).toBeGreaterThan(BigInt(stat.get('cZxid')!));
    expect(stat.get('ctime')).toMatch(/^\w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2} \w+ \d{4}$/);
    expect(Object.fromEntries([...stat].filter(([key]) => !VOLATILE.includes(key)))).toEqual({ cversion: '1', dataVersion: '0', aclVersion: '0', ephemeralOwner: '0x0', dataLength: '3', numChildren: '1' });
  });

  test('delete refuses a node with children and a wrong version, then deletes', async () => {
    const lines = await zkCliScript(port, ['create /del', 'create /del/child', 'delete /del', 'delete -v 3 /del/child', 'delete -v 0 /del/child', 'delete /del', 'ls /del']);
    expect(lines).toEqual(['Created /del', 'Created /del/child', 'Node not empty: /del', 'version No is not valid : /del/child', 'Node does not exist: /del']);
  });

  test('deleteall removes a whole subtree', async () => {
    const lines = await zkCliScript(port, ['create /tree', 'create /tree/a', 'create /tree/a/b', 'create /tree/c', 'deleteall /tree', 'ls /tree']);
    expect(lines).toEqual(['Created /tree', 'Created /tree/a', 'Created /tree/a/b', 'Created /tree/c', 'Node does not exist: /tree']);
  });

  test('getAllChildrenNumber counts every descendant of a path', async () => {
    const lines = await zkCliScript(port, ['create /count', 'create /count/a', 'create /count/a/b', 'create /count/c', 'getAllChildrenNumber /count', 'getAllChildrenNumber /count/a/b']);
    expect(lines.slice(4)).toEqual(['3', '0']);
  });

  test("getEphemerals lists the session's ephemeral nodes, all of them or under a path", async () => {
    const lines = await zkCliScript(port, ['create /ephs', 'create -e /ephs/a', 'create /ephs/sub', 'create -e /ephs/sub/b', 'create /ephs/sub/persistent', 'getEphemerals /ephs/sub', 'getEphemerals']);
    expect(lines[5]).toBe('[/ephs/sub/b]');
    // ZooKeeper prints them in no particular order.
    expect(list(lines[6]).sort()).toEqual(['/ephs/a', '/ephs/sub/b']);
  });

  test('sync prints Sync is OK', async () => {
    expect(await zkCliScript(port, ['create /synced x', 'sync /synced'])).toEqual(['Created /synced', 'Sync is OK']);
  });

  // zkCli's `create /x` sends a null buffer; ZooKeeper keeps the node's data null and
  // `get` prints "null". zook keeps null apart from empty data too.
  test('create without data: get prints null, as ZooKeeper does', async () => {
    expect(await zkCliScript(port, ['create /nodata', 'get /nodata'])).toEqual(['Created /nodata', 'null']);
  });

  // ---- ACLs and auth ----

  test('setAcl auth:user:pass:cdrwa after addauth digest: getAcl shows the digest identity; an unauthenticated get is refused with NoAuth', async () => {
    const setup = await zkCliScript(port, ['addauth digest user:pass', 'create /secret s3cret', 'setAcl /secret auth:user:pass:cdrwa', 'getAcl /secret']);
    expect(setup).toEqual(['Created /secret', "'digest,'user:smGaoVKd/cQkjm7b88GyorAUz20=", ': cdrwa']);
    const anonymous = await zkCli(port, 'get', '/secret');
    expect(anonymous.code).toBe(1);
    expect(anonymous.err).toEqual(['Insufficient permission : /secret']);
    expect(await zkCliScript(port, ['set /secret x', 'ls /secret', 'getAcl /secret'])).toEqual(Array(3).fill('Insufficient permission : /secret'));
  });

  test('a digest ACL admits the right password only', async () => {
    await zkCliScript(port, ['addauth digest owner:right', 'create /guarded g', 'setAcl /guarded auth:owner:right:cdrwa']);
    expect(await zkCliScript(port, ['addauth digest owner:wrong', 'get /guarded'])).toEqual(['Insufficient permission : /guarded']);
    expect(await zkCliScript(port, ['addauth digest owner:right', 'get /guarded'])).toEqual(['g']);
  });

  test('setAcl world:anyone:r makes a node read-only; setAcl -v refuses a stale ACL version', async () => {
    const lines = await zkCliScript(port, ['create /ro data', 'setAcl -v 0 /ro world:anyone:r', 'setAcl -v 0 /ro world:anyone:cdrwa', 'getAcl /ro', 'get /ro', 'set /ro x']);
    // The second setAcl is refused by the (now read-only) ACL before its version is looked at: ZooKeeper does the same.
    expect(lines).toEqual(['Created /ro', 'Insufficient permission : /ro', "'world,'anyone", ': r', 'data', 'Insufficient permission : /ro']);
    const stale = await zkCliScript(port, ['create /aclv x', 'setAcl -v 3 /aclv world:anyone:cdrwa']);
    expect(stale).toEqual(['Created /aclv', 'version No is not valid : /aclv']);
  });

  test('whoami names the ip identity of an unauthenticated session', async () => {
    expect(await zkCliScript(port, ['whoami'])).toEqual(['Auth scheme: User', 'ip: 127.0.0.1']);
  });

  // ZooKeeper's whoami answers a digest identity by its user name (DigestAuthenticationProvider.getUserName).
  test('whoami after addauth digest names the user, as ZooKeeper does', async () => {
    expect(await zkCliScript(port, ['addauth digest user:pass', 'whoami'])).toEqual(['Auth scheme: User', 'ip: 127.0.0.1', 'digest: user']);
  });

  // ---- watches ----

  test('get -w: the session prints a NodeDataChanged WatchedEvent when a second zkCli sets the node', async () => {
    await zkCli(port, 'create', '/watched', 'v1');
    const a = await session();
    a.run('get -w /watched');
    await a.waitFor('v1');
    expect((await zkCli(port, 'set', '/watched', 'v2')).code).toBe(0);
    await a.waitFor(event('NodeDataChanged', '/watched'));
  });

  test('ls -w: the session prints a NodeChildrenChanged WatchedEvent when a second zkCli creates a child', async () => {
    await zkCli(port, 'create', '/parent');
    const a = await session();
    a.run('ls -w /parent');
    await a.waitFor('[]');
    expect((await zkCli(port, 'create', '/parent/kid')).code).toBe(0);
    await a.waitFor(event('NodeChildrenChanged', '/parent'));
  });

  test('addWatch -m PERSISTENT_RECURSIVE: the session prints every change below the path, in order, and keeps watching', async () => {
    await zkCli(port, 'create', '/rec', 'rec-root');
    const a = await session();
    a.run('addWatch -m PERSISTENT_RECURSIVE /rec');
    a.run('get /rec'); // addWatch prints nothing: this line's output says it is done
    await a.waitFor('rec-root');
    await zkCliScript(port, ['create /rec/a', 'create /rec/a/b x', 'set /rec/a/b y', 'delete /rec/a/b', 'set /rec/a z']);
    const expected = [
      event('NodeCreated', '/rec/a'),
      event('NodeCreated', '/rec/a/b'),
      event('NodeDataChanged', '/rec/a/b'),
      event('NodeDeleted', '/rec/a/b'),
      event('NodeDataChanged', '/rec/a'),
    ];
    await a.waitFor(expected.at(-1)!);
    expect(a.lines().filter((l) => l.startsWith('WatchedEvent'))).toEqual(expected);
  });

  // ---- four-letter words ----

  test('ruok answers imok', async () => {
    expect(await fourLetterWord(port, 'ruok')).toBe('imok');
  });

  test('srvr reports Mode: standalone and a Node count that follows the tree', async () => {
    const before = await fourLetterWord(port, 'srvr');
    expect(before.split('\n')).toContain('Mode: standalone');
    expect(before).toMatch(/^Zookeeper version: \S+/);
    const count = (text: string): number => Number(/^Node count: (\d+)$/m.exec(text)?.[1]);
    expect(count(before)).toBeGreaterThan(0);
    await zkCli(port, 'create', '/counted');
    expect(count(await fourLetterWord(port, 'srvr'))).toBe(count(before) + 1);
  });

  test('mntr reports tab-separated zk_ metrics: zk_znode_count matches srvr, zk_server_state is standalone', async () => {
    const mntr = keyValues(await fourLetterWord(port, 'mntr'), '\t');
    const srvr = await fourLetterWord(port, 'srvr');
    expect(mntr.get('zk_znode_count')).toBe(/^Node count: (\d+)$/m.exec(srvr)?.[1]);
    expect(mntr.get('zk_server_state')).toBe('standalone');
    for (const key of ['zk_version', 'zk_avg_latency', 'zk_packets_received', 'zk_num_alive_connections', 'zk_watch_count', 'zk_ephemerals_count']) expect(mntr.has(key), key).toBe(true);
  });

  test('stat lists a connected zkCli under Clients:, and Mode: standalone', async () => {
    await session();
    const lines = (await fourLetterWord(port, 'stat')).split('\n');
    const clients = lines.slice(lines.indexOf('Clients:') + 1, lines.indexOf('', lines.indexOf('Clients:')));
    expect(clients).toContainEqual(expect.stringMatching(/^ \/127\.0\.0\.1:\d+\[\d\]\(queued=\d+,.*\)$/));
    expect(lines).toContain('Mode: standalone');
  });

  test("cons lists each client connection with its session id", async () => {
    const a = await session();
    a.run('create -e /cons-marker');
    a.run('stat /cons-marker');
    await until('the ephemeralOwner line', () => (a.lines().some((l) => l.startsWith('ephemeralOwner = ')) ? true : undefined));
    const owner = a.lines().find((l) => l.startsWith('ephemeralOwner = '))!.slice('ephemeralOwner = '.length);
    const cons = (await fourLetterWord(port, 'cons')).split('\n');
    expect(cons).toContainEqual(expect.stringMatching(new RegExp(`^ /127\\.0\\.0\\.1:\\d+\\[\\d\\]\\(.*sid=${owner}[,)]`)));
  });

  test('conf reports the server settings: dataDir, tickTime, session timeout bounds', async () => {
    const conf = keyValues(await fourLetterWord(port, 'conf'), '=');
    expect(conf.get('dataDir')).toBe(server.dataDir);
    expect(conf.get('tickTime')).toBe('1000');
    expect(conf.get('minSessionTimeout')).toBe('2000');
    expect(conf.get('maxSessionTimeout')).toBe('20000');
  });

  // ZooKeeper's conf prints the port it is listening on (ServerCnxnFactory.getLocalPort).
  test('conf reports clientPort as the port clients connect to, as ZooKeeper does (also after --zk-port 0)', async () => {
    expect(keyValues(await fourLetterWord(port, 'conf'), '=').get('clientPort')).toBe(String(port));
  });

  test('wchs counts the connections watching and the watches, one more for a new get -w', async () => {
    const parse = (text: string): number[] => {
      const m = /^(\d+) connections watching (\d+) paths\nTotal watches:(\d+)\n$/.exec(text);
      if (m === null) throw new Error(`wchs: ${JSON.stringify(text)}`);
      return [Number(m[1]), Number(m[2]), Number(m[3])];
    };
    const before = parse(await fourLetterWord(port, 'wchs'));
    await zkCli(port, 'create', '/wchs-node', 'w');
    const a = await session();
    a.run('get -w /wchs-node');
    await a.waitFor('w');
    expect(parse(await fourLetterWord(port, 'wchs'))).toEqual([before[0] + 1, before[1] + 1, before[2] + 1]);
  });

  test('envi lists the environment as key=value lines under Environment:', async () => {
    const lines = (await fourLetterWord(port, 'envi')).split('\n');
    expect(lines[0]).toBe('Environment:');
    const env = keyValues(lines.slice(1).join('\n'), '=');
    for (const key of ['zookeeper.version', 'host.name', 'os.name', 'user.name', 'user.dir']) expect(env.get(key), key).toMatch(/\S/);
  });

  test('isro answers rw', async () => {
    expect(await fourLetterWord(port, 'isro')).toBe('rw');
  });

  test('dirs reports datadir_size and logdir_size in bytes', async () => {
    const text = await fourLetterWord(port, 'dirs');
    expect(text).toMatch(/^datadir_size: \d+\nlogdir_size: \d+\n$/);
    expect(Number(/datadir_size: (\d+)/.exec(text)?.[1])).toBeGreaterThan(0);
  });
});
