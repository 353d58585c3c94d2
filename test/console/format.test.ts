// The console's small formatters (console/src/format.ts): paths, hex dumps, ACL letters.
import { describe, expect, test } from 'vitest';
import { hex, joinPath, parentOf, permString } from '../../console/src/format.js';

describe('console formatting', () => {
  test('paths join under / and under a node, and the parent of a top-level node is /', () => {
    expect(joinPath('/', 'a')).toBe('/a');
    expect(joinPath('/a/b', 'c')).toBe('/a/b/c');
    expect(parentOf('/a')).toBe('/');
    expect(parentOf('/a/b/c')).toBe('/a/b');
  });

  test('a hex dump has 16 bytes a line: offset, hex, printable ASCII (dots for the rest)', () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('hello, zook! 0123'), 0, 0xff]);
    expect(hex(bytes).split('\n')).toEqual([
      '00000000  68 65 6c 6c 6f 2c 20 7a 6f 6f 6b 21 20 30 31 32  hello, zook! 012',
      `00000010  33 00 ff${' '.repeat(39)}  3..`,
    ]);
    expect(hex(new Uint8Array())).toBe('(empty)');
  });

  test('permissions read as zkCli prints them', () => {
    expect(permString(31)).toBe('cdrwa');
    expect(permString(1)).toBe('r');
    expect(permString(0)).toBe('(none)');
  });
});
