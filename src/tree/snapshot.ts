// Tree snapshots: the whole replicated state (nodes, ACL lists, sessions, the
// zxid) as a stream of CRC-32C-checked frames, produced and consumed in bounded
// chunks so no tree size ever needs one big buffer.
//
// Frame: [u32 payload length][u8 type][payload][u32 CRC-32C of the bytes before it].
// Order: HEADER, SESSION* (by id), ACL* (by canonical text), NODES* (node records
// in pre-order, children in ascending order, so a parent always precedes its
// children and a loader appends children already sorted; about 64 KiB of records
// per frame, so the CRC and the call into the WASM core are paid per block, not per
// node), END (counts and the digest). The order
// is canonical, so two equal trees give the same bytes, and the loader checks the
// rebuilt tree's digest against the one recorded.
//
// A snapshot is of the tree as it was when writeSnapshot was called, even if
// applies continue while its chunks are consumed (the tree keeps a copy of each
// node changed meanwhile: see SnapshotView in tree.ts). One snapshot at a time:
// starting another cancels the first, which then fails loudly if resumed.
import { crc32c } from '../core/index.js';
import { assert } from '../util/assert.js';
import type { AclEntry } from './acl.js';
import { ByteReader, ByteWriter, DecodeError } from './bytes.js';
import { readAcl, writeAcl } from './codec.js';
import type { TreeOptions } from './options.js';
import { ROOT, isValidPath } from './paths.js';
import { DataTree, type SnapshotView } from './tree.js';
import { NodeKind } from './types.js';
import { Znode } from './znode.js';

const MAGIC = 0x5a4b5453; // "ZKTS"
const FORMAT = 1;
const FRAME = { header: 1, session: 2, acl: 3, nodes: 4, end: 5 } as const;
/**
 * Set in a node record's kind byte when the node's data is null (ZooKeeper's null
 * buffer; its data field is then empty). Other nodes are written exactly as before
 * null data existed; a loader that predates it refuses such a record (unknown kind).
 */
const KIND_NULL_DATA = 0x80;
const NODES_FRAME_TARGET_BYTES = 64 * 1024;
const FRAME_OVERHEAD = 9;

export const DEFAULT_MAX_CHUNK_BYTES = 1024 * 1024;

export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

export interface SnapshotWriteOptions {
  /** Largest chunk yielded, bytes. */
  readonly maxChunkBytes?: number;
  /**
   * Node records per frame, in bytes (a frame closes once past it); at most the
   * default, 64 KiB. Smaller means more CRCs but chunks cut (and yielded) sooner.
   */
  readonly nodesFrameBytes?: number;
}

/**
 * The snapshot of `tree` as it is now, as chunks of at most maxChunkBytes bytes
 * (each a fresh buffer the caller may keep). The state is fixed by this call, not
 * by the first next(); the tree may go on applying txns between chunks.
 */
export function writeSnapshot(tree: DataTree, options: SnapshotWriteOptions = {}): Generator<Uint8Array, void, undefined> {
  const maxChunkBytes = options.maxChunkBytes ?? DEFAULT_MAX_CHUNK_BYTES;
  if (!Number.isSafeInteger(maxChunkBytes) || maxChunkBytes < 1) throw new RangeError(`maxChunkBytes must be a positive integer, got ${maxChunkBytes}`);
  const nodesFrameBytes = options.nodesFrameBytes ?? NODES_FRAME_TARGET_BYTES;
  if (!Number.isSafeInteger(nodesFrameBytes) || nodesFrameBytes < 1 || nodesFrameBytes > NODES_FRAME_TARGET_BYTES) {
    throw new RangeError(`nodesFrameBytes must be an integer in [1, ${NODES_FRAME_TARGET_BYTES}], got ${nodesFrameBytes}`);
  }
  // Everything that is not a node is captured now; nodes through the snapshot view.
  const start: SnapshotStart = {
    view: tree.beginSnapshot(),
    lastZxid: tree.lastZxid,
    digest: tree.digest,
    nodeCount: tree.nodes.size,
    sessions: [...tree.sessions].map(([id, s]): [number, number] => [id, s.timeoutMs]).sort((a, b) => a[0] - b[0]),
    acls: tree.acls.sorted(),
  };
  return snapshotChunks(tree, start, maxChunkBytes, nodesFrameBytes);
}

