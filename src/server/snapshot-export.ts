// `zook snapshot save`'s server side (GET /admin/snapshot in admin-http.ts): the
// tree's snapshot as this server has applied it, in the data dir's snapshot file
// format (src/storage/snapshot-file.ts), so `zook snapshot restore` places the saved
// file in a new data dir's snapshots/ as it is.
//
// The tree's chunks are pulled in slices of at most EXPORT_SLICE_MS, yielding to the
// event loop between them (as the Raft host's own snapshots are), so a big tree never
// holds heartbeats or client requests for long; applies go on meanwhile (the tree
// keeps copies of the nodes they change). The image is framed in memory and only
// then sent: the tree's copies are released at memory speed, not at the network's.
import { performance } from 'node:perf_hooks';
import { encodeMembership } from './cluster/raft-host.js';
import type { ZookNode } from './node.js';
import { SnapshotWriter, memorySnapshotSink } from '../storage/index.js';
import { drainInSlices } from '../util/slices.js';

/** Longest stretch the export pulls tree chunks without yielding to the event loop. */
const EXPORT_SLICE_MS = 5;
/** How often an export waiting for the server's own snapshot to finish looks again. */
const WAIT_FOR_TREE_MS = 20;

export interface ExportedSnapshot {
  readonly index: number;
  readonly term: number;
  /** The whole snapshot file: header, checksummed frames, end record. */
  readonly file: Buffer;
}

export class SnapshotExportTimeout extends Error {
  override name = 'SnapshotExportTimeout';
}

/** Exports the tree's snapshot; waits (up to waitMs) while the server writes its own. */
export async function exportSnapshot(node: ZookNode, waitMs: number): Promise<ExportedSnapshot> {
  const deadline = performance.now() + waitMs;
  let source = node.beginSnapshotExport();
  while (source === null) {
    if (performance.now() > deadline) throw new SnapshotExportTimeout(`the server's own snapshot was still being written after ${waitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, WAIT_FOR_TREE_MS));
    source = node.beginSnapshotExport();
  }
  const { chunks } = source;
  // Started at once, so return() below runs the generator's finally (which ends the tree's view) whatever fails.
  let next: IteratorResult<Uint8Array, void>;
  try {
    next = chunks.next();
    const sink = memorySnapshotSink();
    const writer = new SnapshotWriter(sink);
    await writer.begin({ index: source.index, term: source.term, meta: encodeMembership(source.membership) });
    await drainInSlices(chunks, (chunk) => writer.add(chunk), { sliceMs: EXPORT_SLICE_MS, first: next });
    await writer.finish();
    return { index: source.index, term: source.term, file: Buffer.concat(sink.parts) };
  } finally {
    // A failed pull ends the tree's snapshot view too (a started generator's finally runs).
    chunks.return?.();
    node.endSnapshotExport();
  }
}
