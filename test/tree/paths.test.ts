import { describe, expect, test } from 'vitest';
import { isValidPath, utf8ByteLength } from '../../src/tree/paths.js';
import { seeded } from '../support/seeded.js';
import { ErrorCode, CreateMode } from '../../src/tree/index.js';
import { harness } from './harness.js';

const MAX = 4096;

describe('path rules (ZooKeeper PathUtils.validatePath)', () => {
  test.each(['/', '/a', '/a/b', '/...', '/.x', '/a/..b', '/a/b..', '/ünï/çødé', '/a b', '/zookeeper'])('accepts %j', (path) => {
    expect(isValidPath(path, MAX)).toBe(true);
  });

  test.each([
    ['', 'empty'],
    ['a', 'relative'],
    ['/a/', 'trailing slash'],
    ['//a', 'empty component'],
    ['/a//b', 'empty component in the middle'],
    ['/.', 'a "." component'],
    ['/a/./b', 'a "." component in the middle'],
    ['/..', 'a ".." component'],
    ['/a/../b', 'a ".." component in the middle'],
    ['/a/..', 'a trailing ".." component'],
    ['/a\u0000b', 'a null character'],
    ['/a\u0001', 'a control character'],
    ['/a\u007f', 'DEL'],
    ['/a\u0085', 'a C1 control character'],
    ['/😀', 'an emoji (surrogate pair)'],
    ['/a\ue000', 'a private-use character'],
    ['/a\ufff5', 'a specials-block character'],
  ])('rejects %j (%s)', (path) => {
    expect(isValidPath(path, MAX)).toBe(false);
  });

  test('paths longer than maxPathBytes (UTF-8 bytes) are rejected', () => {
    expect(isValidPath('/' + 'a'.repeat(99), 100)).toBe(true);
    expect(isValidPath('/' + 'a'.repeat(100), 100)).toBe(false);
    expect(isValidPath('/' + 'é'.repeat(50), 100)).toBe(false); // 101 bytes
  });

  // The limit is counted without Buffer (the client runs in browsers too), exactly as Node counts.
  test('UTF-8 lengths are counted as Buffer.byteLength counts them, lone and paired surrogates included', () => {
    seeded(17, (rng) => {
      for (let n = 0; n < 5000; n++) {
        let text = '';
        for (let i = rng.int(12); i > 0; i--) {
          const kind = rng.int(4);
          const unit = kind === 0 ? rng.int(0x80) : kind === 1 ? rng.int(0x800) : kind === 2 ? 0xd800 + rng.int(0x800) : rng.int(0x10000);
          text += String.fromCharCode(unit);
        }
        expect(utf8ByteLength(text), JSON.stringify(text)).toBe(Buffer.byteLength(text, 'utf8'));
      }
    });
  });

  test('a bad path gives BadArguments for every write', () => {
    const h = harness();
    expect(h.create('/a/').error).toBe(ErrorCode.BadArguments);
    expect(h.delete('/a/../b').error).toBe(ErrorCode.BadArguments);
    expect(h.setData('no-slash', 'x').error).toBe(ErrorCode.BadArguments);
    expect(h.write({ type: 'setACL', path: '//', acl: [{ perms: 31, scheme: 'world', id: 'anyone' }], version: -1 }).error).toBe(ErrorCode.BadArguments);
  });

  test('create("/p/", sequential) is valid and names the child directly under /p (NOTES 4)', () => {
    const h = harness();
    h.mustCreate('/p');
    expect(h.mustCreate('/p/', '', CreateMode.PersistentSequential)).toBe('/p/0000000000');
  });

  test('the path length limit is configurable and counts the sequential suffix', () => {
    const h = harness({ maxPathBytes: 20 });
    expect(h.create('/' + 'a'.repeat(19)).error).toBe(0);
    expect(h.create('/' + 'b'.repeat(20)).error).toBe(ErrorCode.BadArguments);
    expect(h.create('/' + 'c'.repeat(9), '', CreateMode.PersistentSequential).error).toBe(0);
    expect(h.create('/' + 'd'.repeat(10), '', CreateMode.PersistentSequential).error).toBe(ErrorCode.BadArguments);
  });
});