interface SnapshotStart {
  readonly view: SnapshotView;
  readonly lastZxid: number;
  readonly digest: bigint;
  readonly nodeCount: number;
  readonly sessions: readonly [number, number][];
  readonly acls: readonly AclEntry[];
}

function* snapshotChunks(tree: DataTree, start: SnapshotStart, maxChunkBytes: number, nodesFrameBytes: number): Generator<Uint8Array, void, undefined> {
  try {
    yield* snapshotBody(tree, start, maxChunkBytes, nodesFrameBytes);
  } finally {
    tree.endSnapshot(start.view);
  }
}

function* snapshotBody(tree: DataTree, start: SnapshotStart, maxChunkBytes: number, nodesFrameBytes: number): Generator<Uint8Array, void, undefined> {
  const { view, acls } = start;
  const w = new ByteWriter(Math.min(maxChunkBytes, 1 << 20) + 64 * 1024);
  let frameStart = 0;
  const begin = (type: number): void => {
    frameStart = w.length;
    w.u32(0);
    w.u8(type);
  };
  const end = (): void => {
    w.patchU32(frameStart, w.length - frameStart - 5);
    w.u32(crc32c(w.bytes().subarray(frameStart)));
  };

  const aclIndex = new Map<AclEntry, number>(acls.map((a, i) => [a, i]));

  begin(FRAME.header);
  w.u32(MAGIC);
  w.uvar(FORMAT);
  w.uvar(start.lastZxid);
  w.uvar(start.sessions.length);
  w.uvar(acls.length);
  w.uvar(start.nodeCount);
  end();
  for (const [id, timeoutMs] of start.sessions) {
    begin(FRAME.session);
    w.uvar(id);
    w.uvar(timeoutMs);
    end();
    if (w.length >= maxChunkBytes) yield* flush(w, maxChunkBytes, false);
  }
  for (let i = 0; i < acls.length; i++) {
    begin(FRAME.acl);
    w.uvar(i);
    writeAcl(w, acls[i].list);
    end();
    if (w.length >= maxChunkBytes) yield* flush(w, maxChunkBytes, false);
  }
  const stack: string[] = [ROOT];
  let written = 0;
  let frameOpen = false;
  while (stack.length > 0) {
    assert(tree.isCurrentSnapshot(view), 'a newer snapshot of this tree was started while this one was being written');
    const path = stack.pop()!;
    const node = tree.nodeForSnapshot(view, path);
    if (node === undefined) assert(false, () => `snapshot: ${path} listed as a child but missing`);
    if (!frameOpen) {
      begin(FRAME.nodes);
      frameOpen = true;
    }
    w.string(path);
    w.uvar(aclIndex.get(node.aclEntry)!);
    w.uvar(node.czxid);
    w.uvar(node.mzxid);
    w.uvar(node.pzxid);
    w.uvar(node.ctime);
    w.uvar(node.mtime);
    w.svar(node.version);
    w.svar(node.cversion);
    w.svar(node.aversion);
    w.uvar(node.ephemeralOwner);
    const data = node.data;
    w.u8(data === null ? node.kind | KIND_NULL_DATA : node.kind);
    w.uvar(node.ttlMs);
    w.uvar(node.childCreates);
    if (data === null) w.uvar(0);
    else {
      w.uvar(data.length);
      w.latin1(data);
    }
    written++;
    if (node.children !== null) {
      const children = node.childPaths();
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
    }
    // Chunks are cut only between frames: a frame's start must not move while it is open.
    if (w.length - frameStart >= nodesFrameBytes) {
      end();
      frameOpen = false;
      if (w.length >= maxChunkBytes) yield* flush(w, maxChunkBytes, false);
    }
  }
  if (frameOpen) end();
  if (written !== start.nodeCount) assert(false, () => `snapshot wrote ${written} nodes of ${start.nodeCount}`);
  begin(FRAME.end);
  w.u64(start.digest);
  w.uvar(written);
  end();
  yield* flush(w, maxChunkBytes, true);
}

