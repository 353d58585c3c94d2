// `zook snapshot`: backup and restore, like `etcdctl snapshot save|restore|status`.
//
//   save     GET /admin/snapshot from a running server (admin-http.ts) into FILE: a
//            snapshot file exactly as a data dir's snapshots/ holds one, checked
//            whole before it is renamed into place.
//   restore  seeds a new, empty data dir from FILE: the snapshot (its membership
//            rewritten for the new server or ensemble, as etcd's restore does), a
//            hard state at the snapshot's term and index, and an empty WAL after it.
//            A server started on the dir loads the snapshot as if it had written it.
//   status   index, term, znodes, size and digest of FILE, every checksum checked.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { httpDownload } from '../util/http-request.js';
import { ADMIN_TOKEN_HEADER, adminToken } from '../server/admin-http.js';
import { decodeMembership, encodeMembership } from '../server/cluster/raft-host.js';
import { ensembleServer, initialMembership, readEnsembleFile } from '../server/cluster/ensemble.js';
import type { Membership } from '../consensus/index.js';
import { HardStateStore, NodeStorage, SnapshotStore, snapshotFrames, verifySnapshotFile, type SnapshotFileHeader } from '../storage/index.js';
import { DataDirLock, LOCK_FILE, LOCK_SOCKET_FILE } from '../storage/data-dir-lock.js';
import { fsyncDirectory } from '../storage/fs-durable.js';
import { loadSnapshotAsync, summarizeSnapshot, type TreeSnapshotSummary } from '../tree/index.js';

export const SNAPSHOT_USAGE = `zook snapshot <command>
  save <file> --server <url> [--config <ensemble.json> | --auth <user:password>] [--tls-ca <file>]
              [--serializable] [--timeout-ms <ms>]
                         a consistent snapshot of a running server (ws://, wss://, http:// or
                         https:// host:port of its client port) into <file>. An ensemble server
                         takes the admin token of --config's secret; a standalone one the
                         superDigest user's password (--auth super:password). It is the tree
                         after a read barrier (everything committed when asked) unless
                         --serializable (what that server has applied: works without a leader)
  restore <file> --data-dir <dir> [--config <ensemble.json> --id <n>]
                         seed a new server's empty data dir from <file>; with --config, one
                         member of a new ensemble (run it for every member with its --id).
                         The snapshot's membership becomes the new ensemble's voters (or the
                         standalone server --id, default 1)
  status <file> [--json] index, term, znodes, size and digest of <file>, every checksum checked`;

/** Default for the whole download (a big tree over a slow link takes a while). */
const SAVE_TIMEOUT_MS = 10 * 60_000;
/** Limits only for checking a file being restored (the server checks its own on loading). */
const RESTORE_CHECK_LIMITS = { maxDataBytes: 256 * 1024 * 1024, maxPathBytes: 1024 * 1024 };

export interface SnapshotFileStatus extends TreeSnapshotSummary {
  readonly index: number;
  readonly term: number;
  readonly membership: Membership;
  /** Bytes of the file. */
  readonly sizeBytes: number;
}

async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const frames = snapshotFrames(handle);
    for (;;) {
      const step = await frames.next();
      if (step.done === true) return;
      yield step.value.slice();
    }
  } finally {
    await handle.close();
  }
}

