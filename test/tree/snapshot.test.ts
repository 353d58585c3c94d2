import { describe, expect, test } from 'vitest';
import { SeededRandom } from '../../src/util/random.js';
import { crc32c } from '../../src/core/index.js';
import {
  CreateMode,
  DataTree,
  OPEN_ACL_UNSAFE,
  SnapshotError,
  apply,
  exists,
  loadSnapshot,
  loadSnapshotAsync,
  summarizeSnapshot,
  writeSnapshot,
  type Txn,
} from '../../src/tree/index.js';
import { seeded } from '../support/seeded.js';
import { Harness, bytes } from './harness.js';
import { SESSION_IDS, Workload, idsOf } from './workload.js';

/** A tree shaped by a random workload, and the txns that built it. */
function randomHistory(seed: number, steps: number): { h: Harness; txns: readonly Txn[] } {
  const rng = new SeededRandom(seed);
  const h = new Harness({ superDigest: 'super:x' });
  for (const id of SESSION_IDS) h.openSession(id);
  const workload = new Workload(rng, () => [...h.tree.nodes.keys()]);
  for (let i = 0; i < steps; i++) {
    h.nowMs += rng.int(100);
    const open = [...h.tree.sessions.keys()];
    const s = open.length > 0 ? rng.pick(open) : 1;
    h.write(workload.request(), { id: s, authIds: idsOf(s) });
  }
  return { h, txns: h.txns };
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Byte equality without vitest's element-by-element deep compare (slow on megabytes). */
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));

const snapshotBytes = (tree: DataTree, maxChunkBytes = 64 * 1024) => concat([...writeSnapshot(tree, { maxChunkBytes })]);

function bigTree(nodes: number): DataTree {
  const tree = new DataTree();
  let zxid = 0;
  apply(tree, { type: 'createSession', sessionId: 7, timeoutMs: 5000, timeMs: 1 }, ++zxid);
  const fanout = 100;
  for (let i = 0; tree.nodeCount < nodes; i++) {
    const parent = i < fanout ? '/' : `/d${(i - fanout) % fanout}`;
    const path = parent === '/' ? `/d${i}` : `${parent}/n${i}`;
    const kind = i % 50 === 0 && parent !== '/' ? 1 : 0;
    const r = apply(tree, { type: 'create', path, sequentialPrefix: '', data: bytes(`value-${i}`), acl: OPEN_ACL_UNSAFE, kind, ephemeralOwner: kind === 1 ? 7 : 0, ttlMs: 0, timeMs: 1000 + i }, ++zxid);
    if (r.error !== 0) throw new Error(`create ${path}: ${r.error}`);
  }
  return tree;
}

describe('determinism', () => {
  test('two trees fed the same txns have the same digest and the same snapshot bytes', () => {
    seeded(11, () => {
      const { h, txns } = randomHistory(11, 3000);
      const replica = new DataTree({ superDigest: 'super:x' });
      txns.forEach((txn, i) => apply(replica, txn, i + 1));
      expect(replica.digest).toBe(h.tree.digest);
      expect(sameBytes(snapshotBytes(replica), snapshotBytes(h.tree))).toBe(true);
    });
  });

  test('the incremental digest equals a digest recomputed from scratch', () => {
    const { h } = randomHistory(12, 2000);
    expect(h.tree.digest).toBe(h.tree.recomputeDigest());
  });

  test('trees that differ in one Stat field have different digests', () => {
    const a = new Harness();
    const b = new Harness();
    for (const h of [a, b]) {
      h.openSession(1);
      h.mustCreate('/x');
    }
    b.setData('/x', '');
    expect(a.tree.digest).not.toBe(b.tree.digest);
  });
});