function* flush(w: ByteWriter, maxChunkBytes: number, final: boolean): Generator<Uint8Array, void, undefined> {
  while (w.length >= maxChunkBytes) yield w.takeFront(maxChunkBytes);
  if (final && w.length > 0) yield w.takeFront(w.length);
}

/**
 * Rebuilds a tree from snapshot chunks fed in order. Memory stays bounded by the
 * largest frame (one node: path + data) plus one chunk.
 */
export class SnapshotLoader {
  private buffer = new Uint8Array(64 * 1024);
  private start = 0;
  private end = 0;
  private readonly tree: DataTree;
  private readonly maxFrameBytes: number;
  private stage: 'header' | 'body' | 'done' = 'header';
  private expected = { sessions: 0, acls: 0, nodes: 0 };
  private seen = { sessions: 0, acls: 0, nodes: 0 };
  /** The snapshot's ACL lists by index, each acquired once; nodes retain them. */
  private readonly aclByIndex: AclEntry[] = [];
  /** Reused across frames: no DataView or reader allocated per node. */
  private readonly reader = new ByteReader(new Uint8Array(0));

  constructor(options: Partial<TreeOptions> = {}) {
    this.tree = new DataTree(options);
    this.tree.clearForRestore();
    const o = this.tree.options;
    // A NODES frame closes once past its target, so it holds at most that plus one node.
    this.maxFrameBytes = NODES_FRAME_TARGET_BYTES + o.maxDataBytes + o.maxPathBytes + 256;
  }

  push(chunk: Uint8Array): void {
    if (this.stage === 'done' && chunk.length > 0) throw new SnapshotError('bytes after the end of the snapshot');
    this.append(chunk);
    const buffer = this.buffer;
    const reader = this.reader;
    while (this.stage !== 'done') {
      const start = this.start;
      const available = this.end - start;
      if (available < 5) break;
      const payloadLength = readU32(buffer, start);
      if (payloadLength > this.maxFrameBytes) throw new SnapshotError(`frame of ${payloadLength} bytes exceeds the limit ${this.maxFrameBytes}`);
      const frameLength = payloadLength + FRAME_OVERHEAD;
      if (available < frameLength) break;
      const crcAt = start + frameLength - 4;
      if (crc32c(buffer.subarray(start, crcAt)) !== readU32(buffer, crcAt)) throw new SnapshotError('frame checksum mismatch (corrupt snapshot)');
      reader.reset(buffer, start + 5, crcAt);
      try {
        this.frame(buffer[start + 4], reader);
      } catch (error) {
        if (error instanceof DecodeError) throw new SnapshotError(`malformed frame: ${error.message}`);
        throw error;
      }
      this.start += frameLength;
    }
  }

  /** The loaded tree; throws if the stream ended early or the digest disagrees. */
  finish(): DataTree {
    if (this.stage !== 'done') throw new SnapshotError('snapshot ended before its END frame (truncated)');
    return this.tree;
  }

  private append(chunk: Uint8Array): void {
    const live = this.end - this.start;
    if (this.end + chunk.length > this.buffer.length) {
      if (live + chunk.length <= this.buffer.length) {
        this.buffer.copyWithin(0, this.start, this.end);
      } else {
        let size = this.buffer.length * 2;
        while (size < live + chunk.length) size *= 2;
        const next = new Uint8Array(size);
        next.set(this.buffer.subarray(this.start, this.end));
        this.buffer = next;
      }
      this.start = 0;
      this.end = live;
    }
    this.buffer.set(chunk, this.end);
    this.end += chunk.length;
  }