async function verifyFile(path: string): Promise<SnapshotFileHeader> {
  const handle = await open(path, 'r');
  try {
    return await verifySnapshotFile(handle);
  } catch (error) {
    throw new Error(`${path} is not a sound zook snapshot: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await handle.close();
  }
}

/** Reads and checks a snapshot file whole (frame checksums, the tree's own frames); throws naming what is wrong. */
export async function snapshotFileStatus(path: string): Promise<SnapshotFileStatus> {
  const header = await verifyFile(path);
  let summary: TreeSnapshotSummary;
  try {
    summary = await summarizeSnapshot(fileChunks(path));
  } catch (error) {
    throw new Error(`${path}: the tree inside is damaged: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (summary.lastZxid !== header.index) throw new Error(`${path}: the tree is at zxid ${summary.lastZxid}, the file says index ${header.index}`);
  let membership: Membership;
  try {
    membership = decodeMembership(header.meta);
  } catch {
    throw new Error(`${path}: its metadata is not a zook membership`);
  }
  return { ...summary, index: header.index, term: header.term, membership, sizeBytes: statSync(path).size };
}

function httpUrl(server: string): string {
  const url = new URL(server.includes('://') ? server : `http://${server}`);
  const scheme = { 'ws:': 'http:', 'wss:': 'https:', 'http:': 'http:', 'https:': 'https:' }[url.protocol];
  if (scheme === undefined) throw new Error(`snapshot save: --server must be ws://, wss://, http:// or https://host:port, got ${server}`);
  return `${scheme}//${url.host}`;
}

async function save(file: string, values: Record<string, string | boolean | undefined>): Promise<void> {
  const server = values.server;
  if (typeof server !== 'string') throw new Error('snapshot save: say which server with --server <url> (e.g. ws://127.0.0.1:8181)');
  const base = httpUrl(server);
  const headers: Record<string, string> = {};
  let caFile = typeof values['tls-ca'] === 'string' ? values['tls-ca'] : undefined;
  if (typeof values.config === 'string') {
    const ensemble = readEnsembleFile(values.config);
    headers[ADMIN_TOKEN_HEADER] = adminToken(ensemble.secret, ensemble.clusterId);
    const fromFile = ensemble.settings.tlsCaFile;
    if (caFile === undefined && typeof fromFile === 'string' && fromFile !== '') caFile = fromFile;
  }
  if (typeof values.auth === 'string') {
    if (!values.auth.includes(':')) throw new Error('snapshot save: --auth takes user:password (the superDigest user)');
    headers.authorization = `Basic ${Buffer.from(values.auth).toString('base64')}`;
  }
  if (Object.keys(headers).length === 0) throw new Error('snapshot save: give --config <ensemble.json> (an ensemble) or --auth super:password (the superDigest user)');
  const timeoutMs = values['timeout-ms'] === undefined ? SAVE_TIMEOUT_MS : Number(values['timeout-ms']);
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) throw new Error(`snapshot save: --timeout-ms must be a positive integer, got ${String(values['timeout-ms'])}`);
  let ca: Buffer | undefined;
  if (caFile !== undefined) {
    try {
      ca = readFileSync(caFile);
    } catch (error) {
      throw new Error(`snapshot save: cannot read the TLS CA file ${caFile}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const target = resolve(file);
  const partial = join(dirname(target), `.${basename(target)}.${randomBytes(4).toString('hex')}.part`);
  try {
    const query = values.serializable === true ? '?linearizable=0' : '';
    const result = await httpDownload(`${base}/admin/snapshot${query}`, partial, { headers, timeoutMs, ca });
    if (result.status !== 200) {
      let reason = result.errorText;
      try {
        reason = String((JSON.parse(result.errorText) as { error?: unknown }).error ?? result.errorText);
      } catch {
        // not JSON: the text as it came
      }
      throw new Error(`snapshot save: ${base} answered HTTP ${result.status}: ${reason}`);
    }
    const status = await snapshotFileStatus(partial);
    renameSync(partial, target);
    await fsyncDirectory(dirname(target));
    console.log(`saved ${file}: ${describe(status)}`);
  } finally {
    rmSync(partial, { force: true });
  }
}

function describe(s: SnapshotFileStatus): string {
  return `index ${s.index}, term ${s.term}, ${s.znodes} znodes, ${s.sizeBytes} bytes, digest ${s.digest}`;
}

function members(m: Membership): string {
  return `voters ${m.voters.join(',')}${m.learners.length > 0 ? `; learners ${m.learners.join(',')}` : ''}`;
}

async function status(file: string, json: boolean): Promise<void> {
  const s = await snapshotFileStatus(file);
  if (json) {
    console.log(JSON.stringify(s, null, 2));
    return;
  }
  const rows: [string, string][] = [
    ['index', String(s.index)],
    ['term', String(s.term)],
    ['znodes', String(s.znodes)],
    ['sessions', String(s.sessions)],
    ['size', `${s.sizeBytes} bytes`],
    ['digest', s.digest],
    ['members', members(s.membership)],
  ];
  for (const [key, value] of rows) console.log(`${key.padEnd(9)}${value}`);
}

/** Names in a data dir other than the lock's own files. */
function contents(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((name) => name !== LOCK_FILE && name !== LOCK_SOCKET_FILE);
}

export interface RestoreOptions {
  readonly dataDir: string;
  /** The new ensemble's file, for one of its members; absent: a standalone server. */
  readonly ensembleFile?: string;
  /** This member's id (required with ensembleFile); a standalone server's serverId (default 1). */
  readonly id?: number;
}

/**
 * Seeds an empty data dir from a snapshot file, holding the dir's lock meanwhile.
 * Resolves with what was restored; throws (leaving the dir as it found it, but for
 * the lock) when the file is damaged or the dir is not empty.
 */
export async function restoreSnapshot(file: string, options: RestoreOptions): Promise<SnapshotFileStatus & { readonly restoredMembership: Membership }> {
  const status = await snapshotFileStatus(file);
  // The tree rebuilt and its digest checked, as the server will do on loading it.
  try {
    const tree = await loadSnapshotAsync(fileChunks(file), RESTORE_CHECK_LIMITS);
    if (tree.digest.toString(16) !== status.digest) throw new Error('the rebuilt tree digest differs');
  } catch (error) {
    throw new Error(`${file}: the tree inside does not load: ${error instanceof Error ? error.message : String(error)}`);
  }
  let membership: Membership;
  if (options.ensembleFile !== undefined) {
    if (options.id === undefined) throw new Error('snapshot restore: --config needs --id <n>: which member this data dir is for');
    const ensemble = readEnsembleFile(options.ensembleFile);
    const me = ensembleServer(ensemble, options.id);
    if (me.joining) throw new Error(`snapshot restore: server ${options.id} joins later (joining: true); restore the first members, then add it as usual`);
    membership = initialMembership(ensemble);
  } else {
    const id = options.id ?? 1;
    membership = { voters: [id], learners: [] };
  }
  const dir = resolve(options.dataDir);
  const refuse = (names: string[]): Error => new Error(`snapshot restore: ${dir} is not empty (${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''}): restore seeds a new data dir only`);
  if (contents(dir).length > 0) throw refuse(contents(dir));
  const lock = await DataDirLock.acquire(dir, 'zook snapshot restore');
  try {
    if (contents(dir).length > 0) throw refuse(contents(dir));
    const meta = { index: status.index, term: status.term, meta: encodeMembership(membership) };
    const snapshots = await SnapshotStore.open(join(dir, 'snapshots'));
    await snapshots.save(meta, fileChunks(file));
    // Term and commit where the snapshot stands, no vote: the members elect a leader in a newer term.
    await new HardStateStore(dir).save({ term: status.term, vote: 0, commit: status.index });
    // Opening the dir as a server does creates the empty WAL after the snapshot and proves the dir recovers.
    const storage = await NodeStorage.open(dir);
    try {
      const found = storage.recovered.snapshot;
      if (found?.index !== status.index || found.term !== status.term) throw new Error(`snapshot restore: ${dir} does not recover the snapshot just written`);
    } finally {
      await storage.close();
    }
    await fsyncDirectory(dir);
  } catch (error) {
    // The dir was empty: take away what this restore wrote, so a retry finds it empty again.
    for (const name of contents(dir)) rmSync(join(dir, name), { recursive: true, force: true });
    throw error;
  } finally {
    await lock.release();
  }
  return { ...status, restoredMembership: membership };
}

export async function snapshotCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      server: { type: 'string' },
      config: { type: 'string' },
      auth: { type: 'string' },
      'tls-ca': { type: 'string' },
      serializable: { type: 'boolean' },
      'timeout-ms': { type: 'string' },
      'data-dir': { type: 'string' },
      id: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  const [command, file, ...extra] = positionals;
  if (values.help === true || command === undefined) {
    console.log(SNAPSHOT_USAGE);
    if (values.help !== true) process.exitCode = 2;
    return;
  }
  if (file === undefined || extra.length > 0) throw new Error(`snapshot ${command}: expected one file, got ${file === undefined ? 'none' : positionals.slice(1).join(' ')}`);
  switch (command) {
    case 'save':
      await save(file, values);
      return;
    case 'status':
      await status(file, values.json === true);
      return;
    case 'restore': {
      const dataDir = values['data-dir'];
      if (dataDir === undefined) throw new Error('snapshot restore: say which new data dir with --data-dir <dir>');
      let id: number | undefined;
      if (values.id !== undefined) {
        id = Number(values.id);
        if (!Number.isInteger(id) || id < 1 || id > 127) throw new Error(`snapshot restore: --id must be a server id 1..127, got ${values.id}`);
      }
      const restored = await restoreSnapshot(file, { dataDir, ensembleFile: values.config, id });
      console.log(`restored ${file} into ${dataDir}: ${describe(restored)}; ${members(restored.restoredMembership)}`);
      return;
    }
    default:
      console.error(`zook snapshot: unknown command "${command}"\n\n${SNAPSHOT_USAGE}`);
      process.exitCode = 2;
  }
}