describe('snapshots', () => {
  test('snapshot -> load gives the same digest, the same bytes, and the same Stat everywhere', () => {
    const { h } = randomHistory(21, 2000);
    const loaded = loadSnapshot(writeSnapshot(h.tree, { maxChunkBytes: 1000 }), { superDigest: 'super:x' });
    expect(loaded.digest).toBe(h.tree.digest);
    expect(loaded.lastZxid).toBe(h.tree.lastZxid);
    expect(sameBytes(snapshotBytes(loaded), snapshotBytes(h.tree))).toBe(true);
    const su = { id: 0, authIds: [] };
    for (const path of h.tree.nodes.keys()) expect(exists(loaded, path, su)).toEqual(exists(h.tree, path, su));
    expect([...loaded.sessions.entries()].map(([id, s]) => [id, s.timeoutMs, [...s.ephemerals].sort()])).toEqual(
      [...h.tree.sessions.entries()].sort((x, y) => x[0] - y[0]).map(([id, s]) => [id, s.timeoutMs, [...s.ephemerals].sort()]),
    );
  });

  test('a loaded tree keeps behaving like the original (sequence counters, sessions, ACLs restored)', () => {
    const { h } = randomHistory(22, 1500);
    const copy = new Harness({ superDigest: 'super:x' });
    Object.assign(copy, { tree: loadSnapshot(writeSnapshot(h.tree), { superDigest: 'super:x' }), zxid: h.zxid, nowMs: h.nowMs });
    const rng = new SeededRandom(24);
    const workload = new Workload(rng, () => [...h.tree.nodes.keys()]);
    for (let i = 0; i < 500; i++) {
      const req = workload.request();
      const open = [...h.tree.sessions.keys()];
      const s = open.length > 0 ? rng.pick(open) : 1;
      const a = h.write(req, { id: s, authIds: idsOf(s) });
      const b = copy.write(req, { id: s, authIds: idsOf(s) });
      expect(b.error).toBe(a.error);
    }
    expect(copy.tree.digest).toBe(h.tree.digest);
  });

  test('every chunk is at most maxChunkBytes, and a 1 MiB node streams through 4 KiB chunks', () => {
    const h = new Harness();
    h.openSession(1);
    h.write({ type: 'create', path: '/big', data: new Uint8Array(1024 * 1024).fill(7), acl: OPEN_ACL_UNSAFE, mode: CreateMode.Persistent });
    for (let i = 0; i < 100; i++) h.mustCreate(`/n${i}`, 'x'.repeat(i));
    const chunks = [...writeSnapshot(h.tree, { maxChunkBytes: 4096 })];
    expect(chunks.every((c) => c.length <= 4096 && c.length > 0)).toBe(true);
    expect(loadSnapshot(chunks).digest).toBe(h.tree.digest);
  });

  test('the loader does not care where chunk boundaries fall', () => {
    seeded(25, (rng) => {
      const { h } = randomHistory(25, 500);
      const all = snapshotBytes(h.tree);
      const pieces: Uint8Array[] = [];
      for (let at = 0; at < all.length; ) {
        const n = rng.between(1, 300);
        pieces.push(all.slice(at, at + n));
        at += n;
      }
      expect(loadSnapshot(pieces, { superDigest: 'super:x' }).digest).toBe(h.tree.digest);
    });
  });

  test('the loader consumes an async stream of chunks', async () => {
    const { h } = randomHistory(26, 500);
    async function* stream() {
      for (const chunk of writeSnapshot(h.tree, { maxChunkBytes: 333 })) yield chunk;
    }
    expect((await loadSnapshotAsync(stream(), { superDigest: 'super:x' })).digest).toBe(h.tree.digest);
  });

  test('a flipped byte anywhere is detected (SnapshotError)', () => {
    seeded(27, (rng) => {
      const { h } = randomHistory(27, 300);
      const all = snapshotBytes(h.tree);
      for (let i = 0; i < 30; i++) {
        const damaged = all.slice();
        damaged[rng.int(damaged.length)] ^= 1 << rng.int(8);
        expect(() => loadSnapshot([damaged])).toThrow(SnapshotError);
      }
    });
  });

  test('garbage is refused with SnapshotError, never an assertion or a crash', () => {
    seeded(29, (rng) => {
      for (let i = 0; i < 300; i++) {
        expect(() => loadSnapshot([rng.bytes(rng.int(200))])).toThrow(SnapshotError);
      }
    });
  });

  test('a damaged payload with a recomputed CRC is refused with SnapshotError, never an assertion', () => {
    seeded(30, (rng) => {
      const { h } = randomHistory(30, 300);
      const all = snapshotBytes(h.tree);
      const frames: [number, number][] = [];
      for (let at = 0; at < all.length; ) {
        const length = new DataView(all.buffer, all.byteOffset + at).getUint32(0, true) + 9;
        frames.push([at, length]);
        at += length;
      }
      for (let i = 0; i < 300; i++) {
        const damaged = all.slice();
        const [start, length] = rng.pick(frames);
        damaged[start + 5 + rng.int(length - 9)] ^= 1 << rng.int(8);
        new DataView(damaged.buffer).setUint32(start + length - 4, crc32c(damaged.subarray(start, start + length - 4)), true);
        try {
          const loaded = loadSnapshot([damaged], { superDigest: 'super:x' });
          expect(loaded.digest).toBe(h.tree.digest); // a flip the format cannot see must not change the tree
        } catch (error) {
          expect(error).toBeInstanceOf(SnapshotError);
        }
      }
    });
  });

  test('summarizeSnapshot reads zxid, counts and digest from the header and END frame, in any chunking', async () => {
    const { h } = randomHistory(31, 800);
    const all = snapshotBytes(h.tree);
    const expected = { lastZxid: h.tree.lastZxid, sessions: h.tree.sessions.size, znodes: h.tree.nodeCount, digest: h.tree.digest.toString(16) };
    expect(await summarizeSnapshot([all])).toMatchObject(expected);
    const small: Uint8Array[] = [];
    for (let at = 0; at < all.length; at += 97) small.push(all.subarray(at, at + 97));
    expect(await summarizeSnapshot(small)).toMatchObject(expected);
  });

  test('summarizeSnapshot refuses a flipped byte, a truncated stream and bytes after the end', async () => {
    const { h } = randomHistory(32, 300);
    const all = snapshotBytes(h.tree);
    const flipped = all.slice();
    flipped[Math.floor(all.length / 2)] ^= 1;
    await expect(summarizeSnapshot([flipped])).rejects.toThrow(SnapshotError);
    await expect(summarizeSnapshot([all.subarray(0, all.length - 1)])).rejects.toThrow(/truncated/);
    await expect(summarizeSnapshot([all, new Uint8Array([0])])).rejects.toThrow(/after the end/);
  });

  test('a truncated snapshot is rejected, as are bytes after its end', () => {
    const { h } = randomHistory(28, 300);
    const all = snapshotBytes(h.tree);
    for (const cut of [0, 5, 100, all.length - 1]) expect(() => loadSnapshot([all.subarray(0, cut)])).toThrow(SnapshotError);
    expect(() => loadSnapshot([all, new Uint8Array([0])])).toThrow(SnapshotError);
  });

  test('a snapshot is the tree as it was when it began, even while applies continue between its chunks', () => {
    seeded(31, (rng) => {
      const { h, txns } = randomHistory(31, 1500);
      for (const id of SESSION_IDS) if (!h.tree.sessions.has(id)) h.openSession(id);
      // Enough nodes for hundreds of frames, so writes land before, in and after the part being written.
      const su = { id: 1, authIds: [{ scheme: 'digest', id: 'super:x' }] };
      h.mustCreate('/big', '', CreateMode.Persistent, su);
      for (let i = 0; i < 400; i++) h.mustCreate(`/big/n${i}`, 'v'.repeat(i % 40), CreateMode.Persistent, su);
      const digestAtStart = h.tree.digest;
      const zxidAtStart = h.zxid;
      const expectedBytes = concat([...writeSnapshot(h.tree, { maxChunkBytes: 256, nodesFrameBytes: 100 })]);
      const chunks: Uint8Array[] = [];
      const workload = new Workload(rng, () => [...h.tree.nodes.keys()]);
      for (const chunk of writeSnapshot(h.tree, { maxChunkBytes: 256, nodesFrameBytes: 100 })) {
        chunks.push(chunk);
        // Between chunks: writes of every kind, sessions closing, expiry deletes.
        for (let i = rng.int(10); i > 0; i--) {
          const open = [...h.tree.sessions.keys()];
          const s = open.length > 0 ? rng.pick(open) : 1;
          h.write(workload.request(), { id: s, authIds: idsOf(s) });
        }
      }
      expect(h.zxid).toBeGreaterThan(zxidAtStart + 100);
      expect(sameBytes(concat(chunks), expectedBytes)).toBe(true);
      const loaded = loadSnapshot(chunks, { superDigest: 'super:x' });
      expect(loaded.digest).toBe(digestAtStart);
      // Replaying the txns after the snapshot's zxid brings the copy to the live tree.
      txns.slice(zxidAtStart).forEach((txn, i) => apply(loaded, txn, zxidAtStart + i + 1));
      expect(loaded.digest).toBe(h.tree.digest);
    });
  });

  test('starting a second snapshot cancels the first, which fails loudly if resumed', () => {
    const h = new Harness();
    h.openSession(1);
    for (let i = 0; i < 50; i++) h.mustCreate(`/n${i}`);
    const first = writeSnapshot(h.tree, { maxChunkBytes: 16, nodesFrameBytes: 16 });
    first.next();
    const second = [...writeSnapshot(h.tree, { maxChunkBytes: 16 })];
    expect(loadSnapshot(second).digest).toBe(h.tree.digest);
    expect(() => [...first]).toThrow(/newer snapshot/);
  });

  test('a finished or abandoned snapshot stops copying changed nodes', () => {
    const h = new Harness();
    h.openSession(1);
    h.mustCreate('/a');
    const it = writeSnapshot(h.tree, { maxChunkBytes: 16 });
    it.next();
    it.return(undefined);
    const view = h.tree.beginSnapshot();
    h.tree.endSnapshot(view);
    h.setData('/a', 'x');
    expect(view.saved.size).toBe(0);
  });

  test('100,000 nodes: snapshot -> load -> same digest and same bytes', () => {
    const tree = bigTree(100_000);
    const chunks = [...writeSnapshot(tree, { maxChunkBytes: 256 * 1024 })];
    expect(chunks.every((c) => c.length <= 256 * 1024)).toBe(true);
    const loaded = loadSnapshot(chunks);
    expect(loaded.nodeCount).toBe(100_000);
    expect(loaded.digest).toBe(tree.digest);
    expect(sameBytes(concat([...writeSnapshot(loaded, { maxChunkBytes: 256 * 1024 })]), concat(chunks))).toBe(true);
  });
});