  private node(r: ByteReader): void {
    const tree = this.tree;
    const o = tree.options;
    const path = r.string(o.maxPathBytes);
    const aclIndex = r.uvar();
    const acl = this.aclByIndex[aclIndex];
    if (acl === undefined) throw new SnapshotError(`node ${path}: unknown ACL ${aclIndex}`);
    const czxid = r.uvar();
    const mzxid = r.uvar();
    const pzxid = r.uvar();
    const ctime = r.uvar();
    const mtime = r.uvar();
    const version = r.svar();
    const cversion = r.svar();
    const aversion = r.svar();
    const owner = r.uvar();
    const kindByte = r.u8();
    const kind = kindByte & ~KIND_NULL_DATA;
    if (kind > NodeKind.Ttl) throw new SnapshotError(`node ${path}: unknown kind ${kindByte}`);
    const ttlMs = r.uvar();
    const childCreates = r.uvar();
    const bytes = r.latin1(o.maxDataBytes);
    const nullData = (kindByte & KIND_NULL_DATA) !== 0;
    if (nullData && bytes.length !== 0) throw new SnapshotError(`node ${path}: null data with ${bytes.length} bytes`);
    const data = nullData ? null : bytes;
    if (!isValidPath(path, o.maxPathBytes)) throw new SnapshotError(`invalid node path ${JSON.stringify(path)}`);
    if (tree.nodes.has(path)) throw new SnapshotError(`node ${path} twice`);
    const parent = this.seen.nodes === 0 ? null : tree.nodes.get(parentPathOf(path));
    if (this.seen.nodes === 0 ? path !== ROOT : parent === undefined) throw new SnapshotError(`node ${path} before its parent`);
    if (kind === NodeKind.Ephemeral && !tree.sessions.has(owner)) throw new SnapshotError(`node ${path}: owner session ${owner} missing`);
    const node = new Znode(data, tree.acls.retain(acl), czxid, mzxid, pzxid, ctime, mtime, version, cversion, aversion, owner, kind as NodeKind, ttlMs);
    node.childCreates = childCreates;
    tree.restoreNode(path, node, parent ?? null);
    this.seen.nodes++;
  }

  private frame(type: number, r: ByteReader): void {
    const tree = this.tree;
    const o = tree.options;
    if (this.stage === 'header') {
      if (type !== FRAME.header) throw new SnapshotError('snapshot does not start with a header');
      if (r.u32() !== MAGIC) throw new SnapshotError('not a zook tree snapshot (bad magic)');
      const format = r.uvar();
      if (format !== FORMAT) throw new SnapshotError(`unknown snapshot format ${format}`);
      tree.lastZxid = r.uvar();
      this.expected = { sessions: r.uvar(), acls: r.uvar(), nodes: r.uvar() };
      this.stage = 'body';
      return;
    }
    switch (type) {
      case FRAME.session: {
        if (this.seen.acls > 0 || this.seen.nodes > 0) throw new SnapshotError('session frame out of order');
        const id = r.uvar();
        const timeoutMs = r.uvar();
        if (tree.sessions.has(id)) throw new SnapshotError(`session ${id} twice`);
        tree.addSession(id, timeoutMs);
        this.seen.sessions++;
        break;
      }
      case FRAME.acl: {
        if (this.seen.nodes > 0) throw new SnapshotError('ACL frame out of order');
        const index = r.uvar();
        if (index !== this.aclByIndex.length) throw new SnapshotError('ACL frames out of order');
        this.aclByIndex.push(tree.acls.acquire(readAcl(r, o)));
        this.seen.acls++;
        break;
      }
      case FRAME.nodes:
        if (this.seen.nodes === 0 && r.remaining === 0) throw new SnapshotError('empty nodes frame');
        while (r.remaining > 0) this.node(r);
        break;
      case FRAME.end: {
        const digest = r.u64();
        const nodes = r.uvar();
        const { expected, seen } = this;
        if (seen.sessions !== expected.sessions || seen.acls !== expected.acls || seen.nodes !== expected.nodes || nodes !== seen.nodes) {
          throw new SnapshotError('snapshot counts disagree with its header (truncated or corrupt)');
        }
        // Drop the loader's own reference to each list (nodes hold theirs).
        for (const entry of this.aclByIndex) tree.acls.release(entry);
        if (digest !== tree.digest) throw new SnapshotError('digest of the loaded tree differs from the recorded one');
        this.stage = 'done';
        break;
      }
      default:
        throw new SnapshotError(`unknown frame type ${type}`);
    }
  }
}

