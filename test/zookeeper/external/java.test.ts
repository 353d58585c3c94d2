// Apache ZooKeeper's Java client (Debian's 3.8 jar; Curator builds on it unchanged)
// against a real zook server over TCP: java/ClientCheck.java runs the calls an
// application makes and prints name=value lines, asserted here.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type ServerProcess, startServerProcess } from '../../server/support/server-process.js';
import { JAVAC, ZOOKEEPER_JAR, describeWith } from './support.js';

const SOURCE = fileURLToPath(new URL('./java/ClientCheck.java', import.meta.url));

describeWith(['javac'], "ZooKeeper's Java client", () => {
  let server: ServerProcess;
  let classes: string;
  let results: Map<string, string>;

  beforeAll(async () => {
    classes = mkdtempSync(join(tmpdir(), 'zook-java-'));
    const compiled = spawnSync(JAVAC, ['-cp', ZOOKEEPER_JAR, '-d', classes, SOURCE], { encoding: 'utf8', timeout: 120_000 });
    if (compiled.status !== 0) throw new Error(`javac failed:\n${compiled.stderr}`);
    server = await startServerProcess();
    const run = spawnSync('/usr/bin/java', ['-cp', `${ZOOKEEPER_JAR}:${classes}`, 'ClientCheck', `127.0.0.1:${server.zkPort}`, '/java'], { encoding: 'utf8', timeout: 120_000 });
    if (run.status !== 0) throw new Error(`ClientCheck failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
    results = new Map(run.stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
    if (classes !== undefined) rmSync(classes, { recursive: true, force: true });
  });

  test('runs to the end and closes its session', () => expect(results.get('done')).toBe('true'));
  test('create with a Stat (create2) returns version 0 and a zxid', () => {
    expect(results.get('create2.version')).toBe('0');
    expect(results.get('create2.czxid_positive')).toBe('true');
  });
  test('getData with a watcher, setData with the version, the watch fires', () => {
    expect(results.get('getData')).toBe('one');
    expect(results.get('setData.version')).toBe('1');
    expect(results.get('watch.first')).toBe('NodeDataChanged /java/a');
  });
  test('a stale version is BadVersionException', () => expect(results.get('badVersion')).toBe('BADVERSION'));
  test('addWatch PERSISTENT_RECURSIVE reports a descendant created', () => expect(results.get('recursive.created')).toBe('NodeCreated /java/a/b'));
  test('sequential, TTL and container nodes are created', () => {
    expect(results.get('sequential')).toBe('/s-0000000001');
    expect(results.get('ttl.created')).toBe('true');
    expect(results.get('container.ephemeralOwner')).toBe('0');
  });
  test('getChildren with a Stat, getAllChildrenNumber and getEphemerals', () => {
    expect(results.get('getChildren2')).toBe('[a, container, s-0000000001, ttl] numChildren 4');
    expect(results.get('allChildrenNumber')).toBe('5');
    expect(results.get('ephemerals')).toBe('[/java/a/b]');
  });
  test('multi: results per op; a failed multi throws with per-op codes and applies nothing', () => {
    expect(results.get('multi.ok')).toBe('3 true true');
    expect(results.get('multi.failed')).toBe('NONODE 0 -101');
    expect(results.get('multi.notApplied')).toBe('true');
  });
  test('multi of reads (getData, getChildren)', () => expect(results.get('multiRead')).toBe('four [b]'));
  test('sync answers Ok with its path', () => expect(results.get('sync')).toBe('0 /java'));
  test('removeWatches removes a watch; removing it again is NoWatcher', () => expect(results.get('removeWatches.again')).toBe('NOWATCHER'));
  test('whoAmI names the ip and the digest user', () => expect(results.get('whoAmI')).toBe('digest:alice,ip:127.0.0.1'));
  test('/zookeeper holds config and quota; getConfig reads /zookeeper/config; deleting /zookeeper is BadArguments', () => {
    expect(results.get('zookeeperChildren')).toBe('config,quota');
    expect(results.get('getConfig.length')).toBe('0');
    expect(results.get('deleteSystem')).toBe('BADARGUMENTS');
  });
  test('the session timeout is negotiated into the server bounds', () => expect(results.get('sessionTimeout')).toBe('10000'));
});
