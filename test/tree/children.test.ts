import { describe, expect, test } from 'vitest';
import { ChildList, SMALL_CHILDREN_MAX } from '../../src/tree/children.js';
import { Znode } from '../../src/tree/znode.js';
import { AclTable, OPEN_ACL_UNSAFE } from '../../src/tree/acl.js';
import { NodeKind, getChildren, loadSnapshot, writeSnapshot } from '../../src/tree/index.js';
import { seeded } from '../support/seeded.js';
import { harness } from './harness.js';

const names = (n: number, rng: { uint64(): bigint }) => Array.from({ length: n }, () => `/p/${rng.uint64().toString(36)}`);

describe('child lists', () => {
  test('a chunked list agrees with a sorted array under random adds and removes, pages included', () => {
    seeded(51, (rng) => {
      const initial = [...new Set(names(3000, rng))].sort();
      const list = new ChildList(initial);
      const model = new Set(initial);
      for (let step = 0; step < 20_000; step++) {
        if (rng.int(3) > 0) {
          const p = `/p/${rng.uint64().toString(36)}`;
          if (!model.has(p)) {
            model.add(p);
            list.add(p);
          }
        } else if (model.size > 0) {
          const p = rng.pick([...model].slice(0, 50));
          model.delete(p);
          expect(list.remove(p)).toBe(true);
        }
      }
      const sorted = [...model].sort();
      expect(list.size).toBe(sorted.length);
      expect(list.toArray()).toEqual(sorted);
      expect(list.remove('/p/absent')).toBe(false);
      let after: string | undefined;
      const paged: string[] = [];
      for (;;) {
        const { paths, more } = list.page(after, 777);
        paged.push(...paths);
        if (!more) break;
        after = paths[paths.length - 1];
      }
      expect(paged).toEqual(sorted);
      expect(list.page(sorted[100] + '\u0000', 3).paths).toEqual(sorted.slice(101, 104));
    });
  });

  test('a node switches to a chunked list past the threshold and back well below it', () => {
    seeded(52, (rng) => {
      const node = new Znode('', new AclTable().acquire(OPEN_ACL_UNSAFE), 0, 0, 0, 0, 0, 0, 0, 0, 0, NodeKind.Persistent, 0);
      const all = [...new Set(names(SMALL_CHILDREN_MAX + 10, rng))];
      for (const p of all) node.addChild(p);
      expect(node.children).toBeInstanceOf(ChildList);
      expect(node.numChildren).toBe(all.length);
      for (const p of all.slice(0, all.length - SMALL_CHILDREN_MAX / 2)) expect(node.removeChild(p)).toBe(true);
      expect(Array.isArray(node.children)).toBe(true);
      expect(node.childPaths()).toEqual(all.slice(all.length - SMALL_CHILDREN_MAX / 2).sort());
    });
  });

  test('a node with 20,000 randomly named children lists, pages and snapshots like a small one', () => {
    seeded(53, (rng) => {
      const h = harness();
      h.mustCreate('/p');
      const created = new Set<string>();
      for (let i = 0; i < 20_000; i++) {
        const name = rng.uint64().toString(36);
        if (!created.has(name)) {
          created.add(name);
          h.mustCreate(`/p/${name}`);
        }
      }
      for (const name of [...created].slice(0, 5000)) h.delete(`/p/${name}`);
      const expected = [...created].slice(5000).sort();
      const all = getChildren(h.tree, '/p', { id: 1, authIds: [] });
      expect(all.error === 0 && all.children).toEqual(expected);
      const page = getChildren(h.tree, '/p', { id: 1, authIds: [] }, undefined, { after: expected[999], limit: 10 });
      expect(page.error === 0 && [page.children, page.next]).toEqual([expected.slice(1000, 1010), expected[1009]]);
      expect(loadSnapshot(writeSnapshot(h.tree)).digest).toBe(h.tree.digest);
    });
  });
});