function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
}

function parentPathOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash === 0 ? ROOT : path.slice(0, slash);
}

/** Loads a snapshot from chunks (a generator, an array, a sync file reader). */
export function loadSnapshot(chunks: Iterable<Uint8Array>, options: Partial<TreeOptions> = {}): DataTree {
  const loader = new SnapshotLoader(options);
  for (const chunk of chunks) loader.push(chunk);
  return loader.finish();
}

/** Loads a snapshot from an async stream of chunks (e.g. a file read stream). */
export async function loadSnapshotAsync(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: Partial<TreeOptions> = {}): Promise<DataTree> {
  const loader = new SnapshotLoader(options);
  for await (const chunk of chunks) loader.push(chunk);
  return loader.finish();
}

/** What a tree snapshot's HEADER and END frames record. */
export interface TreeSnapshotSummary {
  /** The zxid (Raft index) of the last txn in it. */
  readonly lastZxid: number;
  readonly sessions: number;
  readonly acls: number;
  readonly znodes: number;
  /** The tree's 64-bit digest, as GET /status shows it (hex). */
  readonly digest: string;
}

/**
 * Reads a tree snapshot's header and END frame, checking every frame's CRC, without
 * rebuilding the tree (loadSnapshot also rebuilds it and checks the digest).
 * Memory: one frame plus one chunk.
 */
export async function summarizeSnapshot(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<TreeSnapshotSummary> {
  let buffer = new Uint8Array(64 * 1024);
  let start = 0;
  let end = 0;
  let header: { lastZxid: number; sessions: number; acls: number; nodes: number } | null = null;
  let summary: TreeSnapshotSummary | null = null;
  const reader = new ByteReader(new Uint8Array(0));
  for await (const chunk of chunks) {
    if (summary !== null && chunk.length > 0) throw new SnapshotError('bytes after the end of the snapshot');
    if (end + chunk.length > buffer.length) {
      const live = end - start;
      const next = new Uint8Array(Math.max(buffer.length, 2 ** Math.ceil(Math.log2(live + chunk.length))));
      next.set(buffer.subarray(start, end));
      buffer = next;
      start = 0;
      end = live;
    }
    buffer.set(chunk, end);
    end += chunk.length;
    while (summary === null && end - start >= 5) {
      const frameLength = readU32(buffer, start) + FRAME_OVERHEAD;
      if (end - start < frameLength) break;
      const crcAt = start + frameLength - 4;
      if (crc32c(buffer.subarray(start, crcAt)) !== readU32(buffer, crcAt)) throw new SnapshotError('frame checksum mismatch (corrupt snapshot)');
      const type = buffer[start + 4];
      reader.reset(buffer, start + 5, crcAt);
      try {
        if (header === null) {
          if (type !== FRAME.header || reader.u32() !== MAGIC) throw new SnapshotError('not a zook tree snapshot (bad magic)');
          const format = reader.uvar();
          if (format !== FORMAT) throw new SnapshotError(`unknown snapshot format ${format}`);
          header = { lastZxid: reader.uvar(), sessions: reader.uvar(), acls: reader.uvar(), nodes: reader.uvar() };
        } else if (type === FRAME.end) {
          const digest = reader.u64();
          const znodes = reader.uvar();
          if (znodes !== header.nodes) throw new SnapshotError(`END frame counts ${znodes} znodes, the header ${header.nodes}`);
          summary = { lastZxid: header.lastZxid, sessions: header.sessions, acls: header.acls, znodes, digest: digest.toString(16) };
        }
      } catch (error) {
        if (error instanceof DecodeError) throw new SnapshotError(`malformed frame: ${error.message}`);
        throw error;
      }
      start += frameLength;
    }
  }
  if (summary === null) throw new SnapshotError('snapshot ended before its END frame (truncated)');
  if (start !== end) throw new SnapshotError('bytes after the end of the snapshot');
  return summary;
}
