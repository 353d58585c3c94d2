// The tree digest: the sum (mod 2^64) of a hash per node and per session. A sum
// is order-independent and incremental: a change subtracts the node's old hash and
// adds its new one, so every apply keeps the digest current in O(size of the
// change), and two replicas compare one 64-bit value.
//
// A node's hash is split in two so that a parent's stat change (every child
// create/delete) does not rehash the parent's data: fieldsHash covers path and
// stat, contentHash covers path and data. Null data (ZooKeeper's null buffer) hashes
// the path under its own seed, so it differs from empty data on every replica, and
// nodes with bytes hash exactly as before null data existed.
import { hash64 } from '../core/index.js';
import { ByteWriter } from './bytes.js';
import type { StoredData, Znode } from './znode.js';

const MASK = (1n << 64n) - 1n;
const scratch = new ByteWriter(4096);

export function addHash(digest: bigint, hash: bigint): bigint {
  return (digest + hash) & MASK;
}

export function subtractHash(digest: bigint, hash: bigint): bigint {
  return (digest - hash) & MASK;
}

export function fieldsHash(path: string, node: Znode): bigint {
  const w = scratch;
  w.reset();
  w.string(path);
  w.uvar(node.czxid);
  w.uvar(node.mzxid);
  w.uvar(node.pzxid);
  w.f64(node.ctime);
  w.f64(node.mtime);
  w.svar(node.version);
  w.svar(node.cversion);
  w.svar(node.aversion);
  w.uvar(node.ephemeralOwner);
  w.u8(node.kind);
  w.uvar(node.ttlMs);
  w.uvar(node.childCreates);
  w.u64(node.aclEntry.hash);
  return hash64(w.bytes(), 0x5a1n);
}

export function contentHash(path: string, data: StoredData): bigint {
  const w = scratch;
  w.reset();
  w.string(path);
  if (data === null) return hash64(w.bytes(), 0x4011n);
  w.latin1(data);
  return hash64(w.bytes(), 0xda7an);
}

export function nodeHash(path: string, node: Znode): bigint {
  return addHash(fieldsHash(path, node), contentHash(path, node.data));
}

export function sessionHash(sessionId: number, timeoutMs: number): bigint {
  const w = scratch;
  w.reset();
  w.uvar(sessionId);
  w.uvar(timeoutMs);
  return hash64(w.bytes(), 0x5e5n);
}
